//! HPy's context functions implemented with CPython's C API (feature
//! `cpython`), the first piece of the native CPython target
//! (`docs/cpython-abi.md`).
//!
//! Each function has exactly the signature of its context member
//! (`ctx_Dup` for `HPyContext::ctx_Dup`), so that the same code can serve
//! twice: called directly by the generated wrappers in a CPython-ABI build,
//! where a handle is the object pointer and the context is a dummy, and
//! stored in an [`HPyContext`] by a universal runtime for CPython. [`fill`]
//! does the latter for the functions implemented so far; the tests
//! (`hpy-sys/tests/cpython_impl.rs`) call them through the generated
//! wrappers in an embedded interpreter.
//!
//! CPython's declarations come from `pyo3-ffi`: none is written here.
//!
//! # Safety
//!
//! Every function has the contract of the context function it implements
//! (HPy's documentation; the wrapper of the same name in this crate): the
//! calling thread holds the GIL (an attached thread state), handles are open
//! (or `HPy_NULL` where HPy allows it), pointers are valid for what the C API
//! reads or writes through them, and strings are NUL-terminated. The
//! functions themselves say only what they add to it.
#![allow(clippy::missing_safety_doc)] // one contract for all: see "Safety" above

// The runtime pieces (the type registry, the static context) rely on the GIL
// to order their writers and readers.
#[cfg(Py_GIL_DISABLED)]
compile_error!(
    "free-threaded CPython (3.13t, 3.14t) is not supported yet: build for a CPython with the GIL"
);

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ffi::{c_char, c_int, c_void};

use pyo3_ffi as ffi;

use crate::{
    _HPyCapsule_key, HPy, HPy_SourceKind, HPy_SourceKind_Expr, HPy_SourceKind_File,
    HPy_SourceKind_Single, HPy_UCS4, HPy_hash_t, HPy_ssize_t, HPyCapsule_Destructor,
    HPyCapsule_key_Context, HPyCapsule_key_Destructor, HPyCapsule_key_Name, HPyCapsule_key_Pointer,
    HPyContext, HPyField, HPyGlobal, HPyListBuilder, HPyThreadState, HPyTracker, HPyTupleBuilder,
    cpy_PyObject, wchar_t,
};

/// The object a handle stands for: in this target a handle *is* the
/// object pointer.
#[inline(always)]
pub fn h2py(h: HPy) -> *mut ffi::PyObject {
    h._i as *mut ffi::PyObject
}

/// The handle of an object (a new handle only if the caller owns a
/// reference to give it).
#[inline(always)]
pub fn py2h(o: *mut ffi::PyObject) -> HPy {
    HPy { _i: o as isize }
}

// ---------------------------------------------------------------------------
// Handles

/// `HPy_Dup`: a new reference (`Py_XINCREF`).
pub unsafe extern "C" fn ctx_Dup(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: `h` is an open handle or HPy_NULL (the caller's contract).
    unsafe { ffi::Py_XINCREF(h2py(h)) };
    h
}

/// `HPy_Close`: drops the reference (`Py_XDECREF`; HPy_NULL is allowed).
pub unsafe extern "C" fn ctx_Close(_ctx: *mut HPyContext, h: HPy) {
    // SAFETY: `h` is an open handle or HPy_NULL, which it consumes.
    unsafe { ffi::Py_XDECREF(h2py(h)) }
}

// ---------------------------------------------------------------------------
// Numbers

/// `HPyLong_FromInt64_t`.
pub unsafe extern "C" fn ctx_Long_FromInt64_t(_ctx: *mut HPyContext, v: i64) -> HPy {
    // SAFETY: the GIL is held (module contract).
    py2h(unsafe { ffi::PyLong_FromLongLong(v) })
}

/// `HPyLong_FromUInt64_t`.
pub unsafe extern "C" fn ctx_Long_FromUInt64_t(_ctx: *mut HPyContext, v: u64) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyLong_FromUnsignedLongLong(v) })
}

/// `HPyLong_FromSsize_t`.
pub unsafe extern "C" fn ctx_Long_FromSsize_t(_ctx: *mut HPyContext, value: HPy_ssize_t) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyLong_FromSsize_t(value) })
}

/// `HPyLong_AsInt64_t`: `-1` with an exception on error. On CPython 3.9,
/// `PyLong_AsLongLong` still converts through `__int__` (a float becomes an
/// int, with a `DeprecationWarning`); HPy's contract, and CPython 3.10+,
/// take `__index__` only, so 3.9 goes through `PyNumber_Index` first.
///
/// An `int` is read with `PyLong_AsLongAndOverflow` where a C `long` holds
/// 64 bits: `PyLong_AsLongLong` converts every int beyond one 30-bit digit
/// through `_PyLong_AsByteArray` (130 instructions for a 10-digit number
/// instead of 20). Beyond `i64`, and for anything but an `int`,
/// `PyLong_AsLongLong` itself (its error, its `__index__`).
pub unsafe extern "C" fn ctx_Long_AsInt64_t(_ctx: *mut HPyContext, h: HPy) -> i64 {
    // SAFETY: `h` is open.
    match unsafe { as_index(h) } {
        // SAFETY: the object is alive while the guard is; an `int` (checked)
        // converts without Python code, so a second conversion after an
        // overflow sees the same value.
        Some(index) => unsafe {
            if size_of::<core::ffi::c_long>() == size_of::<i64>() && ffi::PyLong_Check(index.0) != 0
            {
                let mut overflow = 0;
                let v = ffi::PyLong_AsLongAndOverflow(index.0, &mut overflow);
                if overflow == 0 {
                    return v as i64;
                }
            }
            ffi::PyLong_AsLongLong(index.0)
        },
        None => -1,
    }
}

/// `HPyLong_AsUInt64_t`: `(uint64_t)-1` with an exception on error (an int
/// only, as `PyLong_AsUnsignedLongLong`).
pub unsafe extern "C" fn ctx_Long_AsUInt64_t(_ctx: *mut HPyContext, h: HPy) -> u64 {
    // SAFETY: `h` is open.
    unsafe { ffi::PyLong_AsUnsignedLongLong(h2py(h)) }
}

/// `HPyLong_AsSsize_t`: `-1` with an exception on error (an int only).
pub unsafe extern "C" fn ctx_Long_AsSsize_t(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: `h` is open.
    unsafe { ffi::PyLong_AsSsize_t(h2py(h)) }
}

/// `HPyLong_AsDouble`.
pub unsafe extern "C" fn ctx_Long_AsDouble(_ctx: *mut HPyContext, h: HPy) -> f64 {
    // SAFETY: `h` is open.
    unsafe { ffi::PyLong_AsDouble(h2py(h)) }
}

/// `HPyFloat_FromDouble`.
pub unsafe extern "C" fn ctx_Float_FromDouble(_ctx: *mut HPyContext, v: f64) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyFloat_FromDouble(v) })
}

/// `HPyFloat_AsDouble`: `-1.0` with an exception on error.
pub unsafe extern "C" fn ctx_Float_AsDouble(_ctx: *mut HPyContext, h: HPy) -> f64 {
    // SAFETY: `h` is open.
    unsafe { ffi::PyFloat_AsDouble(h2py(h)) }
}

/// `HPyBool_FromBool`.
pub unsafe extern "C" fn ctx_Bool_FromBool(_ctx: *mut HPyContext, v: bool) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyBool_FromLong(c_long_of(v)) })
}

fn c_long_of(v: bool) -> core::ffi::c_long {
    core::ffi::c_long::from(v)
}

/// `HPyNumber_Check`.
pub unsafe extern "C" fn ctx_Number_Check(_ctx: *mut HPyContext, h: HPy) -> c_int {
    // SAFETY: `h` is open.
    unsafe { ffi::PyNumber_Check(h2py(h)) }
}

macro_rules! binary {
    ($($name:ident => $py:ident;)*) => {$(
        #[doc = concat!("`HPy_", stringify!($name), "` (`", stringify!($py), "`).")]
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h1: HPy, h2: HPy) -> HPy {
            // SAFETY: both handles are open; the result is new or NULL.
            py2h(unsafe { ffi::$py(h2py(h1), h2py(h2)) })
        }
    )*};
}

binary! {
    ctx_Add => PyNumber_Add;
    ctx_Subtract => PyNumber_Subtract;
    ctx_Multiply => PyNumber_Multiply;
    ctx_MatrixMultiply => PyNumber_MatrixMultiply;
    ctx_FloorDivide => PyNumber_FloorDivide;
    ctx_TrueDivide => PyNumber_TrueDivide;
    ctx_Remainder => PyNumber_Remainder;
    ctx_Divmod => PyNumber_Divmod;
    ctx_Lshift => PyNumber_Lshift;
    ctx_Rshift => PyNumber_Rshift;
    ctx_And => PyNumber_And;
    ctx_Xor => PyNumber_Xor;
    ctx_Or => PyNumber_Or;
    ctx_InPlaceAdd => PyNumber_InPlaceAdd;
    ctx_InPlaceSubtract => PyNumber_InPlaceSubtract;
    ctx_InPlaceMultiply => PyNumber_InPlaceMultiply;
    ctx_InPlaceFloorDivide => PyNumber_InPlaceFloorDivide;
    ctx_InPlaceTrueDivide => PyNumber_InPlaceTrueDivide;
    ctx_InPlaceRemainder => PyNumber_InPlaceRemainder;
}

