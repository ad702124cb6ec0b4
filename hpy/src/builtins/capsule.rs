//! Capsules holding a Rust value: a safe, typed API over `HPyCapsule_*`.
//!
//! A capsule made by [`Context::new_capsule`] owns a boxed value, which its
//! destructor drops when Python frees the capsule. The box starts with a
//! header (the value's `TypeId`, and how to drop it), and the capsule's
//! *context* pointer is set to a static of this module, private to the
//! extension's binary. [`Handle::capsule_ref`] hands out a reference only when
//! the name matches, the context pointer is that static (so the capsule was
//! made here, by this very binary, and its pointer is such a box) and the
//! `TypeId` is the requested one: a capsule from elsewhere, or holding another
//! type, raises an exception instead of being misread.

use core::any::TypeId;
use core::cell::UnsafeCell;
use core::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::type_check;
use crate::err::{Error, Result, exc::TypeError, exc::ValueError};
use crate::{Context, Handle};
use hpy_sys as sys;

/// The start of every capsule payload made here.
#[repr(C)]
struct Header {
    type_id: TypeId,
    type_name: &'static str,
    /// Drops the whole `Payload<T>` this header starts.
    drop: unsafe fn(*mut Header),
}

/// What a capsule's pointer points to: a header, then the value.
#[repr(C)]
struct Payload<T> {
    header: Header,
    value: T,
}

/// Frees a `Box<Payload<T>>` from its header pointer.
///
/// # Safety
/// `p` must come from `Box::into_raw` of a `Box<Payload<T>>`, and not be used again.
unsafe fn drop_payload<T>(p: *mut Header) {
    // SAFETY: the caller's contract; `Header` is the first field of the
    // `repr(C)` payload, so the pointers are the same.
    drop(unsafe { Box::from_raw(p.cast::<Payload<T>>()) })
}

/// The destructor every capsule made here carries. Its address is also the
/// capsule's context pointer, the mark of "made by this binary".
#[repr(transparent)]
struct StaticDestructor(UnsafeCell<sys::HPyCapsule_Destructor>);

// SAFETY: the runtime reads the destructor (under the GIL) and never writes it;
// Rust code only takes its address.
unsafe impl Sync for StaticDestructor {}

static DESTRUCTOR: StaticDestructor =
    StaticDestructor(UnsafeCell::new(sys::HPyCapsule_Destructor {
        cpy_trampoline: Some(capsule_trampoline),
        impl_: Some(capsule_destructor),
    }));

#[inline(always)]
fn tag() -> *mut c_void {
    DESTRUCTOR.0.get().cast()
}

