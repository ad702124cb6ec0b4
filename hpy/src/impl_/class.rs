//! Class glue: the payload of instances, the slots every class has
//! (`tp_new` without `#[new]`, `tp_destroy`), type creation at module exec,
//! and the helpers the `#[hpy_methods]` expansions call.

use core::cell::{Cell, UnsafeCell};
use core::ffi::{CStr, c_void};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use super::{Contribution, StaticDef, Submission, sys};
use crate::class::base::Root;
use crate::class::{BorrowState, Class, ClassBase, Ref, RefMut};
use crate::err::{Error, Result, exc};
use crate::{Context, Global, Handle};
use sys::HPy;

// ---------------------------------------------------------------------------
// The payload of an instance

/// Borrow state: no struct in the payload yet (`HPy_New` zeroes it).
const UNINIT: usize = 0;
/// Borrow state: a struct, not borrowed.
const FREE: usize = 1;
/// Borrow state: borrowed mutably. The only state with the top bit set, so
/// "a struct that can be borrowed shared" is one signed comparison
/// (`state as isize > 0`: neither `UNINIT` nor `EXCLUSIVE`).
const EXCLUSIVE: usize = isize::MIN as usize;

/// What an instance of a `#[hpy_class]` `T` carries in its HPy payload (at
/// `T::OFFSET`, behind its bases' `ClassObject`s): its own address (once the
/// struct is in), a size, the borrow state (shared borrows + 1, or one of
/// the constants above), the thread that made it, then the struct.
///
/// The address is there for `tp_destroy` (and `tp_traverse`): the `hpy`
/// package 0.9 on CPython passes them the *object* instead of the payload
/// for instances of a Python subclass (it takes the subclass for a legacy
/// type, `hpytype_dealloc` and `_pyobj_as_struct` in `ctx_type.c`, still so
/// on HPy's master), and the address tells the two apart. The size of the
/// first `ClassObject` of a payload is the whole payload's, so that a
/// `Field` can check that it is inside the struct of the owner it is given.
#[repr(C)]
pub struct ClassObject<T> {
    this: Cell<*const ClassObject<T>>,
    size: Cell<usize>,
    state: BorrowState,
    /// The thread that made the struct (`unsendable` classes check it).
    thread: Cell<usize>,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The first words of every `ClassObject`, whatever its `T`.
#[repr(C)]
struct ClassHeader {
    this: Cell<*const ClassHeader>,
    size: Cell<usize>,
}

/// The address range of the payload of `obj`, if `obj` is an initialised
/// instance of a class of the object shape (for `Field`'s owner check). Safe
/// for any object: the payload is only read once the runtime says that
/// `obj`'s type has the object shape (or, for a Python subclass, that one of
/// its bases does).
pub(crate) fn payload_bounds(obj: &Handle<'_>) -> Option<(usize, usize)> {
    let ctx = obj.ctx();
    let raw = ctx.as_raw();
    let ty = obj.get_type();
    // SAFETY: the context is live and `ty` a type.
    let shape = unsafe { sys::_HPyType_GetBuiltinShape(raw, ty.as_raw()) };
    let ptr = if shape == sys::HPyType_BuiltinShape_Object {
        // SAFETY: the object has the object shape: its payload is what
        // `_HPy_AsStruct_Object` returns (debug mode agrees).
        unsafe { sys::_HPy_AsStruct_Object(raw, obj.as_raw()) }
    } else if shape == sys::HPyType_BuiltinShape_Legacy && has_object_shaped_base(ctx, &ty) {
        if ctx.runtime() == crate::Runtime::CPython {
            // A Python subclass of a class: see `debug_mode_payload`.
            // SAFETY: the legacy struct of a CPython object is the object itself.
            let object = unsafe { sys::_HPy_AsStruct_Legacy(raw, obj.as_raw()) };
            object
                .cast::<u8>()
                .wrapping_add(CPYTHON_OBJECT_HEADER)
                .cast()
        } else {
            // SAFETY: on PyPy an instance of a subclass of an HPy type has the
            // storage of its HPy base (or none: NULL).
            unsafe { sys::_HPy_AsStruct_Object(raw, obj.as_raw()) }
        }
    } else {
        return None;
    } as *const ClassHeader;
    if ptr.is_null() {
        return None;
    }
    // Another extension's HPy type may have a payload shorter than the two
    // words read below: CPython says how long the object is.
    if ctx.runtime() == crate::Runtime::CPython {
        let long_enough = ty
            .get_attr("__basicsize__")
            .and_then(|b| b.extract::<usize>())
            .is_ok_and(|b| b >= CPYTHON_OBJECT_HEADER + size_of::<ClassHeader>());
        if !long_enough {
            ctx.err_clear();
            return None;
        }
    }
    // SAFETY: the payload of an object-shaped HPy instance is long enough for
    // the two header words (checked on CPython; on PyPy every class of this SDK
    // has them and a foreign HPy type's storage is taken to), and starts with
    // its own address only for a class of this SDK.
    let header = unsafe { &*ptr };
    if header.this.get() != ptr {
        return None;
    }
    let start = ptr as usize;
    Some((start, start + header.size.get()))
}

/// Whether a base of `ty` (a type the runtime reports as legacy: a Python
/// subclass, or a builtin type) is an HPy type of the object shape.
#[cold]
fn has_object_shaped_base(ctx: &Context, ty: &Handle<'_>) -> bool {
    let Ok(mro) = ty.get_attr("__mro__") else {
        ctx.err_clear();
        return false;
    };
    let n = mro.len().unwrap_or(0);
    (0..n).any(|i| match mro.get_item(i) {
        // SAFETY: the context is live and `base` is a type (from `__mro__`).
        Ok(base) => unsafe {
            sys::_HPyType_GetBuiltinShape(ctx.as_raw(), base.as_raw())
                == sys::HPyType_BuiltinShape_Object
        },
        Err(_) => {
            ctx.err_clear();
            false
        }
    })
}

/// Where CPython puts the payload of an object-shaped HPy instance: after
/// `PyObject_HEAD`, aligned to `max_align_t` (`_HPy_HEAD_SIZE` in HPy).
const CPYTHON_OBJECT_HEADER: usize = 16;

/// The alignment of payloads (`max_align_t`, which HPy aligns them to).
const PAYLOAD_ALIGN: usize = 16;

/// Where the struct is in a `ClassObject<T>`.
#[doc(hidden)]
pub const fn value_offset<T>() -> usize {
    core::mem::offset_of!(ClassObject<T>, value)
}

/// Where the `ClassObject<T>` of a class goes: after its bases' (`end`
/// bytes), aligned.
#[doc(hidden)]
pub const fn offset_after<T>(end: usize) -> usize {
    let align = align_of::<ClassObject<T>>();
    end.div_ceil(align) * align
}

impl<T> core::fmt::Debug for ClassObject<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClassObject")
            .field("state", &self.state.get())
            .finish_non_exhaustive()
    }
}

/// An id of the current thread, unique for the life of the process.
#[inline]
fn thread_id() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    thread_local!(static ID: Cell<usize> = const { Cell::new(0) });
    ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

impl<T: Class> ClassObject<T> {
    /// The `ClassObject<T>` of `obj`, for as long as the handle lives:
    /// `TypeError` for an instance without a payload (PyPy lets
    /// `object.__new__` make an instance of a Python subclass that has no
    /// HPy storage at all).
    ///
    /// # Safety
    /// `obj` must be an instance of `T`'s class (or of a subclass of it).
    #[inline(always)]
    pub(crate) unsafe fn of<'a>(obj: &'a Handle<'_>) -> Result<&'a Self> {
        let ctx = obj.ctx();
        let payload = match <T::Base as ClassBase>::ROOT {
            Root::Object => {
                // Only an instance of a Python subclass has a shape debug mode
                // refuses; a class Python cannot subclass (nor has a visible
                // subclass for `dict`/`weakref`) never sees one, nor do the
                // classes it does not let Rust extend: skip the check.
                if (T::SUBCLASS || T::DICT || T::WEAKREF) && ctx.is_debug_mode() {
                    // SAFETY: as below.
                    unsafe { debug_mode_payload(ctx, obj) }
                } else {
                    // SAFETY: the context is live and `obj` open; outside debug
                    // mode `_HPy_AsStruct_Object` reads the payload of any
                    // object-shaped instance, a Python subclass's too.
                    unsafe { sys::_HPy_AsStruct_Object(ctx.as_raw(), obj.as_raw()) }
                }
            }
            // SAFETY: forwarded from the caller.
            Root::Builtin => unsafe { builtin_payload(ctx, obj, T::__def()) },
            Root::Payloadless => return Ok(payloadless_cell::<T>()),
        };
        // In a CPython-ABI build an object-shaped payload is the object's
        // address past its header: never NULL (only PyPy makes instances
        // without storage).
        let never_null =
            cfg!(hpy_abi = "cpython") && matches!(<T::Base as ClassBase>::ROOT, Root::Object);
        if !never_null && payload.is_null() {
            return Err(uninitialised::<T>());
        }
        let ptr = payload.cast::<u8>().wrapping_add(T::OFFSET) as *const Self;
        // SAFETY: instances of `T`'s class have a payload with a `ClassObject<T>`
        // at `T::OFFSET`, which the runtime allocated aligned for it (the macro
        // checks that the alignment is at most `max_align_t`'s); the object
        // lives as long as the handle.
        Ok(unsafe { &*ptr })
    }

    /// The start of the payload this `ClassObject` is in.
    #[inline(always)]
    fn payload_start(&self) -> *const u8 {
        (self as *const Self).cast::<u8>().wrapping_sub(T::OFFSET)
    }

    #[inline(always)]
    pub(crate) fn check_initialised(&self) -> Result<()> {
        if self.state.get() == UNINIT {
            return Err(uninitialised::<T>());
        }
        self.check_thread()
    }

