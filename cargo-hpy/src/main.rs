//! `cargo hpy build`: builds an HPy extension crate and lays it out as a
//! universal module that `import` finds on CPython (with `hpy` installed) and
//! on PyPy.
//!
//! ```text
//! cargo hpy build [-p CRATE]... [--release] [--out DIR] [--name NAME]
//!                 [--abi universal|cpython|abi3] [--python PATH]
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
//! With `--abi cpython` (the native CPython target, `docs/cpython-abi.md`),
//! it builds the same crate, unchanged, as a plain CPython extension for one
//! interpreter (`--python`, default `python3`): `--cfg hpy_abi="cpython"`
//! and `PYO3_PYTHON`, in a target directory of its own per interpreter
//! version (`<target>/cpython-3.N`), and writes `<name><EXT_SUFFIX>` (e.g.
//! `smoke.cpython-311-x86_64-linux-gnu.so`), which a plain `import` loads;
//! `<name>` comes from the `PyInit_<name>` symbol (a package's module goes to
//! its package's folder, as in a universal build).
//!
//! With `--abi abi3` it builds one CPython extension through the limited API
//! (`--cfg hpy_abi="abi3"` too, which gives `pyo3-ffi` its `abi3-py310`
//! feature), in `<target>/abi3`, and writes `<name>.abi3.so`, which every
//! CPython from 3.10 on loads; `--python` is any of them (3.10 or newer).
//!
//! Files are replaced only when their content changes (and atomically), so an
//! interpreter that has the module loaded never sees a half-written file.

mod json;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "\
Build an HPy extension crate as a universal module.

Usage: cargo hpy build [-p CRATE]... [--release] [--out DIR] [--name NAME] [-q]
                       [--abi universal|cpython|abi3] [--python PATH]

Options:
  -p, --package CRATE   a crate to build (repeatable; default: the one in the current
                        directory, or every member of the workspace at its root)
      --release         build with the release profile
      --out DIR         where to put <name>.hpy0.so and <name>.py (default: <target>/hpy/<profile>)
      --name NAME       the module, when the library defines several
  -q, --quiet           print only errors and the paths of the built modules
      --abi ABI         universal (default: one .hpy0.so for every interpreter), cpython
                        (a plain CPython extension for one interpreter) or abi3 (one
                        CPython extension, <name>.abi3.so, for CPython 3.10 and newer)
      --python PATH     the CPython to build for with --abi cpython or abi3 (default: python3)
  -h, --help            show this help";

#[derive(Debug, Default)]
struct Options {
    packages: Vec<String>,
    release: bool,
    out: Option<PathBuf>,
    name: Option<String>,
    quiet: bool,
    /// `--abi cpython` or `abi3`: build a plain CPython extension.
    cpython: bool,
    /// `--abi abi3`: through the limited API, for every CPython from 3.10.
    abi3: bool,
    /// `--python`: the interpreter of a CPython-ABI build.
    python: Option<PathBuf>,
}

/// What the build tool needs to know about the interpreter of a CPython-ABI
/// build.
#[derive(Debug)]
struct Interpreter {
    /// The interpreter to run (and `PYO3_PYTHON`).
    python: PathBuf,
    /// `3.N`.
    version: String,
    /// Its `EXT_SUFFIX` (`.cpython-311-x86_64-linux-gnu.so`).
    ext_suffix: String,
}

/// Asks `python` for its version and extension suffix (a CPython only; for
/// an `abi3` build, 3.10 or newer, and the suffix is `.abi3.so`).
fn interpreter(python: &Path, abi3: bool) -> Result<Interpreter, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import platform, sys, sysconfig\n\
             print(platform.python_implementation())\n\
             print('%d.%d' % sys.version_info[:2])\n\
             print(sysconfig.get_config_var('EXT_SUFFIX'))",
        ])
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    match (out.status.success(), lines.as_slice()) {
        (true, ["CPython", version, _]) if abi3 && minor(version) < Some(10) => Err(format!(
            "{} is CPython {version}: --abi abi3 builds for CPython 3.10 and newer (the limited \
             API of 3.9 has no METH_FASTCALL and no UTF-8 view of a str); use --abi cpython",
            python.display()
        )),
        (true, ["CPython", version, suffix]) => Ok(Interpreter {
            python: python.to_owned(),
            version: (*version).to_owned(),
            ext_suffix: if abi3 {
                ".abi3.so".to_owned()
            } else {
                (*suffix).to_owned()
            },
        }),
        (true, [implementation, ..]) => Err(format!(
            "{} is {implementation}: --abi cpython builds for CPython",
            python.display()
        )),
        _ => Err(format!(
            "could not ask {} for its version",
            python.display()
        )),
    }
}

/// The minor version of `3.N`.
fn minor(version: &str) -> Option<u32> {
    version.strip_prefix("3.")?.parse().ok()
}

