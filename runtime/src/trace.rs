//! Trace mode (`HPY=trace`, `MODE_TRACE`): a context around the universal
//! one whose every function counts its calls, adds up the time spent in it
//! and calls the optional `on_enter`/`on_exit` Python functions with its
//! name, then forwards to the universal context's function. The model is
//! HPy's `hpy/trace`; the Python API is `hpy.universal._trace`'s
//! (`get_call_counts`, `get_durations`, `set_trace_functions`,
//! `get_frequency`), through `hpy_rs_runtime/_trace.py`.
//!
//! Handles are the universal context's: trace mode changes no object.

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void};
use core::ptr::null_mut;

use hpy_sys::*;
use pyo3_ffi as ffi;

/// What trace mode records, per context function (`HPy_ID` order of the
/// functions), and the Python functions it calls.
struct State {
    counts: [u64; FUNCTIONS],
    durations_ns: [u64; FUNCTIONS],
    /// Strong references, or NULL.
    on_enter: *mut ffi::PyObject,
    on_exit: *mut ffi::PyObject,
}

struct Shared(UnsafeCell<State>);

// SAFETY: every access holds the GIL (the context functions' contract, and
// the Python API's).
unsafe impl Sync for Shared {}

static STATE: Shared = Shared(UnsafeCell::new(State {
    counts: [0; FUNCTIONS],
    durations_ns: [0; FUNCTIONS],
    on_enter: null_mut(),
    on_exit: null_mut(),
}));

/// The state. The GIL orders the callers; no caller keeps the reference
/// across a call into Python (which may re-enter).
///
/// # Safety
/// The GIL is held, and no other reference from this function is alive.
#[allow(clippy::mut_from_ref)]
unsafe fn state() -> &'static mut State {
    // SAFETY: forwarded.
    unsafe { &mut *STATE.0.get() }
}

/// A monotonic clock, in nanoseconds.
fn now_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    (t.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(t.tv_nsec as u64)
}

/// Calls `hook(name)` if set, keeping any pending exception as it was (a
/// context function may be called with one set) and reporting the hook's own
/// as unraisable.
///
/// # Safety
/// The GIL is held; `hook` is NULL or alive.
#[cold]
unsafe fn call_hook(hook: *mut ffi::PyObject, id: usize) {
    // SAFETY: the GIL is held; a tuple (not vectorcall: the workspace's abi3
    // clippy builds this code too) of the name, alive for the call.
    unsafe {
        let name = NAMES[id];
        let arg = ffi::PyUnicode_FromStringAndSize(name.as_ptr().cast(), name.len() as _);
        let args = if arg.is_null() {
            null_mut()
        } else {
            ffi::PyTuple_Pack(1, arg)
        };
        ffi::Py_XDECREF(arg);
        if args.is_null() {
            ffi::PyErr_WriteUnraisable(hook);
            return;
        }
        crate::call_aside(hook, args);
        ffi::Py_DECREF(args);
    }
}

/// Before a function: counts it, calls `on_enter`, and returns the time.
///
/// # Safety
/// The GIL is held.
#[inline]
unsafe fn enter(id: usize) -> u64 {
    // SAFETY: the GIL is held; the reference ends before the hook runs.
    let hook = unsafe {
        let s = state();
        s.counts[id] += 1;
        s.on_enter
    };
    if !hook.is_null() {
        // SAFETY: forwarded.
        unsafe { call_hook(hook, id) };
    }
    now_ns()
}

/// After a function: adds its time, and calls `on_exit`.
///
/// # Safety
/// The GIL is held.
#[inline]
unsafe fn exit(id: usize, start: u64) {
    let elapsed = now_ns().wrapping_sub(start);
    // SAFETY: the GIL is held; the reference ends before the hook runs.
    let hook = unsafe {
        let s = state();
        s.durations_ns[id] = s.durations_ns[id].wrapping_add(elapsed);
        s.on_exit
    };
    if !hook.is_null() {
        // SAFETY: forwarded.
        unsafe { call_hook(hook, id) };
    }
}

/// The universal context a trace context wraps (its `_private`).
///
/// # Safety
/// `ctx` is a trace context.
#[inline(always)]
unsafe fn inner(ctx: *mut HPyContext) -> *mut HPyContext {
    // SAFETY: a trace context's `_private` is the universal context.
    unsafe { (*ctx)._private.cast() }
}