    /// For an `unsendable` class: `RuntimeError` in another thread than the
    /// struct's.
    #[inline(always)]
    fn check_thread(&self) -> Result<()> {
        if T::UNSENDABLE && self.thread.get() != thread_id() {
            return Err(wrong_thread::<T>());
        }
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn acquire_shared(&self) -> Result<()> {
        let s = self.state.get();
        // UNINIT (0), EXCLUSIVE (negative), or no room for one more shared
        // borrow (isize::MAX, which wraps to negative).
        if (s as isize).wrapping_add(1) <= 1 {
            return Err(self.shared_error());
        }
        self.check_thread()?;
        self.state.set(s + 1);
        Ok(())
    }

    /// [`acquire_shared`](Self::acquire_shared) without taking the borrow:
    /// for a method that no Python code can interrupt (see [`self_peek`]).
    #[inline(always)]
    pub(crate) fn check_shared(&self) -> Result<()> {
        // UNINIT (0) or EXCLUSIVE (negative): one signed comparison with the
        // state in memory. The error reads the state again, so the fast path
        // keeps nothing else live.
        if self.state.get() as isize <= 0 {
            return Err(self.shared_error());
        }
        self.check_thread()
    }

    /// The error of a shared borrow refused in the current state.
    #[cold]
    #[inline(never)]
    #[allow(improper_ctypes_definitions)]
    extern "C" fn shared_error(&self) -> Error {
        // (`black_box`: the call keeps passing the address, so the caller
        // compares the state in memory instead of loading it into a register
        // for this call, LLVM's argument promotion.)
        shared_borrow_error::<T>(core::hint::black_box(self).state.get())
    }

    /// The error of an exclusive borrow refused in the current state.
    #[cold]
    #[inline(never)]
    #[allow(improper_ctypes_definitions)]
    extern "C" fn exclusive_error(&self) -> Error {
        // (`black_box`: see `shared_error`.)
        exclusive_borrow_error::<T>(core::hint::black_box(self).state.get())
    }

    /// [`acquire_exclusive`](Self::acquire_exclusive) without taking the
    /// borrow (see [`self_peek_mut`]).
    #[inline(always)]
    pub(crate) fn check_exclusive(&self) -> Result<()> {
        if self.state.get() != FREE {
            return Err(self.exclusive_error());
        }
        self.check_thread()
    }

    #[inline(always)]
    pub(crate) fn release_shared(&self) {
        self.state.set(self.state.get() - 1);
    }

    #[inline(always)]
    pub(crate) fn acquire_exclusive(&self) -> Result<()> {
        if self.state.get() != FREE {
            return Err(self.exclusive_error());
        }
        self.check_thread()?;
        self.state.set(EXCLUSIVE);
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn release_exclusive(&self) {
        self.state.set(FREE);
    }

    /// Gives back the borrow that a buffer export kept (see `__getbuffer__`):
    /// the exclusive one of a writable export, else one shared.
    pub(crate) fn release_export(&self) {
        if T::FROZEN {
            return;
        }
        match self.state.get() {
            EXCLUSIVE => self.release_exclusive(),
            s if s > FREE => self.release_shared(),
            _ => {}
        }
    }

    /// The struct.
    ///
    /// # Safety
    /// The struct is initialised and no `&mut T` to it exists.
    #[inline(always)]
    pub(crate) unsafe fn value(&self) -> &T {
        // SAFETY: forwarded from the caller.
        unsafe { (*self.value.get()).assume_init_ref() }
    }

    /// The struct, mutably.
    ///
    /// # Safety
    /// The struct is initialised and no other reference to it exists.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn value_mut(&self) -> &mut T {
        // SAFETY: forwarded from the caller.
        unsafe { (*self.value.get()).assume_init_mut() }
    }
}

/// The payload of `obj` in HPy's debug mode, which aborts on an
/// `_HPy_AsStruct_*` that does not match the shape the runtime reports for
/// the object's type: on CPython, an instance of a Python subclass of a
/// class reports "legacy" (the subclass is no HPy type), and its legacy
/// struct is the object itself, the payload after its header.
///
/// # Safety
/// `obj` is an instance of a class (or a subclass) of the object shape.
#[cold]
#[inline(never)]
unsafe fn debug_mode_payload(ctx: &Context, obj: &Handle<'_>) -> *mut c_void {
    let raw = ctx.as_raw();
    let ty = obj.get_type();
    // SAFETY: the context is live and `ty` a type.
    let shape = unsafe { sys::_HPyType_GetBuiltinShape(raw, ty.as_raw()) };
    if shape == sys::HPyType_BuiltinShape_Legacy && ctx.runtime() == crate::Runtime::CPython {
        // SAFETY: the legacy struct of a CPython object is the object, whose
        // payload follows the header.
        let object = unsafe { sys::_HPy_AsStruct_Legacy(raw, obj.as_raw()) };
        return object
            .cast::<u8>()
            .wrapping_add(CPYTHON_OBJECT_HEADER)
            .cast();
    }
    // SAFETY: the context is live and `obj` open.
    unsafe { sys::_HPy_AsStruct_Object(raw, obj.as_raw()) }
}

/// The payload of an instance of a class that extends a builtin type
/// (`def` is one of the chain's classes): on CPython after the builtin's
/// fields, through HPy's builtin shape (`_HPy_AsStruct_Float`, ...), or,
/// for an exception type (no HPy shape) and in debug mode for an instance of
/// a Python subclass (no HPy type), the object plus the header measured when
/// the class was made; elsewhere HPy's storage (the classes have the object
/// shape there).
///
/// # Safety
/// `obj` is an instance of the class of `def` (or of a subclass).
#[inline(never)]
unsafe fn builtin_payload(ctx: &Context, obj: &Handle<'_>, def: &ClassDef) -> *mut c_void {
    let raw = ctx.as_raw();
    if ctx.runtime() != crate::Runtime::CPython {
        // SAFETY: the context is live and `obj` open; the class has the object
        // shape on this runtime.
        return unsafe { sys::_HPy_AsStruct_Object(raw, obj.as_raw()) };
    }
    let shape = def.parts.shape;
    let legacy = shape == sys::HPyType_BuiltinShape_Legacy
        || (ctx.is_debug_mode() && {
            let ty = obj.get_type();
            // SAFETY: the context is live and `ty` a type.
            let actual = unsafe { sys::_HPyType_GetBuiltinShape(raw, ty.as_raw()) };
            actual == sys::HPyType_BuiltinShape_Legacy
        });
    // SAFETY: the context is live, `obj` open, and an instance of a type of
    // the shape used (the class's, or, for a Python subclass, legacy).
    unsafe {
        if legacy {
            let header = def.header.load(core::sync::atomic::Ordering::Relaxed);
            sys::_HPy_AsStruct_Legacy(raw, obj.as_raw())
                .cast::<u8>()
                .wrapping_add(header)
                .cast()
        } else if shape == sys::HPyType_BuiltinShape_Float {
            sys::_HPy_AsStruct_Float(raw, obj.as_raw())
        } else if shape == sys::HPyType_BuiltinShape_Unicode {
            sys::_HPy_AsStruct_Unicode(raw, obj.as_raw())
        } else if shape == sys::HPyType_BuiltinShape_List {
            sys::_HPy_AsStruct_List(raw, obj.as_raw())
        } else {
            core::ptr::null_mut()
        }
    }
}

/// The one `ClassObject` of a class without payload (`extends = int` or
/// `tuple`: a frozen unit struct, which every instance shares).
#[cold]
fn payloadless_cell<T: Class>() -> &'static ClassObject<T> {
    let addr = *T::__def().payloadless.get_or_init(|| {
        let cell = Box::leak(Box::new(ClassObject::<T> {
            this: Cell::new(core::ptr::null()),
            size: Cell::new(0),
            state: Cell::new(FREE),
            thread: Cell::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        cell as *const ClassObject<T> as usize
    });
    // SAFETY: the cell was leaked for the life of the process; a class without
    // payload is frozen (the macro checks it), so its state is never written,
    // and its struct is a unit struct, which needs no initialisation.
    unsafe { &*(addr as *const ClassObject<T>) }
}

#[cold]
#[allow(improper_ctypes_definitions)]
extern "C" fn uninitialised<T: Class>() -> Error {
    exc::TypeError::new_err(format!(
        "this {} was made without {}.__new__ and holds no value",
        T::NAME,
        T::NAME
    ))
}

#[cold]
#[allow(improper_ctypes_definitions)]
extern "C" fn wrong_thread<T: Class>() -> Error {
    exc::RuntimeError::new_err(format!(
        "{} is unsendable, but is being used in another thread than the one that made it",
        T::NAME
    ))
}

#[cold]
#[allow(improper_ctypes_definitions)]
extern "C" fn shared_borrow_error<T: Class>(state: usize) -> Error {
    match state {
        UNINIT => uninitialised::<T>(),
        EXCLUSIVE => exc::RuntimeError::new_err("Already mutably borrowed"),
        _ => exc::RuntimeError::new_err("too many borrows"),
    }
}

#[cold]
#[allow(improper_ctypes_definitions)]
extern "C" fn exclusive_borrow_error<T: Class>(state: usize) -> Error {
    match state {
        UNINIT => uninitialised::<T>(),
        _ => exc::RuntimeError::new_err("Already borrowed"),
    }
}

/// A new instance of `ty` (a subclass of the chain rooted at `M`), without
/// the structs: `HPy_New` for `object`; the builtin's `__new__(ty, *args)`
/// (on CPython; on PyPy HPy's own `__new__`, which gives the instance its
/// storage) for a builtin type.
#[doc(hidden)]
#[inline(always)]
pub fn create_root<'c, M: ClassBase>(
    ctx: &'c Context,
    ty: &Handle<'_>,
    args: impl crate::CallArgs<'c>,
) -> Result<crate::class::base::Created<'c>> {
    // `M::ROOT` is a constant: the common case, `object`, is inlined into the
    // caller (an instance made per call, as `p + q` does); the builtins are not.
    match M::ROOT {
        Root::Object => new_object(ctx, ty),
        Root::Builtin | Root::Payloadless => create_builtin::<M>(ctx, ty, args),
    }
}

/// [`create_root`] for `object`: `HPy_New`.
#[inline(always)]
fn new_object<'c>(ctx: &'c Context, ty: &Handle<'_>) -> Result<crate::class::base::Created<'c>> {
    // A CPython-ABI build asks its runtime whether the payload is fresh
    // (the type is one of its own) rather than look at it.
    #[cfg(hpy_abi = "cpython")]
    {
        // SAFETY: `ty` is an open type; the result is a new handle (its
        // payload zeroed), or NULL with an exception set.
        let (raw, payload) = unsafe { sys::cpython::new_with_payload(ty.as_raw()) };
        // SAFETY: as above.
        let obj = unsafe { Handle::from_raw_result(ctx, raw) }?;
        Ok((obj, payload.cast()))
    }
    #[cfg(not(hpy_abi = "cpython"))]
    {
        new_object_universal(ctx, ty)
    }
}

/// [`new_object`] through `HPy_New`.
#[cfg(not(hpy_abi = "cpython"))]
#[inline(always)]
fn new_object_universal<'c>(
    ctx: &'c Context,
    ty: &Handle<'_>,
) -> Result<crate::class::base::Created<'c>> {
    let mut data: *mut c_void = core::ptr::null_mut();
    // SAFETY: the context is live and `ty` a type; `HPy_New` returns a
    // new handle (zeroing the payload), or NULL with an exception set.
    let obj = unsafe {
        Handle::from_raw_result(ctx, sys::_HPy_New(ctx.as_raw(), ty.as_raw(), &mut data))
    }?;
    // `data` is the payload, except for an instance of a Python subclass
    // on CPython, where the `hpy` package reports the object (see
    // `ClassObject`): a new payload starts with a zero word, an object
    // with its reference count.
    // SAFETY: `data` is NULL or points to the zeroed payload or the
    // object, either at least a word long.
    let payload = if !data.is_null() && unsafe { *data.cast::<usize>() } == 0 {
        data.cast()
    } else {
        core::ptr::null_mut()
    };
    Ok((obj, payload))
}

/// [`create_root`] for a builtin base: its `__new__`.
#[inline(never)]
fn create_builtin<'c, M: ClassBase>(
    ctx: &'c Context,
    ty: &Handle<'_>,
    args: impl crate::CallArgs<'c>,
) -> Result<crate::class::base::Created<'c>> {
    if M::ROOT == Root::Builtin && ctx.runtime() != crate::Runtime::CPython {
        Ok((
            hpy_default_new(ctx)?.call_with_first(ty, args)?,
            core::ptr::null_mut(),
        ))
    } else {
        Ok((
            M::__type_object(ctx)?
                .get_attr("__new__")?
                .call_with_first(ty, args)?,
            core::ptr::null_mut(),
        ))
    }
}

/// PyPy's `__new__` of HPy types that have a base and a payload
/// (`descr_new_subtype`): it calls the base's `__new__` with the arguments
/// and gives the instance the HPy storage of its type. Taken from a type
/// made for it once.
#[cold]
fn hpy_default_new(ctx: &Context) -> Result<Handle<'_>> {
    static NEW: Global = Global::new();
    if let Some(new) = NEW.try_load(ctx) {
        return Ok(new);
    }
    static NAME: &CStr = c"hpy_rs.default_new";
    let mut defines: [*mut sys::HPyDef; 1] = [core::ptr::null_mut()];
    let mut spec = sys::HPyType_Spec {
        name: NAME.as_ptr(),
        basicsize: 8,
        itemsize: 0,
        flags: sys::HPy_TPFLAGS_DEFAULT,
        builtin_shape: sys::HPyType_BuiltinShape_Object,
        legacy_slots: core::ptr::null_mut(),
        defines: defines.as_mut_ptr(),
        doc: core::ptr::null(),
    };
    let object = ctx.object_type();
    let mut params = [
        sys::HPyType_SpecParam {
            kind: sys::HPyType_SpecParam_Base,
            object: object.as_raw(),
        },
        sys::HPyType_SpecParam {
            kind: sys::HPyType_SpecParam_Kind(0),
            object: HPy::NULL,
        },
    ];
    // SAFETY: the context is live; the spec, its (empty) definitions and the
    // parameters are valid for the call.
    let ty = unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPyType_FromSpec(ctx.as_raw(), &mut spec, params.as_mut_ptr()),
        )
    }?;
    let new = ty.get_attr("__dict__")?.get_item("__new__")?;
    NEW.store(ctx, &new);
    Ok(new)
}

