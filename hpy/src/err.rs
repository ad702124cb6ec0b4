//! Errors: [`Error`], [`Result`], and the builtin exception types in [`exc`];
//! raising, matching and clearing exceptions, warnings, custom exception
//! classes and "unraisable" errors.
//!
//! An [`Error`] is either already raised in the interpreter (what a failing
//! context function leaves behind) or *lazy*: a type and a message that are
//! only turned into a Python exception when the error reaches the boundary
//! (or [`Error::restore`]). Lazy errors cost nothing until then, and they can
//! be given context on their way out ([`Error::with_context`]), which is how
//! nested conversions say where they failed:
//! `f() argument 'xs': item 3: expected int, got str`.
//!
//! | C API | here |
//! |---|---|
//! | `HPyErr_SetString` | [`exc::ValueError::new_err`](exc::ValueError::new_err) and friends (lazy), [`Error::from_type`] (runtime type), [`Global::new_err`] (type in a global) |
//! | `HPyErr_SetObject` | [`Error::from_value`], [`Error::set_object`] |
//! | `HPyErr_SetFromErrno*` | [`Error::from_errno`], [`Error::from_errno_with_filename`], [`Error::from_errno_with_filename_object`], [`Error::from_errno_with_filename_objects`] |
//! | `HPyErr_NoMemory` | [`Error::no_memory`] |
//! | `HPyErr_Occurred`, `HPyErr_Clear` | [`Context::err_occurred`], [`Context::err_clear`] |
//! | `HPyErr_ExceptionMatches` | [`Context::err_matches`], [`Error::matches`] |
//! | `HPyErr_NewException(WithDoc)` | [`Context::new_exception`] |
//! | `HPyErr_WarnEx` | [`Context::warn`] |
//! | `HPyErr_WriteUnraisable` | [`Context::write_unraisable`], [`Error::write_unraisable`] |

use std::borrow::Cow;

use crate::util::with_c_str;
use crate::{Context, Global, Handle};
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
///
/// The type of a lazy error is a builtin exception ([`exc`]) or a custom
/// exception class kept in a [`Global`] ([`Global::new_err`]). Errors with a
/// type or value that is a handle ([`Error::from_type`], [`Error::from_value`],
/// [`Error::set_object`], [`Error::from_errno`]...) are raised at once, since
/// an `Error` cannot hold a handle past the call.
///
/// The contract of every function returning [`Result`]: `Err` means an
/// exception is set (or lazily built); `Ok` means none is set.
pub struct Error {
    lazy: Option<Box<Lazy>>,
}

struct Lazy {
    ty: LazyType,
    msg: Cow<'static, str>,
    /// Set for "wrong type" conversion errors, so that argument parsing can say
    /// which argument of which function (`f() argument 'a' must be int, not str`).
    wrong_type: Option<WrongType>,
    /// Whether `msg` starts with a context path (`item 3: ...`).
    has_context: bool,
}

