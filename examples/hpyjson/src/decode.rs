//! `loads`: JSON text straight to Python objects, with no intermediate tree.
//!
//! Two grammars:
//!
//! * **ujson's** (the default): what ujson 6.1 accepts, value for value and
//!   error message for error message. Beyond RFC 8259 that is `NaN`,
//!   `Infinity` and `-Infinity`; raw control characters in strings; and
//!   ujson's numbers: an integer is `-?[0-9]*` (leading zeros allowed, a lone
//!   `-` is `0`), and a number that goes on with `.`, `e` or `E` is read as
//!   double-conversion's `StringToDouble` reads it with trailing junk allowed
//!   (`1.` is `1.0`, `-.5` is `-0.5`, `1e` is `1` followed by junk, and a
//!   number with no digit at all is `0.0` that consumes nothing).
//! * **RFC 8259's, strictly** (`strict=True`): every `n_` case of
//!   JSONTestSuite is rejected, so numbers have no leading zeros and need
//!   digits after `.` and in exponents, `NaN`/`Infinity` are not literals,
//!   and strings cannot hold raw control characters. The error messages are
//!   ujson's where ujson rejects too.
//!
//! In both, lone surrogates (escaped, or encoded in the input) are kept, and
//! a `\uD8xx\uDCxx` pair of escapes is joined, as in ujson; floats are
//! correctly rounded (as double-conversion's are); integers beyond 64 bits
//! are exact (`int(text)`, with its digit limit).
//!
//! Speed: strings are made from the input bytes in place when they have no
//! escapes (`Context::new_str_from_ascii_unchecked` for ASCII, which the
//! scan has checked: no decoder runs over it again in a CPython-ABI build);
//! dictionary keys seen before in the same call reuse the same `str` object
//! (a small cache from the key's bytes to its handle); list items are
//! collected on one shared stack of handles and made into a list at the
//! closing bracket (`Context::new_list_from`: one list builder of the right
//! length on CPython, appends on PyPy, whose list builders leak).

use hpy::{Context, Error, Handle, Result, sys};

use crate::block;

/// ujson's `JSON_MAX_OBJECT_DEPTH`: arrays and objects nest at most this deep.
const MAX_DEPTH: u32 = 1024;

/// Keys up to this many bytes (without escapes) go through the key cache.
const MAX_CACHED_KEY: usize = 64;

/// Slots in the key cache (a power of two): sets of [`CACHE_WAYS`].
const CACHE_SLOTS: usize = 256;

/// Slots per set of the key cache: a key may sit in either slot of its set
/// (the one used last first). With one slot per set, two keys of one
/// object that shared a slot pushed each other out at every object
/// (twitter.json, 94 distinct keys: 1682 misses per call; 111 with two).
const CACHE_WAYS: usize = 2;

/// Raises `JSONDecodeError(msg)`.
#[cold]
#[inline(never)]
fn error(msg: &'static str) -> Error {
    crate::JSONDecodeError::new_err(msg)
}

/// What a scanned string turned out to hold: bits in one byte (three
/// `bool`s, written one by one and read back together, cost a
/// store-forwarding stall per string).
#[derive(Clone, Copy, Default)]
struct StrFlags(u8);

impl StrFlags {
    /// Any character above U+007F.
    const NON_ASCII: u8 = 1;
    /// Any lone surrogate (U+D800..U+DFFF), which UTF-8 cannot carry.
    const SURROGATE: u8 = 2;
    /// Any U+0000 (from `\u0000`), which a C string cannot carry.
    const NUL: u8 = 4;

    #[inline(always)]
    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    #[inline(always)]
    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.0 |= bit;
        }
    }
}

/// Where the characters of a scanned string are.
enum Scanned {
    /// Unescaped: `input[start..end]` is the string, in (WTF-)8 bytes.
    Raw { start: usize, end: usize },
    /// Unescaped into the decoder's scratch buffer.
    Scratch,
}

/// One slot of the key cache: the key's bytes in the input, and its `str`.
///
/// The first [`KEY_HEAD`] bytes are kept in the slot: comparing with them
/// does not reach back into the input, where an earlier occurrence of the
/// key may have left the cache long ago.
struct CachedKey<'ctx> {
    len: usize,
    head: [u8; KEY_HEAD],
    start: usize,
    handle: Handle<'ctx>,
}

impl CachedKey<'_> {
    /// Whether this is the key of `bytes`, whose earlier occurrence in
    /// `input` the slot points at.
    #[inline(always)]
    fn holds(&self, input: &[u8], bytes: &[u8]) -> bool {
        let len = bytes.len();
        let m = len.min(KEY_HEAD);
        self.len == len
            && same_bytes(&self.head[..m], &bytes[..m])
            && (len <= KEY_HEAD
                || same_bytes(&input[self.start + m..self.start + len], &bytes[m..]))
    }
}

/// Bytes of a cached key kept in its slot.
const KEY_HEAD: usize = 24;