/// Puts `value` into the new instance `obj` (made by [`create_root`]), at
/// `T`'s place, and makes the payload's size `T`'s.
///
/// # Safety
/// `obj` is a new instance of `T`'s class (or a subclass) whose parts for
/// `T`'s bases are in, and `T`'s is not; `payload` is its payload, or NULL.
#[doc(hidden)]
#[inline]
pub unsafe fn write_level<T: Class>(obj: &Handle<'_>, payload: *mut u8, value: T) -> Result<()> {
    if <T::Base as ClassBase>::ROOT == Root::Payloadless {
        // A unit struct: nothing to keep.
        return Ok(());
    }
    let cell = if payload.is_null() {
        // SAFETY: `obj` is an instance of (a subclass of) `T`'s class (the
        // caller's contract).
        unsafe { ClassObject::<T>::of(obj) }?
    } else {
        // SAFETY: `payload` is the payload of `obj`, which holds a
        // `ClassObject<T>` at `T::OFFSET` (the caller's contract).
        unsafe { &*(payload.wrapping_add(T::OFFSET) as *const ClassObject<T>) }
    };
    // SAFETY: the payload of a new instance is zeroed, and `T`'s part is not
    // written yet; only this code sees it.
    unsafe {
        (*cell.value.get()).write(value);
    }
    cell.this.set(cell);
    cell.size.set(size_of::<ClassObject<T>>());
    // (The zeroed payload already says "no thread" for the others.)
    if T::UNSENDABLE {
        cell.thread.set(thread_id());
    }
    cell.state.set(FREE);
    // The payload's first `ClassObject` spans the payload (for `Field`).
    let first = cell.payload_start() as *const ClassHeader;
    // SAFETY: the payload starts with the first `ClassObject` of the chain,
    // written before this one (or this one).
    unsafe { (*first).size.set(T::OFFSET + size_of::<ClassObject<T>>()) };
    Ok(())
}

/// Drops `T`'s struct in the payload at `payload` (if it is there): when
/// the object dies. In another thread than the struct's, an `unsendable`
/// struct is leaked (with a message), not dropped.
///
/// # Safety
/// `payload` is the payload of a dying instance of `T`'s class (or of a
/// subclass): nothing borrows the struct.
#[doc(hidden)]
pub unsafe fn drop_level<T: Class>(payload: *const u8) {
    if <T::Base as ClassBase>::ROOT == Root::Payloadless {
        return;
    }
    let cell = payload.wrapping_add(T::OFFSET) as *const ClassObject<T>;
    // SAFETY: the payload holds a `ClassObject<T>` at `T::OFFSET`.
    let cell = unsafe { &*cell };
    if cell.state.get() == UNINIT {
        return;
    }
    cell.state.set(UNINIT);
    if T::UNSENDABLE && cell.thread.get() != thread_id() {
        super::report_unraisable(
            &format!("{}.__del__", T::NAME),
            &format!(
                "{} is unsendable, but it dies in another thread than the one that made it: its struct is leaked, not dropped",
                T::NAME
            ),
        );
        return;
    }
    // SAFETY: the state said the struct is initialised; it is now marked as
    // gone, so it is read out once.
    let value = unsafe { (*cell.value.get()).assume_init_read() };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        super::report_unraisable_panic(&format!("{}.__del__", T::NAME), &*payload);
    }
}

/// Visits the `Field`s of `T`'s struct in the payload at `payload`.
///
/// # Safety
/// `payload` is the payload of a live instance of `T`'s class (or of a
/// subclass); `visit` and `arg` are the runtime's.
#[doc(hidden)]
pub unsafe fn visit_level<T: Class>(
    payload: *const u8,
    visit: sys::HPyFunc_visitproc,
    arg: *mut c_void,
) -> core::ffi::c_int {
    if !T::HAS_FIELDS {
        return 0;
    }
    let cell = payload.wrapping_add(T::OFFSET) as *const ClassObject<T>;
    // SAFETY: the payload holds a `ClassObject<T>` at `T::OFFSET`; the state
    // is a plain read (the struct may be borrowed mutably meanwhile, so no
    // reference to it is made).
    unsafe {
        if (*cell).state.get() == UNINIT {
            return 0;
        }
        T::__visit_fields((*(*cell).value.get()).as_ptr(), visit, arg)
    }
}

/// `HPy_tp_destroy` of a class (of the object shape): drops the structs of
/// the chain. Runs without a context, when the object dies; a panic in
/// `Drop` is reported as unraisable, never unwound into the runtime.
///
/// # Safety
/// Called by the runtime with the payload of a dying instance of `T`.
pub unsafe extern "C" fn destroy<T: Class>(payload: *mut c_void) {
    // SAFETY: the runtime passes the payload, or (see `ClassObject`) the
    // object, once, when the object dies: nothing borrows the structs.
    unsafe {
        if let Some(start) = payload_start(payload) {
            <T as ClassBase>::__drop_chain(start);
        }
    }
}

/// The payload from what `tp_destroy`/`tp_traverse` get: the payload, or on
/// CPython the object of a Python subclass; `None` for an instance that
/// never got a struct.
///
/// # Safety
/// `ptr` is NULL, or the payload or the object of a live (or dying) instance
/// of a class of the object shape.
unsafe fn payload_start(ptr: *mut c_void) -> Option<*const u8> {
    // PyPy destroys an instance that `object.__new__` made without storage
    // with a NULL payload.
    if ptr.is_null() {
        return None;
    }
    let direct = ptr as *const ClassHeader;
    // SAFETY: either way, the first word is readable: the payload's `this`, or
    // the object's reference count.
    if unsafe { (*direct).this.get() } == direct {
        return Some(direct.cast());
    }
    // The object of an instance: its payload follows the header (the first
    // word, a reference count, is never its own address). A payload without
    // struct is zero there (a `ClassObject` is more than 16 bytes long).
    let behind = ptr.cast::<u8>().wrapping_add(CPYTHON_OBJECT_HEADER) as *const ClassHeader;
    // SAFETY: the object is a header followed by the payload, whose first word
    // is `this`; a payload is longer than 16 bytes.
    if unsafe { (*behind).this.get() } == behind {
        return Some(behind.cast());
    }
    None
}

/// `HPy_tp_traverse` of a class: visits the `Field`s of the chain's structs
/// (the runtimes call the traverse of the most derived HPy type only).
///
/// # Safety
/// Called by the runtime with the payload (or, see `payload_start`, the
/// object) of a live instance of `T`.
pub unsafe extern "C" fn traverse<T: Class>(
    object: *mut c_void,
    visit: sys::HPyFunc_visitproc,
    arg: *mut c_void,
) -> core::ffi::c_int {
    // SAFETY: forwarded.
    unsafe {
        match payload_start(object) {
            Some(start) => <T as ClassBase>::__visit_chain(start, visit, arg),
            None => 0,
        }
    }
}

/// Visits one field for `tp_traverse`: what the visitor returns.
///
/// # Safety
/// `field` points to a `Field` of a live instance; `visit` and `arg` are
/// `tp_traverse`'s.
#[inline]
pub unsafe fn visit_field(
    field: *const crate::Field,
    visit: sys::HPyFunc_visitproc,
    arg: *mut c_void,
) -> core::ffi::c_int {
    let raw = crate::Field::__raw(field);
    // Like C's `HPy_VISIT`: an empty field is not visited (CPython's visitors
    // take no NULL).
    // SAFETY: `raw` points to the field's `HPyField`; a plain read.
    if unsafe { *raw }.is_null() {
        return 0;
    }
    match visit {
        // SAFETY: the visitor gets the field's `HPyField` and its argument.
        Some(visit) => unsafe { visit(raw, arg) },
        None => 0,
    }
}

/// The `HPy_tp_traverse` slot definition of `T`.
pub const fn traverse_def<T: Class>() -> StaticDef {
    type Impl =
        unsafe extern "C" fn(*mut c_void, sys::HPyFunc_visitproc, *mut c_void) -> core::ffi::c_int;
    type Tramp = unsafe extern "C" fn(
        *mut sys::cpy_PyObject,
        sys::cpy_visitproc,
        *mut c_void,
    ) -> core::ffi::c_int;
    // SAFETY: the runtime calls the impl back as an `HPyFunc_TRAVERSEPROC`,
    // and CPython the trampoline as `tp_traverse`: their real signatures.
    unsafe {
        StaticDef::slot(
            sys::HPy_tp_traverse,
            Some(core::mem::transmute::<
                Impl,
                unsafe extern "C" fn() -> *mut c_void,
            >(traverse::<T>)),
            Some(core::mem::transmute::<
                Tramp,
                unsafe extern "C" fn(
                    *mut sys::cpy_PyObject,
                    *const *mut sys::cpy_PyObject,
                    isize,
                ) -> *mut sys::cpy_PyObject,
            >(traverse_trampoline::<T>)),
        )
    }
}

/// The CPython trampoline of `tp_traverse`.
///
/// # Safety
/// Called by CPython as `tp_traverse`.
unsafe extern "C" fn traverse_trampoline<T: Class>(
    slf: *mut sys::cpy_PyObject,
    visit: sys::cpy_visitproc,
    arg: *mut c_void,
) -> core::ffi::c_int {
    let mut a = sys::_HPyFunc_args_TRAVERSEPROC {
        self_: slf,
        visit,
        arg,
        result: 0,
    };
    type Impl =
        unsafe extern "C" fn(*mut c_void, sys::HPyFunc_visitproc, *mut c_void) -> core::ffi::c_int;
    // SAFETY: as in `traverse_def`; `a` is the argument struct of the signature.
    unsafe {
        sys::_HPy_CallRealFunctionFromTrampoline(
            super::trampoline_context(),
            sys::HPyFunc_TRAVERSEPROC,
            Some(core::mem::transmute::<
                Impl,
                unsafe extern "C" fn() -> *mut c_void,
            >(traverse::<T>)),
            (&raw mut a).cast(),
        )
    };
    a.result
}

/// The CPython trampoline of `HPy_tp_destroy`: CPython calls the impl itself
/// (from HPy's `tp_dealloc`), never this (as in C, where it aborts).
pub unsafe extern "C" fn destroy_trampoline() {
    std::process::abort()
}

/// `HPy_tp_finalize` of a class that extends a builtin type (which cannot
/// have `tp_destroy`: HPy 0.9's CPython `tp_dealloc` for it would skip the
/// builtin's own, leaking its contents): drops the structs of the chain.
/// On PyPy the same runs as `__del__` (see [`del_method`]).
///
/// # Safety
/// Called by the runtime as an `HPyFunc_DESTRUCTOR` with an instance of `T`.
pub unsafe extern "C" fn finalize<T: Class>(ctx: *mut sys::HPyContext, obj: HPy) {
    // SAFETY: the runtime calls this with the call's context and the object.
    unsafe {
        super::run_inquiry(ctx, T::NAME, |ctx| {
            drop_all::<T>(&super::borrow_arg(ctx, obj));
            Ok(())
        })
    };
}

