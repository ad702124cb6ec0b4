//! The runtime that `#[hpy_method]` and `#[hpy_module]` expansions call.
//!
//! Not a public API: everything here may change without notice. The macros
//! keep their expansions small and put the logic here, where it is written
//! (and reviewed) once.
//!
//! For every method, the expansion emits three pieces (see the ABI brief, §3):
//! an `extern "C"` *impl* function that the runtime calls with a context (it
//! catches panics and converts arguments and results through
//! [`run_method`] and the parsing helpers), a CPython *trampoline* that packs
//! CPython's arguments and calls `ctx_CallRealFunctionFromTrampoline` through
//! the module's trampoline context ([`trampoline_noargs`] and friends), and a
//! writable `'static` [`StaticDef`].

use core::cell::UnsafeCell;
use core::ffi::{CStr, c_int, c_void};
use core::mem::ManuallyDrop;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::conv::{FromPy, IntoPy};
use crate::err::{Error, Result, exc::SystemError, exc::TypeError};
use crate::{Context, Handle};
pub use hpy_sys as sys;
use sys::{HPy, HPyContext, cpy_PyObject};

// ---------------------------------------------------------------------------
// The trampoline context

/// The context CPython's trampolines use (`_ctx_for_trampolines` in C): one per
/// loaded `.so`, set by `HPyInitGlobalContext_<module>`. Private to the binary.
static TRAMPOLINE_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());

/// Called by the generated `HPyInitGlobalContext_<module>`.
#[inline]
pub fn set_trampoline_context(ctx: *mut HPyContext) {
    TRAMPOLINE_CTX.store(ctx, Ordering::Relaxed);
}

/// Called by the generated `HPyInit_<module>` (which every runtime calls once
/// per load, before anything else): installs the panic hook.
#[inline]
pub fn module_loading() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(install_panic_hook);
}

/// A panic in an extension function becomes a `SystemError` that carries its
/// message; printing it to stderr as well (Rust's default) would be noise, so
/// this extension's panic hook stays quiet unless `RUST_BACKTRACE` asks for a
/// report (set and not `0`), in which case the previous hook prints it as Rust
/// does. Each extension module links its own copy of `std`, so this hook
/// governs panics in this binary only.
#[cold]
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if backtrace_requested() {
            previous(info);
        }
    }));
}

/// Reports a panic that no exception can carry (in a destructor, which has
/// no context and no caller to raise to) on stderr, as CPython reports an
/// "unraisable" exception. With `RUST_BACKTRACE` set, the panic hook has
/// printed it already.
#[cold]
pub fn report_unraisable_panic(what: &str, payload: &(dyn core::any::Any + Send)) {
    if !backtrace_requested() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "Exception ignored in {what}: a Rust panic: {}",
            panic_message(payload)
        );
    }
}

fn backtrace_requested() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0")
}

#[inline(always)]
fn trampoline_context() -> *mut HPyContext {
    TRAMPOLINE_CTX.load(Ordering::Relaxed)
}

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

// ---------------------------------------------------------------------------
// Running user code: results, errors and panics

/// Converts what a user function returned into the raw handle its impl
/// function returns: a new handle, or NULL with the exception raised.
///
/// Implemented for every [`IntoPy`] value and for `Result`s of one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned to Python",
    label = "the return type must convert to a Python object",
    note = "return a type that implements `hpy::IntoPy`, or `hpy::Result` of one"
)]
pub trait IntoReturn<'ctx> {
    /// Converts the returned value (`Ok(NULL)` means: raised already).
    fn into_return(self, ctx: &'ctx Context) -> Result<HPy>;
}

impl<'ctx, T: IntoPy<'ctx>> IntoReturn<'ctx> for T {
    #[inline(always)]
    fn into_return(self, ctx: &'ctx Context) -> Result<HPy> {
        Ok(self.__into_py_raw(ctx))
    }
}

impl<'ctx, T: IntoPy<'ctx>, E: Into<Error>> IntoReturn<'ctx> for core::result::Result<T, E> {
    #[inline(always)]
    fn into_return(self, ctx: &'ctx Context) -> Result<HPy> {
        match self {
            Ok(v) => Ok(v.__into_py_raw(ctx)),
            Err(e) => Err(e.into()),
        }
    }
}

/// What an init (`HPy_mod_exec`) function may return: `()` or `Result<()>`.
pub trait IntoInitResult {
    /// Converts the returned value.
    fn into_init_result(self) -> Result<()>;
}

impl IntoInitResult for () {
    #[inline(always)]
    fn into_init_result(self) -> Result<()> {
        Ok(())
    }
}

impl<E: Into<Error>> IntoInitResult for core::result::Result<(), E> {
    #[inline(always)]
    fn into_init_result(self) -> Result<()> {
        self.map_err(Into::into)
    }
}

