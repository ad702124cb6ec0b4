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
//! The call itself is `hpy_sys::trampoline::call_real_function`, the
//! unpacking every CPython-side caller shares, with this module's
//! conversions ([`Offset`]). Anything else, and the signatures whose
//! unpacking takes CPython's API (buffers, `tp_traverse`, capsule
//! destructors, module creation) or a call with more than [`MAX_ARGS`]
//! arguments to copy (HPy's handles: the objects' own array is passed where
//! a handle is the address), takes the runtime's path. The context is
//! compared at each call, since loading the same file again in another
//! mode replaces the trampolines' context.

use core::ffi::{CStr, c_void};
use core::mem::MaybeUninit;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::sys;
use sys::trampoline::Args;
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

/// The conversions of a direct call: a handle is the object's address plus
/// `offset`; argument arrays are the objects' own where that is 0, else
/// copied to `arr` (at most [`MAX_ARGS`]; more are declined).
///
/// (The array is borrowed, not held: its address goes to the impl, and a
/// struct holding it would be kept in memory, its offset stored there too.)
struct Offset<'a> {
    offset: usize,
    arr: &'a mut MaybeUninit<[HPy; MAX_ARGS]>,
}

// SAFETY: for the direct context, whose handles are the objects' addresses
// plus `offset` (checked by `probe`): a borrowed object's handle is open
// while the object lives (the call), a result handle owns its object's
// reference; tuples are read at the words `probe` checked.
unsafe impl sys::trampoline::TrampolineHandles for Offset<'_> {
    const OWN_ARRAY: bool = false;

    #[inline(always)]
    unsafe fn arg(&mut self, o: *mut cpy_PyObject) -> HPy {
        HPy {
            _i: (o as usize).wrapping_add(self.offset) as isize,
        }
    }

    #[inline(always)]
    unsafe fn arg_opt(&mut self, o: *mut cpy_PyObject) -> HPy {
        if o.is_null() {
            HPy::NULL
        } else {
            // SAFETY: forwarded.
            unsafe { self.arg(o) }
        }
    }

    #[inline(always)]
    unsafe fn args(&mut self, items: *const *mut cpy_PyObject, n: usize) -> Args {
        if self.offset == 0 {
            // (`HPy` is `repr(transparent)` over the address.)
            return Args::Handles(items.cast());
        }
        if n > MAX_ARGS {
            return Args::Declined;
        }
        // (Left uninitialised: only the `n` handles written are read.)
        let out = self.arr.as_mut_ptr().cast::<HPy>();
        for i in 0..n {
            // SAFETY: `i < n <= MAX_ARGS`: an item (never NULL: argument
            // arrays and tuples hold objects) and a slot of `out`.
            unsafe { out.add(i).write(self.arg(*items.add(i))) };
        }
        Args::Handles(out)
    }

    #[inline(always)]
    unsafe fn result(&mut self, h: HPy) -> *mut cpy_PyObject {
        if h.is_null() {
            null_mut()
        } else {
            (h._i as usize).wrapping_sub(self.offset) as *mut cpy_PyObject
        }
    }

    #[inline(always)]
    unsafe fn tuple_len(&mut self, t: *mut cpy_PyObject) -> usize {
        // SAFETY: forwarded: a tuple's size is its third word.
        unsafe { *t.cast::<usize>().add(2) }
    }

    #[inline(always)]
    unsafe fn with_tuple_items<R>(
        &mut self,
        t: *mut cpy_PyObject,
        _fail: R,
        f: impl FnOnce(&mut Self, *const *mut cpy_PyObject, usize) -> R,
    ) -> R {
        let words = t.cast::<usize>();
        let first = TUPLE_ITEMS.load(Ordering::Relaxed);
        // SAFETY: forwarded: the items start at the word the probe found.
        let (n, items) = unsafe { (self.tuple_len(t), words.add(first).cast()) };
        f(self, items, n)
    }

    #[inline(always)]
    unsafe fn call_other(
        &mut self,
        _ctx: *mut HPyContext,
        _sig: sys::HPyFunc_Signature,
        _func: sys::HPyCFunction,
        _args: *mut c_void,
    ) -> bool {
        // Buffers, `tp_traverse`, capsule destructors, module creation: the
        // runtime's path.
        false
    }
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
    let Some(offset) = direct(ctx) else {
        return false;
    };
    if impl_.is_none() {
        return false;
    }
    let mut arr = MaybeUninit::uninit();
    let mut conv = Offset {
        offset,
        arr: &mut arr,
    };
    // SAFETY: forwarded; `ctx` is the direct context, whose handles `conv`
    // makes, and `impl_` is not NULL.
    unsafe { sys::trampoline::call_real_function(ctx, sig, impl_, args, &mut conv) }
}
