//! [`ListBuilder`] and [`TupleBuilder`]: a `list` or `tuple` of known length,
//! filled item by item and then built (`HPyListBuilder_*`, `HPyTupleBuilder_*`).
//!
//! HPy's rules for builders are enforced here: every slot is set at most once
//! and (by `build`) exactly once, indices are bounds-checked, and each builder
//! ends in exactly one `Build` (`build`, which consumes it) or `Cancel` (on
//! drop). Unset slots are `None` in the result, as in `[None] * n`.
//!
//! On PyPy the builders do not use `HPyListBuilder_*`/`HPyTupleBuilder_*`:
//! PyPy (7.3.19, HPy 0.9.1.dev61, and its sources to date) keeps the builder
//! in its handle table after `Build`, so the builder and every item it held
//! stay alive for the life of the process (measured: about 70 bytes per item
//! and 7 MB per 100,000-item list, never freed). There the items are held as
//! handles and the result is made at `build`: a tuple by one
//! `HPyTuple_FromArray`, a list by `HPyList_New(0)` and `HPyList_Append`s;
//! nothing is left behind.

use crate::conv::IntoPy;
use crate::err::{Error, Result, exc::IndexError, exc::ValueError};
use crate::{Context, Handle, Runtime};
use hpy_sys as sys;

/// The largest length a builder accepts: CPython's `PyList_New` limit
/// (`PY_SSIZE_T_MAX / sizeof(PyObject *)`); longer ones raise `MemoryError`.
const MAX_LEN: usize = isize::MAX as usize / size_of::<usize>();

/// Which slots of a builder are set.
#[derive(Debug)]
struct Slots {
    len: usize,
    filled: usize,
    bits: Bits,
}

#[derive(Debug)]
enum Bits {
    /// Up to 128 slots: no allocation.
    Inline(u128),
    /// One bit per slot.
    Heap(Box<[u64]>),
}

impl Slots {
    /// `None` when the bitmap cannot be allocated.
    fn new(len: usize) -> Option<Self> {
        let bits = if len <= 128 {
            Bits::Inline(0)
        } else {
            let words = len.div_ceil(64);
            let mut v: Vec<u64> = Vec::new();
            v.try_reserve_exact(words).ok()?;
            v.resize(words, 0);
            Bits::Heap(v.into_boxed_slice())
        };
        Some(Slots {
            len,
            filled: 0,
            bits,
        })
    }

    /// Whether slot `i` (< len) is set.
    #[inline(always)]
    fn is_set(&self, i: usize) -> bool {
        match &self.bits {
            Bits::Inline(b) => b & (1u128 << i) != 0,
            Bits::Heap(words) => words[i / 64] & (1u64 << (i % 64)) != 0,
        }
    }

    /// Marks slot `i` (< len, not yet set) as set.
    #[inline(always)]
    fn mark(&mut self, i: usize) {
        match &mut self.bits {
            Bits::Inline(b) => *b |= 1u128 << i,
            Bits::Heap(words) => words[i / 64] |= 1u64 << (i % 64),
        }
        self.filled += 1;
    }

    /// Checks that `i` is a free slot.
    #[inline(always)]
    fn check(&self, i: usize, index_error: &'static str, kind: &str) -> Result<()> {
        if i >= self.len {
            return Err(IndexError::new_err(index_error));
        }
        if self.is_set(i) {
            return Err(already_set(kind, i));
        }
        Ok(())
    }
}

#[cold]
fn already_set(kind: &str, i: usize) -> Error {
    ValueError::new_err(format!("{kind} builder item {i} is already set"))
}

