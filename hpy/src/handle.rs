//! [`Handle`] (owned) and [`Borrowed`] (borrowed) handles to Python objects.

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;

use crate::Context;
use crate::conv::FromPy;
use crate::err::{Error, Result};
use hpy_sys as sys;

/// An owned handle to a Python object, valid during one call (`'ctx`).
///
/// * `Drop` closes it (`HPy_Close`); [`close`](Handle::close) does so explicitly
///   and consumes it, so it cannot be used or closed again.
/// * `Clone` (or [`dup`](Handle::dup)) makes a new handle to the same object
///   (`HPy_Dup`).
/// * It cannot outlive the call's [`Context`], cannot be stored in a `static`,
///   and cannot cross threads (it is neither `Send` nor `Sync`).
///
/// Arguments (and `self`) reach user code as `&Handle<'ctx>`: borrowed for the
/// call, so they can be neither closed nor returned without a `dup`, exactly the
/// rules HPy's debug mode enforces at run time.
///
/// ```compile_fail
/// // Returning a borrowed argument where an owned handle is required: dup first.
/// fn identity<'py>(x: &hpy::Handle<'py>) -> hpy::Handle<'py> { *x }
/// ```
pub struct Handle<'ctx> {
    pub(crate) raw: sys::HPy,
    pub(crate) ctx: &'ctx Context,
}

impl<'ctx> Handle<'ctx> {
    /// Takes ownership of a raw handle.
    ///
    /// # Safety
    /// `raw` must be an open, non-NULL handle of `ctx` that nothing else will close.
    #[inline(always)]
    pub unsafe fn from_raw(ctx: &'ctx Context, raw: sys::HPy) -> Self {
        debug_assert!(!raw.is_null());
        Handle { raw, ctx }
    }

    /// Takes ownership of a raw handle that a context function returned, or
    /// returns the exception it raised (a NULL handle).
    ///
    /// # Safety
    /// `raw` must be NULL with an exception set, or an open handle of `ctx`
    /// owned by the caller.
    #[inline(always)]
    pub unsafe fn from_raw_result(ctx: &'ctx Context, raw: sys::HPy) -> Result<Self> {
        if raw.is_null() {
            Err(Error::raised())
        } else {
            Ok(Handle { raw, ctx })
        }
    }

    /// The raw handle, still owned by `self`.
    #[inline(always)]
    pub fn as_raw(&self) -> sys::HPy {
        self.raw
    }

    /// Gives up ownership: the caller must close the returned raw handle.
    #[inline(always)]
    pub fn into_raw(self) -> sys::HPy {
        ManuallyDrop::new(self).raw
    }

    /// The context this handle belongs to.
    #[inline(always)]
    pub fn ctx(&self) -> &'ctx Context {
        self.ctx
    }

    /// A new handle to the same object (`HPy_Dup`); the same as `clone()`.
    #[inline(always)]
    pub fn dup(&self) -> Handle<'ctx> {
        // SAFETY: `self.raw` is open in the live `self.ctx`; `HPy_Dup` returns a new
        // handle that we own.
        unsafe { Handle::from_raw(self.ctx, sys::HPy_Dup(self.ctx.as_raw(), self.raw)) }
    }

    /// Closes the handle now (`HPy_Close`); the same as dropping it.
    #[inline(always)]
    pub fn close(self) {
        drop(self)
    }

    /// Whether both handles refer to the same object (`HPy_Is`, Python's `is`).
    #[inline]
    pub fn is(&self, other: &Handle<'_>) -> bool {
        // SAFETY: both handles are open in the live context.
        unsafe { sys::HPy_Is(self.ctx.as_raw(), self.raw, other.raw) != 0 }
    }

    /// Whether this is `None`.
    #[inline]
    pub fn is_none(&self) -> bool {
        self.is(&self.ctx.none())
    }

    /// The name of the object's type, as in CPython's error messages (`"int"`, `"str"`).
    pub fn type_name(&self) -> String {
        match self.get_type().type_object_name() {
            Ok(name) => name.into_owned(),
            Err(_) => {
                self.ctx.err_clear();
                "?".to_owned()
            }
        }
    }

    /// Converts the object to a Rust value (see [`FromPy`]).
    ///
    /// ```
    /// fn describe(obj: &hpy::Handle<'_>) -> hpy::Result<String> {
    ///     if let Ok(n) = obj.extract::<i64>() {
    ///         return Ok(format!("the int {n}"));
    ///     }
    ///     obj.ctx().err_clear();
    ///     let s: &str = obj.extract()?; // borrows from `obj`
    ///     Ok(format!("the str {s:?}"))
    /// }
    /// ```
    #[inline]
    pub fn extract<'a, T: FromPy<'a, 'ctx>>(&'a self) -> Result<T> {
        T::from_py(self)
    }
}

