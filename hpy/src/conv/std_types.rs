//! Other std types: `char`, `Cow<str>`, `i128`/`u128`, `PathBuf`/`OsString`.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::{FromPy, IntoPy, via_index};
use crate::err::{Error, Result};
use crate::util::{new_str, overflow};
use crate::{Context, Handle};
use hpy_sys as sys;

// --- char -----------------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for char {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let s = <&str>::from_py(obj)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(not_a_char(s.chars().count())),
        }
    }
}

/// CPython's words for `ord("ab")`, without the function name.
#[cold]
fn not_a_char(len: usize) -> Error {
    crate::exc::TypeError::new_err(format!(
        "expected a character, but string of length {len} found"
    ))
}

impl<'ctx> IntoPy<'ctx> for char {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        let mut buf = [0u8; 4];
        new_str(ctx, self.encode_utf8(&mut buf))
    }
}

// --- Cow<str> ---------------------------------------------------------------------------

impl<'a, 'ctx> FromPy<'a, 'ctx> for Cow<'a, str> {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        <&str>::from_py(obj).map(Cow::Borrowed)
    }
}

impl<'ctx> IntoPy<'ctx> for Cow<'_, str> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_str(ctx, &self)
    }
}

impl<'ctx> IntoPy<'ctx> for &Cow<'_, str> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_str(ctx, self)
    }
}

// --- i128, u128 ----------------------------------------------------------------------------
//
// HPy has no 128-bit functions: a value that fits 64 bits takes the 64-bit fast
// path; a larger one is split into two 64-bit halves, joined (or taken apart)
// with the number protocol: `hi << 64 | lo`, `x >> 64` and `x & (2**64 - 1)`
// (`HPyLong_AsUInt64_tMask`).

/// The Python int `hi * 2**64 + lo`.
#[cold]
fn join_halves<'ctx>(ctx: &'ctx Context, hi: Handle<'ctx>, lo: u64) -> Result<Handle<'ctx>> {
    let shift = 64u64.into_py(ctx)?;
    let lo = lo.into_py(ctx)?;
    let raw = ctx.as_raw();
    // SAFETY: the context is live and the handles open; the results are new
    // handles or NULL with an exception set.
    let hi =
        unsafe { Handle::from_raw_result(ctx, sys::HPy_Lshift(raw, hi.as_raw(), shift.as_raw())) }?;
    // SAFETY: as above.
    unsafe { Handle::from_raw_result(ctx, sys::HPy_Or(raw, hi.as_raw(), lo.as_raw())) }
}

impl<'ctx> IntoPy<'ctx> for i128 {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        match i64::try_from(self) {
            Ok(v) => v.into_py(ctx),
            Err(_) => join_halves(ctx, ((self >> 64) as i64).into_py(ctx)?, self as u64),
        }
    }
}

impl<'ctx> IntoPy<'ctx> for u128 {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        match u64::try_from(self) {
            Ok(v) => v.into_py(ctx),
            Err(_) => join_halves(ctx, ((self >> 64) as u64).into_py(ctx)?, self as u64),
        }
    }
}

/// The halves of an int that did not fit 64 bits: `(x >> 64, x & (2**64 - 1))`
/// of `x = operator.index(obj)`, and whether `x` is negative.
#[cold]
fn split_halves<'ctx>(obj: &Handle<'ctx>) -> Result<(Handle<'ctx>, u64, bool)> {
    let ctx = obj.ctx();
    let raw = ctx.as_raw();
    // SAFETY: the context is live and `obj` open; the result is new or NULL with
    // an exception set.
    let x = unsafe { Handle::from_raw_result(ctx, sys::HPy_Index(raw, obj.as_raw())) }?;
    // SAFETY: `x` is an int; `(u64)-1` with an exception set on error.
    let lo = unsafe { sys::HPyLong_AsUInt64_tMask(raw, x.as_raw()) };
    if lo == u64::MAX && ctx.err_occurred() {
        return Err(Error::raised());
    }
    let shift = 64u64.into_py(ctx)?;
    // SAFETY: the context is live and both handles open; new handle or NULL with
    // an exception set.
    let hi =
        unsafe { Handle::from_raw_result(ctx, sys::HPy_Rshift(raw, x.as_raw(), shift.as_raw())) }?;
    let zero = 0u64.into_py(ctx)?;
    // SAFETY: both handles are open; -1 means an exception is set.
    let negative =
        unsafe { sys::HPy_RichCompareBool(raw, x.as_raw(), zero.as_raw(), sys::HPy_LT.0) };
    if negative < 0 {
        return Err(Error::raised());
    }
    Ok((hi, lo, negative != 0))
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for i128 {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsInt64_t(ctx.as_raw(), obj.as_raw()) };
        if v == -1 && ctx.err_occurred() {
            return i128_slow(obj);
        }
        Ok(i128::from(v))
    }
}

