//! Raw bindings to the **HPy 0.9.0 universal ABI**, complete and layout-verified.
//!
//! This crate has no logic and no dependencies: it mirrors the C headers of the
//! pinned `hpy==0.9.0` package so that a Rust `cdylib` can be loaded, unmodified,
//! by every HPy runtime (CPython through the `hpy` package, PyPy 7.3.14+, and
//! HPy's debug and trace modes).
//!
//! * [`HPyContext`] and everything derived from HPy's own generated headers
//!   (context members, C enums, impl-function typedefs, trampoline argument
//!   structs) live in the generated module re-exported at the crate root; see
//!   `tools/gen_hpy_sys.py`.
//! * One `#[inline(always)]` function per context function, named like the C API
//!   (`HPy_Dup(ctx, h)`, `HPyLong_FromInt64_t(ctx, v)`, ...), plus the C
//!   header's inline helpers that are not context members
//!   ([`HPyLong_FromLong`], [`HPy_DelAttr`], [`HPyTuple_Pack`], the capsule
//!   accessors, ...). These functions are **the only place that reads context
//!   members**: a future CPython-ABI backend replaces them behind a feature
//!   without touching the safe layer.
//! * The remaining ABI structs ([`HPyDef`], [`HPyModuleDef`], [`HPyType_Spec`],
//!   [`HPy_buffer`], ...) are written by hand below.
//!
//! Every layout and constant is compared with what gcc computes from the C
//! headers by `hpy-sys/tests/layout.rs`.
//!
//! One runtime deviates: PyPy 7.3.18+ inserts a member at ID 244, so the
//! wrappers of members 244..=262 find their slot through [`late_member`]
//! (see [`ContextLayout`]).
//!
//! # Safety
//!
//! Everything here is `unsafe` to call: a context pointer is valid only for the
//! duration of the call that received it (debug mode hands out a different one
//! per call and aborts on reuse), arguments are *borrowed* handles, and returned
//! handles are *owned*. The safe `hpy` crate encodes these rules in types.
//!
//! ```
//! use hpy_sys::*;
//! // IDs and offsets follow the header: member n sits at 24 + 8 * n on LP64.
//! assert_eq!(HPY_CONTEXT_MEMBERS, 263);
//! assert_eq!(HPY_CONTEXT_MEMBER_NAMES[77], "ctx_Dup");
//! assert_eq!(HPySlot_SIG(HPy_tp_new), Some(HPyFunc_NEWFUNC));
//! assert!(HPy::NULL.is_null());
//! ```
#![no_std]
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]
#![deny(missing_docs)]

use core::ffi::{CStr, c_char, c_int, c_long, c_longlong, c_ulong, c_ulonglong, c_void};
use core::marker::{PhantomData, PhantomPinned};

mod autogen;
pub use autogen::*;
mod layout;
pub use layout::{ContextLayout, context_layout, late_member};
pub mod trampoline;

/// `tp_iternext` as a slot of a type spec, in a CPython-ABI build only (HPy
/// 0.9 has no iteration slots; the number is CPython's `Py_tp_iternext`,
/// which HPy 0.9 leaves free). Its `cpy_trampoline` is CPython's
/// `tp_iternext` function itself (`PyObject *(*)(PyObject *)`), its `impl`
/// the NOARGS impl of the class's `__next__` method, which the spec also
/// defines (and through which other runtimes iterate). The `hpy` crate's
/// classes use it so that `for x in obj` calls the impl without a lookup;
/// neither HPy's runtime nor a universal build ever sees it.
pub const HPY_RS_tp_iternext: HPySlot_Slot = HPySlot_Slot(63);

// A CPython-ABI build (`--cfg hpy_abi="cpython"`, set by the build tool)
// calls the implementations of the `cpython` module directly (the cfg brings
// `pyo3-ffi` in, see Cargo.toml); the feature `cpython` gives them to a
// universal build, for a runtime or for tests.
#[cfg(any(feature = "cpython", hpy_abi = "cpython"))]
extern crate alloc;
#[cfg(any(feature = "cpython", hpy_abi = "cpython"))]
pub mod cpython;

// ---------------------------------------------------------------------------
// The pending-exception check

