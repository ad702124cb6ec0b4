//! Wheels (the binary distribution format, PEP 427 and its successors in
//! the packaging specifications): a zip archive of the files to install,
//! plus `<name>-<version>.dist-info/` with `METADATA`, `WHEEL` and `RECORD`
//! (each file's SHA-256, URL-safe base64 without padding, and its size).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

/// What a wheel says about its project (core metadata 2.1).
#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    /// The distribution name, as the project spells it.
    pub(crate) name: String,
    /// Its version (PEP 440).
    pub(crate) version: String,
    /// A one-line description.
    pub(crate) summary: Option<String>,
    /// `Requires-Python`.
    pub(crate) requires_python: Option<String>,
    /// `Requires-Dist` lines (PEP 508 requirements).
    pub(crate) requires_dist: Vec<String>,
    /// `License` (an SPDX expression).
    pub(crate) license: Option<String>,
}

/// The name of a distribution in file names: runs of `-`, `_` and `.`
/// become one `_` (the wheel file name rule), lower case.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('_');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// The platform tag of the machine that builds (`linux_x86_64`): the build
/// tool builds for the host.
pub(crate) fn platform_tag() -> Result<String, String> {
    match std::env::consts::OS {
        "linux" => Ok(format!("linux_{}", std::env::consts::ARCH)),
        other => Err(format!(
            "cargo hpy wheel does not know the platform tag of {other} yet"
        )),
    }
}

/// `METADATA` (and an sdist's `PKG-INFO`).
pub(crate) fn metadata_file(meta: &Metadata) -> String {
    let mut text = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
        meta.name, meta.version
    );
    if let Some(summary) = &meta.summary {
        text.push_str(&format!("Summary: {}\n", summary.replace('\n', " ")));
    }
    if let Some(license) = &meta.license {
        text.push_str(&format!("License: {license}\n"));
    }
    if let Some(requires) = &meta.requires_python {
        text.push_str(&format!("Requires-Python: {requires}\n"));
    }
    for r in &meta.requires_dist {
        text.push_str(&format!("Requires-Dist: {r}\n"));
    }
    text
}

/// `WHEEL`.
fn wheel_file(tag: &str) -> String {
    format!(
        "Wheel-Version: 1.0\nGenerator: cargo-hpy {}\nRoot-Is-Purelib: false\nTag: {tag}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// One `RECORD` line: `path,sha256=<digest>,<size>`.
fn record_line(path: &str, data: &[u8]) -> String {
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
    format!("{path},sha256={digest},{}\n", data.len())
}

/// Writes `<dir>/<name>-<version>-<tag>.whl` holding `files` (archive path,
/// content) and the `.dist-info` folder; returns its path.
pub(crate) fn write(
    dir: &Path,
    meta: &Metadata,
    tag: &str,
    files: &[(String, Vec<u8>)],
) -> Result<PathBuf, String> {
    let stem = format!("{}-{}", normalize(&meta.name), meta.version);
    let path = dir.join(format!("{stem}-{tag}.whl"));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dist_info = format!("{stem}.dist-info");
    let mut all: Vec<(String, Vec<u8>)> = files.to_vec();
    all.push((
        format!("{dist_info}/METADATA"),
        metadata_file(meta).into_bytes(),
    ));
    all.push((format!("{dist_info}/WHEEL"), wheel_file(tag).into_bytes()));
    let mut record = String::new();
    for (name, data) in &all {
        record.push_str(&record_line(name, data));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    all.push((format!("{dist_info}/RECORD"), record.into_bytes()));

    crate::write_atomically(&path, |file| {
        let mut zip = zip::ZipWriter::new(file);
        for (name, data) in &all {
            // Executable bits for the libraries, as installers keep them.
            let mode = if name.ends_with(".so") { 0o755 } else { 0o644 };
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(mode);
            zip.start_file(name.as_str(), options)
                .map_err(std::io::Error::other)?;
            zip.write_all(data)?;
        }
        zip.finish().map_err(std::io::Error::other)?;
        Ok(())
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_records() {
        assert_eq!(normalize("My.Package--name_x"), "my_package_name_x");
        assert_eq!(normalize("pof"), "pof");
        // sha256 of "hello", URL-safe base64 without padding.
        assert_eq!(
            record_line("a/b.py", b"hello"),
            "a/b.py,sha256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ,5\n"
        );
    }

    #[test]
    fn metadata_lists_what_was_given() {
        let meta = Metadata {
            name: "pof".to_owned(),
            version: "0.1.0".to_owned(),
            summary: Some("HPy's proof\nof concept".to_owned()),
            requires_python: Some(">=3.10".to_owned()),
            requires_dist: vec![
                "hpy-rs-runtime; platform_python_implementation == \"CPython\"".to_owned(),
            ],
            license: Some("MIT".to_owned()),
        };
        assert_eq!(
            metadata_file(&meta),
            "Metadata-Version: 2.1\nName: pof\nVersion: 0.1.0\nSummary: HPy's proof of concept\n\
             License: MIT\nRequires-Python: >=3.10\n\
             Requires-Dist: hpy-rs-runtime; platform_python_implementation == \"CPython\"\n"
        );
        assert!(
            wheel_file("py3-none-linux_x86_64")
                .contains("Root-Is-Purelib: false\nTag: py3-none-linux_x86_64\n")
        );
    }

    #[test]
    fn writes_a_zip_whose_record_covers_every_file() {
        let dir = std::env::temp_dir().join(format!("cargo-hpy-wheel-test-{}", std::process::id()));
        let meta = Metadata {
            name: "Demo-Pkg".to_owned(),
            version: "1.2.3".to_owned(),
            summary: None,
            requires_python: None,
            requires_dist: Vec::new(),
            license: None,
        };
        let files = vec![
            ("demo.abi3.so".to_owned(), b"\x7fELF...".to_vec()),
            ("pkg/__init__.py".to_owned(), Vec::new()),
        ];
        let path = write(&dir, &meta, "cp310-abi3-linux_x86_64", &files).unwrap();
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            "demo_pkg-1.2.3-cp310-abi3-linux_x86_64.whl"
        );
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
        let mut record = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("demo_pkg-1.2.3.dist-info/RECORD").unwrap(),
            &mut record,
        )
        .unwrap();
        for name in &names {
            assert!(
                record.lines().any(|l| l.starts_with(&format!("{name},"))),
                "{name} is not in RECORD"
            );
        }
        assert!(record.contains("demo.abi3.so,sha256="));
        assert!(record.ends_with("demo_pkg-1.2.3.dist-info/RECORD,,\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
