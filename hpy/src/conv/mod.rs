//! Conversions between Rust values and Python objects: [`FromPy`] and [`IntoPy`].
//!
//! | Rust | Python (to Rust) | Python (from Rust) |
//! |---|---|---|
//! | `()` | | `None` |
//! | `bool` | `bool` only | `bool` |
//! | `i8` ... `i64`, `isize`, `u8` ... `u64`, `usize` | `int` (or `__index__`); `OverflowError` out of range | `int` |
//! | `i128`, `u128` | `int` (or `__index__`); `OverflowError` out of range | `int` |
//! | `f32`, `f64` | `float` (or `int`, `__float__`) | `float` |
//! | `char` | `str` of length 1 | `str` of length 1 |
//! | `&str` (borrowed from the handle), `String`, `Cow<str>` (borrowed) | `str` | `str` |
//! | `&[u8]` (borrowed from the handle), `Cow<[u8]>` (borrowed) | `bytes` | `bytes` |
//! | `Vec<u8>`, `[u8; N]` | `bytes`, or any sequence of ints | `bytes` |
//! | `Vec<T>`, `VecDeque<T>`, `[T; N]`, `&[T]` (to Python only) | any sequence but `str` (exactly `N` items for an array) | `list` |
//! | `(T1, ..., Tn)`, n = 1 ... 12 | `tuple` of length n | `tuple` |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | `dict` | `dict` |
//! | `HashSet<T>`, `BTreeSet<T>` | any iterable but `str` | `set` |
//! | `PathBuf`, `OsString` (and `&Path`, `&OsStr` to Python) | `str`, `bytes` or `os.PathLike` (see below) | `str` |
//! | `Option<T>` | `None` or `T` | `None` or `T` |
//! | `&Handle`, `Handle` | any object | any object (a `&Handle` is dup'd) |
//!
//! Choices, and why:
//!
//! * **Bytes**: a sequence of `u8` is binary data, so `Vec<u8>`, `&[u8]` and
//!   `[u8; N]` become `bytes` (as in PyO3); to Rust, `Vec<u8>` and `[u8; N]`
//!   take `bytes` (copied at once) or any sequence of ints in 0..=255.
//!   Any other `Vec<T>` is a `list`. A `&[u8]` view of a `bytes` subclass has
//!   the object's real length, whatever its `__len__` says.
//! * **Sequences** to Rust (`Vec`, `VecDeque`, arrays): any object of the
//!   sequence protocol, as in PyO3: an exact `list` or `tuple` is read in
//!   place (the fast path); anything else (a subclass, `range`, a class with
//!   `__getitem__`) is first copied by iterating it (its `__iter__` runs, as
//!   in PyO3). A `str` is refused: it is never taken as a list of
//!   characters. Tuples (`(A, B)`) take a `tuple` of the right length (a
//!   subclass's real items), sets any iterable but `str` (HPy 0.9 has no set
//!   API: the items are copied to a list), maps a `dict` (a subclass's real
//!   items).
//! * **Sizes** from Python are never trusted for memory: a lying `__len__`
//!   sizes nothing, vectors are reserved with `try_reserve`, and an
//!   allocation that cannot be made raises `MemoryError` (never an abort).
//! * **Where it failed**: an item that does not convert says where it is, and
//!   contexts compose: `f() argument 'xs': item 3: expected int, got str`;
//!   in a dict, `key 1: ...` or `value for key 'a': ...`; in a set,
//!   `element 1: ...` (see [`Error::with_context`]). An error raised by the
//!   interpreter itself (e.g. a failing `__index__`) keeps its own message.
//! * **Integer overflow** says which Rust type: `OverflowError: Python int too
//!   large to convert to i64` (on every interpreter).
//! * **Paths**: from `str` (encoded with the file system encoding and its
//!   error handler, like `os.fsencode`, so undecodable file names round-trip),
//!   `bytes` (the raw path, on Unix only) or an `os.PathLike` (its
//!   `__fspath__()`); an embedded NUL raises `ValueError`, like `open()`. To
//!   Python, a path is the `str` of `os.fsdecode` (not a `pathlib.Path`).

use crate::err::{Error, Result};
use crate::util::{new_str, overflow};
use crate::{Borrowed, Context, Handle};
use hpy_sys as sys;

