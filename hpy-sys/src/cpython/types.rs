//! Types from specs: `HPyType_FromSpec` and the functions on instances of
//! HPy types (`_HPy_New`, `_HPy_AsStruct_*`, `HPy_SetCallFunction`, ...),
//! with CPython's `PyType_FromSpecWithBases` (`PyType_FromMetaclass` on
//! 3.12+) underneath, as HPy's `ctx_type.c` does, with one difference: no
//! private bit in `tp_flags` marks HPy types (HPy's bit 2 is CPython 3.13's
//! `Py_TPFLAGS_INLINE_VALUES`). The runtime keeps a registry of the types it
//! made instead ([`TypeInfo`]), and keeps those types alive, so that an
//! entry never outlives its type.
//!
//! The layout is HPy's: a *pure* HPy type (any shape but legacy) does not
//! include the object header in its struct; the payload starts after the
//! builtin base's struct (`PyObject_HEAD` for the object shape, the
//! `PyFloatObject` of `float`, ...), aligned to `max_align_t`. An instance
//! of a Python subclass of an HPy type reports the legacy shape (the
//! subclass is no HPy type), whose "struct" is the object itself.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{CStr, c_int, c_ulong, c_void};
#[cfg(not(Py_LIMITED_API))]
use core::ptr::null;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use pyo3_ffi as ffi;

use super::{api, h2py, py2h};
use crate::*;

/// The alignment of payloads: `max_align_t`'s (HPy's `_HPy_MaxAlign_t`).
const PAYLOAD_ALIGN: usize = 16;

/// What the runtime knows of an HPy type it made.
struct TypeInfo {
    ty: *mut ffi::PyTypeObject,
    shape: HPyType_BuiltinShape,
    /// Where the payload starts in an instance (`header_size(shape)`).
    header: usize,
    /// `HPy_tp_destroy`, which has no CPython slot: `tp_dealloc` calls it.
    destroy: HPyFunc_destroyfunc,
    /// `HPy_tp_traverse`'s impl, which `tp_clear` calls to empty the fields.
    traverse: HPyFunc_traverseproc,
    /// `HPy_tp_call`'s trampoline: every new instance's call function.
    vectorcall: cpy_vectorcallfunc,
    /// Where an instance keeps its call function (0: no `HPy_tp_call`). The
    /// type's `tp_vectorcall_offset` says the same in a per-version build;
    /// an `abi3` build reads it here (its `tp_call` finds the function).
    #[cfg(Py_LIMITED_API)]
    call_offset: isize,
    /// The type's own slots as they were once it was made, which an `abi3`
    /// build can only read through function calls (`PyType_GetSlot`, an
    /// attribute): read once here for the instances' creation and
    /// deallocation. (Nothing changes them afterwards; `tp_finalize`, which
    /// assigning `__del__` to the class changes, is not kept.)
    #[cfg(Py_LIMITED_API)]
    slots: LimitedSlots,
    /// The impls of the type's `__iter__` and `__next__` methods (HPy 0.9
    /// has no slot for them), which its `tp_iter` and `tp_iternext` call.
    iter: Option<IterImpl>,
    next: Option<IterImpl>,
    /// The context the type was made with: the static one (a CPython-ABI
    /// build; a universal runtime's universal mode), whose impls are called
    /// directly, or a runtime mode's (trace, debug), whose go through the
    /// method's trampoline.
    ctx: *mut HPyContext,
    /// The HPy types of the type's base chain, nearest first: their
    /// `destroy`s and `traverse`s run on the instances too.
    bases: Box<[&'static TypeInfo]>,
    /// The `destroy`s and the `traverse`s of the chain (this type and its
    /// HPy bases, nearest first) that are set: what `tp_dealloc` and
    /// `tp_clear` run, without walking the chain.
    destroys: Box<[unsafe extern "C" fn(*mut c_void)]>,
    traverses: Box<[TraverseFn]>,
    /// The one `destroy` of a chain with no `traverse` (a class whose
    /// struct owns memory but no Python object): `tp_dealloc` calls it
    /// without the loops.
    only_destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    /// [`only_destroy`](Self::only_destroy), when the type's `tp_dealloc` is
    /// [`hpytype_dealloc`] and the type has no weak references and no GC:
    /// an instance of the type itself with no finalizer then dies by this
    /// call and its memory freed, nothing else to look at.
    lean_destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    /// The type's `tp_alloc` when a new instance needs nothing more (no
    /// call function to store in it): `HPy_New`'s inlined path.
    plain_alloc: Option<ffi::allocfunc>,
}

/// An `HPy_tp_traverse` impl.
type TraverseFn = unsafe extern "C" fn(*mut c_void, HPyFunc_visitproc, *mut c_void) -> c_int;

/// An `__iter__` or `__next__` method: its impl and its trampoline.
#[derive(Clone, Copy)]
struct IterImpl {
    f: unsafe extern "C" fn(*mut HPyContext, HPy) -> HPy,
    trampoline: ffi::PyCFunction,
}

/// See [`TypeInfo::slots`].
#[cfg(Py_LIMITED_API)]
struct LimitedSlots {
    alloc: ffi::allocfunc,
    dealloc: Option<ffi::destructor>,
    free: Option<ffi::freefunc>,
    /// A positive `tp_weaklistoffset`.
    weaklist: bool,
    /// [`plain_dealloc`] is the type's `tp_dealloc`, and the type has no
    /// weak references and no GC: its fast path applies when the type has
    /// no finalizer either. (Not kept: setting `__del__` on the class
    /// changes `tp_finalize`, and no other of these slots.)
    lean: bool,
}

#[cfg(Py_LIMITED_API)]
impl LimitedSlots {
    /// The slots of a new type.
    ///
    /// # Safety
    /// `tp` is a live type; the GIL is held.
    unsafe fn of(tp: *mut ffi::PyTypeObject) -> Self {
        // SAFETY: forwarded.
        unsafe {
            let dealloc = api::type_dealloc(tp);
            let weaklist = api::type_has_weaklist(tp);
            let gc = ffi::PyType_IS_GC(tp) != 0;
            LimitedSlots {
                alloc: api::type_alloc(tp).unwrap_or(ffi::PyType_GenericAlloc),
                dealloc,
                free: api::type_free(tp),
                weaklist,
                lean: is(dealloc, plain_dealloc) && !weaklist && !gc,
            }
        }
    }
}

impl TypeInfo {
    /// This type and its HPy bases, nearest first.
    fn chain(&self) -> impl Iterator<Item = &TypeInfo> {
        core::iter::once(self).chain(self.bases.iter().copied())
    }
}

// ---------------------------------------------------------------------------
// The registry: an open-addressing table of `TypeInfo`s keyed by the type's
// address, read without a lock. Writers hold the GIL (they make types);
// a table that grows is replaced by a bigger copy and the old one is kept
// (leaked), so readers never see freed memory.

struct Table {
    mask: usize,
    slots: Box<[AtomicPtr<TypeInfo>]>,
}

static TABLE: AtomicPtr<Table> = AtomicPtr::new(null_mut());
static COUNT: AtomicUsize = AtomicUsize::new(0);

#[inline(always)]
fn slot_of(ty: *mut ffi::PyTypeObject, mask: usize) -> usize {
    let p = ty as usize;
    ((p >> 4) ^ (p >> 13)) & mask
}

/// A one-entry cache in front of [`lookup`] for a call site that sees one
/// type over and over (a loop's `__next__`, the instances one class makes):
/// it saves the registry's hashing and probing per call. Only a registered
/// type is kept (kept alive, with its `TypeInfo`, for good), so the address
/// cannot come to mean another type. The GIL orders readers and writers.
struct LastType(AtomicPtr<TypeInfo>);

impl LastType {
    const fn new() -> Self {
        LastType(AtomicPtr::new(null_mut()))
    }

    /// The cached entry, if it is `ty`'s (no lookup otherwise).
    #[inline(always)]
    fn cached(&self, ty: *mut ffi::PyTypeObject) -> Option<&'static TypeInfo> {
        // SAFETY: a stored pointer is a leaked `TypeInfo`, never freed.
        unsafe { self.0.load(Ordering::Relaxed).as_ref() }.filter(|info| info.ty == ty)
    }

    /// [`lookup`]`(ty)`, from the cache when `ty` is the type it holds.
    #[inline(always)]
    fn lookup(&self, ty: *mut ffi::PyTypeObject) -> Option<&'static TypeInfo> {
        match self.cached(ty) {
            Some(info) => Some(info),
            None => {
                let info = lookup(ty)?;
                self.0
                    .store(core::ptr::from_ref(info).cast_mut(), Ordering::Relaxed);
                Some(info)
            }
        }
    }

    /// [`first_hpy_base`]`(ty)`, from the cache when `ty` is the type it
    /// holds (a Python subclass, which is not registered, takes the walk).
    #[inline(always)]
    fn first_hpy_base(&self, ty: *mut ffi::PyTypeObject) -> Option<&'static TypeInfo> {
        match self.lookup(ty) {
            Some(info) => Some(info),
            // SAFETY: a live type has live bases.
            None => first_hpy_base(unsafe { api::type_base(ty) }),
        }
    }
}