/// Whether the runtime can be asked for `n` pointers' worth of memory.
///
/// PyPy 7.3.19 does not report a failed allocation in `HPyListBuilder_New`,
/// `HPyTupleBuilder_New` or `HPyTracker_New`: it returns a bogus builder or
/// tracker, with no exception set, and the next `Set`, `Build`, `Cancel`, `Add`
/// or `Close` on it aborts the process (`Fatal RPython error: AssertionError`).
/// So on PyPy, large requests first ask the system allocator for the same amount
/// (which reserves address space without touching it, and is freed at once): a
/// refusal becomes a `MemoryError` instead of a crash.
pub(crate) fn runtime_can_allocate(ctx: &Context, n: usize) -> bool {
    if n < (1 << 20) || ctx.runtime() != Runtime::PyPy {
        return true;
    }
    let mut probe: Vec<usize> = Vec::new();
    let ok = probe.try_reserve_exact(n).is_ok();
    // Keeps the optimizer from removing the unused allocation (and its failure).
    core::hint::black_box(probe.as_ptr());
    ok
}

/// Raises `MemoryError` unless the runtime already raised something.
#[cold]
pub(crate) fn no_memory(ctx: &Context) -> Error {
    if !ctx.err_occurred() {
        // SAFETY: the context is live.
        unsafe { sys::HPyErr_NoMemory(ctx.as_raw()) };
    }
    Error::raised()
}

/// The four context functions of one kind of builder. Written out per kind
/// (not generated), so each context function is called by name.
trait RawBuilder: Copy {
    /// `"list"` or `"tuple"`.
    const KIND: &'static str;
    /// The message of the `IndexError` for an index past the end.
    const INDEX_ERROR: &'static str;
    /// Whether this is the NULL builder.
    fn is_null(self) -> bool;
    /// The NULL builder.
    fn null() -> Self;
    /// `*_New`.
    ///
    /// # Safety
    /// `ctx` must be live.
    unsafe fn new(ctx: *mut sys::HPyContext, len: sys::HPy_ssize_t) -> Self;
    /// `*_Set`.
    ///
    /// # Safety
    /// `ctx` live; `self` open; `index` in bounds and unset; `item` open.
    unsafe fn set(self, ctx: *mut sys::HPyContext, index: sys::HPy_ssize_t, item: sys::HPy);
    /// `*_Build`.
    ///
    /// # Safety
    /// `ctx` live; `self` open with every slot set; not used afterwards.
    unsafe fn build(self, ctx: *mut sys::HPyContext) -> sys::HPy;
    /// `*_Cancel`.
    ///
    /// # Safety
    /// `ctx` live; `self` open; not used afterwards.
    unsafe fn cancel(self, ctx: *mut sys::HPyContext);
}

impl RawBuilder for sys::HPyListBuilder {
    const KIND: &'static str = "list";
    const INDEX_ERROR: &'static str = "list assignment index out of range";

    #[inline(always)]
    fn is_null(self) -> bool {
        sys::HPyListBuilder::is_null(self)
    }

    #[inline(always)]
    fn null() -> Self {
        sys::HPyListBuilder::NULL
    }

    #[inline(always)]
    unsafe fn new(ctx: *mut sys::HPyContext, len: sys::HPy_ssize_t) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyListBuilder_New(ctx, len) }
    }

    #[inline(always)]
    unsafe fn set(self, ctx: *mut sys::HPyContext, index: sys::HPy_ssize_t, item: sys::HPy) {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyListBuilder_Set(ctx, self, index, item) }
    }

    #[inline(always)]
    unsafe fn build(self, ctx: *mut sys::HPyContext) -> sys::HPy {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyListBuilder_Build(ctx, self) }
    }

    #[inline(always)]
    unsafe fn cancel(self, ctx: *mut sys::HPyContext) {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyListBuilder_Cancel(ctx, self) }
    }
}

impl RawBuilder for sys::HPyTupleBuilder {
    const KIND: &'static str = "tuple";
    const INDEX_ERROR: &'static str = "tuple assignment index out of range";

    #[inline(always)]
    fn is_null(self) -> bool {
        sys::HPyTupleBuilder::is_null(self)
    }

    #[inline(always)]
    fn null() -> Self {
        sys::HPyTupleBuilder::NULL
    }

