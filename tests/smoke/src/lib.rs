//! Test fixture: the smallest useful universal HPy module, written against the
//! raw `hpy-sys` layer only (no safe layer, no macros), the way a C author would.
//!
//! It exports the four symbols of the 0.9.0 module protocol for the module name
//! `smoke` (so the file must be named `smoke.hpy0.so`) and two NOARGS methods:
//!
//! * `noop()` returns `None`;
//! * `context_name()` returns the name of the context the method was called with
//!   (which tells universal, debug and trace mode apart);
//! * `leak_one_handle()` returns `None` and leaks one handle on purpose, so the
//!   tests can prove that debug mode's leak detection is really in effect.
//!
//! The Python side (`tests/python/test_smoke.py`) loads this one file with
//! `hpy.universal.load` on CPython and PyPy.
#![deny(missing_docs)]

use core::ffi::CStr;
use core::ptr::null_mut;
#[cfg(not(hpy_abi = "cpython"))]
use core::sync::atomic::{AtomicPtr, Ordering};
use hpy_sys::*;

/// The context that `HPyInitGlobalContext_smoke` hands us, used only by the
/// CPython trampolines (PyPy calls the impl functions directly with its own).
#[cfg(not(hpy_abi = "cpython"))]
static TRAMPOLINE_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());

/// The C type of a NOARGS impl function (`HPyFunc_noargs` without the `Option`).
type NoArgsImpl = unsafe extern "C" fn(*mut HPyContext, HPy) -> HPy;

/// Erases an impl function to `HPyCFunction`, as C's `(HPyCFunction)impl` cast does.
const fn erase(f: NoArgsImpl) -> HPyCFunction {
    // SAFETY: function pointers of any signature have the same size and
    // representation; the runtime calls it back with the NOARGS signature that is
    // stored next to it (`HPyMeth::signature`, or the `sig` argument of
    // `ctx_CallRealFunctionFromTrampoline`).
    Some(unsafe {
        core::mem::transmute::<NoArgsImpl, unsafe extern "C" fn() -> *mut core::ffi::c_void>(f)
    })
}

/// Emits the CPython trampoline of a NOARGS impl function: it packs CPython's
/// arguments and lets the runtime call the impl with the trampoline context.
/// In a CPython-ABI build (`--cfg hpy_abi="cpython"`) it calls the impl
/// itself: a handle is the object pointer there.
macro_rules! noargs_trampoline {
    ($trampoline:ident => $impl_:ident) => {
        #[cfg(hpy_abi = "cpython")]
        unsafe extern "C" fn $trampoline(
            slf: *mut cpy_PyObject,
            _unused: *mut cpy_PyObject,
        ) -> *mut cpy_PyObject {
            // SAFETY: CPython calls this with the GIL held and `slf` the
            // module; the impl's result is a new reference (or NULL with an
            // exception set), which is what CPython expects back.
            unsafe {
                let result = $impl_(
                    hpy_sys::cpython::context(),
                    hpy_sys::cpython::py2h(slf.cast()),
                );
                hpy_sys::cpython::h2py(result).cast()
            }
        }
        #[cfg(not(hpy_abi = "cpython"))]
        unsafe extern "C" fn $trampoline(
            slf: *mut cpy_PyObject,
            _unused: *mut cpy_PyObject,
        ) -> *mut cpy_PyObject {
            let mut args = _HPyFunc_args_NOARGS {
                self_: slf,
                result: null_mut(),
            };
            let ctx = TRAMPOLINE_CTX.load(Ordering::Relaxed);
            // SAFETY: CPython only calls this trampoline after `HPyInitGlobalContext_smoke`
            // stored its context; `args` is the NOARGS argument struct, matching the
            // signature and the impl passed along.
            unsafe {
                _HPy_CallRealFunctionFromTrampoline(
                    ctx,
                    HPyFunc_NOARGS,
                    erase($impl_),
                    (&raw mut args).cast(),
                )
            };
            args.result
        }
    };
}

unsafe extern "C" fn noop_impl(ctx: *mut HPyContext, _self: HPy) -> HPy {
    // SAFETY: the runtime calls impl functions with the live context of this call;
    // `h_None` is a constant, so it is returned through a new handle (a dup).
    unsafe { HPy_Dup(ctx, h_None(ctx)) }
}
noargs_trampoline!(noop_trampoline => noop_impl);

unsafe extern "C" fn context_name_impl(ctx: *mut HPyContext, _self: HPy) -> HPy {
    // SAFETY: `ctx` is the live context of this call; its `name` is a C string
    // owned by the runtime (or NULL).
    unsafe {
        let name = (*ctx).name;
        let name = if name.is_null() {
            c"<unnamed>".as_ptr()
        } else {
            name
        };
        HPyUnicode_FromString(ctx, name)
    }
}
noargs_trampoline!(context_name_trampoline => context_name_impl);