/// The info of `ty`, if this runtime made it.
#[inline]
fn lookup(ty: *mut ffi::PyTypeObject) -> Option<&'static TypeInfo> {
    let table = TABLE.load(Ordering::Acquire);
    if table.is_null() {
        return None;
    }
    // SAFETY: published tables are never freed.
    let table = unsafe { &*table };
    let mut i = slot_of(ty, table.mask);
    loop {
        let entry = table.slots[i].load(Ordering::Acquire);
        if entry.is_null() {
            return None;
        }
        // SAFETY: entries are leaked `TypeInfo`s, never freed.
        let entry = unsafe { &*entry };
        if entry.ty == ty {
            return Some(entry);
        }
        i = (i + 1) & table.mask;
    }
}

/// Adds `info` to the registry.
///
/// # Safety
/// The GIL is held (it orders the writers); `info.ty` is kept alive forever.
unsafe fn register(info: &'static TypeInfo) {
    let count = COUNT.load(Ordering::Relaxed) + 1;
    let mut table = TABLE.load(Ordering::Acquire);
    // SAFETY: published tables are never freed.
    if table.is_null() || count * 2 > unsafe { (*table).mask + 1 } {
        let capacity = if table.is_null() {
            64
        } else {
            // SAFETY: as above.
            unsafe { ((*table).mask + 1) * 2 }
        };
        let bigger = Box::leak(Box::new(Table {
            mask: capacity - 1,
            slots: (0..capacity).map(|_| AtomicPtr::new(null_mut())).collect(),
        }));
        if !table.is_null() {
            // SAFETY: as above.
            for entry in unsafe { &*table }.slots.iter() {
                let e = entry.load(Ordering::Acquire);
                if !e.is_null() {
                    // SAFETY: entries are leaked `TypeInfo`s.
                    insert(bigger, unsafe { &*e });
                }
            }
        }
        table = bigger;
        TABLE.store(table, Ordering::Release);
    }
    // SAFETY: as above.
    insert(unsafe { &*table }, info);
    COUNT.store(count, Ordering::Relaxed);
}

fn insert(table: &Table, info: &'static TypeInfo) {
    let mut i = slot_of(info.ty, table.mask);
    while !table.slots[i].load(Ordering::Acquire).is_null() {
        i = (i + 1) & table.mask;
    }
    table.slots[i].store(core::ptr::from_ref(info).cast_mut(), Ordering::Release);
}

/// The first HPy type in `ty`'s base chain (`ty` itself for an HPy type; its
/// HPy base for a Python subclass).
#[inline]
fn first_hpy_base(mut ty: *mut ffi::PyTypeObject) -> Option<&'static TypeInfo> {
    while !ty.is_null() {
        if let Some(info) = lookup(ty) {
            return Some(info);
        }
        // SAFETY: `ty` is a live type; its bases outlive it.
        ty = unsafe { api::type_base(ty) };
    }
    None
}

// ---------------------------------------------------------------------------
// Shapes and payloads

/// The builtin type whose struct a shape's payload follows.
fn shape_base(shape: HPyType_BuiltinShape) -> Option<*mut ffi::PyTypeObject> {
    // Only the addresses of CPython's static types are taken.
    {
        Some(match shape {
            HPyType_BuiltinShape_Object => &raw mut ffi::PyBaseObject_Type,
            HPyType_BuiltinShape_Type => &raw mut ffi::PyType_Type,
            HPyType_BuiltinShape_Long => &raw mut ffi::PyLong_Type,
            HPyType_BuiltinShape_Float => &raw mut ffi::PyFloat_Type,
            HPyType_BuiltinShape_Unicode => &raw mut ffi::PyUnicode_Type,
            HPyType_BuiltinShape_Tuple => &raw mut ffi::PyTuple_Type,
            HPyType_BuiltinShape_List => &raw mut ffi::PyList_Type,
            _ => return None,
        })
    }
}

/// Where the payload of an instance of a type of `shape` starts: after the
/// builtin's struct, aligned (`_HPy_GetHeaderSize` in HPy); 0 for the
/// legacy shape, `None` for no shape at all.
#[inline(always)]
fn header_size(shape: HPyType_BuiltinShape) -> Option<usize> {
    if shape == HPyType_BuiltinShape_Object {
        return Some(size_of::<ffi::PyObject>().next_multiple_of(PAYLOAD_ALIGN));
    }
    if shape == HPyType_BuiltinShape_Legacy {
        return Some(0);
    }
    let base = shape_base(shape)?;
    // SAFETY: a static type of CPython's (whose `__basicsize__` an `abi3`
    // build reads without failing).
    let size = unsafe { api::type_basicsize(base) } as usize;
    Some(size.next_multiple_of(PAYLOAD_ALIGN))
}

/// The shape of `ty`: its own if this runtime made it, else legacy.
#[inline]
fn shape_of(ty: *mut ffi::PyTypeObject) -> HPyType_BuiltinShape {
    lookup(ty).map_or(HPyType_BuiltinShape_Legacy, |info| info.shape)
}

/// The payload of `obj` for its type's shape (`_pyobj_as_struct` in HPy).
///
/// # Safety
/// `obj` is a live object.
#[inline]
pub(crate) unsafe fn payload_of(obj: *mut ffi::PyObject) -> *mut c_void {
    // SAFETY: a live object has a live type.
    let header = lookup(unsafe { ffi::Py_TYPE(obj) }).map_or(0, |i| i.header);
    obj.cast::<u8>().wrapping_add(header).cast()
}

/// `obj + header(shape)`: the `_HPy_AsStruct_*` of a shape.
#[inline(always)]
fn as_struct(h: HPy, shape: HPyType_BuiltinShape) -> *mut c_void {
    let header = header_size(shape).unwrap_or(0);
    h2py(h).cast::<u8>().wrapping_add(header).cast()
}

/// `_HPy_AsStruct_Object`.
#[inline]
pub unsafe extern "C" fn ctx_AsStruct_Object(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_Object)
}

/// `_HPy_AsStruct_Legacy`: the object itself.
#[inline]
pub unsafe extern "C" fn ctx_AsStruct_Legacy(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    h2py(h).cast()
}

/// `_HPy_AsStruct_Type`.
pub unsafe extern "C" fn ctx_AsStruct_Type(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_Type)
}

/// `_HPy_AsStruct_Long`.
pub unsafe extern "C" fn ctx_AsStruct_Long(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_Long)
}

/// `_HPy_AsStruct_Float`.
pub unsafe extern "C" fn ctx_AsStruct_Float(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_Float)
}

/// `_HPy_AsStruct_Unicode`.
pub unsafe extern "C" fn ctx_AsStruct_Unicode(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_Unicode)
}

/// `_HPy_AsStruct_Tuple`.
pub unsafe extern "C" fn ctx_AsStruct_Tuple(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_Tuple)
}

/// `_HPy_AsStruct_List`.
pub unsafe extern "C" fn ctx_AsStruct_List(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    as_struct(h, HPyType_BuiltinShape_List)
}

/// `_HPyType_GetBuiltinShape`: the shape of an HPy type this runtime made,
/// legacy for any other type; `TypeError` (and -2) for a non-type.
pub unsafe extern "C" fn ctx_Type_GetBuiltinShape(
    _ctx: *mut HPyContext,
    h_type: HPy,
) -> HPyType_BuiltinShape {
    let tp = h2py(h_type);
    // SAFETY: `h_type` is open.
    unsafe {
        if ffi::PyType_Check(tp) == 0 {
            ffi::PyErr_SetString(ffi::PyExc_TypeError, c"arg must be a type".as_ptr());
            return HPyType_BuiltinShape(-2);
        }
    }
    shape_of(tp.cast())
}

// ---------------------------------------------------------------------------
// Instances

/// Where an instance of `ty` keeps its call function (`HPy_tp_call`), or 0.
///
/// # Safety
/// `ty` is a live type.
#[inline(always)]
unsafe fn call_offset(ty: *mut ffi::PyTypeObject) -> isize {
    // Not `Py_TPFLAGS_HAVE_VECTORCALL`: before 3.12 a Python subclass does
    // not inherit it, though it inherits the offset and `tp_call`
    // (`PyVectorcall_Call`, which reads the function there all the same).
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `ty` is live.
    unsafe {
        (*ty).tp_vectorcall_offset
    }
    #[cfg(Py_LIMITED_API)]
    first_hpy_base(ty).map_or(0, |info| info.call_offset)
}