/// The state of one `loads` call.
struct Decoder<'a, 'ctx> {
    ctx: &'ctx Context,
    input: &'a [u8],
    pos: usize,
    depth: u32,
    /// Unescaped string contents (WTF-8), then a NUL for `HPyUnicode_FromString`.
    scratch: Vec<u8>,
    /// Code points for `HPyUnicode_FromWideChar`.
    wide: Vec<sys::wchar_t>,
    /// The items of the lists being parsed, innermost last.
    items: Vec<Handle<'ctx>>,
    /// The containers being parsed, innermost last.
    open: Vec<Open<'ctx>>,
    /// The key cache, allocated at the first key.
    keys: Vec<Option<CachedKey<'ctx>>>,
    /// Keys evicted from the cache: kept open until the call ends, so a key
    /// handle taken from the cache stays valid while its value is parsed.
    retired: Vec<Handle<'ctx>>,
    /// Whether the runtime is PyPy, where `HPyUnicode_FromString` is the
    /// faster way to make a `str` (its `HPyUnicode_DecodeASCII` goes through
    /// the generic codec machinery).
    pypy: bool,
    /// Whether the input is known to be valid UTF-8 (no check needed, and
    /// no lone surrogates).
    utf8: bool,
    /// RFC 8259's grammar instead of ujson's.
    strict: bool,
    /// Whether the last scalar parsed was a string, the test ujson applies
    /// to a key (its `lastType`): an array resets it, an empty object leaves
    /// it alone, so `{["a"]: 1}` and `{{"a": {}}: 1}` pass it.
    last_str: bool,
    /// A key passed that test without being a string (so it cannot be a
    /// dict key). ujson then parses on and fails at the end, with a message
    /// of its own (unless a Python exception, e.g. `int`'s digit limit,
    /// comes first).
    bad_key: bool,
}

/// A container being parsed. The parser is iterative: these frames live on
/// the heap, so the native stack a call uses does not grow with the nesting
/// and any thread that can call Python can parse to ujson's depth.
enum Open<'ctx> {
    /// A list: its items so far are `items[base..]`.
    Array { base: usize },
    /// A dict, and the key of the value being parsed: a raw handle, owned
    /// by `owned` or by the key cache (which closes nothing before the call
    /// ends).
    Object {
        dict: Handle<'ctx>,
        key: sys::HPy,
        owned: Option<Handle<'ctx>>,
    },
    /// A value where a key belongs: parsed as ujson parses it (its own
    /// errors come first), then rejected, unless ujson would let it pass
    /// (see [`Decoder::last_str`]). The object frame below has a NULL key.
    NotAKey,
}

/// Parses `input` (UTF-8, or WTF-8 when it holds lone surrogates) into a new object.
///
/// `utf8`: whether `input` is known to be valid UTF-8 (then strings are not
/// validated again); `strict`: RFC 8259's grammar instead of ujson's.
pub(crate) fn loads<'ctx>(
    ctx: &'ctx Context,
    input: &[u8],
    utf8: bool,
    strict: bool,
) -> Result<Handle<'ctx>> {
    let mut d = Decoder {
        ctx,
        input,
        pos: 0,
        depth: 0,
        scratch: Vec::new(),
        wide: Vec::new(),
        items: Vec::new(),
        open: Vec::new(),
        keys: Vec::new(),
        retired: Vec::new(),
        pypy: ctx.runtime() == hpy::Runtime::PyPy,
        utf8,
        strict,
        last_str: false,
        bad_key: false,
    };
    let result = d.parse_value().and_then(|value| {
        d.skip_ws();
        if d.pos != input.len() {
            return Err(error("Trailing data"));
        }
        Ok(value)
    });
    if d.bad_key {
        let invalid_keys = || error("Invalid JSON: object keys must be strings");
        return match result {
            Ok(_) => Err(invalid_keys()),
            Err(e) if e.matches(ctx, &crate::JSONDecodeError::type_object(ctx)?) => {
                Err(invalid_keys())
            }
            Err(e) => Err(e),
        };
    }
    result
}