/// In builds with debug assertions, panics if an exception is set in the
/// interpreter: called by every context function wrapper except those that
/// may run with one set (the error functions, `HPy_Close`, `HPy_Dup`,
/// builder and tracker cancellation, pure type and identity tests; the list
/// is `MAY_RUN_WITH_ERROR` in `tools/gen_hpy_sys.py`). In release builds it
/// compiles to nothing.
///
/// Calling into the runtime with an exception pending is always a bug: the
/// runtime may clear it, overwrite it, assert on it (PyPy's RPython asserts
/// abort the process), or report a result "with an exception set". The safe
/// `hpy` crate catches the panic at the call boundary and raises it as
/// `SystemError`, naming the function, so the test suites find such bugs.
///
/// # Safety
/// `ctx` must point to the live context of the current call.
#[inline(always)]
pub unsafe fn check_no_pending_error(ctx: *mut HPyContext, function: &'static str) {
    #[cfg(debug_assertions)]
    {
        // SAFETY: forwarded from the caller; `HPyErr_Occurred` may always be called.
        if unsafe { HPyErr_Occurred(ctx) } != 0 {
            called_with_pending_error(function)
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (ctx, function);
}

#[cfg(debug_assertions)]
#[cold]
#[inline(never)]
fn called_with_pending_error(function: &'static str) -> ! {
    panic!(
        "hpy-sys: {function} was called while an exception is set (a bug in the caller: handle or clear the exception first)"
    )
}

// ---------------------------------------------------------------------------
// ABI version

/// `HPY_ABI_VERSION`: the major ABI version (binary incompatible across majors).
pub const HPY_ABI_VERSION: u32 = 0;
/// `HPY_ABI_VERSION_MINOR`: the minor ABI version this crate targets.
pub const HPY_ABI_VERSION_MINOR: u32 = 0;
/// `HPY_ABI_TAG`: the tag in a universal module's file name (`name.hpy0.so`).
pub const HPY_ABI_TAG: &CStr = c"hpy0";

// ---------------------------------------------------------------------------
// Handles and scalar typedefs (hpy.h)

macro_rules! handle_type {
    ($(#[$doc:meta])* $name:ident, $field:ident) => {
        $(#[$doc])*
        ///
        /// Passed and returned **by value** as a one-field C struct, never as a bare
        /// integer (the calling conventions differ on some targets). Its value is
        /// opaque: compare objects with `HPy_Is`, never by value.
        #[repr(C)]
        #[derive(Copy, Clone, Debug)]
        pub struct $name {
            /// The runtime's opaque representation (0 means NULL in every runtime).
            pub $field: isize,
        }

        impl $name {
            /// The NULL value (`_i == 0` in every ABI mode and runtime).
            pub const NULL: Self = Self { $field: 0 };

            /// Whether this is the NULL value.
            #[inline(always)]
            pub const fn is_null(self) -> bool {
                self.$field == 0
            }
        }
    };
}

handle_type!(
    /// `HPy`: a handle to a Python object, valid in one context.
    HPy, _i
);
handle_type!(
    /// `HPyField`: a reference from an object's struct to another object (reported by `tp_traverse`).
    HPyField, _i
);
handle_type!(
    /// `HPyGlobal`: a module-level reference, listed in [`HPyModuleDef::globals`].
    HPyGlobal, _i
);
handle_type!(
    /// `HPyListBuilder`: a list under construction (exactly one `Build` or `Cancel`).
    HPyListBuilder, _lst
);
handle_type!(
    /// `HPyTupleBuilder`: a tuple under construction (exactly one `Build` or `Cancel`).
    HPyTupleBuilder, _tup
);
handle_type!(
    /// `HPyTracker`: a set of handles to close together on an error path.
    HPyTracker, _i
);
handle_type!(
    /// `HPyThreadState`: the state saved by `HPy_LeavePythonExecution`.
    HPyThreadState, _i
);

/// `HPy_NULL`.
pub const HPy_NULL: HPy = HPy::NULL;
/// `HPyField_NULL`.
pub const HPyField_NULL: HPyField = HPyField::NULL;

/// `HPy_IsNull(h)`.
#[inline(always)]
pub const fn HPy_IsNull(h: HPy) -> bool {
    h.is_null()
}

/// `HPyField_IsNull(f)`.
#[inline(always)]
pub const fn HPyField_IsNull(f: HPyField) -> bool {
    f.is_null()
}

/// `HPy_FromVoidP(p)`: reinterprets a pointer as a handle (the ujson idiom).
#[inline(always)]
pub fn HPy_FromVoidP(p: *mut c_void) -> HPy {
    HPy { _i: p as isize }
}

/// `HPy_AsVoidP(h)`: reinterprets a handle as a pointer (the ujson idiom).
#[inline(always)]
pub fn HPy_AsVoidP(h: HPy) -> *mut c_void {
    h._i as *mut c_void
}

/// `HPy_ssize_t`: `intptr_t` in the universal ABI.
pub type HPy_ssize_t = isize;
/// `HPy_hash_t`: `intptr_t` in the universal ABI.
pub type HPy_hash_t = isize;
/// `HPy_UCS4`: a Unicode code point.
pub type HPy_UCS4 = u32;
/// `HPY_SSIZE_T_MAX`.
pub const HPY_SSIZE_T_MAX: HPy_ssize_t = isize::MAX;
/// `HPY_SSIZE_T_MIN`.
pub const HPY_SSIZE_T_MIN: HPy_ssize_t = isize::MIN;

/// C `wchar_t` of the target (used by `HPyUnicode_FromWideChar`).
#[cfg(windows)]
pub type wchar_t = u16;
/// C `wchar_t` of the target (used by `HPyUnicode_FromWideChar`).
#[cfg(all(not(windows), any(target_arch = "aarch64", target_arch = "arm")))]
pub type wchar_t = u32;
/// C `wchar_t` of the target (used by `HPyUnicode_FromWideChar`).
#[cfg(all(not(windows), not(any(target_arch = "aarch64", target_arch = "arm"))))]
pub type wchar_t = i32;

// ---------------------------------------------------------------------------
// CPython types that a universal module sees only as opaque pointers (cpy_types.h)

macro_rules! opaque_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Opaque: only ever used behind a pointer, never dereferenced by a universal module.
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

opaque_type!(
    /// `cpy_PyObject`: CPython's `PyObject`, as seen by trampolines.
    cpy_PyObject
);
opaque_type!(
    /// `cpy_PyMethodDef`: CPython's `PyMethodDef` (legacy methods; NULL in universal mode).
    cpy_PyMethodDef
);
opaque_type!(
    /// `cpy_PyModuleDef`: CPython's `PyModuleDef`.
    cpy_PyModuleDef
);
opaque_type!(
    /// `cpy_Py_buffer`: CPython's `Py_buffer`.
    cpy_Py_buffer
);

/// `cpy_PyCFunction`: the stored type of a trampoline (`PyObject *(*)(PyObject *, PyObject *const *, HPy_ssize_t)`).
///
/// Trampolines of other shapes are cast to this type, as C does.
pub type cpy_PyCFunction = Option<
    unsafe extern "C" fn(
        arg0: *mut cpy_PyObject,
        arg1: *const *mut cpy_PyObject,
        arg2: HPy_ssize_t,
    ) -> *mut cpy_PyObject,
>;
/// `cpy_visitproc`: CPython's `visitproc`.
pub type cpy_visitproc =
    Option<unsafe extern "C" fn(arg0: *mut cpy_PyObject, arg1: *mut c_void) -> c_int>;
/// `cpy_getter`: CPython's `getter`.
pub type cpy_getter =
    Option<unsafe extern "C" fn(arg0: *mut cpy_PyObject, arg1: *mut c_void) -> *mut cpy_PyObject>;
/// `cpy_setter`: CPython's `setter`.
pub type cpy_setter = Option<
    unsafe extern "C" fn(
        arg0: *mut cpy_PyObject,
        arg1: *mut cpy_PyObject,
        arg2: *mut c_void,
    ) -> c_int,
>;
/// `cpy_PyCapsule_Destructor`: CPython's capsule destructor.
pub type cpy_PyCapsule_Destructor = Option<unsafe extern "C" fn(arg0: *mut cpy_PyObject)>;
/// `cpy_vectorcallfunc`: CPython's `vectorcallfunc`.
pub type cpy_vectorcallfunc = Option<
    unsafe extern "C" fn(
        callable: *mut cpy_PyObject,
        args: *const *mut cpy_PyObject,
        nargsf: usize,
        kwnames: *mut cpy_PyObject,
    ) -> *mut cpy_PyObject,
>;

// ---------------------------------------------------------------------------
// Function types (hpydef.h, hpyfunc.h)

/// `HPyCFunction` (`void *(*)()`): the erased type under which impl functions are stored.
pub type HPyCFunction = Option<unsafe extern "C" fn() -> *mut c_void>;
/// `HPyFunc_Capsule_Destructor`: `void (*)(const char *name, void *pointer, void *context)`.
pub type HPyFunc_Capsule_Destructor =
    Option<unsafe extern "C" fn(name: *const c_char, pointer: *mut c_void, context: *mut c_void)>;
/// `HPyFunc_visitproc`: `int (*)(HPyField *, void *)`, the visitor given to `tp_traverse`.
pub type HPyFunc_visitproc =
    Option<unsafe extern "C" fn(arg0: *mut HPyField, arg1: *mut c_void) -> c_int>;

// ---------------------------------------------------------------------------
// HPyDef and its four kinds (hpydef.h)

/// `HPySlot`: a slot definition (`HPyDef_Kind_Slot`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPySlot {
    /// Which slot (`HPy_tp_new`, `HPy_mod_exec`, ...).
    pub slot: HPySlot_Slot,
    /// The impl function, of the signature [`HPySlot_SIG`] gives for the slot.
    pub impl_: HPyCFunction,
    /// The CPython trampoline (ignored by PyPy and GraalPy).
    pub cpy_trampoline: cpy_PyCFunction,
}

/// `HPyMeth`: a method definition (`HPyDef_Kind_Meth`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyMeth {
    /// Python name (NUL-terminated UTF-8).
    pub name: *const c_char,
    /// The impl function, of the C type that `signature` names.
    pub impl_: HPyCFunction,
    /// The CPython trampoline (ignored by PyPy and GraalPy).
    pub cpy_trampoline: cpy_PyCFunction,
    /// One of `HPyFunc_VARARGS`, `HPyFunc_KEYWORDS`, `HPyFunc_NOARGS`, `HPyFunc_O`.
    pub signature: HPyFunc_Signature,
    /// Docstring, or NULL.
    pub doc: *const c_char,
}

/// `HPyMember`: a member definition (`HPyDef_Kind_Member`).
///
/// On CPython, `OBJECT`/`OBJECT_EX` members make the runtime *write into* this
/// struct (it adds the object header size to `offset`), so it must live in
/// writable memory and must not be reused for a second `HPyType_FromSpec`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyMember {
    /// Python name (NUL-terminated UTF-8).
    pub name: *const c_char,
    /// The C type of the field.
    pub type_: HPyMember_FieldType,
    /// Offset of the field in the user struct.
    pub offset: HPy_ssize_t,
    /// Non-zero for a read-only member.
    pub readonly: c_int,
    /// Docstring, or NULL.
    pub doc: *const c_char,
}

/// `HPyGetSet`: a property definition (`HPyDef_Kind_GetSet`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyGetSet {
    /// Python name (NUL-terminated UTF-8).
    pub name: *const c_char,
    /// `HPyFunc_getter` impl, or NULL.
    pub getter_impl: HPyCFunction,
    /// `HPyFunc_setter` impl, or NULL.
    pub setter_impl: HPyCFunction,
    /// CPython trampoline of the getter.
    pub getter_cpy_trampoline: cpy_getter,
    /// CPython trampoline of the setter.
    pub setter_cpy_trampoline: cpy_setter,
    /// Docstring, or NULL.
    pub doc: *const c_char,
    /// Passed to the getter and setter.
    pub closure: *mut c_void,
}

