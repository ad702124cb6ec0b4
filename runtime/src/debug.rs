//! Debug mode (`HPY=debug`, `MODE_DEBUG`): a context around the universal
//! one whose handles are records of their own, so that what HPy's debug mode
//! finds is found here too (HPy's `hpy/debug` is the model):
//!
//! * every handle is a [`DebugHandle`], open until `HPy_Close`; the open ones
//!   carry the generation they were opened in, so that `LeakDetector` (its
//!   `_debug.new_generation()` and `get_open_handles(generation)`) reports
//!   the handles a block left open;
//! * a closed handle stays in a queue (the last 1024 by default), so that
//!   using or closing it again is reported: by `set_on_invalid_handle`'s
//!   function if one is set, else as a fatal error that names the handle;
//! * a trampoline's argument handles are closed when the call returns: an
//!   impl that closes one, or returns one without `HPy_Dup`, is reported
//!   the same way; the context's constants cannot be closed;
//! * list and tuple builders are records too: one used after it was built
//!   or cancelled is reported (`set_on_invalid_builder_handle`).
//!
//! Most functions are generated from `hpy_sys::__hpy_for_each_context_function!`:
//! a handle parameter is checked and replaced by the universal handle, a
//! handle result wrapped in a new debug handle. The ones that take arrays of
//! handles, write handles through pointers or keep them (trackers) are
//! written by hand below; so is the raw data (`HPyUnicode_AsUTF8AndSize`,
//! `HPyBytes_AsString`, `HPyType_GetName`): a read-only copy per handle,
//! made unreadable when it closes;
//! * with `set_handle_stack_trace_limit(n)`, each new handle records where it
//!   was opened (the native stack, symbolized from the libraries' debug
//!   information when shown: `DebugHandle.allocation_stacktrace`, the leak
//!   report, the message of a use after close).

// The hand-written context functions carry their members' names.
#![allow(non_snake_case, non_upper_case_globals)]

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr::null_mut;

use hpy_sys::trampoline::{Args, TrampolineHandles};
use hpy_sys::*;
use pyo3_ffi as ffi;

extern crate alloc;

/// One debug handle: the universal handle it stands for (a reference of its
/// own), and what the checks need.
pub(crate) struct DebugHandle {
    uh: HPy,
    generation: u64,
    /// Opening order (`get_open_handles` lists the oldest first).
    serial: u64,
    closed: bool,
    /// One of the context's constants (`h_None`, ...): never closed.
    constant: bool,
    /// Its place in `State::open` while open.
    open_index: usize,
    /// A read-only copy of the raw data handed out for it
    /// (`HPyUnicode_AsUTF8AndSize`, ...), or NULL; made unreadable when the
    /// handle closes (or freed, past `protected_max`).
    data: *mut u8,
    /// The copy's size as HPy counts it (with the NUL), -1 for none.
    data_size: isize,
    /// The length of its mapping.
    data_map: usize,
    /// Where it was opened (a `Box`, shown by [`stack_text`]) when
    /// `set_handle_stack_trace_limit` asked for it, else NULL.
    stack: *mut Stack,
}

/// The native stack a handle was opened from, and how many frames of it to
/// show (the limit when it was recorded).
struct Stack {
    trace: std::backtrace::Backtrace,
    limit: usize,
}

struct State {
    generation: u64,
    serial: u64,
    open: Vec<*mut DebugHandle>,
    /// Closed handles, oldest first, at most `closed_max` (the oldest one
    /// beyond is freed). Once it holds `closed_max`, each new handle reuses
    /// the oldest one's record (as in HPy), so a `DebugHandle` object of a
    /// closed handle may later show the new handle.
    closed: VecDeque<*mut DebugHandle>,
    closed_max: usize,
    /// Every record's address, to check the ids Python code passes back.
    records: alloc::collections::BTreeSet<usize>,
    /// A strong reference, or NULL.
    on_invalid_handle: *mut ffi::PyObject,
    /// Builders built or cancelled, still remembered (as many as handles).
    closed_builders: VecDeque<*mut DebugBuilder>,
    /// A strong reference, or NULL.
    on_invalid_builder: *mut ffi::PyObject,
    /// The next copy of the ring a call gets.
    next_copy: usize,
    /// The raw data kept (unreadable) for closed handles, in bytes, and its
    /// limit (HPy's `protected_raw_data_max_size`, 10 MiB by default).
    protected: usize,
    protected_max: usize,
    /// How many frames of a new handle's stack to show; 0: none recorded
    /// (HPy's default).
    stack_limit: usize,
}

/// A debug-mode list or tuple builder: the universal builder until it is
/// built or cancelled.
struct DebugBuilder {
    ub: isize,
    closed: bool,
}

struct Shared(UnsafeCell<State>);

// SAFETY: every access holds the GIL.
unsafe impl Sync for Shared {}

static STATE: Shared = Shared(UnsafeCell::new(State {
    generation: 0,
    serial: 0,
    open: Vec::new(),
    closed: VecDeque::new(),
    closed_max: 1024,
    records: alloc::collections::BTreeSet::new(),
    on_invalid_handle: null_mut(),
    closed_builders: VecDeque::new(),
    on_invalid_builder: null_mut(),
    next_copy: 0,
    protected: 0,
    protected_max: 10 * 1024 * 1024,
    stack_limit: 0,
}));

/// The state; no caller keeps the reference across a call into Python.
///
/// # Safety
/// The GIL is held, and no other reference from this function is alive.
#[allow(clippy::mut_from_ref)]
unsafe fn state() -> &'static mut State {
    // SAFETY: forwarded.
    unsafe { &mut *STATE.0.get() }
}

#[inline(always)]
fn record(h: HPy) -> *mut DebugHandle {
    h._i as *mut DebugHandle
}

/// A new debug handle for the universal handle `uh` (whose reference it
/// takes); HPy_NULL for HPy_NULL, or with `MemoryError` (and `uh` closed)
/// if it cannot be made.
///
/// # Safety
/// The GIL is held; `uh` is HPy_NULL or a new reference.
pub(crate) unsafe fn open(uh: HPy) -> HPy {
    if uh._i == 0 {
        return HPy::NULL;
    }
    // SAFETY: the GIL is held; a record is reused (the oldest closed one
    // when the closed queue is full) or a fresh allocation, freed only by
    // `free_record` once out of every list.
    unsafe {
        let s = state();
        if s.open.try_reserve(1).is_err() {
            ffi::Py_DECREF(uh._i as *mut ffi::PyObject);
            ffi::PyErr_NoMemory();
            return HPy::NULL;
        }
        let reused = if !s.closed.is_empty() && s.closed.len() >= s.closed_max {
            s.closed.pop_front()
        } else {
            None
        };
        let p = match reused {
            Some(p) => {
                free_data(p);
                free_stack(p);
                p
            }
            None => {
                let layout = core::alloc::Layout::new::<DebugHandle>();
                let p = alloc::alloc::alloc(layout).cast::<DebugHandle>();
                if p.is_null() || s.records.len() == usize::MAX {
                    ffi::Py_DECREF(uh._i as *mut ffi::PyObject);
                    ffi::PyErr_NoMemory();
                    return HPy::NULL;
                }
                s.records.insert(p as usize);
                p
            }
        };
        s.serial += 1;
        p.write(DebugHandle {
            uh,
            generation: s.generation,
            serial: s.serial,
            closed: false,
            constant: false,
            open_index: s.open.len(),
            data: null_mut(),
            data_size: -1,
            data_map: 0,
            stack: capture_stack(s.stack_limit),
        });
        s.open.push(p);
        HPy { _i: p as isize }
    }
}

/// A debug handle for a borrowed object (a new reference is taken).
///
/// # Safety
/// The GIL is held; `o` is NULL or alive.
pub(crate) unsafe fn open_borrowed(o: *mut ffi::PyObject) -> HPy {
    // SAFETY: forwarded; the new handle owns the reference taken here.
    unsafe {
        ffi::Py_XINCREF(o);
        open(HPy { _i: o as isize })
    }
}

