//! `str`: construction, decoding, encoding, characters and substrings.

use core::ffi::{CStr, c_char};

use super::{descriptor_error, ssize, wrong_type};
use crate::err::{Error, Result, exc::ValueError};
use crate::util::{new_str, with_c_str};
use crate::{Context, FromPy, Handle, Runtime};
use hpy_sys as sys;

/// Calls `f` with `s` as a C string, or NULL for `None`.
#[inline]
fn with_opt_c_str<R>(s: Option<&str>, f: impl FnOnce(*const c_char) -> R) -> Result<R> {
    match s {
        Some(s) => with_c_str(s, f),
        None => Ok(f(core::ptr::null())),
    }
}

/// The characters of a `str` as CPython stores them ([`Handle::str_data`]):
/// the narrowest of three widths that holds the widest character, and
/// ASCII text apart (which is its own UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrData<'a> {
    /// ASCII (every character below U+0080).
    Ascii(&'a str),
    /// Latin-1 (every character below U+0100, some from U+0080).
    Latin1(&'a [u8]),
    /// UCS-2 (some character from U+0100, none above U+FFFF).
    Ucs2(&'a [u16]),
    /// UCS-4 (some character above U+FFFF).
    Ucs4(&'a [u32]),
}

impl Context {
    /// A new `str` holding `s` (`HPyUnicode_FromString`, or
    /// `HPyUnicode_FromWideChar` when `s` contains NUL characters).
    ///
    /// ```
    /// fn hello<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     ctx.new_str("héllo")
    /// }
    /// ```
    #[inline]
    pub fn new_str(&self, s: &str) -> Result<Handle<'_>> {
        new_str(self, s)
    }

    /// A new `str` decoded from the UTF-8 C string `s` (`HPyUnicode_FromString`).
    ///
    /// Invalid UTF-8 raises `UnicodeDecodeError` with CPython's message
    /// (`'utf-8' codec can't decode byte 0xff in position 0: invalid start byte`).
    pub fn new_str_from_c_str(&self, s: &CStr) -> Result<Handle<'_>> {
        // Validated here on PyPy: for invalid UTF-8, PyPy 7.3.19's
        // `HPyUnicode_FromString` raises `SystemError: unexpected internal
        // exception` (and dumps an RPython traceback to stderr); decoding the
        // bytes with Python's codec raises the very exception CPython raises.
        if self.runtime() == Runtime::PyPy && core::str::from_utf8(s.to_bytes()).is_err() {
            return Err(decode_error(self, s.to_bytes(), "utf-8"));
        }
        // SAFETY: the context is live and `s` is NUL-terminated.
        unsafe {
            Handle::from_raw_result(self, sys::HPyUnicode_FromString(self.as_raw(), s.as_ptr()))
        }
    }

    /// A new `str` from wide characters (`HPyUnicode_FromWideChar`): UTF-32
    /// code points where `wchar_t` is 32 bits (Linux, macOS), UTF-16 on Windows.
    ///
    /// A value that is no code point raises `ValueError: character U+110000 is
    /// not in range [U+0000; U+10ffff]`.
    pub fn new_str_from_wide(&self, w: &[sys::wchar_t]) -> Result<Handle<'_>> {
        // SAFETY: the context is live and `w` holds `w.len()` characters (never
        // NULL, even when empty).
        unsafe {
            Handle::from_raw_result(
                self,
                sys::HPyUnicode_FromWideChar(self.as_raw(), w.as_ptr(), ssize(w.len())),
            )
        }
    }

    /// Decodes bytes from the file system encoding with its error handler
    /// (`HPyUnicode_DecodeFSDefaultAndSize`; `os.fsdecode` in Python).
    ///
    /// ```
    /// fn file_name<'py>(ctx: &'py hpy::Context, raw: &[u8]) -> hpy::Result<hpy::Handle<'py>> {
    ///     ctx.decode_fs_default(raw) // undecodable bytes become lone surrogates
    /// }
    /// ```
    pub fn decode_fs_default(&self, data: &[u8]) -> Result<Handle<'_>> {
        // SAFETY: the context is live; `data` is `len` readable bytes.
        unsafe {
            Handle::from_raw_result(
                self,
                sys::HPyUnicode_DecodeFSDefaultAndSize(
                    self.as_raw(),
                    data.as_ptr().cast(),
                    ssize(data.len()),
                ),
            )
        }
    }

    /// Decodes a C string from the file system encoding (`HPyUnicode_DecodeFSDefault`).
    pub fn decode_fs_default_c_str(&self, s: &CStr) -> Result<Handle<'_>> {
        // SAFETY: the context is live and `s` is NUL-terminated.
        unsafe {
            Handle::from_raw_result(
                self,
                sys::HPyUnicode_DecodeFSDefault(self.as_raw(), s.as_ptr()),
            )
        }
    }

    /// A new `str` of the ASCII bytes `s`: `s.decode("ascii")`, the fastest
    /// way to make a `str` of text known to be ASCII.
    ///
    /// In a CPython-ABI build the bytes are checked here and copied straight
    /// into a new compact `str` (no decoder); in the universal build this is
    /// `HPyUnicode_DecodeASCII`. A byte from 0x80 on raises CPython's
    /// `UnicodeDecodeError` (`'ascii' codec can't decode byte 0xe9 in
    /// position 1: ordinal not in range(128)`).
    ///
    /// ```
    /// fn status<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     ctx.new_str_from_ascii(b"ok")
    /// }
    /// ```
    #[inline]
    pub fn new_str_from_ascii(&self, s: &[u8]) -> Result<Handle<'_>> {
        // Only a per-version CPython-ABI build copies without a check; the
        // others decode (`PyUnicode_DecodeASCII`, `HPyUnicode_DecodeASCII`),
        // which checks the bytes itself.
        if cfg!(all(hpy_abi = "cpython", not(hpy_abi = "abi3"))) && !s.is_ascii() {
            return self.decode_ascii(s, None);
        }
        // SAFETY: checked just above in a per-version CPython-ABI build; the
        // other builds' decoders check the bytes themselves.
        unsafe { self.new_str_from_ascii_unchecked(s) }
    }

    /// [`new_str_from_ascii`](Self::new_str_from_ascii) without the check, for
    /// bytes the caller has already scanned (a parser that knows its token is
    /// ASCII).
    ///
    /// # Safety
    ///
    /// Every byte of `s` is below 0x80. (In a CPython-ABI build the bytes are
    /// copied into a `str` declared ASCII: another byte would make an invalid
    /// `str`. The universal build checks them anyway.)
    #[inline]
    pub unsafe fn new_str_from_ascii_unchecked(&self, s: &[u8]) -> Result<Handle<'_>> {
        #[cfg(hpy_abi = "cpython")]
        // SAFETY: `s` is `s.len()` readable ASCII bytes (the caller's
        // contract); the context is live.
        unsafe {
            Handle::from_raw_result(
                self,
                sys::cpython::fast::unicode_from_ascii(s.as_ptr(), s.len()),
            )
        }
        #[cfg(not(hpy_abi = "cpython"))]
        self.decode_ascii(s, None)
    }

    /// Decodes ASCII bytes (`HPyUnicode_DecodeASCII`; `data.decode("ascii", errors)`).
    ///
    /// `errors` is a codec error handler name (`"strict"` when `None`,
    /// `"replace"`, `"ignore"`, ...). A non-ASCII byte in strict mode raises
    /// `UnicodeDecodeError` (`'ascii' codec can't decode byte 0xe9 in position 1:
    /// ordinal not in range(128)`).
    pub fn decode_ascii(&self, data: &[u8], errors: Option<&str>) -> Result<Handle<'_>> {
        with_opt_c_str(errors, |errors| {
            // SAFETY: the context is live; `data` is `len` readable bytes; `errors`
            // is NULL or a C string that lives across the call.
            unsafe {
                Handle::from_raw_result(
                    self,
                    sys::HPyUnicode_DecodeASCII(
                        self.as_raw(),
                        data.as_ptr().cast(),
                        ssize(data.len()),
                        errors,
                    ),
                )
            }
        })?
    }

    /// Decodes Latin-1 bytes (`HPyUnicode_DecodeLatin1`; `data.decode("latin-1", errors)`).
    /// Every byte is a Latin-1 character, so this only fails for a bad `errors`
    /// name when it is needed, or for lack of memory.
    pub fn decode_latin1(&self, data: &[u8], errors: Option<&str>) -> Result<Handle<'_>> {
        with_opt_c_str(errors, |errors| {
            // SAFETY: as in `decode_ascii`.
            unsafe {
                Handle::from_raw_result(
                    self,
                    sys::HPyUnicode_DecodeLatin1(
                        self.as_raw(),
                        data.as_ptr().cast(),
                        ssize(data.len()),
                        errors,
                    ),
                )
            }
        })?
    }
}

