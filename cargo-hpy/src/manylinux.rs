//! The `manylinux_2_<N>_<arch>` tag a Linux wheel can claim (PEP 600): its
//! libraries link only to the system libraries every manylinux platform
//! has, and need no glibc symbol newer than 2.N. This is the check
//! auditwheel's policies make for those libraries (`auditwheel show` in
//! `tests/packaging` compares the two); a library that needs anything else
//! keeps the plain `linux_<arch>` tag.

use goblin::elf::Elf;

/// The libraries PEP 600's manylinux platforms all provide (auditwheel's
/// policy for glibc-based Linux, the part a Rust extension can need).
const SYSTEM_LIBRARIES: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libgcc_s.so.1",
    "libutil.so.1",
    "libresolv.so.2",
    "libnsl.so.1",
    "libstdc++.so.6",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

/// The oldest manylinux glibc this tool claims (manylinux2014's).
const OLDEST_GLIBC_MINOR: u32 = 17;

/// The glibc versions auditwheel (6.x) has a manylinux policy for, from
/// manylinux2014 on: a wheel claims the oldest of them that has every
/// symbol version it needs, as `auditwheel show` reports it.
const POLICY_MINORS: &[u32] = &[17, 24, 26, 27, 28, 31, 34, 35, 36, 37, 38, 39, 40, 41];

/// The glibc minor version `library` needs at least (the newest `GLIBC_2.N`
/// symbol version it requires), or why it qualifies for no manylinux tag.
pub(crate) fn glibc_minor_needed(library: &[u8]) -> Result<u32, String> {
    let elf = Elf::parse(library).map_err(|e| format!("not an ELF library: {e}"))?;
    if let Some(lib) = elf.libraries.iter().find(|l| !SYSTEM_LIBRARIES.contains(l)) {
        return Err(format!(
            "it links to {lib}, which manylinux platforms need not have"
        ));
    }
    let mut minor = OLDEST_GLIBC_MINOR;
    if let Some(verneed) = &elf.verneed {
        for need in verneed.iter() {
            for aux in need.iter() {
                let Some(name) = elf.dynstrtab.get_at(aux.vna_name) else {
                    continue;
                };
                if name == "GLIBC_PRIVATE" {
                    return Err("it uses glibc's private symbols".to_owned());
                }
                if let Some(n) = name
                    .strip_prefix("GLIBC_2.")
                    .and_then(|rest| rest.split('.').next())
                    .and_then(|n| n.parse::<u32>().ok())
                {
                    minor = minor.max(n);
                }
            }
        }
    }
    Ok(minor)
}

/// The platform tag for wheels holding `libraries` on Linux `arch`:
/// `manylinux_2_<N>_<arch>` if each qualifies, else `linux_<arch>`, with the
/// reason.
pub(crate) fn platform_tag(libraries: &[&[u8]], arch: &str) -> (String, Option<String>) {
    let mut minor = OLDEST_GLIBC_MINOR;
    for lib in libraries {
        match glibc_minor_needed(lib) {
            Ok(n) => minor = minor.max(n),
            Err(why) => return (format!("linux_{arch}"), Some(why)),
        }
    }
    match POLICY_MINORS.iter().find(|&&p| p >= minor) {
        Some(p) => (format!("manylinux_2_{p}_{arch}"), None),
        None => (
            format!("linux_{arch}"),
            Some(format!(
                "it needs glibc 2.{minor}, newer than any manylinux policy"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_judged() {
        // The test executable is an ELF file that needs glibc: it gets a
        // version no older than manylinux2014's.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let minor = glibc_minor_needed(&exe).unwrap();
        assert!(minor >= OLDEST_GLIBC_MINOR);
        let (tag, why) = platform_tag(&[&exe], "x86_64");
        let policy = POLICY_MINORS.iter().find(|&&p| p >= minor).unwrap();
        assert_eq!((tag, why), (format!("manylinux_2_{policy}_x86_64"), None));
        assert!(glibc_minor_needed(b"not an ELF file").is_err());
        assert_eq!(platform_tag(&[b"junk"], "x86_64").0, "linux_x86_64");
    }
}
