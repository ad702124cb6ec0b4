//! Universal builds: the trampolines' direct call into their impl, on the two
//! CPython runtimes whose handles are their objects' addresses.
//!
//! A CPython trampoline of the universal ABI packs its arguments into the
//! signature's `_HPyFunc_args_*` struct and calls
//! `ctx_CallRealFunctionFromTrampoline`, which turns each object into a
//! handle, calls the impl, and turns the result back (HPy's
//! `ctx_meth.c`/`autogen_ctx_call.i`). On CPython, in the `hpy` package's
//! universal mode a handle *is* the object's address plus one
//! (`hpy/universal/src/handles.h`: `_py2h`/`_h2py`, NULL for NULL), and in
//! hpy-rs's runtime the address itself: the call through the context is
//! an indirect call, a `switch` and these additions, about 30 instructions
//! per call that the trampoline can do in a few, with the signature a
//! constant.
//!
//! So the trampoline does it itself, for the context it was given at load
//! time ([`probe`]) when that context
//! * is named as one of these two runtimes' universal contexts (not debug
//!   mode, not trace mode: those keep their own handles and bookkeeping,
//!   and every other runtime goes through its context as before; PyPy never
//!   calls the trampolines at all),
//! * and behaves as said: `HPy_AsPyObject` of `None` is `h_None` minus the
//!   offset (0 or 1), `HPy_FromPyObject` gives that handle back, and a
//!   tuple made by the runtime has its size and items where CPython's
//!   (non-`Py_TRACE_REFS`) layouts put them (3.14's tuples cache their hash
//!   before the items), which the calls with argument tuples read.
//!
//! Anything else, and every signature not handled here (buffers,
//! `tp_traverse`, capsule destructors) or a call with more than
//! [`MAX_ARGS`] arguments to copy (HPy's handles: the objects' own array is
//! passed where a handle is the address), takes the runtime's path. The context is
//! compared at each call, since loading the same file again in another
//! mode replaces the trampolines' context.

use core::ffi::{CStr, c_void};
use core::mem::MaybeUninit;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::sys;
use super::trampolines::*;
use sys::{HPy, HPyContext, cpy_PyObject};

/// The context the trampolines may bypass: a dangling address (no context)
/// when there is none, so that a call compares it without a NULL test.
static DIRECT_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(NONE);
/// [`DIRECT_CTX`] when there is no direct context: never a context's address.
const NONE: *mut HPyContext = core::ptr::dangling_mut();
/// What its handles add to an object's address (0 or 1).
static OFFSET: AtomicUsize = AtomicUsize::new(0);
/// The word of a tuple where its items start: 3, or 4 from CPython 3.14 on
/// (its tuples cache their hash before the items).
static TUPLE_ITEMS: AtomicUsize = AtomicUsize::new(3);

/// The most arguments a direct call converts (on the stack); more go
/// through the runtime.
const MAX_ARGS: usize = 8;

/// The universal contexts of the `hpy` package 0.9 and of hpy-rs's runtime.
const DIRECT_NAMES: [&CStr; 2] = [
    c"HPy Universal ABI (CPython backend)",
    c"HPy Universal ABI (CPython backend) [hpy-rs runtime]",
];

/// Decides whether the trampolines may call their impls directly with
/// `ctx` (see the module's documentation). Called with the GIL held, by
/// `HPyInitGlobalContext_<module>`, before any trampoline runs with `ctx`.
///
/// # Safety
/// `ctx` is a live context of HPy 0.9's ABI.
pub(crate) unsafe fn probe(ctx: *mut HPyContext) {
    // SAFETY: forwarded from the caller.
    match unsafe { handle_offset(ctx) } {
        Some(offset) => {
            OFFSET.store(offset, Ordering::Relaxed);
            DIRECT_CTX.store(ctx, Ordering::Relaxed);
        }
        None => DIRECT_CTX.store(NONE, Ordering::Relaxed),
    }
}

