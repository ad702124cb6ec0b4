//! Errors: [`Error`], [`Result`], and the builtin exception types in [`exc`].

use std::borrow::Cow;

use crate::Context;
use hpy_sys as sys;

/// `Result<T, hpy::Error>`: what extension functions return.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// A Python exception, either already raised in the interpreter or built
/// lazily (type + message) and raised when it crosses back into Python.
///
/// It is one pointer wide, so `Result<Handle, Error>` stays small, and building
/// one costs nothing until it is raised. Make one with the exception type's
/// `new_err`:
///
/// ```
/// use hpy::exc::ValueError;
/// let err = ValueError::new_err("bad value");
/// assert_eq!(err.to_string(), "ValueError: bad value");
/// ```
pub struct Error {
    lazy: Option<Box<Lazy>>,
}

struct Lazy {
    ty: ExceptionKind,
    msg: Cow<'static, str>,
    /// Set for "wrong type" conversion errors, so that argument parsing can say
    /// which argument of which function (`f() argument 'a' must be int, not str`).
    wrong_type: Option<WrongType>,
}

struct WrongType {
    expected: &'static str,
    got: String,
}

/// A builtin exception type, as the accessor of its context constant.
#[derive(Copy, Clone)]
struct ExceptionKind {
    name: &'static str,
    handle: unsafe fn(*mut sys::HPyContext) -> sys::HPy,
}

impl Error {
    /// The error for "the interpreter already has an exception set": what a
    /// context function's NULL or -1 result means.
    #[inline(always)]
    pub const fn raised() -> Self {
        Error { lazy: None }
    }

    /// Whether this error is already set in the interpreter.
    #[inline]
    pub fn is_raised(&self) -> bool {
        self.lazy.is_none()
    }

    #[cold]
    fn lazy(ty: ExceptionKind, msg: Cow<'static, str>) -> Self {
        Error {
            lazy: Some(Box::new(Lazy {
                ty,
                msg,
                wrong_type: None,
            })),
        }
    }

    /// A `TypeError` for a conversion that needs a Python `expected` (e.g. `"int"`)
    /// but got `obj`: `expected int, got str`. As an argument of an
    /// `#[hpy_method]`, it becomes `f() argument 'a' must be int, not str`.
    #[cold]
    pub fn wrong_type(expected: &'static str, obj: &crate::Handle<'_>) -> Self {
        let got = obj.type_name();
        let mut err = exc::TypeError::new_err(format!("expected {expected}, got {got}"));
        if let Some(lazy) = err.lazy.as_mut() {
            lazy.wrong_type = Some(WrongType { expected, got });
        }
        err
    }

    /// Puts a conversion error in the context of argument `arg` of function
    /// `func` (wrong-type errors only; others are kept as they are).
    #[doc(hidden)]
    #[cold]
    pub fn for_argument(mut self, func: &str, arg: &str) -> Self {
        if let Some(lazy) = self.lazy.as_mut() {
            if let Some(w) = &lazy.wrong_type {
                lazy.msg = format!(
                    "{func}() argument '{arg}' must be {}, not {}",
                    w.expected, w.got
                )
                .into();
                lazy.wrong_type = None;
            }
        }
        self
    }

    /// The exception type's name for a lazy error, `None` for a raised one.
    pub fn type_name(&self) -> Option<&'static str> {
        self.lazy.as_ref().map(|l| l.ty.name)
    }

    /// The message of a lazy error, `None` for a raised one.
    pub fn message(&self) -> Option<&str> {
        self.lazy.as_ref().map(|l| &*l.msg)
    }

    /// Sets this exception in the interpreter (a no-op for an already raised one).
    #[cold]
    pub fn restore(self, ctx: &Context) {
        let Some(lazy) = self.lazy else { return };
        let raw = ctx.as_raw();
        // Messages with an embedded NUL are cut there; everything else is kept.
        let mut bytes: Vec<u8> = lazy.msg.into_owned().into_bytes();
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        bytes.push(0);
        // SAFETY: the context is live; the type accessor reads a context constant;
        // `bytes` is NUL-terminated UTF-8 that lives across the call.
        unsafe { sys::HPyErr_SetString(raw, (lazy.ty.handle)(raw), bytes.as_ptr().cast()) };
    }
}

impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.lazy {
            None => f.write_str("Error(<raised in the interpreter>)"),
            Some(l) => write!(f, "Error({}: {:?})", l.ty.name, l.msg),
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.lazy {
            None => f.write_str("<exception raised in the interpreter>"),
            Some(l) => write!(f, "{}: {}", l.ty.name, l.msg),
        }
    }
}

impl std::error::Error for Error {}

