//! Sequences: `Vec<T>`, `VecDeque<T>`, `[T; N]`, `&[T]` (lists, and bytes for
//! `u8`), `&[u8]`/`Cow<[u8]>` (bytes) and tuples.

use std::borrow::Cow;
use std::collections::VecDeque;

use super::{FromPy, IntoPy};
use crate::builder::ListWriter;
use crate::builtins::exact_type;
use crate::err::{Error, Result};
use crate::util::try_reserve;
use crate::{Context, Handle};
use hpy_sys as sys;

// --- building lists ------------------------------------------------------------------

/// A new list of the converted `items` (exactly `items.len()` of them),
/// through [`ListWriter`], the crate's one way of making lists.
pub(crate) fn list_from_iter<'ctx, I>(ctx: &'ctx Context, items: I) -> Result<Handle<'ctx>>
where
    I: ExactSizeIterator,
    I::Item: IntoPy<'ctx>,
{
    let mut list = ListWriter::new(ctx, items.len())?;
    for item in items {
        list.push(&item.into_py(ctx)?)?;
    }
    // An iterator that yields fewer items than its length is caught here.
    list.finish()
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
//
// Sequence parameters take any sequence, as PyO3's do: an exact `list` or
// `tuple` is read in place (the fast path), anything else of the sequence
// protocol (a subclass, `range`, a user type with `__getitem__`, ...) is
// first copied by `list(obj)`, which runs its `__iter__` like Python code
// would. A `str` is refused: it is never taken as a list of characters.
//
// Nothing Python says sizes memory unchecked: a length is the real length of
// an exact list or tuple (which no method can override), and the vector is
// reserved with `try_reserve` (`MemoryError` if refused, never an abort).
// Items are read one by one with a new handle each, so Python code run by a
// conversion (an item's `__index__`, say) may change the list meanwhile: a
// list that shrank ends the walk, as a list iterator would.

/// The items of a sequence: the object itself, or a list copied from it.
enum SeqItems<'a, 'ctx> {
    /// An exact `list` or `tuple`: read in place.
    InPlace(&'a Handle<'ctx>),
    /// `list(obj)`, owned: nothing else can change it.
    Copied(Handle<'ctx>),
}

impl<'ctx> SeqItems<'_, 'ctx> {
    #[inline(always)]
    fn handle(&self) -> &Handle<'ctx> {
        match self {
            SeqItems::InPlace(h) => h,
            SeqItems::Copied(h) => h,
        }
    }
}

/// What a sequence parameter takes, for the wrong-type error.
const SEQUENCE: &str = "a sequence";

/// Why a `str` is refused.
pub(crate) const STR_IS_NO_SEQUENCE: &str = "a str is not taken as a sequence of characters";

/// The items of `obj` and their number, if it is a sequence; `str`, `dict`
/// and non-sequences raise `TypeError`.
fn sequence_items<'a, 'ctx>(obj: &'a Handle<'ctx>) -> Result<(SeqItems<'a, 'ctx>, usize)> {
    if exact_type(obj, sys::h_ListType) || exact_type(obj, sys::h_TupleType) {
        // SAFETY: the context is live and `obj` an exact list or tuple, whose
        // length no Python code can override.
        let n = unsafe { sys::HPy_Length(obj.ctx().as_raw(), obj.as_raw()) };
        let n = usize::try_from(n).map_err(|_| Error::raised())?;
        return Ok((SeqItems::InPlace(obj), n));
    }
    if obj.is_str() {
        return Err(Error::wrong_type_noted(
            SEQUENCE,
            obj,
            Some(STR_IS_NO_SEQUENCE),
        ));
    }
    if !is_sequence(obj) {
        return Err(Error::wrong_type(SEQUENCE, obj));
    }
    let list = crate::util::list_of_items(obj)?;
    let n = list.len()?;
    Ok((SeqItems::Copied(list), n))
}

/// Whether `obj` follows the sequence protocol, as CPython's
/// `PySequence_Check` decides for Python classes: a `list` or `tuple`
/// (subclasses too), or any other object whose type has `__getitem__`, except
/// a `dict` (a mapping) and a `str` (refused on purpose).
fn is_sequence(obj: &Handle<'_>) -> bool {
    if obj.is_list() || obj.is_tuple() {
        return true;
    }
    if obj.is_str() || obj.is_dict() {
        return false;
    }
    obj.get_type().has_attr("__getitem__")
}