/// The message of a panic payload.
fn panic_message(payload: &(dyn core::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

#[cold]
#[inline(never)]
fn raise_panic(ctx: &Context, name: &str, payload: Box<dyn core::any::Any + Send>) {
    // A panic may happen after an exception was set; the panic wins.
    ctx.err_clear();
    SystemError::new_err(format!("{name}() panicked: {}", panic_message(&*payload))).restore(ctx);
    // The payload's destructor could panic too; never let that unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

#[cold]
#[inline(never)]
fn raise(ctx: &Context, err: Error) {
    err.restore(ctx)
}

/// Runs the body of a method: returns the new handle, or `HPy_NULL` with the
/// error (or the panic, as `SystemError`) raised. Nothing unwinds out of it.
///
/// The body returns the raw result of [`IntoReturn`]: a new handle, or NULL
/// with the exception already raised (passed through as it is, as C does).
///
/// # Safety
/// `ctx` must be the context the runtime passed to this call.
#[inline(always)]
pub unsafe fn run_method<F>(ctx: *mut HPyContext, name: &'static str, body: F) -> HPy
where
    F: for<'ctx> FnOnce(&'ctx Context) -> Result<HPy>,
{
    // SAFETY: `ctx` is this call's context (caller's contract); the reference is
    // only handed to `body`, whose higher-ranked signature keeps everything made
    // from it inside the call.
    let ctx = unsafe { Context::from_raw(ctx) };
    match catch_unwind(AssertUnwindSafe(|| body(ctx))) {
        Ok(Ok(raw)) => raw,
        Ok(Err(err)) => {
            raise(ctx, err);
            HPy::NULL
        }
        Err(payload) => {
            raise_panic(ctx, name, payload);
            HPy::NULL
        }
    }
}

/// Runs the body of an INQUIRY slot (`HPy_mod_exec`): 0, or -1 with the error
/// (or the panic) raised.
///
/// # Safety
/// `ctx` must be the context the runtime passed to this call.
#[inline(always)]
pub unsafe fn run_inquiry<F>(ctx: *mut HPyContext, name: &'static str, body: F) -> c_int
where
    F: for<'ctx> FnOnce(&'ctx Context) -> Result<()>,
{
    // SAFETY: as in `run_method`.
    let ctx = unsafe { Context::from_raw(ctx) };
    match catch_unwind(AssertUnwindSafe(|| body(ctx))) {
        Ok(Ok(())) => 0,
        Ok(Err(err)) => {
            raise(ctx, err);
            -1
        }
        Err(payload) => {
            raise_panic(ctx, name, payload);
            -1
        }
    }
}

// ---------------------------------------------------------------------------
// Arguments

/// A borrowed argument: a `Handle` that is never closed by us.
///
/// # Safety
/// `raw` must be an open handle of `ctx` for the rest of the call.
#[inline(always)]
pub unsafe fn borrow_arg<'ctx>(ctx: &'ctx Context, raw: HPy) -> ManuallyDrop<Handle<'ctx>> {
    // SAFETY: forwarded from the caller; `ManuallyDrop` keeps us from closing it.
    ManuallyDrop::new(unsafe { Handle::from_raw(ctx, raw) })
}

/// A borrowed argument that may be missing (NULL).
///
/// # Safety
/// `raw` must be NULL or an open handle of `ctx` for the rest of the call.
#[inline(always)]
pub unsafe fn borrow_opt<'ctx>(ctx: &'ctx Context, raw: HPy) -> Option<ManuallyDrop<Handle<'ctx>>> {
    if raw.is_null() {
        None
    } else {
        // SAFETY: forwarded from the caller.
        Some(unsafe { borrow_arg(ctx, raw) })
    }
}

/// Converts argument `arg` of function `func`, naming both in a wrong-type error.
#[inline(always)]
pub fn extract_arg<'a, 'ctx, T: FromPy<'a, 'ctx>>(
    obj: &'a Handle<'ctx>,
    func: &str,
    arg: &str,
) -> Result<T> {
    match T::from_py(obj) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.for_argument(func, arg)),
    }
}

/// Checks the number of positional arguments of a VARARGS function.
#[inline(always)]
pub fn check_positional(func: &str, nargs: usize, min: usize, max: usize) -> Result<()> {
    if nargs < min || nargs > max {
        Err(positional_count_error(func, nargs, min, max))
    } else {
        Ok(())
    }
}

/// `f() takes exactly 2 arguments (3 given)`, CPython's wording for C functions.
#[cold]
#[inline(never)]
fn positional_count_error(func: &str, nargs: usize, min: usize, max: usize) -> Error {
    let (how, n) = if min == max {
        ("exactly", min)
    } else if nargs < min {
        ("at least", min)
    } else {
        ("at most", max)
    };
    let s = if n == 1 { "" } else { "s" };
    TypeError::new_err(format!(
        "{func}() takes {how} {n} argument{s} ({nargs} given)"
    ))
}

