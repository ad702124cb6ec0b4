//! The buffer protocol of classes: `__getbuffer__`.
//!
//! A class exports memory of its struct with
//!
//! ```ignore
//! fn __getbuffer__(&self) -> &[f64]          // read-only
//! fn __getbuffer__(&mut self) -> &mut [u8]   // writable
//! ```
//!
//! (or a `Result` of either). The borrow the method gets is kept for as long
//! as the buffer is exported, and given back by `bf_releasebuffer`: while a
//! `memoryview` of the struct lives, no `&mut self` method can run (they
//! raise `RuntimeError: Already borrowed`, as `bytearray` raises
//! `BufferError` for a resize), so the memory stays where it is and
//! unchanged by Rust. The object itself stays alive through the view.

use core::ffi::{CStr, c_int, c_void};

use super::sys;
use crate::class::Class;
use crate::err::{Error, Result, exc};
use crate::impl_::ClassObject;
use crate::{Context, Handle};

// CPython's `PyBUF_*` request flags (`Include/pybuffer.h`, part of the stable
// ABI; PyPy uses the same values). HPy 0.9 has no names for them.
const PYBUF_WRITABLE: c_int = 0x0001;
const PYBUF_FORMAT: c_int = 0x0004;
const PYBUF_ND: c_int = 0x0008;
const PYBUF_STRIDES: c_int = 0x0010 | PYBUF_ND;

/// A type whose slices a class may export as a buffer: a number with a
/// `struct`-module format code.
///
/// # Safety
///
/// `FORMAT` describes the type's native layout, and every bit pattern of
/// its size is a valid value (Python may write any bytes into a writable
/// buffer).
pub unsafe trait BufferElement: Copy + 'static {
    /// The `struct`-module format of one item (`"d"` for `f64`).
    const FORMAT: &'static CStr;
}

macro_rules! buffer_elements {
    ($($t:ty => $f:literal),* $(,)?) => {$(
        // SAFETY: a plain number of the format's native size, valid for any bits.
        unsafe impl BufferElement for $t {
            const FORMAT: &'static CStr = $f;
        }
    )*};
}

buffer_elements! {
    u8 => c"B", i8 => c"b", u16 => c"H", i16 => c"h", u32 => c"I", i32 => c"i",
    u64 => c"Q", i64 => c"q", usize => c"N", isize => c"n", f32 => c"f", f64 => c"d",
}

/// What a `__getbuffer__` method returns: a slice of its struct (`&[T]`
/// read-only, `&mut [T]` writable), or a `Result` of one.
#[diagnostic::on_unimplemented(
    message = "`__getbuffer__` returns `{Self}`, which is no buffer",
    label = "not a slice of numbers",
    note = "`__getbuffer__` returns `&[T]` (read-only) or `&mut [T]` (writable) for a number type `T` (`hpy::BufferElement`), or a `Result` of one"
)]
pub trait IntoBuffer {
    /// The memory, its item format, and whether it is read-only.
    fn into_buffer(self) -> Result<BufferParts>;
}

/// The memory a `__getbuffer__` exports.
#[derive(Debug)]
pub struct BufferParts {
    ptr: *mut c_void,
    items: usize,
    itemsize: usize,
    format: &'static CStr,
    readonly: bool,
}

impl<T: BufferElement> IntoBuffer for &[T] {
    #[inline]
    fn into_buffer(self) -> Result<BufferParts> {
        Ok(BufferParts {
            ptr: self.as_ptr() as *mut c_void,
            items: self.len(),
            itemsize: size_of::<T>(),
            format: T::FORMAT,
            readonly: true,
        })
    }
}

impl<T: BufferElement> IntoBuffer for &mut [T] {
    #[inline]
    fn into_buffer(self) -> Result<BufferParts> {
        Ok(BufferParts {
            ptr: self.as_mut_ptr().cast(),
            items: self.len(),
            itemsize: size_of::<T>(),
            format: T::FORMAT,
            readonly: false,
        })
    }
}

