//! Container fast paths beyond HPy 0.9's context, which the safe layer uses
//! in a CPython-ABI build (the universal build does the same work through
//! the context): dict entries without a key list, the items of exact lists
//! and tuples without the sequence protocol, a `str` from UTF-8 of known
//! length without a NUL-terminated copy, a `str` of known-ASCII bytes
//! without a decoder, and a store into an exact dict without the mapping
//! protocol (`HPy_SetItem` itself takes it, in this build and in the
//! runtime's context).
//!
//! Every function is memory-safe for any object and any index: sizes are
//! read from the object at each step (never from a size Python code chose
//! before), and no Python code runs inside.

use pyo3_ffi as ffi;

use super::{api, h2py, py2h};
use crate::{HPy, HPy_ssize_t};

/// Whether `h` is exactly a `dict` (not a subclass).
///
/// # Safety
/// `h` is an open handle; the GIL is held.
#[inline(always)]
pub unsafe fn is_exact_dict(h: HPy) -> bool {
    // SAFETY: forwarded.
    unsafe { ffi::PyDict_CheckExact(h2py(h)) != 0 }
}

/// The next entry of the dict `dict` from position `*pos` (start at 0), as
/// two new handles, or `None` at the end (`PyDict_Next`). Entries added or
/// removed meanwhile may or may not be seen; it never fails.
///
/// # Safety
/// `dict` is an open handle to a `dict` (or a subclass: its own entries);
/// the GIL is held.
#[inline]
pub unsafe fn dict_next(dict: HPy, pos: &mut HPy_ssize_t) -> Option<(HPy, HPy)> {
    let mut key = core::ptr::null_mut();
    let mut value = core::ptr::null_mut();
    // SAFETY: `dict` is a dict; `PyDict_Next` checks `*pos` against the
    // table's current size, and gives borrowed references, made new here.
    unsafe {
        if ffi::PyDict_Next(h2py(dict), pos, &mut key, &mut value) == 0 {
            return None;
        }
        ffi::Py_INCREF(key);
        ffi::Py_INCREF(value);
    }
    Some((py2h(key), py2h(value)))
}

/// `seq[i]` as a new handle: for an exact `list` or `tuple` its item read
/// directly (`IndexError` past its current end), for anything else the
/// sequence protocol (`PySequence_GetItem`, which may run Python code).
///
/// # Safety
/// `seq` is an open handle; the GIL is held.
#[inline]
pub unsafe fn seq_item(seq: HPy, i: HPy_ssize_t) -> HPy {
    let o = h2py(seq);
    // SAFETY: the item is read only below the object's current size.
    unsafe {
        let item = if ffi::PyList_CheckExact(o) != 0 {
            if i < 0 || i >= api::list_size(o) {
                return index_error(c"list index out of range");
            }
            api::list_get_item(o, i)
        } else if ffi::PyTuple_CheckExact(o) != 0 {
            if i < 0 || i >= api::tuple_size(o) {
                return index_error(c"tuple index out of range");
            }
            api::tuple_get_item(o, i)
        } else {
            return py2h(ffi::PySequence_GetItem(o, i));
        };
        ffi::Py_INCREF(item);
        py2h(item)
    }
}

#[cold]
unsafe fn index_error(message: &core::ffi::CStr) -> HPy {
    // SAFETY: the GIL is held (the callers' contract).
    unsafe { ffi::PyErr_SetString(ffi::PyExc_IndexError, message.as_ptr()) };
    HPy::NULL
}

/// A new `str` from `len` bytes of UTF-8 at `s` (`PyUnicode_FromStringAndSize`:
/// NUL characters included; invalid UTF-8 raises `UnicodeDecodeError`).
///
/// # Safety
/// `s` is valid for reading `len` bytes; the GIL is held.
#[inline]
pub unsafe fn unicode_from_utf8(s: *const u8, len: usize) -> HPy {
    let Ok(len) = HPy_ssize_t::try_from(len) else {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPy::NULL;
    };
    // SAFETY: forwarded.
    py2h(unsafe { ffi::PyUnicode_FromStringAndSize(s.cast(), len) })
}

/// A new `str` from `len` bytes of ASCII at `s`, copied in without the
/// decoder's scan: `PyUnicode_New` and a copy into the compact ASCII
/// object's data (in an `abi3` build, `PyUnicode_DecodeASCII`, which checks).
///
/// # Safety
/// `s` is valid for reading `len` bytes, all below 0x80; the GIL is held.
#[inline]
pub unsafe fn unicode_from_ascii(s: *const u8, len: usize) -> HPy {
    let Ok(n) = HPy_ssize_t::try_from(len) else {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPy::NULL;
    };
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `PyUnicode_New(n, 127)` makes a compact ASCII object (or
    // returns NULL with an exception set), whose `n` characters (and a NUL)
    // follow its `PyASCIIObject` header; the caller guarantees `len` ASCII
    // bytes at `s`, so the object holds a valid `str`.
    unsafe {
        let obj = ffi::PyUnicode_New(n, 127);
        if !obj.is_null() {
            let data = obj.cast::<ffi::PyASCIIObject>().add(1).cast::<u8>();
            core::ptr::copy_nonoverlapping(s, data, len);
        }
        py2h(obj)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; a NULL error handler means "strict".
    py2h(unsafe { ffi::PyUnicode_DecodeASCII(s.cast(), n, core::ptr::null()) })
}

/// `HPy_SetItem` of an exact `dict` (and a value): `PyDict_SetItem`, without
/// `PyObject_SetItem`'s trip through the mapping slot (which an exact dict
/// fills with the same call); anything else through `PyObject_SetItem`.
///
/// # Safety
/// The handles are open (`value` may be NULL: `PyObject_SetItem` then
/// raises `SystemError`); the GIL is held.
#[inline(always)]
pub unsafe fn set_item(obj: HPy, key: HPy, value: HPy) -> core::ffi::c_int {
    let (o, k, v) = (h2py(obj), h2py(key), h2py(value));
    // SAFETY: forwarded; an exact dict's `mp_ass_subscript` is
    // `PyDict_SetItem` for a non-NULL value.
    unsafe {
        if ffi::PyDict_CheckExact(o) != 0 && !v.is_null() {
            ffi::PyDict_SetItem(o, k, v)
        } else {
            ffi::PyObject_SetItem(o, k, v)
        }
    }
}
