//! Running user code: results, errors and panics (nothing unwinds into C).

use core::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::sys;
use crate::Context;
use crate::conv::IntoPy;
use crate::err::{Error, Result, exc::SystemError};
use sys::{HPy, HPyContext};

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
pub(crate) fn panic_message(payload: &(dyn core::any::Any + Send)) -> &str {
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
#[allow(improper_ctypes_definitions)]
extern "C" fn raise(ctx: &Context, err: Error) {
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
