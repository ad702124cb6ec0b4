//! Impl-function types, their erasure to `HPyCFunction`, and the bodies of
//! the CPython trampolines (which call the impl through the runtime).

use core::ffi::{c_int, c_void};
use core::ptr::null_mut;

use super::{sys, trampoline_context};
use sys::{HPy, HPyContext, cpy_PyObject};

// ---------------------------------------------------------------------------
// Impl function types and their erasure to `HPyCFunction`

/// `HPyFunc_NOARGS` impl.
pub type NoArgsImpl = unsafe extern "C" fn(*mut HPyContext, HPy) -> HPy;
/// `HPyFunc_O` impl.
pub type OImpl = unsafe extern "C" fn(*mut HPyContext, HPy, HPy) -> HPy;
/// `HPyFunc_VARARGS` impl.
pub type VarArgsImpl = unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, usize) -> HPy;
/// `HPyFunc_KEYWORDS` impl.
pub type KeywordsImpl = unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, usize, HPy) -> HPy;
/// `HPyFunc_INQUIRY` impl (e.g. `HPy_mod_exec`).
pub type InquiryImpl = unsafe extern "C" fn(*mut HPyContext, HPy) -> c_int;

/// CPython trampoline of a NOARGS method (`METH_NOARGS`: `(self, NULL)`).
pub type NoArgsTrampoline =
    unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject;
/// CPython trampoline of an O method (`METH_O`).
pub type OTrampoline =
    unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject;
/// CPython trampoline of a VARARGS method (`METH_FASTCALL`).
pub type VarArgsTrampoline =
    unsafe extern "C" fn(*mut cpy_PyObject, *const *mut cpy_PyObject, isize) -> *mut cpy_PyObject;
/// CPython trampoline of a KEYWORDS method (`METH_FASTCALL | METH_KEYWORDS`).
pub type KeywordsTrampoline = unsafe extern "C" fn(
    *mut cpy_PyObject,
    *const *mut cpy_PyObject,
    usize,
    *mut cpy_PyObject,
) -> *mut cpy_PyObject;
/// CPython trampoline of an INQUIRY slot (`HPy_mod_exec`).
pub type InquiryTrampoline = unsafe extern "C" fn(*mut cpy_PyObject) -> c_int;