/// The anonymous union inside [`HPyDef`]; which field is live depends on [`HPyDef::kind`].
#[repr(C)]
#[derive(Copy, Clone)]
pub union HPyDef_u {
    /// For `HPyDef_Kind_Slot`.
    pub slot: HPySlot,
    /// For `HPyDef_Kind_Meth`.
    pub meth: HPyMeth,
    /// For `HPyDef_Kind_Member`.
    pub member: HPyMember,
    /// For `HPyDef_Kind_GetSet`.
    pub getset: HPyGetSet,
}

impl core::fmt::Debug for HPyDef_u {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HPyDef_u { .. }")
    }
}

/// `HPyDef`: one entry of a module's or a type's `defines` array (64 bytes on LP64).
///
/// Must be `'static` and **writable** (see [`HPyMember`]).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyDef {
    /// Which union field is live.
    pub kind: HPyDef_Kind,
    /// The definition itself (C: an anonymous union, so C code writes `def.meth`).
    pub u: HPyDef_u,
}

/// `HPyCapsule_Destructor`: the destructor of a capsule, as `HPyCapsule_New` takes it.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyCapsule_Destructor {
    /// CPython trampoline.
    pub cpy_trampoline: cpy_PyCapsule_Destructor,
    /// The destructor itself.
    pub impl_: HPyFunc_Capsule_Destructor,
}

