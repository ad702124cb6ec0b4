//! `cargo hpy`: builds HPy extension crates written with hpy-rs, as modules
//! in a folder (`cargo hpy build`) or as wheels (`cargo hpy wheel`), for
//! either target: HPy's universal ABI or CPython's own (per version, or
//! `abi3`).
//!
//! ```text
//! cargo hpy build [-p CRATE]... [--release] [--out DIR] [--name NAME] [-q]
//!                 [--abi universal|cpython|abi3] [--python PATH]
//! cargo hpy wheel [-p CRATE] [--release] [--out DIR] [-q]
//!                 [--abi universal|cpython|abi3] [--python PATH]
//! ```
//!
//! For each `cdylib` that cargo builds, `build` writes into `DIR` (default:
//! `<target dir>/hpy/<profile>`):
//!
//! * `<name>.hpy0.so`: the library, unchanged. `<name>` is read from the
//!   library's exported `HPyInit_<name>` symbol, so it is always the name the
//!   HPy loader will look for; a library that defines several modules is
//!   written once for each (each file is loaded on its own), unless
//!   `--name` picks one. A module of a package
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
//! `wheel` builds one crate the same way and writes a wheel of its modules
//! into `DIR` (default `<target dir>/wheels`), tagged for what it holds:
//! `py3-none-<platform>` for universal modules (with a dependency on
//! hpy-rs's runtime, `hpy-rs-runtime`, on CPython only: PyPy has HPy built
//! in),
//! `cp3N-cp3N-<platform>` for a CPython-ABI build, `cp310-abi3-<platform>`
//! for an abi3 one. The distribution's name, version, summary and license
//! are the crate's. With `--editable` the modules stay in
//! `<target dir>/hpy-editable/<crate>/` and the wheel holds a `.pth` file
//! that puts that folder on `sys.path` (PEP 660's editable install: a
//! rebuild into the folder is seen at the next import).
//!
//! A crate that is a CPython extension of its own (on `pyo3-ffi` or PyO3,
//! like hpy-rs's runtime, `runtime/`) says `kind = "cpython-extension"` in
//! `[package.metadata.hpy]`; `build` and `wheel` then build it per CPython
//! (`--abi cpython`, its default) without hpy-rs's ABI cfgs, and package it
//! as they package a CPython-ABI build.
//!
//! Files are replaced only when their content changes (and atomically), so an
//! interpreter that has the module loaded never sees a half-written file.

mod compile;
mod manylinux;
mod new;
mod sdist;
mod stubs;
mod wheel;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use compile::Interpreter;

/// `cargo hpy ...` (cargo runs `cargo-hpy hpy ...`).
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Build HPy extension crates written with hpy-rs.
    #[command(version, propagate_version = true)]
    Hpy(Hpy),
}

