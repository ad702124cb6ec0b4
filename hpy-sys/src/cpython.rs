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

use core::ffi::{c_char, c_int};

use pyo3_ffi as ffi;

use crate::{HPy, HPy_hash_t, HPy_ssize_t, HPyContext};

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
pub unsafe extern "C" fn ctx_Long_AsInt64_t(_ctx: *mut HPyContext, h: HPy) -> i64 {
    #[cfg(not(Py_3_10))]
    // SAFETY: `h` is open; the index is a new reference, dropped here.
    unsafe {
        let index = ffi::PyNumber_Index(h2py(h));
        if index.is_null() {
            return -1;
        }
        let v = ffi::PyLong_AsLongLong(index);
        ffi::Py_DECREF(index);
        v
    }
    #[cfg(Py_3_10)]
    // SAFETY: `h` is open.
    unsafe {
        ffi::PyLong_AsLongLong(h2py(h))
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
    ctx_Index => PyNumber_Index;
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

/// `HPy_Length`: `-1` with an exception on error.
pub unsafe extern "C" fn ctx_Length(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: `h` is open.
    unsafe { ffi::PyObject_Length(h2py(h)) }
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
    // SAFETY: both handles are open.
    unsafe { ffi::PyObject_HasAttr(h2py(obj), h2py(name)) }
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
    unsafe { ffi::PyObject_SetItem(h2py(obj), h2py(key), h2py(value)) }
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

/// `HPyBytes_FromStringAndSize`.
pub unsafe extern "C" fn ctx_Bytes_FromStringAndSize(
    _ctx: *mut HPyContext,
    bytes: *const c_char,
    len: HPy_ssize_t,
) -> HPy {
    // SAFETY: `bytes` points to `len` bytes (or is NULL with len 0).
    py2h(unsafe { ffi::PyBytes_FromStringAndSize(bytes, len) })
}

/// `HPyUnicode_FromString`.
pub unsafe extern "C" fn ctx_Unicode_FromString(_ctx: *mut HPyContext, utf8: *const c_char) -> HPy {
    // SAFETY: `utf8` is a C string.
    py2h(unsafe { ffi::PyUnicode_FromString(utf8) })
}

/// `HPyUnicode_AsUTF8AndSize`.
pub unsafe extern "C" fn ctx_Unicode_AsUTF8AndSize(
    _ctx: *mut HPyContext,
    h: HPy,
    size: *mut HPy_ssize_t,
) -> *const c_char {
    // SAFETY: `h` is open; `size` is writable or NULL.
    unsafe { ffi::PyUnicode_AsUTF8AndSize(h2py(h), size) }
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
            ffi::PyTuple_SET_ITEM(tuple, i, item);
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
// The context

/// Stores the functions of this module, and the handle constants they need,
/// in `ctx` (the members not implemented yet are left as they are).
///
/// # Safety
/// The GIL is held (the constants are read from CPython's statics).
pub unsafe fn fill(ctx: &mut HPyContext) {
    // SAFETY: the GIL is held; the statics live as long as the interpreter.
    unsafe {
        ctx.h_None = py2h(ffi::Py_None());
        ctx.h_True = py2h(ffi::Py_True());
        ctx.h_False = py2h(ffi::Py_False());
        ctx.h_NotImplemented = py2h(ffi::Py_NotImplemented());
        ctx.h_Ellipsis = py2h(ffi::Py_Ellipsis());
        ctx.h_BaseException = py2h(ffi::PyExc_BaseException);
        ctx.h_Exception = py2h(ffi::PyExc_Exception);
        ctx.h_TypeError = py2h(ffi::PyExc_TypeError);
        ctx.h_ValueError = py2h(ffi::PyExc_ValueError);
        ctx.h_OverflowError = py2h(ffi::PyExc_OverflowError);
        ctx.h_ZeroDivisionError = py2h(ffi::PyExc_ZeroDivisionError);
        ctx.h_KeyError = py2h(ffi::PyExc_KeyError);
        ctx.h_IndexError = py2h(ffi::PyExc_IndexError);
        ctx.h_AttributeError = py2h(ffi::PyExc_AttributeError);
        ctx.h_MemoryError = py2h(ffi::PyExc_MemoryError);
        ctx.h_LongType = py2h(core::ptr::addr_of_mut!(ffi::PyLong_Type).cast());
        ctx.h_FloatType = py2h(core::ptr::addr_of_mut!(ffi::PyFloat_Type).cast());
        ctx.h_UnicodeType = py2h(core::ptr::addr_of_mut!(ffi::PyUnicode_Type).cast());
        ctx.h_ListType = py2h(core::ptr::addr_of_mut!(ffi::PyList_Type).cast());
        ctx.h_TupleType = py2h(core::ptr::addr_of_mut!(ffi::PyTuple_Type).cast());
        ctx.h_BaseObjectType = py2h(core::ptr::addr_of_mut!(ffi::PyBaseObject_Type).cast());
        ctx.h_TypeType = py2h(core::ptr::addr_of_mut!(ffi::PyType_Type).cast());
        ctx.h_BoolType = py2h(core::ptr::addr_of_mut!(ffi::PyBool_Type).cast());
        ctx.h_BytesType = py2h(core::ptr::addr_of_mut!(ffi::PyBytes_Type).cast());
    }
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
    }
}
