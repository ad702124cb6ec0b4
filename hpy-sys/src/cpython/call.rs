//! `ctx_CallRealFunctionFromTrampoline` on CPython: [`Direct`], the
//! conversions of [`crate::trampoline::call_real_function`] where a handle
//! is the object pointer, and the unpacking of the signatures that take
//! CPython's API ([`call_other`]).
//!
//! In a CPython-ABI build the call is inlined into each trampoline with a
//! constant signature, so the `match` and the struct fold away and the
//! trampoline calls its impl directly (what HPy's `cpython/hpyfunc_trampolines.h`
//! writes by hand). A universal runtime for CPython can store the same
//! function in its context.

use core::ffi::{c_int, c_void};

use pyo3_ffi as ffi;

use super::{h2py, py2h};
use crate::trampoline::{Args, TrampolineHandles, call_impl, call_real_function};
use crate::*;

/// Handles are the object pointers: every conversion is free.
#[derive(Debug, Clone, Copy)]
pub struct Direct;

// SAFETY: a handle is the object pointer: borrowed in, owned out; tuples are
// read through CPython's own layout (or, in an `abi3` build, its API).
unsafe impl TrampolineHandles for Direct {
    const OWN_ARRAY: bool = true;
    #[inline(always)]
    unsafe fn arg(&mut self, o: *mut cpy_PyObject) -> HPy {
        py2h(o.cast())
    }
    #[inline(always)]
    unsafe fn arg_opt(&mut self, o: *mut cpy_PyObject) -> HPy {
        py2h(o.cast())
    }
    #[inline(always)]
    unsafe fn args(&mut self, items: *const *mut cpy_PyObject, _n: usize) -> Args {
        Args::Handles(items.cast())
    }
    #[inline(always)]
    unsafe fn result(&mut self, h: HPy) -> *mut cpy_PyObject {
        h2py(h).cast()
    }
    #[inline(always)]
    unsafe fn tuple_len(&mut self, t: *mut cpy_PyObject) -> usize {
        // SAFETY: forwarded.
        unsafe { tuple_len(t) }
    }
    #[inline(always)]
    unsafe fn with_tuple_items<R>(
        &mut self,
        t: *mut cpy_PyObject,
        fail: R,
        f: impl FnOnce(&mut Self, *const *mut cpy_PyObject, usize) -> R,
    ) -> R {
        // SAFETY: forwarded.
        unsafe { with_tuple_items(t, fail, |items, n| f(self, items, n)) }
    }
    #[inline(always)]
    unsafe fn call_other(
        &mut self,
        ctx: *mut HPyContext,
        sig: HPyFunc_Signature,
        func: HPyCFunction,
        args: *mut c_void,
    ) -> bool {
        // SAFETY: forwarded.
        unsafe { call_other(ctx, sig, func, args, self) }
    }
}

/// The number of items of tuple `t`.
///
/// # Safety
/// `t` is a live tuple; the GIL is held.
#[inline(always)]
pub unsafe fn tuple_len(t: *mut cpy_PyObject) -> usize {
    // SAFETY: forwarded.
    unsafe { super::api::tuple_size(t.cast()).max(0) as usize }
}

/// `f` called with the items of a tuple (a pointer to its objects, and
/// their count): the tuple's own array, or in an `abi3` build (where a
/// tuple's layout is not part of the limited API) a copy, whose allocation
/// failure gives `fail` with `MemoryError` set.
///
/// # Safety
/// `args` is a tuple (CPython passes one to `tp_new` and `tp_init`).
#[inline(always)]
pub unsafe fn with_tuple_items<R>(
    args: *mut cpy_PyObject,
    fail: R,
    f: impl FnOnce(*const *mut cpy_PyObject, usize) -> R,
) -> R {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `args` is a tuple: its items follow its header.
    unsafe {
        let _ = fail;
        let t = args.cast::<ffi::PyTupleObject>();
        f(
            (*t).ob_item.as_ptr().cast(),
            ffi::PyTuple_GET_SIZE(args.cast()) as usize,
        )
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: `args` is a tuple; its items (borrowed) live as long as it.
    unsafe {
        let n = super::api::tuple_size(args.cast()).max(0);
        let item = |i| py2h(super::api::tuple_get_item(args.cast(), i));
        // Up to 8 arguments on the stack, more in a vector.
        const ON_STACK: usize = 8;
        if n as usize <= ON_STACK {
            let mut items = [HPy::NULL; ON_STACK];
            for (i, slot) in items.iter_mut().enumerate().take(n as usize) {
                *slot = item(i as HPy_ssize_t);
            }
            return f(items.as_ptr().cast(), n as usize);
        }
        let mut items: alloc::vec::Vec<HPy> = alloc::vec::Vec::new();
        if items.try_reserve_exact(n as usize).is_err() {
            ffi::PyErr_NoMemory();
            return fail;
        }
        for i in 0..n {
            items.push(item(i));
        }
        f(items.as_ptr().cast(), n as usize)
    }
}

/// The visitor that `tp_traverse` impls get: an `HPyField` is the object
/// pointer, handed to CPython's visitor.
unsafe extern "C" fn visit_field(field: *mut HPyField, args: *mut c_void) -> c_int {
    // SAFETY: `args` is the `VisitArgs` of `call_traverseproc`; `field` points
    // to a field of the object being traversed (non-empty: impls skip empty
    // ones, as `HPy_VISIT` does).
    unsafe {
        let args = &*args.cast::<VisitArgs>();
        let object = (*field)._i as *mut cpy_PyObject;
        match args.visit {
            Some(visit) if !object.is_null() => visit(object, args.arg),
            _ => 0,
        }
    }
}

struct VisitArgs {
    visit: cpy_visitproc,
    arg: *mut c_void,
}

/// `tp_traverse` of an HPy type: the impl gets the payload of `object` and a
/// visitor that passes each field on to CPython's.
///
/// # Safety
/// `object` is a live instance of the type whose impl `f` is; `visit` and
/// `arg` are CPython's.
pub unsafe fn call_traverseproc(
    f: HPyFunc_traverseproc,
    object: *mut cpy_PyObject,
    visit: cpy_visitproc,
    arg: *mut c_void,
) -> c_int {
    let Some(f) = f else { return 0 };
    let mut args = VisitArgs { visit, arg };
    // SAFETY: the payload of a live instance; the visitor's argument lives
    // for the call.
    unsafe {
        f(
            super::types::payload_of(object.cast()),
            Some(visit_field),
            (&raw mut args).cast(),
        )
    }
}

/// `ctx_CallRealFunctionFromTrampoline`: calls `func`, an impl of signature
/// `sig`, with the arguments packed in `args` (the `_HPyFunc_args_*` struct
/// of `sig`, or for `HPyFunc_CAPSULE_DESTRUCTOR` the capsule), and stores
/// its result there.
///
/// # Safety
/// `func` is a non-NULL impl of signature `sig` and `args` what a trampoline
/// of that signature packs; the GIL is held.
#[inline(always)]
pub unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
) {
    // SAFETY: forwarded; handles are the object pointers (`Direct` never
    // declines a call).
    unsafe { call_real_function(ctx, sig, func, args, &mut Direct) };
}