enum LazyType {
    Builtin(ExceptionKind),
    Global(&'static Global),
    /// A class of `create_exception!`, made when first needed.
    Declared(fn() -> &'static crate::impl_::ExceptionDef),
}

struct WrongType {
    expected: &'static str,
    got: String,
    /// Said after the types, in parentheses.
    note: Option<&'static str>,
}

/// A builtin exception type, as the accessor of its context constant.
#[derive(Copy, Clone)]
struct ExceptionKind {
    name: &'static str,
    handle: unsafe fn(*mut sys::HPyContext) -> sys::HPy,
}

const _: () = assert!(size_of::<Error>() == size_of::<usize>());

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
    fn lazy(ty: LazyType, msg: Cow<'static, str>) -> Self {
        Error {
            lazy: Some(Box::new(Lazy {
                ty,
                msg,
                wrong_type: None,
                has_context: false,
            })),
        }
    }

    /// A lazily raised exception whose type is the object in `ty` (a custom
    /// exception class stored there, typically in `#[hpy_init]`), with message
    /// `msg`. The same as [`Global::new_err`].
    ///
    /// When it is raised, a global that was never stored gives `SystemError`,
    /// and an object that is not an exception class gives `TypeError:
    /// exceptions must derive from BaseException`.
    #[cold]
    pub fn from_global(ty: &'static Global, msg: impl Into<Cow<'static, str>>) -> Self {
        Error::lazy(LazyType::Global(ty), msg.into())
    }

    /// A lazily raised exception of a class declared with
    /// [`create_exception!`](crate::create_exception) (what its `new_err`
    /// returns): the class is made when first needed.
    #[doc(hidden)]
    #[cold]
    pub fn from_declared(
        def: fn() -> &'static crate::impl_::ExceptionDef,
        msg: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error::lazy(LazyType::Declared(def), msg.into())
    }

    /// A `TypeError` for a conversion that needs a Python `expected` (e.g. `"int"`)
    /// but got `obj`: `expected int, got str`. As an argument of an
    /// `#[hpy_method]`, it becomes `f() argument 'a' must be int, not str`.
    #[inline(always)]
    pub fn wrong_type(expected: &'static str, obj: &Handle<'_>) -> Self {
        Error::wrong_type_parts(expected, obj.ctx(), obj.as_raw())
    }

    /// [`Error::wrong_type`] out of line, given the handle's parts by value:
    /// a reference would make every caller keep the handle in memory on its
    /// hot path too.
    #[cold]
    #[inline(never)]
    fn wrong_type_parts(expected: &'static str, ctx: &Context, raw: sys::HPy) -> Self {
        // SAFETY: `raw` is the open handle of the caller's `obj`, which
        // outlives this call; the view does not close it.
        let obj = core::mem::ManuallyDrop::new(unsafe { Handle::from_raw(ctx, raw) });
        Error::wrong_type_noted(expected, &obj, None)
    }

    /// [`Error::wrong_type`] with a note in parentheses after the types:
    /// `f() argument 'xs' must be a sequence, not str (...)`.
    #[cold]
    pub(crate) fn wrong_type_noted(
        expected: &'static str,
        obj: &Handle<'_>,
        note: Option<&'static str>,
    ) -> Self {
        let got = obj.type_name();
        let msg = match note {
            Some(note) => format!("expected {expected}, got {got} ({note})"),
            None => format!("expected {expected}, got {got}"),
        };
        let mut err = exc::TypeError::new_err(msg);
        if let Some(lazy) = err.lazy.as_mut() {
            lazy.wrong_type = Some(WrongType {
                expected,
                got,
                note,
            });
        }
        err
    }

    /// Prefixes the message of a lazy error with `context` and `": "`, to say
    /// where a nested conversion failed: `item 3: expected int, got str`.
    /// Contexts compose from the inside out (`item 0: item 2: ...`).
    ///
    /// An exception already raised by the interpreter cannot be changed (HPy
    /// 0.9 cannot fetch it): it is returned as it is.
    ///
    /// ```
    /// fn second(items: &[hpy::Handle<'_>]) -> hpy::Result<i64> {
    ///     items[1].extract::<i64>().map_err(|e| e.with_context("item 1"))
    /// }
    /// ```
    #[cold]
    #[inline(never)]
    pub fn with_context(mut self, context: impl core::fmt::Display) -> Self {
        if let Some(lazy) = self.lazy.as_mut() {
            lazy.msg = format!("{context}: {}", lazy.msg).into();
            lazy.has_context = true;
        }
        self
    }

    /// Puts a conversion error in the context of argument `arg` of function
    /// `func`: a wrong-type error becomes `f() argument 'a' must be int, not
    /// str`, an error with a context path `f() argument 'a': item 3: ...`;
    /// others are kept as they are.
    #[doc(hidden)]
    #[cold]
    pub fn for_argument(mut self, func: &str, arg: &str) -> Self {
        if let Some(lazy) = self.lazy.as_mut() {
            if lazy.has_context {
                lazy.msg = format!("{func}() argument '{arg}': {}", lazy.msg).into();
                lazy.wrong_type = None;
            } else if let Some(w) = &lazy.wrong_type {
                lazy.msg = match w.note {
                    Some(note) => format!(
                        "{func}() argument '{arg}' must be {}, not {} ({note})",
                        w.expected, w.got
                    ),
                    None => format!(
                        "{func}() argument '{arg}' must be {}, not {}",
                        w.expected, w.got
                    ),
                }
                .into();
                lazy.wrong_type = None;
            }
        }
        self
    }

    /// Puts a conversion error in the context of the attribute `attr` of
    /// class `class` (a setter's value): `Point.x must be float, not str`.
    #[doc(hidden)]
    #[cold]
    pub fn for_attribute(mut self, class: &str, attr: &str) -> Self {
        if let Some(lazy) = self.lazy.as_mut() {
            if let (false, Some(w)) = (lazy.has_context, &lazy.wrong_type) {
                lazy.msg = format!("{class}.{attr} must be {}, not {}", w.expected, w.got).into();
                lazy.wrong_type = None;
            } else {
                lazy.msg = format!("{class}.{attr}: {}", lazy.msg).into();
                lazy.wrong_type = None;
            }
        }
        self
    }

    /// The exception type's name for a lazy error of a builtin type; `None` for
    /// a raised one, or one whose type is kept in a [`Global`].
    pub fn type_name(&self) -> Option<&'static str> {
        match &self.lazy.as_ref()?.ty {
            LazyType::Builtin(k) => Some(k.name),
            LazyType::Global(_) | LazyType::Declared(_) => None,
        }
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
        match lazy.ty {
            LazyType::Builtin(kind) => {
                // SAFETY: the context is live; the accessor reads a context constant.
                let ty = unsafe { (kind.handle)(raw) };
                set_string(ctx, ty, lazy.msg);
            }
            LazyType::Global(global) => match global.try_load(ctx) {
                Some(ty) => match check_exception_class(&ty) {
                    Ok(()) => set_string(ctx, ty.as_raw(), lazy.msg),
                    Err(e) => e.restore(ctx),
                },
                None => exc::SystemError::new_err(format!(
                    "hpy::Global loaded before it was stored (the exception type of: {})",
                    lazy.msg
                ))
                .restore(ctx),
            },
            LazyType::Declared(def) => match def().class(ctx) {
                Ok(ty) => set_string(ctx, ty.as_raw(), lazy.msg),
                Err(e) => e.restore(ctx),
            },
        }
    }