#[derive(Debug, Args)]
struct Hpy {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build extension modules into a folder (with a loader stub for each
    /// universal module), ready to import from there.
    Build {
        #[command(flatten)]
        build: BuildOptions,
        /// Only this module, when the library defines several (default: each of
        /// them, a copy of the library apiece).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Where to put the modules (default: hpy/PROFILE in the target directory).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Build one crate's modules into a wheel that pip installs.
    Wheel {
        #[command(flatten)]
        build: BuildOptions,
        /// Where to put the wheel (default: wheels in the target directory).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// An editable wheel: the modules stay in hpy-editable/CRATE in the target directory
        /// (rebuilt there by `cargo hpy build --out` that folder, or by
        /// installing again), which the wheel's .pth puts on sys.path.
        #[arg(long, conflicts_with = "all")]
        editable: bool,
        /// The set of wheels a project publishes: the universal one, and a
        /// CPython-ABI one for each CPython (--python, and every python3.9 to
        /// python3.14 on PATH that runs), or with --abi abi3 one abi3 wheel.
        #[arg(long)]
        all: bool,
    },
    /// Write a source distribution of one crate (with the hpy-rs SDK it
    /// needs), which pip builds on any machine with Rust.
    Sdist {
        /// The crate (default: the one in the current directory).
        #[arg(short = 'p', long = "package", value_name = "CRATE")]
        package: Option<String>,
        /// Where to put it (default: wheels in the target directory).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print only the path of the sdist.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Build one crate and install it into the active virtualenv (pip), as
    /// `pip install .` would: a CPython-ABI extension on CPython, the
    /// universal module on PyPy, unless --abi says otherwise.
    Develop {
        #[command(flatten)]
        build: BuildOptions,
    },
    /// Create an extension crate that `pip install .` accepts at once, with a
    /// function, a class and a test.
    New {
        /// The crate's folder; its name is the module's.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

/// The target ABI of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Abi {
    /// One `.hpy0.so` for every interpreter (HPy's universal ABI).
    #[default]
    Universal,
    /// A plain CPython extension for one CPython version (3.9-3.14).
    Cpython,
    /// One CPython extension for every CPython from 3.10 (the limited API).
    Abi3,
}

/// How to build (both commands).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct BuildOptions {
    /// A crate to build (repeatable; default: the one in the current
    /// directory, or every member of the workspace at its root).
    #[arg(short = 'p', long = "package", value_name = "CRATE")]
    pub(crate) packages: Vec<String>,
    /// Build with the release profile.
    #[arg(long)]
    pub(crate) release: bool,
    /// Print only errors and the paths of what was built.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// The target ABI [default: universal; for develop, cpython on CPython
    /// and universal elsewhere].
    #[arg(long, value_enum)]
    pub(crate) abi: Option<Abi>,
    /// The CPython to build for with --abi cpython or abi3 (default: python3).
    #[arg(long, value_name = "PATH")]
    pub(crate) python: Option<PathBuf>,
    /// The crates are CPython extensions of their own, not hpy-rs modules
    /// (see [`cpython_extensions`]): built without hpy-rs's ABI cfgs.
    #[arg(skip)]
    pub(crate) plain: bool,
}

impl BuildOptions {
    /// The ABI to build for (universal unless chosen).
    pub(crate) fn abi(&self) -> Abi {
        self.abi.unwrap_or_default()
    }
}

/// One module as built: its full name (`pkg.name`) and the files that make
/// it, relative to the folder it is imported from.
struct Module {
    full_name: String,
    files: Vec<(String, Vec<u8>)>,
    /// The cargo package that built it (its library's file name is
    /// `libCRATE.so`, from which the package is found).
    library: PathBuf,
}

/// Builds and finds the modules of the libraries cargo made.
fn build_modules(
    opts: &BuildOptions,
    name: Option<&str>,
    interp: Option<&Interpreter>,
    target_directory: &Path,
) -> Result<Vec<Module>, String> {
    let libs = compile::cargo_build(opts, interp, target_directory)?;
    let init: &[u8] = if interp.is_some() {
        b"PyInit_"
    } else {
        b"HPyInit_"
    };
    let init_name = String::from_utf8_lossy(init).into_owned();
    let mut modules = Vec::new();
    for lib in libs {
        let data =
            std::fs::read(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
        let names = compile::module_names(&data, init);
        // Every module the library defines, unless one is chosen; a library
        // with several is copied once per module (each file is loaded on its
        // own, under its module's name).
        let chosen: Vec<String> = match (name, names.as_slice()) {
            (Some(n), _) if names.iter().any(|m| m == n) => vec![n.to_owned()],
            (Some(n), _) => {
                return Err(format!(
                    "{} exports no {init_name}{n} (it has: {})",
                    lib.display(),
                    names.join(", ")
                ));
            }
            (None, []) => {
                return Err(format!(
                    "{} exports no {init_name}<name> symbol: is there a #[hpy_module] in the crate?",
                    lib.display()
                ));
            }
            (None, all) => all.to_vec(),
        };
        for module in chosen {
            modules.push(module_files(&lib, &data, &module, names.len() > 1, interp));
        }
    }
    Ok(modules)
}

/// The files of `module`, one of the modules the library `data` (built at
/// `lib`) defines (`several`: not the only one).
fn module_files(
    lib: &Path,
    data: &[u8],
    module: &str,
    several: bool,
    interp: Option<&Interpreter>,
) -> Module {
    // A module of a package (`pkg.name`) goes into the package's folder,
    // which gets an `__init__.py` if it has none.
    let full = compile::full_name(data, module);
    let parts: Vec<&str> = full.split('.').collect();
    let folder: String = parts[..parts.len() - 1]
        .iter()
        .map(|p| format!("{p}/"))
        .collect();
    let mut files = Vec::new();
    for depth in 1..parts.len() {
        files.push((
            format!("{}/__init__.py", parts[..depth].join("/")),
            Vec::new(),
        ));
    }
    // The type stub, beside the module (a wheel moves a top-level one into
    // a stub-only package: see `wheel`).
    if let Some(stub) = stubs::stub(data, &full, several) {
        files.push((format!("{folder}{module}.pyi"), stub.into_bytes()));
        if !folder.is_empty() {
            files.push((format!("{folder}py.typed"), Vec::new()));
        }
    }
    match interp {
        // A plain CPython extension: `import` finds it by its suffix.
        Some(interp) => files.push((
            format!("{folder}{module}{}", interp.ext_suffix),
            data.to_vec(),
        )),
        None => {
            files.push((format!("{folder}{module}.hpy0.so"), data.to_vec()));
            files.push((format!("{folder}{module}.py"), stub(module).into_bytes()));
        }
    }
    Module {
        full_name: full,
        files,
        library: lib.to_owned(),
    }
}

/// Writes `path` atomically: `write` fills a temporary file beside it,
/// which replaces `path` only once complete (and is removed on failure), so
/// that a reader never sees a half-written file.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(std::fs::File) -> std::io::Result<()>,
) -> Result<(), String> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = std::fs::File::create(&tmp).and_then(write);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", tmp.display()));
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes `data` to `path` unless it already holds exactly that (atomically).
fn write_if_changed(path: &Path, data: &[u8]) -> Result<bool, String> {
    use std::io::Write as _;
    if std::fs::read(path).is_ok_and(|old| old == data) {
        return Ok(false);
    }
    write_atomically(path, |mut file| file.write_all(data))?;
    Ok(true)
}

/// The loader stub: `import <name>` from its folder loads `<name>.hpy0.so`.
fn stub(name: &str) -> String {
    format!(
        r#"# Generated by `cargo hpy build`: loads the universal HPy module {name}.hpy0.so
# (CPython: through hpy-rs's runtime, `hpy_rs_runtime`, where installed, else
# HPy's, `pip install hpy==0.9.0`; PyPy: HPy is built in).
# The environment variable HPY selects the mode: HPY=debug, HPY=trace, or
# HPY={name}:debug (see HPy's documentation).


def __bootstrap__():
    import os
    import sys

    try:
        if sys.implementation.name != "cpython":
            raise ImportError
        from hpy_rs_runtime.universal import _load_bootstrap
    except ImportError:
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

/// Whether `package` is a CPython extension of its own rather than an hpy-rs
/// module: a crate on `pyo3-ffi` or PyO3 (hpy-rs's runtime is one) that says
/// so in its manifest,
///
/// ```toml
/// [package.metadata.hpy]
/// kind = "cpython-extension"
/// ```
///
/// `cargo hpy` builds and packages it like a CPython-ABI build (per CPython,
/// `PyInit_<name>`, its Python sources beside it), but without the cfgs that
/// switch `hpy-sys` to the CPython ABI, which such a crate does not use.
fn is_cpython_extension(package: &cargo_metadata::Package) -> bool {
    package
        .metadata
        .get("hpy")
        .and_then(|h| h.get("kind"))
        .and_then(|v| v.as_str())
        == Some("cpython-extension")
}

/// `opts` for the crates they select: a CPython extension of its own
/// ([`is_cpython_extension`]) builds with `--abi cpython` (the default for
/// it; universal and abi3 are refused) and `plain` set; it builds alone.
fn cpython_extensions(
    meta: &cargo_metadata::Metadata,
    opts: &BuildOptions,
) -> Result<BuildOptions, String> {
    let selected: Vec<&cargo_metadata::Package> = if opts.packages.is_empty() {
        current_package(meta).into_iter().collect()
    } else {
        meta.workspace_packages()
            .into_iter()
            .filter(|p| opts.packages.iter().any(|n| n == p.name.as_str()))
            .collect()
    };
    let plain: Vec<&str> = selected
        .iter()
        .filter(|p| is_cpython_extension(p))
        .map(|p| p.name.as_str())
        .collect();
    let mut opts = opts.clone();
    if plain.is_empty() {
        return Ok(opts);
    }
    if plain.len() != selected.len() {
        return Err(format!(
            "{} is a CPython extension (package.metadata.hpy kind): build it on its own",
            plain.join(", ")
        ));
    }
    match opts.abi {
        None | Some(Abi::Cpython) => opts.abi = Some(Abi::Cpython),
        Some(abi) => {
            return Err(format!(
                "{} is a CPython extension (package.metadata.hpy kind), built per CPython: \
                 --abi cpython, not {}",
                plain.join(", "),
                abi.to_possible_value()
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default()
            ));
        }
    }
    opts.plain = true;
    Ok(opts)
}

/// What a universal wheel requires: hpy-rs's HPy runtime on CPython (the
/// `runtime/` crate's wheel, `hpy-rs-runtime`); nothing on PyPy, which has
/// HPy built in.
const RUNTIME_REQUIREMENT: &str = r#"hpy-rs-runtime; platform_python_implementation == "CPython""#;

/// The interpreter of a CPython-ABI or abi3 build (`None` for universal).
fn interpreter_of(opts: &BuildOptions) -> Result<Option<Interpreter>, String> {
    match opts.abi() {
        Abi::Universal => {
            if opts.python.is_some() {
                return Err("--python is for --abi cpython and abi3 builds".to_owned());
            }
            Ok(None)
        }
        Abi::Cpython | Abi::Abi3 => Ok(Some(compile::interpreter(
            opts.python.as_deref().unwrap_or(Path::new("python3")),
            opts.abi() == Abi::Abi3,
        )?)),
    }
}

/// `cargo hpy build`.
fn build(opts: &BuildOptions, name: Option<&str>, out: Option<&Path>) -> Result<(), String> {
    let meta = compile::metadata()?;
    let opts = &cpython_extensions(&meta, opts)?;
    let interp = interpreter_of(opts)?;
    let target_directory = meta.target_directory.as_std_path();
    for module in build_modules(opts, name, interp.as_ref(), target_directory)? {
        // <target>/<profile>/lib<crate>.so
        let out = match out {
            Some(o) => o.to_owned(),
            None => {
                let profile_dir = module.library.parent().ok_or("unexpected artifact path")?;
                let profile = profile_dir.file_name().ok_or("unexpected artifact path")?;
                let target = profile_dir.parent().ok_or("unexpected artifact path")?;
                target.join("hpy").join(profile)
            }
        };
        let mut main_file = None;
        for (rel, data) in &module.files {
            let path = out.join(rel);
            let dir = path.parent().ok_or("unexpected module path")?;
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            // A package's existing `__init__.py` is the user's: kept.
            if rel.ends_with("/__init__.py") && path.exists() {
                continue;
            }
            write_if_changed(&path, data)?;
            if rel.ends_with(".so") {
                main_file = Some(path);
            }
        }
        let so = main_file.ok_or("no library in the module")?;
        let full = &module.full_name;
        if opts.quiet {
            println!("{}", so.display());
        } else {
            match (&interp, opts.abi()) {
                (Some(_), Abi::Abi3) => println!(
                    "built CPython 3.10+ (abi3) extension `{full}`: {}",
                    so.display()
                ),
                (Some(i), _) => println!(
                    "built CPython {} extension `{full}`: {}",
                    i.version,
                    so.display()
                ),
                (None, _) => println!(
                    "built module `{full}`: {} (loader: {})",
                    so.display(),
                    so.with_extension("").with_extension("py").display()
                ),
            }
        }
    }
    Ok(())
}

/// The package of the crate in the current directory.
fn current_package(meta: &cargo_metadata::Metadata) -> Option<&cargo_metadata::Package> {
    let here = std::env::current_dir().ok()?.canonicalize().ok()?;
    meta.workspace_packages().into_iter().find(|p| {
        p.manifest_path
            .parent()
            .and_then(|d| d.as_std_path().canonicalize().ok())
            .is_some_and(|d| d == here)
    })
}

/// The package `cargo hpy wheel` or `sdist` works on: `-p`'s, or the one in
/// the current directory.
fn chosen_package<'m>(
    meta: &'m cargo_metadata::Metadata,
    name: Option<&str>,
) -> Result<&'m cargo_metadata::Package, String> {
    match name {
        Some(one) => meta
            .workspace_packages()
            .into_iter()
            .find(|p| p.name.as_str() == one)
            .ok_or_else(|| format!("no package `{one}` in the workspace")),
        None => current_package(meta).ok_or_else(|| {
            "this builds one crate: run it in the crate's folder, or name it with -p".to_owned()
        }),
    }
}

/// The core metadata of a crate's distribution.
fn distribution_metadata(package: &cargo_metadata::Package) -> wheel::Metadata {
    wheel::Metadata {
        name: package.name.to_string(),
        version: package.version.to_string(),
        summary: package.description.clone(),
        requires_python: None,
        requires_dist: Vec::new(),
        license: package.license.clone(),
    }
}

/// `cargo hpy sdist`.
fn sdist(package: Option<&str>, out: Option<&Path>, quiet: bool) -> Result<(), String> {
    let meta = compile::metadata()?;
    let package = chosen_package(&meta, package)?;
    let dir = match out {
        Some(o) => o.to_owned(),
        None => meta.target_directory.as_std_path().join("wheels"),
    };
    let path = sdist::write(package, &dir, &distribution_metadata(package))?;
    if quiet {
        println!("{}", path.display());
    } else {
        println!("built sdist: {}", path.display());
    }
    Ok(())
}

/// `cargo hpy wheel`: the wheel's path.
fn wheel(opts: &BuildOptions, out: Option<&Path>, editable: bool) -> Result<PathBuf, String> {
    let meta = compile::metadata()?;
    let package = match opts.packages.as_slice() {
        [one] => chosen_package(&meta, Some(one))?,
        [] => chosen_package(&meta, None)?,
        _ => return Err("cargo hpy wheel builds one crate at a time (one -p)".to_owned()),
    };
    let mut build_opts = opts.clone();
    build_opts.packages = vec![package.name.to_string()];
    let build_opts = cpython_extensions(&meta, &build_opts)?;
    let opts = &build_opts;
    let interp = interpreter_of(opts)?;
    let modules = build_modules(
        &build_opts,
        None,
        interp.as_ref(),
        meta.target_directory.as_std_path(),
    )?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for module in modules {
        for (rel, data) in module.files {
            // A top-level module's stub: PEP 561 has no typing marker for a
            // single-file module, so it ships as the stub-only package
            // `<module>-stubs`, which type checkers find in site-packages.
            let rel = match rel.strip_suffix(".pyi") {
                Some(m) if !m.contains('/') => format!("{m}-stubs/__init__.pyi"),
                _ => rel,
            };
            if !files.iter().any(|(r, _)| *r == rel) {
                files.push((rel, data));
            }
        }
    }
    let sources = python_source(package);
    if editable {
        // The modules go to a folder of their own, which the wheel's .pth
        // names (the wheel holds no module); in a mixed project, into its
        // Python sources (a package lives in one folder), the user's files
        // kept.
        let folder = sources.clone().unwrap_or_else(|| {
            meta.target_directory
                .as_std_path()
                .join("hpy-editable")
                .join(package.name.as_str())
        });
        for (rel, data) in &files {
            let path = folder.join(rel);
            if sources.is_some() && path.exists() && !rel.ends_with(".so") && !rel.ends_with(".pyi")
            {
                continue;
            }
            let dir = path.parent().ok_or("unexpected module path")?;
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            write_if_changed(&path, data)?;
        }
        let folder = folder
            .to_str()
            .ok_or("the target directory's path is not UTF-8")?
            .to_owned();
        files = vec![(
            format!("{}.pth", wheel::normalize(&package.name)),
            format!("{folder}\n").into_bytes(),
        )];
    }
    // A mixed project's Python sources (packages, modules, data) join the
    // extension modules; where both have a file (a package's
    // `__init__.py`), the user's wins.
    if let (Some(root), false) = (&sources, editable) {
        for (rel, data) in python_files(root)? {
            files.retain(|(r, _)| *r != rel);
            files.push((rel, data));
        }
    }
    // A manylinux tag where the libraries qualify (PEP 600), as pip on any
    // glibc Linux at least that new accepts.
    let linux = wheel::platform_tag()?;
    let platform = match linux.strip_prefix("linux_") {
        Some(arch) => {
            let libraries: Vec<&[u8]> = files
                .iter()
                .filter(|(rel, _)| rel.ends_with(".so"))
                .map(|(_, data)| data.as_slice())
                .collect();
            let (tag, why) = manylinux::platform_tag(&libraries, arch);
            if let Some(why) = why.filter(|_| !opts.quiet && !editable) {
                eprintln!("note: the wheel is tagged {tag}, not manylinux: {why}");
            }
            tag
        }
        None => linux,
    };
    let (tag, requires_python, requires_dist) = match (&interp, opts.abi()) {
        (None, _) => (
            format!("py3-none-{platform}"),
            None,
            // CPython loads universal modules through hpy-rs's runtime (the
            // `hpy` package has no wheel past 3.11 and crashes on 3.13);
            // PyPy has HPy built in.
            vec![RUNTIME_REQUIREMENT.to_owned()],
        ),
        (Some(_), Abi::Abi3) => (
            format!("cp310-abi3-{platform}"),
            Some(">=3.10".to_owned()),
            Vec::new(),
        ),
        (Some(i), _) => {
            let cp = i.cp_tag();
            (
                format!("{cp}-{cp}-{platform}"),
                Some(format!("=={}.*", i.version)),
                Vec::new(),
            )
        }
    };
    let metadata = wheel::Metadata {
        requires_python,
        requires_dist,
        ..distribution_metadata(package)
    };
    let dir = match out {
        Some(o) => o.to_owned(),
        None => meta.target_directory.as_std_path().join("wheels"),
    };
    let path = wheel::write(&dir, &metadata, &tag, &files)?;
    if opts.quiet {
        println!("{}", path.display());
    } else {
        println!("built wheel: {}", path.display());
    }
    Ok(path)
}

/// The Python sources of a mixed Rust/Python project: the folder that
/// `[package.metadata.hpy] python-source` names (relative to the crate),
/// else the crate's `python/` if there is one (maturin's conventions).
fn python_source(package: &cargo_metadata::Package) -> Option<PathBuf> {
    let dir = package.manifest_path.parent()?.as_std_path();
    match package
        .metadata
        .get("hpy")
        .and_then(|h| h.get("python-source"))
        .and_then(|v| v.as_str())
    {
        Some(p) => Some(dir.join(p)),
        None => Some(dir.join("python")).filter(|d| d.is_dir()),
    }
}

/// Every file under `root` (relative paths with `/`), but caches, compiled
/// files and hidden files.
fn python_files(root: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_owned()];
    while let Some(dir) = todo.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.starts_with('.') || name == "__pycache__" || name.ends_with(".pyc") {
                continue;
            }
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .map_err(|_| "a path outside the Python sources")?
                .to_str()
                .ok_or("a file name that is not UTF-8")?
                .replace('\\', "/");
            let data =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            out.push((rel, data));
        }
    }
    Ok(out)
}

