//! Container fast paths beyond HPy 0.9's context, which the safe layer uses
//! in a CPython-ABI build (the universal build does the same work through
//! the context): dict entries without a key list, the items of exact lists
//! and tuples without the sequence protocol, a `str` from UTF-8 of known
//! length without a NUL-terminated copy, a `str` of known-ASCII bytes
//! without a decoder, and a store into an exact dict without the mapping
//! protocol (`HPy_SetItem` itself takes it, in this build and in the
//! runtime's context).
//!
//! Every function is memory-safe for any object and any index: sizes are
//! read from the object at each step (never from a size Python code chose
//! before), and no Python code runs inside.

use pyo3_ffi as ffi;

use super::{api, h2py, py2h};
use crate::{HPy, HPy_ssize_t};

/// Whether `h` is exactly a `dict` (not a subclass).
///
/// # Safety
/// `h` is an open handle; the GIL is held.
#[inline(always)]
pub unsafe fn is_exact_dict(h: HPy) -> bool {
    // SAFETY: forwarded.
    unsafe { ffi::PyDict_CheckExact(h2py(h)) != 0 }
}

/// Whether `h` is exactly a `list` (not a subclass).
///
/// # Safety
/// `h` is an open handle; the GIL is held.
#[inline(always)]
pub unsafe fn is_exact_list(h: HPy) -> bool {
    // SAFETY: forwarded.
    unsafe { ffi::PyList_CheckExact(h2py(h)) != 0 }
}

/// Whether `h` is exactly a `tuple` (not a subclass).
///
/// # Safety
/// `h` is an open handle; the GIL is held.
#[inline(always)]
pub unsafe fn is_exact_tuple(h: HPy) -> bool {
    // SAFETY: forwarded.
    unsafe { ffi::PyTuple_CheckExact(h2py(h)) != 0 }
}

/// Whether `h` is exactly a `str` (not a subclass).
///
/// # Safety
/// `h` is an open handle; the GIL is held.
#[inline(always)]
pub unsafe fn is_exact_str(h: HPy) -> bool {
    // SAFETY: forwarded.
    unsafe { ffi::PyUnicode_CheckExact(h2py(h)) != 0 }
}

/// The next entry of the dict `dict` from position `*pos` (start at 0), as
/// two new handles, or `None` at the end (`PyDict_Next`). Entries added or
/// removed meanwhile may or may not be seen; it never fails.
///
/// # Safety
/// `dict` is an open handle to a `dict` (or a subclass: its own entries);
/// the GIL is held.
#[inline]
pub unsafe fn dict_next(dict: HPy, pos: &mut HPy_ssize_t) -> Option<(HPy, HPy)> {
    // SAFETY: forwarded; the dict's references are made new at once.
    unsafe {
        let (key, value) = dict_next_borrowed(dict, pos)?;
        ffi::Py_INCREF(h2py(key));
        ffi::Py_INCREF(h2py(value));
        Some((key, value))
    }
}

/// [`dict_next`]'s entry as the dict's own references, not new ones: valid
/// while the dict holds them.
///
/// # Safety
/// As [`dict_next`]; the caller uses the handles only while the entry stays
/// in the dict (no Python code runs meanwhile) and never closes them.
#[inline]
pub unsafe fn dict_next_borrowed(dict: HPy, pos: &mut HPy_ssize_t) -> Option<(HPy, HPy)> {
    let mut key = core::ptr::null_mut();
    let mut value = core::ptr::null_mut();
    // SAFETY: `dict` is a dict; `PyDict_Next` checks `*pos` against the
    // table's current size, and gives the dict's references.
    unsafe {
        if ffi::PyDict_Next(h2py(dict), pos, &mut key, &mut value) == 0 {
            return None;
        }
    }
    Some((py2h(key), py2h(value)))
}