/// The capsule destructor (`HPyFunc_Capsule_Destructor`): drops the payload.
/// It runs without a context, possibly during garbage collection; a panic in
/// the value's `Drop` is caught (and reported by the panic hook), never
/// unwound into the runtime.
unsafe extern "C" fn capsule_destructor(
    _name: *const c_char,
    pointer: *mut c_void,
    context: *mut c_void,
) {
    // Someone changed the context or pointer through the raw API: leak rather
    // than guess what the pointer is.
    if context != tag() || pointer.is_null() {
        return;
    }
    let header = pointer.cast::<Header>();
    // SAFETY: as below: `pointer` is a live payload made by this binary; the
    // name is read before it is dropped.
    let type_name = unsafe { (*header).type_name };
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the context pointer says this capsule was made by
        // `new_capsule` in this binary, so `pointer` is the `Box<Payload<T>>`
        // it leaked, whose header knows how to drop it; the runtime calls the
        // destructor once.
        unsafe { ((*header).drop)(header) }
    }));
    if let Err(payload) = result {
        crate::impl_::report_unraisable_panic(
            &format!("the destructor of a capsule of {type_name}"),
            &*payload,
        );
        // The payload's own destructor could panic too.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

/// The CPython trampoline of the destructor (`cpy_PyCapsule_Destructor`), as
/// `HPyCapsule_DESTRUCTOR` builds it in C: it hands the capsule to the runtime,
/// which reads its name, pointer and context and calls `capsule_destructor`.
unsafe extern "C" fn capsule_trampoline(capsule: *mut sys::cpy_PyObject) {
    // SAFETY: CPython passes the capsule being deallocated; `capsule_destructor`
    // has the CAPSULE_DESTRUCTOR signature.
    unsafe { crate::impl_::trampoline_capsule_destructor(capsule, DESTRUCTOR_IMPL) }
}

/// `(HPyCFunction)capsule_destructor`.
const DESTRUCTOR_IMPL: sys::HPyCFunction = {
    type Impl = unsafe extern "C" fn(*const c_char, *mut c_void, *mut c_void);
    type Raw = unsafe extern "C" fn() -> *mut c_void;
    // SAFETY: function pointers all have one representation; the runtime calls
    // it back with its real signature (it knows it from the signature tag).
    Some(unsafe { core::mem::transmute::<Impl, Raw>(capsule_destructor) })
};

impl Context {
    /// A new capsule that owns `value` (`HPyCapsule_New`, `HPyCapsule_Set`):
    /// Python frees it like any object, and then `value` is dropped (on
    /// CPython when the last reference goes, on PyPy at a garbage collection).
    ///
    /// `name` identifies the capsule's kind to [`Handle::capsule_ref`] (and to
    /// C code, as in `PyCapsule_Import`); by convention it is
    /// `"module.attribute"`. The value must be `Send`: its `Drop` may run on
    /// whichever thread frees the capsule.
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// struct Counter { hits: Cell<u64> }
    ///
    /// fn new_counter<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     ctx.new_capsule(Counter { hits: Cell::new(0) }, c"mymod.Counter")
    /// }
    ///
    /// fn hit(capsule: &hpy::Handle<'_>) -> hpy::Result<u64> {
    ///     let counter: &Counter = capsule.capsule_ref(c"mymod.Counter")?;
    ///     counter.hits.set(counter.hits.get() + 1);
    ///     Ok(counter.hits.get())
    /// }
    /// ```
    pub fn new_capsule<T: Send + 'static>(
        &self,
        value: T,
        name: &'static CStr,
    ) -> Result<Handle<'_>> {
        let payload = Box::new(Payload {
            header: Header {
                type_id: TypeId::of::<T>(),
                type_name: core::any::type_name::<T>(),
                drop: drop_payload::<T>,
            },
            value,
        });
        let pointer = Box::into_raw(payload);
        // SAFETY: the context is live; `pointer` is non-NULL; `name` is a static
        // C string (the capsule keeps the pointer); the destructor is a static
        // that the runtime keeps a pointer to (PyPy does) and never writes.
        let raw = unsafe {
            sys::HPyCapsule_New(
                self.as_raw(),
                pointer.cast(),
                name.as_ptr(),
                DESTRUCTOR.0.get(),
            )
        };
        if raw.is_null() {
            // No capsule owns the payload: free it here.
            // SAFETY: `pointer` came from `Box::into_raw` just above and nothing
            // else has it.
            drop(unsafe { Box::from_raw(pointer) });
            return Err(Error::raised());
        }
        // SAFETY: `raw` is the new capsule, which we own from here on (dropping it
        // frees the payload through the destructor, whatever happens next).
        let capsule = unsafe { Handle::from_raw(self, raw) };
        // SAFETY: `capsule` is an open capsule; the tag is a static address.
        let r = unsafe {
            sys::HPyCapsule_Set(
                self.as_raw(),
                capsule.raw,
                sys::HPyCapsule_key_Context,
                tag(),
            )
        };
        if r < 0 {
            // The destructor leaves an untagged payload alone: free it here, then
            // the capsule (whose pointer is then dangling but never read).
            drop(capsule);
            // SAFETY: as above; the capsule did not free it.
            drop(unsafe { Box::from_raw(pointer) });
            return Err(Error::raised());
        }
        Ok(capsule)
    }
}

impl<'ctx> Handle<'ctx> {
    /// Whether the object is a capsule named `name` (`HPyCapsule_IsValid`);
    /// any capsule with that name, not only one made by [`Context::new_capsule`].
    #[inline]
    pub fn is_capsule(&self, name: &CStr) -> bool {
        // SAFETY: the handle is open and `name` is a C string.
        unsafe { sys::HPyCapsule_IsValid(self.ctx.as_raw(), self.raw, name.as_ptr()) != 0 }
    }