/// Item `i` of the sequence, converted (a failure says `item i`); `None` once
/// an in-place list is shorter than `i` (Python code removed items).
#[inline]
fn next_item<'ctx, T>(items: &SeqItems<'_, 'ctx>, i: usize) -> Result<Option<T>>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    let obj = items.handle();
    let ctx = obj.ctx();
    // SAFETY: the context is live and `obj` open; the result is a new handle or
    // NULL with an exception set (`IndexError` if the list shrank).
    let raw = unsafe { sys::HPy_GetItem_i(ctx.as_raw(), obj.as_raw(), i as sys::HPy_ssize_t) };
    if raw.is_null() {
        return shrunk(items);
    }
    // SAFETY: a non-NULL result is a new handle that we own.
    let item = unsafe { Handle::from_raw(ctx, raw) };
    match T::from_py(&item) {
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(e.with_context(format_args!("item {i}"))),
    }
}

/// After `HPy_GetItem_i` failed: the end of a list that shrank meanwhile, or
/// the error.
#[cold]
fn shrunk<T>(items: &SeqItems<'_, '_>) -> Result<Option<T>> {
    let obj = items.handle();
    let ctx = obj.ctx();
    let index_error = crate::exc::IndexError::type_object(ctx);
    if matches!(items, SeqItems::InPlace(_)) && obj.is_list() && ctx.err_matches(&index_error) {
        ctx.err_clear();
        return Ok(None);
    }
    Err(Error::raised())
}

/// The bytes of `obj` if `T` is `u8` and `obj` a `bytes` object.
#[inline]
fn bytes_for<'a, 'ctx, T>(obj: &'a Handle<'ctx>) -> Result<Option<&'a [u8]>>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    if !<T as FromPy<'_, 'ctx>>::__FROM_BYTES || !obj.is_bytes() {
        return Ok(None);
    }
    crate::builtins::bytes_view(obj).map(Some)
}

/// Converts a sequence item by item into a `Vec` (or a `VecDeque`, through `Vec`).
fn vec_from_sequence<'ctx, T>(obj: &Handle<'ctx>) -> Result<Vec<T>>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    let mut out = Vec::new();
    if let Some(bytes) = bytes_for::<T>(obj)? {
        try_reserve(&mut out, bytes.len())?;
        out.extend(bytes.iter().filter_map(|&b| T::__from_byte(b)));
        return Ok(out);
    }
    let (items, n) = sequence_items(obj)?;
    try_reserve(&mut out, n)?;
    for i in 0..n {
        match next_item(&items, i)? {
            Some(v) => out.push(v),
            None => break,
        }
    }
    Ok(out)
}

// --- Vec, VecDeque -------------------------------------------------------------------

impl<'a, 'ctx, T> FromPy<'a, 'ctx> for Vec<T>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        vec_from_sequence(obj)
    }
}

impl<'a, 'ctx, T> FromPy<'a, 'ctx> for VecDeque<T>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        vec_from_sequence(obj).map(VecDeque::from)
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
        if let Some(bytes) = bytes_for::<T>(obj)? {
            if bytes.len() != N {
                return Err(wrong_length(N, bytes.len()));
            }
            return collect_array(|i| T::__from_byte(bytes[i]).ok_or_else(Error::raised));
        }
        let (items, n) = sequence_items(obj)?;
        if n != N {
            return Err(wrong_length(N, n));
        }
        collect_array(|i| match next_item(&items, i)? {
            Some(v) => Ok(v),
            None => Err(wrong_length(N, i)),
        })
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

/// The items of a `tuple` (or subclass instance) and their number: an exact
/// tuple in place, a subclass instance through `tuple.__add__((), obj)`, which
/// copies its real items (a subclass may override `__len__` and
/// `__getitem__`; PyO3 reads the real items too).
fn tuple_items<'a, 'ctx>(obj: &'a Handle<'ctx>) -> Result<(SeqItems<'a, 'ctx>, usize)> {
    let ctx = obj.ctx();
    let items = if exact_type(obj, sys::h_TupleType) {
        SeqItems::InPlace(obj)
    } else if obj.is_tuple() {
        SeqItems::Copied(crate::builtins::exact_tuple_copy(obj)?)
    } else {
        return Err(Error::wrong_type("tuple", obj));
    };
    // SAFETY: the context is live and the handle an open exact tuple.
    let n = unsafe { sys::HPy_Length(ctx.as_raw(), items.handle().as_raw()) };
    let n = usize::try_from(n).map_err(|_| Error::raised())?;
    Ok((items, n))
}

/// Item `i` (< the length) of an exact tuple, converted.
#[inline]
fn tuple_item<'ctx, T>(items: &SeqItems<'_, 'ctx>, i: usize) -> Result<T>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    // A tuple never shrinks.
    next_item(items, i)?.ok_or_else(Error::raised)
}

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
                let (items, n) = tuple_items(obj)?;
                if n != $n {
                    return Err(wrong_tuple_length($n, n));
                }
                Ok(($(tuple_item::<$t>(&items, $i)?,)+))
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
