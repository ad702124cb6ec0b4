//! The few reads and writes where CPython's full C API and its limited API
//! (an `abi3` build: `--cfg hpy_abi="abi3"`, which gives `pyo3-ffi`'s
//! `abi3-py310` feature and so the `Py_LIMITED_API` cfg) differ: type
//! fields, the item macros of tuples and lists, vectorcall, context
//! variables. Each function compiles to the field read or macro in a
//! per-version build and to the stable ABI's function in an `abi3` build,
//! so the implementations of the context functions are written once.
//!
//! Every function has the contract of the C API it stands for: the GIL is
//! held and the objects are live (and of the type the name says).
#![allow(clippy::missing_safety_doc)] // the contract above, for all

use core::ffi::c_ulong;
#[cfg(Py_LIMITED_API)]
use core::ffi::c_void;

use pyo3_ffi as ffi;

/// `tp_flags` (`PyType_GetFlags`).
#[inline(always)]
pub unsafe fn type_flags(tp: *mut ffi::PyTypeObject) -> c_ulong {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `tp` is a live type.
    unsafe {
        (*tp).tp_flags
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyType_GetFlags(tp)
    }
}

/// One slot of a type (`PyType_GetSlot`, which answers for static types
/// too from 3.10, the oldest `abi3` target).
#[cfg(Py_LIMITED_API)]
#[inline(always)]
unsafe fn slot(tp: *mut ffi::PyTypeObject, slot: core::ffi::c_int) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { ffi::PyType_GetSlot(tp, slot) }
}