/// Reports the use of `d`, a closed handle: `set_on_invalid_handle`'s
/// function (any exception it raises is reported as unraisable; the one
/// pending stays), or a fatal error naming the handle.
///
/// # Safety
/// The GIL is held; `d` is a record.
#[cold]
unsafe fn invalid(d: *mut DebugHandle, what: &str) {
    // SAFETY: the GIL is held; the callback is kept alive across its call.
    unsafe {
        let callback = state().on_invalid_handle;
        if callback.is_null() {
            let stack = match (*d).stack.as_ref() {
                Some(stack) => alloc::format!("\nAllocation stacktrace:\n{}", stack_text(stack)),
                None => alloc::string::String::new(),
            };
            let message = alloc::format!(
                "Invalid usage of already closed handle: {what} the debug handle {:#x} \
                 (opened in generation {}){stack}\0",
                d as usize,
                (*d).generation
            );
            ffi::Py_FatalError(message.as_ptr().cast());
        }
        crate::call_aside(callback, null_mut());
    }
}

/// The universal handle of the debug handle `h` (checked: a closed one is
/// reported).
///
/// # Safety
/// The GIL is held; `h` is HPy_NULL or a debug handle.
#[inline]
pub(crate) unsafe fn unwrap(h: HPy) -> HPy {
    let d = record(h);
    if d.is_null() {
        return HPy::NULL;
    }
    // SAFETY: a debug handle points to its record, alive while open or
    // queued as closed.
    unsafe {
        if (*d).closed {
            invalid(d, "used");
        }
        (*d).uh
    }
}

/// `HPy_Close` of a debug handle: the record is marked closed and queued,
/// the universal handle closed.
///
/// # Safety
/// The GIL is held; `h` is HPy_NULL or a debug handle.
pub(crate) unsafe fn close(h: HPy) {
    let d = record(h);
    if d.is_null() {
        return;
    }
    // SAFETY: as in `unwrap`; the records leave the lists they are in
    // before they are freed.
    unsafe {
        if (*d).closed {
            invalid(d, "closed again");
            return;
        }
        if (*d).constant {
            invalid(d, "closed a context constant,");
            return;
        }
        let s = state();
        let index = (*d).open_index;
        let last = s.open.pop();
        if let Some(last) = last
            && last != d
        {
            s.open[index] = last;
            (*last).open_index = index;
        }
        (*d).closed = true;
        protect_data(d);
        let uh = (*d).uh;
        // Queued, and the oldest one beyond the queue's size freed (as in
        // HPy); if the queue cannot grow, this one is freed at once.
        if s.closed.try_reserve(1).is_ok() {
            s.closed.push_back(d);
            if s.closed.len() > s.closed_max
                && let Some(oldest) = s.closed.pop_front()
            {
                free_record(oldest);
            }
        } else {
            free_record(d);
        }
        ffi::Py_XDECREF(uh._i as *mut ffi::PyObject);
    }
}

/// Frees a closed record that is in no list: its id is no longer one.
///
/// # Safety
/// The GIL is held; `d` is such a record.
unsafe fn free_record(d: *mut DebugHandle) {
    // SAFETY: allocated by `open` with this layout, and in no list.
    unsafe {
        free_data(d);
        free_stack(d);
        state().records.remove(&(d as usize));
        alloc::alloc::dealloc(d.cast(), core::alloc::Layout::new::<DebugHandle>());
    }
}

/// The native stack of a handle being opened, if `limit` asks for one
/// (unresolved: symbols are looked up only when it is shown).
fn capture_stack(limit: usize) -> *mut Stack {
    if limit == 0 {
        return null_mut();
    }
    alloc::boxed::Box::into_raw(alloc::boxed::Box::new(Stack {
        trace: std::backtrace::Backtrace::force_capture(),
        limit,
    }))
}

/// Frees `d`'s stack, if it has one.
///
/// # Safety
/// The GIL is held; `d` is a record.
unsafe fn free_stack(d: *mut DebugHandle) {
    // SAFETY: a non-NULL `stack` is the record's own `Box`.
    unsafe {
        if !(*d).stack.is_null() {
            drop(alloc::boxed::Box::from_raw((*d).stack));
            (*d).stack = null_mut();
        }
    }
}

/// A stack as debug mode shows it: one frame a line, innermost first, from
/// the code that called the context function (the runtime's own frames
/// left out), at most its `limit` frames: `function at file:line` where the
/// library has debug information, else `library+0xoffset`.
///
/// Read from `Backtrace`'s full text (`  3:  0xADDR - name` lines, each
/// followed by its `at file:line` lines); a text in another shape is shown
/// whole.
fn stack_text(stack: &Stack) -> alloc::string::String {
    use alloc::string::{String, ToString};
    struct Frame {
        ip: usize,
        name: String,
        location: Option<String>,
    }
    let text = alloc::format!("{:#}", stack.trace);
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(location) = trimmed.strip_prefix("at ") {
            match frames.last_mut() {
                Some(frame) => {
                    frame.location.get_or_insert_with(|| location.to_string());
                }
                None => return text,
            }
            continue;
        }
        let parsed = trimmed
            .split_once(": ")
            .filter(|(index, _)| index.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(_, rest)| {
                let (address, name) = rest.trim_start().split_once(" - ").unwrap_or((rest, ""));
                let ip = usize::from_str_radix(address.trim().trim_start_matches("0x"), 16).ok()?;
                Some(Frame {
                    ip,
                    name: readable_symbol(name),
                    location: None,
                })
            });
        match parsed {
            Some(frame) => frames.push(frame),
            None => return text,
        }
    }
    // The runtime's own frames (capturing, the debug context's function)
    // are those in this library.
    let ours = library_of(stack_text as *const () as usize).map(|(base, _)| base);
    let mut out = String::new();
    for frame in frames
        .iter()
        .skip_while(|f| ours.is_some() && library_of(f.ip).map(|(base, _)| base) == ours)
        .take(stack.limit)
    {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("  ");
        match (&frame.location, frame.name.as_str()) {
            (Some(location), name) if !name.is_empty() && name != "<unknown>" => {
                out.push_str(name);
                out.push_str(" at ");
                out.push_str(location);
            }
            (_, name) if !name.is_empty() && name != "<unknown>" => out.push_str(name),
            _ => match library_of(frame.ip) {
                Some((base, file)) => {
                    out.push_str(&alloc::format!("{file}+{:#x}", frame.ip - base));
                }
                None => out.push_str(&alloc::format!("{:#x}", frame.ip)),
            },
        }
    }
    out
}

