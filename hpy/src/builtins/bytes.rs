//! `bytes`: construction, type check, size and borrowed views.

use core::ffi::CStr;

use super::{exact_type, wrong_type};
use crate::err::{Error, Result, exc::ValueError};
use crate::{Context, Handle, Runtime};
use hpy_sys as sys;

impl Context {
    /// A new `bytes` object holding a copy of `data` (`HPyBytes_FromStringAndSize`).
    ///
    /// ```
    /// fn greeting<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     ctx.new_bytes(b"hello\0world") // NUL bytes are kept
    /// }
    /// ```
    #[inline]
    pub fn new_bytes(&self, data: &[u8]) -> Result<Handle<'_>> {
        // SAFETY: the context is live; `data` is `len` readable bytes (never NULL,
        // even when empty) and a slice never exceeds `isize::MAX` bytes.
        unsafe {
            Handle::from_raw_result(
                self,
                sys::HPyBytes_FromStringAndSize(
                    self.as_raw(),
                    data.as_ptr().cast(),
                    data.len() as sys::HPy_ssize_t,
                ),
            )
        }
    }

    /// A new `bytes` object holding a copy of the C string `s`, without its NUL
    /// terminator (`HPyBytes_FromString`).
    #[inline]
    pub fn new_bytes_from_c_str(&self, s: &CStr) -> Result<Handle<'_>> {
        // SAFETY: the context is live and `s` is NUL-terminated.
        unsafe {
            Handle::from_raw_result(self, sys::HPyBytes_FromString(self.as_raw(), s.as_ptr()))
        }
    }
}

impl<'ctx> Handle<'ctx> {
    /// Whether the object is a `bytes` (or a subclass) (`HPyBytes_Check`).
    #[inline]
    pub fn is_bytes(&self) -> bool {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::HPyBytes_Check(self.ctx.as_raw(), self.raw) != 0 }
    }

    /// The contents of a `bytes` object (or of a subclass), borrowed from the
    /// handle: `HPyBytes_AS_STRING` and the object's own length.
    ///
    /// Anything but `bytes` raises `TypeError` (`expected bytes, got str`).
    ///
    /// The length is never one that Python code chose: a subclass may override
    /// `__len__` to lie or raise, and PyPy's `HPyBytes_GET_SIZE` and
    /// `HPyBytes_Size` call that override; there the length of a subclass
    /// instance is `bytes.__len__(obj)`, which cannot be overridden.
    ///
    /// ```
    /// fn checksum(obj: &hpy::Handle<'_>) -> hpy::Result<u32> {
    ///     let data: &[u8] = obj.as_bytes()?; // valid while `obj` is
    ///     Ok(data.iter().map(|&b| u32::from(b)).sum())
    /// }
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> Result<&[u8]> {
        bytes_view(self)
    }

    /// The length of a `bytes` object (`HPyBytes_Size`); anything else raises
    /// `TypeError` (`expected bytes, got list`).
    #[inline]
    pub fn bytes_len(&self) -> Result<usize> {
        // Checked first: PyPy 7.3.19's `HPyBytes_Size` returns the length of any
        // sized object (a list, a str) instead of raising.
        if !self.is_bytes() {
            return Err(wrong_type("bytes", self));
        }
        let ctx = self.ctx;
        if ctx.runtime() != Runtime::CPython && !exact_type(self, sys::h_BytesType) {
            // See `true_len`: PyPy would measure a subclass by its `__len__`.
            return subclass_len(self);
        }
        // SAFETY: `self` is an open `bytes` (CPython reads its size field for a
        // subclass too; elsewhere it is exactly a `bytes`); -1 means an error.
        let n = unsafe { sys::HPyBytes_Size(ctx.as_raw(), self.raw) };
        usize::try_from(n).map_err(|_| Error::raised())
    }

    /// The contents of a `bytes` object as a C string, borrowed from the handle
    /// (`HPyBytes_AsString` and `HPyBytes_Size`): `bytes` objects always carry a
    /// NUL terminator after their data.
    ///
    /// Anything but `bytes` raises `TypeError`; a NUL byte inside the data raises
    /// `ValueError: embedded null byte`, as CPython does where it needs a C string.
    ///
    /// ```
    /// fn path_arg(obj: &hpy::Handle<'_>) -> hpy::Result<usize> {
    ///     let path: &core::ffi::CStr = obj.bytes_as_c_str()?;
    ///     Ok(path.count_bytes())
    /// }
    /// ```
    pub fn bytes_as_c_str(&self) -> Result<&CStr> {
        // Checked first, for the same message on every runtime (CPython's own
        // says `expected bytes, int found`, PyPy's `expected bytes, got int object`).
        if !self.is_bytes() {
            return Err(wrong_type("bytes", self));
        }
        let ctx = self.ctx.as_raw();
        // SAFETY: the handle is open in the live context.
        let data = unsafe { sys::HPyBytes_AsString(ctx, self.raw) };
        if data.is_null() {
            return Err(Error::raised());
        }
        let len = true_len(self)?;
        // SAFETY: the buffer holds `len` data bytes followed by a NUL (CPython's
        // `ob_sval` always has one; PyPy copies the data into a NUL-terminated
        // buffer tied to the handle), and it lives as long as the handle, which
        // the returned borrow of `self` cannot outlive.
        let with_nul = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len + 1) };
        CStr::from_bytes_with_nul(with_nul).map_err(|_| ValueError::new_err("embedded null byte"))
    }
}