macro_rules! unary {
    ($($name:ident => $py:ident;)*) => {$(
        #[doc = concat!("`HPy_", stringify!($name), "` (`", stringify!($py), "`).")]
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h1: HPy) -> HPy {
            // SAFETY: the handle is open; the result is new or NULL.
            py2h(unsafe { ffi::$py(h2py(h1)) })
        }
    )*};
}

unary! {
    ctx_Negative => PyNumber_Negative;
    ctx_Positive => PyNumber_Positive;
    ctx_Absolute => PyNumber_Absolute;
    ctx_Invert => PyNumber_Invert;
    ctx_Long => PyNumber_Long;
    ctx_Float => PyNumber_Float;
    ctx_Repr => PyObject_Repr;
    ctx_Str => PyObject_Str;
    ctx_ASCII => PyObject_ASCII;
    ctx_Bytes => PyObject_Bytes;
    ctx_Type => PyObject_Type;
    ctx_Dict_Keys => PyDict_Keys;
    ctx_Dict_Copy => PyDict_Copy;
}

/// `HPy_Power` (`pow(h1, h2, h3)`).
pub unsafe extern "C" fn ctx_Power(_ctx: *mut HPyContext, h1: HPy, h2: HPy, h3: HPy) -> HPy {
    // SAFETY: the handles are open.
    py2h(unsafe { ffi::PyNumber_Power(h2py(h1), h2py(h2), h2py(h3)) })
}

// ---------------------------------------------------------------------------
// Errors

/// `HPyErr_SetString`.
pub unsafe extern "C" fn ctx_Err_SetString(
    _ctx: *mut HPyContext,
    h_type: HPy,
    utf8_message: *const c_char,
) {
    // SAFETY: `h_type` is open, the message a C string.
    unsafe { ffi::PyErr_SetString(h2py(h_type), utf8_message) }
}

/// `HPyErr_SetObject`.
pub unsafe extern "C" fn ctx_Err_SetObject(_ctx: *mut HPyContext, h_type: HPy, h_value: HPy) {
    // SAFETY: both handles are open (the value may be HPy_NULL).
    unsafe { ffi::PyErr_SetObject(h2py(h_type), h2py(h_value)) }
}

/// `HPyErr_Occurred`: 1 if an exception is set.
pub unsafe extern "C" fn ctx_Err_Occurred(_ctx: *mut HPyContext) -> c_int {
    // SAFETY: the GIL is held.
    c_int::from(!unsafe { ffi::PyErr_Occurred() }.is_null())
}

/// `HPyErr_ExceptionMatches`.
pub unsafe extern "C" fn ctx_Err_ExceptionMatches(_ctx: *mut HPyContext, exc: HPy) -> c_int {
    // SAFETY: `exc` is open.
    unsafe { ffi::PyErr_ExceptionMatches(h2py(exc)) }
}

/// `HPyErr_NoMemory`.
pub unsafe extern "C" fn ctx_Err_NoMemory(_ctx: *mut HPyContext) {
    // SAFETY: the GIL is held; the result is always NULL.
    unsafe { ffi::PyErr_NoMemory() };
}

/// `HPyErr_Clear`.
pub unsafe extern "C" fn ctx_Err_Clear(_ctx: *mut HPyContext) {
    // SAFETY: the GIL is held.
    unsafe { ffi::PyErr_Clear() }
}

// ---------------------------------------------------------------------------
// Objects

/// `HPy_IsTrue`.
pub unsafe extern "C" fn ctx_IsTrue(_ctx: *mut HPyContext, h: HPy) -> c_int {
    // SAFETY: `h` is open.
    unsafe { ffi::PyObject_IsTrue(h2py(h)) }
}

/// `HPy_TypeCheck`: whether `obj` is an instance of `type_` or a subtype.
pub unsafe extern "C" fn ctx_TypeCheck(_ctx: *mut HPyContext, obj: HPy, type_: HPy) -> c_int {
    // SAFETY: both handles are open; `type_` is a type (HPy's contract).
    unsafe { ffi::PyObject_TypeCheck(h2py(obj), h2py(type_).cast()) }
}

/// `HPy_Is`.
pub unsafe extern "C" fn ctx_Is(_ctx: *mut HPyContext, obj: HPy, other: HPy) -> c_int {
    c_int::from(obj._i == other._i)
}

/// `HPy_Length`: `-1` with an exception on error. An exact `list` or
/// `tuple` (whose length slot reads the size and nothing else, and cannot be
/// overridden) gives its size at once, without `PyObject_Length`'s two calls
/// through the type's slots: the length of every container a walk over a
/// document opens.
#[inline]
pub unsafe extern "C" fn ctx_Length(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    let o = h2py(h);
    // SAFETY: `h` is open; the size is read only after the exact type check.
    unsafe {
        if ffi::PyList_CheckExact(o) != 0 {
            api::list_size(o)
        } else if ffi::PyTuple_CheckExact(o) != 0 {
            api::tuple_size(o)
        } else {
            ffi::PyObject_Length(o)
        }
    }
}

/// `HPy_GetAttr`.
pub unsafe extern "C" fn ctx_GetAttr(_ctx: *mut HPyContext, obj: HPy, name: HPy) -> HPy {
    // SAFETY: both handles are open.
    py2h(unsafe { ffi::PyObject_GetAttr(h2py(obj), h2py(name)) })
}

/// `HPy_GetAttr_s`.
pub unsafe extern "C" fn ctx_GetAttr_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_name: *const c_char,
) -> HPy {
    // SAFETY: `obj` is open, the name a C string.
    py2h(unsafe { ffi::PyObject_GetAttrString(h2py(obj), utf8_name) })
}

/// `HPy_HasAttr`: 0 also when looking the attribute up raises (the error is
/// cleared, as HPy documents).
pub unsafe extern "C" fn ctx_HasAttr(_ctx: *mut HPyContext, obj: HPy, name: HPy) -> c_int {
    // SAFETY: both handles are open. An error (from `__getattr__`) means
    // "no" and is cleared, as in HPy (see `api::has_attr`).
    unsafe { api::has_attr(h2py(obj), h2py(name)) }
}

/// `HPy_Index`: `operator.index(h)`, always an exact `int` (as on CPython
/// 3.10+; 3.9's `PyNumber_Index` returns an int subclass, `True`, as it is).
pub unsafe extern "C" fn ctx_Index(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: `h` is open; the result is new or NULL.
    let index = unsafe { ffi::PyNumber_Index(h2py(h)) };
    #[cfg(not(Py_3_10))]
    // SAFETY: `index` is an int; `int`'s own `nb_positive` copies an int
    // subclass's value into an exact int (its `__pos__` override, if any,
    // is not called).
    unsafe {
        if !index.is_null() && ffi::PyLong_CheckExact(index) == 0 {
            let number = (*core::ptr::addr_of!(ffi::PyLong_Type)).tp_as_number;
            if let Some(pos) = (*number).nb_positive {
                let exact = pos(index);
                ffi::Py_DECREF(index);
                return py2h(exact);
            }
        }
    }
    py2h(index)
}

/// `HPy_SetAttr`: `-1` with an exception on error; HPy_NULL deletes.
pub unsafe extern "C" fn ctx_SetAttr(
    _ctx: *mut HPyContext,
    obj: HPy,
    name: HPy,
    value: HPy,
) -> c_int {
    // SAFETY: the handles are open (the value may be HPy_NULL).
    unsafe { ffi::PyObject_SetAttr(h2py(obj), h2py(name), h2py(value)) }
}

/// `HPy_GetItem`.
pub unsafe extern "C" fn ctx_GetItem(_ctx: *mut HPyContext, obj: HPy, key: HPy) -> HPy {
    // SAFETY: both handles are open.
    py2h(unsafe { ffi::PyObject_GetItem(h2py(obj), h2py(key)) })
}

/// `HPy_GetItem_i`: through an int key, as HPy's CPython runtime does (so
/// that mappings see the index too).
pub unsafe extern "C" fn ctx_GetItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t) -> HPy {
    // SAFETY: `obj` is open; the key is a new reference, dropped here.
    unsafe {
        let key = ffi::PyLong_FromSsize_t(idx);
        if key.is_null() {
            return HPy::NULL;
        }
        let item = ffi::PyObject_GetItem(h2py(obj), key);
        ffi::Py_DECREF(key);
        py2h(item)
    }
}

/// `HPy_SetItem`.
pub unsafe extern "C" fn ctx_SetItem(
    _ctx: *mut HPyContext,
    obj: HPy,
    key: HPy,
    value: HPy,
) -> c_int {
    // SAFETY: the handles are open.
    unsafe { fast::set_item(obj, key, value) }
}

/// `HPy_Contains`.
pub unsafe extern "C" fn ctx_Contains(_ctx: *mut HPyContext, container: HPy, key: HPy) -> c_int {
    // SAFETY: both handles are open.
    unsafe { ffi::PySequence_Contains(h2py(container), h2py(key)) }
}