impl Drop for Handle<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: an owned handle is open in its live context and closed exactly
        // once, here (`into_raw` skips this through `ManuallyDrop`).
        unsafe { sys::HPy_Close(self.ctx.as_raw(), self.raw) }
    }
}

impl Clone for Handle<'_> {
    #[inline(always)]
    fn clone(&self) -> Self {
        self.dup()
    }
}

impl core::fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.repr().and_then(|r| r.extract::<String>()) {
            Ok(s) => write!(f, "Handle({s})"),
            Err(_) => {
                self.ctx.err_clear();
                write!(f, "Handle(<{} object>)", self.type_name())
            }
        }
    }
}

/// A handle borrowed for `'a`: a context constant, or an argument.
///
/// It dereferences to [`&Handle<'ctx>`](Handle), so every method of `Handle`
/// works on it, but it never closes the handle: use [`Handle::dup`] (or
/// `clone()` through the deref) for an owned one.
pub struct Borrowed<'a, 'ctx> {
    handle: ManuallyDrop<Handle<'ctx>>,
    _borrow: PhantomData<&'a Handle<'ctx>>,
}

impl<'a, 'ctx> Borrowed<'a, 'ctx> {
    /// Wraps a handle that someone else owns for at least `'a`.
    ///
    /// # Safety
    /// `raw` must be an open handle of `ctx` for all of `'a`.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn from_raw(ctx: &'ctx Context, raw: sys::HPy) -> Self {
        Borrowed {
            handle: ManuallyDrop::new(Handle { raw, ctx }),
            _borrow: PhantomData,
        }
    }
}

impl<'ctx> Deref for Borrowed<'_, 'ctx> {
    type Target = Handle<'ctx>;

    #[inline(always)]
    fn deref(&self) -> &Handle<'ctx> {
        &self.handle
    }
}

impl core::fmt::Debug for Borrowed<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}

/// An item of a container, valid for `'a`: the container's own reference
/// where the build can lend it (a CPython-ABI build, for the items of exact
/// lists, tuples and dicts), an owned handle, closed on drop, otherwise.
///
/// Made only by the `unsafe` accessors that read an item without a new
/// reference ([`Handle::seq_item_borrowed`], [`DictItems::next_borrowed`](crate::DictItems::next_borrowed)),
/// whose callers promise that the item outlives `'a`. It dereferences to
/// [`&Handle<'ctx>`](Handle); [`Handle::dup`] gives an owned handle to keep.
pub struct BorrowedItem<'a, 'ctx> {
    handle: ManuallyDrop<Handle<'ctx>>,
    /// Whether `handle` is ours to close (a new reference).
    owned: bool,
    _borrow: PhantomData<&'a Handle<'ctx>>,
}

impl<'ctx> BorrowedItem<'_, 'ctx> {
    /// Wraps a new handle, closed when the item is dropped.
    #[inline(always)]
    pub(crate) fn owned(handle: Handle<'ctx>) -> Self {
        BorrowedItem {
            handle: ManuallyDrop::new(handle),
            owned: true,
            _borrow: PhantomData,
        }
    }

    /// Wraps a handle someone else owns.
    ///
    /// # Safety
    /// `raw` is an open handle of `ctx` for all of `'a`.
    #[cfg(hpy_abi = "cpython")]
    #[inline(always)]
    pub(crate) unsafe fn lent(ctx: &'ctx Context, raw: sys::HPy) -> Self {
        BorrowedItem {
            handle: ManuallyDrop::new(Handle { raw, ctx }),
            owned: false,
            _borrow: PhantomData,
        }
    }
}

impl<'ctx> Deref for BorrowedItem<'_, 'ctx> {
    type Target = Handle<'ctx>;

    #[inline(always)]
    fn deref(&self) -> &Handle<'ctx> {
        &self.handle
    }
}

impl Drop for BorrowedItem<'_, '_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: an owned handle, dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.handle) }
        }
    }
}

impl core::fmt::Debug for BorrowedItem<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}