/// The CPythons on `PATH` (`python3.9` to `python3.14`) that run, one per
/// version, after `explicit`; those that do not run are named and skipped.
fn installed_cpythons(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let candidates = explicit
        .map(Path::to_owned)
        .into_iter()
        .chain((9..=14).map(|minor| PathBuf::from(format!("python3.{minor}"))));
    for python in candidates {
        match compile::interpreter(&python, false) {
            Ok(i) if !found.iter().any(|(v, _)| *v == i.version) => found.push((i.version, python)),
            Ok(_) => {}
            Err(e) if python.components().count() > 1 || explicit == Some(&python) => {
                eprintln!("note: skipped: {e}");
            }
            // Not on PATH, or a pyenv shim for a version not selected.
            Err(_) => {}
        }
    }
    found.into_iter().map(|(_, p)| p).collect()
}

/// `cargo hpy wheel --all`.
fn wheel_all(opts: &BuildOptions, out: Option<&Path>) -> Result<(), String> {
    // A CPython extension of its own has no universal wheel.
    if !cpython_extensions(&compile::metadata()?, opts)?.plain {
        let universal = BuildOptions {
            abi: Some(Abi::Universal),
            python: None,
            ..opts.clone()
        };
        wheel(&universal, out, false)?;
    }
    let pythons = installed_cpythons(opts.python.as_deref());
    if opts.abi() == Abi::Abi3 {
        let python = pythons
            .iter()
            .find(|p| {
                compile::interpreter(p, false)
                    .ok()
                    .and_then(|i| compile::minor(&i.version))
                    .is_some_and(|m| m >= 10)
            })
            .ok_or("no CPython 3.10 or newer found for the abi3 wheel: name one with --python")?;
        let abi3 = BuildOptions {
            python: Some(python.clone()),
            ..opts.clone()
        };
        wheel(&abi3, out, false)?;
        return Ok(());
    }
    if pythons.is_empty() {
        eprintln!(
            "note: no CPython found for CPython-ABI wheels (python3.9 to python3.14 on PATH, or --python)"
        );
    }
    for python in pythons {
        let cpython = BuildOptions {
            abi: Some(Abi::Cpython),
            python: Some(python),
            ..opts.clone()
        };
        wheel(&cpython, out, false)?;
    }
    Ok(())
}

