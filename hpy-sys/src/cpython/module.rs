//! Module creation from an `HPyModuleDef` (HPy's `ctx_module.c` for the
//! CPython ABI): a multi-phase `PyModuleDef` whose methods are the
//! definitions' trampolines and whose `Py_mod_exec`/`Py_mod_create` slots
//! are the HPy slots'. `PyInit_<name>` returns [`module_def_init`]'s result.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::null_mut;

use pyo3_ffi as ffi;

use crate::*;

/// Sets `SystemError` and returns NULL.
///
/// # Safety
/// The GIL is held.
#[cold]
unsafe fn system_error<T>(message: &core::ffi::CStr) -> *mut T {
    // SAFETY: forwarded.
    unsafe { ffi::PyErr_SetString(ffi::PyExc_SystemError, message.as_ptr()) };
    null_mut()
}

/// What `PyInit_<name>` returns for the module definition `def`: its
/// `PyModuleDef` ([`create_module_def`]) through `PyModuleDef_Init`
/// (multi-phase initialisation: CPython runs the `HPy_mod_exec` slots on the
/// new module). The module's name comes from its spec, as in HPy.
///
/// # Safety
/// As [`create_module_def`].
pub unsafe fn module_def_init(def: *mut HPyModuleDef) -> *mut ffi::PyObject {
    // SAFETY: forwarded.
    unsafe {
        super::fill_context();
        let module_def = create_module_def(def);
        if module_def.is_null() {
            return null_mut();
        }
        ffi::PyModuleDef_Init(module_def)
    }
}

/// The `PyModuleDef` of the HPy module definition `def` (HPy's
/// `_HPyModuleDef_CreatePyModuleDef`), made now and kept for the life of the
/// process: its methods are the definitions' trampolines, its
/// `Py_mod_exec`/`Py_mod_create` slots the HPy slots' trampolines, and it has
/// no name (a module made from it takes its name from its spec). NULL with an
/// exception for a definition HPy refuses.
///
/// The CPython-ABI build's `PyInit_<name>` and the universal runtime's
/// `load` (which passes it to `PyModule_FromDefAndSpec`) both start here.
///
/// # Safety
/// The GIL is held; `def` and everything it points to are `'static` (the
/// module keeps pointers to its names and docs), as HPy requires of module
/// definitions.
pub unsafe fn create_module_def(def: *mut HPyModuleDef) -> *mut ffi::PyModuleDef {
    // SAFETY: `def` is a live definition whose `defines` is NULL or a
    // NULL-terminated array of live definitions (the caller's contract); the
    // GIL is held.
    unsafe {
        let def = &*def;
        if def.size < 0 {
            return system_error(c"HPy does not permit HPyModuleDef.size < 0");
        }
        if def.size > 0 {
            return system_error(
                c"Module state is not supported yet in HPy, set HPyModuleDef.size = 0 if module state is not needed",
            );
        }
        let mut methods: Vec<ffi::PyMethodDef> = Vec::new();
        let mut slots: Vec<ffi::PyModuleDef_Slot> = Vec::new();
        let mut found_create = false;
        let mut found_other = false;
        let mut d = def.defines;
        while !d.is_null() && !(*d).is_null() {
            let entry = &**d;
            d = d.add(1);
            if entry.kind == HPyDef_Kind_Meth {
                found_other = true;
                match super::types::method_def(&entry.u.meth) {
                    Some(m) => methods.push(m),
                    None => {
                        ffi::PyErr_SetString(
                            ffi::PyExc_ValueError,
                            c"Unsupported HPyMeth signature".as_ptr(),
                        );
                        return null_mut();
                    }
                }
                continue;
            }
            if entry.kind != HPyDef_Kind_Slot {
                return system_error(c"a module definition can only hold methods and slots");
            }
            let slot = entry.u.slot;
            let py_slot = if slot.slot == HPy_mod_create {
                if found_create {
                    return system_error(
                        c"Multiple definitions of the HPy_mod_create slot in HPyModuleDef.defines.",
                    );
                }
                found_create = true;
                ffi::Py_mod_create
            } else if slot.slot == HPy_mod_exec {
                found_other = true;
                ffi::Py_mod_exec
            } else {
                return system_error(c"Unsupported slot in HPyModuleDef.defines.");
            };
            slots.push(ffi::PyModuleDef_Slot {
                slot: py_slot,
                value: slot
                    .cpy_trampoline
                    .map_or(null_mut(), |f| f as *mut core::ffi::c_void),
            });
        }
        if found_create
            && (found_other
                || !def.legacy_methods.is_null()
                || !def.doc.is_null()
                || !def.globals.is_null() && !(*def.globals).is_null())
        {
            return system_error(
                c"HPyModuleDef defines a HPy_mod_create slot and some other slots, methods or fields: a custom HPy_mod_create slot cannot return a builtin module object, nor use anything else the definition holds",
            );
        }
        if !def.legacy_methods.is_null() {
            let mut m = def.legacy_methods.cast::<ffi::PyMethodDef>();
            while !(*m).ml_name.is_null() {
                methods.push(*m);
                m = m.add(1);
            }
        }
        methods.push(ffi::PyMethodDef::zeroed());
        slots.push(ffi::PyModuleDef_Slot {
            slot: 0,
            value: null_mut(),
        });
        Box::leak(Box::new(ffi::PyModuleDef {
            m_base: ffi::PyModuleDef_HEAD_INIT,
            m_name: c"".as_ptr(),
            m_doc: def.doc,
            m_size: 0,
            m_methods: methods.leak().as_mut_ptr(),
            m_slots: slots.leak().as_mut_ptr(),
            m_traverse: None,
            m_clear: None,
            m_free: None,
        }))
    }
}

/// What HPy requires of an `HPy_mod_create` slot's result: not a module
/// object (its definition's contents could not be attached to it);
/// `SystemError` otherwise.
///
/// # Safety
/// The GIL is held; `*result` is NULL or a new reference.
pub(crate) unsafe fn check_create_result(result: &mut *mut cpy_PyObject) {
    let obj = (*result).cast::<ffi::PyObject>();
    // SAFETY: forwarded.
    unsafe {
        if !obj.is_null() && ffi::PyModule_Check(obj) != 0 {
            ffi::Py_DECREF(obj);
            ffi::PyErr_SetString(
                ffi::PyExc_SystemError,
                c"HPy_mod_create slot returned a builtin module object. This is currently not supported."
                    .as_ptr(),
            );
            *result = null_mut();
        }
    }
}