mod map;
mod seq;
mod std_types;

/// Conversion from a Python object to a Rust value.
///
/// `'a` is the borrow of the handle, so `&'a str` and `&'a [u8]` can point into
/// the object itself (HPy's debug mode revokes that memory when the handle is
/// closed; the borrow checker makes sure that never happens while in use).
///
/// Implemented for the scalars, `char`, strings, bytes, `Option`, handles, and
/// the std collections: `Vec<T>`, `VecDeque<T>` and `[T; N]` from any
/// sequence but `str` (`Vec<u8>` and `[u8; N]` also from `bytes`), tuples from
/// a `tuple`, `HashMap`/`BTreeMap` from a `dict`, `HashSet`/`BTreeSet` from
/// any iterable but `str`, `i128`/`u128` from an `int`, and `PathBuf`/`OsString` from a
/// `str`, `bytes` (Unix) or `os.PathLike`. An item that fails to convert says
/// where it is: `f() argument 'xs': item 3: expected int, got str`.
///
/// ```
/// use std::collections::HashMap;
///
/// fn total(obj: &hpy::Handle<'_>) -> hpy::Result<i64> {
///     let prices: HashMap<String, Vec<i64>> = obj.extract()?;
///     Ok(prices.values().flatten().sum())
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted from a Python object",
    label = "no `hpy::FromPy` conversion for this type",
    note = "implement `hpy::FromPy` for it, or take `&hpy::Handle<'_>` and convert inside the function"
)]
pub trait FromPy<'a, 'ctx>: Sized {
    /// Converts `obj`, or fails with a Python exception (see [`Error::wrong_type`]).
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self>;

    /// `true` for `u8` only: sequences of it (`Vec<u8>`, `[u8; N]`) also take `bytes`.
    #[doc(hidden)]
    const __FROM_BYTES: bool = false;

    /// For `u8` only: the byte itself (with `__FROM_BYTES`).
    #[doc(hidden)]
    #[inline(always)]
    fn __from_byte(_byte: u8) -> Option<Self> {
        None
    }
}

/// Conversion from a Rust value to a new Python object.
///
/// Sequences become a `list` (`Vec<T>`, `[T; N]`, `&[T]`, `VecDeque<T>`),
/// except sequences of `u8`, which become `bytes`; tuples a `tuple`, maps a
/// `dict`, sets a `set`, `char` a one-character `str`, paths the `str` of
/// `os.fsdecode`. References (`&Vec<T>`, `&HashMap<K, V>`, `&i64`, ...) convert
/// without taking ownership.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted to a Python object",
    label = "no `hpy::IntoPy` conversion for this type",
    note = "return a type that implements `hpy::IntoPy` (or `hpy::Result` of one), or build a `hpy::Handle` yourself"
)]
pub trait IntoPy<'ctx> {
    /// Makes a new Python object from `self`.
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>>;

    /// Makes a new Python object from `self` as an owned raw handle, or NULL
    /// with the exception raised: what a method's impl function returns.
    ///
    /// The default goes through [`into_py`](IntoPy::into_py); conversions that
    /// end in one context call return its result as it is, as C would.
    #[doc(hidden)]
    #[inline(always)]
    fn __into_py_raw(self, ctx: &'ctx Context) -> sys::HPy
    where
        Self: Sized,
    {
        match self.into_py(ctx) {
            Ok(h) => h.into_raw(),
            Err(e) => {
                e.restore(ctx);
                sys::HPy::NULL
            }
        }
    }

    /// For `u8` only: the items as bytes, so that sequences of `u8` become `bytes`.
    #[doc(hidden)]
    #[inline(always)]
    fn __as_bytes(_items: &[Self]) -> Option<&[u8]>
    where
        Self: Sized,
    {
        None
    }
}

// --- handles ------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for &'a Handle<'ctx> {
    #[inline(always)]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        Ok(obj)
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for Handle<'ctx> {
    #[inline(always)]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        Ok(obj.dup())
    }
}

impl<'ctx> IntoPy<'ctx> for Handle<'ctx> {
    #[inline(always)]
    fn into_py(self, _ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(self)
    }
}

impl<'ctx> IntoPy<'ctx> for &Handle<'ctx> {
    #[inline(always)]
    fn into_py(self, _ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(self.dup())
    }
}

