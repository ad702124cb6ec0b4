//! [`Context`]: the HPy context of one call.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
#[cfg(not(hpy_abi = "cpython"))]
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

use crate::handle::Borrowed;
use hpy_sys as sys;

/// The HPy context of the current call.
///
/// User code only ever sees it as `&'ctx Context`, for the duration of one call
/// into the extension: every [`Handle<'ctx>`](crate::Handle) made through it is
/// tied to that lifetime, so no handle (and no context) can outlive the call,
/// be stored in a `static`, or cross threads. It is neither `Send` nor `Sync`,
/// and safe code cannot construct one: only the code that `#[hpy_method]` and
/// `#[hpy_module]` generate receives it from the runtime.
///
/// This matters in practice: HPy's debug mode hands out a different context
/// for every call and aborts the process when a stale one is used.
///
/// ```compile_fail
/// // A context cannot be made from nothing in safe code.
/// let ctx = hpy::Context { };
/// ```
#[repr(transparent)]
pub struct Context {
    // `UnsafeCell`: the runtime owns this struct; a shared reference must not
    // assert that it is immutable. It also makes `Context: !Sync`, so
    // `&Context: !Send`.
    raw: UnsafeCell<sys::HPyContext>,
    // `*mut ()` makes `Context: !Send` as well.
    _not_send: PhantomData<*mut ()>,
}

impl Context {
    /// Views the runtime's context pointer as a `&Context` for one call.
    ///
    /// # Safety
    /// `ptr` must be the context the runtime passed to the current call (or the
    /// trampoline context), and the returned reference must not outlive that
    /// call. Only generated code calls this.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn from_raw<'ctx>(ptr: *mut sys::HPyContext) -> &'ctx Context {
        // SAFETY: `Context` is `repr(transparent)` over the `HPyContext` (the
        // `PhantomData` is zero-sized), and the caller vouches for the pointer
        // and the lifetime.
        unsafe { &*(ptr as *const Context) }
    }

    /// The raw context pointer, for calls into [`hpy_sys`].
    #[inline(always)]
    pub fn as_raw(&self) -> *mut sys::HPyContext {
        self.raw.get()
    }

    /// Whether this is a context of HPy's debug mode, which checks (and
    /// aborts on) `_HPy_AsStruct_*` calls that do not match the shape of the
    /// object's type. One pointer comparison for other contexts.
    #[inline(always)]
    pub(crate) fn is_debug_mode(&self) -> bool {
        // A CPython-ABI build has no debug mode.
        #[cfg(hpy_abi = "cpython")]
        {
            false
        }
        #[cfg(not(hpy_abi = "cpython"))]
        {
            // SAFETY: the context is live for `&self`; `name` is a static C
            // string (or NULL).
            let name = unsafe { (*self.as_raw()).name };
            if name == NOT_DEBUG_NAME.load(Ordering::Relaxed) {
                return false;
            }
            self.is_debug_mode_slow(name)
        }
    }

    #[cfg(not(hpy_abi = "cpython"))]
    #[cold]
    fn is_debug_mode_slow(&self, name: *const core::ffi::c_char) -> bool {
        let debug = self.name() == "HPy Debug Mode ABI";
        if !debug {
            NOT_DEBUG_NAME.store(name.cast_mut(), Ordering::Relaxed);
        }
        debug
    }

    /// The runtime's name for this context, e.g. `"HPy Universal ABI (CPython backend)"`
    /// or `"HPy Debug Mode ABI"`.
    pub fn name(&self) -> &str {
        // SAFETY: the context is live for `&self`; its `name` field is a static C
        // string owned by the runtime, or NULL.
        let name = unsafe { (*self.as_raw()).name };
        if name.is_null() {
            return "";
        }
        // SAFETY: non-NULL `name` is a NUL-terminated string that outlives the context.
        let name = unsafe { core::ffi::CStr::from_ptr(name) };
        name.to_str().unwrap_or("<non-UTF-8 context name>")
    }

    /// Whether an exception is set in the interpreter (`HPyErr_Occurred`).
    #[inline]
    pub fn err_occurred(&self) -> bool {
        // SAFETY: the context is live for `&self`.
        unsafe { sys::HPyErr_Occurred(self.as_raw()) != 0 }
    }

    /// Clears the current exception, if any (`HPyErr_Clear`).
    #[inline]
    pub fn err_clear(&self) {
        // SAFETY: the context is live for `&self`.
        unsafe { sys::HPyErr_Clear(self.as_raw()) }
    }
}