/// `HPyCallFunction`: a per-object call function (`HPy_SetCallFunction`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyCallFunction {
    /// CPython vectorcall trampoline.
    pub cpy_trampoline: cpy_vectorcallfunc,
    /// The impl (`HPyFunc_KEYWORDS` shape).
    pub impl_: HPyFunc_keywords,
}

// ---------------------------------------------------------------------------
// Types (hpytype.h)

/// `HPyType_Vectorcall`: internal pairing of a vectorcall trampoline with its impl.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyType_Vectorcall {
    /// CPython vectorcall trampoline.
    pub cpy_trampoline: cpy_vectorcallfunc,
    /// The call function.
    pub impl_: HPyCallFunction,
}

/// `HPyType_Spec`: what `HPyType_FromSpec` builds a type from (56 bytes on LP64).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyType_Spec {
    /// `"module.Qualname"`.
    pub name: *const c_char,
    /// Size of the user struct only (not the object header).
    pub basicsize: c_int,
    /// Must be 0 (variable-size objects are not supported).
    pub itemsize: c_int,
    /// `HPy_TPFLAGS_*`; a C `unsigned long` (8 bytes on LP64, 4 on Windows).
    pub flags: c_ulong,
    /// Must match the base given in the spec params.
    pub builtin_shape: HPyType_BuiltinShape,
    /// NULL in universal mode.
    pub legacy_slots: *mut c_void,
    /// NULL-terminated array of definitions.
    pub defines: *mut *mut HPyDef,
    /// Docstring, or NULL.
    pub doc: *const c_char,
}