/// The item `i` of an exact `list` or `tuple` as the container's own
/// reference (not a new one), `IndexError` past its current end; `None` for
/// anything else (which [`seq_item`] reads through the sequence protocol).
///
/// # Safety
/// `seq` is an open handle; the GIL is held; the caller uses the result
/// only while the item stays in the container (no Python code runs
/// meanwhile) and never closes it.
#[inline]
pub unsafe fn seq_item_borrowed(seq: HPy, i: HPy_ssize_t) -> Option<HPy> {
    let o = h2py(seq);
    // SAFETY: the item is read only below the object's current size.
    unsafe {
        if ffi::PyList_CheckExact(o) != 0 {
            if i < 0 || i >= api::list_size(o) {
                return Some(index_error(c"list index out of range"));
            }
            Some(py2h(api::list_get_item(o, i)))
        } else if ffi::PyTuple_CheckExact(o) != 0 {
            if i < 0 || i >= api::tuple_size(o) {
                return Some(index_error(c"tuple index out of range"));
            }
            Some(py2h(api::tuple_get_item(o, i)))
        } else {
            None
        }
    }
}

/// `seq[i]` as a new handle: for an exact `list` or `tuple` its item read
/// directly (`IndexError` past its current end), for anything else the
/// sequence protocol (`PySequence_GetItem`, which may run Python code).
///
/// # Safety
/// `seq` is an open handle; the GIL is held.
#[inline]
pub unsafe fn seq_item(seq: HPy, i: HPy_ssize_t) -> HPy {
    // SAFETY: forwarded; an item of the container is made new at once.
    unsafe {
        match seq_item_borrowed(seq, i) {
            Some(item) => {
                ffi::Py_XINCREF(h2py(item));
                item
            }
            None => py2h(ffi::PySequence_GetItem(h2py(seq), i)),
        }
    }
}

#[cold]
unsafe fn index_error(message: &core::ffi::CStr) -> HPy {
    // SAFETY: the GIL is held (the callers' contract).
    unsafe { ffi::PyErr_SetString(ffi::PyExc_IndexError, message.as_ptr()) };
    HPy::NULL
}

/// A new `str` of the text `s` (NUL characters included).
///
/// Outside `abi3` the object is made at its final size and kind and filled
/// directly: a pass over `s` finds its largest lead byte, which gives the
/// kind (ASCII, Latin-1, UCS-2 or UCS-4, the canonical one: a lead byte
/// from 0xC4 on means a character beyond U+00FF, from 0xE0 on beyond
/// U+07FF, from 0xF0 on beyond U+FFFF); for anything but ASCII a second one
/// counts its characters, and a third writes them. Each of the first two is
/// one simple fold, which the compiler vectorizes (together in one loop,
/// they went a byte at a time). CPython's decoder
/// (`PyUnicode_FromStringAndSize`, which `abi3` calls) validates the bytes,
/// which a `&str` need not be, and makes a non-Latin-1 text twice (widening
/// its buffer) before shrinking it.
///
/// # Safety
/// The GIL is held.
#[cfg(not(Py_LIMITED_API))]
#[inline]
pub unsafe fn unicode_from_str(s: &str) -> HPy {
    let max = s.bytes().fold(0u8, u8::max);
    if max < 0x80 {
        // SAFETY: the bytes are ASCII; the GIL is held.
        return unsafe { unicode_from_ascii(s.as_ptr(), s.len()) };
    }
    // A byte below 0xC0 that is not ASCII continues a sequence. Counted in
    // bytes per 64-byte chunk (a count of 64-bit lanes goes 4 bytes a step).
    let starts = |chunk: &[u8]| {
        chunk
            .iter()
            .fold(0u8, |n, &b| n + u8::from((b as i8) >= -0x40))
    };
    let mut chunks = s.as_bytes().chunks_exact(64);
    let mut chars = 0usize;
    for chunk in &mut chunks {
        chars += usize::from(starts(chunk));
    }
    chars += usize::from(starts(chunks.remainder()));
    let maxchar: ffi::Py_UCS4 = match max {
        0x80..0xC4 => 0xFF,
        0xC4..0xF0 => 0xFFFF,
        _ => 0x10FFFF,
    };
    // SAFETY: `chars <= s.len() <= isize::MAX`; `PyUnicode_New` makes a
    // compact object of `chars` characters of the kind `maxchar` gives (or
    // NULL with an exception), whose data follows its
    // `PyCompactUnicodeObject` header (not ASCII: `max >= 0x80`); `fill`
    // writes exactly `chars` units, one per character of `s`, and each
    // character fits the kind (see above).
    unsafe {
        let obj = ffi::PyUnicode_New(chars as HPy_ssize_t, maxchar);
        if !obj.is_null() {
            let data = obj.cast::<ffi::PyCompactUnicodeObject>().add(1);
            match maxchar {
                0xFF => fill(s, data.cast::<u8>()),
                0xFFFF => fill(s, data.cast::<u16>()),
                _ => fill(s, data.cast::<u32>()),
            }
        }
        py2h(obj)
    }
}

