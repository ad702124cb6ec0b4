//! The builtin types at the Python-type level: `bytes` (`bytes.rs`), `str`
//! (`unicode.rs`, and [`StrWriter`](crate::StrWriter) in `str_writer.rs`), `list`, `tuple` and `dict` (`containers.rs`), `slice`
//! (`slice.rs`), capsules (`capsule.rs`) and context variables (`contextvar.rs`).
//!
//! Constructors are methods of [`Context`](crate::Context) (`ctx.new_list()`,
//! `ctx.new_bytes(b"..")`), the rest are methods of [`Handle`](crate::Handle)
//! (`obj.is_list()`, `list.append(x)`, `s.encode_ascii()`). Conversions of whole
//! Rust collections (`Vec<T>`, maps, tuples) live with the other conversions.
//!
//! The wrappers check the type of the object before calling a context function
//! that assumes it (CPython's `PyList_Append`, `PyDict_Keys` or `PySlice_Unpack`
//! on a wrong type raise `SystemError` or read out of bounds, and PyPy's
//! behave differently again): a wrong type raises the `TypeError` that Python
//! code would get, e.g. `descriptor 'append' for 'list' objects doesn't apply to
//! a 'int' object`, the same on every runtime.

use core::ffi::c_int;

use crate::Handle;
use crate::err::{Error, Result, exc::TypeError};
pub(crate) use bytes::bytes_view;
pub use containers::DictItems;
pub(crate) use containers::exact_tuple_copy;
use hpy_sys as sys;
pub use str_writer::StrWriter;
pub use unicode::StrData;

mod bytes;
mod capsule;
mod containers;
mod contextvar;
mod slice;
mod str_writer;
mod unicode;

/// `Ok(())` for a context function's `0`, the raised exception for `-1`.
#[inline(always)]
pub(crate) fn check_status(r: c_int) -> Result<()> {
    if r < 0 { Err(Error::raised()) } else { Ok(()) }
}

/// The `TypeError` Python raises when a method of `ty` is called on another
/// type, e.g. `list.append(1, 2)`: `descriptor 'append' for 'list' objects
/// doesn't apply to a 'int' object`.
#[cold]
#[inline(never)]
pub(crate) fn descriptor_error(method: &str, ty: &str, obj: &Handle<'_>) -> Error {
    TypeError::new_err(format!(
        "descriptor '{method}' for '{ty}' objects doesn't apply to a '{}' object",
        obj.type_name()
    ))
}

/// A wrong-type error for a Python type that has no method to blame
/// (`expected bytes, got int`; as an argument: `f() argument 'x' must be bytes, not int`).
#[cold]
#[inline(never)]
pub(crate) fn wrong_type(expected: &'static str, obj: &Handle<'_>) -> Error {
    Error::wrong_type(expected, obj)
}

/// `HPy_TypeCheck(obj, ty)`: whether `obj` is an instance of the builtin type
/// `ty` (a context constant), subclasses included. Never fails.
#[inline(always)]
pub(crate) fn type_check(
    obj: &Handle<'_>,
    ty: unsafe fn(*mut sys::HPyContext) -> sys::HPy,
) -> bool {
    let ctx = obj.ctx().as_raw();
    // SAFETY: the handle is open in the live context; `ty` reads a constant of it.
    unsafe { sys::HPy_TypeCheck(ctx, obj.as_raw(), ty(ctx)) != 0 }
}

/// Whether `type(obj) is ty` for the builtin type `ty` (a context constant):
/// an exact instance, not a subclass, so none of the type's methods can be
/// overridden. Never fails.
#[inline]
pub(crate) fn exact_type(
    obj: &Handle<'_>,
    ty: unsafe fn(*mut sys::HPyContext) -> sys::HPy,
) -> bool {
    let ctx = obj.ctx();
    let raw = ctx.as_raw();
    // SAFETY: the handle is open in the live context; `HPy_Type` returns a new
    // handle (closed when `t` drops), and `ty` reads a constant of the context.
    unsafe {
        let t = Handle::from_raw(ctx, sys::HPy_Type(raw, obj.as_raw()));
        sys::HPy_Is(raw, t.as_raw(), ty(raw)) != 0
    }
}

/// Converts a Rust length or index to `HPy_ssize_t`, saturating: every value
/// above `isize::MAX` is out of range for any Python object anyway.
#[inline(always)]
pub(crate) fn ssize(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}
