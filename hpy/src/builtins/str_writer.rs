//! [`StrWriter`]: text written byte by byte that becomes a `str`, in a
//! CPython-ABI build without the copy a `Vec<u8>` would need.

use crate::err::{Result, exc::MemoryError};
use crate::{Context, Handle};
#[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
use crate::{Error, sys};

/// A growable buffer of UTF-8 (or ASCII) bytes that becomes a `str`: the
/// output of an encoder or formatter that builds one text piece by piece.
///
/// It works as a `Vec<u8>` does (`push`, `extend_from_slice`, `reserve`,
/// and writes through [`as_mut_ptr`](Self::as_mut_ptr) past
/// [`len`](Self::len) then [`set_len`](Self::set_len)), with two
/// differences: growing it never aborts (a failed allocation is
/// `MemoryError`, so the growing methods return `Result`), and in a
/// per-version CPython-ABI build the bytes are written into the storage of
/// the `str` object itself, so that [`into_str`](Self::into_str) of ASCII
/// text copies nothing: the object is shrunk to the length written and
/// returned (the way `str.join` fills the `str` it returns; from 1 MiB on
/// the text is copied, which keeps the C allocator from mapping fresh pages
/// for every large buffer). Elsewhere (the
/// universal build, `abi3`) the bytes are in a `Vec<u8>` and the `str` is
/// made from them at the end.
///
/// ```
/// fn csv_line<'py>(ctx: &'py hpy::Context, cells: &[&str]) -> hpy::Result<hpy::Handle<'py>> {
///     let mut out = ctx.str_writer(64)?;
///     for (i, cell) in cells.iter().enumerate() {
///         if i > 0 {
///             out.push(b',')?;
///         }
///         out.extend_from_slice(cell.as_bytes())?;
///     }
///     out.into_str()
/// }
/// ```
pub struct StrWriter<'ctx> {
    ctx: &'ctx Context,
    /// The compact ASCII `str` whose characters are the buffer: `cap` of
    /// them, the first `len` written. Only this writer knows the object.
    #[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
    obj: sys::HPy,
    /// Where the object's characters start (moves when it is resized).
    #[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
    data: *mut u8,
    #[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
    len: usize,
    #[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
    cap: usize,
    #[cfg(not(all(hpy_abi = "cpython", not(hpy_abi = "abi3"))))]
    buf: Vec<u8>,
}

impl core::fmt::Debug for StrWriter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StrWriter")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A new, empty [`StrWriter`] with room for `capacity` bytes (at least
    /// one). `MemoryError` if that cannot be had.
    pub fn str_writer(&self, capacity: usize) -> Result<StrWriter<'_>> {
        StrWriter::with_capacity(self, capacity)
    }
}

/// From this length on, `into_ascii_str_unchecked` copies the text into a
/// new `str` (and frees the buffer) instead of shrinking the buffer in
/// place. A large buffer shrunk in place and freed later lowers glibc's
/// mmap threshold to the shrunk size, so the next large buffer is mapped
/// afresh at every growth (page faults and copies inside `realloc`): that
/// made a 10 MB `dumps` 19% slower than copying its text, where below 1 MiB
/// the copy is what costs (0.57 M of twitter's 5.23 M instructions).
#[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
const COPY_FROM: usize = 1 << 20;

#[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
impl<'ctx> StrWriter<'ctx> {
    fn with_capacity(ctx: &'ctx Context, capacity: usize) -> Result<Self> {
        let cap = capacity.max(1);
        // SAFETY: the context is live (the GIL is held); `cap >= 1`.
        let obj = unsafe { sys::cpython::fast::ascii_buffer_new(cap) };
        if obj.is_null() {
            return Err(Error::raised());
        }
        Ok(StrWriter {
            ctx,
            obj,
            // SAFETY: `obj` is a new buffer.
            data: unsafe { sys::cpython::fast::ascii_buffer_data(obj) },
            len: 0,
            cap,
        })
    }