/// A new `str` of the text `s` (NUL characters included):
/// `PyUnicode_FromStringAndSize`.
///
/// # Safety
/// The GIL is held.
#[cfg(Py_LIMITED_API)]
#[inline]
pub unsafe fn unicode_from_str(s: &str) -> HPy {
    // A `&str` is at most `isize::MAX` bytes.
    let len = s.len() as HPy_ssize_t;
    // SAFETY: `s` is `len` readable bytes; the GIL is held.
    py2h(unsafe { ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), len) })
}

/// Where a `str` keeps its characters (PEP 393): the kind (1, 2 or 4 bytes
/// per character; 0 for 1 when every character is ASCII), the data and the
/// length in characters; `None` for anything but a `str`, and (3.9-3.11)
/// for a legacy string not made ready.
///
/// # Safety
/// `h` is an open handle; the GIL is held. The data lives as long as the
/// object, and never changes (a `str` is immutable once made).
#[cfg(not(any(Py_LIMITED_API, Py_3_14)))]
#[inline]
pub unsafe fn unicode_data(h: HPy) -> Option<(u32, *const core::ffi::c_void, usize)> {
    let o = h2py(h);
    // SAFETY: the representation is read from a `str` only, a ready one
    // before 3.12 (every `str` is from 3.12 on).
    unsafe {
        if ffi::PyUnicode_Check(o) == 0 {
            return None;
        }
        #[cfg(not(Py_3_12))]
        if ffi::PyUnicode_IS_READY(o) == 0 {
            return None;
        }
        let len = ffi::PyUnicode_GET_LENGTH(o) as usize;
        let kind = if ffi::PyUnicode_IS_ASCII(o) != 0 {
            0
        } else {
            ffi::PyUnicode_KIND(o)
        };
        Some((kind, ffi::PyUnicode_DATA(o).cast_const(), len))
    }
}

/// Where a `str` keeps its characters: unknown to an `abi3` build (the
/// limited API hides it) and to a 3.14 one (pyo3-ffi leaves its layout out).
///
/// # Safety
/// None (the signature of the per-version function).
#[cfg(any(Py_LIMITED_API, Py_3_14))]
#[inline]
pub unsafe fn unicode_data(_h: HPy) -> Option<(u32, *const core::ffi::c_void, usize)> {
    None
}

/// A code unit of a `str`'s data: a character, truncated to the unit.
#[cfg(not(Py_LIMITED_API))]
trait Unit: Copy {
    fn of(c: char) -> Self;

    /// An ASCII byte as a unit.
    fn ascii(b: u8) -> Self;

    /// Writes the 16 bytes at `src` as 16 units at `dst`.
    ///
    /// # Safety
    /// `src` is valid for reading 16 bytes, `dst` for writing 16 units.
    #[inline(always)]
    unsafe fn widen16(src: *const u8, dst: *mut Self) {
        for k in 0..16 {
            // SAFETY: `k < 16` (the caller's room).
            unsafe { dst.add(k).write(Self::ascii(*src.add(k))) }
        }
    }
}

#[cfg(not(Py_LIMITED_API))]
impl Unit for u8 {
    #[inline(always)]
    fn of(c: char) -> Self {
        c as u8
    }

    #[inline(always)]
    fn ascii(b: u8) -> Self {
        b
    }

    #[inline(always)]
    unsafe fn widen16(src: *const u8, dst: *mut u8) {
        // SAFETY: 16 bytes each way (the caller's guarantee).
        unsafe { core::ptr::copy_nonoverlapping(src, dst, 16) }
    }
}

#[cfg(not(Py_LIMITED_API))]
impl Unit for u16 {
    #[inline(always)]
    fn of(c: char) -> Self {
        c as u16
    }