// A type's own slots, for the creation and deallocation of its instances:
// read from the type in a per-version build; in an `abi3` build from `own`
// (its registry entry, if it has one: see `TypeInfo::slots`), else through
// the limited API's calls. Each takes a live type.
macro_rules! own_slot {
    ($(#[$doc:meta])* $name:ident -> $ty:ty = $field:ident | $read:expr) => {
        $(#[$doc])*
        #[inline(always)]
        unsafe fn $name(tp: *mut ffi::PyTypeObject, own: Option<&TypeInfo>) -> $ty {
            #[cfg(Py_LIMITED_API)]
            if let Some(info) = own {
                return info.slots.$field;
            }
            let _ = own;
            // SAFETY: `tp` is live (the caller's contract).
            unsafe { ($read)(tp) }
        }
    };
}

own_slot!(
    /// Whether instances of `tp` have a weak-reference list.
    has_weaklist -> bool = weaklist | api::type_has_weaklist
);
own_slot!(
    /// `tp_dealloc` of `tp`.
    dealloc_of -> Option<ffi::destructor> = dealloc | api::type_dealloc
);
own_slot!(
    /// `tp_free` of `tp`.
    free_of -> Option<ffi::freefunc> = free | api::type_free
);
/// Whether `tp` has a `tp_finalize`, read from the type itself in every
/// build: assigning `__del__` to a class (a heap type) sets or clears it.
///
/// # Safety
/// `tp` is a live type; the GIL is held.
#[inline(always)]
unsafe fn has_finalizer(tp: *mut ffi::PyTypeObject) -> bool {
    // SAFETY: forwarded.
    unsafe { api::type_finalize(tp).is_some() }
}

own_slot!(
    /// `tp_alloc` of `tp` (`PyType_GenericAlloc` if it has none).
    alloc_of -> ffi::allocfunc = alloc | |tp| api::type_alloc(tp).unwrap_or(ffi::PyType_GenericAlloc)
);

/// `tp_call` of an HPy type with `HPy_tp_call` in an `abi3` build (where
/// CPython 3.10 and 3.11's limited API has no vectorcall): the instance's
/// own call function, given the arguments as a vectorcall.
#[cfg(Py_LIMITED_API)]
unsafe extern "C" fn hpy_tp_call(
    obj: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwds: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this as `tp_call`: `args` is a tuple, `kwds` NULL
    // or a dict; the instance's call function sits at the type's offset.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        let offset = call_offset(tp);
        if offset <= 0 {
            ffi::PyErr_SetString(ffi::PyExc_TypeError, c"object is not callable".as_ptr());
            return null_mut();
        }
        let func = obj
            .cast::<u8>()
            .offset(offset)
            .cast::<cpy_vectorcallfunc>()
            .read_unaligned();
        let Some(func) = func else {
            ffi::PyErr_SetString(ffi::PyExc_TypeError, c"object is not callable".as_ptr());
            return null_mut();
        };
        let nargs = api::tuple_size(args);
        let mut items: Vec<*mut ffi::PyObject> = Vec::new();
        let nkw = if kwds.is_null() {
            0
        } else {
            ffi::PyDict_Size(kwds)
        };
        if items.try_reserve_exact((nargs + nkw) as usize).is_err() {
            return ffi::PyErr_NoMemory();
        }
        for i in 0..nargs {
            items.push(api::tuple_get_item(args, i));
        }
        let mut kwnames = null_mut();
        if nkw > 0 {
            kwnames = ffi::PyTuple_New(nkw);
            if kwnames.is_null() {
                return null_mut();
            }
            let (mut pos, mut k) = (0, 0);
            let (mut key, mut value) = (null_mut(), null_mut());
            while k < nkw && ffi::PyDict_Next(kwds, &mut pos, &mut key, &mut value) != 0 {
                ffi::Py_INCREF(key);
                api::tuple_set_item(kwnames, k, key);
                items.push(value);
                k += 1;
            }
        }
        let result = func(
            obj.cast(),
            items.as_ptr().cast(),
            nargs as usize,
            kwnames.cast(),
        );
        ffi::Py_XDECREF(kwnames);
        result.cast()
    }
}

/// Writes `ty`'s default call function into a new instance `obj`, for a type
/// with `HPy_tp_call` (or a Python subclass of one).
///
/// # Safety
/// `obj` is a new instance of `ty`; `own` is `ty`'s registry entry if the
/// caller has it at hand (else it is looked up).
#[inline]
unsafe fn vectorcall_init(
    ty: *mut ffi::PyTypeObject,
    obj: *mut ffi::PyObject,
    own: Option<&'static TypeInfo>,
) {
    // SAFETY: `ty` is live; a type with a call offset has its call
    // function's field there inside the instance.
    unsafe {
        #[cfg(not(Py_LIMITED_API))]
        let offset = call_offset(ty);
        #[cfg(not(Py_LIMITED_API))]
        if offset <= 0 {
            return;
        }
        let Some(info) = own.or_else(|| first_hpy_base(ty)) else {
            return;
        };
        #[cfg(Py_LIMITED_API)]
        let offset = info.call_offset;
        #[cfg(Py_LIMITED_API)]
        if offset <= 0 {
            return;
        }
        // The nearest call function of the chain (a type that inherits the
        // slot without declaring it has none of its own).
        let func = info.chain().find_map(|t| t.vectorcall);
        obj.cast::<u8>()
            .offset(offset)
            .cast::<cpy_vectorcallfunc>()
            .write_unaligned(func);
    }
}

/// `_HPy_New`: a new, zeroed instance of `h_type`; `*data` is its payload
/// (the object itself for a type of the legacy shape, such as a Python
/// subclass).
#[inline(always)]
pub unsafe extern "C" fn ctx_New(
    _ctx: *mut HPyContext,
    h_type: HPy,
    data: *mut *mut c_void,
) -> HPy {
    // SAFETY: forwarded.
    let (h, payload) = unsafe { new_with_payload(h_type) };
    if !h.is_null() {
        // SAFETY: `data` is valid for a write (the caller's contract).
        unsafe {
            *data = if payload.is_null() {
                h2py(h).cast()
            } else {
                payload
            }
        };
    }
    h
}

/// [`ctx_New`] as the `hpy` crate's classes call it in a CPython-ABI build:
/// the new instance, and its payload if `h_type` is one of this runtime's
/// types, NULL if not (a Python subclass: its instance's payload is the
/// caller's to find); the payload is meaningless when the handle is NULL.
/// Inlined: an instance of the type made last, when it needs no more than
/// its `tp_alloc` (the common case, a class's methods making its
/// instances), costs a compare, the allocation and an addition.
///
/// # Safety
/// `h_type` is an open handle; the GIL is held.
#[inline(always)]
pub unsafe fn new_with_payload(h_type: HPy) -> (HPy, *mut c_void) {
    let tp = h2py(h_type).cast::<ffi::PyTypeObject>();
    if let Some((info, alloc)) = LAST_NEW_TYPE
        .cached(tp)
        .and_then(|info| Some((info, info.plain_alloc?)))
    {
        // SAFETY: `tp` is one of this runtime's types (its entry says so),
        // whose instances need only `tp_alloc`, which returns a zeroed
        // instance (GC-tracked for a GC type) or NULL with an exception set.
        let obj = unsafe { alloc(tp, 0) };
        return (py2h(obj), obj.cast::<u8>().wrapping_add(info.header).cast());
    }
    // SAFETY: forwarded.
    unsafe { new_instance(tp) }
}

/// The type of the last instance made: a class's methods make its
/// instances over and over.
static LAST_NEW_TYPE: LastType = LastType::new();

/// [`new_with_payload`] for any type.
///
/// # Safety
/// As [`new_with_payload`]'s.
#[inline(never)]
unsafe fn new_instance(tp: *mut ffi::PyTypeObject) -> (HPy, *mut c_void) {
    // One of this runtime's types (nearly always), or any other type.
    let info = LAST_NEW_TYPE.lookup(tp);
    // SAFETY: `tp` is open (the caller's contract); `tp_alloc` returns a
    // zeroed instance (GC-tracked for a GC type) or NULL with an exception
    // set.
    unsafe {
        if info.is_none() && ffi::PyType_Check(tp.cast()) == 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"HPy_New arg 1 must be a type".as_ptr(),
            );
            return (HPy::NULL, null_mut());
        }
        let obj = alloc_of(tp, info)(tp, 0);
        if obj.is_null() {
            return (HPy::NULL, null_mut());
        }
        vectorcall_init(tp, obj, info);
        // The payload; none for a type of no shape (a Python subclass).
        let payload = info.map_or(null_mut(), |i| obj.cast::<u8>().add(i.header).cast());
        (py2h(obj), payload)
    }
}

/// `HPyType_GenericNew`: a new, zeroed instance of `h_type` (`tp_alloc`),
/// whatever the arguments.
pub unsafe extern "C" fn ctx_Type_GenericNew(
    _ctx: *mut HPyContext,
    h_type: HPy,
    _args: *const HPy,
    _nargs: HPy_ssize_t,
    _kw: HPy,
) -> HPy {
    let tp = h2py(h_type).cast::<ffi::PyTypeObject>();
    // SAFETY: as in `ctx_New`.
    unsafe {
        if ffi::PyType_Check(tp.cast()) == 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"HPy_Type_GenericNew arg 1 must be a type".as_ptr(),
            );
            return HPy::NULL;
        }
        let own = lookup(tp);
        let obj = alloc_of(tp, own)(tp, 0);
        if !obj.is_null() {
            vectorcall_init(tp, obj, own);
        }
        py2h(obj)
    }
}

