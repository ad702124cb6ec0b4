//! PyO3 interop (feature `pyo3`): one extension can hold PyO3 functions and
//! classes next to hpy-rs ones and move them over one at a time, as HPy's
//! hybrid ABI intends ("ujson_hpy ... both can coexist nicely in the same
//! compiled module").
//!
//! * [`Context::py`] is the PyO3 token of the call (the call holds the GIL).
//! * [`Handle::to_pyo3`] and [`Handle::from_pyo3`] convert objects both
//!   ways through the hybrid ABI ([`Handle::as_py_object`]): in a
//!   CPython-ABI build an incref each.
//! * `Bound<'py, PyAny>` is a parameter and return type of `#[hpy_method]`s
//!   ([`FromPy`]/[`IntoPy`]), and a [`pyo3::PyErr`] converts into an
//!   [`Error`] (`?` works on PyO3 calls).
//!
//! PyO3 calls CPython's C API itself, so an extension that uses it runs on
//! CPython: build it with `cargo hpy build --abi cpython` (the
//! `examples/migration` crate shows a module half PyO3, half hpy-rs).
//!
//! ```no_run
//! use hpy::{Context, Handle, Result};
//! use pyo3::prelude::*;
//!
//! /// An hpy-rs function that calls PyO3 code on its argument.
//! fn shout<'py>(ctx: &'py Context, text: &Handle<'py>) -> Result<Handle<'py>> {
//!     let s = text.to_pyo3().call_method0("upper")?; // PyO3
//!     Ok(Handle::from_pyo3(ctx, &s))
//! }
//! ```

use pyo3::{Bound, PyAny, PyErr, Python};

use crate::conv::{FromPy, IntoPy};
use crate::err::{Error, Result};
use crate::{Context, Handle};

impl Context {
    /// PyO3's token for this call: the thread holds the GIL while the call
    /// runs, and the token lives no longer than the context.
    #[inline]
    pub fn py(&self) -> Python<'_> {
        // SAFETY: a `Context` exists only inside a call from the interpreter,
        // which holds the GIL (an attached thread state) for the whole call;
        // the token's lifetime is the context's.
        unsafe { Python::assume_attached() }
    }
}

impl<'ctx> Handle<'ctx> {
    /// The object as a PyO3 `Bound<PyAny>` (a new reference).
    #[inline]
    pub fn to_pyo3(&self) -> Bound<'ctx, PyAny> {
        let py = self.ctx.py();
        // SAFETY: `as_py_object` returns a new, non-NULL reference to a live
        // object of this interpreter, which the `Bound` takes over.
        unsafe { Bound::from_owned_ptr(py, self.as_py_object().cast()) }
    }

    /// A new handle to a PyO3 object.
    #[inline]
    pub fn from_pyo3(ctx: &'ctx Context, obj: &Bound<'_, PyAny>) -> Handle<'ctx> {
        // SAFETY: `obj` is a live object of this interpreter, referenced by
        // the `Bound` for the call; `HPy_FromPyObject` fails only for NULL.
        unsafe { ctx.from_py_object(obj.as_ptr().cast()) }
            .expect("HPy_FromPyObject of a live object")
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for Bound<'ctx, PyAny> {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        Ok(obj.to_pyo3())
    }
}

impl<'ctx> IntoPy<'ctx> for Bound<'_, PyAny> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(Handle::from_pyo3(ctx, &self))
    }
}

impl From<PyErr> for Error {
    /// The PyO3 error, raised in the interpreter (where hpy-rs reports it).
    fn from(err: PyErr) -> Self {
        Python::attach(|py| err.restore(py));
        Error::raised()
    }
}