unsafe extern "C" fn leak_one_handle_impl(ctx: *mut HPyContext, _self: HPy) -> HPy {
    // SAFETY: `ctx` is the live context of this call. The first dup is leaked on
    // purpose (debug mode must report it); the second is returned.
    unsafe {
        let _leaked = HPy_Dup(ctx, h_None(ctx));
        HPy_Dup(ctx, h_None(ctx))
    }
}
noargs_trampoline!(leak_one_handle_trampoline => leak_one_handle_impl);

// --- definitions -------------------------------------------------------------

const fn noargs_def(
    name: &'static CStr,
    doc: &'static CStr,
    impl_: NoArgsImpl,
    trampoline: unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject,
) -> HPyDef {
    HPyDef {
        kind: HPyDef_Kind_Meth,
        u: HPyDef_u {
            meth: HPyMeth {
                name: name.as_ptr(),
                impl_: erase(impl_),
                // SAFETY: function pointers of any signature have the same size and
                // representation; CPython calls the trampoline as METH_NOARGS
                // `(self, NULL)`, which is the signature it really has.
                cpy_trampoline: Some(unsafe {
                    core::mem::transmute::<
                        unsafe extern "C" fn(
                            *mut cpy_PyObject,
                            *mut cpy_PyObject,
                        ) -> *mut cpy_PyObject,
                        unsafe extern "C" fn(
                            *mut cpy_PyObject,
                            *const *mut cpy_PyObject,
                            HPy_ssize_t,
                        ) -> *mut cpy_PyObject,
                    >(trampoline)
                }),
                signature: HPyFunc_NOARGS,
                doc: doc.as_ptr(),
            },
        },
    }
}

// HPy requires writable, 'static definitions (CPython may write into them).
static mut NOOP_DEF: HPyDef = noargs_def(
    c"noop",
    c"noop()\n--\n\nReturn None.",
    noop_impl,
    noop_trampoline,
);
static mut CONTEXT_NAME_DEF: HPyDef = noargs_def(
    c"context_name",
    c"context_name()\n--\n\nReturn the name of the HPy context of this call.",
    context_name_impl,
    context_name_trampoline,
);
static mut LEAK_ONE_HANDLE_DEF: HPyDef = noargs_def(
    c"leak_one_handle",
    c"leak_one_handle()\n--\n\nReturn None, leaking one handle on purpose (debug mode reports it).",
    leak_one_handle_impl,
    leak_one_handle_trampoline,
);
static mut DEFINES: [*mut HPyDef; 4] = [
    &raw mut NOOP_DEF,
    &raw mut CONTEXT_NAME_DEF,
    &raw mut LEAK_ONE_HANDLE_DEF,
    null_mut(),
];
static mut GLOBALS: [*mut HPyGlobal; 1] = [null_mut()];
static mut MODULE_DEF: HPyModuleDef = HPyModuleDef {
    doc: c"Smoke-test fixture of hpy-sys.".as_ptr(),
    size: 0,
    legacy_methods: null_mut(),
    defines: &raw mut DEFINES as *mut *mut HPyDef,
    globals: &raw mut GLOBALS as *mut *mut HPyGlobal,
};

// --- a CPython-ABI build: PyInit_smoke ---------------------------------------

/// The module, in a CPython-ABI build (`--cfg hpy_abi="cpython"`): a plain
/// CPython extension.
///
/// # Safety
/// Called by CPython's import machinery, with the GIL held.
#[cfg(hpy_abi = "cpython")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_smoke() -> *mut cpy_PyObject {
    // SAFETY: the GIL is held; the definition and its strings are statics.
    unsafe { hpy_sys::cpython::module_def_init(&raw mut MODULE_DEF).cast() }
}

// --- the four exported symbols of the module protocol ----------------------

/// The HPy ABI major version this module needs.
#[cfg(not(hpy_abi = "cpython"))]
#[unsafe(no_mangle)]
pub extern "C" fn get_required_hpy_major_version_smoke() -> u32 {
    HPY_ABI_VERSION
}

/// The HPy ABI minor version this module needs.
#[cfg(not(hpy_abi = "cpython"))]
#[unsafe(no_mangle)]
pub extern "C" fn get_required_hpy_minor_version_smoke() -> u32 {
    HPY_ABI_VERSION_MINOR
}

/// Receives the context that CPython's trampolines must use.
///
/// # Safety
/// Called by the HPy loader with a context that outlives the module.
#[cfg(not(hpy_abi = "cpython"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn HPyInitGlobalContext_smoke(ctx: *mut HPyContext) {
    TRAMPOLINE_CTX.store(ctx, Ordering::Relaxed);
}

/// Returns the module definition. Has no context and must not call the HPy API.
#[cfg(not(hpy_abi = "cpython"))]
#[unsafe(no_mangle)]
pub extern "C" fn HPyInit_smoke() -> *mut HPyModuleDef {
    &raw mut MODULE_DEF
}
