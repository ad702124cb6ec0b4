//! `cargo hpy build`: builds an HPy extension crate and lays it out as a
//! universal module that `import` finds on CPython (with `hpy` installed) and
//! on PyPy.
//!
//! ```text
//! cargo hpy build [-p CRATE]... [--release] [--out DIR] [--name NAME]
//! ```
//!
//! For each `cdylib` that cargo builds, it writes into `DIR` (default:
//! `<target dir>/hpy/<profile>`):
//!
//! * `<name>.hpy0.so`: the library, unchanged. `<name>` is read from the
//!   library's exported `HPyInit_<name>` symbol, so it is always the name the
//!   HPy loader will look for. A module of a package
//!   (`#[hpy_module(name = "pkg.name")]`) goes into `pkg/`, with an empty
//!   `pkg/__init__.py` if there is none.
//! * `<name>.py`: a loader stub, so that `import <name>` works from `DIR`. It
//!   calls `hpy.universal._load_bootstrap` (on CPython from the `hpy` package,
//!   on PyPy built in), which honours `HPY=debug`, `HPY=trace` and
//!   `HPY=<name>:debug,...`. Unlike setuptools' stub it needs no
//!   `pkg_resources`.
//!
//! Files are replaced only when their content changes (and atomically), so an
//! interpreter that has the module loaded never sees a half-written file.

mod json;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "\
Build an HPy extension crate as a universal module.

Usage: cargo hpy build [-p CRATE]... [--release] [--out DIR] [--name NAME] [-q]

Options:
  -p, --package CRATE   a crate to build (repeatable; default: the one in the current
                        directory, or every member of the workspace at its root)
      --release         build with the release profile
      --out DIR         where to put <name>.hpy0.so and <name>.py (default: <target>/hpy/<profile>)
      --name NAME       the module, when the library defines several
  -q, --quiet           print only errors and the paths of the built modules
  -h, --help            show this help";

#[derive(Debug, Default)]
struct Options {
    packages: Vec<String>,
    release: bool,
    out: Option<PathBuf>,
    name: Option<String>,
    quiet: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut saw_build = false;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "build" if !saw_build => saw_build = true,
            "-p" | "--package" => opts.packages.push(value(&arg)?),
            "--release" => opts.release = true,
            "--out" => opts.out = Some(PathBuf::from(value(&arg)?)),
            "--name" => opts.name = Some(value(&arg)?),
            "-q" | "--quiet" => opts.quiet = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    if !saw_build {
        return Err("missing the command: `cargo hpy build`".to_owned());
    }
    Ok(opts)
}

/// The cdylibs that `cargo build` produced.
fn cargo_build(opts: &Options) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--message-format=json-render-diagnostics"]);
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
    let out = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !out.status.success() {
        return Err("cargo build failed".to_owned());
    }
    let mut libs = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let msg =
            json::parse(line).map_err(|e| format!("unexpected output from cargo ({e}): {line}"))?;
        if msg.get("reason").and_then(json::Json::as_str) != Some("compiler-artifact") {
            continue;
        }
        let kinds = msg
            .get("target")
            .and_then(|t| t.get("kind"))
            .map(json::Json::as_array)
            .unwrap_or(&[]);
        if !kinds.iter().any(|k| k.as_str() == Some("cdylib")) {
            continue;
        }
        for f in msg
            .get("filenames")
            .map(json::Json::as_array)
            .unwrap_or(&[])
        {
            if let Some(f) = f
                .as_str()
                .filter(|f| f.ends_with(".so") || f.ends_with(".dylib") || f.ends_with(".dll"))
            {
                libs.push(PathBuf::from(f));
            }
        }
    }
    if libs.is_empty() {
        return Err(
            "cargo built no cdylib: set `crate-type = [\"cdylib\"]` in the crate's [lib] section"
                .to_owned(),
        );
    }
    Ok(libs)
}

