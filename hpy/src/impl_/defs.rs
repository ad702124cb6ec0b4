//! Writable `'static` method and slot definitions (`HPyDef`).

use core::cell::UnsafeCell;
use core::ffi::CStr;

use super::sys;

// ---------------------------------------------------------------------------
// Writable 'static definitions

/// A writable, `'static` `HPyDef` (the runtime may write into definitions).
#[repr(transparent)]
pub struct StaticDef(UnsafeCell<sys::HPyDef>);

// SAFETY: the definition is written only by the HPy runtime, while it holds the
// interpreter lock (module creation); Rust code never reads or writes it.
unsafe impl Sync for StaticDef {}

impl StaticDef {
    /// A method definition.
    pub const fn method(
        name: &'static CStr,
        doc: &'static CStr,
        signature: sys::HPyFunc_Signature,
        impl_: sys::HPyCFunction,
        cpy_trampoline: sys::cpy_PyCFunction,
    ) -> Self {
        StaticDef(UnsafeCell::new(sys::HPyDef {
            kind: sys::HPyDef_Kind_Meth,
            u: sys::HPyDef_u {
                meth: sys::HPyMeth {
                    name: name.as_ptr(),
                    impl_,
                    cpy_trampoline,
                    signature,
                    doc: doc.as_ptr(),
                },
            },
        }))
    }

    /// A slot definition.
    pub const fn slot(
        slot: sys::HPySlot_Slot,
        impl_: sys::HPyCFunction,
        cpy_trampoline: sys::cpy_PyCFunction,
    ) -> Self {
        StaticDef(UnsafeCell::new(sys::HPyDef {
            kind: sys::HPyDef_Kind_Slot,
            u: sys::HPyDef_u {
                slot: sys::HPySlot {
                    slot,
                    impl_,
                    cpy_trampoline,
                },
            },
        }))
    }

    /// A member definition: a field of C type `type_` at `offset` of the
    /// payload.
    pub const fn member(
        name: &'static CStr,
        type_: sys::HPyMember_FieldType,
        offset: usize,
        readonly: bool,
        doc: Option<&'static CStr>,
    ) -> Self {
        StaticDef(UnsafeCell::new(sys::HPyDef {
            kind: sys::HPyDef_Kind_Member,
            u: sys::HPyDef_u {
                member: sys::HPyMember {
                    name: name.as_ptr(),
                    type_,
                    #[allow(clippy::cast_possible_wrap)]
                    offset: offset as sys::HPy_ssize_t,
                    readonly: readonly as core::ffi::c_int,
                    doc: match doc {
                        Some(d) => d.as_ptr(),
                        None => core::ptr::null(),
                    },
                },
            },
        }))
    }

    /// A property definition: a getter, and a setter or none.
    pub const fn getset(
        name: &'static CStr,
        doc: Option<&'static CStr>,
        getter: sys::HPyCFunction,
        getter_trampoline: sys::cpy_getter,
        setter: sys::HPyCFunction,
        setter_trampoline: sys::cpy_setter,
    ) -> Self {
        StaticDef(UnsafeCell::new(sys::HPyDef {
            kind: sys::HPyDef_Kind_GetSet,
            u: sys::HPyDef_u {
                getset: sys::HPyGetSet {
                    name: name.as_ptr(),
                    getter_impl: getter,
                    setter_impl: setter,
                    getter_cpy_trampoline: getter_trampoline,
                    setter_cpy_trampoline: setter_trampoline,
                    doc: match doc {
                        Some(d) => d.as_ptr(),
                        None => core::ptr::null(),
                    },
                    // The name, for setters that report it (`readonly_setter`).
                    closure: name.as_ptr() as *mut core::ffi::c_void,
                },
            },
        }))
    }

    /// The pointer the runtime gets.
    pub const fn as_ptr(&'static self) -> *mut sys::HPyDef {
        self.0.get()
    }

    /// The pointer the runtime gets, for a definition that is not `'static`
    /// as such but lives as long as the process (inside a `static`).
    pub(crate) fn as_ptr_unchecked(&self) -> *mut sys::HPyDef {
        self.0.get()
    }

    /// The pointer for one more `HPyType_FromSpec`: the definition itself,
    /// or, for a member (whose offset CPython's runtime rewrites in place), a
    /// fresh copy that lives as long as the process.
    pub(crate) fn fresh_ptr(&'static self) -> *mut sys::HPyDef {
        // SAFETY: the runtime writes only members' offsets, and only while it
        // makes a type (under the interpreter lock, which the caller holds);
        // `kind` is never written.
        let def = unsafe { *self.0.get() };
        if def.kind == sys::HPyDef_Kind_Member {
            Box::into_raw(Box::new(def))
        } else {
            self.as_ptr()
        }
    }

    /// The slot of a slot definition (`None` for other kinds).
    pub(crate) fn slot_number(&'static self) -> Option<sys::HPySlot_Slot> {
        // SAFETY: as in `fresh_ptr`; a slot definition's `slot` is never written.
        unsafe {
            let def = &*self.0.get();
            (def.kind == sys::HPyDef_Kind_Slot).then_some(def.u.slot.slot)
        }
    }

    /// The address of a slot definition's impl (0 for other kinds).
    pub(crate) fn slot_impl_addr(&'static self) -> usize {
        // SAFETY: as in `fresh_ptr`; a slot definition's impl is never written.
        unsafe {
            let def = &*self.0.get();
            if def.kind == sys::HPyDef_Kind_Slot {
                def.u.slot.impl_.map_or(0, |f| f as usize)
            } else {
                0
            }
        }
    }

    /// The name of a method definition (`None` for other kinds), for a
    /// definition that is not `'static`.
    ///
    /// # Safety
    /// The runtime does not write the definition meanwhile (it writes only
    /// while it makes a type or module, under the interpreter lock).
    pub(crate) unsafe fn method_name_unchecked(&self) -> Option<&'static CStr> {
        // SAFETY: forwarded; a method's name is a `'static` C string.
        unsafe {
            let def = &*self.0.get();
            (def.kind == sys::HPyDef_Kind_Meth).then(|| CStr::from_ptr(def.u.meth.name))
        }
    }

    /// The Python name of a method definition (`None` for a slot).
    pub fn method_name(&'static self) -> Option<&'static CStr> {
        // SAFETY: the definition is only written by the HPy runtime while it
        // creates a module (under the interpreter lock, which the caller
        // holds too), and never the `kind` or the name of a method; a method's
        // name is a `'static` C string (`StaticDef::method`).
        unsafe {
            let def = &*self.0.get();
            (def.kind == sys::HPyDef_Kind_Meth).then(|| CStr::from_ptr(def.u.meth.name))
        }
    }
}

impl core::fmt::Debug for StaticDef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticDef")
    }
}
