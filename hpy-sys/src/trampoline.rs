//! How a CPython trampoline's call reaches its impl: the signature's
//! `_HPyFunc_args_*` struct, which the trampoline packs, is unpacked, the
//! impl called with the context and handles for the objects, and its result
//! stored back in the struct (what `ctx_CallRealFunctionFromTrampoline`
//! does).
//!
//! The unpacking is the same wherever the call is made; only how an object
//! becomes a handle and a result handle an object again differs, which a
//! [`TrampolineHandles`] says:
//! * a CPython-ABI build (`cpython::Direct`: a handle is the object's
//!   address, nothing to convert),
//! * hpy-rs's runtime in debug mode (a debug handle per argument, closed
//!   when the call returns),
//! * a universal build's trampolines calling their impls themselves on the
//!   CPython runtimes whose handles are the objects' addresses plus a
//!   constant (the `hpy` crate's `impl_::direct`).
//!
//! Called with a constant signature, [`call_real_function`] folds to the
//! one call. The module names no libpython symbol: a universal build
//! (which must load on PyPy) uses it too. The signatures whose unpacking
//! needs CPython's API (buffers, `tp_traverse`, capsule destructors, module
//! creation) go to [`TrampolineHandles::call_other`].

use core::ffi::{c_char, c_void};

use crate::*;

/// What [`TrampolineHandles::args`] made of a call's argument objects.
#[derive(Debug, Clone, Copy)]
pub enum Args {
    /// The handles, alive until the call returns.
    Handles(*const HPy),
    /// They could not be made: an exception is set, the call fails.
    Failed,
    /// Not made by this conversion (nothing was done, no exception set): the
    /// caller makes the call another way.
    Declined,
}

/// How the objects a trampoline receives become the handles its impl gets,
/// and the impl's handle results objects again.
///
/// # Safety
/// An implementation returns, for borrowed objects, handles open until the
/// trampoline's call ends (closing them itself, if it must, when it is
/// dropped); for an owned result handle a new reference (or NULL); and
/// reads a tuple as CPython lays out the interpreter's tuples.
pub unsafe trait TrampolineHandles {
    /// Whether [`args`](Self::args) returns the objects' own array (a
    /// handle is the object's address): it then needs no count, and a
    /// KEYWORDS call's keyword names are not counted for it.
    const OWN_ARRAY: bool;

    /// A borrowed argument object, never NULL, as a handle for the impl.
    ///
    /// # Safety
    /// `o` is a live object, borrowed for the call; the GIL is held.
    unsafe fn arg(&mut self, o: *mut cpy_PyObject) -> HPy;

    /// A borrowed argument object that may be NULL (HPy_NULL then).
    ///
    /// # Safety
    /// `o` is NULL or a live object, borrowed for the call; the GIL is held.
    unsafe fn arg_opt(&mut self, o: *mut cpy_PyObject) -> HPy;

    /// `n` borrowed argument objects as an array of handles.
    ///
    /// # Safety
    /// `items` points to `n` live objects; the GIL is held.
    unsafe fn args(&mut self, items: *const *mut cpy_PyObject, n: usize) -> Args;

    /// The impl's result handle (owned, or HPy_NULL) as a new reference (or
    /// NULL).
    ///
    /// # Safety
    /// `h` is HPy_NULL or an open handle the impl returned; the GIL is held.
    unsafe fn result(&mut self, h: HPy) -> *mut cpy_PyObject;

    /// The number of items of tuple `t`.
    ///
    /// # Safety
    /// `t` is a live tuple; the GIL is held.
    unsafe fn tuple_len(&mut self, t: *mut cpy_PyObject) -> usize;

    /// `f` called with the items of tuple `t` (its count, and a pointer to
    /// as many objects), or `fail` with an exception set if they cannot be
    /// had.
    ///
    /// # Safety
    /// `t` is a live tuple; the GIL is held.
    unsafe fn with_tuple_items<R>(
        &mut self,
        t: *mut cpy_PyObject,
        fail: R,
        f: impl FnOnce(&mut Self, *const *mut cpy_PyObject, usize) -> R,
    ) -> R;

    /// The call of a signature [`call_real_function`] does not unpack
    /// itself: buffers, `tp_traverse`, capsule destructors, module creation,
    /// `HPy_tp_destroy` and unknown signatures. `false` if not made (nothing
    /// was done).
    ///
    /// # Safety
    /// As for [`call_real_function`].
    unsafe fn call_other(
        &mut self,
        ctx: *mut HPyContext,
        sig: HPyFunc_Signature,
        func: HPyCFunction,
        args: *mut c_void,
    ) -> bool;
}

/// `$func` (an `HPyCFunction`) as the impl type `$F`, called with `$ctx`
/// first; for an `unsafe` block where `$func` is an impl of that type.
macro_rules! call_impl {
    ($ctx:expr, $func:expr, $F:ty $(, $arg:expr)*) => {
        (core::mem::transmute::<$crate::HPyCFunction, $F>($func).unwrap_unchecked())($ctx $(, $arg)*)
    };
}
#[cfg(any(feature = "cpython", hpy_abi = "cpython"))]
pub(crate) use call_impl;

