//! The `Py_3_x` cfgs of the interpreter `PYO3_PYTHON` names, as PyO3 sets
//! them: the runtime is built once per CPython version.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