/// The contents of the `bytes` object (or subclass instance) `obj`, borrowed
/// from its handle; `TypeError` for anything else. Sound on every runtime: the
/// length is the object's own (see [`Handle::as_bytes`]).
#[inline]
pub(crate) fn bytes_view<'a>(obj: &'a Handle<'_>) -> Result<&'a [u8]> {
    if !obj.is_bytes() {
        return Err(wrong_type("bytes", obj));
    }
    let ctx = obj.ctx.as_raw();
    // SAFETY: the object is a `bytes`, which is what the unchecked data accessor
    // requires. CPython returns the object's own buffer; PyPy a NUL-terminated
    // copy of the object's real contents (never of what a subclass's methods
    // say), tied to the handle.
    let data = unsafe { sys::HPyBytes_AS_STRING(ctx, obj.raw) };
    if data.is_null() {
        return Err(Error::raised());
    }
    let len = true_len(obj)?;
    // SAFETY: the buffer holds the object's `len` bytes and lives as long as the
    // handle, which the returned borrow of `obj` cannot outlive (HPy's debug
    // mode and PyPy tie it to the handle).
    Ok(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) })
}

/// The real length of the `bytes` object (or subclass instance) `obj`.
///
/// CPython's `HPyBytes_GET_SIZE` reads the object's size field. PyPy's calls
/// `len(obj)`, which runs a subclass's `__len__` (it may lie, raise, or return
/// more than the buffer holds: reading that many bytes would read past the
/// buffer). So on every runtime but CPython a subclass instance is measured
/// by `bytes.__len__(obj)`, which Python code cannot override.
#[inline]
fn true_len(obj: &Handle<'_>) -> Result<usize> {
    let ctx = obj.ctx;
    if ctx.runtime() != Runtime::CPython && !exact_type(obj, sys::h_BytesType) {
        return subclass_len(obj);
    }
    // SAFETY: `obj` is an open `bytes` whose length Python code cannot change.
    let n = unsafe { sys::HPyBytes_GET_SIZE(ctx.as_raw(), obj.raw) };
    usize::try_from(n).map_err(|_| Error::raised())
}

#[cold]
#[inline(never)]
fn subclass_len(obj: &Handle<'_>) -> Result<usize> {
    let len = obj.ctx.bytes_type().get_attr("__len__")?.call1(obj)?;
    len.extract::<usize>()
}