impl<'ctx> IntoPy<'ctx> for Borrowed<'_, 'ctx> {
    #[inline(always)]
    fn into_py(self, _ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(self.dup())
    }
}

impl<'ctx> IntoPy<'ctx> for &Borrowed<'_, 'ctx> {
    #[inline(always)]
    fn into_py(self, _ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(self.dup())
    }
}

// --- None, bool -------------------------------------------------------------------

impl<'ctx> IntoPy<'ctx> for () {
    #[inline(always)]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(ctx.none().dup())
    }
}

impl<'ctx> IntoPy<'ctx> for bool {
    #[inline(always)]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        // SAFETY: the context is live; `HPyBool_FromBool` returns a new handle.
        unsafe { Handle::from_raw_result(ctx, sys::HPyBool_FromBool(ctx.as_raw(), self)) }
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for bool {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        if obj.is(&ctx.true_()) {
            Ok(true)
        } else if obj.is(&ctx.false_()) {
            Ok(false)
        } else {
            Err(Error::wrong_type("bool", obj))
        }
    }
}

// --- integers -------------------------------------------------------------------

/// After a context function returned its error value: a wrong-type error for a
/// non-int, an overflow error naming the Rust type `target`, or the raised
/// exception as it is (e.g. from a failing `__index__`).
///
/// It takes the handle's parts by value, not `&Handle`: a reference would make
/// the caller keep the argument handle in memory on the hot path too.
#[cold]
#[inline(never)]
fn int_error(ctx: &Context, obj: sys::HPy, target: &'static str) -> Error {
    // SAFETY: `obj` is the open handle the failed conversion was given (the
    // caller still owns it); the view does not close it.
    let obj = &*core::mem::ManuallyDrop::new(unsafe { Handle::from_raw(ctx, obj) });
    let raw = ctx.as_raw();
    // SAFETY: the context is live; the exception types are constants.
    let (is_type_error, is_overflow) = unsafe {
        (
            sys::HPyErr_ExceptionMatches(raw, sys::h_TypeError(raw)) != 0,
            sys::HPyErr_ExceptionMatches(raw, sys::h_OverflowError(raw)) != 0,
        )
    };
    if is_type_error {
        ctx.err_clear();
        Error::wrong_type("int", obj)
    } else if is_overflow {
        // Our own message, the same on every interpreter, and lazy (so that a
        // nested conversion can say where it failed).
        ctx.err_clear();
        overflow(target, is_negative(obj))
    } else {
        Error::raised()
    }
}

/// After a conversion to the Rust integer `target` failed: for an object that
/// is no `int` but has `__index__`, converts `operator.index(obj)` with
/// `convert` (CPython's `PyLong_AsUnsignedLongLong`, `PyLong_AsSsize_t` and
/// `PyLong_AsSize_t` do not call `__index__`, `PyLong_AsLongLong` does; PyO3
/// takes it for every integer type, and so does every integer here);
/// otherwise the error of [`int_error`].
#[cold]
#[inline(never)]
pub(crate) fn via_index<'ctx, T>(
    ctx: &'ctx Context,
    obj: sys::HPy,
    target: &'static str,
    convert: impl FnOnce(&Handle<'ctx>) -> Result<T>,
) -> Result<T> {
    let raw = ctx.as_raw();
    // SAFETY: the context is live and `obj` open (the caller's argument); the
    // types are constants; these functions may run with the exception set.
    let retry = unsafe {
        sys::HPyErr_ExceptionMatches(raw, sys::h_TypeError(raw)) != 0
            && sys::HPy_TypeCheck(raw, obj, sys::h_LongType(raw)) == 0
    };
    if !retry {
        return Err(int_error(ctx, obj, target));
    }
    ctx.err_clear();
    // SAFETY: `obj` is the open handle the failed conversion was given (the
    // caller still owns it); the view does not close it.
    let view = core::mem::ManuallyDrop::new(unsafe { Handle::from_raw(ctx, obj) });
    if !view.get_type().has_attr("__index__") {
        return Err(Error::wrong_type("int", &view));
    }
    // SAFETY: the handle is open; the result is a new int or NULL with an
    // exception set (whatever `__index__` raised, or its TypeError for a
    // result that is no int).
    let index = unsafe { Handle::from_raw_result(ctx, sys::HPy_Index(raw, obj)) }?;
    convert(&index)
}