/// The workspace's target directory (`cargo metadata`).
fn target_directory() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err("cargo metadata failed".to_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let meta = json::parse(text.trim())
        .map_err(|e| format!("unexpected output from cargo metadata: {e}"))?;
    meta.get("target_directory")
        .and_then(json::Json::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata gave no target_directory".to_owned())
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
            "--abi" => match value(&arg)?.as_str() {
                "universal" => (opts.cpython, opts.abi3) = (false, false),
                "cpython" => (opts.cpython, opts.abi3) = (true, false),
                "abi3" => (opts.cpython, opts.abi3) = (true, true),
                other => {
                    return Err(format!(
                        "--abi must be universal, cpython or abi3, not `{other}`"
                    ));
                }
            },
            "--python" => opts.python = Some(PathBuf::from(value(&arg)?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    if !saw_build {
        return Err("missing the command: `cargo hpy build`".to_owned());
    }
    if opts.python.is_some() && !opts.cpython {
        return Err("--python is for --abi cpython and abi3 builds".to_owned());
    }
    Ok(opts)
}

/// The cdylibs that `cargo build` produced (for `interp`, a CPython-ABI
/// build).
fn cargo_build(opts: &Options, interp: Option<&Interpreter>) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--message-format=json-render-diagnostics"]);
    // An extension module: PyO3 (in a crate that uses `hpy`'s feature `pyo3`)
    // then links no libpython, and takes CPython's symbols from the process.
    cmd.env("PYO3_BUILD_EXTENSION_MODULE", "1");
    if let Some(interp) = interp {
        // The same crate, built against CPython's C API for this interpreter,
        // in a target directory of its own (other flags rebuild everything).
        // The cfg alone switches `hpy-sys` (and brings in `pyo3-ffi`, a
        // dependency of `hpy-sys` under that cfg), so the crate needs no
        // feature of its own.
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push_str(" --cfg hpy_abi=\"cpython\"");
        let target = if opts.abi3 {
            // `abi3` is the limited-API refinement of the CPython ABI: both
            // values are set (the code reads `Py_LIMITED_API`, which the
            // `abi3-py310` feature this cfg gives `pyo3-ffi` sets).
            flags.push_str(" --cfg hpy_abi=\"abi3\"");
            target_directory()?.join("abi3")
        } else {
            target_directory()?.join(format!("cpython-{}", interp.version))
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

/// The module names a library exports an init symbol for: `HPyInit_<name>`
/// (a universal module) or `PyInit_<name>` (a CPython extension).
///
/// The exported names sit in the library's dynamic string table as
/// NUL-terminated strings, so a scan of the bytes finds them without an ELF
/// parser; `HPyInitGlobalContext_` does not match (no `_` after `HPyInit`),
/// nor does `HPyInit_` when looking for `PyInit_` (the byte before a symbol
/// is its predecessor's NUL).
fn module_names(lib: &[u8], prefix: &[u8]) -> Vec<String> {
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
    let interp = match opts.cpython {
        true => Some(interpreter(
            opts.python.as_deref().unwrap_or(Path::new("python3")),
            opts.abi3,
        )?),
        false => None,
    };
    let libs = cargo_build(opts, interp.as_ref())?;
    let init: &[u8] = if interp.is_some() {
        b"PyInit_"
    } else {
        b"HPyInit_"
    };
    let init_name = String::from_utf8_lossy(init).into_owned();
    for lib in libs {
        let data =
            std::fs::read(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
        let names = module_names(&data, init);
        let name = match (&opts.name, names.as_slice()) {
            (Some(n), _) if names.contains(n) => n.clone(),
            (Some(n), _) => {
                return Err(format!(
                    "{} exports no {init_name}{n} (it has: {})",
                    lib.display(),
                    names.join(", ")
                ));
            }
            (None, [one]) => one.clone(),
            (None, []) => {
                return Err(format!(
                    "{} exports no {init_name}<name> symbol: is there a #[hpy_module] in the crate?",
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
        if let Some(interp) = &interp {
            // A plain CPython extension: `import` finds it by its suffix.
            let so = dir.join(format!("{name}{}", interp.ext_suffix));
            write_if_changed(&so, &data)?;
            if opts.quiet {
                println!("{}", so.display());
            } else {
                let target = if opts.abi3 {
                    "CPython 3.10+ (abi3)".to_owned()
                } else {
                    format!("CPython {}", interp.version)
                };
                println!("built {target} extension `{full}`: {}", so.display());
            }
            continue;
        }
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
        let o = a("build -p smoke --abi cpython --python /usr/bin/python3.13").unwrap();
        assert!(o.cpython && !o.abi3 && o.python == Some(PathBuf::from("/usr/bin/python3.13")));
        let o = a("build -p smoke --abi abi3").unwrap();
        assert!(o.cpython && o.abi3);
        assert!(
            a("build --abi abi4")
                .unwrap_err()
                .contains("universal, cpython or abi3")
        );
        assert_eq!(
            (minor("3.9"), minor("3.14"), minor("2.7")),
            (Some(9), Some(14), None)
        );
        assert!(
            a("build --python py")
                .unwrap_err()
                .contains("--abi cpython")
        );
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