    /// Whether this exception is an instance of `ty` (an exception class, or a
    /// tuple of them), like `except ty:`. For a raised error this is
    /// `HPyErr_ExceptionMatches`; a lazy one is checked against its type,
    /// without raising it.
    pub fn matches(&self, ctx: &Context, ty: &Handle<'_>) -> bool {
        let Some(lazy) = &self.lazy else {
            return ctx.err_matches(ty);
        };
        match &lazy.ty {
            LazyType::Builtin(kind) => {
                // SAFETY: the context is live; the accessor reads a context constant,
                // borrowed for the call.
                let own = unsafe { crate::Borrowed::from_raw(ctx, (kind.handle)(ctx.as_raw())) };
                given_matches(&own, ty)
            }
            LazyType::Global(global) => match global.try_load(ctx) {
                Some(own) => given_matches(&own, ty),
                None => false,
            },
            LazyType::Declared(def) => match def().class(ctx) {
                Ok(own) => given_matches(&own, ty),
                Err(_) => {
                    ctx.err_clear();
                    false
                }
            },
        }
    }

    /// Raises an exception of the type `ty` (a class, e.g. one imported at run
    /// time) with message `msg`, now (`HPyErr_SetString`), and returns it as a
    /// raised error. Use the lazy [`exc`] types or [`Global::new_err`] where
    /// the type is known statically.
    ///
    /// If `ty` is not an exception class, raises `TypeError: exceptions must
    /// derive from BaseException` instead; a `msg` with a NUL raises
    /// `ValueError: embedded null character`.
    ///
    /// ```
    /// fn fail(ty: &hpy::Handle<'_>) -> hpy::Result<()> {
    ///     Err(hpy::Error::from_type(ty, "it failed"))
    /// }
    /// ```
    #[cold]
    pub fn from_type(ty: &Handle<'_>, msg: &str) -> Self {
        if let Err(e) = check_exception_class(ty) {
            return e;
        }
        let ctx = ty.ctx();
        let r = with_c_str(msg, |msg| {
            // SAFETY: the context is live, `ty` is an open handle to an exception
            // class and `msg` a NUL-terminated UTF-8 string for the call.
            unsafe { sys::HPyErr_SetString(ctx.as_raw(), ty.as_raw(), msg) };
        });
        match r {
            Ok(()) => Error::raised(),
            Err(e) => e,
        }
    }