/// A symbol name without what only tells builds apart: the `[0123abcd...]`
/// crate disambiguators and the trailing `::h0123...` hash.
fn readable_symbol(name: &str) -> alloc::string::String {
    let is_hash = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out = alloc::string::String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match rest[open + 1..].find(']') {
            Some(close) if is_hash(&rest[open + 1..open + 1 + close]) => {
                rest = &rest[open + 2 + close..];
            }
            _ => {
                out.push('[');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    if let Some((head, hash)) = out.rsplit_once("::h")
        && is_hash(hash)
    {
        out.truncate(head.len());
    }
    out
}

/// The load address and file name of the library that holds `address`
/// (`dladdr`).
fn library_of(address: usize) -> Option<(usize, alloc::string::String)> {
    // SAFETY: `dladdr` only reads the loader's tables; `dli_fname` is a
    // NUL-terminated string the loader owns, copied before returning.
    unsafe {
        let mut info: libc::Dl_info = core::mem::zeroed();
        if libc::dladdr(address as *const c_void, &mut info) == 0 || info.dli_fbase.is_null() {
            return None;
        }
        let file = if info.dli_fname.is_null() {
            alloc::string::String::new()
        } else {
            let path = CStr::from_ptr(info.dli_fname).to_string_lossy();
            path.rsplit('/').next().unwrap_or_default().into()
        };
        Some((info.dli_fbase as usize, file))
    }
}

/// A debug handle for a context constant: never closed, in no list.
fn constant(uh: HPy) -> HPy {
    let d = alloc::boxed::Box::new(DebugHandle {
        uh,
        generation: 0,
        serial: 0,
        closed: false,
        constant: true,
        open_index: usize::MAX,
        data: null_mut(),
        data_size: -1,
        data_map: 0,
        stack: null_mut(),
    });
    HPy {
        _i: alloc::boxed::Box::into_raw(d) as isize,
    }
}

// ---------------------------------------------------------------------------
// The generated wrappers

/// A parameter as the universal context takes it.
trait ToUniversal: Copy {
    /// # Safety
    /// The GIL is held; a handle is a debug handle.
    #[inline(always)]
    unsafe fn to_universal(self) -> Self {
        self
    }
}

/// A result as the debug context gives it.
trait ToDebug: Copy {
    /// # Safety
    /// The GIL is held; a handle is a new universal handle.
    #[inline(always)]
    unsafe fn to_debug(self) -> Self {
        self
    }
}

impl ToUniversal for HPy {
    #[inline(always)]
    unsafe fn to_universal(self) -> Self {
        // SAFETY: forwarded.
        unsafe { unwrap(self) }
    }
}

impl ToDebug for HPy {
    #[inline(always)]
    unsafe fn to_debug(self) -> Self {
        // SAFETY: forwarded.
        unsafe { open(self) }
    }
}

macro_rules! unchanged {
    ($($t:ty),*) => {$(
        impl ToUniversal for $t {}
        impl ToDebug for $t {}
    )*};
}

unchanged!(
    (),
    i32,
    i64,
    u32,
    u64,
    usize,
    isize,
    f64,
    bool,
    HPyCFunction,
    HPyField,
    HPyGlobal,
    HPyFunc_Signature,
    HPyListBuilder,
    HPyTupleBuilder,
    HPyTracker,
    HPyThreadState,
    HPy_SourceKind,
    HPyType_BuiltinShape,
    _HPyCapsule_key
);
impl<T> ToUniversal for *const T {}
impl<T> ToUniversal for *mut T {}
impl<T> ToDebug for *const T {}
impl<T> ToDebug for *mut T {}

/// The universal context a debug context wraps (its `_private`), after
/// checking that `ctx` is the context of the call running: a context kept
/// from an earlier call (or an outer one) aborts with HPy's "Error: Wrong
/// HPy Context!".
///
/// # Safety
/// The GIL is held; `ctx` is a debug context.
#[inline(always)]
unsafe fn inner(ctx: *mut HPyContext) -> *mut HPyContext {
    // SAFETY: every debug context's `_private` is the universal context.
    unsafe {
        if ctx != current() {
            wrong_context();
        }
        (*ctx)._private.cast()
    }
}

std::thread_local! {
    /// This thread's context of the innermost call running (a copy from the
    /// ring), or NULL outside every call, where the main context is the one:
    /// the only context the context functions accept. Per thread: a call
    /// that lets other threads run (`HPy_LeavePythonExecution`) keeps its
    /// context while their calls run.
    static CURRENT: core::cell::Cell<*mut HPyContext> = const { core::cell::Cell::new(null_mut()) };
}

/// This thread's accepted context.
#[inline(always)]
fn current() -> *mut HPyContext {
    let c = CURRENT.with(|c| c.get());
    if c.is_null() { CONTEXT.get() } else { c }
}

/// Aborts: a context function was called with a context that is not the
/// running call's.
#[cold]
fn wrong_context() -> ! {
    use std::io::Write as _;
    let mut err = std::io::stderr();
    let _ = err.write_all(
        b"Error: Wrong HPy Context! (a context kept from another call, or an outer one, was \
          used: each call of a module function gets a context of its own)\n",
    );
    let _ = err.flush();
    std::process::abort()
}

macro_rules! debug_functions {
    ($( ($name:ident, ($($arg:ident: $ty:ty),*), $ret:ty); )*) => {
        mod wrappers {
            use super::*;
            $(
                /// The checked form of the universal context's function.
                pub(super) unsafe extern "C" fn $name(ctx: *mut HPyContext $(, $arg: $ty)*) -> $ret {
                    // SAFETY: `ctx` is the debug context (only it holds these
                    // functions), whose universal context has every function;
                    // each argument is converted to what that one takes.
                    unsafe {
                        let u = inner(ctx);
                        let result = ((*u).$name.unwrap_unchecked())(u $(, <$ty as ToUniversal>::to_universal($arg))*);
                        <$ret as ToDebug>::to_debug(result)
                    }
                }
            )*
        }

        /// Stores the generated functions in `ctx`.
        fn fill_generated(ctx: &mut HPyContext) {
            $( ctx.$name = Some(wrappers::$name); )*
        }
    };
}

hpy_sys::__hpy_for_each_context_function!(debug_functions);

// ---------------------------------------------------------------------------
// The hand-written ones

unsafe extern "C" fn ctx_Close(_ctx: *mut HPyContext, h: HPy) {
    // SAFETY: forwarded (HPy_Close's contract).
    unsafe { close(h) }
}

/// `n` debug handles as universal ones, in `out`; false with `MemoryError`.
///
/// # Safety
/// `items` points to `n` debug handles (or is NULL with `n == 0`).
unsafe fn unwrap_array(items: *const HPy, n: usize, out: &mut Vec<HPy>) -> bool {
    if out.try_reserve_exact(n).is_err() {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return false;
    }
    for i in 0..n {
        // SAFETY: `i < n` items.
        out.push(unsafe { unwrap(*items.add(i)) });
    }
    true
}

/// The number of keyword names in `kwnames` (a debug handle to a tuple, or
/// HPy_NULL).
///
/// # Safety
/// The GIL is held.
unsafe fn keywords(kwnames: HPy) -> usize {
    // SAFETY: a universal handle is the object pointer.
    unsafe {
        let o = unwrap(kwnames)._i as *mut ffi::PyObject;
        if o.is_null() || ffi::PyTuple_Check(o) == 0 {
            0
        } else {
            ffi::PyTuple_Size(o).max(0) as usize
        }
    }
}

unsafe extern "C" fn ctx_Tuple_FromArray(
    ctx: *mut HPyContext,
    items: *mut HPy,
    n: HPy_ssize_t,
) -> HPy {
    let mut u_items = Vec::new();
    // SAFETY: HPyTuple_FromArray's contract; the copy lives for the call.
    unsafe {
        if !unwrap_array(items, n.max(0) as usize, &mut u_items) {
            return HPy::NULL;
        }
        let u = inner(ctx);
        open(((*u).ctx_Tuple_FromArray.unwrap_unchecked())(
            u,
            u_items.as_mut_ptr(),
            n,
        ))
    }
}

unsafe extern "C" fn ctx_Type_GenericNew(
    ctx: *mut HPyContext,
    ty: HPy,
    args: *const HPy,
    nargs: HPy_ssize_t,
    kw: HPy,
) -> HPy {
    let mut u_args = Vec::new();
    // SAFETY: as above.
    unsafe {
        if !unwrap_array(args, nargs.max(0) as usize, &mut u_args) {
            return HPy::NULL;
        }
        let u = inner(ctx);
        open(((*u).ctx_Type_GenericNew.unwrap_unchecked())(
            u,
            unwrap(ty),
            u_args.as_ptr(),
            nargs,
            unwrap(kw),
        ))
    }
}

/// The signature `HPy_Call` and `HPy_CallMethod` share.
type CallFn = unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, usize, HPy) -> HPy;

/// `HPy_Call` or `HPy_CallMethod` (`pick` chooses the universal function,
/// `message` names it): `nargs` positional arguments, then one per keyword
/// name, unwrapped into a copy.
///
/// # Safety
/// The function's contract; `ctx` is a debug context.
unsafe fn call(
    ctx: *mut HPyContext,
    pick: fn(&HPyContext) -> Option<CallFn>,
    message: &CStr,
    target: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    let mut u_args = Vec::new();
    // SAFETY: forwarded; the copy lives for the call.
    unsafe {
        check_kwnames(kwnames, message);
        if !unwrap_array(args, nargs + keywords(kwnames), &mut u_args) {
            return HPy::NULL;
        }
        let u = inner(ctx);
        open((pick(&*u).unwrap_unchecked())(
            u,
            unwrap(target),
            u_args.as_ptr(),
            nargs,
            unwrap(kwnames),
        ))
    }
}

unsafe extern "C" fn ctx_Call(
    ctx: *mut HPyContext,
    callable: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: HPy_Call's contract.
    unsafe {
        call(
            ctx,
            |u| u.ctx_Call,
            c"HPy_Call arg 'kwnames' must be a tuple object or HPy_NULL",
            callable,
            args,
            nargs,
            kwnames,
        )
    }
}

unsafe extern "C" fn ctx_CallMethod(
    ctx: *mut HPyContext,
    name: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: HPy_CallMethod's contract (the receiver is `args[0]`).
    unsafe {
        call(
            ctx,
            |u| u.ctx_CallMethod,
            c"HPy_CallMethod arg 'kwnames' must be a tuple object or HPy_NULL",
            name,
            args,
            nargs,
            kwnames,
        )
    }
}

unsafe extern "C" fn ctx_Type_FromSpec(
    ctx: *mut HPyContext,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> HPy {
    // SAFETY: HPyType_FromSpec's contract: `params` is NULL or ends with a
    // zero kind; the copy lives for the call.
    unsafe {
        let mut u_params: Vec<HPyType_SpecParam> = Vec::new();
        if !params.is_null() {
            let mut p = params;
            loop {
                if u_params.try_reserve(1).is_err() {
                    ffi::PyErr_NoMemory();
                    return HPy::NULL;
                }
                let mut item = *p;
                let end = item.kind.0 == 0;
                if !end {
                    item.object = unwrap(item.object);
                }
                u_params.push(item);
                if end {
                    break;
                }
                p = p.add(1);
            }
        }
        let u = inner(ctx);
        let u_params_ptr = if params.is_null() {
            null_mut()
        } else {
            u_params.as_mut_ptr()
        };
        open(((*u).ctx_Type_FromSpec.unwrap_unchecked())(
            u,
            spec,
            u_params_ptr,
        ))
    }
}

unsafe extern "C" fn ctx_ContextVar_Get(
    ctx: *mut HPyContext,
    var: HPy,
    default_value: HPy,
    result: *mut HPy,
) -> c_int {
    // SAFETY: HPyContextVar_Get's contract; `*result` is written with a new
    // handle on success.
    unsafe {
        let u = inner(ctx);
        let mut u_result = HPy::NULL;
        let r = ((*u).ctx_ContextVar_Get.unwrap_unchecked())(
            u,
            unwrap(var),
            unwrap(default_value),
            &mut u_result,
        );
        if r >= 0 {
            *result = open(u_result);
        }
        r
    }
}

// Raw data: the text HPy hands out for a handle is a read-only copy of its
// own, unreadable once the handle is closed (a use after close or a write
// faults, as in HPy's debug mode).

/// The page-rounded length of a mapping of `n` bytes.
fn map_len(n: usize) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    n.div_ceil(page).max(1) * page
}

/// A read-only copy of `size` bytes at `src`, attached to the debug handle
/// `h` (replacing none: a handle keeps its first copy); `src` itself if no
/// copy can be made.
///
/// # Safety
/// The GIL is held; `h` is an open debug handle; `src` points to `size`
/// readable bytes.
unsafe fn protected_copy(h: HPy, src: *const u8, size: usize) -> *const u8 {
    let d = record(h);
    // SAFETY: as above; the mapping is fresh and `size` bytes fit in it.
    unsafe {
        if d.is_null() || src.is_null() || (*d).constant {
            return src;
        }
        if !(*d).data.is_null()
            && (*d).data_size == size as isize
            && core::slice::from_raw_parts((*d).data, size)
                == core::slice::from_raw_parts(src, size)
        {
            return (*d).data;
        }
        let len = map_len(size);
        let p = libc::mmap(
            null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return src;
        }
        core::ptr::copy_nonoverlapping(src, p.cast::<u8>(), size);
        libc::mprotect(p, len, libc::PROT_READ);
        free_data(d);
        (*d).data = p.cast();
        (*d).data_size = size as isize;
        (*d).data_map = len;
        p.cast()
    }
}

/// At close: the copy becomes unreadable while the protected total stays
/// within the limit, else it is freed.
///
/// # Safety
/// The GIL is held; `d` is a record being closed.
unsafe fn protect_data(d: *mut DebugHandle) {
    // SAFETY: the mapping is the record's own.
    unsafe {
        if (*d).data.is_null() {
            return;
        }
        let s = state();
        let size = (*d).data_size.max(0) as usize;
        if s.protected + size <= s.protected_max {
            s.protected += size;
            libc::mprotect((*d).data.cast(), (*d).data_map, libc::PROT_NONE);
        } else {
            libc::munmap((*d).data.cast(), (*d).data_map);
            (*d).data = null_mut();
            (*d).data_size = -1;
            (*d).data_map = 0;
        }
    }
}

/// Frees a record's copy (a closed record's counts toward the protected
/// total).
///
/// # Safety
/// The GIL is held; `d` is a record.
unsafe fn free_data(d: *mut DebugHandle) {
    // SAFETY: the mapping is the record's own.
    unsafe {
        if (*d).data.is_null() {
            return;
        }
        if (*d).closed {
            let s = state();
            s.protected = s.protected.saturating_sub((*d).data_size.max(0) as usize);
        }
        libc::munmap((*d).data.cast(), (*d).data_map);
        (*d).data = null_mut();
        (*d).data_size = -1;
        (*d).data_map = 0;
    }
}

unsafe extern "C" fn ctx_Unicode_AsUTF8AndSize(
    ctx: *mut HPyContext,
    h: HPy,
    size: *mut HPy_ssize_t,
) -> *const c_char {
    // SAFETY: HPyUnicode_AsUTF8AndSize's contract; the text is `*size`
    // bytes and a NUL.
    unsafe {
        let u = inner(ctx);
        let mut n: HPy_ssize_t = 0;
        let p = ((*u).ctx_Unicode_AsUTF8AndSize.unwrap_unchecked())(u, unwrap(h), &mut n);
        if !size.is_null() {
            *size = n;
        }
        if p.is_null() {
            return p;
        }
        protected_copy(h, p.cast(), n as usize + 1).cast()
    }
}

/// `HPyBytes_AsString` and `HPyBytes_AS_STRING`: the bytes and their NUL.
macro_rules! bytes_data {
    ($($name:ident)*) => {$(
        unsafe extern "C" fn $name(ctx: *mut HPyContext, h: HPy) -> *const c_char {
            // SAFETY: the function's contract; a bytes object's data is its
            // size and a NUL.
            unsafe {
                let u = inner(ctx);
                let uh = unwrap(h);
                let p = ((*u).$name.unwrap_unchecked())(u, uh);
                if p.is_null() {
                    return p;
                }
                let n = ffi::PyBytes_Size(uh._i as *mut ffi::PyObject).max(0) as usize;
                protected_copy(h, p.cast(), n + 1).cast()
            }
        }
    )*};
}

bytes_data!(ctx_Bytes_AsString ctx_Bytes_AS_STRING);

// Argument checks HPy's debug mode makes (fatal errors with its words).

/// Aborts with `message` (HPy's `HPy_FatalError`).
#[cold]
fn fatal(message: &CStr) -> ! {
    // SAFETY: a C string; Py_FatalError does not return.
    unsafe { ffi::Py_FatalError(message.as_ptr()) }
}

/// Whether the universal handle `uh` is a type object.
///
/// # Safety
/// The GIL is held; `uh` is alive.
unsafe fn is_type(uh: HPy) -> bool {
    // SAFETY: a universal handle is the object pointer.
    unsafe { ffi::PyType_Check(uh._i as *mut ffi::PyObject) != 0 }
}

unsafe extern "C" fn ctx_TypeCheck(ctx: *mut HPyContext, h: HPy, ty: HPy) -> c_int {
    // SAFETY: HPy_TypeCheck's contract.
    unsafe {
        let (uh, uty) = (unwrap(h), unwrap(ty));
        if !is_type(uty) {
            fatal(c"HPy_TypeCheck arg 2 must be a type");
        }
        let u = inner(ctx);
        ((*u).ctx_TypeCheck.unwrap_unchecked())(u, uh, uty)
    }
}

unsafe extern "C" fn ctx_Type_GetName(ctx: *mut HPyContext, ty: HPy) -> *const c_char {
    // SAFETY: HPyType_GetName's contract.
    unsafe {
        let uty = unwrap(ty);
        if !is_type(uty) {
            fatal(c"HPyType_GetName arg must be a type");
        }
        let u = inner(ctx);
        let name = ((*u).ctx_Type_GetName.unwrap_unchecked())(u, uty);
        if name.is_null() {
            return name;
        }
        let n = CStr::from_ptr(name).to_bytes_with_nul().len();
        protected_copy(ty, name.cast(), n).cast()
    }
}

unsafe extern "C" fn ctx_Type_IsSubtype(ctx: *mut HPyContext, sub: HPy, ty: HPy) -> c_int {
    // SAFETY: HPyType_IsSubtype's contract.
    unsafe {
        let (usub, uty) = (unwrap(sub), unwrap(ty));
        if !is_type(usub) {
            fatal(c"HPyType_IsSubtype arg 1 must be a type");
        }
        if !is_type(uty) {
            fatal(c"HPyType_IsSubtype arg 2 must be a type");
        }
        let u = inner(ctx);
        ((*u).ctx_Type_IsSubtype.unwrap_unchecked())(u, usub, uty)
    }
}

unsafe extern "C" fn ctx_Unicode_Substring(
    ctx: *mut HPyContext,
    str_: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
) -> HPy {
    // SAFETY: HPyUnicode_Substring's contract.
    unsafe {
        let ustr = unwrap(str_);
        if ffi::PyUnicode_Check(ustr._i as *mut ffi::PyObject) == 0 {
            fatal(c"HPyUnicode_Substring arg 1 must be a Unicode object");
        }
        let u = inner(ctx);
        open(((*u).ctx_Unicode_Substring.unwrap_unchecked())(
            u, ustr, start, end,
        ))
    }
}

/// `kwnames` of `HPy_Call` and `HPy_CallMethod`: a tuple or HPy_NULL.
///
/// # Safety
/// The GIL is held; `kwnames` is HPy_NULL or a debug handle.
unsafe fn check_kwnames(kwnames: HPy, message: &CStr) {
    // SAFETY: a universal handle is the object pointer.
    unsafe {
        let o = unwrap(kwnames)._i as *mut ffi::PyObject;
        if !o.is_null() && ffi::PyTuple_Check(o) == 0 {
            fatal(message);
        }
    }
}

/// The name of a builtin shape, for the messages.
fn shape_name(shape: HPyType_BuiltinShape) -> &'static str {
    match shape {
        HPyType_BuiltinShape_Legacy => "HPyType_BuiltinShape_Legacy",
        HPyType_BuiltinShape_Object => "HPyType_BuiltinShape_Object",
        HPyType_BuiltinShape_Type => "HPyType_BuiltinShape_Type",
        HPyType_BuiltinShape_Long => "HPyType_BuiltinShape_Long",
        HPyType_BuiltinShape_Float => "HPyType_BuiltinShape_Float",
        HPyType_BuiltinShape_Unicode => "HPyType_BuiltinShape_Unicode",
        HPyType_BuiltinShape_Tuple => "HPyType_BuiltinShape_Tuple",
        HPyType_BuiltinShape_List => "HPyType_BuiltinShape_List",
        _ => "<unknown shape>",
    }
}