impl<'ctx> Decoder<'_, 'ctx> {
    /// The byte at `i`, or NUL past the end (ujson reads a NUL-terminated buffer).
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.input.get(i).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\r' | b'\n') {
            self.pos += 1;
            // Indented input: runs of spaces, eight at a time.
            while let Some(chunk) = self.input.get(self.pos..self.pos + 8) {
                if chunk != b"        " {
                    break;
                }
                self.pos += 8;
            }
        }
    }

    /// Takes ownership of what a context function returned (NULL: the raised error).
    #[inline(always)]
    fn own(&self, raw: sys::HPy) -> Result<Handle<'ctx>> {
        // SAFETY: every caller passes the result of a context function that
        // returns a new handle, or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, raw) }
    }

    /// Parses one value, with everything nested in it.
    fn parse_value(&mut self) -> Result<Handle<'ctx>> {
        'value: loop {
            // One value starts at `pos`: a scalar, or a container that is
            // empty or gets a frame (and the loop goes on with its first item).
            let mut value = loop {
                match self.peek() {
                    b'"' => {
                        let s = self.parse_string_value()?;
                        self.last_str = true;
                        break s;
                    }
                    b'0'..=b'9' | b'-' => {
                        self.last_str = false;
                        break self.parse_number()?;
                    }
                    b'I' | b'N' if !self.strict => {
                        self.last_str = false;
                        break self.parse_number()?;
                    }
                    b'[' => {
                        self.last_str = false;
                        self.enter()?;
                        self.skip_ws();
                        if self.peek() == b']' {
                            self.pos += 1;
                            self.depth -= 1;
                            // SAFETY: the context is live; a list of length 0 has no NULL items.
                            break self.own(unsafe { sys::HPyList_New(self.ctx.as_raw(), 0) })?;
                        }
                        self.open.push(Open::Array {
                            base: self.items.len(),
                        });
                        continue 'value;
                    }
                    b'{' => {
                        self.enter()?;
                        let dict = self.ctx.new_dict()?;
                        self.skip_ws();
                        if self.peek() == b'}' {
                            self.pos += 1;
                            self.depth -= 1;
                            break dict;
                        }
                        match self.member_key()? {
                            Some((key, owned)) => self.open.push(Open::Object { dict, key, owned }),
                            None => {
                                self.open.push(Open::Object {
                                    dict,
                                    key: sys::HPy::NULL,
                                    owned: None,
                                });
                                self.open.push(Open::NotAKey);
                                self.last_str = false;
                            }
                        }
                        continue 'value;
                    }
                    b't' => {
                        self.literal(b"true", "Unexpected character found when decoding 'true'")?;
                        self.last_str = false;
                        break self.ctx.true_().dup();
                    }
                    b'f' => {
                        self.literal(b"false", "Unexpected character found when decoding 'false'")?;
                        self.last_str = false;
                        break self.ctx.false_().dup();
                    }
                    b'n' => {
                        self.literal(b"null", "Unexpected character found when decoding 'null'")?;
                        self.last_str = false;
                        break self.ctx.none().dup();
                    }
                    b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                    _ => return Err(error("Expected object or value")),
                }
            };
            // A value is complete: it goes into the innermost container, which
            // may then be complete too.
            loop {
                match self.open.last_mut() {
                    None => return Ok(value),
                    Some(Open::Array { base }) => {
                        let base = *base;
                        self.items.push(value);
                        self.skip_ws();
                        let c = self.peek();
                        self.pos += 1;
                        match c {
                            b']' => {
                                self.open.pop();
                                self.depth -= 1;
                                value = self.build_list(base)?;
                            }
                            b',' => {
                                self.skip_ws();
                                if self.peek() == b']' {
                                    return Err(error(
                                        "Unexpected character found when decoding array value (1)",
                                    ));
                                }
                                continue 'value;
                            }
                            _ => {
                                return Err(error(
                                    "Unexpected character found when decoding array value (2)",
                                ));
                            }
                        }
                    }
                    Some(Open::Object { dict, key, owned }) => {
                        if key.is_null() {
                            // After a key that passed ujson's test without
                            // being a string: no item, and an error at the end.
                            self.bad_key = true;
                            drop(value);
                        } else {
                            // SAFETY: `dict` is an open dict, `key` an open str (owned
                            // by `owned` or by the cache) and `value` open;
                            // `HPy_SetItem` steals neither.
                            let r = unsafe {
                                sys::HPy_SetItem(
                                    self.ctx.as_raw(),
                                    dict.as_raw(),
                                    *key,
                                    value.as_raw(),
                                )
                            };
                            drop(owned.take());
                            drop(value);
                            if r < 0 {
                                return Err(Error::raised());
                            }
                        }
                        self.skip_ws();
                        let c = self.peek();
                        self.pos += 1;
                        match c {
                            b'}' => {
                                let Some(Open::Object { dict, .. }) = self.open.pop() else {
                                    unreachable!("the innermost frame is this object")
                                };
                                self.depth -= 1;
                                value = dict;
                            }
                            b',' => {
                                self.skip_ws();
                                if self.peek() == b'}' {
                                    return Err(error(
                                        "Unexpected character in found when decoding object value",
                                    ));
                                }
                                let next = self.member_key()?;
                                let not_a_key = next.is_none();
                                if let Some(Open::Object { key, owned, .. }) = self.open.last_mut()
                                {
                                    (*key, *owned) = next.unwrap_or((sys::HPy::NULL, None));
                                }
                                if not_a_key {
                                    self.open.push(Open::NotAKey);
                                    self.last_str = false;
                                }
                                continue 'value;
                            }
                            _ => {
                                return Err(error(
                                    "Unexpected character in found when decoding object value",
                                ));
                            }
                        }
                    }
                    Some(Open::NotAKey) => {
                        if self.strict || !self.last_str {
                            return Err(error(
                                "Key name of object must be 'string' when decoding 'object'",
                            ));
                        }
                        // ujson takes it as a key (a list or dict whose last
                        // scalar was a string); its value comes next.
                        self.open.pop();
                        drop(value);
                        self.skip_ws();
                        let c = self.peek();
                        self.pos += 1;
                        if c != b':' {
                            return Err(error("No ':' found when decoding object value"));
                        }
                        self.skip_ws();
                        continue 'value;
                    }
                }
            }
        }
    }

    /// Consumes `word` (whose first byte is known to be there), or fails with `msg`.
    #[inline]
    fn literal(&mut self, word: &[u8], msg: &'static str) -> Result<()> {
        match self.input.get(self.pos..self.pos + word.len()) {
            Some(s) if s == word => {
                self.pos += word.len();
                Ok(())
            }
            _ => Err(error(msg)),
        }
    }

    // --- containers ------------------------------------------------------------

    /// Opens an array or object at `pos`: one level deeper.
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error("Reached object decoding depth limit"));
        }
        self.pos += 1;
        Ok(())
    }

    /// Moves `items[base..]` into a new list.
    fn build_list(&mut self, base: usize) -> Result<Handle<'ctx>> {
        let list = self.ctx.new_list_from(&self.items[base..]);
        self.items.truncate(base);
        list
    }

    /// Parses a member's key and its `:` (at `pos`, after whitespace; the
    /// value comes next): the key's raw handle and the owned handle when it
    /// is not cached, or `None` for a value in the key's place (ujson parses
    /// it, then rejects it: an [`Open::NotAKey`] frame).
    #[inline(always)]
    fn member_key(&mut self) -> Result<Option<(sys::HPy, Option<Handle<'ctx>>)>> {
        if self.peek() != b'"' {
            return Ok(None);
        }
        let key = self.parse_key()?;
        self.last_str = true;
        self.skip_ws();
        let c = self.peek();
        self.pos += 1;
        if c != b':' {
            return Err(error("No ':' found when decoding object value"));
        }
        self.skip_ws();
        Ok(Some(key))
    }

    /// A dict key (a string at `pos`): its raw handle, and the owned handle
    /// when it is not cached.
    fn parse_key(&mut self) -> Result<(sys::HPy, Option<Handle<'ctx>>)> {
        let (scanned, flags) = self.scan_string()?;
        let Scanned::Raw { start, end } = scanned else {
            let key = self.make_scratch_str(flags)?;
            return Ok((key.as_raw(), Some(key)));
        };
        let len = end - start;
        if len > MAX_CACHED_KEY {
            let key = self.make_raw_str(start, end, flags)?;
            return Ok((key.as_raw(), Some(key)));
        }
        let bytes = &self.input[start..end];
        let first = key_set(bytes) * CACHE_WAYS;
        if self.keys.is_empty() {
            self.keys.resize_with(CACHE_SLOTS, || None);
        }
        let m = len.min(KEY_HEAD);
        let input = self.input;
        let ways = &mut self.keys[first..first + CACHE_WAYS];
        if let Some(c) = &ways[0]
            && c.holds(input, bytes)
        {
            return Ok((c.handle.as_raw(), None));
        }
        for way in 1..CACHE_WAYS {
            if let Some(c) = &ways[way]
                && c.holds(input, bytes)
            {
                // The set's most recently used key first.
                ways[..=way].rotate_right(1);
                let c = ways[0].as_ref().expect("a hit is a filled slot");
                return Ok((c.handle.as_raw(), None));
            }
        }
        let key = self.make_raw_str(start, end, flags)?;
        let raw = key.as_raw();
        let mut head = [0u8; KEY_HEAD];
        head[..m].copy_from_slice(&self.input[start..start + m]);
        // The least recently used key leaves; the new one comes first.
        let ways = &mut self.keys[first..first + CACHE_WAYS];
        ways.rotate_right(1);
        let old = ways[0].replace(CachedKey {
            len,
            head,
            start,
            handle: key,
        });
        if let Some(old) = old {
            self.retired.push(old.handle);
        }
        Ok((raw, None))
    }

    // --- strings ---------------------------------------------------------------

    fn parse_string_value(&mut self) -> Result<Handle<'ctx>> {
        let (scanned, flags) = self.scan_string()?;
        match scanned {
            Scanned::Raw { start, end } => self.make_raw_str(start, end, flags),
            Scanned::Scratch => self.make_scratch_str(flags),
        }
    }

    /// Scans the string at `pos` (its opening quote), up to and past the
    /// closing quote. Without escapes, the string stays in the input;
    /// otherwise it is unescaped into `scratch`.
    fn scan_string(&mut self) -> Result<(Scanned, StrFlags)> {
        let input = self.input;
        let start = self.pos + 1;
        let mut p = start;
        let mut flags = StrFlags::default();
        loop {
            p = skip_plain(input, p);
            match self.at(p) {
                b'"' => {
                    self.pos = p + 1;
                    return Ok((Scanned::Raw { start, end: p }, flags));
                }
                b'\\' => {
                    self.scratch.clear();
                    self.scratch.extend_from_slice(&input[start..p]);
                    return self.scan_escaped(p, flags);
                }
                0..=0x1f => {
                    self.control_character(p)?;
                    p += 1;
                }
                _ => {
                    flags.set(StrFlags::NON_ASCII, true);
                    // Up to the next quote, backslash or NUL (none of which can be
                    // part of a multi-byte sequence): valid UTF-8 in one go, or
                    // sequence by sequence with ujson's rules (surrogates allowed).
                    let run = skip_to_special_ascii(input, p);
                    if self.utf8 || core::str::from_utf8(&input[p..run]).is_ok() {
                        p = run;
                    } else {
                        let (n, cp) = utf8_sequence(input, p)?;
                        flags.set(StrFlags::SURROGATE, (0xD800..0xE000).contains(&cp));
                        p += n;
                    }
                }
            }
        }
    }

    /// Continues `scan_string` from the first backslash at `p`, unescaping
    /// into `scratch` (already holding the characters before it).
    fn scan_escaped(&mut self, mut p: usize, mut flags: StrFlags) -> Result<(Scanned, StrFlags)> {
        let input = self.input;
        // Lone surrogates in `scratch` (a joined pair no longer counts).
        let mut surrogates = usize::from(flags.has(StrFlags::SURROGATE));
        // Where the last `\uD8xx`..`\uDBxx` escape ended, to join a low one right after it.
        let mut high_end = usize::MAX;
        loop {
            let run = skip_plain(input, p);
            self.scratch.extend_from_slice(&input[p..run]);
            p = run;
            match self.at(p) {
                b'"' => {
                    self.pos = p + 1;
                    flags.0 &= !StrFlags::SURROGATE;
                    flags.set(StrFlags::SURROGATE, surrogates > 0);
                    return Ok((Scanned::Scratch, flags));
                }
                c @ 0..=0x1f => {
                    self.control_character(p)?;
                    self.scratch.push(c);
                    p += 1;
                }
                b'\\' => {
                    let c = match self.at(p + 1) {
                        b'\\' => b'\\',
                        b'"' => b'"',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let mut ch: u32 = 0;
                            for i in 0..4 {
                                let h = self.at(p + 2 + i);
                                let v = match h {
                                    b'0'..=b'9' => h - b'0',
                                    b'a'..=b'f' => h - b'a' + 10,
                                    b'A'..=b'F' => h - b'A' + 10,
                                    0 => {
                                        return Err(error(
                                            "Unterminated unicode escape sequence when decoding 'string'",
                                        ));
                                    }
                                    _ => {
                                        return Err(error(
                                            "Unexpected character in unicode escape sequence when decoding 'string'",
                                        ));
                                    }
                                };
                                ch = (ch << 4) | u32::from(v);
                            }
                            let end = p + 6;
                            if ch & 0xFC00 == 0xDC00 && high_end == p {
                                // Join with the high surrogate just written (3 bytes).
                                let n = self.scratch.len();
                                let hi = 0xD000
                                    | (u32::from(self.scratch[n - 2] & 0x3F) << 6)
                                    | u32::from(self.scratch[n - 1] & 0x3F);
                                self.scratch.truncate(n - 3);
                                let cp = (((hi - 0xD800) << 10) | (ch - 0xDC00)) + 0x10000;
                                push_wtf8(&mut self.scratch, cp);
                                surrogates -= 1;
                                high_end = usize::MAX;
                            } else {
                                push_wtf8(&mut self.scratch, ch);
                                flags.set(StrFlags::NON_ASCII, ch >= 0x80);
                                flags.set(StrFlags::NUL, ch == 0);
                                if (0xD800..0xE000).contains(&ch) {
                                    surrogates += 1;
                                }
                                high_end = if ch & 0xFC00 == 0xD800 {
                                    end
                                } else {
                                    usize::MAX
                                };
                            }
                            p = end;
                            continue;
                        }
                        0 => {
                            return Err(error(
                                "Unterminated escape sequence when decoding 'string'",
                            ));
                        }
                        _ => {
                            return Err(error(
                                "Unrecognized escape sequence when decoding 'string'",
                            ));
                        }
                    };
                    self.scratch.push(c);
                    p += 2;
                }
                _ if self.utf8 => {
                    // Valid UTF-8 (no surrogates): the whole run up to the
                    // next quote, backslash or control character at once.
                    flags.set(StrFlags::NON_ASCII, true);
                    let run = skip_to_special_ascii(input, p);
                    self.scratch.extend_from_slice(&input[p..run]);
                    p = run;
                }
                _ => {
                    let (n, cp) = utf8_sequence(input, p)?;
                    flags.set(StrFlags::NON_ASCII, true);
                    if (0xD800..0xE000).contains(&cp) {
                        surrogates += 1;
                    }
                    self.scratch.extend_from_slice(&input[p..p + n]);
                    p += n;
                }
            }
        }
    }

    /// A byte below 0x20 at `p` in a string (or the end of the input): the
    /// end is an unmatched quote, and so is a NUL for ujson (which reads a
    /// NUL-terminated buffer); other control characters are part of the
    /// string for ujson and an error for RFC 8259.
    #[cold]
    fn control_character(&self, p: usize) -> Result<()> {
        if p >= self.input.len() || (self.input[p] == 0 && !self.strict) {
            return Err(error("Unmatched '\"' when decoding 'string'"));
        }
        if self.strict {
            return Err(error("Invalid control character when decoding 'string'"));
        }
        Ok(())
    }

    /// The `str` of `input[start..end]` (validated (WTF-)8).
    #[inline]
    fn make_raw_str(&mut self, start: usize, end: usize, flags: StrFlags) -> Result<Handle<'ctx>> {
        let bytes = &self.input[start..end];
        if !flags.has(StrFlags::NON_ASCII) && !self.pypy {
            // SAFETY: without `NON_ASCII`, `scan_string` met no byte from
            // 0x80 on (`skip_plain` stops at every one).
            return unsafe { self.ctx.new_str_from_ascii_unchecked(bytes) };
        }
        if !flags.has(StrFlags::SURROGATE) {
            if hpy::CPYTHON_ABI
                && let Some(text) = self.as_text(bytes)
            {
                // Made at its final size and kind straight from the input.
                return self.ctx.new_str(text);
            }
            self.scratch.clear();
            self.scratch.extend_from_slice(bytes);
            return self.utf8_scratch_str();
        }
        new_str_wide(self.ctx, &mut self.wide, bytes)
    }

    /// `bytes` as text, when they are valid UTF-8 (known for a `str`'s input,
    /// checked for other input; `None` leaves the error to the decoder).
    #[inline]
    fn as_text<'b>(&self, bytes: &'b [u8]) -> Option<&'b str> {
        if self.utf8 {
            // SAFETY: the input is valid UTF-8 (the caller of `loads` says so),
            // and the callers pass a string of it without lone surrogates (no
            // `SURROGATE` flag), cut at ASCII quotes, which end no sequence
            // early, or `scratch`, which holds such runs and the UTF-8 of the
            // escapes' code points (lone surrogates set `SURROGATE`).
            Some(unsafe { core::str::from_utf8_unchecked(bytes) })
        } else {
            core::str::from_utf8(bytes).ok()
        }
    }

    /// The `str` of `scratch` (validated (WTF-)8).
    #[inline]
    fn make_scratch_str(&mut self, flags: StrFlags) -> Result<Handle<'ctx>> {
        if !flags.has(StrFlags::NON_ASCII) && !self.pypy {
            // SAFETY: without `NON_ASCII`, every byte unescaped into
            // `scratch` is below 0x80 (see `scan_escaped`).
            return unsafe { self.ctx.new_str_from_ascii_unchecked(&self.scratch) };
        }
        if !flags.has(StrFlags::SURROGATE) && !flags.has(StrFlags::NUL) {
            return self.utf8_scratch_str();
        }
        new_str_wide(self.ctx, &mut self.wide, &self.scratch)
    }

    /// The `str` of `scratch`: valid UTF-8 without NUL, so NUL-terminated here.
    fn utf8_scratch_str(&mut self) -> Result<Handle<'ctx>> {
        if hpy::CPYTHON_ABI
            && let Some(text) = self.as_text(&self.scratch)
        {
            return self.ctx.new_str(text);
        }
        self.scratch.push(0);
        // SAFETY: the context is live; `scratch` is a NUL-terminated string of
        // valid UTF-8 (no surrogates, no NUL inside: checked by the caller).
        let raw =
            unsafe { sys::HPyUnicode_FromString(self.ctx.as_raw(), self.scratch.as_ptr().cast()) };
        self.own(raw)
    }

    // --- numbers ---------------------------------------------------------------

    /// A number (or, for ujson, `NaN`, `Infinity`, `-Infinity`) at `pos`.
    #[inline]
    fn parse_number(&mut self) -> Result<Handle<'ctx>> {
        if self.strict {
            self.parse_rfc_number()
        } else {
            self.parse_ujson_number()
        }
    }

    /// A number, by RFC 8259's grammar:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn parse_rfc_number(&mut self) -> Result<Handle<'ctx>> {
        let start = self.pos;
        let mut p = start;
        let neg = self.at(p) == b'-';
        if neg {
            p += 1;
        }
        match self.at(p) {
            b'0' => {
                p += 1;
                if self.at(p).is_ascii_digit() {
                    return Err(error(
                        "Leading zeros are not allowed when decoding 'number'",
                    ));
                }
            }
            b'1'..=b'9' => {
                while self.at(p).is_ascii_digit() {
                    p += 1;
                }
            }
            _ => return Err(error("Expected a digit when decoding 'number'")),
        }
        let int_end = p;
        let mut is_float = false;
        if self.at(p) == b'.' {
            p += 1;
            if !self.at(p).is_ascii_digit() {
                return Err(error("Expected a digit after '.' when decoding 'number'"));
            }
            while self.at(p).is_ascii_digit() {
                p += 1;
            }
            is_float = true;
        }
        if matches!(self.at(p), b'e' | b'E') {
            p += 1;
            if matches!(self.at(p), b'+' | b'-') {
                p += 1;
            }
            if !self.at(p).is_ascii_digit() {
                return Err(error(
                    "Expected a digit in the exponent when decoding 'number'",
                ));
            }
            while self.at(p).is_ascii_digit() {
                p += 1;
            }
            is_float = true;
        }
        self.pos = p;
        if is_float {
            return self.float_from(start, p);
        }
        let digits = &self.input[start + usize::from(neg)..int_end];
        let max: u64 = if neg { 1 << 63 } else { u64::MAX };
        let mut value: u64 = 0;
        for &c in digits {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
            {
                Some(v) if v <= max => value = v,
                _ => return self.parse_big_int(start, int_end),
            }
        }
        self.int_from(neg, value)
    }

    /// A number as ujson's `decode_numeric` reads it: `NaN`, `Infinity` or
    /// `-Infinity`; else an integer `-?[0-9]*` (leading zeros allowed, `-`
    /// alone is 0); else, when `.`, `e` or `E` follows, a double read from
    /// the number's start by [`Self::ujson_double`].
    fn parse_ujson_number(&mut self) -> Result<Handle<'ctx>> {
        let start = self.pos;
        let mut p = start;
        let neg = self.at(p) == b'-';
        if neg {
            p += 1;
        }
        match self.at(p) {
            b'I' => return self.parse_infinity(p, neg),
            b'N' if !neg => return self.parse_nan(p),
            _ => {}
        }
        let digits = p;
        let max: u64 = if neg { 1 << 63 } else { u64::MAX };
        let mut value: u64 = 0;
        let mut overflow = false;
        while let c @ b'0'..=b'9' = self.at(p) {
            if !overflow {
                match value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(c - b'0')))
                {
                    Some(v) if v <= max => value = v,
                    _ => overflow = true,
                }
            }
            p += 1;
        }
        if matches!(self.at(p), b'.' | b'e' | b'E') {
            return self.ujson_double(start, p - digits, p);
        }
        self.pos = p;
        if overflow {
            return self.parse_big_int(start, p);
        }
        self.int_from(neg, value)
    }

    /// The double at `pos` (the number's start, maybe a `-`, then
    /// `int_digits` digits, then `.`, `e` or `E` at `p`) as double-conversion's
    /// `StringToDouble` reads it with `ALLOW_TRAILING_JUNK` (ujson's flags):
    /// the longest prefix `-?[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]+)?` with a
    /// digit before the exponent, correctly rounded; no digit at all is
    /// junk: `0.0`, and nothing consumed.
    fn ujson_double(
        &mut self,
        start: usize,
        int_digits: usize,
        mut p: usize,
    ) -> Result<Handle<'ctx>> {
        let mut mantissa_digits = int_digits;
        if self.at(p) == b'.' {
            p += 1;
            while self.at(p).is_ascii_digit() {
                p += 1;
                mantissa_digits += 1;
            }
        }
        if mantissa_digits == 0 {
            // SAFETY: the context is live.
            return self.own(unsafe { sys::HPyFloat_FromDouble(self.ctx.as_raw(), 0.0) });
        }
        if matches!(self.at(p), b'e' | b'E') {
            let mut q = p + 1;
            if matches!(self.at(q), b'+' | b'-') {
                q += 1;
            }
            if self.at(q).is_ascii_digit() {
                while self.at(q).is_ascii_digit() {
                    q += 1;
                }
                p = q;
            }
        }
        self.pos = p;
        self.float_from(start, p)
    }

    /// `Infinity` at `p` (after the sign at `pos`, if any), as ujson reads it.
    fn parse_infinity(&mut self, p: usize, neg: bool) -> Result<Handle<'ctx>> {
        if self.input.get(p..p + 8) != Some(b"Infinity") {
            return Err(error(if neg {
                "Unexpected character found when decoding '-Infinity'"
            } else {
                "Unexpected character found when decoding 'Infinity'"
            }));
        }
        self.pos = p + 8;
        let value = if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        // SAFETY: the context is live.
        self.own(unsafe { sys::HPyFloat_FromDouble(self.ctx.as_raw(), value) })
    }

    /// `NaN` at `p` (`pos`), as ujson reads it.
    fn parse_nan(&mut self, p: usize) -> Result<Handle<'ctx>> {
        if self.input.get(p..p + 3) != Some(b"NaN") {
            return Err(error("Unexpected character found when decoding 'NaN'"));
        }
        self.pos = p + 3;
        // SAFETY: the context is live.
        self.own(unsafe { sys::HPyFloat_FromDouble(self.ctx.as_raw(), f64::NAN) })
    }

    /// The float of `input[start..end]`: a sign, digits, `.`, an exponent,
    /// with a digit in the mantissa (both grammars above), which Rust's
    /// parser takes and rounds correctly at any length.
    fn float_from(&self, start: usize, end: usize) -> Result<Handle<'ctx>> {
        let value = core::str::from_utf8(&self.input[start..end])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        // SAFETY: the context is live.
        self.own(unsafe { sys::HPyFloat_FromDouble(self.ctx.as_raw(), value) })
    }

    /// The `int` of `value` (negated when `neg`; at most 2**63 then).
    #[inline(always)]
    fn int_from(&self, neg: bool, value: u64) -> Result<Handle<'ctx>> {
        let ctx = self.ctx.as_raw();
        let raw = if neg {
            let v = 0i64.wrapping_sub_unsigned(value);
            // SAFETY: the context is live.
            unsafe { sys::HPyLong_FromInt64_t(ctx, v) }
        } else if let Ok(v) = i64::try_from(value) {
            // SAFETY: the context is live.
            unsafe { sys::HPyLong_FromInt64_t(ctx, v) }
        } else {
            // SAFETY: the context is live.
            unsafe { sys::HPyLong_FromUInt64_t(ctx, value) }
        };
        self.own(raw)
    }

    /// An integer beyond 64 bits: `int(text)` (digits, maybe a minus sign).
    #[cold]
    fn parse_big_int(&mut self, start: usize, end: usize) -> Result<Handle<'ctx>> {
        let text = self.ctx.new_str_from_ascii(&self.input[start..end])?;
        self.ctx.int_type().call1(&text)
    }
}

