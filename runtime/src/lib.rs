//! `hpy_rs_runtime._universal`: an HPy 0.9 universal runtime for CPython,
//! written on `pyo3-ffi`.
//!
//! It loads any HPy 0.9 universal binary (`<name>.hpy0.so`: an hpy-rs
//! extension, or a C extension built with `hpy.devel --hpy-abi=universal`)
//! the way HPy's own `hpy.universal` does (`hpymodule.c`'s `do_load`): it
//! opens the file, checks the ABI version the module asks for and the tag in
//! its name, gives it this runtime's context, and makes a CPython module from
//! its `HPyModuleDef`.
//!
//! The context's functions are `hpy_sys::cpython`'s: the same C-API
//! implementation of each HPy function that a CPython-ABI build compiles
//! inline. In this runtime, as in HPy's, a handle is the object pointer.
//! Type objects keep their HPy data in `hpy_sys::cpython`'s registry, never
//! in `tp_flags` (HPy's own runtime sets bit 2 there, which CPython 3.13
//! took for `Py_TPFLAGS_INLINE_VALUES`: every HPy type crashes there).
//!
//! The Python side (`python/hpy_rs_runtime/universal.py`) adds
//! `_load_bootstrap` (the loader stubs' entry point, with the `HPY`
//! environment variable) and the name `hpy.universal` where wanted
//! (`hpy_rs_runtime.install()`).

use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr::null_mut;
use std::ffi::CString;

use hpy_sys::{HPY_ABI_VERSION, HPY_ABI_VERSION_MINOR, HPyContext, HPyModuleDef};
use pyo3_ffi as ffi;

mod debug;
mod trace;

/// `MODE_UNIVERSAL`: the plain context.
const MODE_UNIVERSAL: c_int = 0;
/// `MODE_DEBUG`: HPy's debug context around the plain one.
const MODE_DEBUG: c_int = 1;
/// `MODE_TRACE`: HPy's trace context around the plain one.
const MODE_TRACE: c_int = 2;

/// The name of this runtime's context (`ctx->name`).
/// It says "(CPython backend)" as HPy's does: extensions tell the runtime
/// by that (the `hpy` crate does).
const CONTEXT_NAME: &CStr = c"HPy Universal ABI (CPython backend) [hpy-rs runtime]";

/// The universal context, filled on first use: the handle constants and
/// `hpy_sys::cpython`'s functions (every one of the context's 180).
///
/// # Safety
/// The GIL is held.
unsafe fn universal_context() -> *mut HPyContext {
    static FILLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let ctx = hpy_sys::cpython::context();
    if !FILLED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        // SAFETY: the GIL is held, and no module was given the context yet:
        // nothing reads it while it is written.
        unsafe {
            hpy_sys::cpython::fill(&mut *ctx);
            (*ctx).name = CONTEXT_NAME.as_ptr();
            (*ctx).abi_version = HPY_ABI_VERSION as c_int;
        }
    }
    ctx
}

/// A runtime mode's context (trace, debug): made once, with the GIL held,
/// around the universal one, and never moved (a static).
pub(crate) struct ModeContext(core::cell::UnsafeCell<Option<HPyContext>>);

// SAFETY: written once with the GIL held, before any module has it; read
// with the GIL held.
unsafe impl Sync for ModeContext {}

impl ModeContext {
    pub(crate) const fn new() -> Self {
        Self(core::cell::UnsafeCell::new(None))
    }

    /// The context, made by `make` on first use.
    ///
    /// # Safety
    /// The GIL is held.
    pub(crate) unsafe fn get_or_make(&self, make: impl FnOnce() -> HPyContext) -> *mut HPyContext {
        // SAFETY: the GIL orders the writer and the readers; `make` runs
        // before any module was given the context.
        unsafe {
            let slot = &mut *self.0.get();
            slot.get_or_insert_with(make) as *mut HPyContext
        }
    }

    /// The context, or NULL before it was made.
    pub(crate) fn get(&self) -> *mut HPyContext {
        // SAFETY: written once, before any module got the context.
        unsafe {
            (*self.0.get())
                .as_mut()
                .map_or(null_mut(), |c| c as *mut HPyContext)
        }
    }
}

/// Sets an exception of type `exc` with `message` and returns NULL.
///
/// # Safety
/// The GIL is held.
#[cold]
unsafe fn raise<T>(exc: *mut ffi::PyObject, message: &str) -> *mut T {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: the GIL is held; both pointers are valid.
    unsafe { ffi::PyErr_SetString(exc, message.as_ptr()) };
    null_mut()
}