/// `HPy_SetCallFunction`: the call function of one instance of a type with
/// `HPy_tp_call`.
pub unsafe extern "C" fn ctx_SetCallFunction(
    _ctx: *mut HPyContext,
    h: HPy,
    func: *mut HPyCallFunction,
) -> c_int {
    let obj = h2py(h);
    // SAFETY: `h` is open and `func` a live definition; a type with a call
    // offset has the call function's field there.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        let offset = call_offset(tp);
        if offset <= 0 {
            let name = api::type_name(tp);
            if !name.is_null() {
                ffi::PyErr_Format(
                    ffi::PyExc_TypeError,
                    c"type '%.50U' does not implement the HPy call protocol".as_ptr(),
                    name,
                );
                ffi::Py_DECREF(name);
            }
            return -1;
        }
        obj.cast::<u8>()
            .offset(offset)
            .cast::<cpy_vectorcallfunc>()
            .write_unaligned((*func).cpy_trampoline);
    }
    0
}

// ---------------------------------------------------------------------------
// The slots the runtime adds

/// The last HPy type whose instance `hpytype_dealloc` freed: the instances
/// that die together are mostly of one type.
static LAST_DEALLOC_TYPE: LastType = LastType::new();

/// `tp_dealloc` of HPy types with `HPy_tp_destroy` or `HPy_tp_traverse`
/// (`hpytype_dealloc` in HPy): finalizer, GC untracking, the fields
/// emptied, `destroy` of each HPy type of the chain, then the memory.
///
/// The common case, an instance of the type itself whose chain has one
/// `destroy` and no `traverse`, and no finalizer, weak references or GC
/// ([`TypeInfo::lean_destroy`]), is that call, then the memory freed as in
/// [`plain_dealloc`] (the type's reference dropped first, `tp_free` a tail
/// call).
unsafe extern "C" fn hpytype_dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls this with a dying instance of one of our types
    // (or of a Python subclass, from its own `tp_dealloc`).
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        // The type's own entry gives the payload's offset; a Python
        // subclass (no entry) passes the object, as HPy does.
        let own = LAST_DEALLOC_TYPE.lookup(tp);
        if let Some(info) = own {
            if let Some(destroy) = info.lean_destroy {
                if !has_finalizer(tp) {
                    destroy(obj.cast::<u8>().add(info.header).cast());
                    // As in `plain_dealloc`: not GC-tracked, so `tp_free`
                    // does not read the type.
                    let free = free_of(tp, own).unwrap_or(ffi::PyObject_Free);
                    ffi::Py_DECREF(tp.cast());
                    return free(obj.cast());
                }
            }
        }
        hpytype_dealloc_slow(obj, tp, own);
    }
}

/// [`hpytype_dealloc`] for every other case: a Python subclass's instance
/// (called from its `subtype_dealloc`), finalizers, weak references, GC,
/// fields, several `destroy`s.
///
/// # Safety
/// As [`hpytype_dealloc`]'s; `tp` is the type of `obj`, `own` its entry.
#[cold]
#[inline(never)]
unsafe fn hpytype_dealloc_slow(
    obj: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    own: Option<&TypeInfo>,
) {
    // SAFETY: forwarded.
    unsafe {
        // Called for a Python subclass's instance from its `subtype_dealloc`,
        // which has finalized it and cleared its weak references already.
        let outermost = is(dealloc_of(tp, own), hpytype_dealloc);
        if outermost && !finalize_and_clear_weakrefs(obj, tp, own) {
            return; // resurrected
        }
        if ffi::PyType_IS_GC(tp) != 0 {
            ffi::PyObject_GC_UnTrack(obj.cast());
        }
        if let Some(info) = own.or_else(|| first_hpy_base(tp)) {
            let payload = obj.cast::<u8>().add(own.map_or(0, |i| i.header)).cast();
            if let Some(destroy) = info.only_destroy {
                destroy(payload);
            } else {
                clear_fields(info, payload);
                for destroy in &info.destroys {
                    destroy(payload);
                }
            }
        }
        free_instance(obj, tp, own);
    }
}

/// The end of a `tp_dealloc`: the memory back through `tp_free`, and the
/// instance's reference to its (heap) type dropped.
///
/// # Safety
/// `obj` is a dying instance of `tp`, finished with; `own` is `tp`'s entry.
#[inline(always)]
unsafe fn free_instance(
    obj: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    own: Option<&TypeInfo>,
) {
    // SAFETY: forwarded.
    unsafe {
        match free_of(tp, own) {
            Some(free) => free(obj.cast()),
            None => ffi::PyObject_Free(obj.cast()),
        }
        ffi::Py_DECREF(tp.cast());
    }
}

/// Whether the slot holds `f`: the very value this runtime stored there
/// (both taken from the one function of this crate).
#[inline(always)]
fn is(slot: Option<ffi::destructor>, f: unsafe extern "C" fn(*mut ffi::PyObject)) -> bool {
    slot.is_some_and(|d| core::ptr::fn_addr_eq(d, f as ffi::destructor))
}

/// The start of a `tp_dealloc` that is an instance's own (not called from a
/// Python subclass's `subtype_dealloc`): its finalizer, then its weak
/// references cleared. `false` if the finalizer resurrected the object.
///
/// # Safety
/// `obj` is a dying instance of `tp`; `own` is `tp`'s entry.
#[inline(always)]
unsafe fn finalize_and_clear_weakrefs(
    obj: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    own: Option<&TypeInfo>,
) -> bool {
    // SAFETY: forwarded.
    unsafe {
        if has_finalizer(tp) && api::call_finalizer_from_dealloc(obj) < 0 {
            return false;
        }
        if has_weaklist(tp, own) {
            ffi::PyObject_ClearWeakRefs(obj);
        }
    }
    true
}

/// `tp_dealloc` of HPy types of the object shape whose chain has neither
/// `HPy_tp_destroy` nor `HPy_tp_traverse`: what CPython's generic
/// `subtype_dealloc` does for them (no `__dict__`, no `__slots__`, no
/// `__del__` of their own), without looking for what they cannot have.
///
/// The common case, an instance of the type itself, which has no
/// finalizer, no weak references to clear and is not GC-tracked, is a few
/// loads and compares and a tail call of `tp_free`: the reference to the
/// type is dropped first, which is sound because the `tp_free` of a type
/// that is not GC-tracked (`PyObject_Free`) does not read the type, which
/// may be gone by then. (`PyObject_GC_Del` reads it on CPython 3.12+, so a
/// GC type, such as a C subclass that inherited this slot, takes the other
/// path.)
unsafe extern "C" fn plain_dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls this with a dying instance of one of our types
    // (or of a Python subclass, from its own `tp_dealloc`).
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        // (A per-version build reads the type's own slots: no lookup.)
        #[cfg(Py_LIMITED_API)]
        let own = lookup(tp);
        #[cfg(not(Py_LIMITED_API))]
        let own = None;
        // (An `abi3` build decided it when it made the type.)
        #[cfg(Py_LIMITED_API)]
        let lean = own.is_some_and(|info| info.slots.lean) && !has_finalizer(tp);
        #[cfg(not(Py_LIMITED_API))]
        let lean = is(dealloc_of(tp, own), plain_dealloc)
            && !has_finalizer(tp)
            && !has_weaklist(tp, own)
            && ffi::PyType_IS_GC(tp) == 0;
        if !lean {
            return plain_dealloc_slow(obj, tp, own);
        }
        let free = free_of(tp, own).unwrap_or(ffi::PyObject_Free);
        ffi::Py_DECREF(tp.cast());
        free(obj.cast());
    }
}

/// [`plain_dealloc`] for a Python subclass's instance (called from its
/// `subtype_dealloc`, which has finalized it and cleared its weak
/// references), or an instance with a finalizer or weak references.
///
/// # Safety
/// As [`plain_dealloc`]'s; `tp` is the type of `obj`, `own` its entry.
#[cold]
#[inline(never)]
unsafe fn plain_dealloc_slow(
    obj: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    own: Option<&TypeInfo>,
) {
    // SAFETY: forwarded.
    unsafe {
        let outermost = is(dealloc_of(tp, own), plain_dealloc);
        if outermost && !finalize_and_clear_weakrefs(obj, tp, own) {
            return; // resurrected
        }
        free_instance(obj, tp, own);
    }
}

/// Empties the `HPyField`s of the chain's structs (each `traverse` with a
/// visitor that takes the reference out and drops it).
///
/// # Safety
/// `payload` is the payload of a live instance of `info`'s type (or of a
/// Python subclass).
unsafe fn clear_fields(info: &TypeInfo, payload: *mut c_void) {
    unsafe extern "C" fn take(field: *mut HPyField, _arg: *mut c_void) -> c_int {
        // SAFETY: a field of the instance being cleared; the reference it
        // held is released after the field is emptied.
        unsafe {
            let old = (*field)._i as *mut ffi::PyObject;
            (*field)._i = 0;
            ffi::Py_XDECREF(old);
        }
        0
    }
    for traverse in &info.traverses {
        // SAFETY: forwarded.
        unsafe { traverse(payload, Some(take), null_mut()) };
    }
}

/// `tp_clear` of HPy types with `HPy_tp_traverse`.
unsafe extern "C" fn hpytype_clear(obj: *mut ffi::PyObject) -> c_int {
    // SAFETY: CPython calls it with a live instance.
    unsafe {
        if let Some(info) = first_hpy_base(ffi::Py_TYPE(obj)) {
            clear_fields(info, payload_of(obj));
        }
    }
    0
}

/// The last HPy type whose instance `iter_impl` served: a loop calls
/// `__next__` on instances of one type.
static LAST_ITER_TYPE: LastType = LastType::new();

