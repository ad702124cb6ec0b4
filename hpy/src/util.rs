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
    with_nul_appended(bytes, f)
}

/// Calls `f` with `bytes` (which hold no NUL) and a NUL after them, without
/// allocating for short ones.
#[inline]
fn with_nul_appended<R>(bytes: &[u8], f: impl FnOnce(*const c_char) -> R) -> Result<R> {
    if bytes.len() < STACK_STR {
        let mut buf = [0u8; STACK_STR];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(f(buf.as_ptr().cast()))
    } else {
        let mut v = Vec::new();
        try_reserve(&mut v, bytes.len() + 1)?;
        v.extend_from_slice(bytes);
        v.push(0);
        Ok(f(v.as_ptr().cast()))
    }
}

/// A new Python `str` holding `s` (which may contain NUL characters).
#[cfg(not(hpy_abi = "cpython"))]
pub(crate) fn new_str<'ctx>(ctx: &'ctx Context, s: &str) -> Result<Handle<'ctx>> {
    let raw = ctx.as_raw();
    if !s.as_bytes().contains(&0) {
        return with_nul_appended(s.as_bytes(), |p| {
            // SAFETY: the context is live and `p` is a NUL-terminated UTF-8 string.
            unsafe { Handle::from_raw_result(ctx, sys::HPyUnicode_FromString(raw, p)) }
        })?;
    }
    // `HPyUnicode_FromString` would stop at the NUL: go through wide characters.
    new_str_wide(ctx, s)
}

/// A new Python `str` holding `s`: in a CPython-ABI build, made at its final
/// size and kind straight from the text (`fast::unicode_from_str`).
#[cfg(hpy_abi = "cpython")]
pub(crate) fn new_str<'ctx>(ctx: &'ctx Context, s: &str) -> Result<Handle<'ctx>> {
    // SAFETY: `s` is `s.len()` readable bytes of UTF-8; the context is live.
    unsafe { Handle::from_raw_result(ctx, sys::cpython::fast::unicode_from_str(s)) }
}

#[cfg(not(hpy_abi = "cpython"))]
#[cold]
fn new_str_wide<'ctx>(ctx: &'ctx Context, s: &str) -> Result<Handle<'ctx>> {
    let mut wide: Vec<sys::wchar_t> = Vec::new();
    // At most one wide character per byte.
    try_reserve(&mut wide, s.len())?;
    #[cfg(not(windows))]
    wide.extend(s.chars().map(|c| c as sys::wchar_t));
    #[cfg(windows)]
    wide.extend(s.encode_utf16());
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

/// `callable(arg)`, through `HPy_CallTupleDict`.
pub(crate) fn call1<'ctx>(callable: &Handle<'ctx>, arg: &Handle<'_>) -> Result<Handle<'ctx>> {
    let ctx = callable.ctx();
    let raw = ctx.as_raw();
    let mut items = [arg.as_raw()];
    // SAFETY: the context is live and `items` holds one open handle (read only).
    let args = unsafe {
        Handle::from_raw_result(ctx, sys::HPyTuple_FromArray(raw, items.as_mut_ptr(), 1))
    }?;
    // SAFETY: `callable` and `args` are open; NULL kw is allowed; the result is new
    // or NULL with an exception set.
    unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPy_CallTupleDict(raw, callable.as_raw(), args.as_raw(), sys::HPy::NULL),
        )
    }
}

/// `Vec::try_reserve_exact`, with `MemoryError` for a refusal: for sizes that
/// come from Python objects or from users, which must never abort the process.
#[inline]
pub(crate) fn try_reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<()> {
    Ok(v.try_reserve_exact(additional)?)
}

/// `list(itertools.chain(obj))`: the items of any iterable, as a new list,
/// without asking `obj` for a length hint.
///
/// `list(obj)` sizes the new list from `len(obj)` (or `__length_hint__`),
/// which a hostile object chooses: CPython raises `MemoryError` for a lie
/// like `10**12`, and PyPy 7.3.19 segfaults or hangs when it meets such lies
/// a few hundred times (reproducer, in pure Python on PyPy:
/// `class S: __len__ = lambda s: 10**12; __getitem__ = ...` and `list(S())`
/// in a loop). An `itertools.chain` has no length, so the list grows as it
/// is filled, and the result is the object's items on every runtime.
pub(crate) fn list_of_items<'ctx>(obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    let ctx = obj.ctx();
    let chain = ctx.import_module("itertools")?.get_attr("chain")?;
    let items = call1(&chain, obj)?;
    call1(&ctx.list_type(), &items)
}
