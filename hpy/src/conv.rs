//! Conversions between Rust values and Python objects: [`FromPy`] and [`IntoPy`].
//!
//! | Rust | Python (to Rust) | Python (from Rust) |
//! |---|---|---|
//! | `()` | | `None` |
//! | `bool` | `bool` only | `bool` |
//! | `i8` ... `i64`, `isize`, `u8` ... `u64`, `usize` | `int` (or `__index__`); `OverflowError` out of range | `int` |
//! | `f32`, `f64` | `float` (or `int`, `__float__`) | `float` |
//! | `&str` (borrowed from the handle), `String` | `str` | `str` |
//! | `&[u8]` (borrowed from the handle), `Vec<u8>` | `bytes` | `bytes` |
//! | `Option<T>` | `None` or `T` | `None` or `T` |
//! | `&Handle`, `Handle` | any object | any object (a `&Handle` is dup'd) |

use crate::err::{Error, Result};
use crate::util::{new_str, overflow};
use crate::{Borrowed, Context, Handle};
use hpy_sys as sys;

/// Conversion from a Python object to a Rust value.
///
/// `'a` is the borrow of the handle, so `&'a str` and `&'a [u8]` can point into
/// the object itself (HPy's debug mode revokes that memory when the handle is
/// closed; the borrow checker makes sure that never happens while in use).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted from a Python object",
    label = "no `hpy::FromPy` conversion for this type",
    note = "implement `hpy::FromPy` for it, or take `&hpy::Handle<'_>` and convert inside the function"
)]
pub trait FromPy<'a, 'ctx>: Sized {
    /// Converts `obj`, or fails with a Python exception (see [`Error::wrong_type`]).
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self>;
}

/// Conversion from a Rust value to a new Python object.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted to a Python object",
    label = "no `hpy::IntoPy` conversion for this type",
    note = "return a type that implements `hpy::IntoPy` (or `hpy::Result` of one), or build a `hpy::Handle` yourself"
)]
pub trait IntoPy<'ctx> {
    /// Makes a new Python object from `self`.
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>>;
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

/// After a context function returned its error value: the raised exception, or
/// a wrong-type error when it was a `TypeError` for a non-int.
#[cold]
fn int_error(obj: &Handle<'_>) -> Error {
    let ctx = obj.ctx();
    // SAFETY: the context is live; the TypeError handle is a constant.
    let is_type_error =
        unsafe { sys::HPyErr_ExceptionMatches(ctx.as_raw(), sys::h_TypeError(ctx.as_raw())) != 0 };
    if is_type_error {
        ctx.err_clear();
        Error::wrong_type("int", obj)
    } else {
        Error::raised()
    }
}

macro_rules! int_via {
    // A Rust integer that one context function converts exactly.
    ($($t:ty => $as:ident as $wide:ty, $from:ident as $from_t:ty;)*) => {$(
        impl<'a, 'ctx> FromPy<'a, 'ctx> for $t {
            #[inline]
            fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
                let ctx = obj.ctx();
                // SAFETY: the handle is open in the live context.
                let v: $wide = unsafe { sys::$as(ctx.as_raw(), obj.as_raw()) };
                if v == (-1i8) as $wide && ctx.err_occurred() {
                    return Err(int_error(obj));
                }
                Ok(v as $t)
            }
        }

        impl<'ctx> IntoPy<'ctx> for $t {
            #[inline(always)]
            fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
                // SAFETY: the context is live; the result is new or NULL with an exception.
                unsafe { Handle::from_raw_result(ctx, sys::$from(ctx.as_raw(), self as $from_t)) }
            }
        }
    )*};
}

int_via! {
    i64 => HPyLong_AsInt64_t as i64, HPyLong_FromInt64_t as i64;
    u64 => HPyLong_AsUInt64_t as u64, HPyLong_FromUInt64_t as u64;
    isize => HPyLong_AsSsize_t as isize, HPyLong_FromSsize_t as isize;
    usize => HPyLong_AsSize_t as usize, HPyLong_FromSize_t as usize;
}

macro_rules! int_narrow {
    // A Rust integer narrower than 64 bits: converted from Python through `i64`,
    // then range-checked; converted to Python through the wider type.
    ($($t:ty => $via:ty;)*) => {$(
        impl<'a, 'ctx> FromPy<'a, 'ctx> for $t {
            #[inline]
            fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
                let v = <i64 as FromPy>::from_py(obj)?;
                <$t>::try_from(v).map_err(|_| overflow(stringify!($t), v < 0))
            }
        }

        impl<'ctx> IntoPy<'ctx> for $t {
            #[inline(always)]
            fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
                <$via>::from(self).into_py(ctx)
            }
        }
    )*};
}

// The 32-bit context functions are not used for extraction: PyPy 7.3.19's
// `HPyLong_AsInt32_t` truncates out-of-range values silently, and hpy 0.9.0's
// `HPyLong_AsUInt32_t` on CPython replaces the `TypeError` for a non-int with an
// `OverflowError`. Going through `i64` behaves the same everywhere.
int_narrow! {
    i8 => i64;
    i16 => i64;
    i32 => i64;
    u8 => i64;
    u16 => i64;
    u32 => u64;
}

// --- floats ------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for f64 {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyFloat_AsDouble(ctx.as_raw(), obj.as_raw()) };
        if v == -1.0 && ctx.err_occurred() {
            return Err(float_error(obj));
        }
        Ok(v)
    }
}

#[cold]
fn float_error(obj: &Handle<'_>) -> Error {
    let ctx = obj.ctx();
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
}

impl<'ctx> IntoPy<'ctx> for f32 {
    #[inline(always)]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        f64::from(self).into_py(ctx)
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
        <&str>::from_py(obj).map(str::to_owned)
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

// --- bytes -----------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for &'a [u8] {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx().as_raw();
        // SAFETY: the handle is open in the live context.
        if unsafe { sys::HPyBytes_Check(ctx, obj.as_raw()) } == 0 {
            return Err(Error::wrong_type("bytes", obj));
        }
        // SAFETY: `obj` is a bytes object; its buffer has `GET_SIZE` bytes and
        // lives as long as the handle, which the `'a` borrow of `obj` outlives.
        unsafe {
            let len = sys::HPyBytes_GET_SIZE(ctx, obj.as_raw());
            let data = sys::HPyBytes_AS_STRING(ctx, obj.as_raw());
            Ok(core::slice::from_raw_parts(data.cast::<u8>(), len as usize))
        }
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for Vec<u8> {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        <&[u8]>::from_py(obj).map(<[u8]>::to_vec)
    }
}

impl<'ctx> IntoPy<'ctx> for &[u8] {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        // SAFETY: the context is live and `self` is `len` readable bytes (a slice
        // never exceeds `isize::MAX` bytes).
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPyBytes_FromStringAndSize(
                    ctx.as_raw(),
                    self.as_ptr().cast(),
                    self.len() as sys::HPy_ssize_t,
                ),
            )
        }
    }
}

impl<'ctx> IntoPy<'ctx> for Vec<u8> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        self.as_slice().into_py(ctx)
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