/// The `__iter__` (`next == false`) or `__next__` impl of `obj`'s type (its
/// own, or its nearest HPy base's), with the context of the type that has it.
#[inline(always)]
fn iter_impl(obj: *mut ffi::PyObject, next: bool) -> Option<(IterImpl, *mut HPyContext)> {
    // SAFETY: a live object has a live type.
    let info = LAST_ITER_TYPE.first_hpy_base(unsafe { ffi::Py_TYPE(obj) })?;
    info.chain()
        .find_map(|t| Some((if next { t.next } else { t.iter }?, t.ctx)))
}

/// Calls `obj`'s `__iter__` (`next == false`) or `__next__` impl.
#[inline(always)]
fn call_iter_impl(obj: *mut ffi::PyObject, next: bool) -> *mut ffi::PyObject {
    match iter_impl(obj, next) {
        // SAFETY: the impl of a NOARGS method of this object's type, called
        // with the static context, where a handle is the object pointer, and
        // the object, borrowed for the call; or else its trampoline, as
        // CPython calls a NOARGS method. Either returns a new reference or
        // NULL with an exception set.
        Some((m, ctx)) => unsafe {
            if ctx == super::context() {
                h2py((m.f)(ctx, py2h(obj)))
            } else {
                (m.trampoline)(obj, null_mut())
            }
        },
        None => core::ptr::null_mut(),
    }
}

/// `tp_iter` of an HPy type with an `__iter__` method: the method's impl,
/// called as CPython calls the slot (`iter(obj)`, `for x in obj`), without
/// the method lookup of `slot_tp_iter`.
unsafe extern "C" fn hpy_tp_iter(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    call_iter_impl(obj, false)
}

/// `tp_iternext` of an HPy type with a `__next__` method (see
/// [`hpy_tp_iter`]); `StopIteration` raised by the impl ends the iteration.
unsafe extern "C" fn hpy_tp_iternext(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    call_iter_impl(obj, true)
}

/// `tp_new` of a type with `HPy_tp_call` and no `HPy_tp_new`: the base's,
/// then the instance's call function.
unsafe extern "C" fn hpyobject_new(
    ty: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    kwds: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls it as `tp_new`; the base of our type has one.
    unsafe {
        let Some(new) = api::type_new(api::type_base(ty)) else {
            ffi::PyErr_SetString(ffi::PyExc_TypeError, c"cannot create instances".as_ptr());
            return null_mut();
        };
        let obj = new(ty, args, kwds);
        if !obj.is_null() {
            vectorcall_init(ty, obj, None);
        }
        obj
    }
}

// ---------------------------------------------------------------------------
// HPyType_FromSpec

/// Sets a `TypeError`/`ValueError`/... with a message.
///
/// # Safety
/// The GIL is held.
#[cold]
unsafe fn raise(exc: *mut ffi::PyObject, message: &CStr) -> HPy {
    // SAFETY: forwarded.
    unsafe { ffi::PyErr_SetString(exc, message.as_ptr()) };
    HPy::NULL
}

/// Whether a spec's members (its own, or its legacy `Py_tp_members`) name
/// `__vectorcalloffset__`.
///
/// # Safety
/// `legacy_members` is NULL or a member array ending with a NULL name.
unsafe fn declares_vectorcall_offset(
    defs: &[&mut HPyDef],
    legacy_members: *mut ffi::PyMemberDef,
) -> bool {
    const NAME: &CStr = c"__vectorcalloffset__";
    // SAFETY: the names are NUL-terminated strings (the spec's contract).
    unsafe {
        if defs
            .iter()
            .any(|d| d.kind == HPyDef_Kind_Member && CStr::from_ptr(d.u.member.name) == NAME)
        {
            return true;
        }
        let mut m = legacy_members;
        while !m.is_null() && !(*m).name.is_null() {
            if CStr::from_ptr((*m).name) == NAME {
                return true;
            }
            m = m.add(1);
        }
        false
    }
}

/// The definitions of a spec, as a slice.
///
/// # Safety
/// `defines` is NULL or a NULL-terminated array of live definitions.
unsafe fn defines<'a>(defines: *mut *mut HPyDef) -> Vec<&'a mut HPyDef> {
    let mut out = Vec::new();
    if defines.is_null() {
        return out;
    }
    let mut d = defines;
    // SAFETY: forwarded.
    unsafe {
        while !(*d).is_null() {
            out.push(&mut **d);
            d = d.add(1);
        }
    }
    out
}

/// CPython's slot number of an HPy slot (the same numbers, except those
/// CPython 3.15 renumbers, which `pyo3-ffi` knows).
fn cpy_slot(slot: HPySlot_Slot) -> c_int {
    match slot.0 {
        1 => ffi::Py_bf_getbuffer,
        2 => ffi::Py_bf_releasebuffer,
        3 => ffi::Py_mp_ass_subscript,
        4 => ffi::Py_mp_length,
        n => n,
    }
}