impl<B: IntoBuffer, E: Into<Error>> IntoBuffer for core::result::Result<B, E> {
    #[inline]
    fn into_buffer(self) -> Result<BufferParts> {
        self.map_err(Into::into)?.into_buffer()
    }
}

/// Fills `view` with `parts` for a request with `flags` (on CPython, the
/// shape and strides live in a small allocation that `release` frees; PyPy
/// copies them at once, and computes them itself from NULL for one
/// dimension).
///
/// # Safety
/// `view` is the `HPy_buffer` the runtime passed to `bf_getbuffer`.
pub unsafe fn fill_buffer(
    ctx: &Context,
    slf: &Handle<'_>,
    view: *mut sys::HPy_buffer,
    flags: c_int,
    parts: BufferParts,
) -> Result<()> {
    if flags & PYBUF_WRITABLE != 0 && parts.readonly {
        return Err(exc::BufferError::new_err("Object is not writable."));
    }
    let items = isize::try_from(parts.items).unwrap_or(isize::MAX);
    let itemsize = isize::try_from(parts.itemsize).unwrap_or(isize::MAX);
    let (mut shape, mut strides, mut internal) = (
        core::ptr::null_mut::<isize>(),
        core::ptr::null_mut::<isize>(),
        core::ptr::null_mut::<c_void>(),
    );
    if ctx.runtime() == crate::Runtime::CPython && flags & PYBUF_ND == PYBUF_ND {
        let dims = Box::into_raw(Box::new([items, itemsize]));
        internal = dims.cast();
        shape = dims.cast();
        if flags & PYBUF_STRIDES == PYBUF_STRIDES {
            // SAFETY: `dims` holds two values.
            strides = unsafe { dims.cast::<isize>().add(1) };
        }
    }
    // SAFETY: the runtime passed a writable `HPy_buffer`; `obj` gets a new
    // handle, which the runtime takes over.
    unsafe {
        *view = sys::HPy_buffer {
            buf: parts.ptr,
            obj: slf.dup().into_raw(),
            len: items.saturating_mul(itemsize),
            itemsize,
            readonly: c_int::from(parts.readonly),
            ndim: 1,
            format: if flags & PYBUF_FORMAT == PYBUF_FORMAT {
                parts.format.as_ptr() as *mut _
            } else {
                core::ptr::null_mut()
            },
            shape,
            strides,
            suboffsets: core::ptr::null_mut(),
            internal,
        };
    }
    Ok(())
}

/// `bf_releasebuffer` of a class: gives back the borrow of the struct that
/// the export kept, and frees the shape (CPython).
///
/// # Safety
/// Called by the runtime as an `HPyFunc_RELEASEBUFFERPROC` of `T`, once per
/// successful `bf_getbuffer`.
pub unsafe extern "C" fn release_buffer<T: Class>(
    ctx: *mut sys::HPyContext,
    slf: sys::HPy,
    view: *mut sys::HPy_buffer,
) {
    // SAFETY: the runtime calls this with the call's context and the
    // exporting object (and, on CPython, the view it got back: PyPy passes
    // a view whose `internal` it did not keep, so it is not read there).
    unsafe {
        super::run_inquiry(ctx, T::NAME, |ctx| {
            if ctx.runtime() == crate::Runtime::CPython && !(*view).internal.is_null() {
                drop(Box::from_raw((*view).internal.cast::<[isize; 2]>()));
                (*view).internal = core::ptr::null_mut();
            }
            let obj = super::borrow_arg(ctx, slf);
            ClassObject::<T>::of(&obj)?.release_export();
            Ok(())
        });
    }
}