/// What `ctx`'s handles add to an object's address, if `ctx` is one of the
/// two universal contexts and its handles and tuples are as described.
///
/// # Safety
/// As for [`probe`].
unsafe fn handle_offset(ctx: *mut HPyContext) -> Option<usize> {
    // SAFETY: a live context: its name is a C string (or NULL), its
    // functions callable with the GIL held; every handle made here is
    // closed here.
    unsafe {
        let name = (*ctx).name;
        if name.is_null() || (*ctx).abi_version != 0 {
            return None;
        }
        let name = CStr::from_ptr(name);
        if !DIRECT_NAMES.contains(&name) {
            return None;
        }
        let none = (*ctx).h_None;
        let object = sys::HPy_AsPyObject(ctx, none); // a new reference
        if object.is_null() {
            sys::HPyErr_Clear(ctx);
            return None;
        }
        let offset = (none._i as usize).wrapping_sub(object as usize);
        // Both runtimes close a handle by decrementing its object's count:
        // the handle of `object` closes the reference `HPy_AsPyObject` made.
        let as_handle = HPy {
            _i: (object as usize).wrapping_add(offset) as isize,
        };
        let back = sys::HPy_FromPyObject(ctx, object);
        let same = back._i == none._i;
        if !back.is_null() {
            sys::HPy_Close(ctx, back);
        }
        if offset > 1 || !same {
            // Not the handles described: leave the reference (to `None`)
            // rather than close a handle this runtime may not know.
            return None;
        }
        sys::HPy_Close(ctx, as_handle);
        // A 3-tuple of the runtime: its size at word 2, its items from word
        // 3, or from word 4 behind the cached hash of CPython 3.14. (Words
        // 2 to 5 only: a tuple of three items is at least six words long
        // in either layout.)
        let mut items = [(*ctx).h_None, (*ctx).h_True, (*ctx).h_False];
        let tuple = sys::HPyTuple_FromArray(ctx, items.as_mut_ptr(), 3);
        if tuple.is_null() {
            sys::HPyErr_Clear(ctx);
            return None;
        }
        let words = (tuple._i as usize).wrapping_sub(offset) as *const usize;
        let item = |i: usize| (*words.add(i)).wrapping_add(offset);
        let first = if *words.add(2) != 3 {
            None
        } else if (item(3), item(4), item(5))
            == (
                items[0]._i as usize,
                items[1]._i as usize,
                items[2]._i as usize,
            )
        {
            Some(3)
        } else if (item(4), item(5)) == (items[0]._i as usize, items[1]._i as usize) {
            Some(4)
        } else {
            None
        };
        sys::HPy_Close(ctx, tuple);
        let first = first?;
        TUPLE_ITEMS.store(first, Ordering::Relaxed);
        Some(offset)
    }
}

/// The direct context and its offset, if `ctx` (the trampolines' context)
/// is it.
#[inline(always)]
fn direct(ctx: *mut HPyContext) -> Option<usize> {
    if ctx == DIRECT_CTX.load(Ordering::Relaxed) {
        Some(OFFSET.load(Ordering::Relaxed))
    } else {
        None
    }
}

/// Whether `ctx` is the direct context.
pub(crate) fn is_direct(ctx: *mut HPyContext) -> bool {
    direct(ctx).is_some()
}

/// The handle of an object that is never NULL.
#[inline(always)]
fn h(offset: usize, o: *mut cpy_PyObject) -> HPy {
    HPy {
        _i: (o as usize).wrapping_add(offset) as isize,
    }
}

/// The handle of an object that may be NULL.
#[inline(always)]
fn h_opt(offset: usize, o: *mut cpy_PyObject) -> HPy {
    if o.is_null() { HPy::NULL } else { h(offset, o) }
}

/// The object of a result handle (NULL for HPy_NULL), owning its reference.
#[inline(always)]
fn py(offset: usize, r: HPy) -> *mut cpy_PyObject {
    if r.is_null() {
        null_mut()
    } else {
        (r._i as usize).wrapping_sub(offset) as *mut cpy_PyObject
    }
}

/// The size and first item of a tuple (the layout [`probe`] checked).
///
/// # Safety
/// `t` is a live tuple of the direct runtime.
#[inline(always)]
unsafe fn tuple_parts(t: *mut cpy_PyObject) -> (usize, *const *mut cpy_PyObject) {
    let words = t.cast::<usize>();
    let first = TUPLE_ITEMS.load(Ordering::Relaxed);
    // SAFETY: forwarded from the caller: a tuple's size is its third word,
    // its items start at the word the probe found.
    unsafe { (*words.add(2), words.add(first).cast()) }
}