/// The static description of a KEYWORDS function's parameters.
#[derive(Debug)]
pub struct KeywordSpec {
    /// The function's Python name.
    pub func: &'static str,
    /// All parameter names, in order.
    pub params: &'static [&'static str],
    /// How many leading parameters are positional-only.
    pub positional_only: usize,
    /// How many leading parameters may be given by position.
    pub max_positional: usize,
    /// Which parameters must be given (no default).
    pub required: &'static [bool],
}

/// Sorts the arguments of a KEYWORDS call into one slot per parameter (NULL
/// for a parameter not given), with CPython's error messages for wrong calls.
///
/// # Safety
/// `ctx` must be live; `args` must hold `nargs` positional handles followed by
/// one handle per name in `kwnames` (a tuple of str, or NULL), as the runtime
/// passes them to a KEYWORDS impl.
pub unsafe fn parse_keywords<const N: usize>(
    ctx: &Context,
    spec: &KeywordSpec,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> Result<[HPy; N]> {
    debug_assert_eq!(spec.params.len(), N);
    let mut slots = [HPy::NULL; N];
    if nargs > spec.max_positional {
        return Err(too_many_positional(spec, nargs));
    }
    for (i, slot) in slots.iter_mut().enumerate().take(nargs) {
        // SAFETY: `args` holds at least `nargs` handles (caller's contract).
        *slot = unsafe { *args.add(i) };
    }
    if !kwnames.is_null() {
        let raw = ctx.as_raw();
        // SAFETY: `kwnames` is a tuple owned by the caller for the call.
        let nkw = unsafe { sys::HPy_Length(raw, kwnames) };
        for k in 0..nkw.max(0) as usize {
            // SAFETY: `k` < len(kwnames); `HPy_GetItem_i` returns a new handle.
            let name = unsafe {
                Handle::from_raw_result(ctx, sys::HPy_GetItem_i(raw, kwnames, k as isize))
            }?;
            let Ok(name_str) = name.as_str() else {
                // Lone surrogates: no parameter has that name.
                return Err(unexpected_keyword_object(ctx, spec, &name));
            };
            let Some(index) = spec.params.iter().position(|p| *p == name_str) else {
                return Err(unexpected_keyword(spec, name_str));
            };
            if index < spec.positional_only {
                return Err(positional_only_given_by_keyword(spec, name_str));
            }
            if !slots[index].is_null() {
                return Err(TypeError::new_err(format!(
                    "{}() got multiple values for argument '{name_str}'",
                    spec.func
                )));
            }
            // SAFETY: keyword values follow the `nargs` positional arguments.
            slots[index] = unsafe { *args.add(nargs + k) };
        }
    }
    if let Some(missing) = (0..N).find(|&i| spec.required[i] && slots[i].is_null()) {
        return Err(missing_arguments(spec, &slots, missing));
    }
    Ok(slots)
}

#[cold]
fn too_many_positional(spec: &KeywordSpec, nargs: usize) -> Error {
    let max = spec.max_positional;
    let min = spec.required[..max].iter().filter(|r| **r).count();
    let takes = if min == max {
        format!("{max}")
    } else {
        format!("from {min} to {max}")
    };
    let s = if max == 1 && min == max { "" } else { "s" };
    let were = if nargs == 1 { "was" } else { "were" };
    TypeError::new_err(format!(
        "{}() takes {takes} positional argument{s} but {nargs} {were} given",
        spec.func
    ))
}

#[cold]
fn unexpected_keyword(spec: &KeywordSpec, name: &str) -> Error {
    TypeError::new_err(format!(
        "{}() got an unexpected keyword argument '{name}'",
        spec.func
    ))
}

/// The `TypeError` for a keyword name that is no valid UTF-8 (a `str` with
/// lone surrogates), which only Python can format: CPython's message, with the
/// name as it is.
#[cold]
fn unexpected_keyword_object(ctx: &Context, spec: &KeywordSpec, name: &Handle<'_>) -> Error {
    ctx.err_clear(); // the UnicodeEncodeError of reading the name as UTF-8
    let message = format!("{}() got an unexpected keyword argument '%s'", spec.func);
    let formatted = ctx
        .new_str(&message)
        .and_then(|m| m.rem(name))
        .map(|m| Error::set_object(&crate::exc::TypeError::type_object(ctx), &m));
    match formatted {
        Ok(e) | Err(e) => e,
    }
}

#[cold]
fn positional_only_given_by_keyword(spec: &KeywordSpec, name: &str) -> Error {
    TypeError::new_err(format!(
        "{}() got some positional-only arguments passed as keyword arguments: '{name}'",
        spec.func
    ))
}

#[cold]
fn missing_arguments(spec: &KeywordSpec, slots: &[HPy], first: usize) -> Error {
    let keyword_only = first >= spec.max_positional;
    let missing: Vec<&str> = (0..slots.len())
        .filter(|&i| {
            spec.required[i] && slots[i].is_null() && (i >= spec.max_positional) == keyword_only
        })
        .map(|i| spec.params[i])
        .collect();
    let kind = if keyword_only {
        "keyword-only"
    } else {
        "positional"
    };
    let s = if missing.len() == 1 { "" } else { "s" };
    let names: Vec<String> = missing.iter().map(|n| format!("'{n}'")).collect();
    let names = match names.len() {
        1 => names[0].clone(),
        2 => format!("{} and {}", names[0], names[1]),
        _ => format!(
            "{}, and {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        ),
    };
    TypeError::new_err(format!(
        "{}() missing {} required {kind} argument{s}: {names}",
        spec.func,
        missing.len()
    ))
}

// ---------------------------------------------------------------------------
// Writable 'static definitions

/// A writable, `'static` `HPyDef` (the runtime may write into definitions).
#[repr(transparent)]
pub struct StaticDef(UnsafeCell<sys::HPyDef>);

// SAFETY: the definition is written only by the HPy runtime, while it holds the
// interpreter lock (module creation); Rust code never reads or writes it.
unsafe impl Sync for StaticDef {}

impl StaticDef {
    /// A method definition.
    pub const fn method(
        name: &'static CStr,
        doc: &'static CStr,
        signature: sys::HPyFunc_Signature,
        impl_: sys::HPyCFunction,
        cpy_trampoline: sys::cpy_PyCFunction,
    ) -> Self {
        StaticDef(UnsafeCell::new(sys::HPyDef {
            kind: sys::HPyDef_Kind_Meth,
            u: sys::HPyDef_u {
                meth: sys::HPyMeth {
                    name: name.as_ptr(),
                    impl_,
                    cpy_trampoline,
                    signature,
                    doc: doc.as_ptr(),
                },
            },
        }))
    }

    /// A slot definition.
    pub const fn slot(
        slot: sys::HPySlot_Slot,
        impl_: sys::HPyCFunction,
        cpy_trampoline: sys::cpy_PyCFunction,
    ) -> Self {
        StaticDef(UnsafeCell::new(sys::HPyDef {
            kind: sys::HPyDef_Kind_Slot,
            u: sys::HPyDef_u {
                slot: sys::HPySlot {
                    slot,
                    impl_,
                    cpy_trampoline,
                },
            },
        }))
    }

    /// The pointer the runtime gets.
    pub const fn as_ptr(&'static self) -> *mut sys::HPyDef {
        self.0.get()
    }
}

impl core::fmt::Debug for StaticDef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticDef")
    }
}