    /// The name of a capsule, borrowed from it (`HPyCapsule_Get` of the name);
    /// `None` for a capsule without one.
    ///
    /// Anything but a capsule raises `ValueError` (CPython: `PyCapsule_GetName
    /// called with invalid PyCapsule object`).
    pub fn capsule_name(&self) -> Result<Option<&CStr>> {
        if !type_check(self, sys::h_CapsuleType) {
            return Err(ValueError::new_err(
                "PyCapsule_GetName called with invalid PyCapsule object",
            ));
        }
        // SAFETY: the handle is an open capsule; no name is needed for this key.
        let name = unsafe {
            sys::HPyCapsule_Get(
                self.ctx.as_raw(),
                self.raw,
                sys::HPyCapsule_key_Name,
                core::ptr::null(),
            )
        };
        if name.is_null() {
            return if self.ctx.err_occurred() {
                Err(Error::raised())
            } else {
                Ok(None)
            };
        }
        // SAFETY: a capsule's name is a C string that its creator keeps alive as
        // long as the capsule (ours are `'static`), so at least while `self` is open.
        Ok(Some(unsafe { CStr::from_ptr(name.cast::<c_char>()) }))
    }

    /// The value of a capsule made by [`Context::new_capsule`], borrowed from
    /// the handle (`HPyCapsule_IsValid`, `HPyCapsule_Get`).
    ///
    /// Fails, like CPython's `PyCapsule_GetPointer`, with `ValueError:
    /// PyCapsule_GetPointer called with incorrect name` for another name (or
    /// `... with invalid PyCapsule object` for a non-capsule), and with
    /// `TypeError` for a capsule made elsewhere or holding another type than `T`.
    pub fn capsule_ref<T: Send + 'static>(&self, name: &CStr) -> Result<&T> {
        let ctx = self.ctx.as_raw();
        if !self.is_capsule(name) {
            return Err(capsule_invalid(self));
        }
        // SAFETY: the handle is an open capsule; no name is needed for this key.
        let context = unsafe {
            sys::HPyCapsule_Get(
                ctx,
                self.raw,
                sys::HPyCapsule_key_Context,
                core::ptr::null(),
            )
        };
        if context != tag() {
            if self.ctx.err_occurred() {
                return Err(Error::raised());
            }
            return Err(capsule_wrong_type::<T>(name, None));
        }
        // SAFETY: the handle is a valid capsule named `name` (checked above).
        let pointer = unsafe {
            sys::HPyCapsule_Get(ctx, self.raw, sys::HPyCapsule_key_Pointer, name.as_ptr())
        };
        if pointer.is_null() {
            return Err(Error::raised());
        }
        // SAFETY: the capsule carries our tag, so `new_capsule` made it in this
        // binary and its pointer is a live `Box<Payload<_>>`, which starts with a
        // `Header`; it lives until the capsule is freed, so at least while `self`
        // is open (no safe API replaces a capsule's pointer).
        let header = unsafe { &*pointer.cast::<Header>() };
        if header.type_id != TypeId::of::<T>() {
            return Err(capsule_wrong_type::<T>(name, Some(header.type_name)));
        }
        // SAFETY: the payload is a `Payload<T>` (same `TypeId`), alive as above.
        Ok(unsafe { &(*pointer.cast::<Payload<T>>()).value })
    }
}

/// CPython's error for `PyCapsule_GetPointer` on an invalid capsule or name.
#[cold]
fn capsule_invalid(obj: &Handle<'_>) -> Error {
    if type_check(obj, sys::h_CapsuleType) {
        ValueError::new_err("PyCapsule_GetPointer called with incorrect name")
    } else {
        ValueError::new_err("PyCapsule_GetPointer called with invalid PyCapsule object")
    }
}

#[cold]
fn capsule_wrong_type<T>(name: &CStr, holds: Option<&str>) -> Error {
    let name = name.to_string_lossy();
    let wanted = core::any::type_name::<T>();
    match holds {
        Some(holds) => TypeError::new_err(format!(
            "capsule '{name}' holds a `{holds}`, not a `{wanted}`"
        )),
        None => TypeError::new_err(format!(
            "capsule '{name}' was not made by this extension's new_capsule: it does not hold a `{wanted}`"
        )),
    }
}