/// `HPyType_SpecParam`: an extra parameter of `HPyType_FromSpec`; arrays end with `kind == 0`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyType_SpecParam {
    /// `HPyType_SpecParam_Base`, `_BasesTuple` or `_Metaclass`; 0 ends the array.
    pub kind: HPyType_SpecParam_Kind,
    /// The base, bases tuple or metaclass.
    pub object: HPy,
}

/// `_Py_TPFLAGS_HEAPTYPE`.
pub const _Py_TPFLAGS_HEAPTYPE: c_ulong = 1 << 9;
/// `_Py_TPFLAGS_HAVE_VERSION_TAG`.
pub const _Py_TPFLAGS_HAVE_VERSION_TAG: c_ulong = 1 << 18;
/// `HPy_TPFLAGS_DEFAULT`: heap type with a version tag.
pub const HPy_TPFLAGS_DEFAULT: c_ulong = _Py_TPFLAGS_HEAPTYPE | _Py_TPFLAGS_HAVE_VERSION_TAG;
/// `HPy_TPFLAGS_HAVE_VECTORCALL` (set automatically by `HPy_tp_call`).
pub const HPy_TPFLAGS_HAVE_VECTORCALL: c_ulong = 1 << 11;
/// `HPy_TPFLAGS_BASETYPE`: the type can be subclassed.
pub const HPy_TPFLAGS_BASETYPE: c_ulong = 1 << 10;
/// `HPy_TPFLAGS_HAVE_GC`: the type takes part in GC; requires `HPy_tp_traverse`.
pub const HPy_TPFLAGS_HAVE_GC: c_ulong = 1 << 14;

// ---------------------------------------------------------------------------
// Modules (hpymodule.h)

/// `HPyModuleDef` (40 bytes on LP64). There is no name: it comes from the module spec.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPyModuleDef {
    /// Docstring, or NULL.
    pub doc: *const c_char,
    /// Must be 0 (module state is not supported).
    pub size: HPy_ssize_t,
    /// NULL in universal mode.
    pub legacy_methods: *mut cpy_PyMethodDef,
    /// NULL-terminated array of definitions (methods, `HPy_mod_exec`/`HPy_mod_create` slots).
    pub defines: *mut *mut HPyDef,
    /// NULL-terminated array of every static [`HPyGlobal`] of the module (start them zeroed).
    pub globals: *mut *mut HPyGlobal,
}

// ---------------------------------------------------------------------------
// Buffers (hpyfunc.h)

/// `HPy_buffer` (80 bytes on LP64), filled by `bf_getbuffer`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct HPy_buffer {
    /// Start of the memory.
    pub buf: *mut c_void,
    /// The exporting object (an owned handle).
    pub obj: HPy,
    /// Length in bytes.
    pub len: HPy_ssize_t,
    /// Size of one item.
    pub itemsize: HPy_ssize_t,
    /// Non-zero if read-only.
    pub readonly: c_int,
    /// Number of dimensions.
    pub ndim: c_int,
    /// `struct`-module format string, or NULL for `"B"`.
    pub format: *mut c_char,
    /// Shape array, or NULL.
    pub shape: *mut HPy_ssize_t,
    /// Strides array, or NULL.
    pub strides: *mut HPy_ssize_t,
    /// Suboffsets array, or NULL.
    pub suboffsets: *mut HPy_ssize_t,
    /// For the exporter's private use.
    pub internal: *mut c_void,
}

// ---------------------------------------------------------------------------
// Context functions with hand-written C wrappers (misc_trampolines.h)

/// `_HPy_New`: calls `ctx_New` (`HPy_ID(170)`): allocates an instance of `h_type`
/// and stores a pointer to its zeroed payload into `*data`.
///
/// Like the C wrapper, the runtime writes into a local, not into `*data`, so the
/// caller's variable does not escape.
///
/// # Safety
/// `ctx` must point to the live context of the current call, `h_type` must be an
/// open handle to an HPy type, and `data` must be valid for a write.
#[inline(always)]
pub unsafe fn _HPy_New(ctx: *mut HPyContext, h_type: HPy, data: *mut *mut c_void) -> HPy {
    let mut data_result: *mut c_void = core::ptr::null_mut();
    // SAFETY: the caller guarantees that `ctx` is live.
    unsafe { check_no_pending_error(ctx, "_HPy_New") };
    // SAFETY: the caller guarantees that `ctx` is live (so its members are set) and
    // `h_type` is open; `data_result` is a valid local to write to.
    #[cfg(not(hpy_abi = "cpython"))]
    let h = unsafe { ((*ctx).ctx_New.unwrap_unchecked())(ctx, h_type, &mut data_result) };
    // SAFETY: as above; the CPython implementation has the same contract.
    #[cfg(hpy_abi = "cpython")]
    let h = unsafe { cpython::ctx_New(ctx, h_type, &mut data_result) };
    // SAFETY: the caller guarantees `data` is valid for a write.
    unsafe { *data = data_result };
    h
}