macro_rules! as_struct {
    ($($name:ident => $shape:ident, $label:literal;)*) => {$(
        unsafe extern "C" fn $name(ctx: *mut HPyContext, h: HPy) -> *mut c_void {
            // SAFETY: the function's contract; the object's type is alive.
            unsafe {
                let uh = unwrap(h);
                let u = inner(ctx);
                let ty = HPy { _i: ffi::Py_TYPE(uh._i as *mut ffi::PyObject) as isize };
                let actual = ((*u).ctx_Type_GetBuiltinShape.unwrap_unchecked())(u, ty);
                if actual != $shape {
                    let message = alloc::format!(
                        concat!("Invalid usage of _HPy_AsStruct_", $label,
                                ". Expected shape ", stringify!($shape), " but got {}\0"),
                        shape_name(actual)
                    );
                    ffi::Py_FatalError(message.as_ptr().cast());
                }
                ((*u).$name.unwrap_unchecked())(u, uh)
            }
        }
    )*};
}

as_struct! {
    ctx_AsStruct_Legacy => HPyType_BuiltinShape_Legacy, "Legacy";
    ctx_AsStruct_Object => HPyType_BuiltinShape_Object, "Object";
    ctx_AsStruct_Type => HPyType_BuiltinShape_Type, "Type";
    ctx_AsStruct_Long => HPyType_BuiltinShape_Long, "Long";
    ctx_AsStruct_Float => HPyType_BuiltinShape_Float, "Float";
    ctx_AsStruct_Unicode => HPyType_BuiltinShape_Unicode, "Unicode";
    ctx_AsStruct_Tuple => HPyType_BuiltinShape_Tuple, "Tuple";
    ctx_AsStruct_List => HPyType_BuiltinShape_List, "List";
}