/// Drops the structs of an instance of `T` that is being finalized.
fn drop_all<T: Class>(obj: &Handle<'_>) {
    // SAFETY: `obj` is an instance of `T`'s class (or a subclass): the runtime
    // finalizes only those with this slot.
    match unsafe { ClassObject::<T>::of(obj) } {
        Ok(cell) => {
            if cell.state.get() != UNINIT && cell.state.get() != FREE {
                // Borrowed (a `__del__` called by hand from a method): leave it.
                return;
            }
            // SAFETY: the object is being finalized, and nothing borrows its
            // structs (checked above for `T`'s; the bases' are only borrowed
            // while... their methods run, which finalization does not).
            unsafe { <T as ClassBase>::__drop_chain(cell.payload_start()) }
        }
        Err(_) => obj.ctx().err_clear(),
    }
}

/// `HPy_tp_finalize` slot of `T`.
pub const fn finalize_def<T: Class>() -> StaticDef {
    unsafe extern "C" fn trampoline<T: Class>(obj: *mut sys::cpy_PyObject) {
        // SAFETY: CPython calls this as `tp_finalize`.
        unsafe { super::trampoline_destructor(obj, finalize::<T>) }
    }
    StaticDef::slot(
        sys::HPy_tp_finalize,
        super::erase_destructor(finalize::<T>),
        super::erase_destructor_trampoline(trampoline::<T>),
    )
}

/// `__del__` of a class that extends a builtin type, on PyPy: the finalizer
/// PyPy calls for instances of builtin types' subclasses (its own finalizer
/// of HPy objects, which calls `tp_finalize`, is for object-shaped ones).
///
/// # Safety
/// Called by the runtime as an `HPyFunc_NOARGS` method of `T`.
pub unsafe extern "C" fn del_method<T: Class>(ctx: *mut sys::HPyContext, obj: HPy) -> HPy {
    // SAFETY: the runtime calls this with the call's context and the object.
    unsafe {
        super::run_method(ctx, T::NAME, |ctx| {
            drop_all::<T>(&super::borrow_arg(ctx, obj));
            Ok(ctx.none().dup().into_raw())
        })
    }
}

/// The `__del__` method of `T` (see [`del_method`]).
pub const fn del_def<T: Class>() -> StaticDef {
    unsafe extern "C" fn trampoline<T: Class>(
        slf: *mut sys::cpy_PyObject,
        _arg: *mut sys::cpy_PyObject,
    ) -> *mut sys::cpy_PyObject {
        // SAFETY: CPython calls this as a METH_NOARGS method.
        unsafe { super::trampoline_noargs(slf, del_method::<T>) }
    }
    StaticDef::method(
        c"__del__",
        c"",
        sys::HPyFunc_NOARGS,
        super::erase_noargs(del_method::<T>),
        super::erase_noargs_trampoline(trampoline::<T>),
    )
}

/// `Class.__new__` of a class that extends a builtin type: a function of the
/// module, which the module's exec moves to the class as a `staticmethod`
/// (on CPython the builtin's `__new__` then accepts the class: its own
/// `tp_new` is Python's `slot_tp_new`). It calls the class's `#[new]` (its
/// `tp_new` impl, kept in the definition), or raises as a class without one.
///
/// # Safety
/// Called by the runtime as an `HPyFunc_KEYWORDS` function.
pub unsafe extern "C" fn new_static<T: Class>(
    ctx: *mut sys::HPyContext,
    _module: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: the runtime calls this with the call's context, `nargs`
    // positional handles at `args` followed by one per keyword name.
    unsafe {
        super::run_method(ctx, T::NAME, |ctx| {
            let def = T::__def();
            let name = format!("{}.__new__", T::NAME);
            if nargs == 0 {
                return Err(exc::TypeError::new_err(format!(
                    "{name}(): not enough arguments"
                )));
            }
            let cls = super::borrow_arg(ctx, *args);
            let own = def.type_object(ctx)?;
            // SAFETY: the handles are open in the live context.
            let is_subtype =
                sys::HPy_TypeCheck(ctx.as_raw(), cls.as_raw(), ctx.type_type().as_raw()) != 0
                    && sys::HPyType_IsSubtype(ctx.as_raw(), cls.as_raw(), own.as_raw()) != 0;
            if !is_subtype {
                return Err(exc::TypeError::new_err(format!(
                    "{name}(X): X is not a type object ({})",
                    cls.type_name()
                )));
            }
            let new_impl = def.new_impl.load(core::sync::atomic::Ordering::Acquire);
            if new_impl == 0 {
                return Err(exc::TypeError::new_err(format!(
                    "cannot create '{}' instances",
                    def.qualified_name()
                )));
            }
            let new_impl: super::NewImpl = core::mem::transmute::<usize, super::NewImpl>(new_impl);
            let rest = args.add(1);
            let npos = nargs - 1;
            let kw = if kwnames.is_null() {
                None
            } else {
                let names = super::borrow_arg(ctx, kwnames);
                let n = names.len()?;
                let dict = ctx.new_dict()?;
                for i in 0..n {
                    let value = super::borrow_arg(ctx, *rest.add(npos + i));
                    dict.set_item(&names.get_item(i)?, &*value)?;
                }
                Some(dict)
            };
            let kw_raw = kw.as_ref().map_or(HPy::NULL, Handle::as_raw);
            let npos = sys::HPy_ssize_t::try_from(npos).unwrap_or(sys::HPy_ssize_t::MAX);
            Handle::from_raw_result(
                ctx,
                new_impl(ctx.as_raw(), cls.as_raw(), rest, npos, kw_raw),
            )
            .map(Handle::into_raw)
        })
    }
}

/// The `Class.__new__` module function of `T` (see [`new_static`]).
pub const fn new_static_def<T: Class>(name: &'static CStr) -> StaticDef {
    unsafe extern "C" fn trampoline<T: Class>(
        slf: *mut sys::cpy_PyObject,
        args: *const *mut sys::cpy_PyObject,
        nargsf: usize,
        kwnames: *mut sys::cpy_PyObject,
    ) -> *mut sys::cpy_PyObject {
        // SAFETY: CPython calls this as METH_FASTCALL | METH_KEYWORDS.
        unsafe { super::trampoline_keywords(slf, args, nargsf, kwnames, new_static::<T>) }
    }
    StaticDef::method(
        name,
        c"",
        sys::HPyFunc_KEYWORDS,
        super::erase_keywords(new_static::<T>),
        super::erase_keywords_trampoline(trampoline::<T>),
    )
}

// ---------------------------------------------------------------------------
// Definitions

/// What `#[hpy_class]` knows of a class.
#[derive(Debug)]
pub struct ClassDef {
    /// The Python name.
    pub name: &'static str,
    /// The module it joins (`#[hpy_class(module = "...")]`), or `None`: the
    /// modules of its crate.
    pub module: Option<&'static str>,
    /// `module_path!()` of the struct.
    pub module_path: &'static str,
    /// The docstring.
    pub doc: Option<&'static CStr>,
    /// Whether Python may subclass it.
    pub subclass: bool,
    /// Whether its instances have a `__dict__`.
    pub dict: bool,
    /// Whether its instances can be weakly referenced.
    pub weakref: bool,
    /// The properties of its `#[hpy(get, set)]` fields.
    pub properties: &'static [&'static PropertyDef],
    /// The rest, from the class's `Class` implementation.
    pub parts: ClassParts,
    /// Where the class is kept once made.
    pub global: Global,
    /// `module.Name`, once made.
    pub qualified_name: OnceLock<CString>,
    /// On CPython, where the payload starts in the object of a class that
    /// extends a builtin type (the builtin's size, aligned), once made.
    pub header: AtomicUsize,
    /// The `tp_new` impl of `#[new]`, for a class that extends a builtin type
    /// (whose `__new__` is `Class.__new__`), once made; 0 for none.
    pub new_impl: AtomicUsize,
    /// The shared cell of a class without payload.
    pub payloadless: OnceLock<usize>,
    /// The `HPy_tp_call` slot of `__call__` (its own or its base's), once
    /// made: a class that extends it gets the same slot (see `make_class`).
    pub call: OnceLock<&'static StaticDef>,
}

/// What a class's definition takes from its `Class` implementation (see
/// [`ClassParts::of`]).
#[derive(Debug)]
pub struct ClassParts {
    /// The root of its chain of bases.
    pub root: Root,
    /// The HPy shape of its root on CPython.
    pub shape: sys::HPyType_BuiltinShape,
    /// The size of the payload (`ClassObject`s of the chain).
    pub payload_size: usize,
    /// Whether a struct of the chain needs dropping.
    pub needs_drop: bool,
    /// Whether a struct of the chain holds `Field`s (the class is then
    /// tracked by the garbage collector).
    pub has_fields: bool,
    /// The base's type object.
    pub base_type: for<'c> fn(&'c Context) -> Result<Handle<'c>>,
    /// The base class's definition (`None` for a builtin base).
    pub base_def: fn() -> Option<&'static ClassDef>,
    /// Its `HPy_tp_destroy` slot.
    pub destroy: &'static StaticDef,
    /// Its `tp_new` when no `#[new]` is given: `TypeError`.
    pub no_new: &'static StaticDef,
    /// Its `tp_traverse`.
    pub traverse: &'static StaticDef,
    /// Its `tp_finalize` (for a class that extends a builtin type).
    pub finalize: &'static StaticDef,
    /// Its `__del__` (for a class that extends a builtin type, on PyPy).
    pub del: &'static StaticDef,
    /// Its `Class.__new__` module function (for a class that extends a builtin type).
    pub new_static: &'static StaticDef,
}

impl ClassParts {
    /// The parts of `T`'s definition.
    pub const fn of<T: Class>(
        destroy: &'static StaticDef,
        no_new: &'static StaticDef,
        traverse: &'static StaticDef,
        finalize: &'static StaticDef,
        del: &'static StaticDef,
        new_static: &'static StaticDef,
    ) -> Self {
        ClassParts {
            root: <T as ClassBase>::ROOT,
            shape: <T as ClassBase>::SHAPE,
            payload_size: <T as ClassBase>::END,
            needs_drop: <T as ClassBase>::NEEDS_DROP,
            has_fields: <T as ClassBase>::HAS_FIELDS,
            base_type: <T::Base as ClassBase>::__type_object,
            base_def: <T::Base as ClassBase>::__class_def,
            destroy,
            no_new,
            traverse,
            finalize,
            del,
            new_static,
        }
    }
}

impl ClassDef {
    /// The class (made when its module was imported).
    #[inline]
    pub fn type_object<'ctx>(&'static self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        match self.global.try_load(ctx) {
            Some(ty) => Ok(ty),
            None => Err(not_made(self)),
        }
    }

    /// `module.Name` (or the bare name before the class is made).
    pub fn qualified_name(&self) -> &str {
        self.qualified_name
            .get()
            .and_then(|n| n.to_str().ok())
            .unwrap_or(self.name)
    }
}

#[cold]
fn not_made(def: &ClassDef) -> Error {
    exc::SystemError::new_err(format!(
        "the class {} is used before its module was imported (or it belongs to no module)",
        def.name
    ))
}

/// The items of one `#[hpy_methods]` block: they join the class `class`.
#[derive(Debug)]
pub struct ClassItems {
    /// The class.
    pub class: fn() -> &'static ClassDef,
    /// Methods and slots.
    pub defs: &'static [&'static StaticDef],
    /// Properties (`#[getter]`, `#[setter]`).
    pub properties: &'static [&'static PropertyDef],
    /// Dunder methods without an HPy slot (`__iter__`, ...), to re-bind.
    pub rebind: &'static [&'static CStr],
    /// `#[staticmethod]`s and `#[classmethod]`s.
    pub statics: &'static [&'static StaticMember],
    /// The text signature of the block's `#[new]` (`x=0.0, y=0.0`), if it
    /// has one: the class's `__text_signature__` on CPython.
    pub new_signature: Option<&'static str>,
}