    #[inline(always)]
    unsafe fn new(ctx: *mut sys::HPyContext, len: sys::HPy_ssize_t) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyTupleBuilder_New(ctx, len) }
    }

    #[inline(always)]
    unsafe fn set(self, ctx: *mut sys::HPyContext, index: sys::HPy_ssize_t, item: sys::HPy) {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyTupleBuilder_Set(ctx, self, index, item) }
    }

    #[inline(always)]
    unsafe fn build(self, ctx: *mut sys::HPyContext) -> sys::HPy {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyTupleBuilder_Build(ctx, self) }
    }

    #[inline(always)]
    unsafe fn cancel(self, ctx: *mut sys::HPyContext) {
        // SAFETY: forwarded from the caller.
        unsafe { sys::HPyTupleBuilder_Cancel(ctx, self) }
    }
}

/// The state shared by both builders.
struct Builder<'ctx, R: RawBuilder> {
    ctx: &'ctx Context,
    /// NULL once built (never NULL before: a NULL builder is an error), and
    /// always NULL with `held`.
    raw: R,
    slots: Slots,
    /// On PyPy (see the module docs): the items, owned, NULL while unset.
    held: Option<Vec<sys::HPy>>,
}

impl<'ctx, R: RawBuilder> Builder<'ctx, R> {
    fn new(ctx: &'ctx Context, len: usize) -> Result<Self> {
        if len > MAX_LEN || !runtime_can_allocate(ctx, len) {
            return Err(no_memory(ctx));
        }
        if ctx.runtime() == Runtime::PyPy {
            let mut held: Vec<sys::HPy> = Vec::new();
            let slots = held
                .try_reserve_exact(len)
                .ok()
                .and_then(|()| Slots::new(len))
                .ok_or_else(|| no_memory(ctx))?;
            held.resize(len, sys::HPy::NULL);
            return Ok(Builder {
                ctx,
                raw: R::null(),
                slots,
                held: Some(held),
            });
        }
        // SAFETY: the context is live and `len` fits `HPy_ssize_t`.
        let raw = unsafe { R::new(ctx.as_raw(), len as sys::HPy_ssize_t) };
        // CPython returns a NULL builder (and clears the error) when the
        // allocation fails, debug mode returns it as it is, and then `Build`
        // returns NULL without an exception: never use one.
        if raw.is_null() {
            return Err(no_memory(ctx));
        }
        let Some(slots) = Slots::new(len) else {
            // SAFETY: `raw` is an open builder, cancelled exactly once here.
            unsafe { raw.cancel(ctx.as_raw()) };
            return Err(no_memory(ctx));
        };
        Ok(Builder {
            ctx,
            raw,
            slots,
            held: None,
        })
    }

    #[inline]
    fn set(&mut self, index: usize, value: impl IntoPy<'ctx>) -> Result<()> {
        self.slots.check(index, R::INDEX_ERROR, R::KIND)?;
        let value = value.into_py(self.ctx)?;
        if let Some(held) = &mut self.held {
            // The slot is NULL (checked above); the handle is kept until `build`.
            held[index] = value.into_raw();
        } else {
            // SAFETY: the builder is open (`build` consumes it); `index` is in
            // bounds and not set yet; `value` is an open handle, which the
            // builder does not steal (it is closed when dropped).
            unsafe {
                self.raw
                    .set(self.ctx.as_raw(), index as sys::HPy_ssize_t, value.raw)
            };
        }
        self.slots.mark(index);
        Ok(())
    }

