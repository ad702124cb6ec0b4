//! `cargo hpy new NAME`: a new extension crate that `pip install .` accepts
//! at once, with a function, a class and a test.

use std::path::{Path, PathBuf};

/// The hpy-rs checkout this `cargo-hpy` was built from: the new crate's
/// `hpy` dependency and build backend come from there (the SDK is not on
/// crates.io or PyPI).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default()
}

/// Whether `name` can be a crate, a Python module and a distribution name
/// at once: an ASCII identifier.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The files of a new crate `name` whose SDK is at `sdk`.
fn files(name: &str, sdk: &Path) -> Vec<(&'static str, String)> {
    let sdk = sdk.display();
    let class = "Counter";
    vec![
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
description = "An HPy extension written in Rust with hpy-rs"

[lib]
crate-type = ["cdylib"]

[dependencies]
hpy = {{ path = "{sdk}/hpy" }}

# A workspace of its own (also when created inside another one).
[workspace]

[profile.release]
codegen-units = 1
lto = "fat"
"#
            ),
        ),
        (
            "pyproject.toml",
            r#"# `pip install .` (a CPython-ABI extension on CPython, the universal module on
# PyPy; `-C abi=universal|cpython|abi3` chooses), `pip wheel .`, and
# `pip install -e .` (then `cargo hpy develop` rebuilds). Name, version and
# summary come from Cargo.toml.
[build-system]
requires = []
build-backend = "backend"
backend-path = ["_backend"]
"#
            .to_owned(),
        ),
        (
            "_backend/backend.py",
            format!(
                r#""""The build backend: hpy-rs's own (`python/hpy_rs_build` in the hpy-rs
checkout this project was made from). With hpy-rs-build installed
(`pip install {sdk}/python`), pyproject.toml can say
`requires = ["hpy-rs-build"]` and `build-backend = "hpy_rs_build"` instead."""

import sys

sys.path.insert(0, {python:?})

from hpy_rs_build import *  # noqa: E402,F403  (the path first)
from hpy_rs_build import __all__  # noqa: E402
"#,
                python = format!("{sdk}/python"),
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! The `{name}` extension module.

use hpy::hpy_module;

/// The `{name}` module.
#[hpy_module]
mod {name} {{
    use hpy::{{hpy_class, hpy_method, hpy_methods}};

    /// Return the sum of two integers.
    #[hpy_method]
    fn add(a: i64, b: i64) -> i64 {{
        a + b
    }}

    /// A counter.
    #[hpy_class]
    struct {class} {{
        #[hpy(get)]
        value: i64,
    }}

    #[hpy_methods]
    impl {class} {{
        #[new]
        #[hpy(signature = (start = 0))]
        fn new(start: i64) -> Self {{
            {class} {{ value: start }}
        }}

        /// Add one and return the new value.
        fn increment(&mut self) -> i64 {{
            self.value += 1;
            self.value
        }}
    }}
}}
"#
            ),
        ),
        (
            "tests/test_{name}.py",
            format!(
                r#"import {name}


def test_add():
    assert {name}.add(40, 2) == 42


def test_counter():
    c = {name}.{class}(41)
    assert c.increment() == 42
    assert c.value == 42
"#
            ),
        ),
        (".gitignore", "/target\n__pycache__/\n".to_owned()),
    ]
}

/// `cargo hpy new`: creates `path` (its last component is the name).
pub(crate) fn new(path: &Path) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no name", path.display()))?;
    if !valid_name(name) {
        return Err(format!(
            "`{name}` cannot name a Python module: use letters, digits and `_`, not starting with a digit"
        ));
    }
    if path.exists() {
        return Err(format!("{} already exists", path.display()));
    }
    for (rel, content) in files(name, &checkout()) {
        let rel = rel.replace("{name}", name);
        let file = path.join(&rel);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&file, content)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    // pip takes `name` for a project on an index: a folder is `./name`.
    let shown = if path.is_relative() && path.components().count() == 1 {
        Path::new(".").join(path)
    } else {
        path.to_owned()
    };
    println!(
        "created the extension crate `{name}` in {}: `pip install {}` builds and installs it",
        path.display(),
        shown.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("my_ext") && valid_name("_x1"));
        assert!(!valid_name("1x") && !valid_name("my-ext") && !valid_name(""));
    }

    #[test]
    fn the_files_name_the_module_everywhere() {
        let files = files("demo", Path::new("/sdk"));
        let get = |n: &str| &files.iter().find(|(p, _)| *p == n).unwrap().1;
        assert!(get("Cargo.toml").contains("name = \"demo\"\n"));
        assert!(get("Cargo.toml").contains("hpy = { path = \"/sdk/hpy\" }"));
        assert!(get("src/lib.rs").contains("mod demo {"));
        assert!(get("tests/test_{name}.py").contains("import demo\n"));
        assert!(get("_backend/backend.py").contains("sys.path.insert(0, \"/sdk/python\")"));
    }
}