macro_rules! erasers {
    ($($(#[$doc:meta])* $name:ident($from:ty) -> $to:ty as $raw:ty;)*) => {$(
        $(#[$doc])*
        #[inline(always)]
        pub const fn $name(f: $from) -> $to {
            // SAFETY: all function pointers have one size and representation. The
            // erased pointer is only ever called back with its real signature:
            // the runtime uses the `HPyFunc_Signature` stored next to it, and
            // CPython calls a trampoline with the calling convention of its
            // `METH_*` flag, which is the signature it was written with.
            Some(unsafe { core::mem::transmute::<$from, $raw>(f) })
        }
    )*};
}

type RawCFunction = unsafe extern "C" fn() -> *mut c_void;
type RawPyCFunction =
    unsafe extern "C" fn(*mut cpy_PyObject, *const *mut cpy_PyObject, isize) -> *mut cpy_PyObject;

erasers! {
    /// `(HPyCFunction)impl` for a NOARGS impl.
    erase_noargs(NoArgsImpl) -> sys::HPyCFunction as RawCFunction;
    /// `(HPyCFunction)impl` for an O impl.
    erase_o(OImpl) -> sys::HPyCFunction as RawCFunction;
    /// `(HPyCFunction)impl` for a VARARGS impl.
    erase_varargs(VarArgsImpl) -> sys::HPyCFunction as RawCFunction;
    /// `(HPyCFunction)impl` for a KEYWORDS impl.
    erase_keywords(KeywordsImpl) -> sys::HPyCFunction as RawCFunction;
    /// `(HPyCFunction)impl` for an INQUIRY impl.
    erase_inquiry(InquiryImpl) -> sys::HPyCFunction as RawCFunction;
    /// `(cpy_PyCFunction)trampoline` for a NOARGS trampoline.
    erase_noargs_trampoline(NoArgsTrampoline) -> sys::cpy_PyCFunction as RawPyCFunction;
    /// `(cpy_PyCFunction)trampoline` for a KEYWORDS trampoline.
    erase_keywords_trampoline(KeywordsTrampoline) -> sys::cpy_PyCFunction as RawPyCFunction;
    /// `(cpy_PyCFunction)trampoline` for an INQUIRY trampoline.
    erase_inquiry_trampoline(InquiryTrampoline) -> sys::cpy_PyCFunction as RawPyCFunction;
}

/// `(cpy_PyCFunction)trampoline` for a VARARGS trampoline: it already has the
/// stored type.
#[inline(always)]
pub const fn erase_varargs_trampoline(f: VarArgsTrampoline) -> sys::cpy_PyCFunction {
    Some(f)
}

const _: () = assert!(size_of::<RawCFunction>() == size_of::<RawPyCFunction>());

// ---------------------------------------------------------------------------
// CPython trampolines

/// Calls `impl_` through the runtime with the trampoline context; `args` is the
/// `_HPyFunc_args_*` struct of `sig`.
#[inline(always)]
unsafe fn call_real(sig: sys::HPyFunc_Signature, impl_: sys::HPyCFunction, args: *mut c_void) {
    // SAFETY: CPython calls trampolines only after the loader ran
    // `HPyInitGlobalContext_<module>`, so the context is set; the caller passes
    // the argument struct that belongs to `sig`, and an impl of that signature.
    unsafe { sys::_HPy_CallRealFunctionFromTrampoline(trampoline_context(), sig, impl_, args) }
}

/// Body of a NOARGS trampoline.
///
/// # Safety
/// Called by CPython with the arguments of `METH_NOARGS`.
#[inline(always)]
pub unsafe fn trampoline_noargs(slf: *mut cpy_PyObject, impl_: NoArgsImpl) -> *mut cpy_PyObject {
    let mut a = sys::_HPyFunc_args_NOARGS {
        self_: slf,
        result: null_mut(),
    };
    // SAFETY: `a` is the NOARGS argument struct.
    unsafe {
        call_real(
            sys::HPyFunc_NOARGS,
            erase_noargs(impl_),
            (&raw mut a).cast(),
        )
    };
    a.result
}

/// Body of an O trampoline.
///
/// # Safety
/// Called by CPython with the arguments of `METH_O`.
#[inline(always)]
pub unsafe fn trampoline_o(
    slf: *mut cpy_PyObject,
    arg: *mut cpy_PyObject,
    impl_: OImpl,
) -> *mut cpy_PyObject {
    let mut a = sys::_HPyFunc_args_O {
        self_: slf,
        arg,
        result: null_mut(),
    };
    // SAFETY: `a` is the O argument struct.
    unsafe { call_real(sys::HPyFunc_O, erase_o(impl_), (&raw mut a).cast()) };
    a.result
}

/// Body of a VARARGS trampoline.
///
/// # Safety
/// Called by CPython with the arguments of `METH_FASTCALL`.
#[inline(always)]
pub unsafe fn trampoline_varargs(
    slf: *mut cpy_PyObject,
    args: *const *mut cpy_PyObject,
    nargs: isize,
    impl_: VarArgsImpl,
) -> *mut cpy_PyObject {
    let mut a = sys::_HPyFunc_args_VARARGS {
        self_: slf,
        args,
        nargs,
        result: null_mut(),
    };
    // SAFETY: `a` is the VARARGS argument struct.
    unsafe {
        call_real(
            sys::HPyFunc_VARARGS,
            erase_varargs(impl_),
            (&raw mut a).cast(),
        )
    };
    a.result
}

/// Body of a KEYWORDS trampoline.
///
/// # Safety
/// Called by CPython with the arguments of `METH_FASTCALL | METH_KEYWORDS`.
#[inline(always)]
pub unsafe fn trampoline_keywords(
    slf: *mut cpy_PyObject,
    args: *const *mut cpy_PyObject,
    nargsf: usize,
    kwnames: *mut cpy_PyObject,
    impl_: KeywordsImpl,
) -> *mut cpy_PyObject {
    let mut a = sys::_HPyFunc_args_KEYWORDS {
        self_: slf,
        args,
        nargsf,
        kwnames,
        result: null_mut(),
    };
    // SAFETY: `a` is the KEYWORDS argument struct.
    unsafe {
        call_real(
            sys::HPyFunc_KEYWORDS,
            erase_keywords(impl_),
            (&raw mut a).cast(),
        )
    };
    a.result
}

/// Body of an INQUIRY trampoline (`HPy_mod_exec`).
///
/// # Safety
/// Called by CPython with the module object.
#[inline(always)]
pub unsafe fn trampoline_inquiry(arg0: *mut cpy_PyObject, impl_: InquiryImpl) -> c_int {
    let mut a = sys::_HPyFunc_args_INQUIRY { arg0, result: 0 };
    // SAFETY: `a` is the INQUIRY argument struct.
    unsafe {
        call_real(
            sys::HPyFunc_INQUIRY,
            erase_inquiry(impl_),
            (&raw mut a).cast(),
        )
    };
    a.result
}

/// Body of a CAPSULE_DESTRUCTOR trampoline (`cpy_PyCapsule_Destructor`): CPython
/// passes the capsule being deallocated, which is itself the argument block of
/// this signature (as in C's `HPyCapsule_DESTRUCTOR`).
///
/// # Safety
/// Called by CPython with the capsule object; `impl_` must be an
/// `HPyFunc_Capsule_Destructor`.
#[inline(always)]
pub unsafe fn trampoline_capsule_destructor(capsule: *mut cpy_PyObject, impl_: sys::HPyCFunction) {
    // SAFETY: the capsule is the argument of this signature; `impl_` has it.
    unsafe { call_real(sys::HPyFunc_CAPSULE_DESTRUCTOR, impl_, capsule.cast()) }
}