    fn build(mut self) -> Result<Handle<'ctx>> {
        let ctx = self.ctx.as_raw();
        if let Some(mut held) = self.held.take() {
            // SAFETY: the context is live; `None` is a constant handle.
            let none = unsafe { sys::h_None(ctx) };
            for raw in held.iter_mut().filter(|raw| raw.is_null()) {
                *raw = none;
            }
            // SAFETY (both arms): `held` holds open handles this builder owns
            // (closed below, after the call) and the constant `None`.
            let result = if R::KIND == "list" {
                let ctx = self.ctx;
                (|| {
                    let mut list = ListWriter::new(ctx, held.len())?;
                    for &raw in &held {
                        // SAFETY: see above; the view does not close the handle.
                        list.push(&core::mem::ManuallyDrop::new(unsafe {
                            Handle::from_raw(ctx, raw)
                        }))?;
                    }
                    list.finish()
                })()
            } else {
                // SAFETY: see above.
                unsafe { self.ctx.tuple_from_raw(&held) }
            };
            for (i, raw) in held.into_iter().enumerate() {
                if self.slots.is_set(i) {
                    // SAFETY: a set slot holds an open handle this builder
                    // owns, closed once here (the vector was taken).
                    drop(unsafe { Handle::from_raw(self.ctx, raw) });
                }
            }
            return result;
        }
        if self.slots.filled < self.slots.len {
            // SAFETY: the context is live; `None` is a constant handle, which the
            // builder does not steal.
            let none = unsafe { sys::h_None(ctx) };
            for i in 0..self.slots.len {
                if !self.slots.is_set(i) {
                    // SAFETY: the builder is open and `i` an unset slot in bounds.
                    unsafe { self.raw.set(ctx, i as sys::HPy_ssize_t, none) };
                }
            }
        }
        // From here on `Drop` must not cancel it.
        let raw = core::mem::replace(&mut self.raw, R::null());
        // SAFETY: the builder is open, every slot is set, and it is built exactly
        // once (`self.raw` is NULL now); the result is a new handle or NULL with
        // an exception.
        unsafe { Handle::from_raw_result(self.ctx, raw.build(ctx)) }
    }
}

/// The one way this crate makes a `list` item by item (conversions of Rust
/// sequences, [`Context::new_list_from`], and [`ListBuilder`] on PyPy): an
/// `HPyListBuilder` on CPython, `HPyList_New(0)` and `HPyList_Append`s
/// everywhere else, since PyPy's list builder leaks (see the module docs).
/// Measured on PyPy 7.3.19 (hpyjson.loads): as fast as
/// `list(HPyTuple_FromArray(...))` for long lists and much faster for short
/// ones, where the call to `list` dominates.
///
/// `len` is the number of items that will be pushed: a length that Rust code
/// chose, checked against what the runtime can allocate (`MemoryError`, never
/// an abort). Dropping an unfinished writer cancels it.
pub(crate) struct ListWriter<'ctx> {
    ctx: &'ctx Context,
    kind: Writer<'ctx>,
    len: usize,
    pushed: usize,
}

enum Writer<'ctx> {
    /// CPython: a list builder of `len` slots (never NULL; NULL once built).
    Builder(sys::HPyListBuilder),
    /// Elsewhere: the list itself, appended to.
    Appending(Handle<'ctx>),
}

impl<'ctx> ListWriter<'ctx> {
    /// A writer for a list of exactly `len` items.
    #[inline]
    pub(crate) fn new(ctx: &'ctx Context, len: usize) -> Result<Self> {
        let kind = if ctx.runtime() == Runtime::CPython {
            if len > MAX_LEN {
                return Err(no_memory(ctx));
            }
            // SAFETY: the context is live and `len` fits `HPy_ssize_t`.
            let raw = unsafe { sys::HPyListBuilder_New(ctx.as_raw(), len as sys::HPy_ssize_t) };
            // CPython returns a NULL builder (and clears the error) when the
            // allocation fails; debug mode returns it as it is.
            if raw.is_null() {
                return Err(no_memory(ctx));
            }
            Writer::Builder(raw)
        } else {
            Writer::Appending(ctx.new_list()?)
        };
        Ok(ListWriter {
            ctx,
            kind,
            len,
            pushed: 0,
        })
    }