macro_rules! trace_functions {
    ($( ($name:ident, ($($arg:ident: $ty:ty),*), $ret:ty); )*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(usize)]
        enum Id { $($name),* }

        /// The number of context functions.
        const FUNCTIONS: usize = [$(stringify!($name)),*].len();

        /// Their names, in `HPy_ID` order.
        pub(crate) const NAMES: [&str; FUNCTIONS] = [$(stringify!($name)),*];

        mod wrappers {
            use super::*;
            $(
                /// The traced form of the universal context's function.
                pub(super) unsafe extern "C" fn $name(ctx: *mut HPyContext $(, $arg: $ty)*) -> $ret {
                    // SAFETY: `ctx` is a trace context (only trace contexts
                    // hold these functions), whose universal context has every
                    // function; the arguments are forwarded as received.
                    unsafe {
                        let start = enter(Id::$name as usize);
                        let u = inner(ctx);
                        let result = ((*u).$name.unwrap_unchecked())(u $(, $arg)*);
                        exit(Id::$name as usize, start);
                        result
                    }
                }
            )*
        }

        /// Stores the traced functions in `ctx`.
        fn fill_functions(ctx: &mut HPyContext) {
            $( ctx.$name = Some(wrappers::$name); )*
        }
    };
}

hpy_sys::__hpy_for_each_context_function!(trace_functions);

/// The trampolines' entry: not traced (as in HPy), and the impl is called
/// with the trace context itself, so that its calls are.
unsafe extern "C" fn call_real_function_from_trampoline(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
) {
    // SAFETY: forwarded (the trampoline's contract).
    unsafe { hpy_sys::cpython::ctx_CallRealFunctionFromTrampoline(ctx, sig, func, args) }
}

static CONTEXT: crate::ModeContext = crate::ModeContext::new();

/// The trace context around `universal` (made on first use).
///
/// # Safety
/// The GIL is held; `universal` is the filled universal context.
pub(crate) unsafe fn context(universal: *mut HPyContext) -> *mut HPyContext {
    // SAFETY: the GIL is held; the universal context is complete.
    unsafe {
        CONTEXT.get_or_make(|| {
            let mut ctx: HPyContext = core::ptr::read(universal);
            ctx.name = c"HPy Trace Mode ABI".as_ptr();
            ctx._private = universal.cast();
            fill_functions(&mut ctx);
            ctx.ctx_CallRealFunctionFromTrampoline = Some(call_real_function_from_trampoline);
            ctx
        })
    }
}

// ---------------------------------------------------------------------------
// The Python API (`hpy_rs_runtime._trace`)

/// A dict `{function name: value}` of one of the per-function arrays.
///
/// # Safety
/// The GIL is held.
unsafe fn as_dict(pick: fn(&State) -> &[u64; FUNCTIONS]) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held; every result is checked; the state is copied
    // out before any call into Python.
    unsafe {
        let values = *pick(state());
        let dict = ffi::PyDict_New();
        if dict.is_null() {
            return null_mut();
        }
        for (name, value) in NAMES.iter().zip(values) {
            let v = ffi::PyLong_FromUnsignedLongLong(value);
            if v.is_null() {
                ffi::Py_DECREF(dict);
                return null_mut();
            }
            let key = ffi::PyUnicode_FromStringAndSize(name.as_ptr().cast(), name.len() as _);
            let failed = key.is_null() || ffi::PyDict_SetItem(dict, key, v) < 0;
            ffi::Py_XDECREF(key);
            ffi::Py_DECREF(v);
            if failed {
                ffi::Py_DECREF(dict);
                return null_mut();
            }
        }
        dict
    }
}

/// `get_call_counts()`: `{name: calls}` for every context function.
pub(crate) unsafe extern "C" fn get_call_counts(
    _module: *mut ffi::PyObject,
    _noargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe { as_dict(|s| &s.counts) }
}

/// `get_durations()`: `{name: nanoseconds}` for every context function.
pub(crate) unsafe extern "C" fn get_durations(
    _module: *mut ffi::PyObject,
    _noargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe { as_dict(|s| &s.durations_ns) }
}

/// `get_frequency()`: the ticks per second of the durations (nanoseconds).
pub(crate) unsafe extern "C" fn get_frequency(
    _module: *mut ffi::PyObject,
    _noargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe { ffi::PyLong_FromLong(1_000_000_000) }
}

/// `_set_trace_functions(on_enter, on_exit)`: each a callable, `None` (no
/// function) or `...` (keep the current one). `_trace.py` checks the kinds.
pub(crate) unsafe extern "C" fn set_trace_functions(
    _module: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held and `nargs` arguments;
    // the old functions are released after the new ones are stored (their
    // release may run Python code, which may call this again).
    unsafe {
        if nargs != 2 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"_set_trace_functions takes exactly 2 arguments".as_ptr(),
            );
            return null_mut();
        }
        let mut released: [*mut ffi::PyObject; 2] = [null_mut(); 2];
        for (i, slot) in [0usize, 1].into_iter().zip(released.iter_mut()) {
            let f = *args.add(i);
            if f == ffi::Py_Ellipsis() {
                continue;
            }
            let new = if f == ffi::Py_None() {
                null_mut()
            } else {
                ffi::Py_INCREF(f);
                f
            };
            let s = state();
            let field = if i == 0 {
                &mut s.on_enter
            } else {
                &mut s.on_exit
            };
            *slot = core::mem::replace(field, new);
        }
        for old in released {
            ffi::Py_XDECREF(old);
        }
        ffi::Py_INCREF(ffi::Py_None());
        ffi::Py_None()
    }
}