/// The first `"`, `\\`, control character or non-ASCII byte at or after
/// `p` (or the end of the input).
#[inline(always)]
fn skip_plain(input: &[u8], p: usize) -> usize {
    block::Set {
        slash: false,
        html: false,
        non_ascii: true,
    }
    .find(input, p)
}

/// The first `"`, `\\` or control character at or after `p` (or the end of
/// the input).
#[inline(always)]
fn skip_to_special_ascii(input: &[u8], p: usize) -> usize {
    block::Set {
        slash: false,
        html: false,
        non_ascii: false,
    }
    .find(input, p)
}

/// Validates the multi-byte sequence at `input[p]` (a byte >= 0x80) as ujson
/// does (surrogates allowed, overlong forms and code points above U+10FFFF
/// refused): its length and code point.
fn utf8_sequence(input: &[u8], p: usize) -> Result<(usize, u32)> {
    let at = |i: usize| input.get(p + i).copied().unwrap_or(0);
    let lead = at(0);
    let (n, init) = match lead {
        0x80..=0xBF => {
            return Err(error(
                "Found UTF-8 continuation byte without corresponding start byte when decoding 'string'",
            ));
        }
        0xC0..=0xDF => (2, u32::from(lead & 0x1F)),
        0xE0..=0xEF => (3, u32::from(lead & 0x0F)),
        0xF0..=0xF4 => (4, u32::from(lead & 0x07)),
        0xF5..=0xF7 => {
            return Err(error(
                "Code point > U+10FFFF encountered whilst decoding 'string'",
            ));
        }
        _ => {
            return Err(error(
                "Invalid UTF-8 sequence length when decoding 'string'",
            ));
        }
    };
    let mut cp = init;
    for i in 1..n {
        let b = at(i);
        if b & 0xC0 != 0x80 {
            return Err(error(
                "Invalid UTF-8 continuation byte when decoding 'string'",
            ));
        }
        cp = (cp << 6) | u32::from(b & 0x3F);
    }
    match n {
        2 if cp < 0x80 => Err(error(
            "Overlong 2-byte UTF-8 sequence detected when decoding 'string'",
        )),
        3 if cp < 0x800 => Err(error(
            "Overlong 3-byte UTF-8 sequence detected when encoding string",
        )),
        4 if cp < 0x10000 => Err(error(
            "Overlong 4-byte UTF-8 sequence detected when decoding 'string'",
        )),
        4 if cp > 0x10FFFF => Err(error(
            "Code point > U+10FFFF encountered whilst decoding 'string'",
        )),
        _ => Ok((n, cp)),
    }
}

