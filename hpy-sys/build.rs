//! Only with the `cpython` feature or in a CPython-ABI build: the `Py_3_x`
//! cfgs of the interpreter `PYO3_PYTHON` names (as PyO3 sets them), and, for
//! the tests that embed it, an rpath to its libpython. Otherwise it does
//! nothing. (The `hpy_abi` cfg is declared in the workspace's lints.)

fn main() {
    #[cfg(any(feature = "cpython", hpy_abi = "cpython"))]
    {
        pyo3_build_config::use_pyo3_cfgs();
        pyo3_build_config::add_libpython_rpath_link_args();
    }
}
