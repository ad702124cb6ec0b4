//! Writable `'static` definitions: `HPyDef`, pointer arrays, `HPyModuleDef`.

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::ptr::null_mut;

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
}

impl core::fmt::Debug for StaticDef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticDef")
    }
}

/// A NULL-terminated array of pointers (`defines`, `globals`), writable and `'static`.
#[repr(transparent)]
pub struct StaticPtrArray<T, const N: usize>(UnsafeCell<[*mut T; N]>);

// SAFETY: as for `StaticDef`: only the runtime touches it, under the GIL.
unsafe impl<T, const N: usize> Sync for StaticPtrArray<T, N> {}

impl<T, const N: usize> StaticPtrArray<T, N> {
    /// Wraps the array; its last element must be NULL.
    pub const fn new(items: [*mut T; N]) -> Self {
        assert!(
            N > 0 && items[N - 1].is_null(),
            "the array must end with NULL"
        );
        StaticPtrArray(UnsafeCell::new(items))
    }

    /// The pointer to the first element.
    pub const fn as_ptr(&'static self) -> *mut *mut T {
        self.0.get().cast()
    }
}

impl<T, const N: usize> core::fmt::Debug for StaticPtrArray<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticPtrArray")
    }
}

/// A writable, `'static` `HPyModuleDef`.
#[repr(transparent)]
pub struct StaticModuleDef(UnsafeCell<sys::HPyModuleDef>);

// SAFETY: as for `StaticDef`.
unsafe impl Sync for StaticModuleDef {}

impl StaticModuleDef {
    /// A module definition (universal mode: no size, no legacy methods).
    pub const fn new(
        doc: Option<&'static CStr>,
        defines: *mut *mut sys::HPyDef,
        globals: *mut *mut sys::HPyGlobal,
    ) -> Self {
        let doc = match doc {
            Some(d) => d.as_ptr(),
            None => core::ptr::null(),
        };
        StaticModuleDef(UnsafeCell::new(sys::HPyModuleDef {
            doc,
            size: 0,
            legacy_methods: null_mut(),
            defines,
            globals,
        }))
    }

    /// The pointer `HPyInit_<module>` returns.
    pub const fn as_ptr(&'static self) -> *mut sys::HPyModuleDef {
        self.0.get()
    }
}

impl core::fmt::Debug for StaticModuleDef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticModuleDef")
    }
}
