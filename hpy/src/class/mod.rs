//! Custom types: Rust structs as Python classes (`#[hpy_class]`), their
//! instances, and the borrows that give Rust code `&T` and `&mut T`.
//!
//! ```
//! use hpy::hpy_module;
//!
//! #[hpy_module]
//! mod shapes {
//!     use hpy::{hpy_class, hpy_methods};
//!
//!     /// A point in the plane.
//!     #[hpy_class]
//!     struct Point {
//!         #[hpy(get, set)]
//!         x: f64,
//!         #[hpy(get)]
//!         y: f64,
//!     }
//!
//!     #[hpy_methods]
//!     impl Point {
//!         #[new]
//!         #[hpy(signature = (x = 0.0, y = 0.0))]
//!         fn new(x: f64, y: f64) -> Self {
//!             Point { x, y }
//!         }
//!
//!         fn norm(&self) -> f64 {
//!             self.x.hypot(self.y)
//!         }
//!
//!         fn scale(&mut self, k: f64) {
//!             self.x *= k;
//!             self.y *= k;
//!         }
//!
//!         fn __repr__(&self) -> String {
//!             format!("Point({}, {})", self.x, self.y)
//!         }
//!     }
//! }
//! ```
//!
//! # How an instance holds its struct
//!
//! An instance's HPy payload (`_HPy_AsStruct_Object`) is a
//! [`ClassObject<T>`](crate::impl_::ClassObject): a borrow state, then the
//! struct. `HPy_New` zeroes the payload, and a zero state means "no struct
//! yet" (an instance made by `object.__new__` of a Python subclass, which
//! skips the class's `__new__`): such an instance raises `TypeError` instead
//! of handing out an uninitialised struct. The struct is dropped when the
//! object dies (`HPy_tp_destroy`).
//!
//! # Borrows
//!
//! Many handles may point at one object, and Python code may re-enter Rust
//! while a method runs, so `&T` and `&mut T` are handed out through a
//! run-time borrow flag, as `RefCell` does: [`Ref`] and [`RefMut`]. A
//! conflicting borrow raises `RuntimeError: Already borrowed` (or `Already
//! mutably borrowed`); two live `&mut T` (or a `&mut T` and a `&T`) to one
//! struct are never possible from safe code, whatever Python does. A
//! `frozen` class has no `&mut T` at all and skips the counting. A method
//! that cannot reach Python (its receiver and nothing else: no `&Context`,
//! no argument, a result that borrows nothing) only checks the flag: Python
//! code runs only through a `Context`, so no borrow can begin or end while
//! such a method runs (`hpy::impl_::self_peek`).

use core::cell::Cell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

pub mod base;
mod field;

pub use base::{ClassBase, Init};
pub use field::Field;

use crate::err::{Error, Result};
use crate::impl_::{ClassDef, ClassObject};
use crate::{Context, Handle};
use hpy_sys as sys;

/// A Rust struct that is a Python class: implemented by `#[hpy_class]`.
///
/// # Safety
///
/// Implemented only by `#[hpy_class]`, which guarantees that [`Class::__def`]
/// describes a type whose instances carry a [`ClassObject<Self>`] at
/// [`Class::OFFSET`] of their HPy payload, behind the payloads of the
/// classes it extends ([`Class::Base`]).
pub unsafe trait Class: Sized + 'static {
    /// The Python name of the class (`Point`).
    const NAME: &'static str;
    /// Whether the class is frozen: its struct is never borrowed mutably, so
    /// no borrow flag is counted.
    const FROZEN: bool;
    /// Whether the class may be subclassed (`#[hpy_class(subclass)]`).
    const SUBCLASS: bool;
    /// Whether the struct may only be used in the thread that made it
    /// (`#[hpy_class(unsendable)]`).
    const UNSENDABLE: bool;
    /// Whether instances have a `__dict__` (`#[hpy_class(dict)]`).
    const DICT: bool;
    /// Whether instances can be weakly referenced (`#[hpy_class(weakref)]`).
    const WEAKREF: bool;
    /// What the class extends: [`base::Object`], a builtin type
    /// ([`base::Float`], an exception type such as [`exc::ValueError`](crate::exc::ValueError), ...), or another class.
    type Base: ClassBase;
    /// Where the class's `ClassObject` is in the payload: after its bases'.
    #[doc(hidden)]
    const OFFSET: usize;
    /// Whether the struct holds `Field`s.
    #[doc(hidden)]
    const HAS_FIELDS: bool;
    /// The class's definition (hidden: the macro's).
    #[doc(hidden)]
    fn __def() -> &'static ClassDef;
    /// Visits the `Field`s of the struct at `value` (`tp_traverse`): what the
    /// visitor returns, or 0.
    ///
    /// # Safety
    /// `value` points to a live, initialised struct; `visit` and `arg` are
    /// those of the runtime's `tp_traverse` call.
    #[doc(hidden)]
    unsafe fn __visit_fields(
        value: *const Self,
        visit: sys::HPyFunc_visitproc,
        arg: *mut core::ffi::c_void,
    ) -> core::ffi::c_int;
}

/// A class that is not `frozen`: its struct can be borrowed mutably
/// (implemented by `#[hpy_class]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is `frozen`: its struct is never borrowed mutably",
    label = "a frozen class",
    note = "borrow it shared (`borrow`, `&T`), or drop `frozen` from its `#[hpy_class]`"
)]
pub trait Mutable: Class {}

