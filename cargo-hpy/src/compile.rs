//! Building: the interpreter of a CPython-ABI build, `cargo build` with the
//! ABI's flags, and the modules the resulting libraries define.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{Message, MetadataCommand, TargetKind};

use crate::{Abi, BuildOptions};

/// What the build tool needs to know about the interpreter of a CPython-ABI
/// (or abi3) build.
#[derive(Debug, Clone)]
pub(crate) struct Interpreter {
    /// `PYO3_PYTHON`: the interpreter, or the one its virtualenv is made
    /// from (the same build, so the same ABI), so that the builds for every
    /// virtualenv of one CPython (pip makes a new one per build) are one
    /// build for cargo, which rebuilds all that depends on `pyo3-ffi` when
    /// `PYO3_PYTHON` changes.
    pub(crate) python: PathBuf,
    /// `3.N`.
    pub(crate) version: String,
    /// The file suffix of an extension module: its `EXT_SUFFIX`
    /// (`.cpython-311-x86_64-linux-gnu.so`), or `.abi3.so`.
    pub(crate) ext_suffix: String,
}

impl Interpreter {
    /// `cp3N` (a wheel's Python and ABI tags).
    pub(crate) fn cp_tag(&self) -> String {
        format!("cp{}", self.version.replace('.', ""))
    }
}

/// Asks `python` for its version and extension suffix (a CPython only; for
/// an `abi3` build, 3.10 or newer, and the suffix is `.abi3.so`).
pub(crate) fn interpreter(python: &Path, abi3: bool) -> Result<Interpreter, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import os, platform, sys, sysconfig\n\
             print(platform.python_implementation())\n\
             print('%d.%d' % sys.version_info[:2])\n\
             print(sysconfig.get_config_var('EXT_SUFFIX'))\n\
             base = getattr(sys, '_base_executable', '') or sys.executable\n\
             print(os.path.realpath(base if os.path.isfile(base) else sys.executable))",
        ])
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    match (out.status.success(), lines.as_slice()) {
        (true, ["CPython", version, _, _]) if abi3 && minor(version) < Some(10) => Err(format!(
            "{} is CPython {version}: --abi abi3 builds for CPython 3.10 and newer (the limited \
             API of 3.9 has no METH_FASTCALL and no UTF-8 view of a str); use --abi cpython",
            python.display()
        )),
        (true, ["CPython", version, suffix, base]) => Ok(Interpreter {
            python: PathBuf::from(base),
            version: (*version).to_owned(),
            ext_suffix: if abi3 {
                ".abi3.so".to_owned()
            } else {
                (*suffix).to_owned()
            },
        }),
        (true, [implementation, ..]) => Err(format!(
            "{} is {implementation}: --abi cpython and abi3 build for CPython",
            python.display()
        )),
        _ => Err(format!(
            "could not ask {} for its version",
            python.display()
        )),
    }
}

/// The minor version of `3.N`.
pub(crate) fn minor(version: &str) -> Option<u32> {
    version.strip_prefix("3.")?.parse().ok()
}

/// `cargo metadata` of the workspace (its packages only).
pub(crate) fn metadata() -> Result<cargo_metadata::Metadata, String> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(cargo) = std::env::var_os("CARGO") {
        cmd.cargo_path(cargo);
    }
    cmd.exec()
        .map_err(|e| format!("cargo metadata failed: {e}"))
}

/// The cdylibs that `cargo build` produced (for `interp`, a CPython-ABI or
/// abi3 build).
pub(crate) fn cargo_build(
    opts: &BuildOptions,
    interp: Option<&Interpreter>,
    target_directory: &Path,
) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--message-format=json-render-diagnostics"]);
    // An extension module: PyO3 (in a crate that uses `hpy`'s feature `pyo3`)
    // then links no libpython, and takes CPython's symbols from the process.
    cmd.env("PYO3_BUILD_EXTENSION_MODULE", "1");
    if let (Some(interp), true) = (interp, opts.plain) {
        // A CPython extension of its own: only the interpreter, and a target
        // directory apart from the CPython-ABI builds' (other RUSTFLAGS).
        cmd.env("PYO3_PYTHON", &interp.python).env(
            "CARGO_TARGET_DIR",
            target_directory.join(format!("cpython-ext-{}", interp.version)),
        );
    } else if let Some(interp) = interp {
        // The same crate, built against CPython's C API for this interpreter,
        // in a target directory of its own (other flags rebuild everything).
        // The cfg alone switches `hpy-sys` (and brings in `pyo3-ffi`, a
        // dependency of `hpy-sys` under that cfg), so the crate needs no
        // feature of its own.
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push_str(" --cfg hpy_abi=\"cpython\"");
        let target = if opts.abi() == Abi::Abi3 {
            // `abi3` is the limited-API refinement of the CPython ABI: both
            // values are set (the code reads `Py_LIMITED_API`, which the
            // `abi3-py310` feature this cfg gives `pyo3-ffi` sets).
            flags.push_str(" --cfg hpy_abi=\"abi3\"");
            target_directory.join("abi3")
        } else {
            target_directory.join(format!("cpython-{}", interp.version))
        };
        cmd.env("RUSTFLAGS", flags.trim())
            .env("PYO3_PYTHON", &interp.python)
            .env("CARGO_TARGET_DIR", target);
    }
    for p in &opts.packages {
        cmd.args(["-p", p]);
    }
    if opts.release {
        cmd.arg("--release");
    }
    if opts.quiet {
        cmd.arg("--quiet");
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("cargo gave no output")?;
    let mut libs = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.map_err(|e| format!("could not read cargo's output: {e}"))?;
        let Message::CompilerArtifact(artifact) = message else {
            continue;
        };
        if !artifact.target.kind.contains(&TargetKind::CDyLib) {
            continue;
        }
        libs.extend(
            artifact
                .filenames
                .into_iter()
                .map(PathBuf::from)
                .filter(|f| {
                    matches!(
                        f.extension().and_then(|e| e.to_str()),
                        Some("so" | "dylib" | "dll")
                    )
                }),
        );
    }
    let status = child
        .wait()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo build failed".to_owned());
    }
    if libs.is_empty() {
        return Err(
            "cargo built no cdylib: set `crate-type = [\"cdylib\"]` in the crate's [lib] section"
                .to_owned(),
        );
    }
    Ok(libs)
}

