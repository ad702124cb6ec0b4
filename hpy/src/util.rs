//! Small helpers shared by the safe layer.

use core::ffi::c_char;

use crate::err::{Error, Result, exc::ValueError};
use crate::{Context, Handle};
use hpy_sys as sys;

/// Strings up to this length are made NUL-terminated on the stack.
const STACK_STR: usize = 128;

/// Calls `f` with `s` as a NUL-terminated C string, without allocating for
/// short strings. An embedded NUL raises `ValueError: embedded null character`,
/// as CPython does.
#[inline]
pub(crate) fn with_c_str<R>(s: &str, f: impl FnOnce(*const c_char) -> R) -> Result<R> {
    let bytes = s.as_bytes();
    if bytes.contains(&0) {
        return Err(ValueError::new_err("embedded null character"));
    }
    if bytes.len() < STACK_STR {
        let mut buf = [0u8; STACK_STR];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(f(buf.as_ptr().cast()))
    } else {
        let mut v = Vec::with_capacity(bytes.len() + 1);
        v.extend_from_slice(bytes);
        v.push(0);
        Ok(f(v.as_ptr().cast()))
    }
}

/// A new Python `str` holding `s` (which may contain NUL characters).
pub(crate) fn new_str<'ctx>(ctx: &'ctx Context, s: &str) -> Result<Handle<'ctx>> {
    let raw = ctx.as_raw();
    if !s.as_bytes().contains(&0) {
        return with_c_str(s, |p| {
            // SAFETY: the context is live and `p` is a NUL-terminated UTF-8 string.
            unsafe { Handle::from_raw_result(ctx, sys::HPyUnicode_FromString(raw, p)) }
        })?;
    }
    // `HPyUnicode_FromString` would stop at the NUL: go through wide characters.
    new_str_wide(ctx, s)
}

#[cold]
fn new_str_wide<'ctx>(ctx: &'ctx Context, s: &str) -> Result<Handle<'ctx>> {
    #[cfg(not(windows))]
    let wide: Vec<sys::wchar_t> = s.chars().map(|c| c as sys::wchar_t).collect();
    #[cfg(windows)]
    let wide: Vec<sys::wchar_t> = s.encode_utf16().collect();
    // SAFETY: the context is live and `wide` holds `wide.len()` characters.
    unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPyUnicode_FromWideChar(
                ctx.as_raw(),
                wide.as_ptr(),
                wide.len() as sys::HPy_ssize_t,
            ),
        )
    }
}

/// The error for "that is not a raised exception we can blame on the type".
#[cold]
pub(crate) fn overflow(target: &'static str, negative: bool) -> Error {
    use crate::exc::OverflowError;
    if negative && target.starts_with('u') {
        OverflowError::new_err("can't convert negative int to unsigned")
    } else if negative {
        OverflowError::new_err(format!("Python int too small to convert to {target}"))
    } else {
        OverflowError::new_err(format!("Python int too large to convert to {target}"))
    }
}