/// [`TrampolineHandles::call_other`] on CPython: the signatures whose
/// unpacking takes CPython's API (buffers, `tp_traverse`, capsule
/// destructors, module creation); a fatal error for `HPy_tp_destroy` (never
/// called through a trampoline) and unknown signatures. Always made.
///
/// # Safety
/// As for [`call_real_function`]; handles are object pointers or the
/// handles of `conv`, which converts for `ctx`.
#[inline(always)]
pub unsafe fn call_other<T: TrampolineHandles>(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
    conv: &mut T,
) -> bool {
    // SAFETY: as in `call_real_function`: each arm transmutes `func` to the
    // impl type of `sig` and reads the struct of `sig`.
    unsafe {
        match sig {
            HPyFunc_GETBUFFERPROC => {
                // `HPy_buffer` and `Py_buffer` have one layout (a handle is
                // the object pointer), as HPy's CPython ABI relies on too.
                let a = &mut *args.cast::<_HPyFunc_args_GETBUFFERPROC>();
                let slf = conv.arg(a.self_);
                a.result = call_impl!(
                    ctx,
                    func,
                    HPyFunc_getbufferproc,
                    slf,
                    a.view.cast::<HPy_buffer>(),
                    a.flags
                );
                let view = a.view.cast::<HPy_buffer>();
                if a.result < 0 {
                    (*view).obj = HPy::NULL;
                } else if !T::OWN_ARRAY {
                    // The impl stored a handle of its own: the view keeps a
                    // reference to the object instead.
                    (*view).obj = py2h(conv.result((*view).obj).cast());
                }
            }
            HPyFunc_RELEASEBUFFERPROC => {
                let a = &*args.cast::<_HPyFunc_args_RELEASEBUFFERPROC>();
                let slf = conv.arg(a.self_);
                if T::OWN_ARRAY {
                    call_impl!(
                        ctx,
                        func,
                        HPyFunc_releasebufferproc,
                        slf,
                        a.view.cast::<HPy_buffer>()
                    );
                } else {
                    // A copy of the view whose object is a handle too.
                    let mut view = *a.view.cast::<HPy_buffer>();
                    view.obj = conv.arg_opt(h2py(view.obj).cast());
                    call_impl!(ctx, func, HPyFunc_releasebufferproc, slf, &mut view);
                }
            }
            HPyFunc_TRAVERSEPROC => {
                let a = &mut *args.cast::<_HPyFunc_args_TRAVERSEPROC>();
                let f = core::mem::transmute::<HPyCFunction, HPyFunc_traverseproc>(func);
                a.result = call_traverseproc(f, a.self_, a.visit, a.arg);
            }
            HPyFunc_CAPSULE_DESTRUCTOR => {
                let capsule = args.cast::<ffi::PyObject>();
                let name = ffi::PyCapsule_GetName(capsule);
                let pointer = ffi::PyCapsule_GetPointer(capsule, name);
                let context = ffi::PyCapsule_GetContext(capsule);
                let f = core::mem::transmute::<HPyCFunction, HPyFunc_Capsule_Destructor>(func);
                f.unwrap_unchecked()(name, pointer, context);
            }
            HPyFunc_MOD_CREATE => {
                let a = &mut *args.cast::<_HPyFunc_args_MOD_CREATE>();
                let spec = conv.arg(a.spec);
                let r = call_impl!(ctx, func, HPyFunc_mod_create, spec);
                a.result = conv.result(r);
                super::module::check_create_result(&mut a.result);
            }
            HPyFunc_DESTROYFUNC => {
                // Called by the runtime's `tp_dealloc`, never by a trampoline.
                ffi::Py_FatalError(c"HPy_tp_destroy has no trampoline".as_ptr());
            }
            _ => ffi::Py_FatalError(c"unsupported HPyFunc_Signature in a trampoline".as_ptr()),
        }
    }
    true
}
