//! `list`, `tuple` and `dict`: construction, type checks and their own methods.
//! (Items, lengths and iteration are the object protocol's; whole Rust
//! collections convert through [`IntoPy`].)

use super::{check_status, descriptor_error};
use crate::conv::IntoPy;
use crate::err::Result;
use crate::{BorrowedItem, Context, Handle};
use hpy_sys as sys;

/// Tuples up to this size are built from a raw-handle array on the stack.
const STACK_TUPLE: usize = 16;

impl Context {
    /// A new empty `list` (`HPyList_New(0)`).
    ///
    /// (`HPyList_New(n)` with `n > 0` leaves the items NULL, which crashes
    /// anything that reads them before they are set: use
    /// [`list_builder`](Context::list_builder) for a list of known length.)
    ///
    /// ```
    /// fn squares<'py>(ctx: &'py hpy::Context, n: i64) -> hpy::Result<hpy::Handle<'py>> {
    ///     let list = ctx.new_list()?;
    ///     for i in 0..n {
    ///         list.append(i * i)?;
    ///     }
    ///     Ok(list)
    /// }
    /// ```
    #[inline]
    pub fn new_list(&self) -> Result<Handle<'_>> {
        // SAFETY: the context is live; a list of length 0 has no NULL items.
        unsafe { Handle::from_raw_result(self, sys::HPyList_New(self.as_raw(), 0)) }
    }

    /// A new `tuple` of `items` (`HPyTuple_FromArray`); the items are not consumed.
    ///
    /// ```
    /// fn pair<'py>(a: &hpy::Handle<'py>, b: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     a.ctx().new_tuple(&[a, b])
    /// }
    /// ```
    pub fn new_tuple<'ctx>(&'ctx self, items: &[&Handle<'ctx>]) -> Result<Handle<'ctx>> {
        if items.len() <= STACK_TUPLE {
            let mut raw = [sys::HPy::NULL; STACK_TUPLE];
            for (r, h) in raw.iter_mut().zip(items) {
                *r = h.raw;
            }
            // SAFETY: the elements come from `&Handle`s borrowed for the call.
            unsafe { self.tuple_from_raw(&raw[..items.len()]) }
        } else {
            let mut raw: Vec<sys::HPy> = Vec::new();
            crate::util::try_reserve(&mut raw, items.len())?;
            raw.extend(items.iter().map(|h| h.raw));
            // SAFETY: the elements come from `&Handle`s borrowed for the call.
            unsafe { self.tuple_from_raw(&raw) }
        }
    }

    /// A new tuple of the handles `raw` (`HPyTuple_FromArray`, which does not
    /// steal them).
    ///
    /// # Safety
    ///
    /// Every element of `raw` must be an open handle of this context.
    #[inline(always)]
    pub(crate) unsafe fn tuple_from_raw(&self, raw: &[sys::HPy]) -> Result<Handle<'_>> {
        // SAFETY: the context is live and every element is an open handle (the
        // caller's guarantee); `HPyTuple_FromArray` only reads the array and
        // does not steal the handles; a slice never holds more than
        // `isize::MAX` bytes.
        unsafe {
            Handle::from_raw_result(
                self,
                sys::HPyTuple_FromArray(
                    self.as_raw(),
                    raw.as_ptr().cast_mut(),
                    raw.len() as sys::HPy_ssize_t,
                ),
            )
        }
    }

    /// A new empty `dict` (`HPyDict_New`).
    #[inline]
    pub fn new_dict(&self) -> Result<Handle<'_>> {
        // SAFETY: the context is live.
        unsafe { Handle::from_raw_result(self, sys::HPyDict_New(self.as_raw())) }
    }
}

/// An exact `tuple` of the real items of the tuple subclass instance `obj`:
/// `tuple.__add__((), obj)`, which reads the items themselves, not what an
/// overridden `__len__`, `__getitem__` or `__iter__` says.
#[cold]
pub(crate) fn exact_tuple_copy<'ctx>(obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    let ctx = obj.ctx();
    let add = ctx.tuple_type().get_attr("__add__")?;
    let empty = ctx.new_tuple(&[])?;
    add.call((&empty, obj))
}

#[cold]
fn index_too_large() -> crate::Error {
    crate::exc::IndexError::new_err("cannot fit 'int' into an index-sized integer")
}