/// Appends `cp` (at most U+10FFFF; surrogates allowed) in (WTF-)8.
#[inline]
pub(crate) fn push_wtf8(out: &mut Vec<u8>, cp: u32) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]);
    } else if cp < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    }
}

/// Decodes well-formed WTF-8 (what the scanner validated, or what
/// `str.encode("utf-8", "surrogatepass")` returns) into code points.
pub(crate) fn wtf8_code_points(bytes: &[u8], out: &mut Vec<sys::wchar_t>) {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (n, init) = match b {
            0x00..=0x7F => (1, u32::from(b)),
            0xC0..=0xDF => (2, u32::from(b & 0x1F)),
            0xE0..=0xEF => (3, u32::from(b & 0x0F)),
            _ => (4, u32::from(b & 0x07)),
        };
        let mut cp = init;
        for k in 1..n {
            cp = (cp << 6) | u32::from(bytes.get(i + k).copied().unwrap_or(0x80) & 0x3F);
        }
        out.push(cp as sys::wchar_t);
        i += n;
    }
}

/// A `str` of WTF-8 bytes (lone surrogates or NULs allowed), through
/// `HPyUnicode_FromWideChar`, which takes any code point.
#[cold]
fn new_str_wide<'ctx>(
    ctx: &'ctx Context,
    wide: &mut Vec<sys::wchar_t>,
    bytes: &[u8],
) -> Result<Handle<'ctx>> {
    wide.clear();
    wtf8_code_points(bytes, wide);
    ctx.new_str_from_wide(wide)
}