#[cold]
#[inline(never)]
fn i128_slow(obj: &Handle<'_>) -> Result<i128> {
    let ctx = obj.ctx();
    // SAFETY: the context is live; the type is a constant.
    if unsafe { sys::HPyErr_ExceptionMatches(ctx.as_raw(), sys::h_OverflowError(ctx.as_raw())) }
        == 0
    {
        return via_index(ctx, obj.as_raw(), "i128", |index| i128::from_py(index));
    }
    ctx.err_clear();
    let (hi, lo, negative) = split_halves(obj)?;
    let hi: i64 = match hi.extract() {
        Ok(hi) => hi,
        Err(e) if e.type_name() == Some("OverflowError") => return Err(overflow("i128", negative)),
        Err(e) => return Err(e),
    };
    Ok((i128::from(hi) << 64) | i128::from(lo))
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for u128 {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsUInt64_t(ctx.as_raw(), obj.as_raw()) };
        if v == u64::MAX && ctx.err_occurred() {
            return u128_slow(obj);
        }
        Ok(u128::from(v))
    }
}

#[cold]
#[inline(never)]
fn u128_slow(obj: &Handle<'_>) -> Result<u128> {
    let ctx = obj.ctx();
    // SAFETY: the context is live; the type is a constant.
    if unsafe { sys::HPyErr_ExceptionMatches(ctx.as_raw(), sys::h_OverflowError(ctx.as_raw())) }
        == 0
    {
        return via_index(ctx, obj.as_raw(), "u128", |index| u128::from_py(index));
    }
    ctx.err_clear();
    let (hi, lo, negative) = split_halves(obj)?;
    if negative {
        return Err(overflow("u128", true));
    }
    let hi: u64 = match hi.extract() {
        Ok(hi) => hi,
        Err(e) if e.type_name() == Some("OverflowError") => return Err(overflow("u128", false)),
        Err(e) => return Err(e),
    };
    Ok((u128::from(hi) << 64) | u128::from(lo))
}

// --- paths ----------------------------------------------------------------------------------

const PATH_EXPECTED: &str = if cfg!(unix) {
    "str, bytes or os.PathLike object"
} else {
    "str or os.PathLike object"
};

/// The OS string of a `str` (encoded like `os.fsencode`) or, on Unix, `bytes`;
/// `None` for other types.
fn os_string_of(obj: &Handle<'_>) -> Result<Option<OsString>> {
    let ctx = obj.ctx();
    let raw = ctx.as_raw();
    // SAFETY: the context is live and `obj` open in it.
    let (is_str, is_bytes) = unsafe {
        (
            sys::HPyUnicode_Check(raw, obj.as_raw()) != 0,
            sys::HPyBytes_Check(raw, obj.as_raw()) != 0,
        )
    };
    if is_str {
        return str_to_os_string(obj).map(Some);
    }
    if is_bytes && cfg!(unix) {
        let data: &[u8] = obj.extract()?;
        if data.contains(&0) {
            return Err(crate::exc::ValueError::new_err("embedded null byte"));
        }
        return os_string_from_bytes(data).map(Some);
    }
    Ok(None)
}

#[cfg(unix)]
fn os_string_from_bytes(data: &[u8]) -> Result<OsString> {
    let mut v = Vec::new();
    crate::util::try_reserve(&mut v, data.len())?;
    v.extend_from_slice(data);
    Ok(<OsString as std::os::unix::ffi::OsStringExt>::from_vec(v))
}

#[cfg(not(unix))]
fn os_string_from_bytes(data: &[u8]) -> Result<OsString> {
    // Not reached: bytes paths are Unix only.
    Ok(OsString::from(String::from_utf8_lossy(data).into_owned()))
}