/// Calls `callable(*args)` (`args` a tuple, or NULL for no arguments) with
/// the pending exception, if any, set aside and restored afterwards; an
/// exception the call raises is reported as unraisable. For the functions
/// trace and debug mode call from inside context functions, which may run
/// with an exception set.
///
/// # Safety
/// The GIL is held; `callable` is alive; `args` is NULL or a tuple.
#[cold]
pub(crate) unsafe fn call_aside(callable: *mut ffi::PyObject, args: *mut ffi::PyObject) {
    // SAFETY: the GIL is held; the callable is kept alive across its call
    // (which may drop the caller's reference to it).
    unsafe {
        ffi::Py_INCREF(callable);
        #[cfg(Py_3_12)]
        let saved = ffi::PyErr_GetRaisedException();
        #[cfg(not(Py_3_12))]
        let saved = {
            let (mut ty, mut value, mut tb) = (null_mut(), null_mut(), null_mut());
            ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
            (ty, value, tb)
        };
        let result = ffi::PyObject_CallObject(callable, args);
        if result.is_null() {
            ffi::PyErr_WriteUnraisable(callable);
        } else {
            ffi::Py_DECREF(result);
        }
        #[cfg(Py_3_12)]
        ffi::PyErr_SetRaisedException(saved);
        #[cfg(not(Py_3_12))]
        ffi::PyErr_Restore(saved.0, saved.1, saved.2);
        ffi::Py_DECREF(callable);
    }
}

/// The last `dlerror()` message, or HPy's words when there is none.
fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until
    // the next dl call on this thread, which is after the copy.
    let error = unsafe { libc::dlerror() };
    if error.is_null() {
        "no error message provided by the system".to_owned()
    } else {
        // SAFETY: see above.
        unsafe { CStr::from_ptr(error) }
            .to_string_lossy()
            .into_owned()
    }
}

/// The name a module's symbols carry (HPy's `get_encoded_name`): the part of
/// `name` after its last dot, ASCII (`UnicodeEncodeError` otherwise, as in
/// HPy), with `-` replaced by `_`. `None` with an exception.
///
/// # Safety
/// The GIL is held; `name` is a live object.
unsafe fn short_name(name: *mut ffi::PyObject) -> Option<String> {
    // SAFETY: the GIL is held and `name` is alive; the UTF-8 view lives as
    // long as `name`, which outlives this function.
    unsafe {
        if ffi::PyUnicode_Check(name) == 0 {
            raise::<()>(ffi::PyExc_TypeError, "the module name must be a str");
            return None;
        }
        let mut size: ffi::Py_ssize_t = 0;
        let data = ffi::PyUnicode_AsUTF8AndSize(name, &mut size);
        if data.is_null() {
            return None;
        }
        let bytes = core::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        let full = core::str::from_utf8(bytes).unwrap_or_default();
        let short = full.rsplit('.').next().unwrap_or(full);
        if !short.is_ascii() {
            // CPython's own error for it (what HPy raises too).
            let obj = ffi::PyUnicode_FromStringAndSize(short.as_ptr().cast(), short.len() as _);
            if !obj.is_null() {
                let encoded = ffi::PyUnicode_AsASCIIString(obj);
                ffi::Py_XDECREF(encoded);
                ffi::Py_DECREF(obj);
            }
            return None;
        }
        if short.contains('\0') {
            raise::<()>(
                ffi::PyExc_ValueError,
                "embedded null character in the module name",
            );
            return None;
        }
        Some(short.replace('-', "_"))
    }
}

/// The file name's ABI tag agrees with the major version the module asks
/// for (HPy's `validate_abi_tag`: the first `.hpy` in the path, followed by
/// a number).
fn abi_tag_error(short: &str, soname: &str, major: u32, minor: u32) -> Option<String> {
    let Some(at) = soname.find(".hpy") else {
        return Some(no_tag(short, soname, major, minor));
    };
    let rest = &soname[at + 4..];
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return Some(no_tag(short, soname, major, minor));
    }
    // Saturates like C's atoi never would, but no number that large is a
    // valid tag either way.
    let tag: u32 = digits.parse().unwrap_or(u32::MAX);
    if tag == major {
        return None;
    }
    Some(format!(
        "HPy extension module '{short}' at path '{soname}': mismatch between the HPy ABI tag \
         encoded in the filename and the major version requested by the HPy extension itself. \
         Major version tag parsed from filename: {tag}. Requested version: {major}.{minor}."
    ))
}

