//! The one place where runtimes disagree on the 0.9.0 context layout.
//!
//! PyPy 7.3.18 and later ship HPy 0.9.1.dev, whose context has one more handle,
//! `h_DictType`, right after `h_Builtins` (ID 243). Every member that hpy 0.9.0
//! numbers 244 and up therefore sits **one slot later** in PyPy's context
//! (compare `hpy/universal/autogen_ctx.h` of the `hpy==0.9.0` package with the
//! one PyPy ships). Both runtimes report ABI version 0.0, so no loader notices:
//! calling `HPy_Call` through the 0.9.0 offset reaches PyPy's
//! `ctx_SetCallFunction` and crashes.
//!
//! [`HPyContext`] keeps the 0.9.0 layout (verified against the C headers); the
//! wrappers of members 244..=262 read their slot through [`late_member`],
//! which adds one slot on runtimes with PyPy's layout. The layout is detected
//! once per process, from members below 244 only.

use core::ffi::c_char;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::{HPy, HPyContext};

/// 0: not detected yet; 1: the 0.9.0 layout; 2: PyPy 7.3.18+'s layout.
static LATE_LAYOUT: AtomicU8 = AtomicU8::new(0);

/// Which layout the contexts of this process have for members 244..=262.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContextLayout {
    /// hpy 0.9.0's layout (CPython with the `hpy` package, PyPy before 7.3.18).
    Hpy090,
    /// PyPy 7.3.18 and later: `h_DictType` at ID 244, later members one slot on.
    PyPy7318,
}

/// The layout of `ctx` for members 244..=262, detected on first use.
///
/// Detection runs once per process (on the first call of a wrapper of such a
/// member, or when the safe layer asks at module initialisation). It reads the
/// context's name and, on PyPy, `sys.pypy_version_info`, through members below
/// 244 only; if that lookup fails, the error is cleared and PyPy's newer layout
/// is assumed.
///
/// # Safety
/// `ctx` must point to the live context of the current call, with no exception
/// set.
pub unsafe fn context_layout(ctx: *mut HPyContext) -> ContextLayout {
    match LATE_LAYOUT.load(Ordering::Relaxed) {
        1 => ContextLayout::Hpy090,
        2 => ContextLayout::PyPy7318,
        // SAFETY: forwarded from the caller.
        _ => unsafe { detect(ctx) },
    }
}

/// Reads a member with `HPy_ID` 244..=262 from the slot where this runtime keeps it.
///
/// `offset` is the member's offset in the 0.9.0 layout; `_type` only names the
/// member's type (the value itself is not used).
///
/// # Safety
/// `ctx` must point to the live context of the current call, and `offset` be the
/// 0.9.0 offset of a member of type `F` with `HPy_ID` 244..=262.
#[inline(always)]
pub unsafe fn late_member<F: Copy>(ctx: *mut HPyContext, offset: usize, _type: F) -> F {
    // SAFETY: forwarded from the caller.
    let shift = match unsafe { context_layout(ctx) } {
        ContextLayout::Hpy090 => 0,
        ContextLayout::PyPy7318 => size_of::<HPy>(),
    };
    // SAFETY: in the detected layout, the member of type `F` lives `shift` bytes
    // after its 0.9.0 offset, inside the runtime's (larger) context.
    unsafe { ctx.cast::<u8>().add(offset + shift).cast::<F>().read() }
}

#[cold]
#[inline(never)]
unsafe fn detect(ctx: *mut HPyContext) -> ContextLayout {
    // SAFETY: the caller guarantees a live context; only members below 244 are used.
    let layout = unsafe {
        if name_contains(ctx, b"PyPy") && pypy_at_least(ctx, (7, 3, 18)) {
            ContextLayout::PyPy7318
        } else {
            ContextLayout::Hpy090
        }
    };
    let code = match layout {
        ContextLayout::Hpy090 => 1,
        ContextLayout::PyPy7318 => 2,
    };
    LATE_LAYOUT.store(code, Ordering::Relaxed);
    layout
}

unsafe fn name_contains(ctx: *mut HPyContext, needle: &[u8]) -> bool {
    // SAFETY: the context's name is NULL or a NUL-terminated static string.
    let name = unsafe { (*ctx).name };
    if name.is_null() {
        return false;
    }
    // SAFETY: as above.
    let name = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    name.windows(needle.len()).any(|w| w == needle)
}

/// Whether `sys.pypy_version_info[:3] >= min`; `true` if it cannot be read.
unsafe fn pypy_at_least(ctx: *mut HPyContext, min: (i64, i64, i64)) -> bool {
    // SAFETY: the context is live; every call is a member below 244;
    // every new handle is closed before returning; errors are cleared.
    unsafe {
        let sys = crate::HPyImport_ImportModule(ctx, c"sys".as_ptr() as *const c_char);
        if sys.is_null() {
            crate::HPyErr_Clear(ctx);
            return true;
        }
        let info = crate::HPy_GetAttr_s(ctx, sys, c"pypy_version_info".as_ptr());
        crate::HPy_Close(ctx, sys);
        if info.is_null() {
            crate::HPyErr_Clear(ctx);
            return true;
        }
        let mut version = [0i64; 3];
        for (i, part) in version.iter_mut().enumerate() {
            let item = crate::HPy_GetItem_i(ctx, info, i as isize);
            if item.is_null() {
                crate::HPyErr_Clear(ctx);
                crate::HPy_Close(ctx, info);
                return true;
            }
            *part = crate::HPyLong_AsInt64_t(ctx, item);
            crate::HPy_Close(ctx, item);
        }
        crate::HPy_Close(ctx, info);
        if crate::HPyErr_Occurred(ctx) != 0 {
            crate::HPyErr_Clear(ctx);
            return true;
        }
        (version[0], version[1], version[2]) >= min
    }
}