/// `HPy_Hash`: `-1` with an exception on error.
pub unsafe extern "C" fn ctx_Hash(_ctx: *mut HPyContext, obj: HPy) -> HPy_hash_t {
    // SAFETY: `obj` is open.
    unsafe { ffi::PyObject_Hash(h2py(obj)) }
}

/// `HPy_RichCompare`.
pub unsafe extern "C" fn ctx_RichCompare(_ctx: *mut HPyContext, v: HPy, w: HPy, op: c_int) -> HPy {
    // SAFETY: both handles are open; CPython checks `op`.
    py2h(unsafe { ffi::PyObject_RichCompare(h2py(v), h2py(w), op) })
}

/// `HPy_RichCompareBool`.
pub unsafe extern "C" fn ctx_RichCompareBool(
    _ctx: *mut HPyContext,
    v: HPy,
    w: HPy,
    op: c_int,
) -> c_int {
    // SAFETY: both handles are open.
    unsafe { ffi::PyObject_RichCompareBool(h2py(v), h2py(w), op) }
}

// ---------------------------------------------------------------------------
// bytes, str

macro_rules! check {
    ($($name:ident => $py:ident;)*) => {$(
        #[doc = concat!("`", stringify!($py), "` for `", stringify!($name), "`.")]
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h: HPy) -> c_int {
            // SAFETY: the handle is open.
            unsafe { ffi::$py(h2py(h)) }
        }
    )*};
}

check! {
    ctx_Bytes_Check => PyBytes_Check;
    ctx_Unicode_Check => PyUnicode_Check;
    ctx_List_Check => PyList_Check;
    ctx_Dict_Check => PyDict_Check;
    ctx_Tuple_Check => PyTuple_Check;
}

/// `HPyBytes_Size`.
pub unsafe extern "C" fn ctx_Bytes_Size(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: `h` is open.
    unsafe { ffi::PyBytes_Size(h2py(h)) }
}

/// `HPyBytes_AsString`.
pub unsafe extern "C" fn ctx_Bytes_AsString(_ctx: *mut HPyContext, h: HPy) -> *const c_char {
    // SAFETY: `h` is open.
    unsafe { ffi::PyBytes_AsString(h2py(h)) }
}

/// `HPyBytes_FromStringAndSize`: `ValueError` for a NULL pointer, as in HPy.
pub unsafe extern "C" fn ctx_Bytes_FromStringAndSize(
    _ctx: *mut HPyContext,
    bytes: *const c_char,
    len: HPy_ssize_t,
) -> HPy {
    if bytes.is_null() {
        // CPython's NULL gives a bytes object to fill afterwards; an HPy
        // bytes object cannot be written to, so HPy refuses it (ctx_bytes.c).
        // SAFETY: the GIL is held.
        unsafe {
            ffi::PyErr_SetString(
                ffi::PyExc_ValueError,
                c"NULL char * passed to HPyBytes_FromStringAndSize".as_ptr(),
            )
        };
        return HPy::NULL;
    }
    // SAFETY: `bytes` points to `len` bytes.
    py2h(unsafe { ffi::PyBytes_FromStringAndSize(bytes, len) })
}

/// `HPyUnicode_FromString`.
pub unsafe extern "C" fn ctx_Unicode_FromString(_ctx: *mut HPyContext, utf8: *const c_char) -> HPy {
    // SAFETY: `utf8` is a C string.
    py2h(unsafe { ffi::PyUnicode_FromString(utf8) })
}

/// `HPyUnicode_AsUTF8AndSize`. A compact ASCII `str` (what CPython makes
/// of ASCII text) is its own UTF-8: its data and length are read inline,
/// as `PyUnicode_AsUTF8AndSize` would return them, without the call.
/// (Up to 3.13; pyo3-ffi leaves the 3.14 layout of the state bits out, so a
/// 3.14 build, like an `abi3` one, always calls.)
#[inline]
pub unsafe extern "C" fn ctx_Unicode_AsUTF8AndSize(
    _ctx: *mut HPyContext,
    h: HPy,
    size: *mut HPy_ssize_t,
) -> *const c_char {
    let o = h2py(h);
    #[cfg(not(any(Py_LIMITED_API, Py_3_14)))]
    // SAFETY: `h` is open; the state bits are read only from a `str`; a
    // compact ASCII object's characters (NUL-terminated) follow its
    // `PyASCIIObject` header, `length` bytes; `size` is writable or NULL.
    unsafe {
        if ffi::PyUnicode_Check(o) != 0 && ffi::PyUnicode_IS_COMPACT_ASCII(o) != 0 {
            if !size.is_null() {
                *size = ffi::PyUnicode_GET_LENGTH(o);
            }
            return o.cast::<ffi::PyASCIIObject>().add(1).cast();
        }
    }
    // SAFETY: `h` is open; `size` is writable or NULL.
    unsafe { ffi::PyUnicode_AsUTF8AndSize(o, size) }
}

// ---------------------------------------------------------------------------
// list, dict, tuple

/// `HPyList_New`.
pub unsafe extern "C" fn ctx_List_New(_ctx: *mut HPyContext, len: HPy_ssize_t) -> HPy {
    // SAFETY: the GIL is held; CPython checks `len`.
    py2h(unsafe { ffi::PyList_New(len) })
}

/// `HPyList_Append`.
pub unsafe extern "C" fn ctx_List_Append(_ctx: *mut HPyContext, h_list: HPy, h_item: HPy) -> c_int {
    // SAFETY: both handles are open.
    unsafe { ffi::PyList_Append(h2py(h_list), h2py(h_item)) }
}

/// `HPyDict_New`.
pub unsafe extern "C" fn ctx_Dict_New(_ctx: *mut HPyContext) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyDict_New() })
}

/// `HPyTuple_FromArray`: a tuple of new references to the items.
pub unsafe extern "C" fn ctx_Tuple_FromArray(
    _ctx: *mut HPyContext,
    items: *mut HPy,
    n: HPy_ssize_t,
) -> HPy {
    // SAFETY: `items` holds `n` open handles (the caller's contract); the
    // tuple is new and its slots are filled before anyone sees it.
    unsafe {
        let tuple = ffi::PyTuple_New(n);
        if tuple.is_null() {
            return HPy::NULL;
        }
        for i in 0..n.max(0) {
            let item = h2py(*items.offset(i));
            ffi::Py_INCREF(item);
            api::tuple_set_item(tuple, i, item);
        }
        py2h(tuple)
    }
}

/// `HPy_CallTupleDict`: `callable(*args, **kw)`; `args` and `kw` may be
/// HPy_NULL. A non-tuple `args` or non-dict `kw` raises `TypeError`, as in
/// HPy's runtime.
pub unsafe extern "C" fn ctx_CallTupleDict(
    _ctx: *mut HPyContext,
    callable: HPy,
    args: HPy,
    kw: HPy,
) -> HPy {
    // SAFETY: the handles are open (or NULL where allowed).
    unsafe {
        let (args, kw) = (h2py(args), h2py(kw));
        if !args.is_null() && ffi::PyTuple_Check(args) == 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"HPy_CallTupleDict requires args to be a tuple or null handle".as_ptr(),
            );
            return HPy::NULL;
        }
        if !kw.is_null() && ffi::PyDict_Check(kw) == 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"HPy_CallTupleDict requires kw to be a dict or null handle".as_ptr(),
            );
            return HPy::NULL;
        }
        if args.is_null() {
            let empty = ffi::PyTuple_New(0);
            if empty.is_null() {
                return HPy::NULL;
            }
            let result = ffi::PyObject_Call(h2py(callable), empty, kw);
            ffi::Py_DECREF(empty);
            return py2h(result);
        }
        py2h(ffi::PyObject_Call(h2py(callable), args, kw))
    }
}

// ---------------------------------------------------------------------------
// More numbers

/// The object to convert as an integer: `h` itself on CPython 3.10+, whose
/// integer conversions take `__index__` only; on 3.9 (which still takes
/// `__int__`, so a float would convert) the result of `PyNumber_Index`.
/// `None` with an exception set on error; the caller drops the `Some`.
#[inline(always)]
unsafe fn as_index(h: HPy) -> Option<Index> {
    #[cfg(not(Py_3_10))]
    // SAFETY: `h` is open; the index is a new reference the guard drops.
    unsafe {
        let index = ffi::PyNumber_Index(h2py(h));
        if index.is_null() {
            None
        } else {
            Some(Index(index, true))
        }
    }
    #[cfg(Py_3_10)]
    {
        Some(Index(h2py(h), false))
    }
}

/// An object to convert as an integer, and whether it is a reference to drop.
struct Index(*mut ffi::PyObject, bool);

impl Drop for Index {
    fn drop(&mut self) {
        if self.1 {
            // SAFETY: a new reference from `PyNumber_Index`, the GIL held.
            unsafe { ffi::Py_DECREF(self.0) }
        }
    }
}

/// `HPyLong_FromInt32_t`.
pub unsafe extern "C" fn ctx_Long_FromInt32_t(_ctx: *mut HPyContext, value: i32) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyLong_FromLongLong(i64::from(value)) })
}