fn no_tag(short: &str, soname: &str, major: u32, minor: u32) -> String {
    format!(
        "HPy extension module '{short}' at path '{soname}': could not find HPy ABI tag encoded \
         in the filename. The extension claims to be compiled with HPy ABI version: \
         {major}.{minor}."
    )
}

/// `dlsym(lib, name)`, NULL when absent.
///
/// # Safety
/// `lib` is a handle from `dlopen`.
unsafe fn symbol(lib: *mut c_void, name: &str) -> *mut c_void {
    let Ok(name) = CString::new(name) else {
        return null_mut();
    };
    // SAFETY: `lib` is a live dlopen handle, `name` a C string.
    unsafe { libc::dlsym(lib, name.as_ptr()) }
}

/// Loads the universal binary at `path` as the module `name` with the
/// module spec `spec`, in `mode` (HPy's `do_load`).
///
/// # Safety
/// The GIL is held; the three objects are alive.
unsafe fn do_load(
    name: *mut ffi::PyObject,
    path: *mut ffi::PyObject,
    mode: c_int,
    spec: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held and the objects are alive (the caller's
    // contract); each C-API call's result is checked before use; the
    // symbols are called with the signatures HPy 0.9's module protocol gives
    // them (hpy-abi.md §2.1).
    unsafe {
        let Some(short) = short_name(name) else {
            return null_mut();
        };
        let path_bytes = ffi::PyUnicode_EncodeFSDefault(path);
        if path_bytes.is_null() {
            return null_mut();
        }
        let soname_c = CStr::from_ptr(ffi::PyBytes_AsString(path_bytes)).to_owned();
        ffi::Py_DECREF(path_bytes);
        let soname = soname_c.to_string_lossy().into_owned();

        let lib = libc::dlopen(soname_c.as_ptr(), libc::RTLD_NOW);
        if lib.is_null() {
            return raise(
                ffi::PyExc_RuntimeError,
                &format!(
                    "Error during loading of the HPy extension module at path '{soname}'. \
                     Error message from dlopen/WinAPI: {}",
                    dl_error()
                ),
            );
        }
        let minor_name = format!("get_required_hpy_minor_version_{short}");
        let major_name = format!("get_required_hpy_major_version_{short}");
        let minor_fn = symbol(lib, &minor_name);
        let major_fn = symbol(lib, &major_name);
        if minor_fn.is_null() || major_fn.is_null() {
            return raise(
                ffi::PyExc_RuntimeError,
                &format!(
                    "Error during loading of the HPy extension module at path '{soname}'. Cannot \
                     locate the required minimal HPy versions as symbols '{minor_name}' and \
                     `{major_name}`. Error message from dlopen/WinAPI: {}",
                    dl_error()
                ),
            );
        }
        type VersionGetter = unsafe extern "C" fn() -> u32;
        let minor = core::mem::transmute::<*mut c_void, VersionGetter>(minor_fn)();
        let major = core::mem::transmute::<*mut c_void, VersionGetter>(major_fn)();
        if major != HPY_ABI_VERSION || minor > HPY_ABI_VERSION_MINOR {
            return raise(
                ffi::PyExc_RuntimeError,
                &format!(
                    "HPy extension module '{short}' requires unsupported version of the HPy \
                     runtime. Requested version: {major}.{minor}. Current HPy version: \
                     {HPY_ABI_VERSION}.{HPY_ABI_VERSION_MINOR}."
                ),
            );
        }
        if let Some(message) = abi_tag_error(&short, &soname, major, minor) {
            return raise(ffi::PyExc_RuntimeError, &message);
        }

        let ctx = match mode {
            MODE_DEBUG => debug::context(universal_context()),
            MODE_TRACE => trace::context(universal_context()),
            _ => universal_context(),
        };

        let mut entry_points = [null_mut(); 2];
        for (slot, prefix) in entry_points
            .iter_mut()
            .zip(["HPyInitGlobalContext", "HPyInit"])
        {
            let symbol_name = format!("{prefix}_{short}");
            *slot = symbol(lib, &symbol_name);
            if slot.is_null() {
                return raise(
                    ffi::PyExc_RuntimeError,
                    &format!(
                        "Error during loading of the HPy extension module at path '{soname}' \
                         while trying to find symbol '{symbol_name}'. Did you use the \
                         HPy_MODINIT macro to register your module? Error message from \
                         dlsym/WinAPI: {}",
                        dl_error()
                    ),
                );
            }
        }
        type InitContext = unsafe extern "C" fn(*mut HPyContext);
        type Init = unsafe extern "C" fn() -> *mut HPyModuleDef;
        core::mem::transmute::<*mut c_void, InitContext>(entry_points[0])(ctx);
        let hpydef = core::mem::transmute::<*mut c_void, Init>(entry_points[1])();
        if hpydef.is_null() {
            return raise(
                ffi::PyExc_RuntimeError,
                &format!(
                    "Error during loading of the HPy extension module at path '{soname}'. \
                     Function 'HPyInit_{short}' returned NULL."
                ),
            );
        }
        let pydef = hpy_sys::cpython::create_module_def(hpydef);
        if pydef.is_null() {
            return null_mut();
        }
        let module = ffi::PyModule_FromDefAndSpec(pydef, spec);
        if module.is_null() {
            return null_mut();
        }
        if ffi::PyModule_Check(module) != 0 && ffi::PyModule_ExecDef(module, pydef) != 0 {
            ffi::Py_DECREF(module);
            return null_mut();
        }
        module
    }
}

/// `load(name, path, spec, debug=False, mode=-1)`: the module `name` from
/// the universal binary at `path`, made with the module spec `spec`; `mode`
/// (when positive) overrides `debug`.
unsafe extern "C" fn load(
    _module: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let mut name: *mut ffi::PyObject = null_mut();
    let mut path: *mut ffi::PyObject = null_mut();
    let mut spec: *mut ffi::PyObject = null_mut();
    let mut debug: c_int = 0;
    let mut mode: c_int = -1;
    let mut keywords: [*mut c_char; 6] = [
        c"name".as_ptr().cast_mut(),
        c"path".as_ptr().cast_mut(),
        c"spec".as_ptr().cast_mut(),
        c"debug".as_ptr().cast_mut(),
        c"mode".as_ptr().cast_mut(),
        null_mut(),
    ];
    // SAFETY: CPython calls this with the GIL held, a tuple and NULL or a
    // dict; the format's five conversions match the five pointers, of the
    // types `O` (borrowed object), `p` and `i` (int) write.
    unsafe {
        if ffi::PyArg_ParseTupleAndKeywords(
            args,
            kwargs,
            c"OOO|pi:load".as_ptr(),
            // `char **` before 3.13, `char * const *` from it.
            keywords.as_mut_ptr().cast(),
            &mut name as *mut *mut ffi::PyObject,
            &mut path as *mut *mut ffi::PyObject,
            &mut spec as *mut *mut ffi::PyObject,
            &mut debug as *mut c_int,
            &mut mode as *mut c_int,
        ) == 0
        {
            return null_mut();
        }
        let mode = if mode > 0 {
            mode
        } else if debug != 0 {
            MODE_DEBUG
        } else {
            MODE_UNIVERSAL
        };
        do_load(name, path, mode, spec)
    }
}

/// `get_version()`: `(HPy version, this runtime's revision)`.
unsafe extern "C" fn get_version(
    _module: *mut ffi::PyObject,
    _noargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let revision = concat!("hpy-rs-runtime ", env!("CARGO_PKG_VERSION"), "\0");
    // SAFETY: the GIL is held (CPython calls this); both strings are
    // NUL-terminated; each result is checked.
    unsafe {
        let version = ffi::PyUnicode_FromString(c"0.9.0".as_ptr());
        if version.is_null() {
            return null_mut();
        }
        let revision = ffi::PyUnicode_FromString(revision.as_ptr().cast());
        if revision.is_null() {
            ffi::Py_DECREF(version);
            return null_mut();
        }
        let result = ffi::PyTuple_New(2);
        if result.is_null() {
            ffi::Py_DECREF(version);
            ffi::Py_DECREF(revision);
            return null_mut();
        }
        ffi::PyTuple_SetItem(result, 0, version);
        ffi::PyTuple_SetItem(result, 1, revision);
        result
    }
}

/// The module's full name, for `cargo hpy` (which reads it from the library,
/// as it reads `#[hpy_module]`'s, to put the module in its package's folder);
/// exported so that the linker keeps it.
#[unsafe(no_mangle)]
#[used]
pub static HPY_RS_MODULE_NAME__universal: [u8; 40] = *b"hpy-rs module hpy_rs_runtime._universal\0";

/// The module's initialisation function (CPython's single-phase protocol).
///
/// # Safety
/// Called by CPython's import machinery with the GIL held.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit__universal() -> *mut ffi::PyObject {
    let methods = Box::leak(Box::new([
        ffi::PyMethodDef {
            ml_name: c"load".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionWithKeywords: load,
            },
            ml_flags: ffi::METH_VARARGS | ffi::METH_KEYWORDS,
            ml_doc: c"load(name, path, spec, debug=False, mode=-1)\n--\n\nLoad a .hpy0.so file"
                .as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"get_version".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: get_version,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Return a tuple ('version', 'git revision')".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_trace_get_call_counts".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: trace::get_call_counts,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Trace mode: {context function: calls}".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_trace_get_durations".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: trace::get_durations,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Trace mode: {context function: time spent in it, in ticks}".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_trace_get_frequency".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: trace::get_frequency,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Trace mode: ticks per second of the durations".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_trace_set_functions".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionFast: trace::set_trace_functions,
            },
            ml_flags: ffi::METH_FASTCALL,
            ml_doc: c"Trace mode: _trace_set_functions(on_enter, on_exit), ... keeps one".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_new_generation".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::new_generation,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Debug mode: starts a new generation of handles and returns it".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_open_handles".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::open_handles,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: the ids of the open handles of a generation or later".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_closed_handles".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::closed_handles,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Debug mode: the ids of the closed handles remembered".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_handle_info".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::handle_info,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: (obj or None, is_closed, generation, raw data size, allocation stack or None) of a handle".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_force_close".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::force_close,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: closes a handle, if open".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_closed_max".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::closed_max,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: the closed handles' queue size (set first unless None)".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_protected_max".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::protected_max,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: the bytes of closed handles' raw data kept (set first unless None)".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_set_stack_trace_limit".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::set_stack_trace_limit,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: new handles record their stack, shown up to n frames (None: not recorded)"
                .as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_set_on_invalid_handle".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::set_on_invalid_handle,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: the function called on the use of a closed handle (None: abort)".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"_debug_set_on_invalid_builder_handle".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: debug::set_on_invalid_builder_handle,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Debug mode: the function called on the use of a built or cancelled builder (None: abort)"
                .as_ptr(),
        },
        ffi::PyMethodDef::zeroed(),
    ]));
    let def = Box::leak(Box::new(ffi::PyModuleDef {
        m_base: ffi::PyModuleDef_HEAD_INIT,
        m_name: c"hpy_rs_runtime._universal".as_ptr(),
        m_doc: c"An HPy 0.9 universal runtime for CPython, in Rust (hpy-rs)".as_ptr(),
        m_size: -1,
        m_methods: methods.as_mut_ptr(),
        m_slots: null_mut(),
        m_traverse: None,
        m_clear: None,
        m_free: None,
    }));
    // SAFETY: the GIL is held; `def` is leaked, so 'static as CPython needs.
    unsafe {
        let module = ffi::PyModule_Create(def);
        if module.is_null() {
            return null_mut();
        }
        for (name, value) in [
            (c"MODE_UNIVERSAL", MODE_UNIVERSAL),
            (c"MODE_DEBUG", MODE_DEBUG),
            (c"MODE_TRACE", MODE_TRACE),
        ] {
            if ffi::PyModule_AddIntConstant(module, name.as_ptr(), value.into()) < 0 {
                ffi::Py_DECREF(module);
                return null_mut();
            }
        }
        module
    }
}

#[cfg(test)]
mod tests {
    use super::abi_tag_error;

    #[test]
    fn abi_tag_is_the_number_after_the_first_hpy() {
        assert_eq!(abi_tag_error("m", "/x/m.hpy0.so", 0, 0), None);
        // atoi("01") is 1.
        assert!(abi_tag_error("m", "/x/m.hpy01.so", 0, 0).is_some());
        let mismatch = abi_tag_error("m", "/x/m.hpy1.so", 0, 0).unwrap();
        assert!(mismatch.contains("parsed from filename: 1"), "{mismatch}");
        let missing = abi_tag_error("m", "/x/m.so", 0, 0).unwrap();
        assert!(missing.contains("could not find HPy ABI tag"), "{missing}");
        // The first `.hpy` decides, as in HPy's runtime.
        assert!(abi_tag_error("m", "/x.hpyfoo/m.hpy0.so", 0, 0).is_some());
    }
}