/// The Python implementation behind the HPy runtime.
///
/// The safe layer uses it to route around differences between runtimes (for
/// example, PyPy 7.3.19's `HPyLong_AsInt32_t` truncates silently, and its
/// `HPy_Compile_s` inherits the caller's `__future__` flags). Anything not
/// known to be CPython gets the portable path.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Runtime {
    /// CPython, through the `hpy` package (any mode) or hpy-rs's runtime.
    CPython,
    /// PyPy (any mode).
    PyPy,
    /// Another runtime (e.g. GraalPy).
    Other,
}

/// 0 = not known yet, else `Runtime as u8 + 1`. One process has one runtime.
#[cfg(not(hpy_abi = "cpython"))]
static RUNTIME: AtomicU8 = AtomicU8::new(0);

/// The `name` of a context known not to be a debug-mode context (NULL until
/// one is seen).
#[cfg(not(hpy_abi = "cpython"))]
static NOT_DEBUG_NAME: AtomicPtr<core::ffi::c_char> = AtomicPtr::new(core::ptr::null_mut());

impl Context {
    /// The Python implementation this module runs on (from the context's name;
    /// computed once per process).
    #[inline]
    pub fn runtime(&self) -> Runtime {
        // A CPython-ABI build runs on CPython only.
        #[cfg(hpy_abi = "cpython")]
        {
            Runtime::CPython
        }
        #[cfg(not(hpy_abi = "cpython"))]
        match RUNTIME.load(Ordering::Relaxed) {
            1 => Runtime::CPython,
            2 => Runtime::PyPy,
            3 => Runtime::Other,
            _ => self.detect_runtime(),
        }
    }

    #[cfg(not(hpy_abi = "cpython"))]
    #[cold]
    fn detect_runtime(&self) -> Runtime {
        let name = self.name();
        let runtime = if name.contains("PyPy") {
            Runtime::PyPy
        } else if name.contains("(CPython backend)")
            || name == "HPy Debug Mode ABI"
            || name == "HPy Trace Mode ABI"
        {
            // hpy 0.9.0 on CPython: the universal context says so; its debug and
            // trace contexts carry no backend tag (PyPy's do).
            Runtime::CPython
        } else {
            Runtime::Other
        };
        RUNTIME.store(runtime as u8 + 1, Ordering::Relaxed);
        runtime
    }
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("name", &self.name())
            .finish()
    }
}

macro_rules! constants {
    ($($(#[$doc:meta])* $method:ident => $member:ident;)*) => {
        impl Context {
            $(
                $(#[$doc])*
                ///
                /// A constant of the context: borrowed, so it cannot be closed; use
                /// [`Handle::dup`](crate::Handle::dup) (or `clone`) for an owned handle.
                #[inline(always)]
                pub fn $method(&self) -> Borrowed<'_, '_> {
                    // SAFETY: the context is live for `&self`; its constants are
                    // valid handles for the whole call and are never closed (the
                    // `Borrowed` wrapper does not close on drop).
                    unsafe { Borrowed::from_raw(self, sys::$member(self.as_raw())) }
                }
            )*
        }
    };
}

constants! {
    /// `None`.
    none => h_None;
    /// `True`.
    true_ => h_True;
    /// `False`.
    false_ => h_False;
    /// `NotImplemented`.
    not_implemented => h_NotImplemented;
    /// `Ellipsis` (`...`).
    ellipsis => h_Ellipsis;
    /// The dict of builtins (`builtins.__dict__`, as HPy defines `h_Builtins`).
    builtins => h_Builtins;
    /// The type `object`.
    object_type => h_BaseObjectType;
    /// The type `type`.
    type_type => h_TypeType;
    /// The type `bool`.
    bool_type => h_BoolType;
    /// The type `int`.
    int_type => h_LongType;
    /// The type `float`.
    float_type => h_FloatType;
    /// The type `str`.
    str_type => h_UnicodeType;
    /// The type `tuple`.
    tuple_type => h_TupleType;
    /// The type `list`.
    list_type => h_ListType;
    /// The type `complex`.
    complex_type => h_ComplexType;
    /// The type `bytes`.
    bytes_type => h_BytesType;
    /// The type `memoryview`.
    memoryview_type => h_MemoryViewType;
    /// The type of capsules.
    capsule_type => h_CapsuleType;
    /// The type `slice`.
    slice_type => h_SliceType;
}
