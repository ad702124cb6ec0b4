//! Coverage check: every one of the 180 context functions of HPy 0.9.0 is either
//! called by the safe layer (`hpy/src`, through its `hpy-sys` wrapper) or on
//! the documented list of exceptions below, with the reason.
//!
//! A function that is neither fails the test, by name: a user must never have
//! to drop to `hpy-sys` for something HPy can do.

use std::collections::BTreeSet;
use std::path::Path;

/// Context functions the safe layer deliberately does not call, and why.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "HPyType_GenericNew",
        "classes are made by their #[new] (or refuse instances): the generic new makes an instance without its struct, which HPy_New does too where that is wanted (the root of a class)",
    ),
    (
        "_HPy_AsStruct_Long",
        "unsound on CPython: an int keeps its digits where a Long-shaped payload goes (big ints and the payload overwrite each other); classes that extend int hold no payload",
    ),
    (
        "_HPy_AsStruct_Tuple",
        "unsound on CPython: a tuple keeps its items where a Tuple-shaped payload goes; classes that extend tuple hold no payload",
    ),
    (
        "_HPy_AsStruct_Type",
        "metaclasses (`extends = type`) are not supported: PyO3 has none either",
    ),
    (
        "HPy_SetCallFunction",
        "no sound per-instance call function exists across runtimes: PyPy 7.3.19 sets the function as the *type's* __call__ (interp_type.py), so every instance changes; a class's call is its __call__",
    ),
];

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The C API names that the safe layer's code refers to as `sys::<name>` (or
/// `hpy_sys::<name>`): calls, and paths handed to its own macros. Comments are
/// skipped, so documentation that merely mentions a function does not count.
fn called_functions() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut called = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("sys::") {
                let rest = &code[i + "sys::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    called.insert(name);
                }
            }
        }
    }
    called
}

#[test]
fn every_context_function_is_wrapped_or_excused() {
    let called = called_functions();
    let excused: BTreeSet<&str> = EXCEPTIONS.iter().map(|(n, _)| *n).collect();
    let mut wrapped = 0;
    let mut missing = Vec::new();
    for (member, c_name) in hpy::sys::HPY_CONTEXT_FUNCTIONS {
        let is_called = called.contains(c_name);
        assert!(
            !(is_called && excused.contains(c_name)),
            "{c_name} ({member}) is on the exception list but the safe layer calls it: remove it from the list"
        );
        if is_called {
            wrapped += 1;
        } else if !excused.contains(c_name) {
            missing.push(format!("{c_name} ({member})"));
        }
    }
    for (name, _) in EXCEPTIONS {
        assert!(
            hpy::sys::HPY_CONTEXT_FUNCTIONS
                .iter()
                .any(|(_, c)| c == name),
            "exception {name} is not a context function"
        );
    }
    let total = hpy::sys::HPY_CONTEXT_FUNCTIONS.len();
    println!(
        "context functions: {total}; called by the safe layer: {wrapped}; documented exceptions: {}",
        EXCEPTIONS.len()
    );
    for (name, why) in EXCEPTIONS {
        println!("  exception: {name}: {why}");
    }
    assert!(
        missing.is_empty(),
        "{} context functions are neither wrapped nor excused:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
    assert_eq!(wrapped + EXCEPTIONS.len(), total);
}
