//! [`Tracker`]: a group of handles closed together (`HPyTracker_*`).

use core::cell::Cell;

use crate::builder::{no_memory, runtime_can_allocate};
use crate::err::{Error, Result};
use crate::{Borrowed, Context, Handle};
use hpy_sys as sys;

/// A group of handles that are closed together when the tracker is dropped
/// (`HPyTracker_New`, `HPyTracker_Add`, `HPyTracker_Close`), HPy's tool for
/// functions that make many handles and may fail half-way.
///
/// [`add`](Tracker::add) takes an owned [`Handle`] (so its own `Drop` can
/// never close it a second time) and gives back a view of it borrowed from the
/// tracker, usable until the tracker is closed. In Rust, owned handles already
/// close themselves; a tracker is useful to hold a variable number of handles
/// without a `Vec`, or to mirror C code.
///
/// ```
/// fn sum_of_squares<'py>(ctx: &'py hpy::Context, n: i64) -> hpy::Result<hpy::Handle<'py>> {
///     let tracker = ctx.new_tracker(0)?;
///     let list = tracker.add(ctx.new_list()?)?;
///     for i in 0..n {
///         let square = tracker.add(hpy::IntoPy::into_py(i * i, ctx)?)?;
///         list.append(&*square)?;
///     }
///     Ok(list.dup()) // every tracked handle is closed when `tracker` drops
/// }
/// ```
///
/// Views cannot outlive the tracker (nor survive [`forget_all`](Tracker::forget_all)):
///
/// ```compile_fail,E0505
/// fn dangling<'py>(ctx: &'py hpy::Context) -> hpy::Result<()> {
///     let tracker = ctx.new_tracker(0)?;
///     let view = tracker.add(ctx.new_list()?)?;
///     drop(tracker); // error: `tracker` is still borrowed by `view`
///     view.append(1)
/// }
/// ```
pub struct Tracker<'ctx> {
    ctx: &'ctx Context,
    raw: sys::HPyTracker,
    /// Set after a failed `HPyTracker_Add`: the runtime then has no room for
    /// another handle (CPython would write past its array), so no further
    /// `HPyTracker_Add` is made until `forget_all` empties it.
    full: Cell<bool>,
}

/// CPython's tracker allocates `capacity + 1` handles: keep that in range.
const MAX_CAPACITY: usize = isize::MAX as usize / size_of::<sys::HPy>() - 1;

impl Context {
    /// A new, empty tracker with room for `capacity` handles before it grows
    /// (`HPyTracker_New`; 0 picks the runtime's default).
    #[inline]
    pub fn new_tracker(&self, capacity: usize) -> Result<Tracker<'_>> {
        if capacity > MAX_CAPACITY || !runtime_can_allocate(self, capacity) {
            return Err(no_memory(self));
        }
        // SAFETY: the context is live and `capacity` fits `HPy_ssize_t`.
        let raw = unsafe { sys::HPyTracker_New(self.as_raw(), capacity as sys::HPy_ssize_t) };
        if raw.is_null() {
            return Err(no_memory(self));
        }
        Ok(Tracker {
            ctx: self,
            raw,
            full: Cell::new(false),
        })
    }
}

impl<'ctx> Tracker<'ctx> {
    /// Adds `handle` to the tracker (`HPyTracker_Add`), which closes it when
    /// the tracker is closed or dropped; returns a view of it, borrowed from
    /// the tracker.
    ///
    /// On failure (`MemoryError` when the tracker cannot grow) the handle is
    /// still closed with the others, as HPy guarantees, and the tracker accepts
    /// no more handles until [`forget_all`](Tracker::forget_all): a later `add`
    /// closes its handle at once and raises `MemoryError`.
    pub fn add(&self, handle: Handle<'ctx>) -> Result<Borrowed<'_, 'ctx>> {
        if self.full.get() {
            drop(handle);
            // SAFETY: the context is live.
            unsafe { sys::HPyErr_NoMemory(self.ctx.as_raw()) };
            return Err(Error::raised());
        }
        let raw = handle.into_raw();
        // SAFETY: the tracker is open and has room for this handle (it always
        // keeps one free slot until an add fails, and `full` stops us after
        // that); `raw` is an open handle whose ownership passes to the tracker.
        let r = unsafe { sys::HPyTracker_Add(self.ctx.as_raw(), self.raw, raw) };
        if r < 0 {
            // The handle is tracked anyway (and closed by the tracker).
            self.full.set(true);
            return Err(Error::raised());
        }
        // SAFETY: the tracker keeps `raw` open until it is closed or emptied,
        // which needs `self` by value or `&mut self`: not while this borrow lives.
        Ok(unsafe { Borrowed::from_raw(self.ctx, raw) })
    }

    /// Empties the tracker without closing its handles (`HPyTracker_ForgetAll`).
    ///
    /// The handles stay open, owned by nobody: they leak unless the caller
    /// closes them (e.g. `unsafe { Handle::from_raw(ctx, raw) }` on the raw
    /// handles of views taken before with [`Handle::as_raw`]). Views borrowed
    /// from the tracker cannot be used any more (this takes `&mut self`).
    #[inline]
    pub fn forget_all(&mut self) {
        // SAFETY: the tracker is open.
        unsafe { sys::HPyTracker_ForgetAll(self.ctx.as_raw(), self.raw) };
        self.full.set(false);
    }

    /// Closes the tracker and every handle in it (`HPyTracker_Close`); the same
    /// as dropping it.
    #[inline]
    pub fn close(self) {
        drop(self)
    }
}

impl Drop for Tracker<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the tracker is open and closed exactly once, here; no view of
        // its handles outlives it (they borrow `self`).
        unsafe { sys::HPyTracker_Close(self.ctx.as_raw(), self.raw) }
    }
}

impl core::fmt::Debug for Tracker<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tracker").finish_non_exhaustive()
    }
}