/// A `#[staticmethod]` or `#[classmethod]`: HPy 0.9 has neither, so it is a
/// function of the class's module, named `Class.name` there, which the
/// module's exec wraps in `staticmethod` or `classmethod`, sets on the
/// class, and removes from the module.
#[derive(Debug)]
pub struct StaticMember {
    /// The attribute's name on the class.
    pub name: &'static CStr,
    /// The function's name in the module (`Class.name`).
    pub function_name: &'static CStr,
    /// The function's definition.
    pub def: StaticDef,
    /// `classmethod` (the function gets the class first) or `staticmethod`.
    pub classmethod: bool,
}

/// The module functions of the static and class methods of the classes of
/// `module_name` among `submissions`, and the `Class.__new__` of those that
/// extend a builtin type.
pub(crate) fn static_member_defs(
    module_name: &str,
    submissions: impl Iterator<Item = &'static Submission> + Clone,
) -> impl Iterator<Item = &'static StaticDef> {
    let in_module = move |def: &ClassDef| def.module.is_none_or(|m| m == module_name);
    let statics = submissions
        .clone()
        .flat_map(move |s| match s.item {
            Contribution::ClassItems(items) if in_module((items.class)()) => items.statics,
            _ => &[],
        })
        .map(|m| &m.def);
    let all = submissions.clone();
    let news = submissions.filter_map(move |s| match s.item {
        Contribution::Class(def) => {
            let def = def();
            (in_module(def) && needs_new_static(def, all.clone())).then_some(def.parts.new_static)
        }
        _ => None,
    });
    statics.chain(news)
}

/// Whether the class of `def` gets a `Class.__new__`: if it extends a
/// builtin type with a payload (always: the builtin's `__new__` must accept
/// it), or `int`/`tuple` and has a `#[new]` (else it keeps the builtin's).
fn needs_new_static(
    def: &'static ClassDef,
    submissions: impl Iterator<Item = &'static Submission>,
) -> bool {
    match def.parts.root {
        Root::Object => false,
        Root::Builtin => true,
        Root::Payloadless => items_of(def, submissions).any(|i| {
            i.defs
                .iter()
                .any(|d| d.slot_number() == Some(sys::HPy_tp_new))
        }),
    }
}

/// The `#[hpy_methods]` blocks of the class of `def`.
fn items_of(
    def: &'static ClassDef,
    submissions: impl Iterator<Item = &'static Submission>,
) -> impl Iterator<Item = &'static ClassItems> {
    submissions.filter_map(move |s| match s.item {
        Contribution::ClassItems(items) if core::ptr::eq((items.class)(), def) => Some(items),
        _ => None,
    })
}

/// A property of a class, in the two forms the runtimes need: an HPy getset
/// (CPython), or a getter and a setter method that a Python `property`
/// wraps (elsewhere: PyPy 7.3.19's getsets neither check the type of the
/// object they get, so a getter could read the struct of a wrong object, nor
/// raise what a setter raised, which stays pending).
#[derive(Debug)]
pub struct PropertyDef {
    /// The attribute's name.
    pub name: &'static CStr,
    /// Its docstring.
    pub doc: Option<&'static CStr>,
    /// The getset.
    pub getset: StaticDef,
    /// The getter as a method (`__hpy_get_<name>`), if there is a getter.
    pub get_method: Option<StaticDef>,
    /// The setter as a method (`__hpy_set_<name>`), if there is a setter.
    pub set_method: Option<StaticDef>,
    /// A read-only member instead of the getset (a number field of a frozen
    /// class, which nothing borrows mutably: the runtime reads it without a
    /// call).
    pub member: Option<StaticDef>,
}

/// What a property's setter method returns: `None`, or NULL if the setter
/// failed (with its exception set).
///
/// # Safety
/// `ctx` is the call's context.
#[inline]
pub unsafe fn setter_result(ctx: *mut sys::HPyContext, status: core::ffi::c_int) -> HPy {
    if status < 0 {
        return HPy::NULL;
    }
    // SAFETY: the context is live; `None` is dupped for the caller.
    unsafe { sys::HPy_Dup(ctx, sys::h_None(ctx)) }
}

/// `tp_new` of a class without `#[new]`: CPython's `TypeError` for a type
/// that cannot be instantiated.
///
/// # Safety
/// Called by the runtime as an `HPyFunc_NEWFUNC`.
pub unsafe extern "C" fn no_new<T: Class>(
    ctx: *mut sys::HPyContext,
    _ty: HPy,
    _args: *const HPy,
    _nargs: sys::HPy_ssize_t,
    _kw: HPy,
) -> HPy {
    // SAFETY: the runtime calls this with the call's context.
    unsafe {
        super::run_method(ctx, T::NAME, |_ctx| {
            Err(exc::TypeError::new_err(format!(
                "cannot create '{}' instances",
                T::__def().qualified_name()
            )))
        })
    }
}

/// Makes the classes of `module_name` (of the crate at `module_path`), in
/// the order their crate declared them (a base class before the classes
/// that extend it), and adds them to `module`.
pub(crate) fn make_classes(
    ctx: &Context,
    module: &Handle<'_>,
    module_name: &str,
    submissions: impl Iterator<Item = &'static Submission> + Clone,
) -> Result<()> {
    let mut made: Vec<*const ClassDef> = Vec::new();
    for s in submissions.clone() {
        let Contribution::Class(def) = s.item else {
            continue;
        };
        let def = def();
        if def.module.is_some_and(|m| m != module_name) {
            continue;
        }
        make_after_bases(
            ctx,
            module,
            module_name,
            def,
            submissions.clone(),
            &mut made,
        )?;
    }
    Ok(())
}

/// Makes the class of `def` unless `made` has it, after its base class if
/// that one belongs to this module too.
fn make_after_bases(
    ctx: &Context,
    module: &Handle<'_>,
    module_name: &str,
    def: &'static ClassDef,
    submissions: impl Iterator<Item = &'static Submission> + Clone,
    made: &mut Vec<*const ClassDef>,
) -> Result<()> {
    if made.contains(&core::ptr::from_ref(def)) {
        return Ok(());
    }
    if let Some(base) = (def.parts.base_def)() {
        let here = base.module.is_none_or(|m| m == module_name)
            && submissions.clone().any(|s| match s.item {
                Contribution::Class(d) => core::ptr::eq(d(), base),
                _ => false,
            });
        if here {
            make_after_bases(ctx, module, module_name, base, submissions.clone(), made)?;
        } else if base.global.try_load(ctx).is_none() {
            return Err(exc::ImportError::new_err(format!(
                "the class {} extends {}, which is made when its module is imported: import that module first",
                def.name, base.name
            )));
        }
    }
    let ty = make_class(ctx, module, module_name, def, items_of(def, submissions))?;
    def.global.store(ctx, &ty);
    module.set_attr(def.name, &ty)?;
    made.push(def);
    Ok(())
}

fn make_class<'ctx>(
    ctx: &'ctx Context,
    module: &Handle<'_>,
    module_name: &str,
    def: &'static ClassDef,
    items: impl Iterator<Item = &'static ClassItems>,
) -> Result<Handle<'ctx>> {
    let qualified = def
        .qualified_name
        .get_or_init(|| CString::new(format!("{module_name}.{}", def.name)).unwrap_or_default());
    let cpython = ctx.runtime() == crate::Runtime::CPython;
    let parts = &def.parts;
    let mut defines: Vec<*mut sys::HPyDef> = Vec::new();
    let mut has_new = false;
    let mut new_impl = 0;
    let mut properties: Vec<&'static PropertyDef> = def.properties.to_vec();
    let mut rebind: Vec<&'static CStr> = Vec::new();
    let mut statics: Vec<&'static StaticMember> = Vec::new();
    let mut new_signature = None;
    let mut call: Option<&'static StaticDef> = None;
    for i in items {
        new_signature = new_signature.or(i.new_signature);
        rebind.extend(i.rebind);
        statics.extend(i.statics);
        for d in i.defs {
            if !cpython && d.slot_number() == Some(sys::HPy_sq_item) {
                // See `__getitem__` in the macros: PyPy finds it by name.
                continue;
            }
            if d.slot_number() == Some(sys::HPy_tp_call) {
                call = Some(d);
            }
            if d.slot_number() == Some(sys::HPy_tp_new) {
                has_new = true;
                if parts.root != Root::Object {
                    // `Class.__new__` calls it.
                    new_impl = d.slot_impl_addr();
                    continue;
                }
            }
            defines.push(d.fresh_ptr());
        }
        properties.extend(i.properties);
    }
    // `__call__` of a Rust base: the slot again. HPy keeps an instance's call
    // function in a field after the struct of the type that declares the
    // slot, and fills it with that type's own default: a type that only
    // inherits the slot would have its instances called through whatever its
    // own struct holds at the base's offset.
    if call.is_none() {
        call = (parts.base_def)().and_then(|base| base.call.get().copied());
        defines.extend(call.map(StaticDef::as_ptr));
    }
    if let Some(call) = call {
        let _ = def.call.set(call);
    }
    // Members (number fields of frozen classes) for the object shape. PyPy
    // (7.3.14 and later) refuses an instance without HPy storage in
    // `member_get` (`TypeError: non-HPy object in member_get`), such as one
    // `object.__new__` makes of a Python subclass; HPy does not add a legacy
    // shape's header to a member's offset, so exceptions keep getsets.
    let members = if cpython {
        parts.shape != sys::HPyType_BuiltinShape_Legacy
    } else {
        parts.root == Root::Object
    };
    // Those that become members are no properties any more.
    properties.retain(|p| match (members, &p.member) {
        (true, Some(member)) => {
            // SAFETY: properties are `'static` (inside `'static` definitions).
            let member: &'static StaticDef = unsafe { &*core::ptr::from_ref(member) };
            defines.push(member.fresh_ptr());
            false
        }
        _ => true,
    });
    for p in &properties {
        if cpython {
            defines.push(p.getset.as_ptr());
        } else {
            defines.extend(
                p.get_method
                    .iter()
                    .chain(&p.set_method)
                    .map(StaticDef::as_ptr),
            );
        }
    }
    // Dropping the structs: `tp_destroy` for the object shape; for a builtin
    // type `tp_finalize` (on PyPy also `__del__`), as HPy 0.9's `tp_dealloc`
    // for a type with `tp_destroy` or `tp_traverse` frees the object without
    // the builtin's own `tp_dealloc` (leaking a list's items, a str's
    // characters, an exception's arguments).
    // `__del__` too (on PyPy the finalizer; on CPython for a Python
    // subclass's `__del__` to call through `super()`).
    let del_method = parts.root != Root::Object && parts.needs_drop;
    if parts.root == Root::Object {
        if !has_new {
            defines.push(parts.no_new.as_ptr());
        }
        if parts.needs_drop {
            defines.push(parts.destroy.as_ptr());
        }
        if parts.has_fields {
            defines.push(parts.traverse.as_ptr());
        }
    } else if parts.needs_drop {
        defines.push(parts.finalize.as_ptr());
        if del_method {
            defines.push(parts.del.as_ptr());
        }
    }
    defines.push(core::ptr::null_mut());
    let mut flags = sys::HPy_TPFLAGS_DEFAULT;
    if parts.root == Root::Object && parts.has_fields {
        flags |= sys::HPy_TPFLAGS_HAVE_GC;
    }
    // With `dict` or `weakref`, on CPython the class Python sees is a Python
    // subclass of this type (see `with_dict_and_weakref`).
    let managed = cpython && (def.dict || def.weakref);
    if def.subclass || managed {
        flags |= sys::HPy_TPFLAGS_BASETYPE;
    }
    // The layout: on CPython HPy puts the payload after the builtin's fields
    // (its shape's header); an exception type has no HPy shape, so the class is
    // "legacy" and the payload goes after the exception's own size, aligned.
    // Elsewhere every class has the object shape (HPy's storage, apart from
    // the builtin's fields).
    let base = (parts.base_type)(ctx)?;
    let mut header = 0;
    let (shape, payload) = match parts.root {
        Root::Object => (sys::HPyType_BuiltinShape_Object, parts.payload_size),
        Root::Payloadless if cpython => (parts.shape, 0),
        Root::Payloadless => (sys::HPyType_BuiltinShape_Object, 0),
        Root::Builtin if !cpython => (sys::HPyType_BuiltinShape_Object, parts.payload_size),
        Root::Builtin => {
            let size = base.get_attr("__basicsize__")?.extract::<usize>()?;
            header = size.div_ceil(PAYLOAD_ALIGN) * PAYLOAD_ALIGN;
            def.header.store(header, Ordering::Relaxed);
            if parts.shape == sys::HPyType_BuiltinShape_Legacy {
                (parts.shape, header + parts.payload_size)
            } else {
                (parts.shape, parts.payload_size)
            }
        }
    };
    let basicsize = i32::try_from(payload)
        .map_err(|_| exc::OverflowError::new_err("the class's struct is too large"))?;
    let mut spec = sys::HPyType_Spec {
        name: qualified.as_ptr(),
        basicsize,
        itemsize: 0,
        flags,
        builtin_shape: shape,
        legacy_slots: core::ptr::null_mut(),
        // The runtime keeps pointers into the definitions for the type's life.
        defines: Box::leak(defines.into_boxed_slice()).as_mut_ptr(),
        doc: class_doc(def, new_signature, cpython),
    };
    let mut params = [
        sys::HPyType_SpecParam {
            kind: sys::HPyType_SpecParam_Base,
            object: base.as_raw(),
        },
        sys::HPyType_SpecParam {
            kind: sys::HPyType_SpecParam_Kind(0),
            object: HPy::NULL,
        },
    ];
    let mut make = || {
        // SAFETY: the context is live; the spec, the parameters and everything
        // they point to are valid (the definitions are leaked: the type keeps
        // them).
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPyType_FromSpec(ctx.as_raw(), &mut spec, params.as_mut_ptr()),
            )
        }
    };
    let ty = if del_method && !cpython {
        // PyPy warns that "a __del__ method added to an existing type will not
        // be called": it is (a builtin subclass's finalizer calls it).
        without_warnings(ctx, make)?
    } else {
        make()?
    };
    if parts.root == Root::Builtin && cpython {
        let size = ty.get_attr("__basicsize__")?.extract::<usize>()?;
        if size != header + parts.payload_size {
            return Err(exc::SystemError::new_err(format!(
                "the layout of {} is not what hpy-rs expects: {size} bytes, not {} + {}",
                def.name, header, parts.payload_size
            )));
        }
    }
    if parts.root != Root::Object && (parts.root == Root::Builtin || has_new) {
        def.new_impl.store(new_impl, Ordering::Release);
        install_new(ctx, module, &ty, parts.new_static)?;
    }
    rebind_dunders(ctx, &ty, &rebind)?;
    install_static_members(ctx, module, module_name, &ty, &statics)?;
    if managed {
        let visible = with_dict_and_weakref(ctx, &ty, module_name, def)?;
        if !def.subclass {
            let message = format!(
                "type '{}' is not an acceptable base type",
                qualified.to_string_lossy()
            );
            refuse_subclasses(ctx, &visible, &message, false)?;
        }
        return Ok(visible);
    }
    if !cpython {
        install_properties(ctx, &ty, &properties)?;
        let refusal = if !def.subclass {
            Some(format!(
                "type '{}' is not an acceptable base type",
                qualified.to_string_lossy()
            ))
        } else if parts.root == Root::Builtin {
            Some(format!(
                "type '{}' cannot be subclassed in Python on PyPy 7.3: PyPy makes the instances of a Python subclass of an HPy type that extends a builtin type without their HPy storage (descr_new_subtype)",
                qualified.to_string_lossy()
            ))
        } else if parts.needs_drop && ctx.runtime() == crate::Runtime::PyPy {
            Some(format!(
                "type '{}' cannot be subclassed on PyPy 7.3: its struct needs dropping, and PyPy aborts when an instance of a Python subclass of an HPy type with tp_destroy dies (W_HPyObject._finalize_)",
                qualified.to_string_lossy()
            ))
        } else {
            None
        };
        if let Some(message) = refusal {
            refuse_subclasses(ctx, &ty, &message, false)?;
        } else if ctx.runtime() == crate::Runtime::PyPy {
            let message = format!(
                "a Python subclass of '{}' cannot have __del__ on PyPy 7.3: PyPy aborts when it finalizes an instance of a Python subclass of an HPy type (W_HPyObject._finalize_)",
                qualified.to_string_lossy()
            );
            refuse_subclasses(ctx, &ty, &message, true)?;
        }
    }
    Ok(ty)
}

