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

    /// The pointer the runtime gets.
    pub const fn as_ptr(&'static self) -> *mut sys::HPyDef {
        self.0.get()
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