/// Whether the int (or `__index__`-able) `obj` is negative; `false` if that
/// cannot be told (nothing stays raised).
#[cold]
fn is_negative(obj: &Handle<'_>) -> bool {
    let ctx = obj.ctx();
    let raw = ctx.as_raw();
    let result = (|| {
        // SAFETY: the context is live and `obj` open; every result is new or NULL
        // with an exception set.
        let index = unsafe { Handle::from_raw_result(ctx, sys::HPy_Index(raw, obj.as_raw())) }?;
        let zero = 0i64.into_py(ctx)?;
        // SAFETY: both handles are open.
        let r =
            unsafe { sys::HPy_RichCompareBool(raw, index.as_raw(), zero.as_raw(), sys::HPy_LT.0) };
        if r < 0 {
            Err(Error::raised())
        } else {
            Ok(r != 0)
        }
    })();
    result.unwrap_or_else(|_| {
        ctx.err_clear();
        false
    })
}

macro_rules! int_via {
    // A Rust integer that one context function converts exactly. `index:
    // native` for a function that calls `__index__` itself on every runtime;
    // `index: retry` for one that may not (see `via_index`).
    ($($t:ty => $as:path as $wide:ty, $from:path as $from_t:ty, index: $index:ident;)*) => {$(
        impl<'a, 'ctx> FromPy<'a, 'ctx> for $t {
            #[inline]
            fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
                let ctx = obj.ctx();
                // SAFETY: the handle is open in the live context.
                let v: $wide = unsafe { $as(ctx.as_raw(), obj.as_raw()) };
                if v == (-1i8) as $wide && ctx.err_occurred() {
                    return int_via!(@failed $index, $t, ctx, obj);
                }
                Ok(v as $t)
            }
        }

        impl<'ctx> IntoPy<'ctx> for $t {
            #[inline(always)]
            fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
                // SAFETY: the context is live; the result is new or NULL with an exception.
                unsafe { Handle::from_raw_result(ctx, $from(ctx.as_raw(), self as $from_t)) }
            }

            #[inline(always)]
            fn __into_py_raw(self, ctx: &'ctx Context) -> sys::HPy {
                // SAFETY: the context is live; the result is new, or NULL with an
                // exception set, which is what the caller returns to the runtime.
                unsafe { $from(ctx.as_raw(), self as $from_t) }
            }
        }
    )*};
    // Every path out of the cold branch is an error: no `Ok` joins the hot
    // path's, so callers test no merged result (measured: 3 instructions per
    // argument on `add_ints(1, 2)` otherwise).
    (@failed native, $t:ty, $ctx:ident, $obj:ident) => {
        Err(int_error($ctx, $obj.as_raw(), stringify!($t)))
    };
    (@failed retry, $t:ty, $ctx:ident, $obj:ident) => {
        via_index($ctx, $obj.as_raw(), stringify!($t), |index| <$t as FromPy>::from_py(index))
    };
}

// `HPyLong_AsInt64_t` calls `__index__` (CPython's `PyLong_AsLongLong`,
// PyPy's); `AsUInt64_t`, `AsSsize_t` and `AsSize_t` do not on CPython, so
// those retry with `operator.index` on their (cold) error path.
int_via! {
    i64 => sys::HPyLong_AsInt64_t as i64, sys::HPyLong_FromInt64_t as i64, index: native;
    u64 => sys::HPyLong_AsUInt64_t as u64, sys::HPyLong_FromUInt64_t as u64, index: retry;
    isize => sys::HPyLong_AsSsize_t as isize, sys::HPyLong_FromSsize_t as isize, index: retry;
    usize => sys::HPyLong_AsSize_t as usize, sys::HPyLong_FromSize_t as usize, index: retry;
}

