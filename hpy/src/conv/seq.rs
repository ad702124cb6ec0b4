//! Sequences: `Vec<T>`, `VecDeque<T>`, `[T; N]`, `&[T]` (lists, and bytes for
//! `u8`), `&[u8]`/`Cow<[u8]>` (bytes) and tuples.

use std::borrow::Cow;
use std::collections::VecDeque;

use super::{FromPy, IntoPy};
use crate::err::{Error, Result};
use crate::{Context, Handle};
use hpy_sys as sys;

// --- building lists ------------------------------------------------------------------

/// An `HPyListBuilder` that is cancelled unless built (on every error path).
struct ListBuilder<'ctx> {
    ctx: &'ctx Context,
    raw: sys::HPyListBuilder,
    len: usize,
}

impl<'ctx> ListBuilder<'ctx> {
    #[inline]
    fn new(ctx: &'ctx Context, len: usize) -> Result<Self> {
        let Ok(n) = sys::HPy_ssize_t::try_from(len) else {
            return Err(Error::no_memory(ctx));
        };
        // SAFETY: the context is live; a NULL builder means an exception is set.
        let raw = unsafe { sys::HPyListBuilder_New(ctx.as_raw(), n) };
        if raw.is_null() {
            return Err(Error::raised());
        }
        Ok(ListBuilder { ctx, raw, len })
    }

    /// Sets item `i` (< `len`); does not steal `item`.
    #[inline]
    fn set(&mut self, i: usize, item: &Handle<'_>) {
        debug_assert!(i < self.len);
        // SAFETY: the builder is open (not built or cancelled: `build` consumes
        // `self`), `i` < its size, and `item` is an open handle.
        unsafe {
            sys::HPyListBuilder_Set(
                self.ctx.as_raw(),
                self.raw,
                i as sys::HPy_ssize_t,
                item.as_raw(),
            )
        }
    }

    #[inline]
    fn build(self) -> Result<Handle<'ctx>> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the builder is open and every item was set (the callers set
        // exactly `len` items); `Build` consumes it, and `ManuallyDrop` keeps
        // `Drop` from cancelling it again.
        unsafe {
            Handle::from_raw_result(
                this.ctx,
                sys::HPyListBuilder_Build(this.ctx.as_raw(), this.raw),
            )
        }
    }
}

impl Drop for ListBuilder<'_> {
    fn drop(&mut self) {
        // SAFETY: an unbuilt builder is open; it is cancelled exactly once, here.
        unsafe { sys::HPyListBuilder_Cancel(self.ctx.as_raw(), self.raw) }
    }
}

/// A new list of the converted `items` (exactly `items.len()` of them).
pub(crate) fn list_from_iter<'ctx, I>(ctx: &'ctx Context, items: I) -> Result<Handle<'ctx>>
where
    I: ExactSizeIterator,
    I::Item: IntoPy<'ctx>,
{
    let len = items.len();
    let mut builder = ListBuilder::new(ctx, len)?;
    let mut n = 0;
    for item in items.take(len) {
        let item = item.into_py(ctx)?;
        builder.set(n, &item);
        n += 1;
    }
    if n != len {
        // Only an iterator that lies about its length gets here: never leave a
        // hole in the list.
        return Err(crate::exc::SystemError::new_err(
            "iterator returned fewer items than its length",
        ));
    }
    builder.build()
}

/// `bytes(data)`.
#[inline]
pub(crate) fn new_bytes<'ctx>(ctx: &'ctx Context, data: &[u8]) -> Result<Handle<'ctx>> {
    // SAFETY: the context is live and `data` is `len` readable bytes (a slice
    // never exceeds `isize::MAX` bytes).
    unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPyBytes_FromStringAndSize(
                ctx.as_raw(),
                data.as_ptr().cast(),
                data.len() as sys::HPy_ssize_t,
            ),
        )
    }
}

// --- reading sequences -------------------------------------------------------------------

/// The length of `obj` if it is a list or a tuple (or a subclass), else `None`.
#[inline]
fn list_or_tuple_len(obj: &Handle<'_>) -> Result<Option<usize>> {
    let raw = obj.ctx().as_raw();
    // SAFETY: the context is live and `obj` open in it.
    let is_seq = unsafe {
        sys::HPyList_Check(raw, obj.as_raw()) != 0 || sys::HPyTuple_Check(raw, obj.as_raw()) != 0
    };
    if !is_seq {
        return Ok(None);
    }
    // SAFETY: as above; -1 means an exception is set.
    let n = unsafe { sys::HPy_Length(raw, obj.as_raw()) };
    if n < 0 {
        return Err(Error::raised());
    }
    Ok(Some(n as usize))
}