/// The entries of a `dict` ([`Handle::dict_items`]): `(key, value)` pairs of
/// new handles.
#[derive(Debug)]
pub struct DictItems<'ctx> {
    #[cfg(hpy_abi = "cpython")]
    dict: Handle<'ctx>,
    #[cfg(hpy_abi = "cpython")]
    pos: sys::HPy_ssize_t,
    /// The exact dict whose keys `list` holds, or `None`: `list` holds the
    /// `(key, value)` pairs.
    #[cfg(not(hpy_abi = "cpython"))]
    dict: Option<Handle<'ctx>>,
    #[cfg(not(hpy_abi = "cpython"))]
    list: Handle<'ctx>,
    #[cfg(not(hpy_abi = "cpython"))]
    n: usize,
    #[cfg(not(hpy_abi = "cpython"))]
    i: usize,
}

impl<'ctx> DictItems<'ctx> {
    /// The next entry, as [`next`](Iterator::next) gives it, but without new
    /// references where the build can lend the dict's own (a CPython-ABI
    /// build; a universal build makes new handles, closed when the
    /// [`BorrowedItem`]s are dropped).
    ///
    /// # Safety
    ///
    /// The entry must stay in the dict for all of `'a`: the rules of
    /// [`Handle::seq_item_borrowed`] (no Python code, no change to the dict,
    /// no object the garbage collector tracks while the entry is in use).
    ///
    /// ```
    /// fn count_none_values(d: &hpy::Handle<'_>) -> hpy::Result<usize> {
    ///     let mut items = d.dict_items()?;
    ///     let mut n = 0;
    ///     // SAFETY: only an identity test runs while an entry is in use.
    ///     while let Some(entry) = unsafe { items.next_borrowed() } {
    ///         let (_key, value) = entry?;
    ///         n += usize::from(value.is_none());
    ///     }
    ///     Ok(n)
    /// }
    /// ```
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    pub unsafe fn next_borrowed<'a>(
        &mut self,
    ) -> Option<Result<(BorrowedItem<'a, 'ctx>, BorrowedItem<'a, 'ctx>)>> {
        #[cfg(hpy_abi = "cpython")]
        {
            // SAFETY: `dict` is an open dict.
            let (k, v) =
                unsafe { sys::cpython::fast::dict_next_borrowed(self.dict.raw, &mut self.pos) }?;
            let ctx = self.dict.ctx;
            // SAFETY: the dict's references, kept in it for `'a` (the caller's promise).
            Some(Ok(unsafe {
                (BorrowedItem::lent(ctx, k), BorrowedItem::lent(ctx, v))
            }))
        }
        #[cfg(not(hpy_abi = "cpython"))]
        self.next()
            .map(|entry| entry.map(|(k, v)| (BorrowedItem::owned(k), BorrowedItem::owned(v))))
    }
}

impl<'ctx> Iterator for DictItems<'ctx> {
    type Item = Result<(Handle<'ctx>, Handle<'ctx>)>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        #[cfg(hpy_abi = "cpython")]
        {
            // SAFETY: `dict` is an open dict.
            let (k, v) = unsafe { sys::cpython::fast::dict_next(self.dict.raw, &mut self.pos) }?;
            let ctx = self.dict.ctx;
            // SAFETY: both are new handles in the live context.
            Some(Ok(unsafe {
                (Handle::from_raw(ctx, k), Handle::from_raw(ctx, v))
            }))
        }
        #[cfg(not(hpy_abi = "cpython"))]
        loop {
            if self.i >= self.n {
                return None;
            }
            let item = match self.list.seq_item(self.i) {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            self.i += 1;
            let Some(dict) = &self.dict else {
                // A `(key, value)` pair of the snapshot.
                return Some(item.seq_item(0).and_then(|k| Ok((k, item.seq_item(1)?))));
            };
            let ctx = dict.ctx;
            // SAFETY: both handles are open; the result is new or NULL with an
            // exception (`KeyError` for a key Python code removed meanwhile,
            // which is skipped).
            let value = unsafe {
                Handle::from_raw_result(ctx, sys::HPy_GetItem(ctx.as_raw(), dict.raw, item.raw))
            };
            match value {
                Ok(value) => return Some(Ok((item, value))),
                Err(e) => {
                    if ctx.err_matches(&crate::exc::KeyError::type_object(ctx)) {
                        ctx.err_clear();
                        continue;
                    }
                    return Some(Err(e));
                }
            }
        }
    }
}