    /// Raises the exception instance `value` (`raise value`), now
    /// (`HPyErr_SetObject(type(value), value)`), and returns it as a raised
    /// error.
    ///
    /// If `value` is not an exception instance, raises `TypeError: exceptions
    /// must derive from BaseException` instead, as `raise 1` does.
    #[cold]
    pub fn from_value(value: &Handle<'_>) -> Self {
        let ctx = value.ctx();
        // SAFETY: the context is live and `value` open in it; the type is a constant.
        let is_exc = unsafe {
            sys::HPy_TypeCheck(
                ctx.as_raw(),
                value.as_raw(),
                sys::h_BaseException(ctx.as_raw()),
            )
        };
        if is_exc == 0 {
            return not_an_exception();
        }
        let ty = value.get_type();
        // SAFETY: both handles are open; `ty` is the exception class of `value`.
        unsafe { sys::HPyErr_SetObject(ctx.as_raw(), ty.as_raw(), value.as_raw()) };
        Error::raised()
    }

    /// Raises the exception class `ty` with `value` (`HPyErr_SetObject`), now,
    /// and returns it as a raised error: `value` is an instance of `ty`, or the
    /// argument (a tuple: the arguments) the instance is made from when it is
    /// needed.
    ///
    /// If `ty` is not an exception class, raises `TypeError: exceptions must
    /// derive from BaseException` instead.
    #[cold]
    pub fn set_object(ty: &Handle<'_>, value: &Handle<'_>) -> Self {
        if let Err(e) = check_exception_class(ty) {
            return e;
        }
        let ctx = ty.ctx();
        // Arguments in a tuple subclass: PyPy makes the exception lazily, as
        // `ty(*value)` when Python code first looks at it, iterating the tuple
        // with its own `__iter__`; what that raises then can be caught by
        // nothing, and the program ends. CPython reads the real items: so do
        // we, into an exact tuple, on every runtime.
        let exact;
        let value = if value.is_tuple() && !crate::builtins::exact_type(value, sys::h_TupleType) {
            exact = match crate::builtins::exact_tuple_copy(value) {
                Ok(t) => t,
                Err(e) => return e,
            };
            &exact
        } else {
            value
        };
        // SAFETY: the context is live; both handles are open and `ty` is an
        // exception class. `HPyErr_SetObject` does not steal them.
        unsafe { sys::HPyErr_SetObject(ctx.as_raw(), ty.as_raw(), value.as_raw()) };
        Error::raised()
    }

    /// Raises `MemoryError` now (`HPyErr_NoMemory`) and returns it as a raised
    /// error.
    #[cold]
    pub fn no_memory(ctx: &Context) -> Self {
        // SAFETY: the context is live.
        unsafe { sys::HPyErr_NoMemory(ctx.as_raw()) };
        Error::raised()
    }

    /// Raises `ty` (usually `OSError`, which picks the subclass for the error
    /// number, e.g. `FileNotFoundError`) from the C `errno`, now
    /// (`HPyErr_SetFromErrno`): `ty(errno, strerror(errno))`.
    ///
    /// Call it right after the failed system call, before anything can change
    /// `errno`.
    ///
    /// If `ty` is not an exception class, raises `TypeError: exceptions must
    /// derive from BaseException` instead.
    #[cold]
    pub fn from_errno(ty: &Handle<'_>) -> Self {
        // Read errno before anything else can change it.
        let errno = std::io::Error::last_os_error();
        if let Err(e) = check_exception_class(ty) {
            return e;
        }
        restore_errno(&errno);
        // SAFETY: the context is live and `ty` is an exception class.
        unsafe { sys::HPyErr_SetFromErrno(ty.ctx().as_raw(), ty.as_raw()) };
        Error::raised()
    }

