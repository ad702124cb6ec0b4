//! `bytes`: construction, type check, size and borrowed views.

use core::ffi::CStr;

use super::wrong_type;
use crate::err::{Error, Result, exc::ValueError};
use crate::{Context, Handle};
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

    /// The contents of a `bytes` object, borrowed from the handle (no copy):
    /// `HPyBytes_Check`, then `HPyBytes_GET_SIZE` and `HPyBytes_AS_STRING`.
    ///
    /// Anything but `bytes` raises `TypeError` (`expected bytes, got str`).
    ///
    /// ```
    /// fn checksum(obj: &hpy::Handle<'_>) -> hpy::Result<u32> {
    ///     let data: &[u8] = obj.as_bytes()?; // valid while `obj` is
    ///     Ok(data.iter().map(|&b| u32::from(b)).sum())
    /// }
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> Result<&[u8]> {
        if !self.is_bytes() {
            return Err(wrong_type("bytes", self));
        }
        let ctx = self.ctx.as_raw();
        // SAFETY: the object is a `bytes` (checked above), which is what the
        // unchecked size and data accessors require; the buffer holds `len` bytes
        // and lives as long as the handle, which the returned borrow of `self`
        // cannot outlive (HPy's debug mode and PyPy tie it to the handle).
        unsafe {
            let len = sys::HPyBytes_GET_SIZE(ctx, self.raw);
            let data = sys::HPyBytes_AS_STRING(ctx, self.raw);
            Ok(core::slice::from_raw_parts(data.cast::<u8>(), len as usize))
        }
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
        // SAFETY: the handle is open in the live context.
        let n = unsafe { sys::HPyBytes_Size(self.ctx.as_raw(), self.raw) };
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
        // SAFETY: as above.
        let len = unsafe { sys::HPyBytes_Size(ctx, self.raw) };
        let Ok(len) = usize::try_from(len) else {
            return Err(Error::raised());
        };
        // SAFETY: the buffer holds `len` data bytes followed by a NUL (CPython's
        // `ob_sval` always has one; PyPy copies the data into a NUL-terminated
        // buffer tied to the handle), and it lives as long as the handle, which
        // the returned borrow of `self` cannot outlive.
        let with_nul = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len + 1) };
        CStr::from_bytes_with_nul(with_nul).map_err(|_| ValueError::new_err("embedded null byte"))
    }
}
