//! [`Global`]: a module-level reference to a Python object that survives
//! across calls (`HPyGlobal`).

use core::cell::UnsafeCell;

use crate::err::{Error, Result};
use crate::{Context, Handle};
use hpy_sys as sys;

/// A reference to a Python object kept in a `static`, across calls: HPy's
/// `HPyGlobal`. Typical uses are a custom exception class or type created in
/// `#[hpy_init]`, or an imported object cached for later calls.
///
/// Declare it as a `static` **inside the `#[hpy_module]` block**: the macro
/// lists every `static NAME: Global` there in the module definition, which
/// PyPy and GraalPy need to know about the global.
///
/// ```
/// use hpy::hpy_module;
///
/// #[hpy_module]
/// mod cache {
///     use hpy::{Context, Global, Handle, Result, hpy_init, hpy_method};
///
///     static ANSWER: Global = Global::new();
///
///     #[hpy_init]
///     fn init(ctx: &Context, _module: &Handle<'_>) -> Result<()> {
///         ANSWER.store(ctx, &hpy::IntoPy::into_py(42, ctx)?);
///         Ok(())
///     }
///
///     /// The object stored at import time.
///     #[hpy_method]
///     fn answer(ctx: &Context) -> Result<Handle<'_>> {
///         ANSWER.load(ctx)
///     }
/// }
/// ```
///
/// A global holds a strong reference: the object lives until the global is
/// overwritten (or the interpreter exits). It is not a handle, so HPy's debug
/// mode does not report it as leaked.
///
/// Loading a global that was never stored raises `SystemError` (see
/// [`load`](Global::load)) instead of crashing, which is what the C API would
/// do on CPython.
pub struct Global {
    // The runtime writes the slot (`HPyGlobal_Store` takes `HPyGlobal *`), so it
    // needs interior mutability; it starts zeroed (`HPyGlobal` NULL), as the
    // runtimes expect.
    raw: UnsafeCell<sys::HPyGlobal>,
}

// SAFETY: the slot is only read or written inside calls into the extension
// (`store` and `load` take a `&Context`, which exists only during such a call),
// and those calls hold the interpreter lock (the GIL on CPython and PyPy), so no
// two threads access it at the same time (HPy 0.9 runtimes have a GIL).
// `Context::allow_threads` releases the lock only around closures that cannot
// reach a `Context`, and nothing reads the slot without one.
unsafe impl Sync for Global {}

impl Global {
    /// A global that holds nothing yet (for a `static`).
    #[inline]
    pub const fn new() -> Self {
        Global {
            raw: UnsafeCell::new(sys::HPyGlobal::NULL),
        }
    }

    /// Makes the global refer to `obj` (`HPyGlobal_Store`), replacing (and
    /// releasing) what it referred to before. `obj` stays owned by the caller.
    #[inline]
    pub fn store(&self, ctx: &Context, obj: &Handle<'_>) {
        // SAFETY: the context is live and `obj` is open in it; the slot is a
        // valid, writable `HPyGlobal` that only calls under the interpreter lock
        // touch (see `impl Sync`). `HPyGlobal_Store` does not steal `obj`.
        unsafe { sys::HPyGlobal_Store(ctx.as_raw(), self.raw.get(), obj.as_raw()) }
    }

    /// Whether the global was stored at least once (in this process). The
    /// context is the proof that the caller holds the interpreter lock.
    #[inline]
    pub fn is_set(&self, _ctx: &Context) -> bool {
        // SAFETY: reads of the slot happen under the interpreter lock, like the
        // writes (see `impl Sync`); a zero slot means never stored in every runtime
        // (CPython stores the object pointer, PyPy a non-zero handle).
        !unsafe { *self.raw.get() }.is_null()
    }