    /// Like [`from_errno`](Error::from_errno), with a file name
    /// (`HPyErr_SetFromErrnoWithFilename`): `FileNotFoundError: [Errno 2] No
    /// such file or directory: 'x'`, with `filename == 'x'`.
    ///
    /// ```
    /// fn open(ctx: &hpy::Context, path: &str) -> hpy::Result<std::fs::File> {
    ///     std::fs::File::open(path).map_err(|_| {
    ///         hpy::Error::from_errno_with_filename(&hpy::exc::OSError::type_object(ctx), path)
    ///     })
    /// }
    /// ```
    #[cold]
    pub fn from_errno_with_filename(ty: &Handle<'_>, filename: &str) -> Self {
        let errno = std::io::Error::last_os_error();
        if let Err(e) = check_exception_class(ty) {
            return e;
        }
        let ctx = ty.ctx();
        let r = with_c_str(filename, |name| {
            restore_errno(&errno);
            // SAFETY: the context is live, `ty` is an exception class and `name` a
            // NUL-terminated string for the call (UTF-8, which the runtime decodes
            // with the file system encoding: the same text on UTF-8 systems).
            unsafe { sys::HPyErr_SetFromErrnoWithFilename(ctx.as_raw(), ty.as_raw(), name) };
        });
        match r {
            Ok(()) => Error::raised(),
            Err(e) => e,
        }
    }

    /// Like [`from_errno`](Error::from_errno), with a file name object
    /// (`HPyErr_SetFromErrnoWithFilenameObject`; usually a `str`).
    #[cold]
    pub fn from_errno_with_filename_object(ty: &Handle<'_>, filename: &Handle<'_>) -> Self {
        let errno = std::io::Error::last_os_error();
        if let Err(e) = check_exception_class(ty) {
            return e;
        }
        restore_errno(&errno);
        // SAFETY: the context is live; `ty` is an exception class and `filename`
        // an open handle.
        unsafe {
            sys::HPyErr_SetFromErrnoWithFilenameObject(
                ty.ctx().as_raw(),
                ty.as_raw(),
                filename.as_raw(),
            )
        };
        Error::raised()
    }

    /// Like [`from_errno`](Error::from_errno), with one or two file name
    /// objects (`HPyErr_SetFromErrnoWithFilenameObjects`), e.g. for a failed
    /// rename: `[Errno 2] No such file or directory: 'a' -> 'b'`.
    #[cold]
    pub fn from_errno_with_filename_objects(
        ty: &Handle<'_>,
        filename1: &Handle<'_>,
        filename2: Option<&Handle<'_>>,
    ) -> Self {
        let errno = std::io::Error::last_os_error();
        if let Err(e) = check_exception_class(ty) {
            return e;
        }
        restore_errno(&errno);
        let f2 = filename2.map_or(sys::HPy::NULL, Handle::as_raw);
        // SAFETY: the context is live; `ty` is an exception class, `filename1`
        // open, `filename2` open or NULL (allowed).
        unsafe {
            sys::HPyErr_SetFromErrnoWithFilenameObjects(
                ty.ctx().as_raw(),
                ty.as_raw(),
                filename1.as_raw(),
                f2,
            )
        };
        Error::raised()
    }

    /// Reports this error as "unraisable" (`HPyErr_WriteUnraisable`), for a
    /// place where it cannot propagate (a destructor, a callback): Python calls
    /// `sys.unraisablehook` (by default, prints it to `stderr` with `obj` as
    /// the context), and no exception stays set.
    #[cold]
    pub fn write_unraisable(self, ctx: &Context, obj: &Handle<'_>) {
        self.restore(ctx);
        ctx.write_unraisable(obj);
    }
}

/// Sets `errno` back to the value read at entry: the checks in between may
/// have changed it (they only call back into the interpreter on error paths,
/// but allocation may touch it).
#[inline]
fn restore_errno(saved: &std::io::Error) {
    if let Some(code) = saved.raw_os_error() {
        set_errno(code);
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
fn set_errno(code: i32) {
    unsafe extern "C" {
        fn __errno_location() -> *mut core::ffi::c_int;
    }
    // SAFETY: `__errno_location` returns this thread's `errno`, always valid.
    unsafe { *__errno_location() = code };
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
fn set_errno(code: i32) {
    unsafe extern "C" {
        fn __error() -> *mut core::ffi::c_int;
    }
    // SAFETY: `__error` returns this thread's `errno`, always valid.
    unsafe { *__error() = code };
}

#[cfg(windows)]
fn set_errno(code: i32) {
    unsafe extern "C" {
        fn _errno() -> *mut core::ffi::c_int;
    }
    // SAFETY: `_errno` returns this thread's `errno`, always valid.
    unsafe { *_errno() = code };
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "emscripten",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    windows
)))]
fn set_errno(_code: i32) {
    // Unknown C library: `errno` is used as it is.
}