unsafe extern "C" {
    fn abort() -> !;
}

/// `HPy_FatalError`: calls `ctx_FatalError` (`HPy_ID(136)`), which prints
/// `message` and aborts the process. Never returns.
///
/// # Safety
/// `ctx` must point to the live context of the current call and `message` to a
/// NUL-terminated string.
#[inline(always)]
pub unsafe fn HPy_FatalError(ctx: *mut HPyContext, message: *const c_char) -> ! {
    // SAFETY: the caller guarantees that `ctx` is live and `message` is a C string.
    #[cfg(not(hpy_abi = "cpython"))]
    unsafe {
        ((*ctx).ctx_FatalError.unwrap_unchecked())(ctx, message)
    };
    // SAFETY: `message` is a C string (the caller's contract).
    #[cfg(hpy_abi = "cpython")]
    unsafe {
        cpython::ctx_FatalError(ctx, message)
    };
    // SAFETY: `abort` is always safe to call; it is reached only if a runtime's
    // FatalError returned, which it must not.
    unsafe { abort() }
}

/// `HPyCapsule_GetPointer`: `HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Pointer, name)`.
///
/// # Safety
/// As for [`HPyCapsule_Get`]; `name` must be NULL or a C string.
#[inline(always)]
pub unsafe fn HPyCapsule_GetPointer(
    ctx: *mut HPyContext,
    capsule: HPy,
    name: *const c_char,
) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    unsafe { HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Pointer, name) }
}

/// `HPyCapsule_GetName`: the capsule's name (or NULL).
///
/// # Safety
/// As for [`HPyCapsule_Get`].
#[inline(always)]
pub unsafe fn HPyCapsule_GetName(ctx: *mut HPyContext, capsule: HPy) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Name, core::ptr::null()) as *const c_char }
}

/// `HPyCapsule_GetContext`: the capsule's context pointer.
///
/// # Safety
/// As for [`HPyCapsule_Get`].
#[inline(always)]
pub unsafe fn HPyCapsule_GetContext(ctx: *mut HPyContext, capsule: HPy) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    unsafe { HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Context, core::ptr::null()) }
}

/// `HPyCapsule_SetPointer`.
///
/// # Safety
/// As for [`HPyCapsule_Set`].
#[inline(always)]
pub unsafe fn HPyCapsule_SetPointer(
    ctx: *mut HPyContext,
    capsule: HPy,
    pointer: *mut c_void,
) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Pointer, pointer) }
}

/// `HPyCapsule_SetName`.
///
/// # Safety
/// As for [`HPyCapsule_Set`]; `name` must outlive the capsule.
#[inline(always)]
pub unsafe fn HPyCapsule_SetName(ctx: *mut HPyContext, capsule: HPy, name: *const c_char) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Name, name as *mut c_void) }
}

/// `HPyCapsule_SetContext`.
///
/// # Safety
/// As for [`HPyCapsule_Set`].
#[inline(always)]
pub unsafe fn HPyCapsule_SetContext(
    ctx: *mut HPyContext,
    capsule: HPy,
    context: *mut c_void,
) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Context, context) }
}

/// `HPyCapsule_SetDestructor`.
///
/// # Safety
/// As for [`HPyCapsule_Set`]; `destructor` must be `'static`.
#[inline(always)]
pub unsafe fn HPyCapsule_SetDestructor(
    ctx: *mut HPyContext,
    capsule: HPy,
    destructor: *mut HPyCapsule_Destructor,
) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe {
        HPyCapsule_Set(
            ctx,
            capsule,
            HPyCapsule_key_Destructor,
            destructor as *mut c_void,
        )
    }
}

// ---------------------------------------------------------------------------
// Inline helpers of hpy/inline_helpers.h (compiled into every C extension; not
// context members). Each has the C helper's contract.

/// `HPyErr_SetFromErrno`: raises `h_type` from `errno`; returns `HPy_NULL`.
///
/// # Safety
/// `ctx` must be live and `h_type` an open handle to an exception type.
#[inline(always)]
pub unsafe fn HPyErr_SetFromErrno(ctx: *mut HPyContext, h_type: HPy) -> HPy {
    // SAFETY: forwarded from the caller; NULL filenames are allowed.
    unsafe { HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, HPy::NULL, HPy::NULL) }
}

/// `HPyErr_SetFromErrnoWithFilenameObject`: like [`HPyErr_SetFromErrno`] with one filename.
///
/// # Safety
/// `ctx` must be live; `h_type` and `filename` open handles (`filename` may be NULL).
#[inline(always)]
pub unsafe fn HPyErr_SetFromErrnoWithFilenameObject(
    ctx: *mut HPyContext,
    h_type: HPy,
    filename: HPy,
) -> HPy {
    // SAFETY: forwarded from the caller.
    unsafe { HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, filename, HPy::NULL) }
}