/// Item `i` of the sequence `obj`, converted; a failure says `item i`.
#[inline]
fn extract_item<'ctx, T>(obj: &Handle<'ctx>, i: usize) -> Result<T>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    let ctx = obj.ctx();
    // SAFETY: the context is live and `obj` open; the result is a new handle or
    // NULL with an exception set (e.g. `IndexError` if the list shrank).
    let item = unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPy_GetItem_i(ctx.as_raw(), obj.as_raw(), i as sys::HPy_ssize_t),
        )
    }?;
    T::from_py(&item).map_err(|e| e.with_context(format_args!("item {i}")))
}

/// The bytes of `obj` if `T` is `u8` and `obj` a `bytes` object.
#[inline]
fn bytes_for<'a, 'ctx, T>(obj: &'a Handle<'ctx>) -> Option<&'a [u8]>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    if !<T as FromPy<'_, 'ctx>>::__FROM_BYTES {
        return None;
    }
    <&[u8]>::from_py(obj).ok()
}

/// What a sequence of `T` takes, for the wrong-type error.
#[inline]
fn expected_sequence<'ctx, T: for<'b> FromPy<'b, 'ctx>>() -> &'static str {
    if <T as FromPy<'_, 'ctx>>::__FROM_BYTES {
        "bytes, list or tuple"
    } else {
        "list or tuple"
    }
}

/// Converts a list or tuple item by item, into `out` (which gets `len` more).
fn extend_from_sequence<'ctx, T, C>(
    obj: &Handle<'ctx>,
    make: impl FnOnce(usize) -> C,
    mut push: impl FnMut(&mut C, T),
) -> Result<C>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    if let Some(bytes) = bytes_for::<T>(obj) {
        let mut out = make(bytes.len());
        for &b in bytes {
            if let Some(v) = T::__from_byte(b) {
                push(&mut out, v);
            }
        }
        return Ok(out);
    }
    let Some(n) = list_or_tuple_len(obj)? else {
        return Err(Error::wrong_type(expected_sequence::<T>(), obj));
    };
    let mut out = make(n);
    for i in 0..n {
        push(&mut out, extract_item(obj, i)?);
    }
    Ok(out)
}

// --- Vec, VecDeque -------------------------------------------------------------------

impl<'a, 'ctx, T> FromPy<'a, 'ctx> for Vec<T>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        extend_from_sequence(obj, Vec::with_capacity, Vec::push)
    }
}

impl<'a, 'ctx, T> FromPy<'a, 'ctx> for VecDeque<T>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        extend_from_sequence(obj, VecDeque::with_capacity, VecDeque::push_back)
    }
}

impl<'ctx, T: IntoPy<'ctx>> IntoPy<'ctx> for Vec<T> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        if let Some(bytes) = T::__as_bytes(&self) {
            return new_bytes(ctx, bytes);
        }
        list_from_iter(ctx, self.into_iter())
    }
}

impl<'s, 'ctx, T> IntoPy<'ctx> for &'s Vec<T>
where
    T: IntoPy<'ctx>,
    &'s T: IntoPy<'ctx>,
{
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        self.as_slice().into_py(ctx)
    }
}

impl<'ctx, T: IntoPy<'ctx>> IntoPy<'ctx> for VecDeque<T> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        list_from_iter(ctx, self.into_iter())
    }
}

// --- slices ---------------------------------------------------------------------------

impl<'s, 'ctx, T> IntoPy<'ctx> for &'s [T]
where
    T: IntoPy<'ctx>,
    &'s T: IntoPy<'ctx>,
{
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        if let Some(bytes) = T::__as_bytes(self) {
            return new_bytes(ctx, bytes);
        }
        list_from_iter(ctx, self.iter())
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for Cow<'a, [u8]> {
    #[inline]
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        <&[u8]>::from_py(obj).map(Cow::Borrowed)
    }
}

impl<'ctx> IntoPy<'ctx> for Cow<'_, [u8]> {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        new_bytes(ctx, &self)
    }
}

// --- arrays ---------------------------------------------------------------------------