    /// Appends `item` (not stolen); more than `len` items raise `SystemError`.
    #[inline]
    pub(crate) fn push(&mut self, item: &Handle<'_>) -> Result<()> {
        if self.pushed == self.len {
            return Err(wrong_count());
        }
        match &self.kind {
            Writer::Builder(raw) => {
                // SAFETY: the builder is open (not built: `finish` consumes the
                // writer), `pushed < len` is a slot not set yet, and `item` is
                // an open handle, which the builder does not steal.
                unsafe {
                    sys::HPyListBuilder_Set(
                        self.ctx.as_raw(),
                        *raw,
                        self.pushed as sys::HPy_ssize_t,
                        item.raw,
                    )
                }
            }
            Writer::Appending(list) => list.append(item)?,
        }
        self.pushed += 1;
        Ok(())
    }

    /// Appends every handle of `items` (not stolen): [`push`](Self::push) in
    /// one tight loop.
    #[inline]
    pub(crate) fn extend(&mut self, items: &[Handle<'_>]) -> Result<()> {
        if items.len() > self.len - self.pushed {
            return Err(wrong_count());
        }
        match &self.kind {
            Writer::Builder(raw) => {
                let ctx = self.ctx.as_raw();
                for (i, item) in (self.pushed..).zip(items) {
                    // SAFETY: as in `push`: the builder is open and each slot
                    // `i < len` (checked above) is set once.
                    unsafe { sys::HPyListBuilder_Set(ctx, *raw, i as sys::HPy_ssize_t, item.raw) }
                }
            }
            Writer::Appending(list) => {
                for item in items {
                    list.append(item)?;
                }
            }
        }
        self.pushed += items.len();
        Ok(())
    }

    /// The list; fewer than `len` items raise `SystemError` (never a list with
    /// a hole).
    #[inline]
    pub(crate) fn finish(mut self) -> Result<Handle<'ctx>> {
        if self.pushed != self.len {
            return Err(wrong_count());
        }
        match core::mem::replace(&mut self.kind, Writer::Builder(sys::HPyListBuilder::NULL)) {
            // SAFETY: the builder is open with every slot set, built exactly
            // once (the writer now holds NULL, which `Drop` skips); the result
            // is a new handle or NULL with an exception set.
            Writer::Builder(raw) => unsafe {
                Handle::from_raw_result(self.ctx, sys::HPyListBuilder_Build(self.ctx.as_raw(), raw))
            },
            Writer::Appending(list) => Ok(list),
        }
    }
}

impl Drop for ListWriter<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Writer::Builder(raw) = self.kind {
            if !raw.is_null() {
                // SAFETY: an unbuilt builder is open; it is cancelled exactly
                // once, here, which releases the items set so far.
                unsafe { sys::HPyListBuilder_Cancel(self.ctx.as_raw(), raw) }
            }
        }
    }
}

#[cold]
fn wrong_count() -> Error {
    crate::exc::SystemError::new_err("a list was given a different number of items than its length")
}

impl Context {
    /// A new `list` of `items` (not consumed: the list takes its own
    /// references). The fastest way to make a list of handles already at
    /// hand: one list builder on CPython, appends on PyPy (whose builders
    /// leak, see [`ListBuilder`]).
    ///
    /// ```
    /// fn pair_list<'py>(a: hpy::Handle<'py>, b: hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     a.ctx().new_list_from(&[a.clone(), b])
    /// }
    /// ```
    pub fn new_list_from<'ctx>(&'ctx self, items: &[Handle<'ctx>]) -> Result<Handle<'ctx>> {
        let mut list = ListWriter::new(self, items.len())?;
        list.extend(items)?;
        list.finish()
    }
}

impl<R: RawBuilder> Drop for Builder<'_, R> {
    #[inline]
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            for raw in held.into_iter().filter(|raw| !raw.is_null()) {
                // SAFETY: a non-NULL entry is an open handle this builder owns,
                // closed once (the vector is taken).
                drop(unsafe { Handle::from_raw(self.ctx, raw) });
            }
        } else if !self.raw.is_null() {
            // SAFETY: the builder is open (not built) and cancelled exactly once,
            // here; that releases the items set so far.
            unsafe { self.raw.cancel(self.ctx.as_raw()) }
        }
    }
}

