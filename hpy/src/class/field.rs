//! [`Field`]: a reference from a class's struct to a Python object.

use core::cell::UnsafeCell;

use crate::err::{Result, exc};
use crate::impl_::payload_bounds;
use crate::{Context, Handle};
use hpy_sys as sys;

/// A reference from the struct of a [`#[hpy_class]`](crate::hpy_class) to a
/// Python object (HPy's `HPyField`): the only way a struct holds Python
/// objects across calls (a [`Handle`] lives for one call). The class
/// reports every `Field` of its struct to the garbage collector (a generated
/// `tp_traverse`), so reference cycles through Rust objects are collected.
///
/// A field is read and written through its owner, the object whose struct
/// holds it (HPy needs it: PyPy's collector must learn of the new reference
/// at the owner); the owner is checked, so a field can only ever be reached
/// through its own object.
///
/// ```
/// # #[hpy::hpy_module] mod m {}
/// use hpy::{Field, Handle, Result, hpy_class, hpy_methods};
///
/// /// A node of a linked list.
/// #[hpy_class]
/// struct Node {
///     #[hpy(get, set)]
///     next: Field, // None until set
/// }
///
/// #[hpy_methods]
/// impl Node {
///     #[new]
///     fn new() -> Self {
///         Node { next: Field::new() }
///     }
///
///     /// The node after the next one.
///     fn skip<'py>(slf: &Handle<'py>) -> Result<Option<Handle<'py>>> {
///         let Some(next) = slf.borrow::<Node>()?.next.load(slf)? else {
///             return Ok(None);
///         };
///         let after = next.borrow::<Node>()?.next.load(&next)?;
///         Ok(after)
///     }
/// }
/// # fn main() {}
/// ```
#[repr(transparent)]
pub struct Field {
    raw: UnsafeCell<sys::HPyField>,
}

// SAFETY: a field is read and written only by calls that hold the interpreter
// lock (through a `Context`) and by the runtime's collector, which also does;
// the struct that holds it may move to another thread (it is dropped where
// its object dies).
unsafe impl Send for Field {}

impl Default for Field {
    fn default() -> Self {
        Field::new()
    }
}

impl core::fmt::Debug for Field {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.is_set() {
            "Field(<object>)"
        } else {
            "Field(None)"
        })
    }
}

impl Field {
    /// A field that refers to nothing (it reads as `None`).
    pub const fn new() -> Self {
        Field {
            raw: UnsafeCell::new(sys::HPyField::NULL),
        }
    }

    /// Whether the field refers to an object.
    pub fn is_set(&self) -> bool {
        // SAFETY: a plain read of the field's value, under the interpreter lock.
        !unsafe { *self.raw.get() }.is_null()
    }

    /// The object the field refers to (a new handle), or `None`. `owner` is
    /// the object whose struct holds the field (`ValueError` otherwise).
    pub fn load<'py>(&self, owner: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        self.check_owner(owner)?;
        // SAFETY: as in `is_set`.
        let raw = unsafe { *self.raw.get() };
        if raw.is_null() {
            return Ok(None);
        }
        let ctx = owner.ctx();
        // SAFETY: the context is live, `owner` is the object that holds the
        // field (checked), and the field refers to a live object (its owner keeps
        // it alive and reports it to the collector).
        let h = unsafe { sys::HPyField_Load(ctx.as_raw(), owner.as_raw(), raw) };
        // SAFETY: `HPyField_Load` returns a new handle, or NULL with an exception.
        unsafe { Handle::from_raw_result(ctx, h) }.map(Some)
    }

    /// Makes the field refer to `value` (`None`: to nothing), releasing what
    /// it referred to. `owner` is the object whose struct holds the field
    /// (`ValueError` otherwise).
    pub fn store(&self, owner: &Handle<'_>, value: Option<&Handle<'_>>) -> Result<()> {
        self.check_owner(owner)?;
        let ctx: &Context = owner.ctx();
        let h = value.map_or(sys::HPy::NULL, Handle::as_raw);
        // SAFETY: the context is live, `owner` holds the field (checked), the
        // field is valid writable memory inside it, and `h` is NULL or an open
        // handle; `HPyField_Store` does not steal it.
        unsafe { sys::HPyField_Store(ctx.as_raw(), owner.as_raw(), self.raw.get(), h) };
        Ok(())
    }

    /// The `HPyField` of the field at `field`, for the class's
    /// `tp_traverse` (which must not make references into a struct that may
    /// be borrowed mutably).
    #[doc(hidden)]
    pub const fn __raw(field: *const Field) -> *mut sys::HPyField {
        // `Field` is a transparent `UnsafeCell<HPyField>`.
        field as *mut sys::HPyField
    }

    /// [`Field::load`] for an owner known to hold the field (the class's own
    /// property getter).
    ///
    /// # Safety
    /// `owner` is the object whose struct holds this field.
    #[doc(hidden)]
    pub unsafe fn __load_unchecked<'py>(&self, owner: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        // SAFETY: as in `is_set`.
        let raw = unsafe { *self.raw.get() };
        if raw.is_null() {
            return Ok(None);
        }
        let ctx = owner.ctx();
        // SAFETY: as in `load`; the owner is right (the caller's contract).
        let h = unsafe { sys::HPyField_Load(ctx.as_raw(), owner.as_raw(), raw) };
        // SAFETY: a new handle, or NULL with an exception.
        unsafe { Handle::from_raw_result(ctx, h) }.map(Some)
    }

    /// [`Field::store`] for an owner known to hold the field (the class's own
    /// property setter); Python's `None` clears the field.
    ///
    /// # Safety
    /// `owner` is the object whose struct holds this field.
    #[doc(hidden)]
    pub unsafe fn __store_unchecked(&self, owner: &Handle<'_>, value: &Handle<'_>) {
        let ctx = owner.ctx();
        let h = if value.is_none() {
            sys::HPy::NULL
        } else {
            value.as_raw()
        };
        // SAFETY: as in `store`; the owner is right (the caller's contract).
        unsafe { sys::HPyField_Store(ctx.as_raw(), owner.as_raw(), self.raw.get(), h) };
    }

    /// `ValueError` unless this field lies in the struct of `owner`.
    fn check_owner(&self, owner: &Handle<'_>) -> Result<()> {
        let at = self.raw.get() as usize;
        match payload_bounds(owner) {
            Some((start, end)) if start <= at && at + size_of::<sys::HPyField>() <= end => Ok(()),
            _ => Err(not_the_owner()),
        }
    }
}

#[cold]
fn not_the_owner() -> crate::Error {
    exc::ValueError::new_err("a Field is read and written through the object whose struct holds it")
}
