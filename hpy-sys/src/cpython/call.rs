//! `ctx_CallRealFunctionFromTrampoline`: how a CPython trampoline reaches its
//! impl function. The trampoline packs CPython's arguments into the
//! signature's `_HPyFunc_args_*` struct; this unpacks them, calls the impl
//! with the context and writes `result`.
//!
//! In a CPython-ABI build the call is inlined into each trampoline with a
//! constant signature, so the `match` and the struct fold away and the
//! trampoline calls its impl directly (what HPy's `cpython/hpyfunc_trampolines.h`
//! writes by hand). A universal runtime for CPython can store the same
//! function in its context.

use core::ffi::{c_char, c_int, c_void};

use pyo3_ffi as ffi;

use super::{h2py, py2h};
use crate::*;

/// How the objects a trampoline receives become the handles its impl gets,
/// and the impl's handle results objects again: [`Direct`] where a handle
/// is the object pointer (a CPython-ABI build, a runtime's universal mode),
/// or a runtime's own handles (hpy-rs's debug mode).
///
/// # Safety
/// An implementation returns, for borrowed objects, handles open until the
/// trampoline's call ends (the implementation closes them when it is
/// dropped), and for an owned result handle a new reference (or NULL).
pub unsafe trait TrampolineHandles {
    /// Whether handles are the object pointers (no conversion at all).
    const DIRECT: bool;
    /// A borrowed argument object as a handle for the impl.
    ///
    /// # Safety
    /// `o` is NULL or a live object, borrowed for the call; the GIL is held.
    unsafe fn arg(&mut self, o: *mut cpy_PyObject) -> HPy;
    /// `n` borrowed argument objects as an array of handles, alive until the
    /// call ends; NULL with an exception set if it cannot be made.
    ///
    /// # Safety
    /// `items` points to `n` live objects; the GIL is held.
    unsafe fn args(&mut self, items: *const *mut cpy_PyObject, n: usize) -> *const HPy;
    /// The impl's result handle (owned) as a new reference (or NULL).
    ///
    /// # Safety
    /// `h` is HPy_NULL or an open handle the impl returned; the GIL is held.
    unsafe fn result(&mut self, h: HPy) -> *mut cpy_PyObject;
}

/// Handles are the object pointers: every conversion is free.
#[derive(Debug, Clone, Copy)]
pub struct Direct;

// SAFETY: a handle is the object pointer: borrowed in, owned out.
unsafe impl TrampolineHandles for Direct {
    const DIRECT: bool = true;
    #[inline(always)]
    unsafe fn arg(&mut self, o: *mut cpy_PyObject) -> HPy {
        py2h(o.cast())
    }
    #[inline(always)]
    unsafe fn args(&mut self, items: *const *mut cpy_PyObject, _n: usize) -> *const HPy {
        items.cast()
    }
    #[inline(always)]
    unsafe fn result(&mut self, h: HPy) -> *mut cpy_PyObject {
        h2py(h).cast()
    }
}