/// `HPyLong_FromUInt32_t`.
pub unsafe extern "C" fn ctx_Long_FromUInt32_t(_ctx: *mut HPyContext, value: u32) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyLong_FromUnsignedLongLong(u64::from(value)) })
}

/// `HPyLong_FromSize_t`.
pub unsafe extern "C" fn ctx_Long_FromSize_t(_ctx: *mut HPyContext, value: usize) -> HPy {
    // SAFETY: the GIL is held.
    py2h(unsafe { ffi::PyLong_FromSize_t(value) })
}

#[cold]
unsafe fn overflow(message: &core::ffi::CStr) {
    // SAFETY: the GIL is held.
    unsafe { ffi::PyErr_SetString(ffi::PyExc_OverflowError, message.as_ptr()) }
}

/// `HPyLong_AsInt32_t`: `OverflowError` beyond `int32_t` (never a silent
/// truncation).
pub unsafe extern "C" fn ctx_Long_AsInt32_t(ctx: *mut HPyContext, h: HPy) -> i32 {
    // SAFETY: forwarded.
    let v = unsafe { ctx_Long_AsInt64_t(ctx, h) };
    match i32::try_from(v) {
        Ok(v) => v,
        Err(_) => {
            // SAFETY: the GIL is held.
            unsafe { overflow(c"Python int too large to convert to C int32_t") };
            -1
        }
    }
}

/// `HPyLong_AsUInt32_t`: `OverflowError` beyond `uint32_t` (an int only).
pub unsafe extern "C" fn ctx_Long_AsUInt32_t(ctx: *mut HPyContext, h: HPy) -> u32 {
    // SAFETY: forwarded.
    let v = unsafe { ctx_Long_AsUInt64_t(ctx, h) };
    if v == u64::MAX {
        // SAFETY: the GIL is held.
        if unsafe { !ffi::PyErr_Occurred().is_null() } {
            return u32::MAX;
        }
    }
    match u32::try_from(v) {
        Ok(v) => v,
        Err(_) => {
            // SAFETY: the GIL is held.
            unsafe { overflow(c"Python int too large to convert to C uint32_t") };
            u32::MAX
        }
    }
}

/// `HPyLong_AsUInt64_tMask`: the value modulo 2**64 (`__index__`).
pub unsafe extern "C" fn ctx_Long_AsUInt64_tMask(_ctx: *mut HPyContext, h: HPy) -> u64 {
    // SAFETY: `h` is open.
    match unsafe { as_index(h) } {
        // SAFETY: the object is alive while the guard is.
        Some(index) => unsafe { ffi::PyLong_AsUnsignedLongLongMask(index.0) },
        None => u64::MAX,
    }
}

/// `HPyLong_AsUInt32_tMask`: the value modulo 2**32 (`__index__`).
pub unsafe extern "C" fn ctx_Long_AsUInt32_tMask(ctx: *mut HPyContext, h: HPy) -> u32 {
    // SAFETY: forwarded; truncating is the point of a mask.
    unsafe { ctx_Long_AsUInt64_tMask(ctx, h) as u32 }
}

/// `HPyLong_AsSize_t`: an int only, `OverflowError` for a negative one.
pub unsafe extern "C" fn ctx_Long_AsSize_t(_ctx: *mut HPyContext, h: HPy) -> usize {
    // SAFETY: `h` is open.
    unsafe { ffi::PyLong_AsSize_t(h2py(h)) }
}

binary! {
    ctx_InPlaceLshift => PyNumber_InPlaceLshift;
    ctx_InPlaceRshift => PyNumber_InPlaceRshift;
    ctx_InPlaceAnd => PyNumber_InPlaceAnd;
    ctx_InPlaceXor => PyNumber_InPlaceXor;
    ctx_InPlaceOr => PyNumber_InPlaceOr;
    ctx_InPlaceMatrixMultiply => PyNumber_InPlaceMatrixMultiply;
}

/// `HPy_InPlacePower`.
pub unsafe extern "C" fn ctx_InPlacePower(_ctx: *mut HPyContext, h1: HPy, h2: HPy, h3: HPy) -> HPy {
    // SAFETY: the handles are open.
    py2h(unsafe { ffi::PyNumber_InPlacePower(h2py(h1), h2py(h2), h2py(h3)) })
}

// ---------------------------------------------------------------------------
// Attributes and items by name or index

/// `HPy_HasAttr_s`.
pub unsafe extern "C" fn ctx_HasAttr_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_name: *const c_char,
) -> c_int {
    // SAFETY: `obj` is open, the name a C string. Errors as in `ctx_HasAttr`.
    unsafe { api::has_attr_string(h2py(obj), utf8_name) }
}

/// `HPy_SetAttr_s`.
pub unsafe extern "C" fn ctx_SetAttr_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_name: *const c_char,
    value: HPy,
) -> c_int {
    // SAFETY: the handles are open, the name a C string.
    unsafe { ffi::PyObject_SetAttrString(h2py(obj), utf8_name, h2py(value)) }
}

/// Calls `f` with a new key object (dropped after), or fails with the
/// exception of making it.
unsafe fn with_key<R>(
    key: *mut ffi::PyObject,
    error: R,
    f: impl FnOnce(*mut ffi::PyObject) -> R,
) -> R {
    if key.is_null() {
        return error;
    }
    let r = f(key);
    // SAFETY: a new reference, the GIL held.
    unsafe { ffi::Py_DECREF(key) };
    r
}

/// `HPy_GetItem_s`: a `str` key.
pub unsafe extern "C" fn ctx_GetItem_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_key: *const c_char,
) -> HPy {
    // SAFETY: `obj` is open, the key a C string.
    unsafe {
        with_key(ffi::PyUnicode_FromString(utf8_key), HPy::NULL, |k| {
            py2h(ffi::PyObject_GetItem(h2py(obj), k))
        })
    }
}

/// `HPy_SetItem_i`: an int key.
pub unsafe extern "C" fn ctx_SetItem_i(
    _ctx: *mut HPyContext,
    obj: HPy,
    idx: HPy_ssize_t,
    value: HPy,
) -> c_int {
    // SAFETY: the handles are open.
    unsafe {
        with_key(ffi::PyLong_FromSsize_t(idx), -1, |k| {
            ffi::PyObject_SetItem(h2py(obj), k, h2py(value))
        })
    }
}

/// `HPy_SetItem_s`: a `str` key.
pub unsafe extern "C" fn ctx_SetItem_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_key: *const c_char,
    value: HPy,
) -> c_int {
    // SAFETY: the handles are open, the key a C string.
    unsafe {
        with_key(ffi::PyUnicode_FromString(utf8_key), -1, |k| {
            ffi::PyObject_SetItem(h2py(obj), k, h2py(value))
        })
    }
}

/// `HPy_DelItem`.
pub unsafe extern "C" fn ctx_DelItem(_ctx: *mut HPyContext, obj: HPy, key: HPy) -> c_int {
    // SAFETY: both handles are open.
    unsafe { ffi::PyObject_DelItem(h2py(obj), h2py(key)) }
}

/// `HPy_DelItem_i`.
pub unsafe extern "C" fn ctx_DelItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t) -> c_int {
    // SAFETY: `obj` is open.
    unsafe {
        with_key(ffi::PyLong_FromSsize_t(idx), -1, |k| {
            ffi::PyObject_DelItem(h2py(obj), k)
        })
    }
}

/// `HPy_DelItem_s`.
pub unsafe extern "C" fn ctx_DelItem_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_key: *const c_char,
) -> c_int {
    // SAFETY: `obj` is open, the key a C string.
    unsafe {
        with_key(ffi::PyUnicode_FromString(utf8_key), -1, |k| {
            ffi::PyObject_DelItem(h2py(obj), k)
        })
    }
}

// ---------------------------------------------------------------------------
// More bytes and str

/// `HPyBytes_GET_SIZE` (checked here: the same answer for a `bytes`).
pub unsafe extern "C" fn ctx_Bytes_GET_SIZE(ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: forwarded.
    unsafe { ctx_Bytes_Size(ctx, h) }
}

/// `HPyBytes_AS_STRING` (checked here: the same answer for a `bytes`).
pub unsafe extern "C" fn ctx_Bytes_AS_STRING(ctx: *mut HPyContext, h: HPy) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { ctx_Bytes_AsString(ctx, h) }
}

/// `HPyBytes_FromString`.
pub unsafe extern "C" fn ctx_Bytes_FromString(_ctx: *mut HPyContext, bytes: *const c_char) -> HPy {
    // SAFETY: `bytes` is a C string.
    py2h(unsafe { ffi::PyBytes_FromString(bytes) })
}

unary! {
    ctx_Unicode_AsASCIIString => PyUnicode_AsASCIIString;
    ctx_Unicode_AsLatin1String => PyUnicode_AsLatin1String;
    ctx_Unicode_AsUTF8String => PyUnicode_AsUTF8String;
    ctx_Unicode_EncodeFSDefault => PyUnicode_EncodeFSDefault;
}