macro_rules! int_narrow {
    // A Rust integer narrower than 64 bits: converted from Python through `i64`,
    // then range-checked; converted to Python through the wider type.
    ($($t:ty => $via:ty $({ from: $($from_extra:tt)* } { into: $($into_extra:tt)* })?;)*) => {$(
        impl<'a, 'ctx> FromPy<'a, 'ctx> for $t {
            #[inline]
            fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
                let v = <i64 as FromPy>::from_py(obj).map_err(|e| rename_overflow(e, obj, stringify!($t)))?;
                <$t>::try_from(v).map_err(|_| overflow(stringify!($t), v < 0))
            }
            $($($from_extra)*)?
        }

        impl<'ctx> IntoPy<'ctx> for $t {
            #[inline(always)]
            fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
                <$via>::from(self).into_py(ctx)
            }
            $($($into_extra)*)?
        }
    )*};
}

/// An `i64` overflow while converting to the narrower `target`: say `target`.
#[cold]
fn rename_overflow(err: Error, obj: &Handle<'_>, target: &'static str) -> Error {
    if err.type_name() == Some("OverflowError") {
        overflow(target, is_negative(obj))
    } else {
        err
    }
}

// The 32-bit context functions are not used for extraction: PyPy 7.3.19's
// `HPyLong_AsInt32_t` truncates out-of-range values silently, and hpy 0.9.0's
// `HPyLong_AsUInt32_t` on CPython replaces the `TypeError` for a non-int with an
// `OverflowError`. Going through `i64` behaves the same everywhere.
int_narrow! {
    i8 => i64;
    i16 => i64;
    i32 => i64;
    u8 => i64 {
        from:
            const __FROM_BYTES: bool = true;

            #[inline(always)]
            fn __from_byte(byte: u8) -> Option<Self> {
                Some(byte)
            }
    } {
        into:
            #[inline(always)]
            fn __as_bytes(items: &[Self]) -> Option<&[u8]> {
                Some(items)
            }
    };
    u16 => i64;
    u32 => u64;
}

macro_rules! by_ref {
    // `&T` converts like `T`, for the `Copy` scalars (so that `&[T]` converts).
    ($($t:ty),*) => {$(
        impl<'ctx> IntoPy<'ctx> for &$t {
            #[inline(always)]
            fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
                (*self).into_py(ctx)
            }
        }
    )*};
}

by_ref!(
    bool, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128, f32, f64, char
);

// --- floats ------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for f64 {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyFloat_AsDouble(ctx.as_raw(), obj.as_raw()) };
        if v == -1.0 && ctx.err_occurred() {
            return Err(float_error(ctx, obj.as_raw()));
        }
        Ok(v)
    }
}

/// After `HPyFloat_AsDouble` failed: a wrong-type error for a non-float, or
/// the raised exception as it is. The handle's parts by value, as for
/// [`int_error`].
#[cold]
#[inline(never)]
fn float_error(ctx: &Context, obj: sys::HPy) -> Error {
    // SAFETY: `obj` is the open handle the failed conversion was given (the
    // caller still owns it); the view does not close it.
    let obj = &*core::mem::ManuallyDrop::new(unsafe { Handle::from_raw(ctx, obj) });
    // SAFETY: the context is live; the TypeError handle is a constant.
    let is_type_error =
        unsafe { sys::HPyErr_ExceptionMatches(ctx.as_raw(), sys::h_TypeError(ctx.as_raw())) != 0 };
    if is_type_error {
        ctx.err_clear();
        Error::wrong_type("float", obj)
    } else {
        Error::raised()
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for f32 {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        // Like CPython's `f` format: rounded to the nearest f32.
        f64::from_py(obj).map(|v| v as f32)
    }
}

impl<'ctx> IntoPy<'ctx> for f64 {
    #[inline(always)]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        // SAFETY: the context is live; the result is new or NULL with an exception.
        unsafe { Handle::from_raw_result(ctx, sys::HPyFloat_FromDouble(ctx.as_raw(), self)) }
    }

    #[inline(always)]
    fn __into_py_raw(self, ctx: &'ctx Context) -> sys::HPy {
        // SAFETY: the context is live; the result is new, or NULL with an
        // exception set, which is what the caller returns to the runtime.
        unsafe { sys::HPyFloat_FromDouble(ctx.as_raw(), self) }
    }
}

impl<'ctx> IntoPy<'ctx> for f32 {
    #[inline(always)]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        f64::from(self).into_py(ctx)
    }

    #[inline(always)]
    fn __into_py_raw(self, ctx: &'ctx Context) -> sys::HPy {
        f64::from(self).__into_py_raw(ctx)
    }
}