/// `n` objects as an array of handles: the objects' own array where a handle
/// is the address (offset 0), else their handles written to the start of `out`; NULL
/// (nothing written) if there are more than [`MAX_ARGS`] to copy.
///
/// # Safety
/// `items` points to `n` live objects.
#[inline(always)]
unsafe fn handles(
    offset: usize,
    items: *const *mut cpy_PyObject,
    n: usize,
    out: &mut MaybeUninit<[HPy; MAX_ARGS]>,
) -> *const HPy {
    if offset == 0 {
        // (`HPy` is `repr(transparent)` over the address.)
        return items.cast();
    }
    if n > MAX_ARGS {
        return core::ptr::null();
    }
    // (Left uninitialised: only the `n` handles written are read.)
    let out = out.as_mut_ptr().cast::<HPy>();
    for i in 0..n {
        // SAFETY: `i < n <= MAX_ARGS`: an item (never NULL: argument arrays
        // and tuples hold objects) and a slot of `out`.
        unsafe { out.add(i).write(h(offset, *items.add(i))) };
    }
    out
}

/// Calls `impl_` with the arguments in `args` (the `_HPyFunc_args_*` struct
/// of `sig`) and writes its result there, as the runtime of `ctx` would;
/// `false` if `ctx` is not the direct context or this call is not one this
/// function makes (nothing was called then).
///
/// # Safety
/// As for `ctx_CallRealFunctionFromTrampoline`: `ctx` is the trampolines'
/// context, `args` the argument struct of `sig`, with CPython's arguments
/// borrowed for the call, `impl_` an impl of `sig`; the GIL is held.
#[inline(always)]
pub(crate) unsafe fn call(
    ctx: *mut HPyContext,
    sig: sys::HPyFunc_Signature,
    impl_: sys::HPyCFunction,
    args: *mut c_void,
) -> bool {
    let Some(off) = direct(ctx) else {
        return false;
    };
    let Some(f) = impl_ else {
        return false;
    };
    macro_rules! unpack {
        // (Used inside the `unsafe` block below: the caller passes the
        // struct of `sig` and an impl of it.)
        ($Args:ident, $Impl:ty) => {
            (
                &mut *args.cast::<sys::$Args>(),
                core::mem::transmute::<unsafe extern "C" fn() -> *mut c_void, $Impl>(f),
            )
        };
    }
    let mut arr = MaybeUninit::uninit();
    // SAFETY: (every arm) the struct's objects are borrowed for the call, as
    // the impl's handles are; a result handle owns its reference, as the
    // object returned to CPython does.
    unsafe {
        match sig {
            sys::HPyFunc_NOARGS => {
                let (a, f) = unpack!(_HPyFunc_args_NOARGS, NoArgsImpl);
                a.result = py(off, f(ctx, h(off, a.self_)));
            }
            sys::HPyFunc_O => {
                let (a, f) = unpack!(_HPyFunc_args_O, OImpl);
                a.result = py(off, f(ctx, h(off, a.self_), h(off, a.arg)));
            }
            sys::HPyFunc_VARARGS => {
                let (a, f) = unpack!(_HPyFunc_args_VARARGS, VarArgsImpl);
                let n = a.nargs as usize;
                let hs = handles(off, a.args, n, &mut arr);
                if hs.is_null() {
                    return false;
                }
                a.result = py(off, f(ctx, h(off, a.self_), hs, n));
            }
            sys::HPyFunc_KEYWORDS => {
                let (a, f) = unpack!(_HPyFunc_args_KEYWORDS, KeywordsImpl);
                // PyVectorcall_NARGS: without PY_VECTORCALL_ARGUMENTS_OFFSET.
                let nargs = a.nargsf & !(1usize << (usize::BITS - 1));
                let nkw = if a.kwnames.is_null() {
                    0
                } else {
                    tuple_parts(a.kwnames).0
                };
                let hs = handles(off, a.args, nargs + nkw, &mut arr);
                if hs.is_null() {
                    return false;
                }
                let kwnames = h_opt(off, a.kwnames);
                a.result = py(off, f(ctx, h(off, a.self_), hs, nargs, kwnames));
            }
            sys::HPyFunc_NEWFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_NEWFUNC, NewImpl);
                let (n, items) = tuple_parts(a.args);
                let hs = handles(off, items, n, &mut arr);
                if hs.is_null() {
                    return false;
                }
                let kw = h_opt(off, a.kw);
                a.result = py(off, f(ctx, h(off, a.self_), hs, n as isize, kw));
            }
            sys::HPyFunc_INITPROC => {
                let (a, f) = unpack!(_HPyFunc_args_INITPROC, InitImpl);
                let (n, items) = tuple_parts(a.args);
                let hs = handles(off, items, n, &mut arr);
                if hs.is_null() {
                    return false;
                }
                let kw = h_opt(off, a.kw);
                a.result = f(ctx, h(off, a.self_), hs, n as isize, kw);
            }
            sys::HPyFunc_REPRFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_REPRFUNC, ReprImpl);
                a.result = py(off, f(ctx, h(off, a.arg0)));
            }
            sys::HPyFunc_UNARYFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_UNARYFUNC, UnaryImpl);
                a.result = py(off, f(ctx, h(off, a.arg0)));
            }
            sys::HPyFunc_BINARYFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_BINARYFUNC, BinaryImpl);
                a.result = py(off, f(ctx, h(off, a.arg0), h(off, a.arg1)));
            }
            sys::HPyFunc_TERNARYFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_TERNARYFUNC, TernaryImpl);
                let r = f(ctx, h(off, a.arg0), h(off, a.arg1), h_opt(off, a.arg2));
                a.result = py(off, r);
            }
            sys::HPyFunc_HASHFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_HASHFUNC, HashImpl);
                a.result = f(ctx, h(off, a.arg0));
            }
            sys::HPyFunc_INQUIRY => {
                let (a, f) = unpack!(_HPyFunc_args_INQUIRY, InquiryImpl);
                a.result = f(ctx, h(off, a.arg0));
            }
            sys::HPyFunc_LENFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_LENFUNC, LenImpl);
                a.result = f(ctx, h(off, a.arg0));
            }
            sys::HPyFunc_SSIZEARGFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_SSIZEARGFUNC, SsizeArgImpl);
                a.result = py(off, f(ctx, h(off, a.arg0), a.arg1));
            }
            sys::HPyFunc_SSIZEOBJARGPROC => {
                let (a, f) = unpack!(_HPyFunc_args_SSIZEOBJARGPROC, SsizeObjArgImpl);
                a.result = f(ctx, h(off, a.arg0), a.arg1, h_opt(off, a.arg2));
            }
            sys::HPyFunc_OBJOBJARGPROC => {
                let (a, f) = unpack!(_HPyFunc_args_OBJOBJARGPROC, ObjObjArgImpl);
                a.result = f(ctx, h(off, a.arg0), h(off, a.arg1), h_opt(off, a.arg2));
            }
            sys::HPyFunc_OBJOBJPROC => {
                let (a, f) = unpack!(_HPyFunc_args_OBJOBJPROC, ObjObjImpl);
                a.result = f(ctx, h(off, a.arg0), h(off, a.arg1));
            }
            sys::HPyFunc_RICHCMPFUNC => {
                let (a, f) = unpack!(_HPyFunc_args_RICHCMPFUNC, RichCmpImpl);
                a.result = py(off, f(ctx, h(off, a.arg0), h(off, a.arg1), a.arg2));
            }
            sys::HPyFunc_GETTER => {
                let (a, f) = unpack!(_HPyFunc_args_GETTER, GetterImpl);
                a.result = py(off, f(ctx, h(off, a.arg0), a.arg1));
            }
            sys::HPyFunc_SETTER => {
                let (a, f) = unpack!(_HPyFunc_args_SETTER, SetterImpl);
                a.result = f(ctx, h(off, a.arg0), h_opt(off, a.arg1), a.arg2);
            }
            sys::HPyFunc_DESTRUCTOR => {
                let (a, f) = unpack!(_HPyFunc_args_DESTRUCTOR, DestructorImpl);
                f(ctx, h(off, a.arg0));
            }
            _ => return false,
        }
    }
    true
}