    /// The number of bytes written.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// How many bytes fit before the buffer must grow.
    #[inline(always)]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The bytes written.
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `data` holds `cap >= len` bytes, the first `len` written.
        unsafe { core::slice::from_raw_parts(self.data, self.len) }
    }

    /// The start of the buffer: the bytes written, then `capacity() - len()`
    /// bytes to write into before [`set_len`](Self::set_len). Valid until
    /// the writer grows (any method taking `&mut self` but `set_len`).
    #[inline(always)]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.data
    }

    /// Sets the number of bytes written.
    ///
    /// # Safety
    /// `new_len <= capacity()`, and the first `new_len` bytes are written.
    #[inline(always)]
    pub unsafe fn set_len(&mut self, new_len: usize) {
        debug_assert!(new_len <= self.cap);
        self.len = new_len;
    }

    /// Makes room for at least `additional` more bytes (`MemoryError` if
    /// that cannot be had).
    #[inline(always)]
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        if self.cap - self.len < additional {
            return self.grow(additional);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) -> Result<()> {
        let need = self
            .len
            .checked_add(additional)
            .ok_or_else(|| MemoryError::new_err(""))?;
        let cap = need.max(self.cap.saturating_mul(2));
        // SAFETY: the buffer is this writer's alone; `cap >= 1`.
        if !unsafe { sys::cpython::fast::ascii_buffer_resize(&mut self.obj, cap) } {
            return Err(Error::raised());
        }
        self.cap = cap;
        // SAFETY: the buffer, resized.
        self.data = unsafe { sys::cpython::fast::ascii_buffer_data(self.obj) };
        Ok(())
    }

    /// The `str` of the ASCII bytes written, without a copy: the buffer
    /// object itself, shrunk to the length written (from 1 MiB on, a copy:
    /// see `COPY_FROM`).
    ///
    /// # Safety
    /// Every byte written is below 0x80.
    pub unsafe fn into_ascii_str_unchecked(self) -> Result<Handle<'ctx>> {
        if self.len >= COPY_FROM {
            // SAFETY: forwarded; the buffer is dropped after the copy.
            return unsafe { self.ctx.new_str_from_ascii_unchecked(self.as_bytes()) };
        }
        let this = core::mem::ManuallyDrop::new(self);
        let mut obj = this.obj;
        // SAFETY: the buffer is this writer's alone (it is not dropped: the
        // reference goes to the result, or is released below on failure).
        if !unsafe { sys::cpython::fast::ascii_buffer_resize(&mut obj, this.len) } {
            // SAFETY: the buffer's reference, untouched by the failed resize.
            drop(unsafe { Handle::from_raw(this.ctx, obj) });
            return Err(Error::raised());
        }
        // SAFETY: `len` ASCII bytes written (the caller's contract): a valid
        // `str`, whose reference is now the handle's.
        Ok(unsafe { Handle::from_raw(this.ctx, obj) })
    }
}

impl Drop for StrWriter<'_> {
    #[inline]
    fn drop(&mut self) {
        #[cfg(all(hpy_abi = "cpython", not(hpy_abi = "abi3")))]
        // SAFETY: the buffer's one reference; no Python code runs when a
        // `str` is freed.
        drop(unsafe { Handle::from_raw(self.ctx, self.obj) });
    }
}

#[cfg(not(all(hpy_abi = "cpython", not(hpy_abi = "abi3"))))]
impl<'ctx> StrWriter<'ctx> {
    fn with_capacity(ctx: &'ctx Context, capacity: usize) -> Result<Self> {
        let mut buf = Vec::new();
        buf.try_reserve(capacity.max(1))
            .map_err(|_| MemoryError::new_err(""))?;
        Ok(StrWriter { ctx, buf })
    }

