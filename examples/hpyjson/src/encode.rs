//! `dumps`: Python objects to JSON text, written into one `Vec<u8>` that
//! becomes the result `str` at the end.
//!
//! Behaviour and messages are ujson's (`objToJSON.c`, `ultrajsonenc.c`):
//! `str` (with subclasses), `int` (any size), `float` (shortest repr in
//! double-conversion's style: `1e+16`, `1e-5`, `1.0`), `True`/`False`/`None`,
//! `dict` (keys: `str`, `bytes`, `True`/`False`/`None` as `true`/`false`/`null`,
//! anything else through `str()`), `list` and `tuple`; `decimal.Decimal` as a
//! float; then an object's `toDict()` (a dict) or `__json__()` (raw JSON),
//! then `default`, then `TypeError: <repr> is not JSON serializable`. Nesting
//! deeper than 1024 levels (and so any circular reference) raises
//! `OverflowError: Maximum recursion level reached`.

use hpy::{Context, Error, Handle, Result, exc, sys};

/// ujson's `JSON_MAX_RECURSION_DEPTH`.
const MAX_LEVEL: u32 = 1024;

/// How many times `default` may replace one object (ujson's `DEFAULT_FN_MAX_DEPTH`).
const DEFAULT_MAX_DEPTH: u32 = 3;

/// The options of one `dumps` call.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) ensure_ascii: bool,
    pub(crate) encode_html_chars: bool,
    pub(crate) escape_forward_slashes: bool,
    pub(crate) sort_keys: bool,
    /// Spaces per level; 0 (or less) for compact output.
    pub(crate) indent: i32,
    pub(crate) allow_nan: bool,
    pub(crate) reject_bytes: bool,
    pub(crate) item_separator: Vec<u8>,
    pub(crate) key_separator: Vec<u8>,
}

/// How a byte of a string is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Esc {
    /// As it is.
    Copy,
    /// A two-character escape (`\n`, `\"`, ...): the second character.
    Short(u8),
    /// `\u00XX`.
    Unicode,
    /// The lead byte of a multi-byte sequence, decoded and written as `\uXXXX`
    /// (only with `ensure_ascii`).
    Sequence,
}

/// The state of one `dumps` call.
struct Encoder<'a, 'ctx> {
    ctx: &'ctx Context,
    out: Vec<u8>,
    opts: &'a Options,
    default: Option<&'a Handle<'ctx>>,
    table: [Esc; 256],
    /// Whether `escape` may skip plain bytes eight at a time (not with
    /// `encode_html_chars`, whose characters the word test does not look for).
    swar: bool,
    /// Whether raw bytes (`__json__`, `bytes` values, separators) went into the output.
    raw_inserted: bool,
    /// Bounds the native stack of the recursion (see `crate::stack`).
    stack: crate::stack::StackGuard,
}

/// Encodes `obj` to a new `str`.
pub(crate) fn dumps<'ctx>(
    ctx: &'ctx Context,
    obj: &Handle<'ctx>,
    opts: &Options,
    default: Option<&Handle<'ctx>>,
) -> Result<Handle<'ctx>> {
    let mut enc = Encoder {
        ctx,
        out: Vec::with_capacity(256),
        opts,
        default,
        table: escape_table(opts),
        swar: !opts.encode_html_chars,
        raw_inserted: !opts.item_separator.is_ascii() || !opts.key_separator.is_ascii(),
        stack: crate::stack::StackGuard::here(),
    };
    enc.encode(obj, 0)?;
    enc.finish()
}