/// Raises the `UnicodeDecodeError` of `data.decode(encoding)` (for input the
/// runtime's own decoder would mishandle), by running Python's codec on it.
#[cold]
pub(super) fn decode_error(ctx: &Context, data: &[u8], encoding: &str) -> Error {
    let raised = ctx
        .new_bytes(data)
        .and_then(|b| b.decode(Some(encoding), None));
    match raised {
        Err(e) => e,
        Ok(_) => ValueError::new_err(format!("invalid {encoding} data")),
    }
}

/// `h` if it is a `str`, else the `TypeError` of `str.<method>(h)`.
#[inline(always)]
fn expect_str<'a, 'ctx>(h: &'a Handle<'ctx>, method: &str) -> Result<&'a Handle<'ctx>> {
    if h.is_str() {
        Ok(h)
    } else {
        Err(descriptor_error(method, "str", h))
    }
}

impl<'ctx> Handle<'ctx> {
    /// Whether the object is a `str` (or a subclass) (`HPyUnicode_Check`).
    #[inline]
    pub fn is_str(&self) -> bool {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::HPyUnicode_Check(self.ctx.as_raw(), self.raw) != 0 }
    }

    /// Whether the object is exactly a `str`, not an instance of a subclass
    /// (`type(x) is str`; PyO3's `PyString::is_exact_type_of`). An exact
    /// `str` has no `__del__` and takes no weak references: dropping the
    /// last reference to one runs no Python code.
    ///
    /// In a CPython-ABI build this is `PyUnicode_CheckExact` (a comparison
    /// of the type pointer); the universal build compares `HPy_Type`.
    ///
    /// ```
    /// fn plain_str(obj: &hpy::Handle<'_>) -> bool {
    ///     obj.is_exact_str()
    /// }
    /// ```
    #[inline]
    pub fn is_exact_str(&self) -> bool {
        #[cfg(hpy_abi = "cpython")]
        // SAFETY: the handle is open.
        return unsafe { sys::cpython::fast::is_exact_str(self.raw) };
        #[cfg(not(hpy_abi = "cpython"))]
        self.type_is(sys::h_UnicodeType)
    }

    /// The contents of a `str` as UTF-8, borrowed from the handle
    /// (`HPyUnicode_AsUTF8AndSize`); the same as `extract::<&str>()`.
    ///
    /// Anything but `str` raises `TypeError`; a `str` with lone surrogates
    /// raises `UnicodeEncodeError`, as in CPython.
    #[inline]
    pub fn as_str(&self) -> Result<&str> {
        <&str>::from_py(self)
    }

    /// The characters of a `str` where CPython keeps them (PEP 393): one,
    /// two or four bytes per character, the narrowest that holds its widest
    /// one, borrowed from the object (ASCII text as a `&str`); PyO3's
    /// `PyString::data`. Lone
    /// surrogates are there as they are (U+D800-U+DFFF units), where
    /// [`Handle::as_str`] fails; no UTF-8 copy is made (which `as_str` makes,
    /// and keeps in the object, for a non-ASCII `str`).
    ///
    /// `None` where the build cannot see CPython's representation: a
    /// universal build (whatever the runtime), `abi3`, CPython 3.14 (whose
    /// layout pyo3-ffi does not describe); and for anything but a `str`.
    ///
    /// ```
    /// fn count_wide(s: &hpy::Handle<'_>) -> hpy::Result<usize> {
    ///     Ok(match s.str_data() {
    ///         Some(hpy::StrData::Ascii(_) | hpy::StrData::Latin1(_)) => 0,
    ///         Some(hpy::StrData::Ucs2(units)) => units.iter().filter(|&&u| u > 0xFF).count(),
    ///         Some(hpy::StrData::Ucs4(units)) => units.iter().filter(|&&u| u > 0xFF).count(),
    ///         None => s.as_str()?.chars().filter(|&c| u32::from(c) > 0xFF).count(),
    ///     })
    /// }
    /// ```
    #[inline]
    pub fn str_data(&self) -> Option<StrData<'_>> {
        #[cfg(hpy_abi = "cpython")]
        {
            // SAFETY: the handle is open; the data (`len` units of the kind)
            // lives as long as the object, which the borrow of `self` keeps.
            unsafe {
                let (kind, data, len) = sys::cpython::fast::unicode_data(self.raw)?;
                return Some(match kind {
                    // ASCII bytes are UTF-8.
                    0 => StrData::Ascii(core::str::from_utf8_unchecked(
                        core::slice::from_raw_parts(data.cast(), len),
                    )),
                    1 => StrData::Latin1(core::slice::from_raw_parts(data.cast(), len)),
                    2 => StrData::Ucs2(core::slice::from_raw_parts(data.cast(), len)),
                    _ => StrData::Ucs4(core::slice::from_raw_parts(data.cast(), len)),
                });
            }
        }
        #[allow(unreachable_code)]
        None
    }

    /// `s.encode("utf-8")` (`HPyUnicode_AsUTF8String`): a new `bytes`.
    ///
    /// Lone surrogates raise `UnicodeEncodeError`; a non-`str` raises `TypeError`.
    #[inline]
    pub fn encode_utf8(&self) -> Result<Handle<'ctx>> {
        let s = expect_str(self, "encode")?;
        // SAFETY: the handle is open; the result is new or NULL with an exception.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPyUnicode_AsUTF8String(self.ctx.as_raw(), s.raw),
            )
        }
    }

    /// `s.encode("ascii")` (`HPyUnicode_AsASCIIString`): a new `bytes`.
    ///
    /// A non-ASCII character raises `UnicodeEncodeError` (`'ascii' codec can't
    /// encode character '\xe9' in position 1: ordinal not in range(128)`).
    #[inline]
    pub fn encode_ascii(&self) -> Result<Handle<'ctx>> {
        let s = expect_str(self, "encode")?;
        // SAFETY: as in `encode_utf8`.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPyUnicode_AsASCIIString(self.ctx.as_raw(), s.raw),
            )
        }
    }

    /// `s.encode("latin-1")` (`HPyUnicode_AsLatin1String`): a new `bytes`.
    ///
    /// A character above U+00FF raises `UnicodeEncodeError`.
    #[inline]
    pub fn encode_latin1(&self) -> Result<Handle<'ctx>> {
        let s = expect_str(self, "encode")?;
        // SAFETY: as in `encode_utf8`.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPyUnicode_AsLatin1String(self.ctx.as_raw(), s.raw),
            )
        }
    }

    /// Encodes a `str` to the file system encoding with its error handler
    /// (`HPyUnicode_EncodeFSDefault`; `os.fsencode` in Python): a new `bytes`.
    #[inline]
    pub fn encode_fs_default(&self) -> Result<Handle<'ctx>> {
        let s = expect_str(self, "encode")?;
        // SAFETY: as in `encode_utf8`.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPyUnicode_EncodeFSDefault(self.ctx.as_raw(), s.raw),
            )
        }
    }

    /// The code point at `index` of a `str` (`HPyUnicode_ReadChar`), which may
    /// be a lone surrogate (`0xD800..=0xDFFF`, which no Rust `char` can hold).
    ///
    /// An index past the end raises `IndexError: string index out of range`.
    pub fn read_code_point(&self, index: usize) -> Result<u32> {
        // Checked first, for one message everywhere (CPython says `bad argument
        // type for built-in operation`, PyPy `'int' has no length`).
        if !self.is_str() {
            return Err(wrong_type("str", self));
        }
        // Both runtimes check the range (an index above `isize::MAX` saturates,
        // and is out of range as well).
        // SAFETY: the handle is an open `str`.
        let c = unsafe { sys::HPyUnicode_ReadChar(self.ctx.as_raw(), self.raw, ssize(index)) };
        if c == u32::MAX && self.ctx.err_occurred() {
            return Err(Error::raised());
        }
        Ok(c)
    }

    /// The character at `index` of a `str` (`HPyUnicode_ReadChar`).
    ///
    /// An index past the end raises `IndexError: string index out of range`; a
    /// lone surrogate raises `ValueError` (see [`read_code_point`](Self::read_code_point)).
    ///
    /// ```
    /// fn first_char(s: &hpy::Handle<'_>) -> hpy::Result<char> {
    ///     s.read_char(0)
    /// }
    /// ```
    pub fn read_char(&self, index: usize) -> Result<char> {
        let c = self.read_code_point(index)?;
        char::from_u32(c).ok_or_else(|| {
            ValueError::new_err(format!(
                "character U+{c:04x} at index {index} is a lone surrogate, not a Rust char"
            ))
        })
    }

    /// `s[start:end]` of a `str`, in code points (`HPyUnicode_Substring`).
    ///
    /// Like Python's slicing, `end` is clamped to the length, and `start >= end`
    /// gives `""`.
    ///
    /// ```
    /// fn prefix<'py>(s: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     s.substring(0, 3)
    /// }
    /// ```
    pub fn substring(&self, start: usize, end: usize) -> Result<Handle<'ctx>> {
        // Checked first: CPython's `PyUnicode_Substring` reads any object as a str.
        if !self.is_str() {
            return Err(wrong_type("str", self));
        }
        // Saturating is exact: indices past the end are clamped anyway.
        let (start, end) = (ssize(start), ssize(end).max(ssize(start)));
        // SAFETY: the handle is an open `str`; both indices are non-negative.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPyUnicode_Substring(self.ctx.as_raw(), self.raw, start, end),
            )
        }
    }

    /// Decodes a bytes-like object to a new `str`: `str(obj, encoding, errors)`
    /// (`HPyUnicode_FromEncodedObject`). `encoding` defaults to UTF-8 and
    /// `errors` to `"strict"`.
    ///
    /// Fails like Python: a `str` raises `TypeError: decoding str is not
    /// supported`, an unknown encoding `LookupError: unknown encoding: ...`, and
    /// undecodable data `UnicodeDecodeError`.
    ///
    /// ```
    /// fn from_cp1252<'py>(raw: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     raw.decode(Some("cp1252"), Some("replace"))
    /// }
    /// ```
    pub fn decode(&self, encoding: Option<&str>, errors: Option<&str>) -> Result<Handle<'ctx>> {
        // PyPy 7.3.19's `HPyUnicode_FromEncodedObject` only takes `bytes`
        // (`TypeError: decoding bytearray is not supported`) where CPython's takes
        // any bytes-like object: there, the others go through Python's own
        // `str(obj, encoding, errors)`, which does take them.
        if self.ctx.runtime() == Runtime::PyPy && !self.is_bytes() {
            return self.decode_through_str_type(encoding, errors);
        }
        with_opt_c_str(encoding, |encoding| {
            with_opt_c_str(errors, |errors| {
                // SAFETY: the handle is open; `encoding` and `errors` are NULL or C
                // strings that live across the call.
                unsafe {
                    Handle::from_raw_result(
                        self.ctx,
                        sys::HPyUnicode_FromEncodedObject(
                            self.ctx.as_raw(),
                            self.raw,
                            encoding,
                            errors,
                        ),
                    )
                }
            })?
        })?
    }

    /// `str(self, encoding, errors)`, called through Python.
    #[cold]
    fn decode_through_str_type(
        &self,
        encoding: Option<&str>,
        errors: Option<&str>,
    ) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        let encoding = ctx.new_str(encoding.unwrap_or("utf-8"))?;
        let errors = ctx.new_str(errors.unwrap_or("strict"))?;
        let args = ctx.new_tuple(&[self, &encoding, &errors])?;
        let raw = ctx.as_raw();
        // SAFETY: the context is live; `str` is a constant, `args` an open tuple,
        // and a NULL dict means no keyword arguments.
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPy_CallTupleDict(raw, sys::h_UnicodeType(raw), args.raw, sys::HPy::NULL),
            )
        }
    }
}
