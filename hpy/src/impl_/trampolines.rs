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
/// CPython's `tp_iternext` of a class (`sys::HPY_RS_tp_iternext`, CPython-ABI
/// builds): `(self)`.
pub type IterNextTrampoline = unsafe extern "C" fn(*mut cpy_PyObject) -> *mut cpy_PyObject;

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
    /// `(cpy_PyCFunction)tp_iternext` for the `HPY_RS_tp_iternext` slot
    /// (which CPython calls as `tp_iternext`).
    erase_iternext_trampoline(IterNextTrampoline) -> sys::cpy_PyCFunction as RawPyCFunction;
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

/// Calls `impl_` with the trampoline context; `a` is the `_HPyFunc_args_*`
/// struct of `sig`, whose `result` the call writes.
#[inline(always)]
unsafe fn call_real<A: Copy>(sig: sys::HPyFunc_Signature, impl_: sys::HPyCFunction, a: &mut A) {
    // Universal builds on CPython: the impl called from here, where the
    // runtime's handles allow it (see `direct`).
    // SAFETY: as below.
    #[cfg(not(hpy_abi = "cpython"))]
    if unsafe { super::direct::call(trampoline_context(), sig, impl_, (&raw mut *a).cast()) } {
        return;
    }
    // Universal builds: the runtime gets a copy, so that the address of `a`
    // itself never escapes and the direct path above keeps the struct in
    // registers. (A CPython-ABI build's runtime call is inlined: no copy.)
    #[cfg(not(hpy_abi = "cpython"))]
    {
        let mut copy = *a;
        // SAFETY: forwarded.
        unsafe { call_runtime(sig, impl_, (&raw mut copy).cast()) };
        *a = copy;
    }
    // SAFETY: forwarded.
    #[cfg(hpy_abi = "cpython")]
    unsafe {
        call_runtime(sig, impl_, (&raw mut *a).cast())
    };
}

/// Calls `impl_` through the runtime with the trampoline context; `args` is the
/// argument block of `sig`.
#[inline(always)]
unsafe fn call_runtime(sig: sys::HPyFunc_Signature, impl_: sys::HPyCFunction, args: *mut c_void) {
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
    unsafe { call_real(sys::HPyFunc_NOARGS, erase_noargs(impl_), &mut a) };
    a.result
}

/// Body of a class's `tp_iternext` (the `HPY_RS_tp_iternext` slot of a
/// CPython-ABI build): its `__next__` impl, called as the NOARGS method is.
///
/// # Safety
/// Called by CPython as `tp_iternext`, with an instance of the class.
#[inline(always)]
pub unsafe fn trampoline_iternext(slf: *mut cpy_PyObject, impl_: NoArgsImpl) -> *mut cpy_PyObject {
    // SAFETY: forwarded; `tp_iternext` gets what a NOARGS method gets
    // (its `NULL` argument aside).
    unsafe { trampoline_noargs(slf, impl_) }
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
    unsafe { call_real(sys::HPyFunc_O, erase_o(impl_), &mut a) };
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
    unsafe { call_real(sys::HPyFunc_VARARGS, erase_varargs(impl_), &mut a) };
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
    unsafe { call_real(sys::HPyFunc_KEYWORDS, erase_keywords(impl_), &mut a) };
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
    unsafe { call_real(sys::HPyFunc_INQUIRY, erase_inquiry(impl_), &mut a) };
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
    unsafe { call_runtime(sys::HPyFunc_CAPSULE_DESTRUCTOR, impl_, capsule.cast()) }
}

// ---------------------------------------------------------------------------
// Slots of classes: impl types, erasers and CPython trampoline bodies