/// A `str` encoded with the file system encoding and error handler (so lone
/// surrogates from undecodable file names become their bytes again).
#[cfg(unix)]
fn str_to_os_string(obj: &Handle<'_>) -> Result<OsString> {
    let ctx = obj.ctx();
    // SAFETY: the context is live and `obj` a str; the result is new bytes or
    // NULL with an exception set (e.g. a character the encoding cannot encode).
    let bytes = unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPyUnicode_EncodeFSDefault(ctx.as_raw(), obj.as_raw()),
        )
    }?;
    let data: &[u8] = bytes.extract()?;
    if data.contains(&0) {
        return Err(crate::exc::ValueError::new_err("embedded null character"));
    }
    os_string_from_bytes(data)
}

#[cfg(not(unix))]
fn str_to_os_string(obj: &Handle<'_>) -> Result<OsString> {
    let s: &str = obj.extract()?;
    if s.contains('\0') {
        return Err(crate::exc::ValueError::new_err("embedded null character"));
    }
    Ok(OsString::from(s))
}

/// `os.fspath(obj)`, as an OS string.
fn fspath(obj: &Handle<'_>) -> Result<OsString> {
    if let Some(s) = os_string_of(obj)? {
        return Ok(s);
    }
    let ctx = obj.ctx();
    // `os.fspath` looks the method up on the type.
    let method = match obj.get_type().get_attr("__fspath__") {
        Ok(m) => m,
        Err(e) => {
            if e.is_raised() && ctx.err_matches(&crate::exc::AttributeError::type_object(ctx)) {
                ctx.err_clear();
                return Err(Error::wrong_type(PATH_EXPECTED, obj));
            }
            return Err(e);
        }
    };
    let mut items = [obj.as_raw()];
    // SAFETY: the context is live and `items` holds one open handle (read only).
    let args = unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPyTuple_FromArray(ctx.as_raw(), items.as_mut_ptr(), 1),
        )
    }?;
    // SAFETY: both handles are open; NULL kw is allowed.
    let path = unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPy_CallTupleDict(ctx.as_raw(), method.as_raw(), args.as_raw(), sys::HPy::NULL),
        )
    }?;
    match os_string_of(&path)? {
        Some(s) => Ok(s),
        None => Err(bad_fspath(obj, &path)),
    }
}

#[cold]
fn bad_fspath(obj: &Handle<'_>, path: &Handle<'_>) -> Error {
    let what = if cfg!(unix) { "str or bytes" } else { "str" };
    crate::exc::TypeError::new_err(format!(
        "expected {}.__fspath__() to return {what}, not {}",
        obj.type_name(),
        path.type_name()
    ))
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for OsString {
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        fspath(obj)
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for PathBuf {
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        fspath(obj).map(PathBuf::from)
    }
}

/// `os.fsdecode(s)`: a str, with undecodable bytes as lone surrogates (Unix).
fn new_os_str<'ctx>(ctx: &'ctx Context, s: &OsStr) -> Result<Handle<'ctx>> {
    #[cfg(unix)]
    {
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(s);
        // SAFETY: the context is live and `bytes` is `len` readable bytes; the
        // result is a new str or NULL with an exception set.
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPyUnicode_DecodeFSDefaultAndSize(
                    ctx.as_raw(),
                    bytes.as_ptr().cast(),
                    bytes.len() as sys::HPy_ssize_t,
                ),
            )
        }
    }
    #[cfg(not(unix))]
    {
        new_str(ctx, &s.to_string_lossy())
    }
}

impl<'ctx> IntoPy<'ctx> for &OsStr {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_os_str(ctx, self)
    }
}

impl<'ctx> IntoPy<'ctx> for OsString {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_os_str(ctx, &self)
    }
}

impl<'ctx> IntoPy<'ctx> for &OsString {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_os_str(ctx, self)
    }
}

impl<'ctx> IntoPy<'ctx> for &Path {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_os_str(ctx, self.as_os_str())
    }
}

impl<'ctx> IntoPy<'ctx> for PathBuf {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_os_str(ctx, self.as_os_str())
    }
}

impl<'ctx> IntoPy<'ctx> for &PathBuf {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_os_str(ctx, self.as_os_str())
    }
}