/// The builtin exception and warning types, each with `new_err(message)`.
///
/// ```
/// fn check(n: i64) -> hpy::Result<i64> {
///     if n < 0 {
///         return Err(hpy::exc::ValueError::new_err(format!("negative: {n}")));
///     }
///     Ok(n)
/// }
/// assert!(check(-1).is_err());
/// ```
pub mod exc {
    use super::*;

    /// A builtin exception type.
    pub trait ExceptionType {
        /// The Python name of the type.
        const NAME: &'static str;

        /// The type object, a constant of the context.
        fn type_object(ctx: &Context) -> crate::Borrowed<'_, '_>;

        /// A lazily raised exception of this type.
        fn new_err(msg: impl Into<Cow<'static, str>>) -> Error;
    }

    macro_rules! exceptions {
        ($($name:ident => $member:ident),* $(,)?) => {$(
            #[doc = concat!("Python's `", stringify!($name), "`.")]
            #[derive(Debug, Copy, Clone)]
            pub struct $name;

            impl $name {
                #[doc = concat!("A lazily raised `", stringify!($name), "` with `msg`.")]
                #[inline]
                pub fn new_err(msg: impl Into<Cow<'static, str>>) -> Error {
                    <Self as ExceptionType>::new_err(msg)
                }
            }

            impl ExceptionType for $name {
                const NAME: &'static str = stringify!($name);

                #[inline]
                fn type_object(ctx: &Context) -> crate::Borrowed<'_, '_> {
                    // SAFETY: the context is live; its exception types are constants.
                    unsafe { crate::Borrowed::from_raw(ctx, sys::$member(ctx.as_raw())) }
                }

                #[inline]
                fn new_err(msg: impl Into<Cow<'static, str>>) -> Error {
                    Error::lazy(ExceptionKind { name: stringify!($name), handle: sys::$member }, msg.into())
                }
            }
        )*};
    }

    exceptions! {
        BaseException => h_BaseException, Exception => h_Exception,
        StopAsyncIteration => h_StopAsyncIteration, StopIteration => h_StopIteration,
        GeneratorExit => h_GeneratorExit, ArithmeticError => h_ArithmeticError,
        LookupError => h_LookupError, AssertionError => h_AssertionError,
        AttributeError => h_AttributeError, BufferError => h_BufferError, EOFError => h_EOFError,
        FloatingPointError => h_FloatingPointError, OSError => h_OSError,
        ImportError => h_ImportError, ModuleNotFoundError => h_ModuleNotFoundError,
        IndexError => h_IndexError, KeyError => h_KeyError, KeyboardInterrupt => h_KeyboardInterrupt,
        MemoryError => h_MemoryError, NameError => h_NameError, OverflowError => h_OverflowError,
        RuntimeError => h_RuntimeError, RecursionError => h_RecursionError,
        NotImplementedError => h_NotImplementedError, SyntaxError => h_SyntaxError,
        IndentationError => h_IndentationError, TabError => h_TabError,
        ReferenceError => h_ReferenceError, SystemError => h_SystemError, SystemExit => h_SystemExit,
        TypeError => h_TypeError, UnboundLocalError => h_UnboundLocalError,
        UnicodeError => h_UnicodeError, UnicodeEncodeError => h_UnicodeEncodeError,
        UnicodeDecodeError => h_UnicodeDecodeError, UnicodeTranslateError => h_UnicodeTranslateError,
        ValueError => h_ValueError, ZeroDivisionError => h_ZeroDivisionError,
        BlockingIOError => h_BlockingIOError, BrokenPipeError => h_BrokenPipeError,
        ChildProcessError => h_ChildProcessError, ConnectionError => h_ConnectionError,
        ConnectionAbortedError => h_ConnectionAbortedError,
        ConnectionRefusedError => h_ConnectionRefusedError,
        ConnectionResetError => h_ConnectionResetError, FileExistsError => h_FileExistsError,
        FileNotFoundError => h_FileNotFoundError, InterruptedError => h_InterruptedError,
        IsADirectoryError => h_IsADirectoryError, NotADirectoryError => h_NotADirectoryError,
        PermissionError => h_PermissionError, ProcessLookupError => h_ProcessLookupError,
        TimeoutError => h_TimeoutError,
        Warning => h_Warning, UserWarning => h_UserWarning, DeprecationWarning => h_DeprecationWarning,
        PendingDeprecationWarning => h_PendingDeprecationWarning, SyntaxWarning => h_SyntaxWarning,
        RuntimeWarning => h_RuntimeWarning, FutureWarning => h_FutureWarning,
        ImportWarning => h_ImportWarning, UnicodeWarning => h_UnicodeWarning,
        BytesWarning => h_BytesWarning, ResourceWarning => h_ResourceWarning,
    }
}