fn escape_table(opts: &Options) -> [Esc; 256] {
    let mut t = [Esc::Copy; 256];
    for e in &mut t[..0x20] {
        *e = Esc::Unicode;
    }
    t[0x08] = Esc::Short(b'b');
    t[0x09] = Esc::Short(b't');
    t[0x0a] = Esc::Short(b'n');
    t[0x0c] = Esc::Short(b'f');
    t[0x0d] = Esc::Short(b'r');
    t[usize::from(b'"')] = Esc::Short(b'"');
    t[usize::from(b'\\')] = Esc::Short(b'\\');
    if opts.escape_forward_slashes {
        t[usize::from(b'/')] = Esc::Short(b'/');
    }
    if opts.encode_html_chars {
        for c in [b'<', b'>', b'&'] {
            t[usize::from(c)] = Esc::Unicode;
        }
    }
    if opts.ensure_ascii {
        // ujson's table: continuation bytes and 0xFE/0xFF are copied as they are.
        for e in &mut t[0xC0..=0xFD] {
            *e = Esc::Sequence;
        }
    }
    t
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[inline(always)]
fn push_u16_escape(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[((v >> 12) & 0xF) as usize],
        HEX[((v >> 8) & 0xF) as usize],
        HEX[((v >> 4) & 0xF) as usize],
        HEX[(v & 0xF) as usize],
    ]);
}

/// `OverflowError(msg)`: how ujson reports its own encoding errors.
#[cold]
fn overflow(msg: &'static str) -> Error {
    exc::OverflowError::new_err(msg)
}