/// `HPyTuple_Pack`: a new tuple of `items` (the C helper is variadic; this takes a slice).
///
/// # Safety
/// `ctx` must be live and every item an open handle.
#[inline(always)]
pub unsafe fn HPyTuple_Pack(ctx: *mut HPyContext, items: &[HPy]) -> HPy {
    // SAFETY: forwarded from the caller; `HPyTuple_FromArray` only reads the array
    // (the C prototype lacks `const`), and a slice never holds more than
    // `isize::MAX` bytes, so its length fits `HPy_ssize_t`.
    unsafe { HPyTuple_FromArray(ctx, items.as_ptr() as *mut HPy, items.len() as HPy_ssize_t) }
}

/// `HPy_DelAttr`: `HPy_SetAttr(ctx, obj, name, HPy_NULL)`.
///
/// # Safety
/// `ctx` must be live; `obj` and `name` open handles.
#[inline(always)]
pub unsafe fn HPy_DelAttr(ctx: *mut HPyContext, obj: HPy, name: HPy) -> c_int {
    // SAFETY: forwarded from the caller; a NULL value means delete.
    unsafe { HPy_SetAttr(ctx, obj, name, HPy::NULL) }
}

/// `HPy_DelAttr_s`: `HPy_SetAttr_s(ctx, obj, utf8_name, HPy_NULL)`.
///
/// # Safety
/// `ctx` must be live; `obj` an open handle; `utf8_name` a C string.
#[inline(always)]
pub unsafe fn HPy_DelAttr_s(ctx: *mut HPyContext, obj: HPy, utf8_name: *const c_char) -> c_int {
    // SAFETY: forwarded from the caller; a NULL value means delete.
    unsafe { HPy_SetAttr_s(ctx, obj, utf8_name, HPy::NULL) }
}