    #[inline(always)]
    fn ascii(b: u8) -> Self {
        b.into()
    }

    /// Two unpacks with zero (the loop compiles to byte extractions).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn widen16(src: *const u8, dst: *mut u16) {
        use core::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86-64; 16 bytes are read at `src` and 32
        // written at `dst` (the caller's guarantee), unaligned.
        unsafe {
            let v = _mm_loadu_si128(src.cast());
            let zero = _mm_setzero_si128();
            _mm_storeu_si128(dst.cast(), _mm_unpacklo_epi8(v, zero));
            _mm_storeu_si128(dst.add(8).cast(), _mm_unpackhi_epi8(v, zero));
        }
    }
}

#[cfg(not(Py_LIMITED_API))]
impl Unit for u32 {
    #[inline(always)]
    fn of(c: char) -> Self {
        c as u32
    }

    #[inline(always)]
    fn ascii(b: u8) -> Self {
        b.into()
    }
}

/// Writes the characters of `s` as units of `T` at `dst`: ASCII 16 bytes at
/// a time (widened in registers), the rest of a run of other characters one
/// at a time.
///
/// # Safety
/// `dst` is valid for writing one `T` per character of `s`.
#[cfg(not(Py_LIMITED_API))]
#[inline(always)]
unsafe fn fill<T: Unit>(s: &str, dst: *mut T) {
    const BLOCK: usize = 16;
    let bytes = s.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    let mut d = dst;
    // SAFETY: one unit is written per character of `s` (an ASCII byte is a
    // character), within the caller's room. `i` only ever moves to the
    // start of a character: by a whole block of ASCII bytes, by one ASCII
    // byte, or past a whole character (`len_utf8`), so `s[i..]` is a valid
    // `&str` and its first `char` exists while `i < n`.
    unsafe {
        while i < n {
            if i + BLOCK <= n {
                let src = bytes.as_ptr().add(i);
                let lo = src.cast::<u64>().read_unaligned();
                let hi = src.add(8).cast::<u64>().read_unaligned();
                if (lo | hi) & 0x8080_8080_8080_8080 == 0 {
                    T::widen16(src, d);
                    i += BLOCK;
                    d = d.add(BLOCK);
                    continue;
                }
            }
            // One character, then the rest of its run of non-ASCII ones.
            loop {
                let c = s.get_unchecked(i..).chars().next().unwrap_unchecked();
                d.write(T::of(c));
                d = d.add(1);
                i += c.len_utf8();
                if i == n || *bytes.get_unchecked(i) < 0x80 {
                    break;
                }
            }
            // And the ASCII bytes up to the next multiple of 16 bytes into
            // the text, one at a time (mixed text would fail a block test
            // per character; a long run goes back to blocks there).
            while i < n && i % BLOCK != 0 && *bytes.get_unchecked(i) < 0x80 {
                d.write(T::ascii(*bytes.get_unchecked(i)));
                d = d.add(1);
                i += 1;
            }
        }
    }
}

/// A new `str` from `len` bytes of ASCII at `s`, copied in without the
/// decoder's scan: `PyUnicode_New` and a copy into the compact ASCII
/// object's data (in an `abi3` build, `PyUnicode_DecodeASCII`, which checks).
///
/// # Safety
/// `s` is valid for reading `len` bytes, all below 0x80; the GIL is held.
#[inline]
pub unsafe fn unicode_from_ascii(s: *const u8, len: usize) -> HPy {
    let Ok(n) = HPy_ssize_t::try_from(len) else {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPy::NULL;
    };
    #[cfg(not(Py_LIMITED_API))]
    // SAFETY: `PyUnicode_New(n, 127)` makes a compact ASCII object (or
    // returns NULL with an exception set), whose `n` characters (and a NUL)
    // follow its `PyASCIIObject` header; the caller guarantees `len` ASCII
    // bytes at `s`, so the object holds a valid `str`.
    unsafe {
        let obj = ffi::PyUnicode_New(n, 127);
        if !obj.is_null() {
            let data = obj.cast::<ffi::PyASCIIObject>().add(1).cast::<u8>();
            core::ptr::copy_nonoverlapping(s, data, len);
        }
        py2h(obj)
    }
    #[cfg(Py_LIMITED_API)]
    // SAFETY: forwarded; a NULL error handler means "strict".
    py2h(unsafe { ffi::PyUnicode_DecodeASCII(s.cast(), n, core::ptr::null()) })
}