/// `HPyUnicode_ReadChar`: `(HPy_UCS4)-1` with an exception on error.
pub unsafe extern "C" fn ctx_Unicode_ReadChar(
    _ctx: *mut HPyContext,
    h: HPy,
    index: HPy_ssize_t,
) -> HPy_UCS4 {
    // SAFETY: `h` is open; CPython checks the type and the index.
    unsafe { ffi::PyUnicode_ReadChar(h2py(h), index) }
}

/// `HPyUnicode_DecodeASCII`.
pub unsafe extern "C" fn ctx_Unicode_DecodeASCII(
    _ctx: *mut HPyContext,
    ascii: *const c_char,
    size: HPy_ssize_t,
    errors: *const c_char,
) -> HPy {
    // SAFETY: `ascii` points to `size` bytes; `errors` is a C string or NULL.
    py2h(unsafe { ffi::PyUnicode_DecodeASCII(ascii, size, errors) })
}

/// `HPyUnicode_DecodeLatin1`.
pub unsafe extern "C" fn ctx_Unicode_DecodeLatin1(
    _ctx: *mut HPyContext,
    latin1: *const c_char,
    size: HPy_ssize_t,
    errors: *const c_char,
) -> HPy {
    // SAFETY: `latin1` points to `size` bytes; `errors` is a C string or NULL.
    py2h(unsafe { ffi::PyUnicode_DecodeLatin1(latin1, size, errors) })
}

/// `HPyUnicode_DecodeFSDefault`.
pub unsafe extern "C" fn ctx_Unicode_DecodeFSDefault(
    _ctx: *mut HPyContext,
    v: *const c_char,
) -> HPy {
    // SAFETY: `v` is a C string.
    py2h(unsafe { ffi::PyUnicode_DecodeFSDefault(v) })
}

/// `HPyUnicode_DecodeFSDefaultAndSize`.
pub unsafe extern "C" fn ctx_Unicode_DecodeFSDefaultAndSize(
    _ctx: *mut HPyContext,
    v: *const c_char,
    size: HPy_ssize_t,
) -> HPy {
    // SAFETY: `v` points to `size` bytes.
    py2h(unsafe { ffi::PyUnicode_DecodeFSDefaultAndSize(v, size) })
}

/// `HPyUnicode_Substring`.
pub unsafe extern "C" fn ctx_Unicode_Substring(
    _ctx: *mut HPyContext,
    str: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
) -> HPy {
    // SAFETY: `str` is open; CPython checks the type and the bounds.
    py2h(unsafe { ffi::PyUnicode_Substring(h2py(str), start, end) })
}

// ---------------------------------------------------------------------------
// Modules, slices, warnings

/// `HPyImport_ImportModule`.
pub unsafe extern "C" fn ctx_Import_ImportModule(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
) -> HPy {
    // SAFETY: the name is a C string.
    py2h(unsafe { ffi::PyImport_ImportModule(utf8_name) })
}

/// `HPySlice_Unpack`.
pub unsafe extern "C" fn ctx_Slice_Unpack(
    _ctx: *mut HPyContext,
    slice: HPy,
    start: *mut HPy_ssize_t,
    stop: *mut HPy_ssize_t,
    step: *mut HPy_ssize_t,
) -> c_int {
    // SAFETY: `slice` is an open slice (HPy's contract); the pointers are writable.
    unsafe { ffi::PySlice_Unpack(h2py(slice), start, stop, step) }
}

/// `HPyErr_WarnEx`.
pub unsafe extern "C" fn ctx_Err_WarnEx(
    _ctx: *mut HPyContext,
    category: HPy,
    utf8_message: *const c_char,
    stack_level: HPy_ssize_t,
) -> c_int {
    // SAFETY: `category` is open (or NULL: RuntimeWarning), the message a C string.
    unsafe { ffi::PyErr_WarnEx(h2py(category), utf8_message, stack_level) }
}

// ---------------------------------------------------------------------------
// Checks, raw pointers, the hybrid ABI

/// `HPyCallable_Check`.
pub unsafe extern "C" fn ctx_Callable_Check(_ctx: *mut HPyContext, h: HPy) -> c_int {
    // SAFETY: `h` is open.
    unsafe { ffi::PyCallable_Check(h2py(h)) }
}

/// `HPyLong_AsVoidPtr`.
pub unsafe extern "C" fn ctx_Long_AsVoidPtr(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    // SAFETY: `h` is open.
    unsafe { ffi::PyLong_AsVoidPtr(h2py(h)) }
}

/// `HPy_FromPyObject`: a new handle to `obj` (here the same pointer).
pub unsafe extern "C" fn ctx_FromPyObject(_ctx: *mut HPyContext, obj: *mut cpy_PyObject) -> HPy {
    let obj = obj.cast::<ffi::PyObject>();
    // SAFETY: `obj` is a live object or NULL.
    unsafe { ffi::Py_XINCREF(obj) };
    py2h(obj)
}

/// `HPy_AsPyObject`: a new reference to the object of `h`.
pub unsafe extern "C" fn ctx_AsPyObject(_ctx: *mut HPyContext, h: HPy) -> *mut cpy_PyObject {
    // SAFETY: `h` is open or HPy_NULL.
    unsafe { ffi::Py_XINCREF(h2py(h)) };
    h2py(h).cast()
}

// ---------------------------------------------------------------------------
// More errors

/// `HPy_FatalError`: prints `message` and aborts the process.
pub unsafe extern "C" fn ctx_FatalError(_ctx: *mut HPyContext, message: *const c_char) {
    // SAFETY: `message` is a C string.
    unsafe { ffi::Py_FatalError(message) }
}

/// `HPyErr_SetFromErrnoWithFilename`: always HPy_NULL, with the `OSError`
/// (subclass) of `errno` set.
pub unsafe extern "C" fn ctx_Err_SetFromErrnoWithFilename(
    _ctx: *mut HPyContext,
    h_type: HPy,
    filename_fsencoded: *const c_char,
) -> HPy {
    // SAFETY: `h_type` is open; the file name a C string or NULL.
    py2h(unsafe { ffi::PyErr_SetFromErrnoWithFilename(h2py(h_type), filename_fsencoded) })
}

/// `HPyErr_SetFromErrnoWithFilenameObjects`.
pub unsafe extern "C" fn ctx_Err_SetFromErrnoWithFilenameObjects(
    _ctx: *mut HPyContext,
    h_type: HPy,
    filename1: HPy,
    filename2: HPy,
) {
    // SAFETY: the handles are open (the file names may be HPy_NULL).
    unsafe {
        ffi::PyErr_SetFromErrnoWithFilenameObjects(h2py(h_type), h2py(filename1), h2py(filename2));
    }
}

/// `HPyErr_NewException`: a new exception class `module.Name`.
pub unsafe extern "C" fn ctx_Err_NewException(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
    base: HPy,
    dict: HPy,
) -> HPy {
    // SAFETY: the name is a C string; `base` and `dict` open or HPy_NULL.
    py2h(unsafe { ffi::PyErr_NewException(utf8_name, h2py(base), h2py(dict)) })
}

/// `HPyErr_NewExceptionWithDoc`.
pub unsafe extern "C" fn ctx_Err_NewExceptionWithDoc(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
    utf8_doc: *const c_char,
    base: HPy,
    dict: HPy,
) -> HPy {
    // SAFETY: as for `ctx_Err_NewException`; the doc a C string or NULL.
    py2h(unsafe { ffi::PyErr_NewExceptionWithDoc(utf8_name, utf8_doc, h2py(base), h2py(dict)) })
}

/// `HPyErr_WriteUnraisable`: reports the exception set (and clears it).
pub unsafe extern "C" fn ctx_Err_WriteUnraisable(_ctx: *mut HPyContext, obj: HPy) {
    // SAFETY: `obj` is open or HPy_NULL.
    unsafe { ffi::PyErr_WriteUnraisable(h2py(obj)) }
}

/// `HPyUnicode_FromWideChar`.
pub unsafe extern "C" fn ctx_Unicode_FromWideChar(
    _ctx: *mut HPyContext,
    w: *const wchar_t,
    size: HPy_ssize_t,
) -> HPy {
    // SAFETY: `w` points to `size` wide characters (or a NUL-terminated
    // string with size -1).
    py2h(unsafe { ffi::PyUnicode_FromWideChar(w.cast(), size) })
}

/// `HPyUnicode_FromEncodedObject`.
pub unsafe extern "C" fn ctx_Unicode_FromEncodedObject(
    _ctx: *mut HPyContext,
    obj: HPy,
    encoding: *const c_char,
    errors: *const c_char,
) -> HPy {
    // SAFETY: `obj` is open; the names are C strings or NULL.
    py2h(unsafe { ffi::PyUnicode_FromEncodedObject(h2py(obj), encoding, errors) })
}

// ---------------------------------------------------------------------------
// Builders and trackers

/// `HPyListBuilder_New`: the list itself (NULL, with `MemoryError`, if it
/// cannot be made).
pub unsafe extern "C" fn ctx_ListBuilder_New(
    _ctx: *mut HPyContext,
    size: HPy_ssize_t,
) -> HPyListBuilder {
    // SAFETY: the GIL is held; CPython checks `size`.
    let list = unsafe { ffi::PyList_New(size) };
    HPyListBuilder {
        _lst: list as isize,
    }
}