/// The key cache's hash: eight bytes at a time, multiply and fold; the
/// last bytes are read as one overlapping word (or two halves, or three
/// bytes), not copied out with a call to `memcpy`. Its top bits pick the
/// set: a multiply carries a change of a byte only upwards, so the final
/// fold and multiply bring every byte into them (keys differing in their
/// last byte only used to share their low bits, and slot: citm_catalog.json
/// made 807 keys per call for its 321).
#[inline(always)]
fn key_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = bytes.len();
    let mut h: u64 = n as u64;
    let mut i = 0;
    while i + 8 <= n {
        h = (h ^ read_u64(bytes, i)).wrapping_mul(K).rotate_left(29);
        i += 8;
    }
    let last = if n >= 8 {
        read_u64(bytes, n - 8)
    } else if n >= 4 {
        (u64::from(read_u32(bytes, 0)) << 32) | u64::from(read_u32(bytes, n - 4))
    } else if n > 0 {
        (u64::from(bytes[0]) << 16) | (u64::from(bytes[n / 2]) << 8) | u64::from(bytes[n - 1])
    } else {
        0
    };
    h = (h ^ last).wrapping_mul(K);
    (h ^ (h >> 29)).wrapping_mul(K)
}

/// Whether two keys' bytes are equal, compared a word at a time (the last
/// word overlapping) instead of with a call to `memcmp`.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 <= n {
            if read_u64(a, i) != read_u64(b, i) {
                return false;
            }
            i += 8;
        }
        read_u64(a, n - 8) == read_u64(b, n - 8)
    } else if n >= 4 {
        read_u32(a, 0) == read_u32(b, 0) && read_u32(a, n - 4) == read_u32(b, n - 4)
    } else {
        // Positions 0, n/2 and n-1 cover every byte of 1..=3 bytes.
        n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
    }
}

