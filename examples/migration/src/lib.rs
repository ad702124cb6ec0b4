//! One extension module, `migration`, half PyO3 and half hpy-rs: how a
//! PyO3 extension moves to hpy-rs one function at a time, which the seed of
//! HPy describes for C ("only ujson.loads is implemented using the HPy API,
//! while ujson.dumps is still implemented using the old C-API, and both can
//! coexist nicely in the same compiled module").
//!
//! * `word_count` and `Counter` are still PyO3 (`#[pyfunction]`,
//!   `#[pyclass]`), added to the module in its `#[hpy_init]`;
//! * `mean` and `shout` have moved to hpy-rs (`#[hpy_method]`); `shout`
//!   still calls PyO3 code on its argument, and `describe` takes and returns
//!   PyO3's `Bound<PyAny>` directly.
//!
//! PyO3 speaks CPython's C API, so the module is built for CPython:
//! `cargo hpy build -p hpy-migration-example --abi cpython`
//! (`tests/python/test_migration.py`).

use hpy::hpy_module;
use pyo3::prelude::*;

/// The number of words in `text` (still PyO3).
#[pyfunction]
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// A counter (still a PyO3 class).
#[pyclass(module = "migration")]
struct Counter {
    count: u64,
}

#[pymethods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter { count: 0 }
    }

    /// Adds one; the new count.
    fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

/// A module of two halves, PyO3 and hpy-rs.
#[hpy_module]
mod migration {
    use hpy::{Context, Handle, Result, exc, hpy_init, hpy_method};
    use pyo3::prelude::*;
    use pyo3::types::PyModule;

    /// The arithmetic mean of the numbers (moved to hpy-rs).
    #[hpy_method]
    fn mean(xs: Vec<f64>) -> Result<f64> {
        if xs.is_empty() {
            return Err(exc::ValueError::new_err("mean() of an empty sequence"));
        }
        Ok(xs.iter().sum::<f64>() / xs.len() as f64)
    }

    /// `text.upper() + "!"`: an hpy-rs function that still calls PyO3 code.
    #[hpy_method]
    fn shout<'py>(ctx: &'py Context, text: &Handle<'py>) -> Result<Handle<'py>> {
        let upper = text.to_pyo3().call_method0("upper")?; // PyO3, PyErr -> Error
        let shouted = upper.add("!")?;
        Ok(Handle::from_pyo3(ctx, &shouted))
    }

    /// `type(x).__name__`: PyO3 objects in and out of an hpy-rs function.
    #[hpy_method]
    fn describe<'py>(x: Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
        Ok(x.get_type().name()?.into_any())
    }

    /// Adds the PyO3 half to the module.
    #[hpy_init]
    fn init(ctx: &Context, module: &Handle<'_>) -> Result<()> {
        let module = module.to_pyo3();
        let module = module.cast::<PyModule>().map_err(PyErr::from)?;
        module.add_function(wrap_pyfunction!(crate::word_count, module)?)?;
        module.add_class::<crate::Counter>()?;
        let _ = ctx;
        Ok(())
    }
}
