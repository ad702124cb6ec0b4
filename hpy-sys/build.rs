//! Only with the `cpython` feature: the `Py_3_x` cfgs of the interpreter
//! `PYO3_PYTHON` names (as PyO3 sets them), and, for the tests that embed
//! it, an rpath to its libpython. Without the feature it does nothing. (The
//! `hpy_abi` cfg is declared in the workspace's lints.)

fn main() {
    #[cfg(feature = "cpython")]
    {
        pyo3_build_config::use_pyo3_cfgs();
        pyo3_build_config::add_libpython_rpath_link_args();
    }
}