/// `HPyListBuilder_Set`: a new reference to `h_item` at `index` (< size).
pub unsafe extern "C" fn ctx_ListBuilder_Set(
    _ctx: *mut HPyContext,
    builder: HPyListBuilder,
    index: HPy_ssize_t,
    h_item: HPy,
) {
    let list = builder._lst as *mut ffi::PyObject;
    if list.is_null() {
        return; // the builder failed: Build reports it
    }
    // SAFETY: `index` is below the size given to New (the caller's
    // contract); the slot gets its own reference.
    unsafe {
        ffi::Py_INCREF(h2py(h_item));
        api::list_set_item(list, index, h2py(h_item));
    }
}

/// `HPyListBuilder_Build`: the list (HPy_NULL if New failed).
pub unsafe extern "C" fn ctx_ListBuilder_Build(
    _ctx: *mut HPyContext,
    builder: HPyListBuilder,
) -> HPy {
    HPy { _i: builder._lst }
}

/// `HPyListBuilder_Cancel`.
pub unsafe extern "C" fn ctx_ListBuilder_Cancel(_ctx: *mut HPyContext, builder: HPyListBuilder) {
    // SAFETY: the list (or NULL) is the builder's to drop.
    unsafe { ffi::Py_XDECREF(builder._lst as *mut ffi::PyObject) }
}

/// `HPyTupleBuilder_New`: the tuple itself (NULL, with an exception, if it
/// cannot be made).
pub unsafe extern "C" fn ctx_TupleBuilder_New(
    _ctx: *mut HPyContext,
    size: HPy_ssize_t,
) -> HPyTupleBuilder {
    // SAFETY: the GIL is held; CPython checks `size`.
    let tuple = unsafe { ffi::PyTuple_New(size) };
    HPyTupleBuilder {
        _tup: tuple as isize,
    }
}

/// `HPyTupleBuilder_Set`: a new reference to `h_item` at `index` (< size).
pub unsafe extern "C" fn ctx_TupleBuilder_Set(
    _ctx: *mut HPyContext,
    builder: HPyTupleBuilder,
    index: HPy_ssize_t,
    h_item: HPy,
) {
    let tuple = builder._tup as *mut ffi::PyObject;
    if tuple.is_null() {
        return;
    }
    // SAFETY: as for `ctx_ListBuilder_Set`. A slot set twice would leak its
    // first item, as in HPy's runtime; the safe layer sets each once.
    unsafe {
        ffi::Py_INCREF(h2py(h_item));
        api::tuple_set_item(tuple, index, h2py(h_item));
    }
}

/// `HPyTupleBuilder_Build`.
pub unsafe extern "C" fn ctx_TupleBuilder_Build(
    _ctx: *mut HPyContext,
    builder: HPyTupleBuilder,
) -> HPy {
    HPy { _i: builder._tup }
}

/// `HPyTupleBuilder_Cancel`.
pub unsafe extern "C" fn ctx_TupleBuilder_Cancel(_ctx: *mut HPyContext, builder: HPyTupleBuilder) {
    // SAFETY: the tuple (or NULL) is the builder's to drop.
    unsafe { ffi::Py_XDECREF(builder._tup as *mut ffi::PyObject) }
}

/// `HPyTracker_New`: a growable set of handles; `MemoryError` (a NULL
/// tracker) if `size` slots cannot be reserved.
pub unsafe extern "C" fn ctx_Tracker_New(_ctx: *mut HPyContext, size: HPy_ssize_t) -> HPyTracker {
    let mut handles: Vec<HPy> = Vec::new();
    let layout = Layout::new::<Vec<HPy>>();
    // SAFETY: the layout has a non-zero size.
    let place = unsafe { alloc::alloc::alloc(layout) }.cast::<Vec<HPy>>();
    if place.is_null()
        || handles
            .try_reserve(usize::try_from(size).unwrap_or(0))
            .is_err()
    {
        if !place.is_null() {
            // SAFETY: allocated just above with this layout.
            unsafe { alloc::alloc::dealloc(place.cast(), layout) };
        }
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPyTracker::NULL;
    }
    // SAFETY: `place` is allocated for a `Vec<HPy>` and not initialised.
    unsafe { place.write(handles) };
    HPyTracker { _i: place as isize }
}

fn tracked(ht: HPyTracker) -> *mut Vec<HPy> {
    ht._i as *mut Vec<HPy>
}

/// `HPyTracker_Add`: `-1` with `MemoryError` if it cannot grow.
pub unsafe extern "C" fn ctx_Tracker_Add(_ctx: *mut HPyContext, ht: HPyTracker, h: HPy) -> c_int {
    // SAFETY: `ht` comes from `ctx_Tracker_New` and is not closed.
    let handles = unsafe { &mut *tracked(ht) };
    if handles.try_reserve(1).is_err() {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return -1;
    }
    handles.push(h);
    0
}

/// `HPyTracker_ForgetAll`: the handles are no longer the tracker's.
pub unsafe extern "C" fn ctx_Tracker_ForgetAll(_ctx: *mut HPyContext, ht: HPyTracker) {
    // SAFETY: as for `ctx_Tracker_Add`.
    unsafe { (*tracked(ht)).clear() }
}

/// `HPyTracker_Close`: closes the handles it still has, then itself.
pub unsafe extern "C" fn ctx_Tracker_Close(_ctx: *mut HPyContext, ht: HPyTracker) {
    if ht._i == 0 {
        return;
    }
    // SAFETY: the tracker was allocated and written by `ctx_Tracker_New`
    // and is closed once; its handles are open and its to close.
    unsafe {
        let place = tracked(ht);
        let handles = place.read();
        alloc::alloc::dealloc(place.cast(), Layout::new::<Vec<HPy>>());
        for h in &handles {
            ffi::Py_XDECREF(h2py(*h));
        }
    }
}

// ---------------------------------------------------------------------------
// Fields, globals, threads

/// Puts a new reference to `h` (or nothing, for HPy_NULL) in `slot`, then
/// drops the one it held (after: its finalizer may look at the slot).
///
/// # Safety
/// `slot` is a field or global's word, holding a reference or 0.
unsafe fn store_reference(slot: *mut isize, h: HPy) {
    // SAFETY: forwarded; `h` is open or HPy_NULL.
    unsafe {
        let old = *slot as *mut ffi::PyObject;
        ffi::Py_XINCREF(h2py(h));
        *slot = h._i;
        ffi::Py_XDECREF(old);
    }
}

/// `HPyField_Store`: `target_field` holds its own reference to `h` (or
/// nothing, for HPy_NULL); the one it held before is dropped after.
pub unsafe extern "C" fn ctx_Field_Store(
    _ctx: *mut HPyContext,
    _target_object: HPy,
    target_field: *mut HPyField,
    h: HPy,
) {
    // SAFETY: `target_field` is a field inside the target's struct.
    unsafe { store_reference(&raw mut (*target_field)._i, h) }
}

/// `HPyField_Load`: a new handle to the object the field holds.
pub unsafe extern "C" fn ctx_Field_Load(
    _ctx: *mut HPyContext,
    _source_object: HPy,
    source_field: HPyField,
) -> HPy {
    let obj = source_field._i as *mut ffi::PyObject;
    // SAFETY: the field holds a reference to a live object (or nothing).
    unsafe { ffi::Py_XINCREF(obj) };
    py2h(obj)
}

/// `HPyGlobal_Store`: as `ctx_Field_Store`, for a module-level global.
pub unsafe extern "C" fn ctx_Global_Store(_ctx: *mut HPyContext, global: *mut HPyGlobal, h: HPy) {
    // SAFETY: `global` is a global of the module.
    unsafe { store_reference(&raw mut (*global)._i, h) }
}

/// `HPyGlobal_Load`: a new handle to the global's object.
pub unsafe extern "C" fn ctx_Global_Load(_ctx: *mut HPyContext, global: HPyGlobal) -> HPy {
    let obj = global._i as *mut ffi::PyObject;
    // SAFETY: the global holds a reference to a live object (or nothing).
    unsafe { ffi::Py_XINCREF(obj) };
    py2h(obj)
}

/// `HPy_LeavePythonExecution`: releases the GIL.
pub unsafe extern "C" fn ctx_LeavePythonExecution(_ctx: *mut HPyContext) -> HPyThreadState {
    // SAFETY: the GIL is held, and given back by `ctx_ReenterPythonExecution`.
    let state = unsafe { ffi::PyEval_SaveThread() };
    HPyThreadState { _i: state as isize }
}

/// `HPy_ReenterPythonExecution`: takes the GIL back.
pub unsafe extern "C" fn ctx_ReenterPythonExecution(_ctx: *mut HPyContext, state: HPyThreadState) {
    // SAFETY: `state` is what `ctx_LeavePythonExecution` returned.
    unsafe { ffi::PyEval_RestoreThread(state._i as *mut ffi::PyThreadState) }
}

// ---------------------------------------------------------------------------
// Code, context variables, types, calls