/// Defines an accessor of a function-pointer slot: the field, or
/// `PyType_GetSlot`.
macro_rules! slot_fn {
    ($(#[$doc:meta])* $name:ident, $field:ident, $slot:ident, $ty:ty) => {
        $(#[$doc])*
        #[inline(always)]
        pub unsafe fn $name(tp: *mut ffi::PyTypeObject) -> Option<$ty> {
            #[cfg(not(Py_LIMITED_API))]
            // SAFETY: `tp` is a live type.
            unsafe {
                (*tp).$field
            }
            #[cfg(Py_LIMITED_API)]
            // SAFETY: `tp` is a live type; the slot holds a function of
            // this type or NULL.
            unsafe {
                let f = slot(tp, ffi::$slot);
                (!f.is_null()).then(|| core::mem::transmute::<*mut c_void, $ty>(f))
            }
        }
    };
}

slot_fn!(
    /// `tp_alloc`.
    type_alloc, tp_alloc, Py_tp_alloc, ffi::allocfunc
);
slot_fn!(
    /// `tp_free`.
    type_free, tp_free, Py_tp_free, ffi::freefunc
);
slot_fn!(
    /// `tp_dealloc`.
    type_dealloc, tp_dealloc, Py_tp_dealloc, ffi::destructor
);
slot_fn!(
    /// `tp_finalize`.
    type_finalize, tp_finalize, Py_tp_finalize, ffi::destructor
);
slot_fn!(
    /// `tp_new`.
    type_new, tp_new, Py_tp_new, ffi::newfunc
);

/// `tp_base` (NULL for `object`).
#[inline(always)]
pub unsafe fn type_base(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyTypeObject {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `tp` is a live type.
    unsafe {
        (*tp).tp_base
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    unsafe {
        slot(tp, ffi::Py_tp_base).cast()
    }
}

/// An integer attribute of a type that the limited API has no accessor for
/// (`__basicsize__`, `__weaklistoffset__`); -1 with an exception set on
/// failure.
#[cfg(Py_LIMITED_API)]
unsafe fn type_int(tp: *mut ffi::PyTypeObject, name: &core::ffi::CStr) -> ffi::Py_ssize_t {
    // SAFETY: forwarded; the attribute is a new reference, dropped here.
    unsafe {
        let value = ffi::PyObject_GetAttrString(tp.cast(), name.as_ptr());
        if value.is_null() {
            return -1;
        }
        let n = ffi::PyLong_AsSsize_t(value);
        ffi::Py_DECREF(value);
        n
    }
}

/// `tp_basicsize`; -1 with an exception set on failure (`abi3` only).
#[inline]
pub unsafe fn type_basicsize(tp: *mut ffi::PyTypeObject) -> ffi::Py_ssize_t {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `tp` is a live type.
    unsafe {
        (*tp).tp_basicsize
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    unsafe {
        type_int(tp, c"__basicsize__")
    }
}

/// Whether instances of `tp` have a weak-reference list (a positive
/// `tp_weaklistoffset`). In an `abi3` build this asks the type
/// (`__weaklistoffset__`), so callers on a hot path keep the answer.
#[inline]
pub unsafe fn type_has_weaklist(tp: *mut ffi::PyTypeObject) -> bool {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `tp` is a live type.
    unsafe {
        (*tp).tp_weaklistoffset > 0
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; a failure (there is none for a type) reads as "no".
    unsafe {
        let n = type_int(tp, c"__weaklistoffset__");
        if n < 0 {
            ffi::PyErr_Clear();
        }
        n > 0
    }
}

/// `PyTuple_SET_ITEM`: stores `item` (a reference the tuple takes) in a
/// new tuple's slot `i`, which is in range and empty.
#[inline(always)]
pub unsafe fn tuple_set_item(
    tuple: *mut ffi::PyObject,
    i: ffi::Py_ssize_t,
    item: *mut ffi::PyObject,
) {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyTuple_SET_ITEM(tuple, i, item)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; it cannot fail for a new tuple and an index in
    // range (an empty slot has nothing to drop).
    unsafe {
        ffi::PyTuple_SetItem(tuple, i, item);
    }
}

/// `PyList_SET_ITEM`: as [`tuple_set_item`], for a new list.
#[inline(always)]
pub unsafe fn list_set_item(
    list: *mut ffi::PyObject,
    i: ffi::Py_ssize_t,
    item: *mut ffi::PyObject,
) {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyList_SET_ITEM(list, i, item)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: as in `tuple_set_item`.
    unsafe {
        ffi::PyList_SetItem(list, i, item);
    }
}

/// Defines a function that is one call in each build: the full API's
/// macro or function, or the limited API's function.
macro_rules! forward {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $full:path | $limited:path) => {
        $(#[$doc])*
        #[inline(always)]
        pub unsafe fn $name($($arg: $ty),*) -> $ret {
            #[cfg(not(Py_LIMITED_API))]
            // SAFETY: forwarded.
            unsafe {
                $full($($arg),*)
            }
            #[cfg(Py_LIMITED_API)]
            // SAFETY: forwarded.
            unsafe {
                $limited($($arg),*)
            }
        }
    };
}

forward!(
    /// `PyTuple_GET_SIZE` of a tuple.
    tuple_size(tuple: *mut ffi::PyObject) -> ffi::Py_ssize_t = ffi::PyTuple_GET_SIZE | ffi::PyTuple_Size
);
forward!(
    /// `PyTuple_GET_ITEM` of a tuple and an index in range (borrowed).
    tuple_get_item(tuple: *mut ffi::PyObject, i: ffi::Py_ssize_t) -> *mut ffi::PyObject =
        ffi::PyTuple_GET_ITEM | ffi::PyTuple_GetItem
);
forward!(
    /// `PyList_GET_SIZE` of a list.
    list_size(list: *mut ffi::PyObject) -> ffi::Py_ssize_t = ffi::PyList_GET_SIZE | ffi::PyList_Size
);
forward!(
    /// `PyList_GET_ITEM` of a list and an index in range (borrowed).
    list_get_item(list: *mut ffi::PyObject, i: ffi::Py_ssize_t) -> *mut ffi::PyObject =
        ffi::PyList_GET_ITEM | ffi::PyList_GetItem
);

/// `PyVectorcall_NARGS`: the argument count of a vectorcall's `nargsf`.
#[inline(always)]
pub fn vectorcall_nargs(nargsf: usize) -> usize {
    // `PY_VECTORCALL_ARGUMENTS_OFFSET` is the top bit (the limited API
    // before 3.12 does not name it).
    nargsf & (usize::MAX >> 1)
}

/// `PyObject_Vectorcall`: `callable(*args[:nargs], **dict(zip(kwnames,
/// args[nargs:])))`. In an `abi3` build for CPython 3.10 and 3.11, which
/// have no vectorcall in the limited API, through a tuple and a dict.
#[inline(always)]
pub unsafe fn vectorcall(
    callable: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyObject_Vectorcall(callable, args, nargsf, kwnames)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    unsafe {
        let (tuple, dict) = match call_args(args, vectorcall_nargs(nargsf), kwnames) {
            Some(both) => both,
            None => return core::ptr::null_mut(),
        };
        let result = ffi::PyObject_Call(callable, tuple, dict);
        ffi::Py_DECREF(tuple);
        ffi::Py_XDECREF(dict);
        result
    }
}

/// `PyObject_VectorcallMethod`: the method `name` of `args[0]`, called with
/// the rest (`nargsf` counts the receiver).
#[inline(always)]
pub unsafe fn vectorcall_method(
    name: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyObject_VectorcallMethod(name, args, nargsf, kwnames)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; `args[0]` is the receiver (HPy's contract).
    unsafe {
        let nargs = vectorcall_nargs(nargsf);
        if nargs == 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"HPy_CallMethod needs the receiver as args[0]".as_ptr(),
            );
            return core::ptr::null_mut();
        }
        let method = ffi::PyObject_GetAttr(*args, name);
        if method.is_null() {
            return core::ptr::null_mut();
        }
        let result = vectorcall(method, args.add(1), nargs - 1, kwnames);
        ffi::Py_DECREF(method);
        result
    }
}

/// The tuple and dict (NULL for no keywords) of a vectorcall's arguments.
#[cfg(Py_LIMITED_API)]
unsafe fn call_args(
    args: *const *mut ffi::PyObject,
    nargs: usize,
    kwnames: *mut ffi::PyObject,
) -> Option<(*mut ffi::PyObject, *mut ffi::PyObject)> {
    // SAFETY: `args` holds `nargs` objects and one per name in `kwnames`.
    unsafe {
        let tuple = ffi::PyTuple_New(nargs as ffi::Py_ssize_t);
        if tuple.is_null() {
            return None;
        }
        for i in 0..nargs {
            let item = *args.add(i);
            ffi::Py_INCREF(item);
            ffi::PyTuple_SetItem(tuple, i as ffi::Py_ssize_t, item);
        }
        if kwnames.is_null() {
            return Some((tuple, core::ptr::null_mut()));
        }
        let dict = ffi::PyDict_New();
        if dict.is_null() {
            ffi::Py_DECREF(tuple);
            return None;
        }
        let nkw = ffi::PyTuple_Size(kwnames);
        for k in 0..nkw.max(0) {
            let value = *args.add(nargs + k as usize);
            if ffi::PyDict_SetItem(dict, ffi::PyTuple_GetItem(kwnames, k), value) < 0 {
                ffi::Py_DECREF(tuple);
                ffi::Py_DECREF(dict);
                return None;
            }
        }
        Some((tuple, dict))
    }
}

/// A type's name for messages, as a new `str`: `tp_name` (`module.Name` for
/// a heap type from a spec), or `__name__` in an `abi3` build; NULL with an
/// exception set on failure.
#[inline]
pub unsafe fn type_name(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `tp` is a live type; its `tp_name` a C string.
    unsafe {
        ffi::PyUnicode_FromString((*tp).tp_name)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyObject_GetAttrString(tp.cast(), c"__name__".as_ptr())
    }
}

/// `PyObject_CallFinalizerFromDealloc`: runs the `tp_finalize` of a dying
/// object (whose type has one) with the object brought back to life for the
/// call and any exception saved around it; -1 if the finalizer resurrected
/// it (the caller then stops deallocating).
///
/// In an `abi3` build, where the limited API has no such function, the same
/// steps by hand: the object's reference count goes from 0 to 1 and back
/// (the limited API keeps `PyObject`'s layout). One difference remains: the
/// limited API cannot mark a GC object as finalized, so a resurrected object
/// that dies again is finalized again (the SDK's finalizers are idempotent).
#[inline]
pub unsafe fn call_finalizer_from_dealloc(obj: *mut ffi::PyObject) -> core::ffi::c_int {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyObject_CallFinalizerFromDealloc(obj)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: `obj` is dying (reference count 0) and its type has a
    // finalizer; CPython itself does these steps with the same fields.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        if ffi::PyType_IS_GC(tp) != 0 && ffi::PyObject_GC_IsFinalized(obj) != 0 {
            return 0;
        }
        let Some(finalize) = type_finalize(tp) else {
            return 0;
        };
        (*obj).ob_refcnt = 1;
        let (mut ty, mut value, mut tb) = (
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        );
        #[allow(deprecated)] // PyErr_GetRaisedException is 3.12+
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        finalize(obj);
        #[allow(deprecated)]
        ffi::PyErr_Restore(ty, value, tb);
        if (*obj).ob_refcnt == 1 {
            (*obj).ob_refcnt = 0;
            return 0;
        }
        // Resurrected: the reference taken above goes; others keep it alive.
        (*obj).ob_refcnt -= 1;
        -1
    }
}

/// `PyContextVar_New`: a `contextvars.ContextVar` named `name`, with
/// `default` (NULL: none). An `abi3` build calls the class (the limited API
/// has no context-variable functions).
#[inline]
pub unsafe fn context_var_new(
    name: *const core::ffi::c_char,
    default: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyContextVar_New(name, default)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; every new reference is dropped on each path.
    unsafe {
        let module = ffi::PyImport_ImportModule(c"contextvars".as_ptr());
        if module.is_null() {
            return core::ptr::null_mut();
        }
        let class = ffi::PyObject_GetAttrString(module, c"ContextVar".as_ptr());
        ffi::Py_DECREF(module);
        if class.is_null() {
            return core::ptr::null_mut();
        }
        let name = ffi::PyUnicode_FromString(name);
        let mut result = core::ptr::null_mut();
        if !name.is_null() {
            let args: [*mut ffi::PyObject; 2] = [name, default];
            let kwnames = if default.is_null() {
                core::ptr::null_mut()
            } else {
                ffi::Py_BuildValue(c"(s)".as_ptr(), c"default".as_ptr())
            };
            if default.is_null() || !kwnames.is_null() {
                result = vectorcall(class, args.as_ptr(), 1, kwnames);
            }
            ffi::Py_XDECREF(kwnames);
            ffi::Py_DECREF(name);
        }
        ffi::Py_DECREF(class);
        result
    }
}

/// `PyContextVar_Get`: `*value` is a new reference to the variable's value,
/// else to `default` (NULL: none), else to the variable's own default,
/// else NULL; 0, or -1 with an exception set.
#[inline]
pub unsafe fn context_var_get(
    var: *mut ffi::PyObject,
    default: *mut ffi::PyObject,
    value: *mut *mut ffi::PyObject,
) -> core::ffi::c_int {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyContextVar_Get(var, default, value)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; `var.get([default])`, whose `LookupError` (no
    // value, no default) means NULL.
    unsafe {
        if !is_context_var(var) {
            return -1;
        }
        let args: [*mut ffi::PyObject; 2] = [var, default];
        let n = if default.is_null() { 1 } else { 2 };
        let name = c"get".as_ptr();
        let name = ffi::PyUnicode_InternFromString(name);
        if name.is_null() {
            return -1;
        }
        let result = vectorcall_method(name, args.as_ptr(), n, core::ptr::null_mut());
        ffi::Py_DECREF(name);
        if result.is_null() {
            if ffi::PyErr_ExceptionMatches(ffi::PyExc_LookupError) == 0 {
                return -1;
            }
            ffi::PyErr_Clear();
        }
        *value = result;
        0
    }
}

/// `PyContextVar_Set`: the token of the change, or NULL with an exception.
#[inline]
pub unsafe fn context_var_set(
    var: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyContextVar_Set(var, value)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded.
    unsafe {
        if !is_context_var(var) {
            return core::ptr::null_mut();
        }
        let name = ffi::PyUnicode_InternFromString(c"set".as_ptr());
        if name.is_null() {
            return core::ptr::null_mut();
        }
        let args: [*mut ffi::PyObject; 2] = [var, value];
        let result = vectorcall_method(name, args.as_ptr(), 2, core::ptr::null_mut());
        ffi::Py_DECREF(name);
        result
    }
}

/// Whether `var` is exactly a `contextvars.ContextVar` (which cannot be
/// subclassed), else `TypeError` as CPython's own check says it.
#[cfg(Py_LIMITED_API)]
unsafe fn is_context_var(var: *mut ffi::PyObject) -> bool {
    // SAFETY: forwarded; the type's name is a new reference, dropped here.
    unsafe {
        let name = type_name(ffi::Py_TYPE(var));
        let ok = !name.is_null()
            && ffi::PyUnicode_CompareWithASCIIString(name, c"ContextVar".as_ptr()) == 0;
        ffi::Py_XDECREF(name);
        if !ok {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"an instance of ContextVar was expected".as_ptr(),
            );
        }
        ok
    }
}

/// `HPyType_GetName` in an `abi3` build: a type's `__name__` as UTF-8 that
/// lives as long as the type (a heap type holds its name; the name of a
/// static type, made anew at each ask, is kept in a dict for good).
#[cfg(Py_LIMITED_API)]
pub unsafe fn type_short_name(tp: *mut ffi::PyTypeObject) -> *const core::ffi::c_char {
    use core::sync::atomic::{AtomicPtr, Ordering};
    /// Static types' names, by type (GIL-protected).
    static STATIC_NAMES: AtomicPtr<ffi::PyObject> = AtomicPtr::new(core::ptr::null_mut());
    // SAFETY: the GIL is held (it orders the dict's creation too).
    unsafe {
        let name = ffi::PyObject_GetAttrString(tp.cast(), c"__name__".as_ptr());
        if name.is_null() {
            return core::ptr::null();
        }
        if type_flags(tp) & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
            let mut names = STATIC_NAMES.load(Ordering::Relaxed);
            if names.is_null() {
                names = ffi::PyDict_New();
                if names.is_null() {
                    ffi::Py_DECREF(name);
                    return core::ptr::null();
                }
                STATIC_NAMES.store(names, Ordering::Relaxed);
            }
            let known = ffi::PyDict_GetItem(names, tp.cast());
            if !known.is_null() {
                ffi::Py_DECREF(name);
                return ffi::PyUnicode_AsUTF8AndSize(known, core::ptr::null_mut());
            }
            if ffi::PyDict_SetItem(names, tp.cast(), name) < 0 {
                ffi::Py_DECREF(name);
                return core::ptr::null();
            }
        }
        // The type (or the dict) keeps the name alive.
        ffi::Py_DECREF(name);
        ffi::PyUnicode_AsUTF8AndSize(name, core::ptr::null_mut())
    }
}

/// `PyObject_HasAttr`, with HPy's meaning: an error while looking (from a
/// `__getattr__`) means "no" and is cleared. CPython 3.13+ reports such an
/// error as unraisable in its old function, so there (and in an `abi3`
/// build, which may run there) it is cleared here instead.
#[inline]
pub unsafe fn has_attr(obj: *mut ffi::PyObject, name: *mut ffi::PyObject) -> core::ffi::c_int {
    // SAFETY: forwarded.
    unsafe {
        #[cfg(all(Py_3_13, not(Py_LIMITED_API)))]
        {
            let r = ffi::PyObject_HasAttrWithError(obj, name);
            if r < 0 {
                ffi::PyErr_Clear();
                return 0;
            }
            r
        }
        #[cfg(Py_LIMITED_API)]
        {
            found(ffi::PyObject_GetAttr(obj, name))
        }
        #[cfg(not(any(Py_3_13, Py_LIMITED_API)))]
        {
            ffi::PyObject_HasAttr(obj, name)
        }
    }
}

/// `PyObject_HasAttrString`, as [`has_attr`].
#[inline]
pub unsafe fn has_attr_string(
    obj: *mut ffi::PyObject,
    name: *const core::ffi::c_char,
) -> core::ffi::c_int {
    // SAFETY: forwarded.
    unsafe {
        #[cfg(all(Py_3_13, not(Py_LIMITED_API)))]
        {
            let r = ffi::PyObject_HasAttrStringWithError(obj, name);
            if r < 0 {
                ffi::PyErr_Clear();
                return 0;
            }
            r
        }
        #[cfg(Py_LIMITED_API)]
        {
            found(ffi::PyObject_GetAttrString(obj, name))
        }
        #[cfg(not(any(Py_3_13, Py_LIMITED_API)))]
        {
            ffi::PyObject_HasAttrString(obj, name)
        }
    }
}

/// 1 for an attribute's value (dropped), 0 for NULL (its error cleared).
#[cfg(Py_LIMITED_API)]
#[inline]
unsafe fn found(value: *mut ffi::PyObject) -> core::ffi::c_int {
    // SAFETY: `value` is a new reference or NULL with an exception set.
    unsafe {
        if value.is_null() {
            ffi::PyErr_Clear();
            return 0;
        }
        ffi::Py_DECREF(value);
        1
    }
}