    /// A new handle to the object the global refers to (`HPyGlobal_Load`).
    ///
    /// A global that was never stored raises `SystemError: hpy::Global loaded
    /// before it was stored` (with the C API this reads a NULL object and
    /// crashes CPython).
    #[inline]
    pub fn load<'ctx>(&self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        match self.try_load(ctx) {
            Some(h) => Ok(h),
            None => Err(not_stored()),
        }
    }

    /// Like [`load`](Global::load), with `None` for a global never stored.
    #[inline]
    pub fn try_load<'ctx>(&self, ctx: &'ctx Context) -> Option<Handle<'ctx>> {
        // SAFETY: as in `is_set` (`ctx` proves the lock is held).
        let raw = unsafe { *self.raw.get() };
        if raw.is_null() {
            return None;
        }
        // SAFETY: the context is live and `raw` was stored by `HPyGlobal_Store`;
        // the result is a new handle (never NULL for a stored global).
        let h = unsafe { sys::HPyGlobal_Load(ctx.as_raw(), raw) };
        if h.is_null() {
            // Not expected; never hand out a NULL handle. Drop whatever the runtime
            // raised: `None` says "no object".
            ctx.err_clear();
            return None;
        }
        // SAFETY: `h` is a new, open handle that we own.
        Some(unsafe { Handle::from_raw(ctx, h) })
    }

    /// The object the global refers to, for as long as the caller keeps it
    /// alive by other means: the global's own reference where the build can
    /// lend it (a CPython-ABI build, where a global is the object pointer),
    /// a new handle, closed on drop, otherwise. `None` for a global never
    /// stored.
    ///
    /// # Safety
    /// The object outlives `'a`: either nothing that could overwrite the
    /// global (Python code) runs while the result is in use, or another
    /// reference keeps the object alive (an instance keeps its class alive).
    #[inline(always)]
    pub(crate) unsafe fn try_lend<'a, 'ctx>(
        &self,
        ctx: &'ctx Context,
    ) -> Option<crate::BorrowedItem<'a, 'ctx>> {
        #[cfg(hpy_abi = "cpython")]
        {
            // SAFETY: as in `is_set`; in a CPython-ABI build a stored global is
            // the object pointer, which the caller promises outlives `'a`.
            let raw = unsafe { *self.raw.get() };
            if raw.is_null() {
                return None;
            }
            // SAFETY: a live object of this interpreter (see above).
            Some(unsafe { crate::BorrowedItem::lent(ctx, sys::HPy { _i: raw._i }) })
        }
        #[cfg(not(hpy_abi = "cpython"))]
        {
            self.try_load(ctx).map(crate::BorrowedItem::owned)
        }
    }

    /// A lazily raised exception whose type is the object in this global (a
    /// custom exception class), with message `msg`: the same as
    /// [`Error::from_global`].
    ///
    /// ```
    /// static MY_ERROR: hpy::Global = hpy::Global::new();
    ///
    /// fn check(n: i64) -> hpy::Result<i64> {
    ///     if n < 0 {
    ///         return Err(MY_ERROR.new_err(format!("negative: {n}")));
    ///     }
    ///     Ok(n)
    /// }
    /// ```
    #[inline]
    pub fn new_err(&'static self, msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
        Error::from_global(self, msg)
    }

    /// The pointer that goes into `HPyModuleDef.globals` (`#[hpy_module]` does
    /// that for every `Global` declared in the module).
    #[inline]
    pub const fn as_ptr(&'static self) -> *mut sys::HPyGlobal {
        self.raw.get()
    }
}

impl Default for Global {
    fn default() -> Self {
        Global::new()
    }
}

impl core::fmt::Debug for Global {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The slot is not read: without a context, the interpreter lock may not
        // be held.
        f.write_str("Global")
    }
}

#[cold]
#[inline(never)]
fn not_stored() -> Error {
    crate::exc::SystemError::new_err("hpy::Global loaded before it was stored")
}

// --- releasing the interpreter lock --------------------------------------------------

impl Context {
    /// Runs `f` with the interpreter lock released (`HPy_LeavePythonExecution`
    /// before, `HPy_ReenterPythonExecution` after), so that other Python
    /// threads run meanwhile: for long computations or blocking I/O that do
    /// not touch Python objects.
    ///
    /// `f` must be `Send`: it cannot capture the context or a handle (both are
    /// `!Send`), so it cannot call into Python while the lock is released.
    /// The lock is taken back even if `f` panics (the panic then goes on, and
    /// the method wrapper raises it as `SystemError`).
    ///
    /// ```
    /// fn checksum(ctx: &hpy::Context, data: &[u8]) -> u64 {
    ///     ctx.allow_threads(|| data.iter().map(|&b| u64::from(b)).sum())
    /// }
    /// ```
    ///
    /// ```compile_fail
    /// fn leak(ctx: &hpy::Context, obj: &hpy::Handle<'_>) {
    ///     ctx.allow_threads(|| obj.is_none()); // a handle is not `Send`
    /// }
    /// ```
    pub fn allow_threads<T, F>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        /// Takes the lock back when dropped, also while unwinding.
        struct Reenter<'c> {
            ctx: &'c Context,
            state: sys::HPyThreadState,
        }
        impl Drop for Reenter<'_> {
            fn drop(&mut self) {
                // SAFETY: `state` came from `HPy_LeavePythonExecution` on this
                // thread and context, and is used exactly once, here.
                unsafe { sys::HPy_ReenterPythonExecution(self.ctx.as_raw(), self.state) }
            }
        }
        // SAFETY: the context is live and this thread holds the lock (it is in a
        // call into the extension); nothing touches Python until `Reenter` runs:
        // `f` cannot reach the context or any handle (`Send`).
        let state = unsafe { sys::HPy_LeavePythonExecution(self.as_raw()) };
        let _reenter = Reenter { ctx: self, state };
        f()
    }
}