impl<'a, 'ctx, T, const N: usize> FromPy<'a, 'ctx> for [T; N]
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        if let Some(bytes) = bytes_for::<T>(obj) {
            if bytes.len() != N {
                return Err(wrong_length(N, bytes.len()));
            }
            return collect_array(|i| T::__from_byte(bytes[i]).ok_or_else(Error::raised));
        }
        let Some(n) = list_or_tuple_len(obj)? else {
            return Err(Error::wrong_type(expected_sequence::<T>(), obj));
        };
        if n != N {
            return Err(wrong_length(N, n));
        }
        collect_array(|i| extract_item(obj, i))
    }
}

/// `[f(0), ..., f(N - 1)]`, stopping at the first error (no further calls).
fn collect_array<T, const N: usize>(mut f: impl FnMut(usize) -> Result<T>) -> Result<[T; N]> {
    let mut err = None;
    let items: [Option<T>; N] = core::array::from_fn(|i| {
        if err.is_some() {
            return None;
        }
        match f(i) {
            Ok(v) => Some(v),
            Err(e) => {
                err = Some(e);
                None
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    // Every item is `Some`: `f` succeeded for all of them.
    Ok(items.map(|v| v.expect("every item was converted")))
}

#[cold]
fn wrong_length(expected: usize, got: usize) -> Error {
    crate::exc::ValueError::new_err(format!(
        "expected a sequence of length {expected}, got length {got}"
    ))
}

impl<'ctx, T: IntoPy<'ctx>, const N: usize> IntoPy<'ctx> for [T; N] {
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        if let Some(bytes) = T::__as_bytes(&self) {
            return new_bytes(ctx, bytes);
        }
        list_from_iter(ctx, self.into_iter())
    }
}

impl<'s, 'ctx, T, const N: usize> IntoPy<'ctx> for &'s [T; N]
where
    T: IntoPy<'ctx>,
    &'s T: IntoPy<'ctx>,
{
    #[inline]
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        self.as_slice().into_py(ctx)
    }
}

// --- tuples ---------------------------------------------------------------------------

#[cold]
fn wrong_tuple_length(expected: usize, got: usize) -> Error {
    crate::exc::ValueError::new_err(format!(
        "expected a tuple of length {expected}, got length {got}"
    ))
}

macro_rules! tuples {
    ($($n:literal => ($($t:ident $i:tt),+);)*) => {$(
        impl<'a, 'ctx, $($t),+> FromPy<'a, 'ctx> for ($($t,)+)
        where
            $($t: for<'b> FromPy<'b, 'ctx>,)+
        {
            fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
                let raw = obj.ctx().as_raw();
                // SAFETY: the context is live and `obj` open in it.
                if unsafe { sys::HPyTuple_Check(raw, obj.as_raw()) } == 0 {
                    return Err(Error::wrong_type("tuple", obj));
                }
                // SAFETY: `obj` is a tuple.
                let n = unsafe { sys::HPy_Length(raw, obj.as_raw()) };
                if n != $n {
                    return Err(wrong_tuple_length($n, n.max(0) as usize));
                }
                Ok(($(extract_item::<$t>(obj, $i)?,)+))
            }
        }

        impl<'ctx, $($t: IntoPy<'ctx>),+> IntoPy<'ctx> for ($($t,)+) {
            fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
                let items = ($(self.$i.into_py(ctx)?,)+);
                let mut raw = [$(items.$i.as_raw()),+];
                // SAFETY: the context is live and `raw` holds $n open handles, which
                // `items` keeps open across the call (`HPyTuple_FromArray` does not
                // steal them, and only reads the array).
                unsafe {
                    Handle::from_raw_result(
                        ctx,
                        sys::HPyTuple_FromArray(ctx.as_raw(), raw.as_mut_ptr(), $n),
                    )
                }
            }
        }
    )*};
}

tuples! {
    1 => (T0 0);
    2 => (T0 0, T1 1);
    3 => (T0 0, T1 1, T2 2);
    4 => (T0 0, T1 1, T2 2, T3 3);
    5 => (T0 0, T1 1, T2 2, T3 3, T4 4);
    6 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5);
    7 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6);
    8 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7);
    9 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7, T8 8);
    10 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7, T8 8, T9 9);
    11 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7, T8 8, T9 9, T10 10);
    12 => (T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7, T8 8, T9 9, T10 10, T11 11);
}