/// The `HPy_bf_releasebuffer` slot of `T`.
pub const fn release_buffer_def<T: Class>() -> super::StaticDef {
    type Impl = unsafe extern "C" fn(*mut sys::HPyContext, sys::HPy, *mut sys::HPy_buffer);
    type Tramp = unsafe extern "C" fn(*mut sys::cpy_PyObject, *mut sys::cpy_Py_buffer);
    unsafe extern "C" fn trampoline<T: Class>(
        slf: *mut sys::cpy_PyObject,
        view: *mut sys::cpy_Py_buffer,
    ) {
        let mut a = sys::_HPyFunc_args_RELEASEBUFFERPROC { self_: slf, view };
        // SAFETY: CPython calls this as `bf_releasebuffer`; `a` is the argument
        // struct of the signature.
        unsafe {
            sys::_HPy_CallRealFunctionFromTrampoline(
                super::trampoline_context(),
                sys::HPyFunc_RELEASEBUFFERPROC,
                Some(core::mem::transmute::<
                    Impl,
                    unsafe extern "C" fn() -> *mut c_void,
                >(release_buffer::<T>)),
                (&raw mut a).cast(),
            )
        };
    }
    // SAFETY: the runtime calls the impl back as an `HPyFunc_RELEASEBUFFERPROC`
    // and CPython the trampoline as `bf_releasebuffer`: their real signatures.
    unsafe {
        super::StaticDef::slot(
            sys::HPy_bf_releasebuffer,
            Some(core::mem::transmute::<
                Impl,
                unsafe extern "C" fn() -> *mut c_void,
            >(release_buffer::<T>)),
            Some(core::mem::transmute::<
                Tramp,
                unsafe extern "C" fn(
                    *mut sys::cpy_PyObject,
                    *const *mut sys::cpy_PyObject,
                    isize,
                ) -> *mut sys::cpy_PyObject,
            >(trampoline::<T>)),
        )
    }
}

/// `(HPyCFunction)impl` for an `HPyFunc_GETBUFFERPROC` impl.
pub const fn erase_getbuffer(
    f: unsafe extern "C" fn(*mut sys::HPyContext, sys::HPy, *mut sys::HPy_buffer, c_int) -> c_int,
) -> sys::HPyCFunction {
    // SAFETY: the runtime calls it back with the signature stored next to it.
    Some(unsafe {
        core::mem::transmute::<
            unsafe extern "C" fn(
                *mut sys::HPyContext,
                sys::HPy,
                *mut sys::HPy_buffer,
                c_int,
            ) -> c_int,
            unsafe extern "C" fn() -> *mut c_void,
        >(f)
    })
}

/// `(cpy_PyCFunction)trampoline` for a `bf_getbuffer` trampoline.
pub const fn erase_getbuffer_trampoline(
    f: unsafe extern "C" fn(*mut sys::cpy_PyObject, *mut sys::cpy_Py_buffer, c_int) -> c_int,
) -> sys::cpy_PyCFunction {
    // SAFETY: CPython calls it as `bf_getbuffer`, the signature it has.
    Some(unsafe {
        core::mem::transmute::<
            unsafe extern "C" fn(*mut sys::cpy_PyObject, *mut sys::cpy_Py_buffer, c_int) -> c_int,
            unsafe extern "C" fn(
                *mut sys::cpy_PyObject,
                *const *mut sys::cpy_PyObject,
                isize,
            ) -> *mut sys::cpy_PyObject,
        >(f)
    })
}

/// Body of a `bf_getbuffer` trampoline.
///
/// # Safety
/// Called by CPython as `bf_getbuffer`.
#[inline(always)]
pub unsafe fn trampoline_getbuffer(
    slf: *mut sys::cpy_PyObject,
    view: *mut sys::cpy_Py_buffer,
    flags: c_int,
    impl_: unsafe extern "C" fn(
        *mut sys::HPyContext,
        sys::HPy,
        *mut sys::HPy_buffer,
        c_int,
    ) -> c_int,
) -> c_int {
    let mut a = sys::_HPyFunc_args_GETBUFFERPROC {
        self_: slf,
        view,
        flags,
        result: 0,
    };
    // SAFETY: `a` is the argument struct of the signature, `impl_` an impl of it.
    unsafe {
        sys::_HPy_CallRealFunctionFromTrampoline(
            super::trampoline_context(),
            sys::HPyFunc_GETBUFFERPROC,
            erase_getbuffer(impl_),
            (&raw mut a).cast(),
        )
    };
    a.result
}