/// `HPyType_FromSpec`.
pub unsafe extern "C" fn ctx_Type_FromSpec(
    ctx: *mut HPyContext,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> HPy {
    // SAFETY: `spec` and `params` are live (HPy's contract: `params` NULL
    // or ended by a zero kind); the GIL is held.
    unsafe { type_from_spec(ctx, &*spec, params) }
}

/// The body of [`ctx_Type_FromSpec`].
///
/// # Safety
/// As for it.
unsafe fn type_from_spec(
    ctx: *mut HPyContext,
    spec: &HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> HPy {
    // SAFETY: the GIL is held; every pointer read below is the caller's
    // live data, or CPython's.
    unsafe {
        // --- parameters
        let mut bases: Vec<*mut ffi::PyObject> = Vec::new();
        let mut bases_tuple: *mut ffi::PyObject = null_mut();
        let mut metaclass: *mut ffi::PyObject = null_mut();
        if !params.is_null() {
            let mut p = params;
            while (*p).kind.0 != 0 {
                let object = h2py((*p).object);
                match (*p).kind {
                    HPyType_SpecParam_Base => bases.push(object),
                    HPyType_SpecParam_BasesTuple => {
                        if !bases_tuple.is_null() {
                            return raise(
                                ffi::PyExc_TypeError,
                                c"multiple specifications of HPyType_SpecParam_BasesTuple",
                            );
                        }
                        bases_tuple = object;
                    }
                    HPyType_SpecParam_Metaclass => {
                        if !metaclass.is_null() {
                            return raise(
                                ffi::PyExc_ValueError,
                                c"metaclass was specified multiple times",
                            );
                        }
                        if ffi::PyType_Check(object) == 0 {
                            return raise(
                                ffi::PyExc_TypeError,
                                c"the metaclass is not a subclass of 'type'",
                            );
                        }
                        metaclass = object;
                    }
                    _ => {
                        return raise(
                            ffi::PyExc_TypeError,
                            c"unknown HPyType_SpecParam specification",
                        );
                    }
                }
                p = p.add(1);
            }
        }
        if !bases.is_empty() && !bases_tuple.is_null() {
            return raise(
                ffi::PyExc_TypeError,
                c"cannot specify both HPyType_SpecParam_Base and HPytype_SpecParam_BasesTuple",
            );
        }

        // --- the spec's own checks
        let defs = defines(spec.defines);
        let is_slot =
            |d: &HPyDef, s: HPySlot_Slot| d.kind == HPyDef_Kind_Slot && d.u.slot.slot == s;
        let has_traverse = defs.iter().any(|d| is_slot(d, HPy_tp_traverse));
        let has_destroy = defs.iter().any(|d| is_slot(d, HPy_tp_destroy));
        let needs_dealloc = has_traverse || has_destroy;
        let legacy_slots = spec.legacy_slots.cast::<ffi::PyType_Slot>();
        if !legacy_slots.is_null() && spec.builtin_shape != HPyType_BuiltinShape_Legacy {
            return raise(
                ffi::PyExc_TypeError,
                c"cannot specify .legacy_slots without setting .builtin_shape=HPyType_BuiltinShape_Legacy",
            );
        }
        if spec.flags & HPy_TPFLAGS_HAVE_GC != 0 && !has_traverse {
            return raise(
                ffi::PyExc_ValueError,
                c"You must provide an HPy_tp_traverse slot if you specify HPy_TPFLAGS_HAVE_GC",
            );
        }
        let Some(head_size) = header_size(spec.builtin_shape) else {
            return raise(ffi::PyExc_ValueError, c"invalid shape");
        };
        let mut basicsize = if spec.basicsize != 0 {
            spec.basicsize as usize + head_size
        } else {
            0
        };
        #[cfg_attr(Py_LIMITED_API, allow(unused_mut))]
        let mut flags: c_ulong = spec.flags;

        // --- legacy slots (only with the legacy shape)
        let mut legacy_methods: *mut ffi::PyMethodDef = null_mut();
        let mut legacy_members: *mut ffi::PyMemberDef = null_mut();
        let mut legacy_getsets: *mut ffi::PyGetSetDef = null_mut();
        let mut other_legacy: Vec<ffi::PyType_Slot> = Vec::new();
        if !legacy_slots.is_null() {
            let mut s = legacy_slots;
            while (*s).slot != 0 {
                match (*s).slot {
                    ffi::Py_tp_methods => legacy_methods = (*s).pfunc.cast(),
                    ffi::Py_tp_members => legacy_members = (*s).pfunc.cast(),
                    ffi::Py_tp_getset => legacy_getsets = (*s).pfunc.cast(),
                    ffi::Py_tp_dealloc if needs_dealloc => {
                        return raise(
                            ffi::PyExc_TypeError,
                            c"legacy tp_dealloc is incompatible with HPy_tp_traverse or HPy_tp_destroy.",
                        );
                    }
                    _ => other_legacy.push(*s),
                }
                s = s.add(1);
            }
        }

        // --- slots, methods, members, getsets
        let mut slots: Vec<ffi::PyType_Slot> = Vec::new();
        let mut methods: Vec<ffi::PyMethodDef> = Vec::new();
        let mut members: Vec<ffi::PyMemberDef> = Vec::new();
        let mut getsets: Vec<ffi::PyGetSetDef> = Vec::new();
        let mut destroy: HPyFunc_destroyfunc = None;
        let mut traverse: HPyFunc_traverseproc = None;
        let mut vectorcall: cpy_vectorcallfunc = None;
        let mut vectorcall_offset: usize = 0;
        let mut has_new = false;
        let mut iternext_slot = false;
        let mut iter: Option<IterImpl> = None;
        let mut next: Option<IterImpl> = None;
        for d in &defs {
            match d.kind {
                HPyDef_Kind_Slot => {
                    let s = d.u.slot;
                    if s.slot == HPy_tp_destroy {
                        destroy =
                            core::mem::transmute::<HPyCFunction, HPyFunc_destroyfunc>(s.impl_);
                        continue;
                    }
                    if s.slot == HPy_tp_call {
                        if spec.itemsize != 0 {
                            return raise(
                                ffi::PyExc_TypeError,
                                c"Cannot use HPy call protocol with var objects",
                            );
                        }
                        vectorcall = core::mem::transmute::<cpy_PyCFunction, cpy_vectorcallfunc>(
                            s.cpy_trampoline,
                        );
                        let end = if basicsize == 0 { head_size } else { basicsize };
                        vectorcall_offset = end.next_multiple_of(PAYLOAD_ALIGN);
                        if vectorcall_offset == 0 {
                            return raise(
                                ffi::PyExc_TypeError,
                                c"Cannot use HPy call protocol with legacy types that inherit the struct. Either set the basicsize to a non-zero value or use legacy slot 'Py_tp_call'.",
                            );
                        }
                        basicsize = vectorcall_offset + size_of::<cpy_vectorcallfunc>();
                        continue;
                    }
                    if s.slot == HPY_RS_tp_iternext {
                        // `cpy_trampoline` is the `tp_iternext` itself.
                        iternext_slot = true;
                    } else if s.slot == HPy_tp_new {
                        has_new = true;
                    } else if s.slot == HPy_tp_traverse {
                        traverse =
                            core::mem::transmute::<HPyCFunction, HPyFunc_traverseproc>(s.impl_);
                    }
                    slots.push(ffi::PyType_Slot {
                        slot: cpy_slot(s.slot),
                        pfunc: s.cpy_trampoline.map_or(null_mut(), |f| f as *mut c_void),
                    });
                }
                HPyDef_Kind_Meth => {
                    let m = d.u.meth;
                    let Some(meth) = method_def(&m) else {
                        return raise(ffi::PyExc_ValueError, c"Unsupported HPyMeth signature");
                    };
                    // `__iter__`/`__next__` become CPython's slots too (HPy
                    // 0.9 has none for them), called without a lookup.
                    if m.signature == HPyFunc_NOARGS && !m.name.is_null() {
                        let f = core::mem::transmute::<HPyCFunction, HPyFunc_noargs>(m.impl_)
                            .zip(Some(meth.ml_meth.PyCFunction))
                            .map(|(f, trampoline)| IterImpl { f, trampoline });
                        match CStr::from_ptr(m.name).to_bytes() {
                            b"__iter__" => iter = f,
                            b"__next__" => next = f,
                            _ => {}
                        }
                    }
                    methods.push(meth);
                }
                HPyDef_Kind_GetSet => {
                    let g = d.u.getset;
                    getsets.push(ffi::PyGetSetDef {
                        name: g.name,
                        get: core::mem::transmute::<cpy_getter, Option<ffi::getter>>(
                            g.getter_cpy_trampoline,
                        ),
                        set: core::mem::transmute::<cpy_setter, Option<ffi::setter>>(
                            g.setter_cpy_trampoline,
                        ),
                        doc: g.doc,
                        closure: g.closure,
                    });
                }
                _ => {} // members: below, once the offset of the payload is known
            }
        }
        // A subtype with a struct of its own and no `HPy_tp_call`, of an HPy
        // type that has one: the base keeps its call function in a field
        // after its struct, inside this type's struct (which starts with
        // the base's, at the same offset). HPy 0.9's runtime leaves it
        // there, where the subtype's fields and the call function overwrite
        // each other; here the field moves after this struct, as if the
        // subtype had declared the base's call function.
        if vectorcall.is_none()
            && basicsize != 0
            && !declares_vectorcall_offset(&defs, legacy_members)
        {
            let base = match (bases.first(), bases_tuple.is_null()) {
                (Some(&b), _) => b,
                (None, false) if api::tuple_size(bases_tuple) > 0 => {
                    api::tuple_get_item(bases_tuple, 0)
                }
                _ => null_mut(),
            };
            let inherited = if base.is_null() {
                None
            } else {
                let base = base.cast::<ffi::PyTypeObject>();
                first_hpy_base(base)
                    .filter(|_| (1..basicsize as isize).contains(&call_offset(base)))
                    .and_then(|info| info.chain().find_map(|t| t.vectorcall))
            };
            if let Some(func) = inherited {
                vectorcall = Some(func);
                vectorcall_offset = basicsize.next_multiple_of(PAYLOAD_ALIGN);
                basicsize = vectorcall_offset + size_of::<cpy_vectorcallfunc>();
            }
        }
        let base_member_offset = if basicsize != 0 { head_size } else { 0 };
        let mut explicit_vectorcall_offset = false;
        #[cfg(Py_LIMITED_API)]
        if vectorcall_offset > 0 {
            // No `__vectorcalloffset__` member (the limited API before 3.12
            // has no vectorcall flag): `hpy_tp_call` reads the offset from
            // the registry.
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_call,
                pfunc: hpy_tp_call as *mut c_void,
            });
            if !has_new {
                slots.push(ffi::PyType_Slot {
                    slot: ffi::Py_tp_new,
                    pfunc: hpyobject_new as *mut c_void,
                });
            }
        }
        #[cfg(not(Py_LIMITED_API))]
        if vectorcall_offset > 0 {
            members.push(ffi::PyMemberDef {
                name: c"__vectorcalloffset__".as_ptr(),
                type_code: ffi::Py_T_PYSSIZET,
                offset: vectorcall_offset as ffi::Py_ssize_t,
                flags: ffi::Py_READONLY,
                doc: null(),
            });
        }
        for d in &defs {
            if d.kind != HPyDef_Kind_Member {
                continue;
            }
            let m = d.u.member;
            if basicsize == 0 {
                return raise(
                    ffi::PyExc_TypeError,
                    c"Type claims to have basicsize==0 but defines members",
                );
            }
            let offset = m.offset + base_member_offset as HPy_ssize_t;
            if CStr::from_ptr(m.name) == c"__vectorcalloffset__" {
                explicit_vectorcall_offset = true;
                vectorcall_offset = offset as usize;
            }
            // An `HPyField` is the object pointer here: `OBJECT` members are
            // CPython's own.
            members.push(ffi::PyMemberDef {
                name: m.name,
                type_code: m.type_.0,
                offset,
                flags: if m.readonly != 0 { ffi::Py_READONLY } else { 0 },
                doc: m.doc,
            });
        }
        if !legacy_members.is_null() {
            let mut m = legacy_members;
            while !(*m).name.is_null() {
                if CStr::from_ptr((*m).name) == c"__vectorcalloffset__" {
                    explicit_vectorcall_offset = true;
                    vectorcall_offset = (*m).offset as usize;
                }
                members.push(*m);
                m = m.add(1);
            }
        }
        #[cfg(Py_LIMITED_API)]
        if explicit_vectorcall_offset {
            return raise(
                ffi::PyExc_TypeError,
                c"a '__vectorcalloffset__' member needs vectorcall, which an abi3 build for CPython 3.10 cannot use",
            );
        }
        if vectorcall.is_some() && explicit_vectorcall_offset {
            return raise(
                ffi::PyExc_TypeError,
                c"Cannot have HPy_tp_call and explicit member '__vectorcalloffset__'. Specify just one of them.",
            );
        }
        if !legacy_methods.is_null() {
            let mut m = legacy_methods;
            while !(*m).ml_name.is_null() {
                methods.push(*m);
                m = m.add(1);
            }
        }
        if !legacy_getsets.is_null() {
            let mut g = legacy_getsets;
            while !(*g).name.is_null() {
                getsets.push(*g);
                g = g.add(1);
            }
        }
        #[cfg(not(Py_LIMITED_API))]
        if vectorcall_offset > 0 {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_call,
                pfunc: ffi::PyVectorcall_Call as *mut c_void,
            });
            if !has_new {
                slots.push(ffi::PyType_Slot {
                    slot: ffi::Py_tp_new,
                    pfunc: hpyobject_new as *mut c_void,
                });
            }
            flags |= ffi::Py_TPFLAGS_HAVE_VECTORCALL;
        }
        let legacy_has = |slot: c_int| other_legacy.iter().any(|s| s.slot == slot);
        if iter.is_some() && !legacy_has(ffi::Py_tp_iter) {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_iter,
                pfunc: hpy_tp_iter as *mut c_void,
            });
        }
        if next.is_some() && !iternext_slot && !legacy_has(ffi::Py_tp_iternext) {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_iternext,
                pfunc: hpy_tp_iternext as *mut c_void,
            });
        }
        if !spec.doc.is_null() {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_doc,
                pfunc: spec.doc.cast_mut().cast(),
            });
        }
        slots.extend(other_legacy);
        // The types live forever (see the module's documentation): so do
        // these arrays, which CPython keeps pointers into.
        methods.push(ffi::PyMethodDef::zeroed());
        members.push(core::mem::zeroed());
        getsets.push(core::mem::zeroed());
        slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_methods,
            pfunc: methods.leak().as_mut_ptr().cast(),
        });
        slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_members,
            pfunc: members.leak().as_mut_ptr().cast(),
        });
        slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_getset,
            pfunc: getsets.leak().as_mut_ptr().cast(),
        });
        if needs_dealloc {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_dealloc,
                pfunc: hpytype_dealloc as *mut c_void,
            });
        }
        // An `abi3` build cannot change a slot once the type is made (see
        // below): the lean `tp_dealloc` goes into the spec, for the types
        // that certainly qualify (no base but `object`, no GC).
        #[cfg(Py_LIMITED_API)]
        if spec.builtin_shape == HPyType_BuiltinShape_Object
            && !needs_dealloc
            && bases
                .iter()
                .all(|b| core::ptr::eq(*b, (&raw mut ffi::PyBaseObject_Type).cast()))
            && bases_tuple.is_null()
            && spec.flags & HPy_TPFLAGS_HAVE_GC == 0
        {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_dealloc,
                pfunc: plain_dealloc as *mut c_void,
            });
        }
        if has_traverse {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_clear,
                pfunc: hpytype_clear as *mut c_void,
            });
        }
        slots.push(ffi::PyType_Slot {
            slot: 0,
            pfunc: null_mut(),
        });

        // --- the type
        let Ok(basicsize) = c_int::try_from(basicsize) else {
            return raise(ffi::PyExc_OverflowError, c"the type's struct is too large");
        };
        // Before 3.11 the type keeps the name's pointer: it lives forever.
        let name = CStr::from_ptr(spec.name);
        let name: &'static CStr = Box::leak(Box::<CStr>::from(name));
        let mut cpy_spec = ffi::PyType_Spec {
            name: name.as_ptr(),
            basicsize,
            itemsize: spec.itemsize,
            flags: flags as _,
            slots: slots.as_mut_ptr(),
        };
        let bases_object = if !bases_tuple.is_null() {
            ffi::Py_INCREF(bases_tuple);
            bases_tuple
        } else if !bases.is_empty() {
            let t = ffi::PyTuple_New(bases.len() as ffi::Py_ssize_t);
            if t.is_null() {
                return HPy::NULL;
            }
            for (i, b) in bases.iter().enumerate() {
                ffi::Py_INCREF(*b);
                api::tuple_set_item(t, i as ffi::Py_ssize_t, *b);
            }
            t
        } else {
            null_mut()
        };
        let ty = from_spec(metaclass, &mut cpy_spec, bases_object);
        ffi::Py_XDECREF(bases_object);
        if ty.is_null() {
            return HPy::NULL;
        }
        let tp = ty.cast::<ffi::PyTypeObject>();
        #[cfg(not(Py_3_10))]
        if !spec.doc.is_null() {
            keep_signature(tp, spec.doc);
        }
        // A legacy type's struct starts with its base's: a pure HPy base
        // (whose struct has no object header in it) cannot be one (HPy's
        // `check_inheritance_constraints`).
        if spec.builtin_shape == HPyType_BuiltinShape_Legacy
            && lookup(api::type_base(tp)).is_some_and(|b| b.shape != HPyType_BuiltinShape_Legacy)
        {
            ffi::Py_DECREF(ty);
            return raise(
                ffi::PyExc_TypeError,
                c"A legacy type should not inherit its memory layout from a pure type",
            );
        }
        let mut bases: Vec<&'static TypeInfo> = Vec::new();
        let mut base = api::type_base(tp);
        while !base.is_null() {
            if let Some(info) = lookup(base) {
                bases.push(info);
            }
            base = api::type_base(base);
        }
        // A type whose instances need nothing but their memory back gets the
        // lean `tp_dealloc`, instead of `subtype_dealloc` (before any
        // subclass copies the slot).
        // (Not in an `abi3` build, where a type's slots are read-only once
        // made: see above.)
        #[cfg(not(Py_LIMITED_API))]
        let base_dealloc = (*(*tp).tp_base).tp_dealloc;
        #[cfg(not(Py_LIMITED_API))]
        if spec.builtin_shape == HPyType_BuiltinShape_Object
            && !needs_dealloc
            && bases
                .iter()
                .all(|b| b.destroy.is_none() && b.traverse.is_none())
            && ffi::PyType_IS_GC(tp) == 0
            && (base_dealloc.is_some_and(|d| {
                (*core::ptr::addr_of!(ffi::PyBaseObject_Type))
                    .tp_dealloc
                    .is_some_and(|object| core::ptr::fn_addr_eq(d, object))
            }) || is(base_dealloc, plain_dealloc))
        {
            (*tp).tp_dealloc = Some(plain_dealloc);
        }
        let info = Box::leak(Box::new(TypeInfo {
            ty: tp,
            shape: spec.builtin_shape,
            header: head_size,
            destroy,
            traverse,
            vectorcall,
            // Inherited from the nearest HPy base that has one, as CPython's
            // types inherit `tp_vectorcall_offset` in a per-version build.
            #[cfg(Py_LIMITED_API)]
            call_offset: if vectorcall.is_some() {
                vectorcall_offset as isize
            } else {
                bases.first().map_or(0, |b| b.call_offset)
            },
            #[cfg(Py_LIMITED_API)]
            slots: LimitedSlots::of(tp),
            iter,
            next,
            ctx,
            destroys: core::iter::once(destroy)
                .chain(bases.iter().map(|b| b.destroy))
                .flatten()
                .collect(),
            traverses: core::iter::once(traverse)
                .chain(bases.iter().map(|b| b.traverse))
                .flatten()
                .collect(),
            bases: bases.into_boxed_slice(),
            only_destroy: None,
            lean_destroy: None,
            plain_alloc: None,
        }));
        if let ([only], []) = (&*info.destroys, &*info.traverses) {
            info.only_destroy = Some(*only);
            if is(dealloc_of(tp, Some(info)), hpytype_dealloc)
                && !has_weaklist(tp, Some(info))
                && ffi::PyType_IS_GC(tp) == 0
            {
                info.lean_destroy = Some(*only);
            }
        }
        #[cfg(not(Py_LIMITED_API))]
        let calls = call_offset(tp) > 0;
        #[cfg(Py_LIMITED_API)]
        let calls = info.call_offset > 0;
        if !calls {
            info.plain_alloc = Some(alloc_of(tp, Some(info)));
        }
        // The registry's reference: the type (and so its entry) lives on.
        ffi::Py_INCREF(ty);
        register(info);
        py2h(ty)
    }
}