/// `HPyErr_SetString(ty, msg)`; a NUL in `msg` cuts it there.
#[cold]
fn set_string(ctx: &Context, ty: sys::HPy, msg: Cow<'static, str>) {
    let mut bytes: Vec<u8> = msg.into_owned().into_bytes();
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    bytes.push(0);
    // SAFETY: the context is live; `ty` is an open exception class; `bytes` is
    // NUL-terminated UTF-8 that lives across the call.
    unsafe { sys::HPyErr_SetString(ctx.as_raw(), ty, bytes.as_ptr().cast()) };
}

/// `TypeError: exceptions must derive from BaseException`, CPython's words for
/// `raise 1`.
#[cold]
fn not_an_exception() -> Error {
    exc::TypeError::new_err("exceptions must derive from BaseException")
}

/// Ok if `ty` is a subclass of `BaseException`: the C API crashes or raises
/// `SystemError` for anything else, depending on the runtime.
#[cold]
pub(crate) fn check_exception_class(ty: &Handle<'_>) -> Result<()> {
    let raw = ty.ctx().as_raw();
    // SAFETY: the context is live and `ty` open in it; the type type is a constant.
    let is_type = unsafe { sys::HPy_TypeCheck(raw, ty.as_raw(), sys::h_TypeType(raw)) != 0 };
    // SAFETY: the context is live; the type is a constant, borrowed for the call.
    let base = unsafe { crate::Borrowed::from_raw(ty.ctx(), sys::h_BaseException(raw)) };
    if is_type && is_subclass(ty, &base) {
        Ok(())
    } else {
        Err(not_an_exception())
    }
}

/// Whether the type `sub` is `base` or a subclass of it (`HPyType_IsSubtype`).
pub(crate) fn is_subclass(sub: &Handle<'_>, base: &Handle<'_>) -> bool {
    let ctx = sub.ctx();
    // SAFETY: the context is live and both handles are open types.
    unsafe { sys::HPyType_IsSubtype(ctx.as_raw(), sub.as_raw(), base.as_raw()) != 0 }
}

/// `PyErr_GivenExceptionMatches(given, expected)`: `expected` is a class or a
/// tuple of them (nested tuples too).
fn given_matches(given: &Handle<'_>, expected: &Handle<'_>) -> bool {
    let ctx = given.ctx();
    let raw = ctx.as_raw();
    // SAFETY: the context is live and both handles open in it.
    if unsafe { sys::HPyTuple_Check(raw, expected.as_raw()) } != 0 {
        // SAFETY: `expected` is a tuple.
        let n = unsafe { sys::HPy_Length(raw, expected.as_raw()) };
        for i in 0..n.max(0) {
            // SAFETY: `i` < len(expected); the item is a new handle or NULL.
            let item = unsafe {
                Handle::from_raw_result(ctx, sys::HPy_GetItem_i(raw, expected.as_raw(), i))
            };
            match item {
                Ok(item) if given_matches(given, &item) => return true,
                Ok(_) => {}
                Err(_) => {
                    ctx.err_clear();
                    return false;
                }
            }
        }
        return false;
    }
    // SAFETY: as above; the type type is a constant.
    let both_types = unsafe {
        sys::HPy_TypeCheck(raw, given.as_raw(), sys::h_TypeType(raw)) != 0
            && sys::HPy_TypeCheck(raw, expected.as_raw(), sys::h_TypeType(raw)) != 0
    };
    if both_types {
        is_subclass(given, expected)
    } else {
        given.is(expected)
    }
}

