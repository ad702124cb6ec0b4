//! The hybrid ABI: a handle's object as a C-API `PyObject *` and back
//! (`HPy_AsPyObject`, `HPy_FromPyObject`), for code that still speaks
//! CPython's C API next to HPy (the first step of a migration, and the
//! [`pyo3`](crate::pyo3) interop). On CPython the object is the object; on
//! PyPy it is cpyext's proxy of it. HPy's universal ABI does not promise the
//! C API to a module: a universal module that uses these needs an
//! interpreter with one (CPython, or PyPy through cpyext).

use crate::err::Result;
use crate::{Context, Handle};
use hpy_sys as sys;

impl<'ctx> Handle<'ctx> {
    /// A new reference to the object as a C-API `PyObject *`
    /// (`HPy_AsPyObject`), which the caller owns: give it back with
    /// `Py_DECREF` (or hand it to code that steals it). Never NULL for an
    /// open handle.
    #[inline]
    pub fn as_py_object(&self) -> *mut sys::cpy_PyObject {
        // SAFETY: the handle is open in the live context; the result is a new
        // reference the caller takes.
        unsafe { sys::HPy_AsPyObject(self.ctx.as_raw(), self.raw) }
    }
}

impl Context {
    /// A new handle to a C-API object (`HPy_FromPyObject`); the caller keeps
    /// its own reference. NULL raises `SystemError`.
    ///
    /// # Safety
    /// `obj` is NULL or a live `PyObject *` of this interpreter, which the
    /// caller holds a reference to for the call.
    #[inline]
    pub unsafe fn from_py_object(&self, obj: *mut sys::cpy_PyObject) -> Result<Handle<'_>> {
        if obj.is_null() {
            return Err(crate::exc::SystemError::new_err(
                "from_py_object: a NULL object",
            ));
        }
        // SAFETY: the context is live and `obj` a live object (the caller's
        // contract); the result is a new handle (or NULL with an exception).
        unsafe { Handle::from_raw_result(self, sys::HPy_FromPyObject(self.as_raw(), obj)) }
    }
}