// Trackers keep debug handles, which `HPyTracker_Close` closes as such.

unsafe extern "C" fn ctx_Tracker_New(_ctx: *mut HPyContext, size: HPy_ssize_t) -> HPyTracker {
    let mut handles: Vec<HPy> = Vec::new();
    // `size` is a hint, but one the universal context honours (MemoryError
    // when it cannot): the same here.
    if handles
        .try_reserve(usize::try_from(size).unwrap_or(0))
        .is_err()
    {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPyTracker { _i: 0 };
    }
    HPyTracker {
        _i: alloc::boxed::Box::into_raw(alloc::boxed::Box::new(handles)) as isize,
    }
}

/// The handles of a tracker.
///
/// # Safety
/// `ht` is an open tracker of this mode.
unsafe fn tracker<'a>(ht: HPyTracker) -> &'a mut Vec<HPy> {
    // SAFETY: made by `ctx_Tracker_New`, freed by `ctx_Tracker_Close`.
    unsafe { &mut *(ht._i as *mut Vec<HPy>) }
}

unsafe extern "C" fn ctx_Tracker_Add(_ctx: *mut HPyContext, ht: HPyTracker, h: HPy) -> c_int {
    // SAFETY: HPyTracker_Add's contract.
    unsafe {
        let handles = tracker(ht);
        if handles.try_reserve(1).is_err() {
            ffi::PyErr_NoMemory();
            return -1;
        }
        handles.push(h);
    }
    0
}

unsafe extern "C" fn ctx_Tracker_ForgetAll(_ctx: *mut HPyContext, ht: HPyTracker) {
    // SAFETY: HPyTracker_ForgetAll's contract.
    unsafe { tracker(ht).clear() }
}

unsafe extern "C" fn ctx_Tracker_Close(_ctx: *mut HPyContext, ht: HPyTracker) {
    // SAFETY: HPyTracker_Close's contract: the tracker is not used again.
    unsafe {
        let handles = alloc::boxed::Box::from_raw(ht._i as *mut Vec<HPy>);
        for h in handles.iter() {
            close(*h);
        }
    }
}