impl From<std::io::Error> for Error {
    /// A lazy exception for an I/O error, of the `OSError` subclass that
    /// Python uses for its kind (`FileNotFoundError` for `NotFound`, ...), with
    /// the error's text as the message.
    #[cold]
    fn from(err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let msg = err.to_string();
        match err.kind() {
            K::NotFound => exc::FileNotFoundError::new_err(msg),
            K::PermissionDenied => exc::PermissionError::new_err(msg),
            K::AlreadyExists => exc::FileExistsError::new_err(msg),
            K::ConnectionRefused => exc::ConnectionRefusedError::new_err(msg),
            K::ConnectionReset => exc::ConnectionResetError::new_err(msg),
            K::ConnectionAborted => exc::ConnectionAbortedError::new_err(msg),
            K::BrokenPipe => exc::BrokenPipeError::new_err(msg),
            K::WouldBlock => exc::BlockingIOError::new_err(msg),
            K::TimedOut => exc::TimeoutError::new_err(msg),
            K::Interrupted => exc::InterruptedError::new_err(msg),
            K::IsADirectory => exc::IsADirectoryError::new_err(msg),
            K::NotADirectory => exc::NotADirectoryError::new_err(msg),
            K::OutOfMemory => exc::MemoryError::new_err(msg),
            _ => exc::OSError::new_err(msg),
        }
    }
}

impl From<std::collections::TryReserveError> for Error {
    /// `MemoryError`: what a refused `try_reserve` means, so that sizes that
    /// come from Python (or from a user) never abort the process.
    ///
    /// ```
    /// fn zeros(n: usize) -> hpy::Result<Vec<u8>> {
    ///     let mut v = Vec::new();
    ///     v.try_reserve_exact(n)?; // MemoryError instead of an abort
    ///     v.resize(n, 0);
    ///     Ok(v)
    /// }
    /// ```
    #[cold]
    fn from(_: std::collections::TryReserveError) -> Self {
        exc::MemoryError::new_err("")
    }
}

impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.lazy {
            None => f.write_str("Error(<raised in the interpreter>)"),
            Some(l) => write!(f, "Error({}: {:?})", l.ty.name(), l.msg),
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.lazy {
            None => f.write_str("<exception raised in the interpreter>"),
            Some(l) => write!(f, "{}: {}", l.ty.name(), l.msg),
        }
    }
}

impl LazyType {
    fn name(&self) -> &'static str {
        match self {
            LazyType::Builtin(k) => k.name,
            LazyType::Global(_) => "<exception class in a hpy::Global>",
            LazyType::Declared(def) => def().name,
        }
    }
}

impl std::error::Error for Error {}

// --- the interpreter's error state, custom exception classes, warnings ------------

impl Context {
    /// Whether the exception currently set is an instance of `ty` (a class or
    /// a tuple of classes), like `except ty:` (`HPyErr_ExceptionMatches`).
    /// `false` when none is set.
    #[inline]
    pub fn err_matches(&self, ty: &Handle<'_>) -> bool {
        // SAFETY: the context is live and `ty` open in it.
        unsafe { sys::HPyErr_ExceptionMatches(self.as_raw(), ty.as_raw()) != 0 }
    }