/// The class Python sees for a class with `dict` or `weakref` on CPython: a
/// Python subclass of its HPy type `ty`, with `__slots__` of `__dict__`
/// and/or `__weakref__`. HPy 0.9 has no sound way to give an HPy type
/// these: its `tp_dealloc` (for a type with `tp_destroy` or `tp_traverse`)
/// neither clears weak references (they would point to freed memory) nor
/// releases the dict, while a Python subclass's `tp_dealloc` does both and
/// then calls the HPy type's. (PyPy's HPy objects have both anyway.)
fn with_dict_and_weakref<'c>(
    ctx: &'c Context,
    ty: &Handle<'c>,
    module_name: &str,
    def: &ClassDef,
) -> Result<Handle<'c>> {
    let dict = ctx.new_str("__dict__")?;
    let weakref = ctx.new_str("__weakref__")?;
    let slots = match (def.dict, def.weakref) {
        (true, true) => ctx.new_tuple(&[&dict, &weakref])?,
        (true, false) => ctx.new_tuple(&[&dict])?,
        _ => ctx.new_tuple(&[&weakref])?,
    };
    let namespace = ctx.new_dict()?;
    namespace.set_item("__slots__", &slots)?;
    namespace.set_item("__module__", module_name)?;
    namespace.set_item("__qualname__", def.name)?;
    namespace.set_item("__doc__", &ty.get_attr("__doc__")?)?;
    let bases = ctx.new_tuple(&[ty])?;
    ctx.type_type().call((def.name, &bases, &namespace))
}

/// The class's docstring, on CPython with the text signature of its
/// `#[new]` in front (`Point(x=0.0, y=0.0)\n--\n\n...`), from which CPython
/// takes `__text_signature__` (so `inspect.signature(Point)` works) and
/// strips it off `__doc__`.
fn class_doc(
    def: &ClassDef,
    new_signature: Option<&str>,
    cpython: bool,
) -> *const core::ffi::c_char {
    let doc = def.doc.map(|d| d.to_string_lossy());
    match (new_signature, cpython) {
        (Some(sig), true) => {
            let text = format!(
                "{}({sig})\n--\n\n{}",
                def.name,
                doc.as_deref().unwrap_or("")
            );
            // The type keeps the pointer for its life (leaked, as the definitions).
            CString::new(text).map_or(core::ptr::null(), |c| c.into_raw().cast_const())
        }
        _ => def.doc.map_or(core::ptr::null(), CStr::as_ptr),
    }
}

/// Runs `f` with Python's warnings ignored.
fn without_warnings<R>(ctx: &Context, f: impl FnOnce() -> Result<R>) -> Result<R> {
    let warnings = ctx.import_module("warnings")?;
    let guard = warnings.call_method("catch_warnings", ())?;
    guard.call_method("__enter__", ())?;
    let ignore = warnings.call_method("simplefilter", ("ignore",));
    let result = ignore.and_then(|_| f());
    let none = ctx.none();
    let exit = guard.call_method("__exit__", (&*none, &*none, &*none));
    let value = result?;
    exit?;
    Ok(value)
}

/// Moves `Class.__new__` (see [`new_static`]) from the module to the class,
/// as a `staticmethod`.
fn install_new(
    ctx: &Context,
    module: &Handle<'_>,
    ty: &Handle<'_>,
    new_static: &'static StaticDef,
) -> Result<()> {
    let name = new_static
        .method_name()
        .and_then(|n| n.to_str().ok())
        .unwrap_or_default();
    let f = module.get_attr(name)?;
    let wrapped = ctx.builtins().get_item("staticmethod")?.call1(&f)?;
    ty.set_attr("__new__", &wrapped)?;
    module.del_attr(name)
}

/// Makes a class statement that derives from `ty` fail with `TypeError:
/// message`: an `__init_subclass__` that raises. For a type without
/// `Py_TPFLAGS_BASETYPE`, which PyPy 7.3.19 ignores for HPy types, with
/// CPython's message; and for a subclassable class whose struct needs
/// dropping on PyPy, whose finalizer aborts for instances of Python
/// subclasses of HPy types (`W_HPyObject._finalize_` asserts that the
/// object's type is an HPy type). With `only_with_del`, only subclasses
/// that have a `__del__` are refused (the same abort: any finalizer of such
/// an instance ends in `W_HPyObject._finalize_`).
fn refuse_subclasses(
    ctx: &Context,
    ty: &Handle<'_>,
    message: &str,
    only_with_del: bool,
) -> Result<()> {
    let globals = ctx.new_dict()?;
    globals.set_item("message", message)?;
    globals.set_item("only_with_del", only_with_del)?;
    globals.set_item("base", ty)?;
    let code = ctx.compile(
        "def __init_subclass__(cls, **kwargs):\n\
         \x20   if not only_with_del or getattr(cls, '__del__', None) is not None:\n\
         \x20       raise TypeError(message)\n\
         \x20   super(base, cls).__init_subclass__(**kwargs)\n",
        "<hpy class>",
        crate::SourceKind::File,
    )?;
    ctx.eval_code(&code, &globals, &globals)?;
    let f = globals.get_item("__init_subclass__")?;
    let classmethod = ctx.builtins().get_item("classmethod")?.call1(&f)?;
    ty.set_attr("__init_subclass__", &classmethod)
}

/// Moves the functions of the static and class methods from the module to
/// the class, wrapped.
fn install_static_members(
    ctx: &Context,
    module: &Handle<'_>,
    module_name: &str,
    ty: &Handle<'_>,
    statics: &[&StaticMember],
) -> Result<()> {
    if statics.is_empty() {
        return Ok(());
    }
    let builtins = ctx.builtins();
    let module_name = ctx.new_str(module_name)?;
    for m in statics {
        let function_name = m.function_name.to_str().unwrap_or_default();
        let f = module.get_attr(function_name)?;
        if ctx.runtime() != crate::Runtime::CPython {
            // PyPy gives extension functions no `__module__` (see `introspection`).
            f.set_attr("__module__", &module_name)?;
        }
        let wrapper = if m.classmethod {
            "classmethod"
        } else {
            "staticmethod"
        };
        let wrapped = builtins.get_item(wrapper)?.call1(&f)?;
        ty.set_attr(m.name.to_str().unwrap_or_default(), &wrapped)?;
        module.del_attr(function_name)?;
    }
    Ok(())
}