/// A new compact ASCII `str` of `cap` characters whose contents are not set
/// yet: the storage of a text written in place ([`ascii_buffer_resize`]
/// grows and shrinks it, [`ascii_buffer_data`] is where its bytes go). It
/// becomes a valid `str` once it is resized to the length written and every
/// byte written is ASCII; until then it must not reach Python code. NULL
/// with an exception (`MemoryError`) on failure. `cap` must be at least 1:
/// an empty `str` is a shared object, no buffer.
///
/// # Safety
/// The GIL is held; `cap >= 1`.
#[cfg(not(Py_LIMITED_API))]
#[inline]
pub unsafe fn ascii_buffer_new(cap: usize) -> HPy {
    debug_assert!(cap >= 1);
    let Ok(n) = HPy_ssize_t::try_from(cap) else {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPy::NULL;
    };
    // SAFETY: the GIL is held; `PyUnicode_New(n, 127)` with `n >= 1` makes a
    // new compact ASCII object of its own (or fails with an exception).
    py2h(unsafe { ffi::PyUnicode_New(n, 127) })
}

/// Where the characters of an ASCII buffer start: its first byte, after the
/// `PyASCIIObject` header; `len` bytes (and a NUL) are writable there.
/// Valid until the buffer is resized.
///
/// # Safety
/// `h` is a buffer from [`ascii_buffer_new`], resized by
/// [`ascii_buffer_resize`] only.
#[cfg(not(Py_LIMITED_API))]
#[inline(always)]
pub unsafe fn ascii_buffer_data(h: HPy) -> *mut u8 {
    // SAFETY: a compact ASCII object's characters follow its header.
    unsafe { h2py(h).cast::<ffi::PyASCIIObject>().add(1).cast::<u8>() }
}

/// Resizes an ASCII buffer to `len` characters (`PyUnicode_Resize`): the
/// first `min(len, old length)` bytes are kept; the object may move, and
/// `*h` then names the new one. On failure `false` with an exception set
/// and `*h` untouched (still the caller's). `len == 0` gives the shared
/// empty `str`; only the last resize of a buffer may ask for it.
///
/// # Safety
/// The GIL is held; `*h` is a buffer from [`ascii_buffer_new`] that only its
/// owner knows (one reference, never hashed or interned: `PyUnicode_Resize`
/// resizes such an object in place, it copies no other).
#[cfg(not(Py_LIMITED_API))]
#[inline]
pub unsafe fn ascii_buffer_resize(h: &mut HPy, len: usize) -> bool {
    let Ok(n) = HPy_ssize_t::try_from(len) else {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_NoMemory() };
        return false;
    };
    let mut obj = h2py(*h);
    // SAFETY: forwarded; on failure CPython leaves `obj` as it was.
    if unsafe { ffi::PyUnicode_Resize(&mut obj, n) } != 0 {
        return false;
    }
    *h = py2h(obj);
    true
}

/// `HPy_SetItem` of an exact `dict` (and a value): `PyDict_SetItem`, without
/// `PyObject_SetItem`'s trip through the mapping slot (which an exact dict
/// fills with the same call); anything else through `PyObject_SetItem`.
///
/// # Safety
/// The handles are open (`value` may be NULL: `PyObject_SetItem` then
/// raises `SystemError`); the GIL is held.
#[inline(always)]
pub unsafe fn set_item(obj: HPy, key: HPy, value: HPy) -> core::ffi::c_int {
    let (o, k, v) = (h2py(obj), h2py(key), h2py(value));
    // SAFETY: forwarded; an exact dict's `mp_ass_subscript` is
    // `PyDict_SetItem` for a non-NULL value.
    unsafe {
        if ffi::PyDict_CheckExact(o) != 0 && !v.is_null() {
            ffi::PyDict_SetItem(o, k, v)
        } else {
            ffi::PyObject_SetItem(o, k, v)
        }
    }
}