macro_rules! int_helpers {
    ($( $(#[$doc:meta])* fn $name:ident($arg:ident: $t:ty) -> HPy, via $target:ident as $as:ty; )*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `ctx` must point to the live context of the current call.
        #[inline(always)]
        pub unsafe fn $name(ctx: *mut HPyContext, $arg: $t) -> HPy {
            // SAFETY: forwarded from the caller; the conversion is lossless because
            // the target width is at least that of the C type on every target.
            unsafe { $target(ctx, $arg as $as) }
        }
    )*};
}

macro_rules! as_int_helpers {
    ($( $(#[$doc:meta])* fn $name:ident -> $t:ty, via $target:ident; )*) => {$(
        $(#[$doc])*
        /// Returns -1 with an exception set on error.
        ///
        /// # Safety
        /// `ctx` must point to the live context of the current call and `h` be open.
        #[inline(always)]
        pub unsafe fn $name(ctx: *mut HPyContext, h: HPy) -> $t {
            // SAFETY: forwarded from the caller; the result fits the C type because
            // the source width equals it on this target.
            unsafe { $target(ctx, h) as $t }
        }
    )*};
}

#[cfg(not(windows))]
int_helpers! {
    /// `HPyLong_FromLong` (64-bit `long`: `HPyLong_FromInt64_t`).
    fn HPyLong_FromLong(l: c_long) -> HPy, via HPyLong_FromInt64_t as i64;
    /// `HPyLong_FromUnsignedLong` (64-bit `long`: `HPyLong_FromUInt64_t`).
    fn HPyLong_FromUnsignedLong(l: c_ulong) -> HPy, via HPyLong_FromUInt64_t as u64;
}
#[cfg(windows)]
int_helpers! {
    /// `HPyLong_FromLong` (32-bit `long`: `HPyLong_FromInt32_t`).
    fn HPyLong_FromLong(l: c_long) -> HPy, via HPyLong_FromInt32_t as i32;
    /// `HPyLong_FromUnsignedLong` (32-bit `long`: `HPyLong_FromUInt32_t`).
    fn HPyLong_FromUnsignedLong(l: c_ulong) -> HPy, via HPyLong_FromUInt32_t as u32;
}
int_helpers! {
    /// `HPyLong_FromLongLong`.
    fn HPyLong_FromLongLong(l: c_longlong) -> HPy, via HPyLong_FromInt64_t as i64;
    /// `HPyLong_FromUnsignedLongLong`.
    fn HPyLong_FromUnsignedLongLong(l: c_ulonglong) -> HPy, via HPyLong_FromUInt64_t as u64;
}

#[cfg(not(windows))]
as_int_helpers! {
    /// `HPyLong_AsLong` (64-bit `long`: `HPyLong_AsInt64_t`).
    fn HPyLong_AsLong -> c_long, via HPyLong_AsInt64_t;
    /// `HPyLong_AsUnsignedLong` (64-bit `long`: `HPyLong_AsUInt64_t`).
    fn HPyLong_AsUnsignedLong -> c_ulong, via HPyLong_AsUInt64_t;
    /// `HPyLong_AsUnsignedLongMask` (64-bit `long`: `HPyLong_AsUInt64_tMask`).
    fn HPyLong_AsUnsignedLongMask -> c_ulong, via HPyLong_AsUInt64_tMask;
}
#[cfg(windows)]
as_int_helpers! {
    /// `HPyLong_AsLong` (32-bit `long`: `HPyLong_AsInt32_t`).
    fn HPyLong_AsLong -> c_long, via HPyLong_AsInt32_t;
    /// `HPyLong_AsUnsignedLong` (32-bit `long`: `HPyLong_AsUInt32_t`).
    fn HPyLong_AsUnsignedLong -> c_ulong, via HPyLong_AsUInt32_t;
    /// `HPyLong_AsUnsignedLongMask` (32-bit `long`: `HPyLong_AsUInt32_tMask`).
    fn HPyLong_AsUnsignedLongMask -> c_ulong, via HPyLong_AsUInt32_tMask;
}
as_int_helpers! {
    /// `HPyLong_AsLongLong`.
    fn HPyLong_AsLongLong -> c_longlong, via HPyLong_AsInt64_t;
    /// `HPyLong_AsUnsignedLongLong`.
    fn HPyLong_AsUnsignedLongLong -> c_ulonglong, via HPyLong_AsUInt64_t;
    /// `HPyLong_AsUnsignedLongLongMask`.
    fn HPyLong_AsUnsignedLongLongMask -> c_ulonglong, via HPyLong_AsUInt64_tMask;
}

/// `HPyBool_FromLong`: `True` if `v != 0`.
///
/// # Safety
/// `ctx` must point to the live context of the current call.
#[inline(always)]
pub unsafe fn HPyBool_FromLong(ctx: *mut HPyContext, v: c_long) -> HPy {
    // SAFETY: forwarded from the caller.
    unsafe { HPyBool_FromBool(ctx, v != 0) }
}

/// `HPySlice_AdjustIndices`: clamps `start`/`stop` to a sequence of `length` for
/// a slice with `step`, and returns the slice length. Pure arithmetic (no context use).
///
/// `step` must not be 0 (as in C, where that is an assertion); this function
/// returns 0 for it instead of dividing by zero.
pub fn HPySlice_AdjustIndices(
    length: HPy_ssize_t,
    start: &mut HPy_ssize_t,
    stop: &mut HPy_ssize_t,
    step: HPy_ssize_t,
) -> HPy_ssize_t {
    if step == 0 {
        return 0;
    }
    let clamp = |i: &mut HPy_ssize_t| {
        if *i < 0 {
            *i += length;
            if *i < 0 {
                *i = if step < 0 { -1 } else { 0 };
            }
        } else if *i >= length {
            *i = if step < 0 { length - 1 } else { length };
        }
    };
    clamp(start);
    clamp(stop);
    if step < 0 {
        if *stop < *start {
            return (*start - *stop - 1) / (-step) + 1;
        }
    } else if *start < *stop {
        return (*stop - *start - 1) / step + 1;
    }
    0
}

/// `HPy_CallMethodTupleDict_s`: `receiver.<utf8_name>(*args, **kw)` through `HPy_CallTupleDict`.
///
/// # Safety
/// `ctx` must be live; `receiver` open; `args` a tuple or NULL; `kw` a dict or NULL;
/// `utf8_name` a C string.
#[inline]
pub unsafe fn HPy_CallMethodTupleDict_s(
    ctx: *mut HPyContext,
    utf8_name: *const c_char,
    receiver: HPy,
    args: HPy,
    kw: HPy,
) -> HPy {
    // SAFETY: forwarded from the caller.
    let method = unsafe { HPy_GetAttr_s(ctx, receiver, utf8_name) };
    if method.is_null() {
        return HPy::NULL;
    }
    // SAFETY: forwarded from the caller; `method` is a fresh handle we own and close.
    unsafe {
        let result = HPy_CallTupleDict(ctx, method, args, kw);
        HPy_Close(ctx, method);
        result
    }
}

/// `HPy_CallMethodTupleDict`: `receiver.<name>(*args, **kw)` through `HPy_CallTupleDict`.
///
/// # Safety
/// `ctx` must be live; `name` and `receiver` open; `args` a tuple or NULL; `kw` a dict or NULL.
#[inline]
pub unsafe fn HPy_CallMethodTupleDict(
    ctx: *mut HPyContext,
    name: HPy,
    receiver: HPy,
    args: HPy,
    kw: HPy,
) -> HPy {
    // SAFETY: forwarded from the caller.
    let method = unsafe { HPy_GetAttr(ctx, receiver, name) };
    if method.is_null() {
        return HPy::NULL;
    }
    // SAFETY: forwarded from the caller; `method` is a fresh handle we own and close.
    unsafe {
        let result = HPy_CallTupleDict(ctx, method, args, kw);
        HPy_Close(ctx, method);
        result
    }
}