/// The module names a library exports an init symbol for: `HPyInit_<name>`
/// (a universal module) or `PyInit_<name>` (a CPython extension).
///
/// The exported names sit in the library's dynamic string table as
/// NUL-terminated strings, so a scan of the bytes finds them without an ELF
/// parser; `HPyInitGlobalContext_` does not match (no `_` after `HPyInit`),
/// nor does `HPyInit_` when looking for `PyInit_` (the byte before a symbol
/// is its predecessor's NUL).
pub(crate) fn module_names(lib: &[u8], prefix: &[u8]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(pos) = lib[i..].windows(prefix.len()).position(|w| w == prefix) {
        let start = i + pos;
        let name_start = start + prefix.len();
        let name_len = lib[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let at_symbol_start = start == 0 || lib[start - 1] == 0;
        let ends_with_nul = lib.get(name_start + name_len) == Some(&0);
        if at_symbol_start && ends_with_nul && name_len > 0 {
            let name =
                String::from_utf8_lossy(&lib[name_start..name_start + name_len]).into_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        i = name_start;
    }
    names
}

/// The full name of module `name` (`pkg.name` for a module inside a
/// package), from the marker string `#[hpy_module]` puts in the library
/// (`hpy-rs module <full name>`); `name` itself without one.
pub(crate) fn full_name(lib: &[u8], name: &str) -> String {
    const PREFIX: &[u8] = b"hpy-rs module ";
    let mut i = 0;
    while let Some(pos) = lib[i..].windows(PREFIX.len()).position(|w| w == PREFIX) {
        let start = i + pos + PREFIX.len();
        let len = lib[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.')
            .count();
        if lib.get(start + len) == Some(&0) {
            let full = String::from_utf8_lossy(&lib[start..start + len]).into_owned();
            if full.rsplit('.').next() == Some(name) {
                return full;
            }
        }
        i = start;
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_module_names_in_the_dynamic_string_table() {
        let lib = b"\0junk\0HPyInitGlobalContext_pof\0HPyInit_pof\0get_required_hpy_major_version_pof\0xHPyInit_no\0HPyInit_two\0";
        assert_eq!(
            module_names(lib, b"HPyInit_"),
            vec!["pof".to_owned(), "two".to_owned()]
        );
        assert!(module_names(b"\0HPyInit_\0", b"HPyInit_").is_empty());
        // A CPython extension's init symbol; HPyInit_ is not PyInit_.
        let ext = b"\0PyInit_smoke\0HPyInit_pof\0";
        assert_eq!(module_names(ext, b"PyInit_"), vec!["smoke".to_owned()]);
    }

    #[test]
    fn full_names_come_from_the_marker_string() {
        let lib = b"\0HPyInit_foo\0junk hpy-rs module pkg.sub.foo\0more\0hpy-rs module bar\0";
        assert_eq!(full_name(lib, "foo"), "pkg.sub.foo");
        assert_eq!(full_name(lib, "bar"), "bar");
        assert_eq!(full_name(lib, "baz"), "baz"); // no marker: the name itself
        assert_eq!(full_name(b"hpy-rs module pkg.foo", "foo"), "foo"); // no NUL: not a marker
    }

    #[test]
    fn versions() {
        assert_eq!(
            (minor("3.9"), minor("3.14"), minor("2.7")),
            (Some(9), Some(14), None)
        );
        let i = Interpreter {
            python: "/usr/bin/python3.14".into(),
            version: "3.14".to_owned(),
            ext_suffix: ".abi3.so".to_owned(),
        };
        assert_eq!(i.cp_tag(), "cp314");
    }
}