/// `PY_VECTORCALL_ARGUMENTS_OFFSET`: the flag a vectorcall may add to its
/// argument count.
const VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// Calls `func`, an impl of signature `sig`, with the arguments in `args`
/// (the `_HPyFunc_args_*` struct of `sig`, or for
/// `HPyFunc_CAPSULE_DESTRUCTOR` the capsule), converted by `conv`, and
/// stores its result there. `false` if the call was not made (`conv`
/// declined it: nothing was done).
///
/// # Safety
/// `ctx` is the context of the call (live), `func` a non-NULL impl of
/// signature `sig` and `args` what a CPython trampoline of that signature
/// packs, its objects borrowed for the call; `conv` converts for `ctx`; the
/// GIL is held.
#[inline(always)]
pub unsafe fn call_real_function<T: TrampolineHandles>(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
    conv: &mut T,
) -> bool {
    /// A borrowed argument, never NULL.
    macro_rules! h {
        ($o:expr) => {
            conv.arg($o)
        };
    }
    /// A borrowed argument that may be NULL.
    macro_rules! h_opt {
        ($o:expr) => {
            conv.arg_opt($o)
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
            call_impl!(ctx, func, $F $(, $arg)*)
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
    // (function pointers share one representation); the struct's objects are
    // borrowed for the call, as the handles `conv` makes of them are, and a
    // result handle owns its reference, as the object returned to CPython
    // does. Nothing is called before an arm may still decline.
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
                a.result = match conv.args(a.args, nargs) {
                    Args::Handles(items) => o!(call!(HPyFunc_varargs, h!(a.self_), items, nargs)),
                    Args::Failed => core::ptr::null_mut(),
                    Args::Declined => return false,
                };
            }
            HPyFunc_KEYWORDS => {
                // Also `HPy_tp_call`, called through vectorcall: `nargsf` may
                // carry `PY_VECTORCALL_ARGUMENTS_OFFSET`.
                let a = args!(_HPyFunc_args_KEYWORDS);
                let nargs = a.nargsf & !VECTORCALL_ARGUMENTS_OFFSET;
                // The keyword arguments' values follow the positional ones.
                let total = if T::OWN_ARRAY || a.kwnames.is_null() {
                    nargs
                } else {
                    nargs + conv.tuple_len(a.kwnames)
                };
                a.result = match conv.args(a.args, total) {
                    Args::Handles(items) => {
                        let kwnames = h_opt!(a.kwnames);
                        o!(call!(HPyFunc_keywords, h!(a.self_), items, nargs, kwnames))
                    }
                    Args::Failed => core::ptr::null_mut(),
                    Args::Declined => return false,
                };
            }
            HPyFunc_INITPROC => {
                let a = args!(_HPyFunc_args_INITPROC);
                let r = conv.with_tuple_items(a.args, Some(-1), |conv, items, n| {
                    match conv.args(items, n) {
                        Args::Handles(items) => {
                            let (slf, kw) = (conv.arg(a.self_), conv.arg_opt(a.kw));
                            Some(call!(HPyFunc_initproc, slf, items, n as HPy_ssize_t, kw))
                        }
                        Args::Failed => Some(-1),
                        Args::Declined => None,
                    }
                });
                let Some(r) = r else { return false };
                a.result = r;
            }
            HPyFunc_NEWFUNC => {
                let a = args!(_HPyFunc_args_NEWFUNC);
                let fail = Some(core::ptr::null_mut());
                let r = conv.with_tuple_items(a.args, fail, |conv, items, n| {
                    match conv.args(items, n) {
                        Args::Handles(items) => {
                            let (slf, kw) = (conv.arg(a.self_), conv.arg_opt(a.kw));
                            let r = call!(HPyFunc_newfunc, slf, items, n as HPy_ssize_t, kw);
                            Some(conv.result(r))
                        }
                        Args::Failed => Some(core::ptr::null_mut()),
                        Args::Declined => None,
                    }
                });
                let Some(r) = r else { return false };
                a.result = r;
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
                // (`__get__` may be given no instance or no owner, `__pow__` no
                // modulus.)
                let a = args!(_HPyFunc_args_TERNARYFUNC);
                a.result = o!(call!(
                    HPyFunc_ternaryfunc,
                    h!(a.arg0),
                    h_opt!(a.arg1),
                    h_opt!(a.arg2)
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
                // (NULL: the item is deleted.)
                let a = args!(_HPyFunc_args_SSIZEOBJARGPROC);
                a.result = call!(HPyFunc_ssizeobjargproc, h!(a.arg0), a.arg1, h_opt!(a.arg2));
            }
            HPyFunc_SSIZESSIZEOBJARGPROC => {
                let a = args!(_HPyFunc_args_SSIZESSIZEOBJARGPROC);
                a.result = call!(
                    HPyFunc_ssizessizeobjargproc,
                    h!(a.arg0),
                    a.arg1,
                    a.arg2,
                    h_opt!(a.arg3)
                );
            }
            HPyFunc_OBJOBJARGPROC | HPyFunc_SETATTROFUNC | HPyFunc_DESCRSETFUNC => {
                // (NULL: the item, attribute or value is deleted.)
                let a = args!(_HPyFunc_args_OBJOBJARGPROC);
                a.result = call!(
                    HPyFunc_objobjargproc,
                    h!(a.arg0),
                    h!(a.arg1),
                    h_opt!(a.arg2)
                );
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
                    h_opt!(a.arg2)
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
                // (NULL: the attribute is deleted.)
                let a = args!(_HPyFunc_args_SETTER);
                a.result = call!(HPyFunc_setter, h!(a.arg0), h_opt!(a.arg1), a.arg2);
            }
            HPyFunc_DESTRUCTOR => {
                let a = args!(_HPyFunc_args_DESTRUCTOR);
                call!(HPyFunc_destructor, h!(a.arg0));
            }
            _ => return conv.call_other(ctx, sig, func, args),
        }
    }
    true
}