/// A NULL-terminated array of pointers (`defines`, `globals`), writable and `'static`.
#[repr(transparent)]
pub struct StaticPtrArray<T, const N: usize>(UnsafeCell<[*mut T; N]>);

// SAFETY: as for `StaticDef`: only the runtime touches it, under the GIL.
unsafe impl<T, const N: usize> Sync for StaticPtrArray<T, N> {}

impl<T, const N: usize> StaticPtrArray<T, N> {
    /// Wraps the array; its last element must be NULL.
    pub const fn new(items: [*mut T; N]) -> Self {
        assert!(
            N > 0 && items[N - 1].is_null(),
            "the array must end with NULL"
        );
        StaticPtrArray(UnsafeCell::new(items))
    }

    /// The pointer to the first element.
    pub const fn as_ptr(&'static self) -> *mut *mut T {
        self.0.get().cast()
    }
}

impl<T, const N: usize> core::fmt::Debug for StaticPtrArray<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticPtrArray")
    }
}

/// A writable, `'static` `HPyModuleDef`.
#[repr(transparent)]
pub struct StaticModuleDef(UnsafeCell<sys::HPyModuleDef>);

// SAFETY: as for `StaticDef`.
unsafe impl Sync for StaticModuleDef {}

impl StaticModuleDef {
    /// A module definition (universal mode: no size, no legacy methods).
    pub const fn new(
        doc: Option<&'static CStr>,
        defines: *mut *mut sys::HPyDef,
        globals: *mut *mut sys::HPyGlobal,
    ) -> Self {
        let doc = match doc {
            Some(d) => d.as_ptr(),
            None => core::ptr::null(),
        };
        StaticModuleDef(UnsafeCell::new(sys::HPyModuleDef {
            doc,
            size: 0,
            legacy_methods: null_mut(),
            defines,
            globals,
        }))
    }

    /// The pointer `HPyInit_<module>` returns.
    pub const fn as_ptr(&'static self) -> *mut sys::HPyModuleDef {
        self.0.get()
    }
}

impl core::fmt::Debug for StaticModuleDef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticModuleDef")
    }
}