/// The module names a library exports an `HPyInit_<name>` symbol for.
///
/// The exported names sit in the library's dynamic string table as
/// NUL-terminated strings, so a scan of the bytes finds them without an ELF
/// parser; `HPyInitGlobalContext_` does not match (no `_` after `HPyInit`).
fn module_names(lib: &[u8]) -> Vec<String> {
    const PREFIX: &[u8] = b"HPyInit_";
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(pos) = lib[i..].windows(PREFIX.len()).position(|w| w == PREFIX) {
        let start = i + pos;
        let name_start = start + PREFIX.len();
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
fn full_name(lib: &[u8], name: &str) -> String {
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

/// Writes `data` to `path` unless it already holds exactly that (atomically).
fn write_if_changed(path: &Path, data: &[u8]) -> Result<bool, String> {
    if std::fs::read(path).is_ok_and(|old| old == data) {
        return Ok(false);
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, data).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
}

/// The loader stub: `import <name>` from its folder loads `<name>.hpy0.so`.
fn stub(name: &str) -> String {
    format!(
        r#"# Generated by `cargo hpy build`: loads the universal HPy module {name}.hpy0.so
# (CPython: needs `pip install hpy==0.9.0`; PyPy: HPy is built in).
# The environment variable HPY selects the mode: HPY=debug, HPY=trace, or
# HPY={name}:debug (see HPy's documentation).


def __bootstrap__():
    import os
    import sys

    from hpy.universal import _load_bootstrap

    ext_filepath = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{name}.hpy0.so")
    m = _load_bootstrap("{name}", __name__, __package__, ext_filepath, __loader__, __spec__, os.environ)
    m.__file__ = ext_filepath  # PyPy 7.3.19's _load_bootstrap sets it to the module name
    m.__name__ = __name__  # PyPy 7.3.19 names a package's module by its last part
    sys.modules[__name__] = m


__bootstrap__()
"#
    )
}

fn run(opts: &Options) -> Result<(), String> {
    let libs = cargo_build(opts)?;
    for lib in libs {
        let data =
            std::fs::read(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
        let names = module_names(&data);
        let name = match (&opts.name, names.as_slice()) {
            (Some(n), _) if names.contains(n) => n.clone(),
            (Some(n), _) => {
                return Err(format!(
                    "{} exports no HPyInit_{n} (it has: {})",
                    lib.display(),
                    names.join(", ")
                ));
            }
            (None, [one]) => one.clone(),
            (None, []) => {
                return Err(format!(
                    "{} exports no HPyInit_<name> symbol: is there a #[hpy_module] in the crate?",
                    lib.display()
                ));
            }
            (None, many) => {
                return Err(format!(
                    "{} defines several modules ({}): choose one with --name",
                    lib.display(),
                    many.join(", ")
                ));
            }
        };
        // <target>/<profile>/lib<crate>.so
        let profile_dir = lib.parent().ok_or("unexpected artifact path")?;
        let out = match &opts.out {
            Some(o) => o.clone(),
            None => {
                let profile = profile_dir.file_name().ok_or("unexpected artifact path")?;
                let target = profile_dir.parent().ok_or("unexpected artifact path")?;
                target.join("hpy").join(profile)
            }
        };
        // A module of a package (`pkg.name`) goes into the package's folder,
        // which gets an `__init__.py` if it has none.
        let full = full_name(&data, &name);
        let mut dir = out.clone();
        for package in full.split('.').take(full.split('.').count() - 1) {
            dir = dir.join(package);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let init = dir.join("__init__.py");
            if !init.exists() {
                write_if_changed(&init, b"")?;
            }
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let so = dir.join(format!("{name}.hpy0.so"));
        let py = dir.join(format!("{name}.py"));
        write_if_changed(&so, &data)?;
        write_if_changed(&py, stub(&name).as_bytes())?;
        if opts.quiet {
            println!("{}", so.display());
        } else {
            println!(
                "built module `{full}`: {} (loader: {})",
                so.display(),
                py.display()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // `cargo hpy build` runs `cargo-hpy hpy build`; `cargo-hpy build` works too.
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("hpy") {
        args.next();
    }
    let opts = match parse_args(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cargo-hpy: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cargo-hpy: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_module_names_in_the_dynamic_string_table() {
        let lib = b"\0junk\0HPyInitGlobalContext_pof\0HPyInit_pof\0get_required_hpy_major_version_pof\0xHPyInit_no\0HPyInit_two\0";
        assert_eq!(module_names(lib), vec!["pof".to_owned(), "two".to_owned()]);
        assert!(module_names(b"\0HPyInit_\0").is_empty());
    }

    #[test]
    fn parses_the_command_line() {
        let a = |s: &str| parse_args(s.split_whitespace().map(str::to_owned));
        let o = a("build -p pof --release --out dir -p pofpackage").unwrap();
        assert_eq!(
            (o.packages.clone(), o.release, o.out),
            (
                vec!["pof".to_owned(), "pofpackage".to_owned()],
                true,
                Some(PathBuf::from("dir"))
            )
        );
        assert!(a("build --bogus").unwrap_err().contains("--bogus"));
        assert!(a("-p pof").unwrap_err().contains("missing the command"));
        assert!(a("build -p").unwrap_err().contains("needs a value"));
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
    fn stub_loads_the_module_file_next_to_it() {
        let s = stub("pof");
        assert!(s.contains(r#""pof.hpy0.so""#));
        assert!(s.contains("_load_bootstrap(\"pof\""));
        assert!(!s.contains("pkg_resources"));
    }
}