/// Declares, for one slot signature: the impl function type, its eraser to
/// `HPyCFunction`, the CPython trampoline's function type and its eraser to
/// `cpy_PyCFunction`, and the trampoline body, which packs CPython's
/// arguments into the signature's `_HPyFunc_args_*` struct, calls the impl
/// through the runtime, and returns `result`.
macro_rules! slot_signatures {
    ($(
        $(#[$doc:meta])*
        $sig:ident: impl $Impl:ident($($ip:ty),*) -> $ir:ty, erase $erase:ident;
        trampoline $Tramp:ident($($f:ident: $ft:ty),*) -> $res:ty, erase $erase_tramp:ident,
        body $body:ident, args $Args:ident;
    )*) => {$(
        $(#[$doc])*
        pub type $Impl = unsafe extern "C" fn(*mut HPyContext, $($ip),*) -> $ir;
        #[doc = concat!("CPython's side of `", stringify!($sig), "`.")]
        pub type $Tramp = unsafe extern "C" fn($($ft),*) -> $res;

        #[doc = concat!("`(HPyCFunction)impl` for a `", stringify!($sig), "` impl.")]
        #[inline(always)]
        pub const fn $erase(f: $Impl) -> sys::HPyCFunction {
            // SAFETY: as for the other erasers: the runtime calls it back with the
            // signature stored next to it.
            Some(unsafe { core::mem::transmute::<$Impl, RawCFunction>(f) })
        }

        #[doc = concat!("`(cpy_PyCFunction)trampoline` for a `", stringify!($sig), "` trampoline.")]
        #[inline(always)]
        pub const fn $erase_tramp(f: $Tramp) -> sys::cpy_PyCFunction {
            // SAFETY: CPython calls a slot's trampoline with the C signature of the
            // slot, which is the one it was written with.
            Some(unsafe { core::mem::transmute::<$Tramp, RawPyCFunction>(f) })
        }

        #[doc = concat!("Body of a `", stringify!($sig), "` trampoline.")]
        ///
        /// # Safety
        /// Called by CPython with the arguments of the slot.
        #[inline(always)]
        pub unsafe fn $body($($f: $ft,)* impl_: $Impl) -> $res {
            // SAFETY: the argument struct is plain data (pointers and integers),
            // valid all zero; the runtime writes `result`.
            let mut a: sys::$Args = unsafe { core::mem::zeroed() };
            $(slot_signatures!(@set a, $f, $f);)*
            // SAFETY: `a` is the argument struct of this signature, `impl_` an impl
            // of it.
            unsafe { call_real(sys::$sig, $erase(impl_), &mut a) };
            slot_signatures!(@result a, $res)
        }
    )*};
    (@set $a:ident, $f:ident, $v:expr) => { $a.$f = PackArg::pack($v); };
    (@result $a:ident, ()) => { () };
    (@result $a:ident, $res:ty) => { $a.result };
}

/// `HPyFunc_DESTRUCTOR` impl (`tp_finalize`).
pub type DestructorImpl = unsafe extern "C" fn(*mut HPyContext, HPy);
/// CPython's side of `HPyFunc_DESTRUCTOR`.
pub type DestructorTrampoline = unsafe extern "C" fn(*mut cpy_PyObject);

/// `(HPyCFunction)impl` for a `HPyFunc_DESTRUCTOR` impl.
#[inline(always)]
pub const fn erase_destructor(f: DestructorImpl) -> sys::HPyCFunction {
    // SAFETY: the runtime calls it back with the signature stored next to it.
    Some(unsafe { core::mem::transmute::<DestructorImpl, RawCFunction>(f) })
}

/// `(cpy_PyCFunction)trampoline` for a `HPyFunc_DESTRUCTOR` trampoline.
#[inline(always)]
pub const fn erase_destructor_trampoline(f: DestructorTrampoline) -> sys::cpy_PyCFunction {
    // SAFETY: CPython calls it as `tp_finalize`, the signature it has.
    Some(unsafe { core::mem::transmute::<DestructorTrampoline, RawPyCFunction>(f) })
}

/// Body of a `HPyFunc_DESTRUCTOR` trampoline.
///
/// # Safety
/// Called by CPython as `tp_finalize`.
#[inline(always)]
pub unsafe fn trampoline_destructor(arg0: *mut cpy_PyObject, impl_: DestructorImpl) {
    let mut a = sys::_HPyFunc_args_DESTRUCTOR { arg0 };
    // SAFETY: `a` is the argument struct of this signature, `impl_` an impl of it.
    unsafe { call_real(sys::HPyFunc_DESTRUCTOR, erase_destructor(impl_), &mut a) };
}

/// A trampoline's argument as its argument struct stores it: the same value,
/// or CPython's `int op` as `HPy_RichCmpOp`.
trait PackArg<T> {
    fn pack(self) -> T;
}

impl<T> PackArg<T> for T {
    #[inline(always)]
    fn pack(self) -> T {
        self
    }
}

impl PackArg<sys::HPy_RichCmpOp> for c_int {
    #[inline(always)]
    fn pack(self) -> sys::HPy_RichCmpOp {
        sys::HPy_RichCmpOp(self)
    }
}

slot_signatures! {
    /// `HPyFunc_REPRFUNC` impl (`__repr__`, `__str__`).
    HPyFunc_REPRFUNC: impl ReprImpl(HPy) -> HPy, erase erase_repr;
    trampoline ReprTrampoline(arg0: *mut cpy_PyObject) -> *mut cpy_PyObject,
    erase erase_repr_trampoline, body trampoline_repr, args _HPyFunc_args_REPRFUNC;

    /// `HPyFunc_UNARYFUNC` impl (`__neg__`, `__int__`, ...).
    HPyFunc_UNARYFUNC: impl UnaryImpl(HPy) -> HPy, erase erase_unary;
    trampoline UnaryTrampoline(arg0: *mut cpy_PyObject) -> *mut cpy_PyObject,
    erase erase_unary_trampoline, body trampoline_unary, args _HPyFunc_args_UNARYFUNC;

    /// `HPyFunc_BINARYFUNC` impl (`__add__`, `__getitem__`, ...).
    HPyFunc_BINARYFUNC: impl BinaryImpl(HPy, HPy) -> HPy, erase erase_binary;
    trampoline BinaryTrampoline(arg0: *mut cpy_PyObject, arg1: *mut cpy_PyObject) -> *mut cpy_PyObject,
    erase erase_binary_trampoline, body trampoline_binary, args _HPyFunc_args_BINARYFUNC;

    /// `HPyFunc_TERNARYFUNC` impl (`__pow__`).
    HPyFunc_TERNARYFUNC: impl TernaryImpl(HPy, HPy, HPy) -> HPy, erase erase_ternary;
    trampoline TernaryTrampoline(arg0: *mut cpy_PyObject, arg1: *mut cpy_PyObject, arg2: *mut cpy_PyObject) -> *mut cpy_PyObject,
    erase erase_ternary_trampoline, body trampoline_ternary, args _HPyFunc_args_TERNARYFUNC;

    /// `HPyFunc_HASHFUNC` impl (`__hash__`).
    HPyFunc_HASHFUNC: impl HashImpl(HPy) -> sys::HPy_hash_t, erase erase_hash;
    trampoline HashTrampoline(arg0: *mut cpy_PyObject) -> sys::HPy_hash_t,
    erase erase_hash_trampoline, body trampoline_hash, args _HPyFunc_args_HASHFUNC;

    /// `HPyFunc_INQUIRY` impl of a class (`__bool__`).
    HPyFunc_INQUIRY: impl BoolImpl(HPy) -> c_int, erase erase_bool;
    trampoline BoolTrampoline(arg0: *mut cpy_PyObject) -> c_int,
    erase erase_bool_trampoline, body trampoline_bool, args _HPyFunc_args_INQUIRY;

    /// `HPyFunc_LENFUNC` impl (`__len__`).
    HPyFunc_LENFUNC: impl LenImpl(HPy) -> sys::HPy_ssize_t, erase erase_len;
    trampoline LenTrampoline(arg0: *mut cpy_PyObject) -> sys::HPy_ssize_t,
    erase erase_len_trampoline, body trampoline_len, args _HPyFunc_args_LENFUNC;

    /// `HPyFunc_SSIZEARGFUNC` impl (`sq_item`, `sq_repeat`).
    HPyFunc_SSIZEARGFUNC: impl SsizeArgImpl(HPy, sys::HPy_ssize_t) -> HPy, erase erase_ssizearg;
    trampoline SsizeArgTrampoline(arg0: *mut cpy_PyObject, arg1: sys::HPy_ssize_t) -> *mut cpy_PyObject,
    erase erase_ssizearg_trampoline, body trampoline_ssizearg, args _HPyFunc_args_SSIZEARGFUNC;

    /// `HPyFunc_SSIZEOBJARGPROC` impl (`sq_ass_item`).
    HPyFunc_SSIZEOBJARGPROC: impl SsizeObjArgImpl(HPy, sys::HPy_ssize_t, HPy) -> c_int, erase erase_ssizeobjarg;
    trampoline SsizeObjArgTrampoline(arg0: *mut cpy_PyObject, arg1: sys::HPy_ssize_t, arg2: *mut cpy_PyObject) -> c_int,
    erase erase_ssizeobjarg_trampoline, body trampoline_ssizeobjarg, args _HPyFunc_args_SSIZEOBJARGPROC;

    /// `HPyFunc_OBJOBJARGPROC` impl (`__setitem__`/`__delitem__`).
    HPyFunc_OBJOBJARGPROC: impl ObjObjArgImpl(HPy, HPy, HPy) -> c_int, erase erase_objobjarg;
    trampoline ObjObjArgTrampoline(arg0: *mut cpy_PyObject, arg1: *mut cpy_PyObject, arg2: *mut cpy_PyObject) -> c_int,
    erase erase_objobjarg_trampoline, body trampoline_objobjarg, args _HPyFunc_args_OBJOBJARGPROC;

    /// `HPyFunc_OBJOBJPROC` impl (`__contains__`).
    HPyFunc_OBJOBJPROC: impl ObjObjImpl(HPy, HPy) -> c_int, erase erase_objobj;
    trampoline ObjObjTrampoline(arg0: *mut cpy_PyObject, arg1: *mut cpy_PyObject) -> c_int,
    erase erase_objobj_trampoline, body trampoline_objobj, args _HPyFunc_args_OBJOBJPROC;

    /// `HPyFunc_RICHCMPFUNC` impl (`__eq__`, `__lt__`, ...).
    HPyFunc_RICHCMPFUNC: impl RichCmpImpl(HPy, HPy, sys::HPy_RichCmpOp) -> HPy, erase erase_richcmp;
    trampoline RichCmpTrampoline(arg0: *mut cpy_PyObject, arg1: *mut cpy_PyObject, arg2: c_int) -> *mut cpy_PyObject,
    erase erase_richcmp_trampoline, body trampoline_richcmp, args _HPyFunc_args_RICHCMPFUNC;

    /// `HPyFunc_NEWFUNC` impl (`tp_new`): the type, the positional arguments
    /// as an array, and the keywords as a dict (or NULL).
    HPyFunc_NEWFUNC: impl NewImpl(HPy, *const HPy, sys::HPy_ssize_t, HPy) -> HPy, erase erase_new;
    trampoline NewTrampoline(self_: *mut cpy_PyObject, args: *mut cpy_PyObject, kw: *mut cpy_PyObject) -> *mut cpy_PyObject,
    erase erase_new_trampoline, body trampoline_new, args _HPyFunc_args_NEWFUNC;

    /// `HPyFunc_INITPROC` impl (`tp_init`).
    HPyFunc_INITPROC: impl InitImpl(HPy, *const HPy, sys::HPy_ssize_t, HPy) -> c_int, erase erase_init;
    trampoline InitTrampoline(self_: *mut cpy_PyObject, args: *mut cpy_PyObject, kw: *mut cpy_PyObject) -> c_int,
    erase erase_init_trampoline, body trampoline_init, args _HPyFunc_args_INITPROC;

    /// `HPyFunc_GETTER` impl (a property's getter).
    HPyFunc_GETTER: impl GetterImpl(HPy, *mut c_void) -> HPy, erase erase_getter;
    trampoline GetterTrampoline(arg0: *mut cpy_PyObject, arg1: *mut c_void) -> *mut cpy_PyObject,
    erase erase_getter_trampoline_unused, body trampoline_getter, args _HPyFunc_args_GETTER;

    /// `HPyFunc_SETTER` impl (a property's setter; the value is NULL for `del`).
    HPyFunc_SETTER: impl SetterImpl(HPy, HPy, *mut c_void) -> c_int, erase erase_setter;
    trampoline SetterTrampoline(arg0: *mut cpy_PyObject, arg1: *mut cpy_PyObject, arg2: *mut c_void) -> c_int,
    erase erase_setter_trampoline_unused, body trampoline_setter, args _HPyFunc_args_SETTER;
}