/// `f` called with the items of a tuple as a handle array (a handle is the
/// object pointer): the tuple's own array, or in an `abi3` build (where a
/// tuple's layout is not part of the limited API) a copy, whose allocation
/// failure gives `fail` with `MemoryError` set.
///
/// # Safety
/// `args` is a tuple (CPython passes one to `tp_new` and `tp_init`).
#[inline(always)]
unsafe fn with_tuple_items<R>(
    args: *mut cpy_PyObject,
    fail: R,
    f: impl FnOnce(*const HPy, HPy_ssize_t) -> R,
) -> R {
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `args` is a tuple: its items follow its header.
    unsafe {
        let _ = fail;
        let t = args.cast::<ffi::PyTupleObject>();
        f(
            (*t).ob_item.as_ptr().cast(),
            ffi::PyTuple_GET_SIZE(args.cast()),
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
            return f(items.as_ptr(), n);
        }
        let mut items: alloc::vec::Vec<HPy> = alloc::vec::Vec::new();
        if items.try_reserve_exact(n as usize).is_err() {
            ffi::PyErr_NoMemory();
            return fail;
        }
        for i in 0..n {
            items.push(item(i));
        }
        f(items.as_ptr(), n)
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
    // SAFETY: forwarded; handles are the object pointers.
    unsafe { call_real_function(ctx, sig, func, args, &mut Direct) }
}

/// [`ctx_CallRealFunctionFromTrampoline`] with the handles of `handles`: the
/// same unpacking for every runtime mode.
///
/// # Safety
/// As [`ctx_CallRealFunctionFromTrampoline`]; `handles` converts for `ctx`.
#[inline(always)]
pub unsafe fn call_real_function<T: TrampolineHandles>(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
    handles: &mut T,
) {
    let conv = handles;
    /// A borrowed argument.
    macro_rules! h {
        ($o:expr) => {
            conv.arg($o)
        };
    }
    /// An owned result.
    macro_rules! o {
        ($h:expr) => {{
            let result = $h;
            conv.result(result)
        }};
    }
    /// The impl as its real type, called with the context first.
    macro_rules! call {
        ($F:ty $(, $arg:expr)*) => {
            (core::mem::transmute::<HPyCFunction, $F>(func).unwrap_unchecked())(ctx $(, $arg)*)
        };
    }
    /// `args` as the struct of the signature.
    macro_rules! args {
        ($A:ty) => {
            &mut *args.cast::<$A>()
        };
    }
    // SAFETY: in every arm, the caller passes the argument struct of `sig`
    // and an impl of `sig`, which is the type each arm transmutes `func` to
    // (function pointers share one representation); handles are the object
    // pointers the struct holds, borrowed for the call, and a handle result
    // is a new reference (or NULL), which is what CPython expects back.
    unsafe {
        match sig {
            HPyFunc_NOARGS => {
                let a = args!(_HPyFunc_args_NOARGS);
                a.result = o!(call!(HPyFunc_noargs, h!(a.self_)));
            }
            HPyFunc_O => {
                let a = args!(_HPyFunc_args_O);
                a.result = o!(call!(HPyFunc_o, h!(a.self_), h!(a.arg)));
            }
            HPyFunc_VARARGS => {
                let a = args!(_HPyFunc_args_VARARGS);
                let nargs = a.nargs as usize;
                let items = conv.args(a.args, nargs);
                a.result = if !T::DIRECT && items.is_null() && nargs > 0 {
                    core::ptr::null_mut()
                } else {
                    o!(call!(HPyFunc_varargs, h!(a.self_), items, nargs))
                };
            }
            HPyFunc_KEYWORDS => {
                // Also `HPy_tp_call`, called through vectorcall: `nargsf` may
                // carry `PY_VECTORCALL_ARGUMENTS_OFFSET`.
                let a = args!(_HPyFunc_args_KEYWORDS);
                let nargs = super::api::vectorcall_nargs(a.nargsf);
                // The keyword arguments' values follow the positional ones.
                let total = if T::DIRECT || a.kwnames.is_null() {
                    nargs
                } else {
                    nargs + super::api::tuple_size(a.kwnames.cast()).max(0) as usize
                };
                let items = conv.args(a.args, total);
                a.result = if !T::DIRECT && items.is_null() && total > 0 {
                    core::ptr::null_mut()
                } else {
                    o!(call!(
                        HPyFunc_keywords,
                        h!(a.self_),
                        items,
                        nargs,
                        h!(a.kwnames)
                    ))
                };
            }
            HPyFunc_INITPROC => {
                let a = args!(_HPyFunc_args_INITPROC);
                a.result = with_tuple_items(a.args, -1, |items, n| {
                    let items = conv.args(items.cast(), n as usize);
                    if !T::DIRECT && items.is_null() && n > 0 {
                        return -1;
                    }
                    call!(HPyFunc_initproc, h!(a.self_), items, n, h!(a.kw))
                });
            }
            HPyFunc_NEWFUNC => {
                let a = args!(_HPyFunc_args_NEWFUNC);
                a.result = with_tuple_items(a.args, core::ptr::null_mut(), |items, n| {
                    let items = conv.args(items.cast(), n as usize);
                    if !T::DIRECT && items.is_null() && n > 0 {
                        return core::ptr::null_mut();
                    }
                    o!(call!(HPyFunc_newfunc, h!(a.self_), items, n, h!(a.kw)))
                });
            }
            HPyFunc_GETBUFFERPROC => {
                // `HPy_buffer` and `Py_buffer` have one layout (a handle is
                // the object pointer), as HPy's CPython ABI relies on too.
                let a = args!(_HPyFunc_args_GETBUFFERPROC);
                a.result = call!(
                    HPyFunc_getbufferproc,
                    h!(a.self_),
                    a.view.cast::<HPy_buffer>(),
                    a.flags
                );
                let view = a.view.cast::<HPy_buffer>();
                if a.result < 0 {
                    (*view).obj = HPy::NULL;
                } else if !T::DIRECT {
                    // The impl stored a handle of its own: the view keeps a
                    // reference to the object instead.
                    (*view).obj = py2h(conv.result((*view).obj).cast());
                }
            }
            HPyFunc_RELEASEBUFFERPROC => {
                let a = args!(_HPyFunc_args_RELEASEBUFFERPROC);
                if T::DIRECT {
                    call!(
                        HPyFunc_releasebufferproc,
                        h!(a.self_),
                        a.view.cast::<HPy_buffer>()
                    );
                } else {
                    // A copy of the view whose object is a handle too.
                    let mut view = *a.view.cast::<HPy_buffer>();
                    view.obj = h!(h2py(view.obj).cast());
                    call!(HPyFunc_releasebufferproc, h!(a.self_), &mut view);
                }
            }
            HPyFunc_TRAVERSEPROC => {
                let a = args!(_HPyFunc_args_TRAVERSEPROC);
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
                let a = args!(_HPyFunc_args_MOD_CREATE);
                a.result = o!(call!(HPyFunc_mod_create, h!(a.spec)));
                super::module::check_create_result(&mut a.result);
            }
            HPyFunc_DESTROYFUNC => {
                // Called by the runtime's `tp_dealloc`, never by a trampoline.
                ffi::Py_FatalError(c"HPy_tp_destroy has no trampoline".as_ptr());
            }
            HPyFunc_UNARYFUNC | HPyFunc_REPRFUNC | HPyFunc_GETITERFUNC | HPyFunc_ITERNEXTFUNC => {
                let a = args!(_HPyFunc_args_UNARYFUNC);
                a.result = o!(call!(HPyFunc_unaryfunc, h!(a.arg0)));
            }
            HPyFunc_BINARYFUNC | HPyFunc_GETATTROFUNC => {
                let a = args!(_HPyFunc_args_BINARYFUNC);
                a.result = o!(call!(HPyFunc_binaryfunc, h!(a.arg0), h!(a.arg1)));
            }
            HPyFunc_TERNARYFUNC | HPyFunc_DESCRGETFUNC => {
                let a = args!(_HPyFunc_args_TERNARYFUNC);
                a.result = o!(call!(
                    HPyFunc_ternaryfunc,
                    h!(a.arg0),
                    h!(a.arg1),
                    h!(a.arg2)
                ));
            }
            HPyFunc_INQUIRY => {
                let a = args!(_HPyFunc_args_INQUIRY);
                a.result = call!(HPyFunc_inquiry, h!(a.arg0));
            }
            HPyFunc_LENFUNC => {
                let a = args!(_HPyFunc_args_LENFUNC);
                a.result = call!(HPyFunc_lenfunc, h!(a.arg0));
            }
            HPyFunc_SSIZEARGFUNC => {
                let a = args!(_HPyFunc_args_SSIZEARGFUNC);
                a.result = o!(call!(HPyFunc_ssizeargfunc, h!(a.arg0), a.arg1));
            }
            HPyFunc_SSIZESSIZEARGFUNC => {
                let a = args!(_HPyFunc_args_SSIZESSIZEARGFUNC);
                a.result = o!(call!(HPyFunc_ssizessizeargfunc, h!(a.arg0), a.arg1, a.arg2));
            }
            HPyFunc_SSIZEOBJARGPROC => {
                let a = args!(_HPyFunc_args_SSIZEOBJARGPROC);
                a.result = call!(HPyFunc_ssizeobjargproc, h!(a.arg0), a.arg1, h!(a.arg2));
            }
            HPyFunc_SSIZESSIZEOBJARGPROC => {
                let a = args!(_HPyFunc_args_SSIZESSIZEOBJARGPROC);
                a.result = call!(
                    HPyFunc_ssizessizeobjargproc,
                    h!(a.arg0),
                    a.arg1,
                    a.arg2,
                    h!(a.arg3)
                );
            }
            HPyFunc_OBJOBJARGPROC | HPyFunc_SETATTROFUNC | HPyFunc_DESCRSETFUNC => {
                let a = args!(_HPyFunc_args_OBJOBJARGPROC);
                a.result = call!(HPyFunc_objobjargproc, h!(a.arg0), h!(a.arg1), h!(a.arg2));
            }
            HPyFunc_OBJOBJPROC => {
                let a = args!(_HPyFunc_args_OBJOBJPROC);
                a.result = call!(HPyFunc_objobjproc, h!(a.arg0), h!(a.arg1));
            }
            HPyFunc_FREEFUNC => {
                let a = args!(_HPyFunc_args_FREEFUNC);
                call!(HPyFunc_freefunc, a.arg0);
            }
            HPyFunc_GETATTRFUNC => {
                let a = args!(_HPyFunc_args_GETATTRFUNC);
                a.result = o!(call!(HPyFunc_getattrfunc, h!(a.arg0), a.arg1));
            }
            HPyFunc_SETATTRFUNC => {
                let a = args!(_HPyFunc_args_SETATTRFUNC);
                a.result = call!(
                    HPyFunc_setattrfunc,
                    h!(a.arg0),
                    a.arg1 as *mut c_char,
                    h!(a.arg2)
                );
            }
            HPyFunc_HASHFUNC => {
                let a = args!(_HPyFunc_args_HASHFUNC);
                a.result = call!(HPyFunc_hashfunc, h!(a.arg0));
            }
            HPyFunc_RICHCMPFUNC => {
                let a = args!(_HPyFunc_args_RICHCMPFUNC);
                a.result = o!(call!(HPyFunc_richcmpfunc, h!(a.arg0), h!(a.arg1), a.arg2));
            }
            HPyFunc_GETTER => {
                let a = args!(_HPyFunc_args_GETTER);
                a.result = o!(call!(HPyFunc_getter, h!(a.arg0), a.arg1));
            }
            HPyFunc_SETTER => {
                let a = args!(_HPyFunc_args_SETTER);
                a.result = call!(HPyFunc_setter, h!(a.arg0), h!(a.arg1), a.arg2);
            }
            HPyFunc_DESTRUCTOR => {
                let a = args!(_HPyFunc_args_DESTRUCTOR);
                call!(HPyFunc_destructor, h!(a.arg0));
            }
            _ => ffi::Py_FatalError(c"unsupported HPyFunc_Signature in a trampoline".as_ptr()),
        }
    }
}