/// `HPy_Compile_s`: `SystemError` for a kind that is none of HPy's.
pub unsafe extern "C" fn ctx_Compile_s(
    _ctx: *mut HPyContext,
    utf8_source: *const c_char,
    utf8_filename: *const c_char,
    kind: HPy_SourceKind,
) -> HPy {
    let start = match kind {
        HPy_SourceKind_Expr => ffi::Py_eval_input,
        HPy_SourceKind_File => ffi::Py_file_input,
        HPy_SourceKind_Single => ffi::Py_single_input,
        _ => {
            // SAFETY: the GIL is held.
            unsafe {
                ffi::PyErr_SetString(ffi::PyExc_SystemError, c"invalid source kind".as_ptr())
            };
            return HPy::NULL;
        }
    };
    // SAFETY: both strings are C strings.
    py2h(unsafe { ffi::Py_CompileString(utf8_source, utf8_filename, start) })
}

/// `HPy_EvalCode`.
pub unsafe extern "C" fn ctx_EvalCode(
    _ctx: *mut HPyContext,
    code: HPy,
    globals: HPy,
    locals: HPy,
) -> HPy {
    // SAFETY: the handles are open; `code` is a code object and `globals` a
    // dict (HPy's contract, which the safe layer checks).
    py2h(unsafe { ffi::PyEval_EvalCode(h2py(code), h2py(globals), h2py(locals)) })
}

/// `HPyContextVar_New`.
pub unsafe extern "C" fn ctx_ContextVar_New(
    _ctx: *mut HPyContext,
    name: *const c_char,
    default_value: HPy,
) -> HPy {
    // SAFETY: the name is a C string; the default open or HPy_NULL.
    py2h(unsafe { api::context_var_new(name, h2py(default_value)) })
}

/// `HPyContextVar_Get`: `*result` is a new handle, or HPy_NULL when the
/// variable has no value and no default.
pub unsafe extern "C" fn ctx_ContextVar_Get(
    _ctx: *mut HPyContext,
    context_var: HPy,
    default_value: HPy,
    result: *mut HPy,
) -> i32 {
    let mut out: *mut ffi::PyObject = core::ptr::null_mut();
    // SAFETY: the handles are open (the default may be HPy_NULL); `result`
    // is writable.
    unsafe {
        let r = api::context_var_get(h2py(context_var), h2py(default_value), &mut out);
        *result = py2h(out);
        r
    }
}

/// `HPyContextVar_Set`: the token of the change.
pub unsafe extern "C" fn ctx_ContextVar_Set(
    _ctx: *mut HPyContext,
    context_var: HPy,
    value: HPy,
) -> HPy {
    // SAFETY: both handles are open.
    py2h(unsafe { api::context_var_set(h2py(context_var), h2py(value)) })
}

/// `HPyType_IsSubtype`.
pub unsafe extern "C" fn ctx_Type_IsSubtype(_ctx: *mut HPyContext, sub: HPy, type_: HPy) -> c_int {
    // SAFETY: both handles are open types (HPy's contract).
    unsafe { ffi::PyType_IsSubtype(h2py(sub).cast(), h2py(type_).cast()) }
}

