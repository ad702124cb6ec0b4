//! Declares the `hpy_abi` cfg (the build tool sets `hpy_abi="cpython"` for a
//! CPython-ABI build). With the `cpython` feature also: the `Py_3_x` cfgs of
//! the interpreter `PYO3_PYTHON` names (as PyO3 sets them), and, for the
//! tests that embed it, an rpath to its libpython.

fn main() {
    // The target ABI, set by the build tool for a CPython-ABI build
    // (docs/cpython-abi.md); universal when absent.
    println!("cargo::rustc-check-cfg=cfg(hpy_abi, values(\"cpython\", \"abi3\"))");
    #[cfg(feature = "cpython")]
    {
        pyo3_build_config::use_pyo3_cfgs();
        pyo3_build_config::add_libpython_rpath_link_args();
    }
}