    /// Creates a new exception class (`HPyErr_NewException`, or
    /// `HPyErr_NewExceptionWithDoc` with a `doc`): `name` is `"module.Name"`,
    /// `base` the base class (a class or a tuple of them; `Exception` if
    /// `None`), `dict` the class namespace (a `dict`, or `None` for an empty
    /// one). Keep it in a [`Global`] to raise it later with
    /// [`Global::new_err`], and add it to the module.
    ///
    /// A `name` without a dot raises `SystemError`, as in CPython; a `dict`
    /// that is not a dict raises `TypeError`.
    ///
    /// ```
    /// static MY_ERROR: hpy::Global = hpy::Global::new();
    ///
    /// fn init(ctx: &hpy::Context, module: &hpy::Handle<'_>) -> hpy::Result<()> {
    ///     let ty = ctx.new_exception("mymod.MyError", None, None, Some("My error."))?;
    ///     MY_ERROR.store(ctx, &ty);
    ///     module.set_attr("MyError", ty)
    /// }
    /// ```
    pub fn new_exception<'ctx>(
        &'ctx self,
        name: &str,
        base: Option<&Handle<'_>>,
        dict: Option<&Handle<'_>>,
        doc: Option<&str>,
    ) -> Result<Handle<'ctx>> {
        let raw = self.as_raw();
        if !name.contains('.') {
            // CPython's check (and words); other runtimes may not check.
            return Err(exc::SystemError::new_err(
                "PyErr_NewException: name must be module.class",
            ));
        }
        if let Some(d) = dict {
            // SAFETY: the context is live and `d` open in it.
            if unsafe { sys::HPyDict_Check(raw, d.as_raw()) } == 0 {
                return Err(Error::wrong_type("dict", d));
            }
        }
        let base = base.map_or(sys::HPy::NULL, Handle::as_raw);
        let dict = dict.map_or(sys::HPy::NULL, Handle::as_raw);
        with_c_str(name, |name| match doc {
            // SAFETY: the context is live; `name` is a C string for the call; `base`
            // and `dict` are open handles or NULL (allowed); the result is new or
            // NULL with an exception set.
            None => unsafe {
                Handle::from_raw_result(self, sys::HPyErr_NewException(raw, name, base, dict))
            },
            Some(doc) => with_c_str(doc, |doc| {
                // SAFETY: as above, and `doc` is a C string for the call.
                unsafe {
                    Handle::from_raw_result(
                        self,
                        sys::HPyErr_NewExceptionWithDoc(raw, name, doc, base, dict),
                    )
                }
            })?,
        })?
    }

    /// Issues a warning of class `category` (e.g. `UserWarning`, see
    /// [`exc::UserWarning::type_object`]) with `message` (`HPyErr_WarnEx`);
    /// `stack_level` 1 points at the caller of the extension function.
    ///
    /// When a warnings filter turns it into an error, that exception is
    /// returned (raised) as `Err`. A `category` that is not a subclass of
    /// `Warning` raises `TypeError`, as `warnings.warn` does (HPy's
    /// `HPyErr_WarnEx` would call it with the message and warn with whatever
    /// that gives).
    ///
    /// ```
    /// fn old_api(ctx: &hpy::Context) -> hpy::Result<()> {
    ///     ctx.warn(&hpy::exc::DeprecationWarning::type_object(ctx), "use new_api()", 1)
    /// }
    /// ```
    pub fn warn(&self, category: &Handle<'_>, message: &str, stack_level: isize) -> Result<()> {
        if !(category.is_type() && is_subclass(category, &exc::Warning::type_object(self))) {
            return Err(exc::TypeError::new_err(format!(
                "category must be a Warning subclass, not '{}'",
                category.type_name()
            )));
        }
        let raw = self.as_raw();
        with_c_str(message, |message| {
            // SAFETY: the context is live, `category` open and `message` a C string
            // for the call.
            let r = unsafe { sys::HPyErr_WarnEx(raw, category.as_raw(), message, stack_level) };
            if r < 0 { Err(Error::raised()) } else { Ok(()) }
        })?
    }

    /// Reports the exception currently set as "unraisable"
    /// (`HPyErr_WriteUnraisable`): Python calls `sys.unraisablehook` (by
    /// default, prints it to `stderr` with `obj` as its context) and clears
    /// it. Does nothing when no exception is set. See also
    /// [`Error::write_unraisable`].
    pub fn write_unraisable(&self, obj: &Handle<'_>) {
        if !self.err_occurred() {
            return;
        }
        // SAFETY: the context is live, an exception is set and `obj` is open.
        unsafe { sys::HPyErr_WriteUnraisable(self.as_raw(), obj.as_raw()) }
    }
}

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

                #[doc = concat!("The class `", stringify!($name), "` (a constant of the context).")]
                #[inline]
                pub fn type_object(ctx: &Context) -> crate::Borrowed<'_, '_> {
                    <Self as ExceptionType>::type_object(ctx)
                }
            }

            impl crate::impl_::ExceptionBase for $name {
                #[inline]
                fn base_class(ctx: &Context) -> Result<Handle<'_>> {
                    Ok(<Self as ExceptionType>::type_object(ctx).dup())
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
                    Error::lazy(
                        LazyType::Builtin(ExceptionKind { name: stringify!($name), handle: sys::$member }),
                        msg.into(),
                    )
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