/// CPython 3.9's `PyType_FromSpec` keeps the doc without its signature
/// line (`Point(x, y)\n--\n\n...`), so `__text_signature__` says `None`:
/// the type gets the whole doc back (its `__doc__`, made from the stripped
/// one, stays as it is).
///
/// # Safety
/// The GIL is held; `tp` is a new heap type; `doc` a C string.
#[cfg(not(Py_3_10))]
unsafe fn keep_signature(tp: *mut ffi::PyTypeObject, doc: *const core::ffi::c_char) {
    // SAFETY: `tp_doc` of a heap type from a spec is a `PyObject_Malloc`ed
    // copy, which it frees with `PyObject_Free`; the new one is made the
    // same way.
    unsafe {
        let len = CStr::from_ptr(doc).to_bytes_with_nul().len();
        let copy = ffi::PyObject_Malloc(len).cast::<core::ffi::c_char>();
        if copy.is_null() {
            return; // the doc without its signature, as before
        }
        core::ptr::copy_nonoverlapping(doc, copy, len);
        ffi::PyObject_Free((*tp).tp_doc.cast_mut().cast());
        (*tp).tp_doc = copy;
    }
}

/// `PyType_FromMetaclass` (3.12+), or `PyType_FromSpecWithBases` without a
/// metaclass.
///
/// # Safety
/// The GIL is held; `spec` is complete and `bases` NULL or a tuple.
unsafe fn from_spec(
    metaclass: *mut ffi::PyObject,
    spec: &mut ffi::PyType_Spec,
    bases: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded.
    unsafe {
        #[cfg(Py_3_12)]
        {
            ffi::PyType_FromMetaclass(metaclass.cast(), null_mut(), spec, bases)
        }
        #[cfg(all(not(Py_3_12), Py_LIMITED_API))]
        {
            if !metaclass.is_null() {
                raise(
                    ffi::PyExc_TypeError,
                    c"a metaclass for an HPy type needs CPython 3.12 or later in an abi3 build",
                );
                return null_mut();
            }
            ffi::PyType_FromSpecWithBases(spec, bases)
        }
        #[cfg(all(not(Py_3_12), not(Py_LIMITED_API)))]
        {
            let temp = ffi::PyType_FromSpecWithBases(spec, bases);
            if metaclass.is_null() || temp.is_null() {
                return temp;
            }
            with_metaclass(temp.cast(), metaclass.cast(), spec)
        }
    }
}