// Builders are records too: one used after it was built or cancelled is
// reported (`set_on_invalid_builder_handle`'s function, or a fatal error),
// and then fails as a builder that could not be made (MemoryError).

/// A debug builder for the universal builder `ub` (0 stays 0); 0 with
/// `MemoryError` (and `ub` cancelled by the caller's universal function) if
/// the record cannot be made.
///
/// # Safety
/// The GIL is held.
unsafe fn open_builder(ub: isize) -> isize {
    if ub == 0 {
        return 0;
    }
    let layout = core::alloc::Layout::new::<DebugBuilder>();
    // SAFETY: a fresh allocation of the record's layout, freed by
    // `close_builder`'s queue.
    unsafe {
        let p = alloc::alloc::alloc(layout).cast::<DebugBuilder>();
        if p.is_null() {
            ffi::PyErr_NoMemory();
            return 0;
        }
        p.write(DebugBuilder { ub, closed: false });
        p as isize
    }
}

/// The universal builder of `b`; `None` (reported) if `b` was built or
/// cancelled.
///
/// # Safety
/// The GIL is held; `b` is 0 or a debug builder.
unsafe fn unwrap_builder(b: isize) -> Option<isize> {
    let d = b as *mut DebugBuilder;
    if d.is_null() {
        return Some(0);
    }
    // SAFETY: a debug builder points to its record, alive while open or
    // queued as closed.
    unsafe {
        if (*d).closed {
            let callback = state().on_invalid_builder;
            if callback.is_null() {
                ffi::Py_FatalError(
                    c"Invalid usage of already closed builder: it was built or cancelled".as_ptr(),
                );
            }
            crate::call_aside(callback, null_mut());
            return None;
        }
        Some((*d).ub)
    }
}

/// Marks `b` built or cancelled.
///
/// # Safety
/// The GIL is held; `b` is an open debug builder.
unsafe fn close_builder(b: isize) {
    let d = b as *mut DebugBuilder;
    if d.is_null() {
        return;
    }
    let layout = core::alloc::Layout::new::<DebugBuilder>();
    // SAFETY: the record is alive; one leaving the queue is freed once.
    unsafe {
        (*d).closed = true;
        let s = state();
        let max = s.closed_max;
        while !s.closed_builders.is_empty() && s.closed_builders.len() >= max {
            if let Some(old) = s.closed_builders.pop_front() {
                alloc::alloc::dealloc(old.cast(), layout);
            }
        }
        if max == 0 || s.closed_builders.try_reserve(1).is_err() {
            alloc::alloc::dealloc(d.cast(), layout);
        } else {
            s.closed_builders.push_back(d);
        }
    }
}

macro_rules! builders {
    ($B:ident, $field:ident, $new:ident, $set:ident, $build:ident, $cancel:ident) => {
        unsafe extern "C" fn $new(ctx: *mut HPyContext, size: HPy_ssize_t) -> $B {
            // SAFETY: the builder function's contract.
            unsafe {
                let u = inner(ctx);
                let ub = ((*u).$new.unwrap_unchecked())(u, size);
                let b = open_builder(ub.$field);
                if b == 0 && ub.$field != 0 {
                    ((*u).$cancel.unwrap_unchecked())(u, ub);
                }
                $B { $field: b }
            }
        }

        unsafe extern "C" fn $set(ctx: *mut HPyContext, b: $B, index: HPy_ssize_t, h: HPy) {
            // SAFETY: the builder function's contract.
            unsafe {
                if let Some(ub) = unwrap_builder(b.$field) {
                    let u = inner(ctx);
                    ((*u).$set.unwrap_unchecked())(u, $B { $field: ub }, index, unwrap(h));
                }
            }
        }

        unsafe extern "C" fn $build(ctx: *mut HPyContext, b: $B) -> HPy {
            // SAFETY: the builder function's contract.
            unsafe {
                let Some(ub) = unwrap_builder(b.$field) else {
                    if ffi::PyErr_Occurred().is_null() {
                        ffi::PyErr_NoMemory();
                    }
                    return HPy::NULL;
                };
                let u = inner(ctx);
                let result = ((*u).$build.unwrap_unchecked())(u, $B { $field: ub });
                close_builder(b.$field);
                open(result)
            }
        }

        unsafe extern "C" fn $cancel(ctx: *mut HPyContext, b: $B) {
            // SAFETY: the builder function's contract.
            unsafe {
                if let Some(ub) = unwrap_builder(b.$field) {
                    let u = inner(ctx);
                    ((*u).$cancel.unwrap_unchecked())(u, $B { $field: ub });
                    close_builder(b.$field);
                }
            }
        }
    };
}

builders!(
    HPyListBuilder,
    _lst,
    ctx_ListBuilder_New,
    ctx_ListBuilder_Set,
    ctx_ListBuilder_Build,
    ctx_ListBuilder_Cancel
);
builders!(
    HPyTupleBuilder,
    _tup,
    ctx_TupleBuilder_New,
    ctx_TupleBuilder_Set,
    ctx_TupleBuilder_Build,
    ctx_TupleBuilder_Cancel
);

/// The argument handles of one trampoline call: opened for the call, closed
/// when it returns (an impl that closed one, or returned one without
/// `HPy_Dup`, is reported then).
struct CallHandles {
    opened: Vec<HPy>,
    arrays: Vec<Vec<HPy>>,
}

// SAFETY: arguments become new debug handles (closed by `drop`), a result is
// handed over as the universal handle's reference and its debug handle
// closed.
unsafe impl TrampolineHandles for CallHandles {
    const OWN_ARRAY: bool = false;

    unsafe fn arg(&mut self, o: *mut cpy_PyObject) -> HPy {
        // SAFETY: forwarded.
        let h = unsafe { open_borrowed(o.cast()) };
        if h._i != 0 && self.opened.try_reserve(1).is_ok() {
            self.opened.push(h);
        }
        h
    }

    unsafe fn arg_opt(&mut self, o: *mut cpy_PyObject) -> HPy {
        // SAFETY: forwarded (`arg` gives HPy_NULL for NULL).
        unsafe { self.arg(o) }
    }

    unsafe fn args(&mut self, items: *const *mut cpy_PyObject, n: usize) -> Args {
        let mut handles = Vec::new();
        if handles.try_reserve_exact(n).is_err() || self.arrays.try_reserve(1).is_err() {
            // SAFETY: the GIL is held.
            unsafe { ffi::PyErr_NoMemory() };
            return Args::Failed;
        }
        for i in 0..n {
            // SAFETY: `i < n` live objects.
            handles.push(unsafe { open_borrowed((*items.add(i)).cast()) });
        }
        let p = handles.as_ptr();
        self.arrays.push(handles);
        Args::Handles(p)
    }

    unsafe fn result(&mut self, h: HPy) -> *mut cpy_PyObject {
        // SAFETY: `h` is the impl's result, a debug handle it owns: its
        // object gets a reference of its own, then the handle is closed.
        unsafe {
            let o = unwrap(h)._i as *mut ffi::PyObject;
            ffi::Py_XINCREF(o);
            close(h);
            o.cast()
        }
    }

    unsafe fn tuple_len(&mut self, t: *mut cpy_PyObject) -> usize {
        // SAFETY: forwarded.
        unsafe { hpy_sys::cpython::tuple_len(t) }
    }

    unsafe fn with_tuple_items<R>(
        &mut self,
        t: *mut cpy_PyObject,
        fail: R,
        f: impl FnOnce(&mut Self, *const *mut cpy_PyObject, usize) -> R,
    ) -> R {
        // SAFETY: forwarded.
        unsafe { hpy_sys::cpython::with_tuple_items(t, fail, |items, n| f(self, items, n)) }
    }