    /// The number of bytes written.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// How many bytes fit before the buffer must grow.
    #[inline(always)]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The bytes written.
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The start of the buffer: the bytes written, then `capacity() - len()`
    /// bytes to write into before [`set_len`](Self::set_len). Valid until
    /// the writer grows (any method taking `&mut self` but `set_len`).
    #[inline(always)]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.buf.as_mut_ptr()
    }

    /// Sets the number of bytes written.
    ///
    /// # Safety
    /// `new_len <= capacity()`, and the first `new_len` bytes are written.
    #[inline(always)]
    pub unsafe fn set_len(&mut self, new_len: usize) {
        // SAFETY: forwarded.
        unsafe { self.buf.set_len(new_len) }
    }

    /// Makes room for at least `additional` more bytes (`MemoryError` if
    /// that cannot be had).
    #[inline(always)]
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        if self.buf.capacity() - self.buf.len() < additional {
            return self.grow(additional);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) -> Result<()> {
        self.buf
            .try_reserve(additional)
            .map_err(|_| MemoryError::new_err(""))
    }

    /// The `str` of the ASCII bytes written.
    ///
    /// # Safety
    /// Every byte written is below 0x80.
    pub unsafe fn into_ascii_str_unchecked(self) -> Result<Handle<'ctx>> {
        // SAFETY: forwarded.
        unsafe { self.ctx.new_str_from_ascii_unchecked(&self.buf) }
    }
}

impl<'ctx> StrWriter<'ctx> {
    /// Whether nothing is written yet.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one byte.
    #[inline(always)]
    pub fn push(&mut self, byte: u8) -> Result<()> {
        self.reserve(1)?;
        let len = self.len();
        // SAFETY: `reserve` made room for one byte at `len`.
        unsafe {
            self.as_mut_ptr().add(len).write(byte);
            self.set_len(len + 1);
        }
        Ok(())
    }

    /// Appends bytes.
    #[inline(always)]
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<()> {
        self.reserve(bytes.len())?;
        let len = self.len();
        // SAFETY: `reserve` made room for `bytes.len()` bytes at `len`; a
        // `&[u8]` cannot alias the writer's buffer (that takes `&self`).
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.as_mut_ptr().add(len), bytes.len());
            self.set_len(len + bytes.len());
        }
        Ok(())
    }

    /// Makes `new_len` bytes written: appends copies of `byte`, or forgets
    /// the bytes from `new_len` on (`Vec::resize`).
    pub fn resize(&mut self, new_len: usize, byte: u8) -> Result<()> {
        let len = self.len();
        if new_len > len {
            self.reserve(new_len - len)?;
            // SAFETY: `reserve` made room for the bytes up to `new_len`.
            unsafe {
                core::ptr::write_bytes(self.as_mut_ptr().add(len), byte, new_len - len);
            }
        }
        // SAFETY: `new_len <= capacity()`; every byte below it is written.
        unsafe { self.set_len(new_len) };
        Ok(())
    }

    /// Forgets the bytes written from `len` on (nothing if there are fewer).
    #[inline(always)]
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            // SAFETY: fewer bytes than are written.
            unsafe { self.set_len(len) }
        }
    }

    /// The `str` of the bytes written, read as UTF-8: ASCII text without a
    /// copy in a per-version CPython-ABI build (see [`StrWriter`]); other
    /// text is decoded into a new `str`. Bytes that are not UTF-8 raise
    /// `UnicodeDecodeError`, as `bytes.decode()` does.
    pub fn into_str(self) -> Result<Handle<'ctx>> {
        let bytes = self.as_bytes();
        if bytes.is_ascii() {
            // SAFETY: just checked.
            return unsafe { self.into_ascii_str_unchecked() };
        }
        match core::str::from_utf8(bytes) {
            Ok(text) => self.ctx.new_str(text),
            Err(_) => Err(super::unicode::decode_error(self.ctx, bytes, "utf-8")),
        }
    }
}