impl<'ctx> Handle<'ctx> {
    /// Whether the object is a `list` (or a subclass) (`HPyList_Check`).
    #[inline]
    pub fn is_list(&self) -> bool {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::HPyList_Check(self.ctx.as_raw(), self.raw) != 0 }
    }

    /// Whether the object is a `tuple` (or a subclass) (`HPyTuple_Check`).
    #[inline]
    pub fn is_tuple(&self) -> bool {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::HPyTuple_Check(self.ctx.as_raw(), self.raw) != 0 }
    }

    /// Whether the object is exactly a `list`, not an instance of a subclass
    /// (`type(x) is list`; PyO3's `PyList::is_exact_type_of`). Unlike a
    /// subclass's, an exact list's `len()`, items and iteration are its own.
    ///
    /// In a CPython-ABI build this is `PyList_CheckExact` (a comparison of
    /// the type pointer); the universal build compares `HPy_Type`.
    #[inline]
    pub fn is_exact_list(&self) -> bool {
        #[cfg(hpy_abi = "cpython")]
        // SAFETY: the handle is open.
        return unsafe { sys::cpython::fast::is_exact_list(self.raw) };
        #[cfg(not(hpy_abi = "cpython"))]
        self.type_is(sys::h_ListType)
    }

    /// Whether the object is exactly a `tuple`, not an instance of a subclass
    /// (`type(x) is tuple`); see [`Handle::is_exact_list`].
    #[inline]
    pub fn is_exact_tuple(&self) -> bool {
        #[cfg(hpy_abi = "cpython")]
        // SAFETY: the handle is open.
        return unsafe { sys::cpython::fast::is_exact_tuple(self.raw) };
        #[cfg(not(hpy_abi = "cpython"))]
        self.type_is(sys::h_TupleType)
    }

    /// Whether the object's type is the context's type constant `ty`.
    #[cfg(not(hpy_abi = "cpython"))]
    #[inline]
    pub(super) fn type_is(&self, ty: unsafe fn(*mut sys::HPyContext) -> sys::HPy) -> bool {
        let raw = self.ctx.as_raw();
        let t = self.get_type();
        // SAFETY: both handles are open; `ty` reads a constant of the context.
        unsafe { sys::HPy_Is(raw, t.raw, ty(raw)) != 0 }
    }

    /// Whether the object is a `dict` (or a subclass) (`HPyDict_Check`).
    #[inline]
    pub fn is_dict(&self) -> bool {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::HPyDict_Check(self.ctx.as_raw(), self.raw) != 0 }
    }

    /// `list.append(value)` (`HPyList_Append`), converting `value` first; the
    /// list keeps its own reference.
    ///
    /// Anything but a `list` raises `TypeError: descriptor 'append' for 'list'
    /// objects doesn't apply to a 'tuple' object`.
    #[inline]
    pub fn append(&self, value: impl IntoPy<'ctx>) -> Result<()> {
        // Checked first: for a non-list, CPython's `HPyList_Append` raises
        // `SystemError: bad argument to internal function`, and PyPy 7.3.19's
        // aborts the process (`Fatal RPython error: AssertionError`).
        if !self.is_list() {
            return Err(descriptor_error("append", "list", self));
        }
        let value = value.into_py(self.ctx)?;
        // SAFETY: `self` is an open list and `value` an open handle; the list
        // does not steal `value`, which is closed when it is dropped.
        check_status(unsafe { sys::HPyList_Append(self.ctx.as_raw(), self.raw, value.raw) })
    }

    /// `list(d.keys())` of a `dict` (`HPyDict_Keys`): a new `list`.
    ///
    /// Anything but a `dict` raises `TypeError: descriptor 'keys' for 'dict'
    /// objects doesn't apply to a 'list' object`.
    ///
    /// ```
    /// fn keys_and_snapshot<'py>(
    ///     d: &hpy::Handle<'py>,
    /// ) -> hpy::Result<(hpy::Handle<'py>, hpy::Handle<'py>)> {
    ///     let keys = d.keys()?; // a new list of the keys
    ///     let snapshot = d.copy()?; // a new dict, unaffected by later changes to `d`
    ///     Ok((keys, snapshot))
    /// }
    /// ```
    #[inline]
    pub fn keys(&self) -> Result<Handle<'ctx>> {
        // Checked first: both runtimes raise `SystemError` for a non-dict.
        if !self.is_dict() {
            return Err(descriptor_error("keys", "dict", self));
        }
        // SAFETY: `self` is an open dict; the result is new or NULL with an exception.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPyDict_Keys(self.ctx.as_raw(), self.raw)) }
    }

    /// `self[i]`, with a fast path for an exact `list` or `tuple`, whose item
    /// is read directly (in a CPython-ABI build, `PyList_GET_ITEM` after a
    /// check against the current length); anything else goes through the
    /// sequence protocol (`HPy_GetItem_i`), which may run Python code.
    ///
    /// Past the end raises `IndexError`.
    ///
    /// ```
    /// fn first_two<'py>(seq: &hpy::Handle<'py>) -> hpy::Result<(hpy::Handle<'py>, hpy::Handle<'py>)> {
    ///     Ok((seq.seq_item(0)?, seq.seq_item(1)?))
    /// }
    /// ```
    #[inline]
    pub fn seq_item(&self, i: usize) -> Result<Handle<'ctx>> {
        let Ok(i) = sys::HPy_ssize_t::try_from(i) else {
            return Err(index_too_large());
        };
        #[cfg(hpy_abi = "cpython")]
        // SAFETY: the handle is open; the result is new or NULL with an exception.
        return unsafe {
            Handle::from_raw_result(self.ctx, sys::cpython::fast::seq_item(self.raw, i))
        };
        #[cfg(not(hpy_abi = "cpython"))]
        // SAFETY: the handle is open; the result is new or NULL with an exception.
        unsafe {
            Handle::from_raw_result(self.ctx, sys::HPy_GetItem_i(self.ctx.as_raw(), self.raw, i))
        }
    }

    /// [`seq_item`](Handle::seq_item) without a new reference where the build
    /// can lend the container's own: in a CPython-ABI build the items of an
    /// exact `list` or `tuple` (`PyList_GET_ITEM` after the check against the
    /// current length, and no `Py_INCREF`, no `Py_DECREF` on drop); anything
    /// else, and every item in a universal build, is a new handle, closed
    /// when the [`BorrowedItem`] is dropped.
    ///
    /// For a tight loop over a container whose items are read and dropped at
    /// once (a serializer's), saving a reference count write to each item's
    /// memory.
    ///
    /// # Safety
    ///
    /// The item must stay in the container for all of `'a`: while the item is
    /// in use, the caller changes neither the container nor anything that
    /// could, runs no Python code (calls, attribute access, comparisons,
    /// conversions of objects of unknown type) and makes no object that the
    /// garbage collector tracks (a list, tuple, dict, instance, exception: a
    /// collection can run any `__del__`). Where that cannot be promised,
    /// [`dup`](Handle::dup) the item first.
    ///
    /// ```
    /// fn count_none(list: &hpy::Handle<'_>) -> hpy::Result<usize> {
    ///     let mut n = 0;
    ///     for i in 0..list.len()? {
    ///         // SAFETY: only an identity test runs while the item is in use.
    ///         let item = unsafe { list.seq_item_borrowed(i) }?;
    ///         n += usize::from(item.is_none());
    ///     }
    ///     Ok(n)
    /// }
    /// ```
    #[inline]
    pub unsafe fn seq_item_borrowed<'a>(&self, i: usize) -> Result<BorrowedItem<'a, 'ctx>> {
        #[cfg(hpy_abi = "cpython")]
        {
            let Ok(index) = sys::HPy_ssize_t::try_from(i) else {
                return Err(index_too_large());
            };
            // SAFETY: the handle is open; the caller keeps the item in the
            // container for `'a`.
            if let Some(raw) = unsafe { sys::cpython::fast::seq_item_borrowed(self.raw, index) } {
                if raw.is_null() {
                    return Err(crate::Error::raised());
                }
                // SAFETY: the container's reference, alive for `'a` (above).
                return Ok(unsafe { BorrowedItem::lent(self.ctx, raw) });
            }
        }
        self.seq_item(i).map(BorrowedItem::owned)
    }

    /// The entries of a `dict`, as `(key, value)` pairs of new handles: an
    /// iterator that calls no Python code, neither a subclass's `__iter__`,
    /// `keys` or `__getitem__` (a subclass's own entries are read, as `dict`'s
    /// C code reads them) nor the keys' `__eq__`.
    ///
    /// In a CPython-ABI build it walks the dict's table (`PyDict_Next`); in a
    /// universal build it reads a snapshot of the keys and looks each one up.
    /// Entries added or removed while iterating (by Python code the caller
    /// runs between steps) may or may not be seen; it never fails because of
    /// them. Anything but a `dict` raises `TypeError: descriptor 'items' for
    /// 'dict' objects doesn't apply to a 'list' object`.
    ///
    /// ```
    /// fn sum_values(d: &hpy::Handle<'_>) -> hpy::Result<i64> {
    ///     let mut total = 0;
    ///     for entry in d.dict_items()? {
    ///         let (_key, value) = entry?;
    ///         total += value.extract::<i64>()?;
    ///     }
    ///     Ok(total)
    /// }
    /// ```
    pub fn dict_items(&self) -> Result<DictItems<'ctx>> {
        self.dup().into_dict_items()
    }

    /// [`dict_items`](Handle::dict_items), taking the handle (one reference
    /// less to make and drop).
    pub fn into_dict_items(self) -> Result<DictItems<'ctx>> {
        #[cfg(hpy_abi = "cpython")]
        {
            if !self.is_dict() {
                return Err(descriptor_error("items", "dict", &self));
            }
            Ok(DictItems { dict: self, pos: 0 })
        }
        #[cfg(not(hpy_abi = "cpython"))]
        {
            // HPy 0.9 has neither `HPyDict_CheckExact` nor a handle of `dict`:
            // the type is compared with a new dict's, kept after the first time.
            static DICT_TYPE: crate::Global = crate::Global::new();
            let dict_type = match DICT_TYPE.try_load(self.ctx) {
                Some(t) => t,
                None => {
                    let t = self.ctx.new_dict()?.get_type();
                    DICT_TYPE.store(self.ctx, &t);
                    t
                }
            };
            if self.get_type().is(&dict_type) {
                // An exact dict: its keys, each looked up (no override there).
                // SAFETY: `self` is an open dict; the result is new or NULL
                // with an exception.
                let keys = unsafe {
                    Handle::from_raw_result(
                        self.ctx,
                        sys::HPyDict_Keys(self.ctx.as_raw(), self.raw),
                    )
                }?;
                let n = keys.len()?;
                return Ok(DictItems {
                    dict: Some(self),
                    list: keys,
                    n,
                    i: 0,
                });
            }
            if !self.is_dict() {
                return Err(descriptor_error("items", "dict", &self));
            }
            // A subclass: `list(iter(dict.items(d)))`, its own entries
            // (`dict.copy` and `dict(d)` would call an overridden `keys`).
            // Through the view's iterator: `list(view)` sizes its list by
            // the view's length, which PyPy takes from an overridden
            // `__len__` (a lie of 10**9 allocated 8 GB there); the
            // iterator's length hint is the dict's own.
            let view = dict_type.get_attr("items")?.call1(&self)?;
            let iter = view.call_method0("__iter__")?;
            let list = self.ctx.list_type().call1(&iter)?;
            let n = list.len()?;
            Ok(DictItems {
                dict: None,
                list,
                n,
                i: 0,
            })
        }
    }

    /// `d.copy()` of a `dict` (`HPyDict_Copy`): a new shallow copy.
    ///
    /// Anything but a `dict` raises `TypeError: descriptor 'copy' for 'dict'
    /// objects doesn't apply to a 'list' object`.
    #[inline]
    pub fn copy(&self) -> Result<Handle<'ctx>> {
        // Checked first: both runtimes raise `SystemError` for a non-dict.
        if !self.is_dict() {
            return Err(descriptor_error("copy", "dict", self));
        }
        // SAFETY: `self` is an open dict; the result is new or NULL with an exception.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPyDict_Copy(self.ctx.as_raw(), self.raw)) }
    }
}