/// The key cache's set for a key: the top bits of its hash.
#[inline(always)]
fn key_set(bytes: &[u8]) -> usize {
    (key_hash(bytes) >> (64 - (CACHE_SLOTS / CACHE_WAYS).trailing_zeros())) as usize
}

/// The eight bytes at `i` (little-endian); `i + 8 <= bytes.len()`.
#[inline(always)]
fn read_u64(bytes: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The four bytes at `i` (little-endian); `i + 4 <= bytes.len()`.
#[inline(always)]
fn read_u32(bytes: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[i..i + 4]);
    u32::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `same_bytes` is `==`, for every length up to 40 and a difference at
    /// every position; equal keys hash alike.
    #[test]
    fn same_bytes_is_equality() {
        let base: Vec<u8> = (0..40u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect();
        for n in 0..=base.len() {
            let a = &base[..n];
            // A copy: equal bytes at another address.
            let copy = a.to_vec();
            assert!(same_bytes(a, &copy), "len {n}");
            assert_eq!(key_hash(a), key_hash(&copy));
            for k in 0..n {
                let mut b = a.to_vec();
                b[k] ^= 0x40;
                assert!(!same_bytes(a, &b), "len {n}, differing at {k}");
            }
            if n > 0 {
                assert!(!same_bytes(a, &base[..n - 1]));
            }
        }
    }

    /// Keys that differ in one byte, wherever it is, spread over the cache's
    /// sets: the 256 values of any one byte of a key of any length up to 40
    /// reach at least half of the sets (a hash whose set ignored a byte's
    /// high bits put citm_catalog.json's numeric keys in a few slots).
    #[test]
    fn one_byte_apart_keys_spread_over_the_sets() {
        let sets = CACHE_SLOTS / CACHE_WAYS;
        for n in 1..=40usize {
            for k in 0..n {
                let mut key: Vec<u8> = (0..n).map(|i| b'0' + (i % 10) as u8).collect();
                let mut seen = vec![false; sets];
                for v in 0..=255u8 {
                    key[k] = v;
                    seen[key_set(&key)] = true;
                }
                let reached = seen.iter().filter(|&&s| s).count();
                assert!(
                    reached >= sets / 2,
                    "len {n}, byte {k}: {reached} sets of {sets}"
                );
            }
        }
    }
}