/// Replaces the hidden getter and setter methods of each property by a
/// Python `property` of them (runtimes other than CPython).
fn install_properties(ctx: &Context, ty: &Handle<'_>, properties: &[&PropertyDef]) -> Result<()> {
    let property = ctx.builtins().get_item("property")?;
    let none = ctx.none();
    for p in properties {
        let hidden = |m: &Option<StaticDef>| -> Result<Option<(Handle<'_>, &'static CStr)>> {
            let name = m.as_ref().and_then(|m| {
                // SAFETY: the runtime writes no method definition (only members'
                // offsets, while it makes a type, which it is done with).
                unsafe { m.method_name_unchecked() }
            });
            match name {
                Some(name) => Ok(Some((
                    ty.get_attr(name.to_str().unwrap_or_default())?,
                    name,
                ))),
                None => Ok(None),
            }
        };
        let get = hidden(&p.get_method)?;
        let set = hidden(&p.set_method)?;
        let fget = get.as_ref().map_or(&*none, |(h, _)| h);
        let fset = set.as_ref().map_or(&*none, |(h, _)| h);
        let doc = match p.doc {
            Some(d) => ctx.new_str(&d.to_string_lossy())?,
            None => none.dup(),
        };
        let prop = property.call((fget, fset, &*none, &doc))?;
        // Its name, for its error messages (a `property` learns it from
        // `__set_name__`, which only a class statement calls).
        prop.call_method("__set_name__", (ty, p.name.to_str().unwrap_or_default()))?;
        ty.set_attr(p.name.to_str().unwrap_or_default(), &prop)?;
        for (_, name) in get.iter().chain(&set) {
            ty.del_attr(name.to_str().unwrap_or_default())?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// What the method expansions call

/// `self` of a method of `T`: the struct, borrowed (shared).
///
/// # Safety
/// `obj` must be an instance of `T`'s class: the runtime checks it for
/// methods and properties of the class (`descriptor 'f' for 'Point' objects
/// doesn't apply to a 'int' object`) and calls slots with it.
#[inline(always)]
pub unsafe fn self_ref<'a, T: Class>(obj: &'a Handle<'_>) -> Result<Ref<'a, T>> {
    // SAFETY: forwarded from the caller.
    Ref::new(unsafe { ClassObject::<T>::of(obj) }?)
}

/// `self` of a method of `T`: the struct, borrowed mutably.
///
/// # Safety
/// As for [`self_ref`].
#[inline(always)]
pub unsafe fn self_mut<'a, T: Class>(obj: &'a Handle<'_>) -> Result<RefMut<'a, T>> {
    // SAFETY: forwarded from the caller.
    RefMut::new(unsafe { ClassObject::<T>::of(obj) }?)
}

/// `&self` of a method that no Python code can interrupt: the struct, after
/// the borrow flag is checked (a `&mut self` in progress raises, as
/// [`self_ref`] raises) but without taking the borrow, so neither written
/// nor given back (two stores fewer a call).
///
/// The macros call it for a method whose signature gives it no way to
/// reach Python: no `&Context`, no handle receiver, no parameter besides
/// `self`, a return value that borrows nothing (checked by
/// [`owned_return`]). Running Python code takes a [`Context`](crate::Context),
/// which safe code gets only as a parameter (a `Handle` carries one; a
/// struct cannot hold a `Handle`; `Context::from_raw` is `unsafe`), so while
/// such a method runs no other borrow of the object can begin or end: the
/// check sees every borrow that could conflict with this one, and the
/// reference ends when the method returns, before its result is converted
/// (which may allocate, collect garbage and run a `__del__`).
///
/// # Safety
/// As for [`self_ref`]; and the method the reference is passed to is such
/// a method.
#[inline(always)]
pub unsafe fn self_peek<'a, T: Class>(obj: &'a Handle<'_>) -> Result<&'a T> {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { ClassObject::<T>::of(obj) }?;
    if T::FROZEN {
        cell.check_initialised()?;
    } else {
        cell.check_shared()?;
    }
    // SAFETY: initialised (checked) and no `&mut T` exists (checked; none can
    // begin while the reference lives: see above).
    Ok(unsafe { cell.value() })
}

/// `&mut self` of a method that no Python code can interrupt (see
/// [`self_peek`]): the struct, after the borrow flag is checked free.
///
/// # Safety
/// As for [`self_peek`].
#[inline(always)]
#[allow(clippy::mut_from_ref)]
pub unsafe fn self_peek_mut<'a, T: Class>(obj: &'a Handle<'_>) -> Result<&'a mut T> {
    const {
        assert!(
            !T::FROZEN,
            "a `frozen` class is never borrowed mutably: no `&mut self`, `&mut T` or `borrow_mut` for it"
        );
    }
    // SAFETY: forwarded from the caller.
    let cell = unsafe { ClassObject::<T>::of(obj) }?;
    cell.check_exclusive()?;
    // SAFETY: initialised, and no other reference exists (checked; none can
    // begin while this one lives: see `self_peek`).
    Ok(unsafe { cell.value_mut() })
}

/// The result of a method given [`self_peek`]'s reference, unchanged: its
/// type must borrow nothing (`'static`), so the reference is over before
/// the result is converted. A result that borrows from `self` through a
/// hidden lifetime fails to compile here.
#[inline(always)]
pub fn owned_return<R: 'static>(value: R) -> R {
    value
}

/// A copy of a field of a number type, read through [`self_peek`]'s
/// reference: nothing runs during a copy, and the copy borrows nothing.
#[inline(always)]
pub fn copied<T: Copy + 'static>(field: &T) -> T {
    *field
}

/// The `HPy_tp_destroy` slot of `T`.
pub const fn destroy_def<T: Class>() -> StaticDef {
    type Destroy = unsafe extern "C" fn(*mut c_void);
    type Abort = unsafe extern "C" fn();
    // SAFETY: the runtime calls the impl back as an `HPyFunc_DESTROYFUNC`,
    // which it is, and never calls the trampoline (CPython's runtime calls the
    // impl from its own `tp_dealloc`); both are erased as C erases them.
    unsafe {
        StaticDef::slot(
            sys::HPy_tp_destroy,
            Some(core::mem::transmute::<
                Destroy,
                unsafe extern "C" fn() -> *mut c_void,
            >(destroy::<T>)),
            Some(core::mem::transmute::<
                Abort,
                unsafe extern "C" fn(
                    *mut sys::cpy_PyObject,
                    *const *mut sys::cpy_PyObject,
                    isize,
                ) -> *mut sys::cpy_PyObject,
            >(destroy_trampoline)),
        )
    }
}

/// The `tp_new` slot of a class without `#[new]`.
pub const fn no_new_def<T: Class>() -> StaticDef {
    unsafe extern "C" fn trampoline<T: Class>(
        self_: *mut sys::cpy_PyObject,
        args: *mut sys::cpy_PyObject,
        kw: *mut sys::cpy_PyObject,
    ) -> *mut sys::cpy_PyObject {
        // SAFETY: CPython calls this as `tp_new`.
        unsafe { super::trampoline_new(self_, args, kw, no_new::<T>) }
    }
    StaticDef::slot(
        sys::HPy_tp_new,
        super::erase_new(no_new::<T>),
        super::erase_new_trampoline(trampoline::<T>),
    )
}

/// The setter of a read-only property: Python's `AttributeError` for a
/// property without a setter (what the `property` gives on other runtimes;
/// PyPy 7.3.19 aborts the process on an assignment to a getset without a
/// setter: `W_HPyGetSetProperty.readonly_attribute` raises an RPython
/// `NotImplementedError`).
///
/// # Safety
/// Called by the runtime as an `HPyFunc_SETTER` of a property of `T` whose
/// closure is the property's name (a C string, as `StaticDef::getset` sets).
pub unsafe extern "C" fn readonly_setter<T: Class>(
    ctx: *mut sys::HPyContext,
    _slf: HPy,
    _value: HPy,
    closure: *mut c_void,
) -> core::ffi::c_int {
    // SAFETY: the closure is the property's `'static` name.
    let attr = unsafe { CStr::from_ptr(closure as *const core::ffi::c_char) };
    let attr = attr.to_string_lossy();
    // SAFETY: the runtime calls this with the call's context.
    unsafe {
        super::run_inquiry(ctx, T::NAME, |_ctx| {
            Err(if _value.is_null() {
                no_deleter::<T>(&attr)
            } else {
                exc::AttributeError::new_err(format!(
                    "property '{attr}' of '{}' object has no setter",
                    T::NAME
                ))
            })
        })
    }
}

/// The CPython trampoline of [`readonly_setter`].
///
/// # Safety
/// Called by CPython as a getset's setter.
pub unsafe extern "C" fn readonly_setter_trampoline<T: Class>(
    slf: *mut sys::cpy_PyObject,
    value: *mut sys::cpy_PyObject,
    closure: *mut c_void,
) -> core::ffi::c_int {
    // SAFETY: forwarded.
    unsafe { super::trampoline_setter(slf, value, closure, readonly_setter::<T>) }
}

/// `del obj.attr` on a property: Python's `AttributeError` for a property
/// without a deleter.
#[cold]
pub fn no_deleter<T: Class>(attr: &str) -> Error {
    exc::AttributeError::new_err(format!(
        "property '{attr}' of '{}' object has no deleter",
        T::NAME
    ))
}

/// The value given to a setter, converted: errors name the attribute
/// (`Point.x must be float, not str`).
#[inline(always)]
pub fn extract_attribute<'a, 'ctx, T: crate::FromPy<'a, 'ctx>>(
    value: &'a Handle<'ctx>,
    class: &str,
    attr: &str,
) -> Result<T> {
    T::from_py(value).map_err(|e| e.for_attribute(class, attr))
}

/// What a `#[setter]` may return: `()` or `Result<()>`.
pub trait IntoSetResult {
    /// Converts the returned value.
    fn into_set_result(self) -> Result<()>;
}

impl IntoSetResult for () {
    #[inline(always)]
    fn into_set_result(self) -> Result<()> {
        Ok(())
    }
}

impl<E: Into<Error>> IntoSetResult for core::result::Result<(), E> {
    #[inline(always)]
    fn into_set_result(self) -> Result<()> {
        self.map_err(Into::into)
    }
}

#[diagnostic::on_unimplemented(
    message = "`#[new]` of `{T}` returns `{Self}`, which makes no `{T}`",
    label = "not what makes a `{T}`",
    note = "`#[new]` returns the struct (`Self`), `(Self, base args)` for a builtin base, `(Self, Base)` for a class base, or a `Result` of one"
)]
/// What a `#[new]` function may return: what makes an instance
/// ([`Init`](crate::class::base::Init): the struct, `(Self, base args)`,
/// `(Self, Base)`), or a `Result` of that.
pub trait IntoNew<T: Class> {
    /// What makes the instance.
    type Init: crate::class::base::Init<T>;
    /// It, or the error.
    fn into_new(self) -> Result<Self::Init>;
}

impl<T: Class> IntoNew<T> for T
where
    T: crate::class::base::Init<T>,
{
    type Init = T;

    #[inline(always)]
    fn into_new(self) -> Result<T> {
        Ok(self)
    }
}

impl<T: Class, I> IntoNew<T> for (T, I)
where
    (T, I): crate::class::base::Init<T>,
{
    type Init = (T, I);

    #[inline(always)]
    fn into_new(self) -> Result<(T, I)> {
        Ok(self)
    }
}

impl<T: Class, R: IntoNew<T>, E: Into<Error>> IntoNew<T> for core::result::Result<R, E> {
    type Init = R::Init;

    #[inline(always)]
    fn into_new(self) -> Result<R::Init> {
        self.map_err(Into::into)?.into_new()
    }
}

/// A new instance of `ty` (`T`'s class or a subclass) made by `init`.
///
/// # Safety
/// `ty` must be `T`'s class or a subclass of it.
#[inline]
pub unsafe fn new_instance_of<'ctx, T: Class>(
    ctx: &'ctx Context,
    ty: &Handle<'_>,
    init: impl crate::class::base::Init<T>,
) -> Result<Handle<'ctx>> {
    Ok(init.__create(ctx, ty)?.0)
}

// ---------------------------------------------------------------------------
// What the dunder expansions call

/// Runs the body of a slot that returns `R` (a hash, a length, a flag): its
/// value, or `error` with the exception (or the panic) raised.
///
/// # Safety
/// `ctx` must be the context the runtime passed to this call.
#[inline(always)]
pub unsafe fn run_slot<R: Copy, F>(
    ctx: *mut sys::HPyContext,
    name: &'static str,
    error: R,
    body: F,
) -> R
where
    F: for<'ctx> FnOnce(&'ctx Context) -> Result<R>,
{
    let mut out = error;
    // SAFETY: forwarded; the body's value is kept aside, and `run_inquiry`
    // raises its error or panic.
    let status = unsafe {
        super::run_inquiry(ctx, name, |ctx| {
            out = body(ctx)?;
            Ok(())
        })
    };
    if status < 0 { error } else { out }
}

