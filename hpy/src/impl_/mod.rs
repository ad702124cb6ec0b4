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

use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

pub use hpy_sys as sys;
use sys::HPyContext;

mod args;
mod buffer;
mod class;
mod defs;
#[cfg(not(hpy_abi = "cpython"))]
mod direct;
mod module;
mod run;
mod trampolines;

pub use args::*;
pub use buffer::*;
pub use class::*;
pub use defs::*;
pub use module::*;
use run::panic_message;
pub use run::*;
pub use trampolines::*;

/// What `#[hpy_module]` brings into the scope of its `mod` (the crate root):
/// the marker that `#[hpy_method]`s outside the `mod` check for, so that a
/// function that no module would gather is a compile error.
pub mod crate_marker {
    /// See [`crate_marker`](super::crate_marker).
    pub const HPY_METHODS_OUTSIDE_THE_MODULE_MOD_NEED_A_HPY_MODULE_AT_THE_CRATE_ROOT: () = ();
    /// See [`crate_marker`](super::crate_marker): classes check for it too.
    pub const HPY_CLASSES_NEED_A_HPY_MODULE_AT_THE_CRATE_ROOT: () = ();
}

// ---------------------------------------------------------------------------
// The trampoline context

/// The context CPython's trampolines use (`_ctx_for_trampolines` in C): one per
/// loaded `.so`, set by `HPyInitGlobalContext_<module>`. Private to the binary.
static TRAMPOLINE_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());

/// Called by the generated `HPyInitGlobalContext_<module>`.
///
/// # Safety
/// `ctx` is the loader's live context, passed with the GIL held before any
/// trampoline of this binary runs with it.
#[inline]
pub unsafe fn set_trampoline_context(ctx: *mut HPyContext) {
    // SAFETY: forwarded from the caller.
    #[cfg(not(hpy_abi = "cpython"))]
    unsafe {
        direct::probe(ctx)
    };
    TRAMPOLINE_CTX.store(ctx, Ordering::Relaxed);
}

/// Whether CPython's calls into this binary's functions reach their impls
/// without the runtime's `ctx_CallRealFunctionFromTrampoline`: always in a
/// CPython-ABI build; in a universal build when the runtime's handles allow
/// it (`HPy`'s and hpy-rs's universal modes on CPython, not their debug and
/// trace modes, nor PyPy, which never calls the trampolines). For tests.
pub fn trampolines_call_directly() -> bool {
    #[cfg(hpy_abi = "cpython")]
    return true;
    #[cfg(not(hpy_abi = "cpython"))]
    direct::is_direct(trampoline_context())
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

/// Reports a problem that no exception can carry (in a destructor) on
/// stderr, as CPython reports an "unraisable" exception.
#[cold]
pub fn report_unraisable(what: &str, message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "Exception ignored in {what}: {message}");
}

fn backtrace_requested() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0")
}

#[cfg(not(hpy_abi = "cpython"))]
#[inline(always)]
pub(crate) fn trampoline_context() -> *mut HPyContext {
    TRAMPOLINE_CTX.load(Ordering::Relaxed)
}

/// In a CPython-ABI build, the one context of the process: the trampolines
/// call the impls with it directly (through the inlined
/// `ctx_CallRealFunctionFromTrampoline`).
#[cfg(hpy_abi = "cpython")]
#[inline(always)]
pub(crate) fn trampoline_context() -> *mut HPyContext {
    sys::cpython::context()
}