/// A shared borrow of the struct inside an instance of `T`: `Deref<Target =
/// T>`. While it lives, the struct cannot be borrowed mutably.
#[must_use = "a borrow that is not used at once is released at once"]
pub struct Ref<'a, T: Class> {
    cell: &'a ClassObject<T>,
    /// Keeps the borrow in the thread of its handle (the flag is a `Cell`).
    _not_send: PhantomData<*const ()>,
}

/// A mutable borrow of the struct inside an instance of `T`: `DerefMut<Target
/// = T>`. While it lives, the struct cannot be borrowed at all.
#[must_use = "a borrow that is not used at once is released at once"]
pub struct RefMut<'a, T: Class> {
    cell: &'a ClassObject<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: Class> Deref for Ref<'_, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the borrow state says "shared" (or the class is frozen) and
        // the struct is initialised (checked when the borrow was taken); no
        // `&mut T` exists while this guard lives.
        unsafe { self.cell.value() }
    }
}

impl<T: Class> Drop for Ref<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        if !T::FROZEN {
            self.cell.release_shared();
        }
    }
}

impl<T: Class> Deref for RefMut<'_, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the only borrow of an initialised struct.
        unsafe { self.cell.value() }
    }
}

impl<T: Class> DerefMut for RefMut<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the only borrow of an initialised struct,
        // and `&mut self` makes this the only reference made from it.
        unsafe { self.cell.value_mut() }
    }
}

impl<T: Class> Drop for RefMut<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.cell.release_exclusive();
    }
}

impl<T: Class + core::fmt::Debug> core::fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Class + core::fmt::Debug> core::fmt::Debug for RefMut<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T: Class> Ref<'a, T> {
    /// Borrows the struct of `cell` (shared).
    #[inline(always)]
    pub(crate) fn new(cell: &'a ClassObject<T>) -> Result<Self> {
        if T::FROZEN {
            cell.check_initialised()?;
        } else {
            cell.acquire_shared()?;
        }
        Ok(Ref {
            cell,
            _not_send: PhantomData,
        })
    }
}

impl<'a, T: Class> RefMut<'a, T> {
    /// Borrows the struct of `cell` (exclusive).
    #[inline(always)]
    pub(crate) fn new(cell: &'a ClassObject<T>) -> Result<Self> {
        const {
            assert!(
                !T::FROZEN,
                "a `frozen` class is never borrowed mutably: no `&mut self`, `&mut T` or `borrow_mut` for it"
            );
        }
        cell.acquire_exclusive()?;
        Ok(RefMut {
            cell,
            _not_send: PhantomData,
        })
    }
}

/// The borrow state kept in front of the struct.
pub(crate) type BorrowState = Cell<usize>;

impl Handle<'_> {
    /// Whether this object is an instance of the class `T` (or of a
    /// subclass).
    pub fn is_instance_of<T: Class>(&self) -> Result<bool> {
        let ty = self.ctx().type_object::<T>()?;
        // SAFETY: both handles are open and `ty` is a type.
        Ok(unsafe { sys::HPy_TypeCheck(self.ctx().as_raw(), self.as_raw(), ty.as_raw()) != 0 })
    }

    /// Borrows the struct of this instance of `T`: `TypeError` if it is not
    /// one (`expected Point, got int`), `RuntimeError` if the struct is
    /// borrowed mutably.
    ///
    /// ```
    /// # #[hpy::hpy_module] mod m {}
    /// # #[hpy::hpy_class] struct Point { x: f64 }
    /// fn x_of(obj: &hpy::Handle<'_>) -> hpy::Result<f64> {
    ///     Ok(obj.borrow::<Point>()?.x)
    /// }
    /// # fn main() {}
    /// ```
    pub fn borrow<T: Class>(&self) -> Result<Ref<'_, T>> {
        Ref::new(self.class_object::<T>()?)
    }

    /// Borrows the struct of this instance of `T` mutably: `TypeError` if it
    /// is not one, `RuntimeError` if the struct is borrowed already. A frozen
    /// class is never borrowed mutably: for one, this does not compile.
    pub fn borrow_mut<T: Mutable>(&self) -> Result<RefMut<'_, T>> {
        RefMut::new(self.class_object::<T>()?)
    }

    /// The payload of this instance of `T`, checked.
    pub(crate) fn class_object<T: Class>(&self) -> Result<&ClassObject<T>> {
        if !self.is_instance_of::<T>()? {
            return Err(Error::wrong_type(T::NAME, self));
        }
        // SAFETY: the object is an instance of `T`'s type (checked above), whose
        // payload is a `ClassObject<T>` (the `Class` contract); it lives as long
        // as this handle.
        unsafe { ClassObject::<T>::of(self) }
    }
}

impl Context {
    /// The Python class of `T` (made when its module was imported).
    ///
    /// ```
    /// # #[hpy::hpy_module] mod m {}
    /// # #[hpy::hpy_class] struct Point { x: f64 }
    /// fn point_class(ctx: &hpy::Context) -> hpy::Result<hpy::Handle<'_>> {
    ///     ctx.type_object::<Point>()
    /// }
    /// # fn main() {}
    /// ```
    #[inline]
    pub fn type_object<T: Class>(&self) -> Result<Handle<'_>> {
        T::__def().type_object(self)
    }

    /// A new instance of `T` made by `init`: the struct (what returning a
    /// `T` from a function gives Python), or the struct with what its bases
    /// need (see [`Init`](base::Init)).
    pub fn new_instance<T: Class>(&self, init: impl base::Init<T>) -> Result<Handle<'_>> {
        let ty = self.type_object::<T>()?;
        Ok(init.__create(self, &ty)?.0)
    }
}