    unsafe fn call_other(
        &mut self,
        ctx: *mut HPyContext,
        sig: HPyFunc_Signature,
        func: HPyCFunction,
        args: *mut c_void,
    ) -> bool {
        // SAFETY: forwarded.
        unsafe { hpy_sys::cpython::call_other(ctx, sig, func, args, self) }
    }
}

impl Drop for CallHandles {
    fn drop(&mut self) {
        // SAFETY: the GIL is held (the trampoline's call); each handle was
        // opened for this call and is closed once here.
        unsafe {
            for h in self.opened.drain(..) {
                close(h);
            }
            for array in self.arrays.drain(..) {
                for h in array {
                    close(h);
                }
            }
        }
    }
}

unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
) {
    let mut handles = CallHandles {
        opened: Vec::new(),
        arrays: Vec::new(),
    };
    // SAFETY: forwarded (the trampoline's contract), with this mode's handles
    // and a context of the call's own (the next copy of the ring), the only
    // one accepted until the call returns.
    unsafe {
        let _ = ctx;
        let s = state();
        let copies = &mut *COPIES.0.get();
        let Some(copies) = copies.as_mut() else {
            wrong_context()
        };
        let call_ctx: *mut HPyContext = &mut copies[s.next_copy];
        s.next_copy = (s.next_copy + 1) % copies.len();
        let outer = CURRENT.with(|c| c.replace(call_ctx));
        hpy_sys::trampoline::call_real_function(call_ctx, sig, func, args, &mut handles);
        // The argument handles are closed with the call's context current.
        drop(handles);
        CURRENT.with(|c| c.set(outer));
    }
}

// ---------------------------------------------------------------------------
// The context

static CONTEXT: crate::ModeContext = crate::ModeContext::new();

/// How many contexts the calls take in turn (HPy's debug mode has 16 too):
/// a context kept from a call is caught once another call runs, unless the
/// ring came round to the same copy.
const COPIES_IN_RING: usize = 16;

struct Copies(UnsafeCell<Option<alloc::boxed::Box<[HPyContext; COPIES_IN_RING]>>>);

// SAFETY: written once with the GIL held, then used with it held.
unsafe impl Sync for Copies {}

static COPIES: Copies = Copies(UnsafeCell::new(None));

/// The debug context around `universal` (made on first use).
///
/// # Safety
/// The GIL is held; `universal` is the filled universal context.
pub(crate) unsafe fn context(universal: *mut HPyContext) -> *mut HPyContext {
    // SAFETY: the GIL is held; the universal context is complete.
    unsafe {
        CONTEXT.get_or_make(|| {
            let mut ctx: HPyContext = core::ptr::read(universal);
            ctx.name = c"HPy Debug Mode ABI".as_ptr();
            ctx._private = universal.cast();
            // The handle constants: the members named `h_*`, each in the
            // pointer-sized slot of its `HPy_ID` from `h_None` (ID 0) on
            // (most come first, the types added later sit among the
            // functions).
            let first = core::ptr::addr_of_mut!(ctx.h_None);
            for (id, name) in HPY_CONTEXT_MEMBER_NAMES.iter().enumerate() {
                if name.starts_with("h_") {
                    let p = first.add(id);
                    *p = constant(*p);
                }
            }
            fill_generated(&mut ctx);
            ctx.ctx_Close = Some(ctx_Close);
            ctx.ctx_Tuple_FromArray = Some(ctx_Tuple_FromArray);
            ctx.ctx_Type_GenericNew = Some(ctx_Type_GenericNew);
            ctx.ctx_Call = Some(ctx_Call);
            ctx.ctx_CallMethod = Some(ctx_CallMethod);
            ctx.ctx_Type_FromSpec = Some(ctx_Type_FromSpec);
            ctx.ctx_ContextVar_Get = Some(ctx_ContextVar_Get);
            ctx.ctx_Tracker_New = Some(ctx_Tracker_New);
            ctx.ctx_Tracker_Add = Some(ctx_Tracker_Add);
            ctx.ctx_Tracker_ForgetAll = Some(ctx_Tracker_ForgetAll);
            ctx.ctx_Tracker_Close = Some(ctx_Tracker_Close);
            ctx.ctx_CallRealFunctionFromTrampoline = Some(ctx_CallRealFunctionFromTrampoline);
            ctx.ctx_TypeCheck = Some(ctx_TypeCheck);
            ctx.ctx_Unicode_AsUTF8AndSize = Some(ctx_Unicode_AsUTF8AndSize);
            ctx.ctx_Bytes_AsString = Some(ctx_Bytes_AsString);
            ctx.ctx_Bytes_AS_STRING = Some(ctx_Bytes_AS_STRING);
            ctx.ctx_Type_GetName = Some(ctx_Type_GetName);
            ctx.ctx_Type_IsSubtype = Some(ctx_Type_IsSubtype);
            ctx.ctx_Unicode_Substring = Some(ctx_Unicode_Substring);
            ctx.ctx_AsStruct_Legacy = Some(ctx_AsStruct_Legacy);
            ctx.ctx_AsStruct_Object = Some(ctx_AsStruct_Object);
            ctx.ctx_AsStruct_Type = Some(ctx_AsStruct_Type);
            ctx.ctx_AsStruct_Long = Some(ctx_AsStruct_Long);
            ctx.ctx_AsStruct_Float = Some(ctx_AsStruct_Float);
            ctx.ctx_AsStruct_Unicode = Some(ctx_AsStruct_Unicode);
            ctx.ctx_AsStruct_Tuple = Some(ctx_AsStruct_Tuple);
            ctx.ctx_AsStruct_List = Some(ctx_AsStruct_List);
            ctx.ctx_ListBuilder_New = Some(ctx_ListBuilder_New);
            ctx.ctx_ListBuilder_Set = Some(ctx_ListBuilder_Set);
            ctx.ctx_ListBuilder_Build = Some(ctx_ListBuilder_Build);
            ctx.ctx_ListBuilder_Cancel = Some(ctx_ListBuilder_Cancel);
            ctx.ctx_TupleBuilder_New = Some(ctx_TupleBuilder_New);
            ctx.ctx_TupleBuilder_Set = Some(ctx_TupleBuilder_Set);
            ctx.ctx_TupleBuilder_Build = Some(ctx_TupleBuilder_Build);
            ctx.ctx_TupleBuilder_Cancel = Some(ctx_TupleBuilder_Cancel);
            let copies: [HPyContext; COPIES_IN_RING] =
                core::array::from_fn(|_| core::ptr::read(&ctx));
            *COPIES.0.get() = Some(alloc::boxed::Box::new(copies));
            ctx
        })
    }
}

// ---------------------------------------------------------------------------
// The Python API (`hpy_rs_runtime._debug`, through `_universal`)

/// `_debug_new_generation()`: starts a new generation and returns it.
pub(crate) unsafe extern "C" fn new_generation(
    _module: *mut ffi::PyObject,
    _noargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe {
        let s = state();
        s.generation += 1;
        ffi::PyLong_FromUnsignedLongLong(s.generation)
    }
}

/// A list of the records' ids (their addresses).
///
/// # Safety
/// The GIL is held.
unsafe fn ids(records: impl Iterator<Item = *mut DebugHandle>) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held; each result is checked.
    unsafe {
        let list = ffi::PyList_New(0);
        if list.is_null() {
            return null_mut();
        }
        for d in records {
            let id = ffi::PyLong_FromSize_t(d as usize);
            if id.is_null() || ffi::PyList_Append(list, id) < 0 {
                ffi::Py_XDECREF(id);
                ffi::Py_DECREF(list);
                return null_mut();
            }
            ffi::Py_DECREF(id);
        }
        list
    }
}