/// Before 3.12 (no `PyType_FromMetaclass`): the type `temp`, just made from
/// `spec`, remade as an instance of `meta`, as HPy's runtime does it: a type
/// object allocated by the metaclass gets a copy of `temp`'s heap-type body
/// (not its object header), the fields `PyType_Ready` fills are cleared, and
/// it is readied again. `temp` is kept for the life of the process: the copy
/// shares its member definitions and names. Consumes `temp`'s reference.
///
/// # Safety
/// The GIL is held; `temp` is a heap type made from `spec` by
/// `PyType_FromSpecWithBases`; `meta` is a type.
#[cfg(all(not(Py_3_12), not(Py_LIMITED_API)))]
unsafe fn with_metaclass(
    temp: *mut ffi::PyHeapTypeObject,
    meta: *mut ffi::PyTypeObject,
    spec: &ffi::PyType_Spec,
) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held; `temp` is a complete heap type and the new
    // object is a type-sized allocation of `meta` (a type subclass: its
    // basic size is at least a heap type's); every field written is the
    // copy's own; the copy keeps `temp` alive by never releasing it.
    unsafe {
        let type_new = (*core::ptr::addr_of!(ffi::PyType_Type)).tp_new;
        if !(*meta)
            .tp_new
            .zip(type_new)
            .is_some_and(|(a, b)| core::ptr::fn_addr_eq(a, b))
        {
            ffi::Py_DECREF(temp.cast());
            raise(
                ffi::PyExc_TypeError,
                c"Metaclasses with custom tp_new are not supported.",
            );
            return null_mut();
        }
        let Some(alloc) = (*meta).tp_alloc else {
            ffi::Py_DECREF(temp.cast());
            raise(ffi::PyExc_TypeError, c"the metaclass cannot allocate types");
            return null_mut();
        };
        let result = alloc(meta, 0);
        if result.is_null() {
            ffi::Py_DECREF(temp.cast());
            return null_mut();
        }
        let ht = result.cast::<ffi::PyHeapTypeObject>();
        let header = size_of::<ffi::PyVarObject>();
        core::ptr::copy_nonoverlapping(
            temp.cast::<u8>().add(header),
            ht.cast::<u8>().add(header),
            size_of::<ffi::PyHeapTypeObject>() - header,
        );
        let tp = &mut (*ht).ht_type;
        // The copy's own references to what it shares with `temp`.
        ffi::Py_XINCREF((*ht).ht_name);
        ffi::Py_XINCREF((*ht).ht_qualname);
        ffi::Py_XINCREF((*ht).ht_slots);
        ffi::Py_XINCREF((*ht).ht_module);
        ffi::Py_XINCREF(tp.tp_base.cast());
        tp.tp_as_async = &mut (*ht).as_async;
        tp.tp_as_number = &mut (*ht).as_number;
        tp.tp_as_sequence = &mut (*ht).as_sequence;
        tp.tp_as_mapping = &mut (*ht).as_mapping;
        tp.tp_as_buffer = &mut (*ht).as_buffer;
        tp.tp_flags = spec.flags as core::ffi::c_ulong | ffi::Py_TPFLAGS_HEAPTYPE;
        tp.tp_dict = null_mut();
        tp.tp_bases = null_mut();
        tp.tp_mro = null_mut();
        tp.tp_cache = null_mut();
        tp.tp_subclasses = null_mut();
        tp.tp_weaklist = null_mut();
        tp.tp_version_tag = 0;
        (*ht).ht_cached_keys = null_mut();
        // The doc: `temp`'s buffer is its own (freed with it).
        if !(*temp).ht_type.tp_doc.is_null() {
            let len = CStr::from_ptr((*temp).ht_type.tp_doc)
                .to_bytes_with_nul()
                .len();
            let copy = ffi::PyObject_Malloc(len).cast::<core::ffi::c_char>();
            if copy.is_null() {
                tp.tp_doc = null_mut();
                ffi::Py_DECREF(result);
                ffi::PyErr_NoMemory();
                return null_mut();
            }
            core::ptr::copy_nonoverlapping((*temp).ht_type.tp_doc, copy, len);
            tp.tp_doc = copy;
        }
        if ffi::PyType_Ready(tp) < 0 {
            ffi::Py_DECREF(result);
            return null_mut();
        }
        // The tail of `PyType_FromSpecWithBases`: `__module__` from the name.
        let name = CStr::from_ptr(spec.name).to_bytes();
        if let Some(dot) = name.iter().rposition(|&b| b == b'.') {
            let module = ffi::PyUnicode_FromStringAndSize(spec.name, dot as ffi::Py_ssize_t);
            if module.is_null()
                || ffi::PyDict_SetItemString(tp.tp_dict, c"__module__".as_ptr(), module) < 0
            {
                ffi::Py_XDECREF(module);
                ffi::Py_DECREF(result);
                return null_mut();
            }
            ffi::Py_DECREF(module);
        }
        // `temp`'s reference is deliberately kept: see above.
        result
    }
}

/// CPython's method definition of an HPy method: its trampoline under the
/// calling convention of its signature; `None` for a signature that is not
/// a method's.
pub(crate) fn method_def(m: &HPyMeth) -> Option<ffi::PyMethodDef> {
    let flags = match m.signature {
        HPyFunc_NOARGS => ffi::METH_NOARGS,
        HPyFunc_O => ffi::METH_O,
        HPyFunc_VARARGS => ffi::METH_FASTCALL,
        HPyFunc_KEYWORDS => ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        _ => return None,
    };
    let trampoline = m.cpy_trampoline?;
    Some(ffi::PyMethodDef {
        ml_name: m.name,
        ml_meth: ffi::PyMethodDefPointer {
            // SAFETY: function pointers share one representation; CPython
            // calls the trampoline with the convention that `flags` names,
            // which is the one it was written with.
            PyCFunction: unsafe {
                core::mem::transmute::<
                    unsafe extern "C" fn(
                        *mut cpy_PyObject,
                        *const *mut cpy_PyObject,
                        HPy_ssize_t,
                    ) -> *mut cpy_PyObject,
                    ffi::PyCFunction,
                >(trampoline)
            },
        },
        ml_flags: flags,
        ml_doc: m.doc,
    })
}

/// `_HPy_Dump`: a description of the object on stderr, in the words of
/// CPython's `_PyObject_Dump`.
pub unsafe extern "C" fn ctx_Dump(_ctx: *mut HPyContext, h: HPy) {
    use alloc::format;
    let obj = h2py(h);
    // SAFETY: `h` is open; the GIL is held; the repr's UTF-8 lives as long
    // as the repr.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        let name = api::type_name(tp);
        let type_name = if name.is_null() {
            ffi::PyErr_Clear();
            alloc::string::String::from("?")
        } else {
            let mut size: ffi::Py_ssize_t = 0;
            let utf8 = ffi::PyUnicode_AsUTF8AndSize(name, &mut size);
            let text = if utf8.is_null() {
                ffi::PyErr_Clear();
                alloc::string::String::from("?")
            } else {
                let bytes = core::slice::from_raw_parts(utf8.cast::<u8>(), size as usize);
                alloc::string::String::from_utf8_lossy(bytes).into_owned()
            };
            ffi::Py_DECREF(name);
            text
        };
        let mut text = format!(
            "object address  : {obj:p}\nobject refcount : {}\nobject type     : {tp:p}\nobject type name: {type_name}\nobject repr     : ",
            ffi::Py_REFCNT(obj)
        );
        let repr = ffi::PyObject_Repr(obj);
        if repr.is_null() {
            ffi::PyErr_Clear();
            text.push_str("<failed to get repr>");
        } else {
            let mut size: ffi::Py_ssize_t = 0;
            let utf8 = ffi::PyUnicode_AsUTF8AndSize(repr, &mut size);
            if utf8.is_null() {
                ffi::PyErr_Clear();
                text.push_str("<repr is not UTF-8>");
            } else {
                let bytes = core::slice::from_raw_parts(utf8.cast::<u8>(), size as usize);
                text.push_str(&alloc::string::String::from_utf8_lossy(bytes));
            }
            ffi::Py_DECREF(repr);
        }
        text.push('\n');
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            let n = libc::write(2, rest.as_ptr().cast(), rest.len());
            if n <= 0 {
                break;
            }
            rest = &rest[n as usize..];
        }
    }
}