/// `HPyType_GetName`: the name without its module (`__name__`), as HPy's
/// runtime answers it; it lives as long as the type.
pub unsafe extern "C" fn ctx_Type_GetName(_ctx: *mut HPyContext, type_: HPy) -> *const c_char {
    let tp = h2py(type_).cast::<ffi::PyTypeObject>();
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    return unsafe { api::type_short_name(tp) };
    // SAFETY: `type_` is an open type; a heap type is a `PyHeapTypeObject`
    // whose `ht_name` is a str; a static type's `tp_name` is a C string that
    // lives as long as it.
    #[cfg(not(Py_LIMITED_API))]
    unsafe {
        if (*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE != 0 {
            return ffi::PyUnicode_AsUTF8((*tp.cast::<ffi::PyHeapTypeObject>()).ht_name);
        }
        let name = (*tp).tp_name;
        let full = core::ffi::CStr::from_ptr(name).to_bytes();
        match full.iter().rposition(|&b| b == b'.') {
            Some(dot) => name.add(dot + 1),
            None => name,
        }
    }
}

/// `HPy_Call`: `callable(*args[:nargs], **dict(zip(kwnames, args[nargs:])))`.
pub unsafe extern "C" fn ctx_Call(
    _ctx: *mut HPyContext,
    callable: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: `args` holds `nargs` handles and one per name in `kwnames`
    // (a tuple or HPy_NULL); a handle array is an object-pointer array.
    py2h(unsafe { api::vectorcall(h2py(callable), args.cast(), nargs, h2py(kwnames)) })
}

/// `HPy_CallMethod`: the method `name` of `args[0]`, called with the rest.
pub unsafe extern "C" fn ctx_CallMethod(
    _ctx: *mut HPyContext,
    name: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: as for `ctx_Call`; `args[0]` is the receiver.
    py2h(unsafe { api::vectorcall_method(h2py(name), args.cast(), nargs, h2py(kwnames)) })
}

// ---------------------------------------------------------------------------
// Capsules

/// The CPython destructor of an HPy capsule destructor (its trampoline),
/// or `ValueError` for one that lacks a function, as HPy's runtime says.
unsafe fn capsule_destructor(
    destructor: *mut HPyCapsule_Destructor,
) -> Result<Option<ffi::PyCapsule_Destructor>, ()> {
    if destructor.is_null() {
        return Ok(None);
    }
    // SAFETY: a non-NULL destructor points to a live definition.
    let d = unsafe { *destructor };
    match (d.cpy_trampoline, d.impl_) {
        (Some(trampoline), Some(_)) => {
            // SAFETY: the same C signature, `void (*)(PyObject *)`.
            let d = unsafe {
                core::mem::transmute::<
                    unsafe extern "C" fn(*mut cpy_PyObject),
                    ffi::PyCapsule_Destructor,
                >(trampoline)
            };
            Ok(Some(d))
        }
        _ => {
            // SAFETY: the GIL is held.
            unsafe {
                ffi::PyErr_SetString(
                    ffi::PyExc_ValueError,
                    c"Invalid HPyCapsule destructor".as_ptr(),
                )
            };
            Err(())
        }
    }
}

/// `HPyCapsule_New`.
pub unsafe extern "C" fn ctx_Capsule_New(
    _ctx: *mut HPyContext,
    pointer: *mut c_void,
    utf8_name: *const c_char,
    destructor: *mut HPyCapsule_Destructor,
) -> HPy {
    // SAFETY: `destructor` is NULL or a live definition; CPython checks the
    // pointer (not NULL) and keeps the name, which the caller keeps alive.
    unsafe {
        match capsule_destructor(destructor) {
            Ok(d) => py2h(ffi::PyCapsule_New(pointer, utf8_name, d)),
            Err(()) => HPy::NULL,
        }
    }
}

/// `HPyCapsule_Get`: the pointer (checked against `utf8_name`), the name or
/// the context; `ValueError` for the destructor, which cannot be read back.
pub unsafe extern "C" fn ctx_Capsule_Get(
    _ctx: *mut HPyContext,
    capsule: HPy,
    key: _HPyCapsule_key,
    utf8_name: *const c_char,
) -> *mut c_void {
    let c = h2py(capsule);
    // SAFETY: `capsule` is open; CPython checks that it is a capsule.
    unsafe {
        match key {
            HPyCapsule_key_Pointer => ffi::PyCapsule_GetPointer(c, utf8_name),
            HPyCapsule_key_Name => ffi::PyCapsule_GetName(c).cast_mut().cast(),
            HPyCapsule_key_Context => ffi::PyCapsule_GetContext(c),
            HPyCapsule_key_Destructor => {
                ffi::PyErr_SetString(
                    ffi::PyExc_ValueError,
                    c"Invalid operation: get HPyCapsule_key_Destructor".as_ptr(),
                );
                core::ptr::null_mut()
            }
            _ => {
                ffi::PyErr_SetString(ffi::PyExc_SystemError, c"invalid HPyCapsule key".as_ptr());
                core::ptr::null_mut()
            }
        }
    }
}

/// `HPyCapsule_Set`: the pointer, name, context, or destructor (`value` is
/// then an `HPyCapsule_Destructor *`, or NULL for none).
pub unsafe extern "C" fn ctx_Capsule_Set(
    _ctx: *mut HPyContext,
    capsule: HPy,
    key: _HPyCapsule_key,
    value: *mut c_void,
) -> c_int {
    let c = h2py(capsule);
    // SAFETY: `capsule` is open (CPython checks the type); `value` is what
    // the key says it is (the caller's contract).
    unsafe {
        match key {
            HPyCapsule_key_Pointer => ffi::PyCapsule_SetPointer(c, value),
            HPyCapsule_key_Name => ffi::PyCapsule_SetName(c, value.cast()),
            HPyCapsule_key_Context => ffi::PyCapsule_SetContext(c, value),
            HPyCapsule_key_Destructor => match capsule_destructor(value.cast()) {
                Ok(d) => ffi::PyCapsule_SetDestructor(c, d),
                Err(()) => -1,
            },
            _ => {
                ffi::PyErr_SetString(ffi::PyExc_SystemError, c"invalid HPyCapsule key".as_ptr());
                -1
            }
        }
    }
}

/// `HPyCapsule_IsValid`.
pub unsafe extern "C" fn ctx_Capsule_IsValid(
    _ctx: *mut HPyContext,
    capsule: HPy,
    utf8_name: *const c_char,
) -> c_int {
    // SAFETY: `capsule` is open; the name a C string or NULL.
    unsafe { ffi::PyCapsule_IsValid(h2py(capsule), utf8_name) }
}

// ---------------------------------------------------------------------------
// The CPython-ABI build's context and module creation

/// The context of a CPython-ABI build, a static: named "HPy CPython ABI",
/// its handle constants filled at module creation ([`module_def_init`]),
/// its function members empty (the wrappers call this module's functions
/// directly, and read the handle constants from CPython: [`handles`]).
#[inline(always)]
pub fn context() -> *mut HPyContext {
    CONTEXT.0.get()
}

struct StaticContext(core::cell::UnsafeCell<HPyContext>);

// SAFETY: the context is written once, by `fill_context`, with the GIL held,
// which every reader holds too.
unsafe impl Sync for StaticContext {}

static CONTEXT: StaticContext = StaticContext(core::cell::UnsafeCell::new(empty_context()));

const fn empty_context() -> HPyContext {
    // SAFETY: every member of a context is valid all zero (no function,
    // NULL pointers, HPy_NULL).
    let mut ctx: HPyContext = unsafe { core::mem::zeroed() };
    ctx.name = c"HPy CPython ABI".as_ptr();
    ctx
}

/// Fills [`context`]'s handle constants (once).
///
/// # Safety
/// The GIL is held.
pub(crate) unsafe fn fill_context() {
    static FILLED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !FILLED.swap(true, core::sync::atomic::Ordering::Relaxed) {
        // SAFETY: the GIL is held: no other code reads the context now.
        unsafe { handles::fill(&mut *context()) };
    }
}

pub mod api;
mod call;
pub mod fast;
pub mod handles;
mod module;
mod types;

pub use call::{
    Direct, call_other, call_traverseproc, ctx_CallRealFunctionFromTrampoline, tuple_len,
    with_tuple_items,
};
pub use module::{create_module_def, module_def_init};
pub use types::{
    ctx_AsStruct_Float, ctx_AsStruct_Legacy, ctx_AsStruct_List, ctx_AsStruct_Long,
    ctx_AsStruct_Object, ctx_AsStruct_Tuple, ctx_AsStruct_Type, ctx_AsStruct_Unicode, ctx_Dump,
    ctx_New, ctx_SetCallFunction, ctx_Type_FromSpec, ctx_Type_GenericNew, ctx_Type_GetBuiltinShape,
    new_with_payload,
};

// ---------------------------------------------------------------------------
// The context

/// Stores the functions of this module, and the handle constants, in `ctx`
/// (the members not implemented yet are left as they are).
///
/// # Safety
/// The GIL is held (the constants are read from CPython's statics).
pub unsafe fn fill(ctx: &mut HPyContext) {
    // SAFETY: forwarded.
    unsafe { fill_handles(ctx) };
    fill_functions(ctx);
}

/// Stores the handle constants (`h_None`, `h_TypeError`, ...) in `ctx`: what
/// a CPython-ABI build's context holds, whose functions are called directly.
///
/// # Safety
/// The GIL is held (the constants are read from CPython's statics).
pub unsafe fn fill_handles(ctx: &mut HPyContext) {
    handles::fill(ctx);
}

/// Stores the functions of this module in `ctx`.
pub fn fill_functions(ctx: &mut HPyContext) {
    macro_rules! set {
        ($($name:ident)*) => {$( ctx.$name = Some($name); )*};
    }
    set! {
        ctx_Dup ctx_Close
        ctx_Long_FromInt64_t ctx_Long_FromUInt64_t ctx_Long_FromSsize_t ctx_Long_AsInt64_t
        ctx_Long_AsUInt64_t ctx_Long_AsSsize_t ctx_Long_AsDouble ctx_Float_FromDouble
        ctx_Float_AsDouble ctx_Bool_FromBool ctx_Number_Check
        ctx_Add ctx_Subtract ctx_Multiply ctx_MatrixMultiply ctx_FloorDivide ctx_TrueDivide
        ctx_Remainder ctx_Divmod ctx_Lshift ctx_Rshift ctx_And ctx_Xor ctx_Or ctx_InPlaceAdd
        ctx_InPlaceSubtract ctx_InPlaceMultiply ctx_InPlaceFloorDivide ctx_InPlaceTrueDivide
        ctx_InPlaceRemainder ctx_Power
        ctx_Negative ctx_Positive ctx_Absolute ctx_Invert ctx_Index ctx_Long ctx_Float
        ctx_Repr ctx_Str ctx_ASCII ctx_Bytes ctx_Type ctx_Dict_Keys ctx_Dict_Copy
        ctx_Err_SetString ctx_Err_SetObject ctx_Err_Occurred ctx_Err_ExceptionMatches
        ctx_Err_NoMemory ctx_Err_Clear
        ctx_IsTrue ctx_TypeCheck ctx_Is ctx_Length ctx_GetAttr ctx_GetAttr_s ctx_HasAttr
        ctx_SetAttr ctx_GetItem ctx_GetItem_i ctx_SetItem ctx_Contains ctx_Hash
        ctx_RichCompare ctx_RichCompareBool
        ctx_Bytes_Check ctx_Unicode_Check ctx_List_Check ctx_Dict_Check ctx_Tuple_Check
        ctx_Bytes_Size ctx_Bytes_AsString ctx_Bytes_FromStringAndSize
        ctx_Unicode_FromString ctx_Unicode_AsUTF8AndSize
        ctx_List_New ctx_List_Append ctx_Dict_New ctx_Tuple_FromArray ctx_CallTupleDict
        ctx_Long_FromInt32_t ctx_Long_FromUInt32_t ctx_Long_FromSize_t ctx_Long_AsInt32_t
        ctx_Long_AsUInt32_t ctx_Long_AsUInt32_tMask ctx_Long_AsUInt64_tMask ctx_Long_AsSize_t
        ctx_InPlaceLshift ctx_InPlaceRshift ctx_InPlaceAnd ctx_InPlaceXor ctx_InPlaceOr
        ctx_InPlaceMatrixMultiply ctx_InPlacePower
        ctx_HasAttr_s ctx_SetAttr_s ctx_GetItem_s ctx_SetItem_i ctx_SetItem_s ctx_DelItem
        ctx_DelItem_i ctx_DelItem_s
        ctx_Bytes_GET_SIZE ctx_Bytes_AS_STRING ctx_Bytes_FromString ctx_Unicode_AsASCIIString
        ctx_Unicode_AsLatin1String ctx_Unicode_AsUTF8String ctx_Unicode_EncodeFSDefault
        ctx_Unicode_ReadChar ctx_Unicode_DecodeASCII ctx_Unicode_DecodeLatin1
        ctx_Unicode_DecodeFSDefault ctx_Unicode_DecodeFSDefaultAndSize ctx_Unicode_Substring
        ctx_Import_ImportModule ctx_Slice_Unpack ctx_Err_WarnEx
        ctx_Callable_Check ctx_Long_AsVoidPtr ctx_FromPyObject ctx_AsPyObject ctx_FatalError
        ctx_Err_SetFromErrnoWithFilename ctx_Err_SetFromErrnoWithFilenameObjects
        ctx_Err_NewException ctx_Err_NewExceptionWithDoc ctx_Err_WriteUnraisable
        ctx_Unicode_FromWideChar ctx_Unicode_FromEncodedObject
        ctx_ListBuilder_New ctx_ListBuilder_Set ctx_ListBuilder_Build ctx_ListBuilder_Cancel
        ctx_TupleBuilder_New ctx_TupleBuilder_Set ctx_TupleBuilder_Build ctx_TupleBuilder_Cancel
        ctx_Tracker_New ctx_Tracker_Add ctx_Tracker_ForgetAll ctx_Tracker_Close
        ctx_Field_Store ctx_Field_Load ctx_Global_Store ctx_Global_Load
        ctx_LeavePythonExecution ctx_ReenterPythonExecution
        ctx_Compile_s ctx_EvalCode ctx_ContextVar_New ctx_ContextVar_Get ctx_ContextVar_Set
        ctx_Type_IsSubtype ctx_Type_GetName ctx_Call ctx_CallMethod
        ctx_Capsule_New ctx_Capsule_Get ctx_Capsule_Set ctx_Capsule_IsValid
        ctx_CallRealFunctionFromTrampoline
        ctx_Type_FromSpec ctx_Type_GenericNew ctx_New ctx_SetCallFunction ctx_Dump
        ctx_AsStruct_Object ctx_AsStruct_Legacy ctx_AsStruct_Type ctx_AsStruct_Long
        ctx_AsStruct_Float ctx_AsStruct_Unicode ctx_AsStruct_Tuple ctx_AsStruct_List
        ctx_Type_GetBuiltinShape
    }
}