/// `_debug_open_handles(generation)`: the ids of the open handles of that
/// generation or a later one, oldest first.
pub(crate) unsafe extern "C" fn open_handles(
    _module: *mut ffi::PyObject,
    generation: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held; open records are alive.
    unsafe {
        let g = ffi::PyLong_AsUnsignedLongLong(generation);
        if g == u64::MAX && !ffi::PyErr_Occurred().is_null() {
            return null_mut();
        }
        let mut records: Vec<*mut DebugHandle> = Vec::new();
        let open = &state().open;
        if records.try_reserve_exact(open.len()).is_err() {
            return ffi::PyErr_NoMemory();
        }
        records.extend(open.iter().copied().filter(|&d| (*d).generation >= g));
        records.sort_unstable_by_key(|&d| (*d).serial);
        ids(records.into_iter())
    }
}

/// `_debug_closed_handles()`: the ids of the closed handles remembered,
/// oldest first.
pub(crate) unsafe extern "C" fn closed_handles(
    _module: *mut ffi::PyObject,
    _noargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe { ids(state().closed.iter().copied()) }
}

/// The record whose id Python passed back (`ValueError` for any other
/// number).
///
/// # Safety
/// The GIL is held.
unsafe fn record_of(id: *mut ffi::PyObject) -> Option<*mut DebugHandle> {
    // SAFETY: the GIL is held.
    unsafe {
        let address = ffi::PyLong_AsSize_t(id);
        if address == usize::MAX && !ffi::PyErr_Occurred().is_null() {
            return None;
        }
        if !state().records.contains(&address) {
            ffi::PyErr_SetString(ffi::PyExc_ValueError, c"not a debug handle's id".as_ptr());
            return None;
        }
        Some(address as *mut DebugHandle)
    }
}

/// `_debug_handle_info(id)`: `(obj or None, is_closed, generation,
/// raw data size or -1, allocation stack trace or None)` of the
/// handle now (a closed handle's record may have been reused since).
pub(crate) unsafe extern "C" fn handle_info(
    _module: *mut ffi::PyObject,
    id: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held; `record_of` checked that
    // the record is alive, and an open one's object is alive.
    unsafe {
        let Some(d) = record_of(id) else {
            return null_mut();
        };
        let obj = if (*d).closed {
            ffi::Py_None()
        } else {
            (*d).uh._i as *mut ffi::PyObject
        };
        let generation = ffi::PyLong_FromUnsignedLongLong((*d).generation);
        if generation.is_null() {
            return null_mut();
        }
        let data_size = ffi::PyLong_FromSsize_t((*d).data_size);
        if data_size.is_null() {
            ffi::Py_DECREF(generation);
            return null_mut();
        }
        let stack = match (*d).stack.as_ref() {
            Some(stack) => {
                let text = stack_text(stack);
                ffi::PyUnicode_FromStringAndSize(text.as_ptr().cast(), text.len() as isize)
            }
            None => {
                ffi::Py_INCREF(ffi::Py_None());
                ffi::Py_None()
            }
        };
        if stack.is_null() {
            ffi::Py_DECREF(generation);
            ffi::Py_DECREF(data_size);
            return null_mut();
        }
        let closed = ffi::PyBool_FromLong((*d).closed.into());
        let t = ffi::PyTuple_Pack(5, obj, closed, generation, data_size, stack);
        ffi::Py_DECREF(closed);
        ffi::Py_DECREF(generation);
        ffi::Py_DECREF(data_size);
        ffi::Py_DECREF(stack);
        t
    }
}

/// `_debug_force_close(id)`: closes the handle if it is open (for tests
/// that clean up the leaks they made on purpose).
pub(crate) unsafe extern "C" fn force_close(
    _module: *mut ffi::PyObject,
    id: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held; `record_of` checked the
    // id.
    unsafe {
        let Some(d) = record_of(id) else {
            return null_mut();
        };
        if !(*d).closed && !(*d).constant {
            close(HPy { _i: d as isize });
        }
        ffi::Py_INCREF(ffi::Py_None());
        ffi::Py_None()
    }
}

/// `_debug_closed_max(n or None)`: how many closed handles are remembered
/// before new ones reuse them; sets it first if `n` is an int.
pub(crate) unsafe extern "C" fn closed_max(
    _module: *mut ffi::PyObject,
    n: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held. No trimming when it
    // shrinks: new handles reuse the oldest closed ones.
    unsafe {
        size_setting(
            n,
            |s| &mut s.closed_max,
            c"the queue size must not be negative",
        )
    }
}

/// `_debug_protected_max(n or None)`: how many bytes of closed handles'
/// raw data are kept unreadable (beyond, they are freed); sets it first if
/// `n` is an int.
pub(crate) unsafe extern "C" fn protected_max(
    _module: *mut ffi::PyObject,
    n: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe {
        size_setting(
            n,
            |s| &mut s.protected_max,
            c"the size must not be negative",
        )
    }
}

/// A size setting of the state: set to `n` first unless `n` is None (a
/// negative one raises `ValueError(negative)`); its value, as an int.
///
/// # Safety
/// The GIL is held; `n` is alive.
unsafe fn size_setting(
    n: *mut ffi::PyObject,
    field: fn(&mut State) -> &mut usize,
    negative: &CStr,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded; no reference to the state outlives its statement.
    unsafe {
        if n != ffi::Py_None() {
            let Some(size) = non_negative(n, negative) else {
                return null_mut();
            };
            *field(state()) = size;
        }
        ffi::PyLong_FromSize_t(*field(state()))
    }
}

/// `_debug_set_stack_trace_limit(n or None)`: new handles record their
/// stack, shown up to `n` frames; None (or 0) records none.
pub(crate) unsafe extern "C" fn set_stack_trace_limit(
    _module: *mut ffi::PyObject,
    n: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe {
        let limit = if n == ffi::Py_None() {
            0
        } else {
            let Some(limit) = non_negative(n, c"the limit must not be negative") else {
                return null_mut();
            };
            limit
        };
        state().stack_limit = limit;
        ffi::Py_INCREF(ffi::Py_None());
        ffi::Py_None()
    }
}

/// The int `n` as a size, or None with `TypeError`/`OverflowError` (not an
/// int, too large) or `ValueError(negative)` (below 0) set.
///
/// # Safety
/// The GIL is held; `n` is alive.
unsafe fn non_negative(n: *mut ffi::PyObject, negative: &CStr) -> Option<usize> {
    // SAFETY: forwarded.
    unsafe {
        let size = ffi::PyLong_AsSsize_t(n);
        if size == -1 && !ffi::PyErr_Occurred().is_null() {
            return None;
        }
        if size < 0 {
            ffi::PyErr_SetString(ffi::PyExc_ValueError, negative.as_ptr());
            return None;
        }
        Some(size as usize)
    }
}

/// Stores `f` (a callable, or None for none) in `slot`.
///
/// # Safety
/// The GIL is held; `f` is alive; `slot` is one of the state's.
unsafe fn set_callback(
    slot: fn(&mut State) -> &mut *mut ffi::PyObject,
    f: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held; the old function is released after the new
    // one is stored (its release may run Python code).
    unsafe {
        let new = if f == ffi::Py_None() {
            null_mut()
        } else if ffi::PyCallable_Check(f) == 0 {
            ffi::PyErr_SetString(ffi::PyExc_TypeError, c"Expected a callable object".as_ptr());
            return null_mut();
        } else {
            ffi::Py_INCREF(f);
            f
        };
        let old = core::mem::replace(slot(state()), new);
        ffi::Py_XDECREF(old);
        ffi::Py_INCREF(ffi::Py_None());
        ffi::Py_None()
    }
}

/// `_debug_set_on_invalid_handle(f or None)`.
pub(crate) unsafe extern "C" fn set_on_invalid_handle(
    _module: *mut ffi::PyObject,
    f: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe { set_callback(|s| &mut s.on_invalid_handle, f) }
}

/// `_debug_set_on_invalid_builder_handle(f or None)`.
pub(crate) unsafe extern "C" fn set_on_invalid_builder_handle(
    _module: *mut ffi::PyObject,
    f: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    unsafe { set_callback(|s| &mut s.on_invalid_builder, f) }
}