/// `cargo hpy develop`: the wheel for the active virtualenv's interpreter,
/// installed there by its pip.
fn develop(opts: &BuildOptions) -> Result<(), String> {
    let python = match (&opts.python, std::env::var_os("VIRTUAL_ENV")) {
        (Some(p), _) => p.clone(),
        (None, Some(venv)) => Path::new(&venv).join("bin").join("python"),
        (None, None) => {
            return Err(
                "cargo hpy develop installs into the active virtualenv: activate one, or name its python with --python"
                    .to_owned(),
            );
        }
    };
    let implementation = std::process::Command::new(&python)
        .args([
            "-c",
            "import platform; print(platform.python_implementation())",
        ])
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    let cpython = String::from_utf8_lossy(&implementation.stdout).trim() == "CPython";
    let mut opts = opts.clone();
    let abi = opts.abi.unwrap_or(if cpython {
        Abi::Cpython
    } else {
        Abi::Universal
    });
    opts.abi = Some(abi);
    opts.python = (abi != Abi::Universal).then(|| python.clone());
    let meta = compile::metadata()?;
    let dir = meta
        .target_directory
        .as_std_path()
        .join("wheels")
        .join("develop");
    let _ = std::fs::remove_dir_all(&dir);
    let whl = wheel(&opts, Some(&dir), false)?;
    let status = std::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(&whl)
        .status()
        .map_err(|e| format!("could not run pip: {e}"))?;
    if !status.success() {
        return Err(format!("pip could not install {}", whl.display()));
    }
    if !opts.quiet {
        println!("installed {} into {}", whl.display(), python.display());
    }
    Ok(())
}