impl<'ctx> Encoder<'_, 'ctx> {
    /// Whether any byte of `w` needs an escape (for `swar` options only).
    #[inline(always)]
    fn needs_escape(&self, w: u64) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        #[inline(always)]
        fn has_zero(x: u64) -> bool {
            x.wrapping_sub(ONES) & !x & HIGHS != 0
        }
        // A byte below 0x20 (for bytes below 0x80: `b - 0x20` borrows).
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0;
        control
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
            || (self.opts.escape_forward_slashes && has_zero(w ^ (ONES * u64::from(b'/'))))
            || (self.opts.ensure_ascii && w & HIGHS != 0)
    }

    #[inline(always)]
    fn raw(&self) -> *mut sys::HPyContext {
        self.ctx.as_raw()
    }

    #[inline(always)]
    fn type_check(
        &self,
        obj: &Handle<'ctx>,
        ty: unsafe fn(*mut sys::HPyContext) -> sys::HPy,
    ) -> bool {
        let raw = self.raw();
        // SAFETY: the handle is open in the live context; `ty` reads a constant of it.
        unsafe { sys::HPy_TypeCheck(raw, obj.as_raw(), ty(raw)) != 0 }
    }

    /// Takes ownership of what a context function returned (NULL: the raised error).
    #[inline(always)]
    fn own(&self, raw: sys::HPy) -> Result<Handle<'ctx>> {
        // SAFETY: every caller passes the result of a context function that
        // returns a new handle, or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, raw) }
    }

    fn encode(&mut self, obj: &Handle<'ctx>, level: u32) -> Result<()> {
        if level > MAX_LEVEL || self.stack.exhausted() {
            return Err(overflow("Maximum recursion level reached"));
        }
        if self.encode_builtin(obj, level)? {
            return Ok(());
        }
        self.encode_other(obj, level)
    }

    /// Encodes the builtin types; `false` for anything else.
    #[inline]
    fn encode_builtin(&mut self, obj: &Handle<'ctx>, level: u32) -> Result<bool> {
        if obj.is_str() {
            self.encode_str(obj)?;
        } else if self.type_check(obj, sys::h_LongType) {
            self.encode_int(obj)?;
        } else if self.type_check(obj, sys::h_FloatType) {
            self.encode_float(obj)?;
        } else if obj.is_dict() {
            self.encode_dict(obj, level)?;
        } else if obj.is_list() || obj.is_tuple() {
            self.encode_sequence(obj, level)?;
        } else if obj.is_none() {
            self.out.extend_from_slice(b"null");
        } else if !self.opts.reject_bytes && obj.is_bytes() {
            let data = obj.as_bytes()?;
            self.raw_inserted = true;
            self.out.push(b'"');
            self.escape(data)?;
            self.out.push(b'"');
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Everything but the builtin types: `Decimal`, `toDict`, `__json__`,
    /// `default`, or `TypeError`.
    #[cold]
    fn encode_other(&mut self, obj: &Handle<'ctx>, level: u32) -> Result<()> {
        let mut replaced: Option<Handle<'ctx>> = None;
        let mut default_depth = 0;
        loop {
            let cur = replaced.as_ref().unwrap_or(obj);
            if replaced.is_some() && self.encode_builtin(cur, level)? {
                return Ok(());
            }
            if crate::is_decimal(self.ctx, cur)? {
                return self.encode_float(cur);
            }
            if cur.has_attr("toDict") {
                let d = cur.call_method0("toDict")?;
                if !d.is_dict() {
                    return Err(exc::TypeError::new_err(format!(
                        "toDict() should return a dict, got {}",
                        d.type_name()
                    )));
                }
                return self.encode_dict(&d, level);
            }
            if cur.has_attr("__json__") {
                let j = cur.call_method0("__json__")?;
                if j.is_str() {
                    with_str_bytes(&j, |b| self.out.extend_from_slice(b))?;
                } else if j.is_bytes() {
                    self.out.extend_from_slice(j.as_bytes()?);
                } else {
                    return Err(exc::TypeError::new_err(format!(
                        "__json__() should return str or bytes, got {}",
                        j.type_name()
                    )));
                }
                self.raw_inserted = true;
                return Ok(());
            }
            if let Some(default) = self.default {
                if default_depth >= DEFAULT_MAX_DEPTH {
                    return Err(exc::TypeError::new_err("maximum recursion depth exceeded"));
                }
                let next = default.call1(cur)?;
                default_depth += 1;
                replaced = Some(next);
                continue;
            }
            let repr = cur.repr()?;
            let repr = repr.as_str()?;
            return Err(exc::TypeError::new_err(format!(
                "{repr} is not JSON serializable"
            )));
        }
    }

    fn encode_str(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        with_str_bytes(obj, |b| {
            self.out.reserve(b.len() + 2);
            self.out.push(b'"');
            self.escape(b)?;
            self.out.push(b'"');
            Ok(())
        })?
    }

    /// Writes `s` escaped (without the quotes).
    #[inline]
    fn escape(&mut self, s: &[u8]) -> Result<()> {
        let mut i = 0;
        let mut run = 0;
        while let Some(&c) = s.get(i) {
            let e = self.table[usize::from(c)];
            if e == Esc::Copy {
                i += 1;
                if self.swar {
                    // Skip eight plain bytes at a time.
                    while let Some(chunk) = s.get(i..i + 8) {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(chunk);
                        if self.needs_escape(u64::from_le_bytes(w)) {
                            break;
                        }
                        i += 8;
                    }
                }
                continue;
            }
            self.out.extend_from_slice(&s[run..i]);
            match e {
                Esc::Copy => {}
                Esc::Short(x) => {
                    self.out.extend_from_slice(&[b'\\', x]);
                    i += 1;
                }
                Esc::Unicode => {
                    push_u16_escape(&mut self.out, u32::from(c));
                    i += 1;
                }
                Esc::Sequence => {
                    let (n, cp) = encode_sequence(&s[i..])?;
                    if cp >= 0x10000 {
                        let v = cp - 0x10000;
                        push_u16_escape(&mut self.out, (v >> 10) + 0xD800);
                        push_u16_escape(&mut self.out, (v & 0x3FF) + 0xDC00);
                    } else {
                        push_u16_escape(&mut self.out, cp);
                    }
                    i += n;
                }
            }
            run = i;
        }
        self.out.extend_from_slice(&s[run..]);
        Ok(())
    }

    fn encode_int(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        if obj.is(&self.ctx.true_()) {
            self.out.extend_from_slice(b"true");
            return Ok(());
        }
        if obj.is(&self.ctx.false_()) {
            self.out.extend_from_slice(b"false");
            return Ok(());
        }
        // SAFETY: the handle is an open int.
        let v = unsafe { sys::HPyLong_AsInt64_t(self.raw(), obj.as_raw()) };
        if v != -1 || !self.ctx.err_occurred() {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            return Ok(());
        }
        self.encode_big_int(obj)
    }

    /// An int beyond `i64`: `u64`, or its decimal digits.
    #[cold]
    fn encode_big_int(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        let raw = self.raw();
        self.ctx.err_clear();
        // SAFETY: the handle is an open int.
        let v = unsafe { sys::HPyLong_AsUInt64_t(raw, obj.as_raw()) };
        if v != u64::MAX || !self.ctx.err_occurred() {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            return Ok(());
        }
        self.ctx.err_clear();
        // `operator.index` makes an exact int of a subclass, whose `str` is its digits.
        // SAFETY: the handle is open; the results are new or NULL with an exception.
        let exact = self.own(unsafe { sys::HPy_Index(raw, obj.as_raw()) })?;
        // SAFETY: as above.
        let digits = self.own(unsafe { sys::HPy_Str(raw, exact.as_raw()) })?;
        self.out.extend_from_slice(digits.as_str()?.as_bytes());
        Ok(())
    }

    fn encode_float(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        // SAFETY: the handle is open; -1.0 with an exception set on failure.
        let v = unsafe { sys::HPyFloat_AsDouble(self.raw(), obj.as_raw()) };
        if v == -1.0 && self.ctx.err_occurred() {
            return Err(Error::raised());
        }
        if !v.is_finite() {
            if !self.opts.allow_nan {
                return Err(overflow("Invalid value when encoding double"));
            }
            let s: &[u8] = if v.is_nan() {
                b"NaN"
            } else if v > 0.0 {
                b"Infinity"
            } else {
                b"-Infinity"
            };
            self.out.extend_from_slice(s);
            return Ok(());
        }
        crate::float::write_f64(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn newline_indent(&mut self, level: u32) {
        if self.opts.indent > 0 {
            self.out.push(b'\n');
            let n = self.opts.indent as usize * level as usize;
            self.out.resize(self.out.len() + n, b' ');
        }
    }

    fn encode_sequence(&mut self, obj: &Handle<'ctx>, level: u32) -> Result<()> {
        let raw = self.raw();
        self.out.push(b'[');
        let mut count = 0usize;
        loop {
            // The length is read again each time: `default` may change the list.
            // SAFETY: the handle is an open list or tuple.
            let n = unsafe { sys::HPy_Length(raw, obj.as_raw()) };
            if n < 0 {
                return Err(Error::raised());
            }
            if count >= n as usize {
                break;
            }
            // SAFETY: the handle is open and `count < len`; new handle or NULL.
            let item = self
                .own(unsafe { sys::HPy_GetItem_i(raw, obj.as_raw(), count as sys::HPy_ssize_t) })?;
            if count > 0 {
                self.out.extend_from_slice(&self.opts.item_separator);
            }
            self.newline_indent(level + 1);
            self.encode(&item, level + 1)?;
            count += 1;
        }
        if count > 0 {
            self.newline_indent(level);
        }
        self.out.push(b']');
        Ok(())
    }

    fn encode_dict(&mut self, obj: &Handle<'ctx>, level: u32) -> Result<()> {
        let raw = self.raw();
        let keys = obj.keys()?;
        if self.opts.sort_keys {
            keys.call_method0("sort")?;
        }
        // SAFETY: `keys` is an open list.
        let n = unsafe { sys::HPy_Length(raw, keys.as_raw()) };
        if n < 0 {
            return Err(Error::raised());
        }
        self.out.push(b'{');
        for i in 0..n {
            // SAFETY: `keys` is an open list of `n` items that only we hold.
            let key = self.own(unsafe { sys::HPy_GetItem_i(raw, keys.as_raw(), i) })?;
            // SAFETY: both handles are open; new handle or NULL with an exception.
            let value = self.own(unsafe { sys::HPy_GetItem(raw, obj.as_raw(), key.as_raw()) })?;
            if i > 0 {
                self.out.extend_from_slice(&self.opts.item_separator);
            }
            self.newline_indent(level + 1);
            self.encode_key(&key)?;
            self.out.extend_from_slice(&self.opts.key_separator);
            self.encode(&value, level + 1)?;
        }
        if n > 0 {
            self.newline_indent(level);
        }
        self.out.push(b'}');
        Ok(())
    }

    fn encode_key(&mut self, key: &Handle<'ctx>) -> Result<()> {
        self.out.push(b'"');
        if key.is_str() {
            with_str_bytes(key, |b| self.escape(b))??;
        } else if key.is_bytes() {
            self.raw_inserted = true;
            self.escape(key.as_bytes()?)?;
        } else if key.is(&self.ctx.true_()) {
            self.out.extend_from_slice(b"true");
        } else if key.is(&self.ctx.false_()) {
            self.out.extend_from_slice(b"false");
        } else if key.is_none() {
            self.out.extend_from_slice(b"null");
        } else {
            let s = key.str()?;
            with_str_bytes(&s, |b| self.escape(b))??;
        }
        self.out.push(b'"');
        Ok(())
    }

    /// The output as a `str`.
    fn finish(self) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        let mut out = self.out;
        if (self.opts.ensure_ascii && !self.raw_inserted) || out.is_ascii() {
            return ctx.decode_ascii(&out, None);
        }
        if !out.contains(&0) && core::str::from_utf8(&out).is_ok() {
            out.push(0);
            // SAFETY: the context is live; `out` is NUL-terminated valid UTF-8
            // with no NUL before the terminator.
            return unsafe {
                Handle::from_raw_result(
                    ctx,
                    sys::HPyUnicode_FromString(ctx.as_raw(), out.as_ptr().cast()),
                )
            };
        }
        // Lone surrogates (WTF-8), NULs or invalid bytes: Python's own decoder,
        // with ujson's error handler.
        let bytes = ctx.new_bytes(&out)?;
        bytes.call_method("decode", ("utf-8", "surrogatepass"))
    }
}

/// Decodes the multi-byte sequence at the start of `s` for `\uXXXX` output,
/// with ujson's checks and messages: its length and code point.
fn encode_sequence(s: &[u8]) -> Result<(usize, u32)> {
    let lead = s[0];
    let n = match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => {
            return Err(overflow(
                "Unsupported UTF-8 sequence length when encoding string",
            ));
        }
    };
    if s.len() < n {
        return Err(overflow("Unterminated UTF-8 sequence when encoding string"));
    }
    if s[1..n].iter().any(|&b| b & 0xC0 != 0x80) {
        return Err(overflow(match n {
            2 => "Invalid continuation byte in 2-byte UTF-8 sequence detected when encoding string",
            3 => "Invalid continuation byte in 3-byte UTF-8 sequence detected when encoding string",
            _ => "Invalid continuation byte in 4-byte UTF-8 sequence detected when encoding string",
        }));
    }
    if n == 4 && ((lead >= 0xF4 && s[1] >= 0x90) || lead >= 0xF5) {
        return Err(overflow(
            ">U+10FFFF in 4-byte UTF-8 sequence detected when encoding string",
        ));
    }
    let mut cp = u32::from(lead) & (0x7F >> n);
    for &b in &s[1..n] {
        cp = (cp << 6) | u32::from(b & 0x3F);
    }
    let min = [0, 0, 0x80, 0x800, 0x10000][n];
    if cp < min {
        return Err(overflow(match n {
            2 => "Overlong 2-byte UTF-8 sequence detected when encoding string",
            3 => "Overlong 3-byte UTF-8 sequence detected when encoding string",
            _ => "Overlong 4-byte UTF-8 sequence detected when encoding string",
        }));
    }
    Ok((n, cp))
}

/// Calls `f` with the (WTF-)8 bytes of the `str` `s`: borrowed from the
/// object, or, for a `str` with lone surrogates on CPython,
/// `s.encode("utf-8", "surrogatepass")` (ujson's encoding).
#[inline]
pub(crate) fn with_str_bytes<R>(s: &Handle<'_>, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
    let ctx = s.ctx();
    let mut len: sys::HPy_ssize_t = 0;
    // SAFETY: the handle is an open `str`; on success the buffer holds `len`
    // bytes and lives as long as the handle, which outlives `f`.
    let data = unsafe { sys::HPyUnicode_AsUTF8AndSize(ctx.as_raw(), s.as_raw(), &mut len) };
    if !data.is_null() {
        // PyPy returns lone surrogates in this buffer, as WTF-8; CPython
        // refuses them (below). Either way the bytes are (WTF-)8.
        // SAFETY: see above; `len` is non-negative on success.
        let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len as usize) };
        return Ok(f(bytes));
    }
    ctx.err_clear();
    let b = s.call_method("encode", ("utf-8", "surrogatepass"))?;
    Ok(f(b.as_bytes()?))
}