/// A new reference to `NotImplemented`.
#[inline]
pub fn not_implemented(ctx: &Context) -> HPy {
    ctx.not_implemented().dup().into_raw()
}

/// What an operator does when its other operand does not convert: a
/// `TypeError` means "not for this operand" (Python then tries the
/// reflected operation), anything else is raised.
#[cold]
pub fn not_implemented_or(ctx: &Context, err: Error) -> Result<HPy> {
    if err.type_name() == Some("TypeError") {
        Ok(not_implemented(ctx))
    } else {
        Err(err)
    }
}

/// Whether `raw` (a result of an operator) is `NotImplemented`.
#[inline]
pub fn is_not_implemented(ctx: &Context, raw: HPy) -> bool {
    // SAFETY: the context is live and `raw` a live handle.
    unsafe { sys::HPy_Is(ctx.as_raw(), raw, ctx.not_implemented().as_raw()) != 0 }
}

/// Closes a raw handle (an operator's `NotImplemented` that is not used).
#[inline]
pub fn close_raw(ctx: &Context, raw: HPy) {
    // SAFETY: `raw` is a new handle that the caller owns and drops here.
    drop(unsafe { Handle::from_raw(ctx, raw) });
}

/// The class `T` for an operator's checks and result (loaded once per
/// call), without a reference of its own where the build can lend the
/// class's (a CPython-ABI build: no reference-count writes to the type per
/// call).
///
/// # Safety
/// The result is used only for checks made before any Python code runs, or
/// while an operand that is an instance of the class (or of a subclass),
/// which keeps the class alive, is alive: an operator's slot, which loads it
/// first and uses it after Python code only on an operand it checked.
#[inline]
pub unsafe fn class_type_lent<'a, 'ctx, T: Class>(
    ctx: &'ctx Context,
) -> Result<crate::BorrowedItem<'a, 'ctx>> {
    let def = T::__def();
    // SAFETY: forwarded from the caller.
    match unsafe { def.global.try_lend(ctx) } {
        Some(ty) => Ok(ty),
        None => Err(not_made(def)),
    }
}

/// An operand of an operator of `T` that no Python code can interrupt (see
/// [`self_peek`]): the struct of `obj` if it is an instance of `T`'s class
/// `ty`, the borrow flag checked, not taken; `TypeError` otherwise.
///
/// # Safety
/// The reference is passed to a method that cannot reach Python (see
/// [`self_peek`]), and nothing runs Python code between this call and that
/// method's.
#[inline(always)]
pub unsafe fn peek_with_type<'a, T: Class>(obj: &'a Handle<'_>, ty: &Handle<'_>) -> Result<&'a T> {
    if !instance_with_type(obj, ty) {
        return Err(Error::wrong_type(T::NAME, obj));
    }
    // SAFETY: `obj` is an instance of `T`'s class (checked); the rest is
    // forwarded from the caller.
    unsafe { self_peek::<T>(obj) }
}

/// Whether `obj` is an instance of the class `ty` (or of a subclass).
#[inline]
pub fn instance_with_type(obj: &Handle<'_>, ty: &Handle<'_>) -> bool {
    // SAFETY: both handles are open in the live context; `ty` is a type.
    unsafe { sys::HPy_TypeCheck(obj.ctx().as_raw(), obj.as_raw(), ty.as_raw()) != 0 }
}

/// Borrows the struct of `obj` if it is an instance of `T`'s class `ty`:
/// `TypeError` otherwise.
#[inline]
pub fn borrow_with_type<'a, T: Class>(obj: &'a Handle<'_>, ty: &Handle<'_>) -> Result<Ref<'a, T>> {
    if !instance_with_type(obj, ty) {
        return Err(Error::wrong_type(T::NAME, obj));
    }
    // SAFETY: `obj` is an instance of `T`'s class (checked), open as long as
    // the borrow.
    Ref::new(unsafe { ClassObject::<T>::of(obj) }?)
}

/// What an operator of `T` returns when it returns the class: the struct (or
/// a `Result` of it), made an instance of the loaded class `ty`.
pub trait IntoInstance<T: Class> {
    /// The new instance.
    fn into_instance(self, ctx: &Context, ty: &Handle<'_>) -> Result<HPy>;
}

impl<T: Class> IntoInstance<T> for T
where
    T: crate::class::base::Init<T>,
{
    #[inline]
    fn into_instance(self, ctx: &Context, ty: &Handle<'_>) -> Result<HPy> {
        // SAFETY: `ty` is `T`'s class (loaded by the slot).
        unsafe { new_instance_of::<T>(ctx, ty, self) }.map(Handle::into_raw)
    }
}

impl<T: Class, E: Into<Error>> IntoInstance<T> for core::result::Result<T, E>
where
    T: crate::class::base::Init<T>,
{
    #[inline]
    fn into_instance(self, ctx: &Context, ty: &Handle<'_>) -> Result<HPy> {
        self.map_err(Into::into)?.into_instance(ctx, ty)
    }
}

/// Whether `obj` is an instance of the class `T` (operators get any object
/// on either side).
#[inline]
pub fn instance_of<T: Class>(obj: &Handle<'_>) -> Result<bool> {
    obj.is_instance_of::<T>()
}

/// The error of `__setitem__`/`__delitem__` for a class that defines only
/// the other.
#[cold]
pub fn no_item_support<T: Class>(what: &str) -> Error {
    exc::TypeError::new_err(format!("'{}' object does not support item {what}", T::NAME))
}

/// What `__hash__` may return: an integer (`-1` becomes `-2`, as CPython
/// reserves it for errors), or a `Result` of one.
pub trait IntoHash {
    /// The hash.
    fn into_hash(self) -> Result<sys::HPy_hash_t>;
}

macro_rules! into_hash {
    ($($t:ty),*) => {$(
        impl IntoHash for $t {
            #[inline(always)]
            fn into_hash(self) -> Result<sys::HPy_hash_t> {
                #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
                let h = self as sys::HPy_hash_t;
                Ok(if h == -1 { -2 } else { h })
            }
        }
    )*};
}
into_hash!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl<T: IntoHash, E: Into<Error>> IntoHash for core::result::Result<T, E> {
    #[inline(always)]
    fn into_hash(self) -> Result<sys::HPy_hash_t> {
        self.map_err(Into::into)?.into_hash()
    }
}

/// What `__len__` may return: a `usize` (or `Result` of one); above
/// `isize::MAX` raises `OverflowError`, as CPython does.
pub trait IntoLen {
    /// The length.
    fn into_len(self) -> Result<sys::HPy_ssize_t>;
}

impl IntoLen for usize {
    #[inline(always)]
    fn into_len(self) -> Result<sys::HPy_ssize_t> {
        sys::HPy_ssize_t::try_from(self).map_err(|_| {
            exc::OverflowError::new_err("cannot fit 'int' into an index-sized integer")
        })
    }
}

impl<E: Into<Error>> IntoLen for core::result::Result<usize, E> {
    #[inline(always)]
    fn into_len(self) -> Result<sys::HPy_ssize_t> {
        self.map_err(Into::into)?.into_len()
    }
}

/// What `__bool__` and `__contains__` may return: a `bool`, or a `Result` of one.
pub trait IntoBool {
    /// The flag, as C wants it.
    fn into_bool(self) -> Result<core::ffi::c_int>;
}

impl IntoBool for bool {
    #[inline(always)]
    fn into_bool(self) -> Result<core::ffi::c_int> {
        Ok(core::ffi::c_int::from(self))
    }
}

impl<E: Into<Error>> IntoBool for core::result::Result<bool, E> {
    #[inline(always)]
    fn into_bool(self) -> Result<core::ffi::c_int> {
        self.map_err(Into::into)?.into_bool()
    }
}

/// What `__next__` returns: `Some(item)`, or `None` for the end
/// (`StopIteration`); or a `Result` of that.
pub trait IntoIterNext<'ctx> {
    /// The item, or `StopIteration`.
    fn into_next(self, ctx: &'ctx Context) -> Result<HPy>;

    /// The item, or NULL with no exception set for the end: CPython's
    /// `tp_iternext` protocol, for that slot of a CPython-ABI build only
    /// (anywhere else a NULL result needs an exception).
    fn into_next_or_end(self, ctx: &'ctx Context) -> Result<HPy>;
}

impl<'ctx, T: crate::IntoPy<'ctx>> IntoIterNext<'ctx> for Option<T> {
    #[inline(always)]
    fn into_next(self, ctx: &'ctx Context) -> Result<HPy> {
        match self {
            Some(v) => Ok(v.__into_py_raw(ctx)),
            None => Err(stop_iteration(ctx)),
        }
    }

    #[inline(always)]
    fn into_next_or_end(self, ctx: &'ctx Context) -> Result<HPy> {
        Ok(match self {
            Some(v) => v.__into_py_raw(ctx),
            None => HPy::NULL,
        })
    }
}

impl<'ctx, T: crate::IntoPy<'ctx>, E: Into<Error>> IntoIterNext<'ctx>
    for core::result::Result<Option<T>, E>
{
    #[inline(always)]
    fn into_next(self, ctx: &'ctx Context) -> Result<HPy> {
        self.map_err(Into::into)?.into_next(ctx)
    }

    #[inline(always)]
    fn into_next_or_end(self, ctx: &'ctx Context) -> Result<HPy> {
        self.map_err(Into::into)?.into_next_or_end(ctx)
    }
}

/// `StopIteration` without arguments (what `next()` raises at the end).
#[inline]
fn stop_iteration(ctx: &Context) -> Error {
    // SAFETY: the context is live; `StopIteration` and `None` are its
    // constants (an exception class and a value for it), not stolen.
    unsafe {
        sys::HPyErr_SetObject(
            ctx.as_raw(),
            sys::h_StopIteration(ctx.as_raw()),
            sys::h_None(ctx.as_raw()),
        )
    };
    Error::raised()
}

/// What an in-place operator (`__iadd__`, ...) returns: `()` (the operator's
/// result is the object itself), or a `Result<()>`.
pub trait IntoInPlace {
    /// Converts the returned value.
    fn into_in_place(self) -> Result<()>;
}

impl IntoInPlace for () {
    #[inline(always)]
    fn into_in_place(self) -> Result<()> {
        Ok(())
    }
}

impl<E: Into<Error>> IntoInPlace for core::result::Result<(), E> {
    #[inline(always)]
    fn into_in_place(self) -> Result<()> {
        self.map_err(Into::into)
    }
}

/// The comparison operator of a `RICHCMPFUNC` call.
#[inline]
pub fn compare_op(op: sys::HPy_RichCmpOp) -> Option<crate::CompareOp> {
    crate::CompareOp::from_raw(op)
}

/// After a class is made: re-binds its dunder methods that have no HPy slot
/// (`__iter__`, `__next__`, `__getattr__`, ...) on CPython, whose type
/// slots follow an attribute only when it is set after the type exists
/// (`PyType_FromSpec` fills none from methods); other runtimes look them up
/// by name.
pub(crate) fn rebind_dunders(
    ctx: &Context,
    ty: &Handle<'_>,
    names: &[&'static CStr],
) -> Result<()> {
    if ctx.runtime() != crate::Runtime::CPython {
        return Ok(());
    }
    for name in names {
        let name = name.to_str().unwrap_or_default();
        let dict = ty.get_attr("__dict__")?;
        let method = dict.get_item(name)?;
        ty.set_attr(name, &method)?;
    }
    Ok(())
}

/// A class's struct must be `Send`, unless the class is `unsendable`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `Send`: the struct of a #[hpy_class] must be `Send`, or the class `#[hpy_class(unsendable)]`",
    label = "not `Send`"
)]
pub trait SendClass {}

impl<T: Send> SendClass for T {}

/// Checks at compile time that `T` is [`SendClass`].
pub const fn assert_send<T: SendClass>() {}