/// The arguments as clap expects them: cargo runs `cargo-hpy hpy ...`;
/// `cargo-hpy build ...` works too.
fn args() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_none_or(|a| a != "hpy") {
        args.insert(1, "hpy".into());
    }
    args
}

fn main() -> ExitCode {
    let Cargo::Hpy(hpy) = Cargo::parse_from(args());
    let result = match &hpy.command {
        Command::Build {
            build: opts,
            name,
            out,
        } => build(opts, name.as_deref(), out.as_deref()),
        Command::Wheel {
            build: opts,
            out,
            editable,
            all: false,
        } => wheel(opts, out.as_deref(), *editable).map(drop),
        Command::Wheel {
            build: opts,
            out,
            all: true,
            ..
        } => wheel_all(opts, out.as_deref()),
        Command::Develop { build: opts } => develop(opts),
        Command::Sdist {
            package,
            out,
            quiet,
        } => sdist(package.as_deref(), out.as_deref(), *quiet),
        Command::New { path } => new::new(path),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(line: &str) -> Result<Command, clap::Error> {
        let args = std::iter::once("cargo-hpy").chain(line.split_whitespace());
        Cargo::try_parse_from(args).map(|Cargo::Hpy(h)| h.command)
    }

    #[test]
    fn the_command_line() {
        Cargo::command().debug_assert();
        let Command::Build { build, out, .. } =
            parse("hpy build -p pof --release --out dir -p pofpackage").unwrap()
        else {
            panic!("not build")
        };
        assert_eq!(build.packages, ["pof", "pofpackage"]);
        assert!(build.release && build.abi() == Abi::Universal);
        assert_eq!(out, Some(PathBuf::from("dir")));
        let Command::Build { build, .. } =
            parse("hpy build -p smoke --abi cpython --python /usr/bin/python3.13").unwrap()
        else {
            panic!("not build")
        };
        assert_eq!(build.abi(), Abi::Cpython);
        assert_eq!(build.python, Some(PathBuf::from("/usr/bin/python3.13")));
        let Command::Wheel { build, all, .. } = parse("hpy wheel --abi abi3 -q --all").unwrap()
        else {
            panic!("not wheel")
        };
        assert!(all);
        assert!(parse("hpy wheel --all --editable").is_err());
        assert!(build.abi() == Abi::Abi3 && build.quiet);
        let Command::New { path } = parse("hpy new my_ext").unwrap() else {
            panic!("not new")
        };
        assert_eq!(path, PathBuf::from("my_ext"));
        let Command::Develop { build } = parse("hpy develop").unwrap() else {
            panic!("not develop")
        };
        assert_eq!(build.abi, None);
        let err = parse("hpy build --abi abi4").unwrap_err().to_string();
        assert!(err.contains("universal, cpython, abi3"), "{err}");
        assert!(
            parse("hpy build --bogus")
                .unwrap_err()
                .to_string()
                .contains("--bogus")
        );
        assert!(parse("hpy build -p").is_err());
        assert!(parse("hpy").is_err()); // a command is needed
        let err = interpreter_of(&BuildOptions {
            python: Some("py".into()),
            ..BuildOptions::default()
        })
        .unwrap_err();
        assert!(err.contains("--abi cpython"));
    }

    #[test]
    fn stub_loads_the_module_file_next_to_it() {
        let s = stub("pof");
        assert!(s.contains(r#""pof.hpy0.so""#));
        assert!(s.contains("_load_bootstrap(\"pof\""));
        assert!(!s.contains("pkg_resources"));
    }
}