macro_rules! builder {
    (
        $(#[$doc:meta])*
        $name:ident, $ctor:ident, $raw:ident, $kind:literal, $index_error:literal
    ) => {
        $(#[$doc])*
        pub struct $name<'ctx>(Builder<'ctx, sys::$raw>);

        impl Context {
            #[doc = concat!("A builder for a `", $kind, "` of `len` items ([`", stringify!($name), "`]).")]
            ///
            /// Fails with `MemoryError` when the runtime cannot allocate it.
            #[inline]
            pub fn $ctor(&self, len: usize) -> Result<$name<'_>> {
                Builder::new(self, len).map($name)
            }
        }

        impl<'ctx> $name<'ctx> {
            #[doc = concat!("The length of the `", $kind, "` being built.")]
            #[inline]
            pub fn len(&self) -> usize {
                self.0.slots.len
            }

            #[doc = concat!("Whether the `", $kind, "` being built is empty.")]
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.0.slots.len == 0
            }

            /// Sets item `index` to `value`, converted first; the builder keeps
            /// its own reference, so a `&Handle` passed in stays usable.
            ///
            #[doc = concat!("`index >= len` raises `IndexError: ", $index_error, "`; setting an")]
            /// item twice raises `ValueError` (HPy's builders cannot replace an item).
            #[inline]
            pub fn set(&mut self, index: usize, value: impl IntoPy<'ctx>) -> Result<()> {
                self.0.set(index, value)
            }

            #[doc = concat!("Builds the `", $kind, "`, consuming the builder; unset items are `None`.")]
            #[inline]
            pub fn build(self) -> Result<Handle<'ctx>> {
                self.0.build()
            }
        }

        impl core::fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("len", &self.0.slots.len)
                    .field("set", &self.0.slots.filled)
                    .finish()
            }
        }
    };
}

builder! {
    /// A `list` of known length under construction
    /// ([`Context::list_builder`]): cheaper than appending, since the list is
    /// allocated once.
    ///
    /// [`set`](ListBuilder::set) fills it (in any order),
    /// [`build`](ListBuilder::build) consumes it and returns the list, and
    /// dropping it unfinished cancels it (releasing the items set so far), so
    /// an early `?` return is clean. Using it after `build` does not compile:
    ///
    /// ```compile_fail,E0382
    /// fn twice<'py>(ctx: &'py hpy::Context) -> hpy::Result<()> {
    ///     let b = ctx.list_builder(1)?;
    ///     let _list = b.build()?;
    ///     let _again = b.build()?; // error: use of moved value `b`
    ///     Ok(())
    /// }
    /// ```
    ///
    /// ```
    /// fn countdown<'py>(ctx: &'py hpy::Context, n: usize) -> hpy::Result<hpy::Handle<'py>> {
    ///     let mut b = ctx.list_builder(n)?;
    ///     for i in 0..n {
    ///         b.set(i, (n - i) as u64)?;
    ///     }
    ///     b.build()
    /// }
    /// ```
    ListBuilder, list_builder, HPyListBuilder, "list", "list assignment index out of range"
}

builder! {
    /// A `tuple` under construction ([`Context::tuple_builder`]): the way to
    /// make a tuple whose length is only known at run time, item by item.
    ///
    /// [`set`](TupleBuilder::set) fills it (in any order),
    /// [`build`](TupleBuilder::build) consumes it and returns the tuple, and
    /// dropping it unfinished cancels it.
    ///
    /// ```
    /// fn pairs<'py>(ctx: &'py hpy::Context, words: &[&str]) -> hpy::Result<hpy::Handle<'py>> {
    ///     let mut b = ctx.tuple_builder(words.len())?;
    ///     for (i, w) in words.iter().enumerate() {
    ///         b.set(i, *w)?;
    ///     }
    ///     b.build()
    /// }
    /// ```
    TupleBuilder, tuple_builder, HPyTupleBuilder, "tuple", "tuple assignment index out of range"
}