// --- str -------------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for &'a str {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx().as_raw();
        // SAFETY: the handle is open in the live context.
        if unsafe { sys::HPyUnicode_Check(ctx, obj.as_raw()) } == 0 {
            return Err(Error::wrong_type("str", obj));
        }
        let mut len: sys::HPy_ssize_t = 0;
        // SAFETY: `obj` is a str; the returned buffer lives as long as the handle,
        // which the `'a` borrow of `obj` outlives.
        let data = unsafe { sys::HPyUnicode_AsUTF8AndSize(ctx, obj.as_raw(), &mut len) };
        if data.is_null() {
            return Err(Error::raised()); // e.g. lone surrogates: UnicodeEncodeError
        }
        // SAFETY: the runtime returns `len` bytes at `data`, valid while the handle
        // is open (for `'a`).
        let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len as usize) };
        if obj.ctx().runtime() == crate::Runtime::CPython {
            // SAFETY: CPython's PyUnicode_AsUTF8AndSize encodes strictly (it
            // raises for lone surrogates, the only code points UTF-8 cannot
            // carry), so the bytes are valid UTF-8; not checking saves a pass
            // over long strings.
            return Ok(unsafe { core::str::from_utf8_unchecked(bytes) });
        }
        // Checked, not assumed: PyPy 7.3.19 returns lone surrogates encoded as if
        // they were characters (invalid UTF-8) where CPython raises.
        match core::str::from_utf8(bytes) {
            Ok(s) => Ok(s),
            Err(_) => Err(surrogates_error(obj)),
        }
    }
}

/// Raises the `UnicodeEncodeError` that CPython raises for a str with lone
/// surrogates, by encoding it the way Python code would (`s.encode("utf-8")`).
#[cold]
fn surrogates_error(obj: &Handle<'_>) -> Error {
    let ctx = obj.ctx();
    let raised = obj.get_attr("encode").and_then(|encode| {
        let arg = "utf-8".into_py(ctx)?;
        let args = [arg.as_raw()];
        // SAFETY: the context is live and `args` holds one open handle; the
        // tuple and the result are new handles (or NULL with an exception set).
        let args =
            unsafe { Handle::from_raw_result(ctx, sys::HPyTuple_Pack(ctx.as_raw(), &args)) }?;
        // SAFETY: `encode` and `args` are open; NULL kw is allowed.
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPy_CallTupleDict(
                    ctx.as_raw(),
                    encode.as_raw(),
                    args.as_raw(),
                    sys::HPy::NULL,
                ),
            )
        }
    });
    match raised {
        Err(e) => e,
        Ok(_) => crate::exc::UnicodeEncodeError::new_err(
            "'utf-8' codec can't encode the string: invalid UTF-8",
        ),
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for String {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let s = <&str>::from_py(obj)?;
        let mut owned = String::new();
        owned.try_reserve_exact(s.len())?;
        owned.push_str(s);
        Ok(owned)
    }
}

impl<'ctx> IntoPy<'ctx> for &str {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_str(ctx, self)
    }
}

impl<'ctx> IntoPy<'ctx> for String {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_str(ctx, &self)
    }
}

impl<'ctx> IntoPy<'ctx> for &String {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_str(ctx, self)
    }
}

impl<'ctx> IntoPy<'ctx> for &&str {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_str(ctx, self)
    }
}

// --- bytes -----------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for &'a [u8] {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        crate::builtins::bytes_view(obj)
    }
}

// --- Option --------------------------------------------------------------------

impl<'a, 'ctx, T: FromPy<'a, 'ctx>> FromPy<'a, 'ctx> for Option<T> {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        if obj.is_none() {
            Ok(None)
        } else {
            T::from_py(obj).map(Some)
        }
    }
}

impl<'ctx, T: IntoPy<'ctx>> IntoPy<'ctx> for Option<T> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        match self {
            Some(v) => v.into_py(ctx),
            None => Ok(ctx.none().dup()),
        }
    }
}

impl<'s, 'ctx, T> IntoPy<'ctx> for &'s Option<T>
where
    &'s T: IntoPy<'ctx>,
{
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        match self {
            Some(v) => v.into_py(ctx),
            None => Ok(ctx.none().dup()),
        }
    }
}
