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
//!
//! The walk is iterative: the open containers are frames on a heap stack, so
//! the native stack a call uses does not grow with the nesting, and any
//! thread that can call Python can encode to ujson's depth. Containers are
//! read as ujson reads them: the real items of a `list`, `tuple` or `dict`,
//! whatever a subclass's `__len__`, `__getitem__` or `keys` say (a subclass
//! is read through a copy of its items).

use hpy::{Context, Error, Handle, Result, StrWriter, exc, sys};

use crate::block;

/// ujson's `JSON_MAX_RECURSION_DEPTH`.
const MAX_LEVEL: usize = 1024;

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

/// A character of a `str`'s storage: UCS-2 (`u16`) or UCS-4 (`u32`).
trait Unit: Copy + Into<u32> {
    /// Whether blocks of [`block::LEN`] units can be checked at once.
    const UCS2: bool;

    /// [`block::Set::pack_ucs2`] for UCS-2 (never called for UCS-4).
    ///
    /// # Safety
    ///
    /// As `pack_ucs2`: [`block::LEN`] units readable at `p`, as many bytes
    /// writable at `d`.
    unsafe fn pack_block(scan: &block::Set, p: *const Self, d: *mut u8) -> u32;

    /// [`block::escape_8_units`] for UCS-2 (never called for UCS-4).
    ///
    /// # Safety
    ///
    /// As `escape_8_units`: [`block::UNITS`] units readable at `p`,
    /// [`block::UNITS_ROOM`] bytes writable at `d`.
    unsafe fn escape_8(p: *const Self, d: *mut u8) -> bool;
}

impl Unit for u16 {
    const UCS2: bool = true;

    #[inline(always)]
    unsafe fn pack_block(scan: &block::Set, p: *const u16, d: *mut u8) -> u32 {
        // SAFETY: forwarded.
        unsafe { scan.pack_ucs2(p, d) }
    }

    #[inline(always)]
    unsafe fn escape_8(p: *const u16, d: *mut u8) -> bool {
        // SAFETY: forwarded.
        unsafe { block::escape_8_units(p, d) }
    }
}

impl Unit for u32 {
    const UCS2: bool = false;

    #[inline(always)]
    unsafe fn pack_block(_: &block::Set, _: *const u32, _: *mut u8) -> u32 {
        unreachable!("UCS-4 text is written one character at a time")
    }

    #[inline(always)]
    unsafe fn escape_8(_: *const u32, _: *mut u8) -> bool {
        unreachable!("UCS-4 text is written one character at a time")
    }
}

/// The state of one `dumps` call.
///
/// `USUAL`: the options are ujson's defaults in all that the inner loops
/// test (compact, `,` and `:`, `/` and non-ASCII escaped, no HTML escapes):
/// those tests are then constants, folded away, instead of loads and
/// branches per block of 16 bytes, per item and per key (`dumps` picks the
/// instance; the other one reads the options).
struct Encoder<'a, 'ctx, const USUAL: bool> {
    ctx: &'ctx Context,
    out: StrWriter<'ctx>,
    opts: &'a Options,
    default: Option<&'a Handle<'ctx>>,
    table: [Esc; 256],
    /// The bytes that stop a block: a superset of those `table` does not copy
    /// (with `ensure_ascii`, every byte from 0x80 on, although the table
    /// copies stray continuation bytes; the slow path then copies them).
    scan: block::Set,
    /// The open containers, innermost last: `stack.len()` is the nesting
    /// level of the next value.
    stack: Vec<Frame<'ctx>>,
    /// The type `dict` (HPy 0.9 has no context constant for it), loaded at the
    /// first dict, to tell a subclass from a dict.
    dict_type: Option<Handle<'ctx>>,
    /// Whether the runtime is CPython, whose `HPyUnicode_AsUTF8AndSize`
    /// fails cleanly (with `TypeError`) for a non-`str`.
    cpython: bool,
    /// Keys written before (see [`KeyMemo`]): empty until
    /// [`KEY_MEMO_AFTER`] keys are written.
    keys: Vec<KeyMemo<'ctx>>,
    /// Keys written while `keys` is empty.
    keys_seen: usize,
}

/// The slots of the key memo.
const KEY_MEMO_SLOTS: usize = 256;

/// The keys written before the memo starts: a small document does not pay
/// for making it.
const KEY_MEMO_AFTER: usize = 32;

/// A `str` key written before in this call, and its text as written: a key
/// met again (documents repeat a few keys in every object, and `json.loads`
/// or literals give every occurrence the same object) is copied from here
/// instead of being checked and escaped again (about 50 instructions per
/// key down to 12). CPython-ABI builds only, where a handle is the object's
/// address: the slot is picked by it. A key that misses takes the slot if
/// its key has no hits left, else takes one of them: keys seen once (the ids
/// that key some objects) do not push out the keys every object repeats.
/// The slot holds a reference to its key, so no other object can take its
/// address meanwhile (even if Python code, `default` or `toDict`, empties
/// the dict the key came from). Only exact `str` keys are kept: the last
/// reference to one goes without running Python code.
struct KeyMemo<'ctx> {
    key: Option<Handle<'ctx>>,
    /// Hits since the last miss, at most [`KEY_MEMO_HITS`].
    hits: u32,
    /// The key's text as written (quotes included), `len` bytes, padded.
    text: [u8; KEY_MEMO_TEXT],
    len: usize,
}

/// The hits that keep a key in its slot against as many misses.
const KEY_MEMO_HITS: u32 = 4;

/// The longest key text the memo keeps (quotes included): what one 32-byte
/// copy writes.
const KEY_MEMO_TEXT: usize = 32;

/// Encodes `obj` to a new `str`.
pub(crate) fn dumps<'ctx>(
    ctx: &'ctx Context,
    obj: &Handle<'ctx>,
    opts: &Options,
    default: Option<&Handle<'ctx>>,
) -> Result<Handle<'ctx>> {
    let usual = opts.indent <= 0
        && opts.item_separator == b","
        && opts.key_separator == b":"
        && opts.escape_forward_slashes
        && !opts.encode_html_chars
        && opts.ensure_ascii;
    if usual {
        encode::<true>(ctx, obj, opts, default)
    } else {
        encode::<false>(ctx, obj, opts, default)
    }
}

/// [`dumps`] with the encoder for `USUAL` options or any.
fn encode<'ctx, const USUAL: bool>(
    ctx: &'ctx Context,
    obj: &Handle<'ctx>,
    opts: &Options,
    default: Option<&Handle<'ctx>>,
) -> Result<Handle<'ctx>> {
    let mut enc = Encoder::<USUAL> {
        ctx,
        out: ctx.str_writer(256)?,
        opts,
        default,
        table: escape_table(opts),
        scan: block::Set {
            slash: opts.escape_forward_slashes,
            html: opts.encode_html_chars,
            non_ascii: opts.ensure_ascii,
        },
        stack: Vec::new(),
        dict_type: None,
        cpython: ctx.runtime() == hpy::Runtime::CPython,
        keys: Vec::new(),
        keys_seen: 0,
    };
    enc.run(obj)?;
    enc.finish()
}

/// A container being written.
enum Frame<'ctx> {
    /// An exact list or tuple of `n` items (a list may lose some to Python
    /// code run meanwhile), `i` of them written.
    Seq {
        obj: Handle<'ctx>,
        n: usize,
        i: usize,
    },
    /// The entries of a dict, `i` written.
    Items {
        items: hpy::DictItems<'ctx>,
        i: usize,
    },
    /// An exact dict and a snapshot of its keys (a list of `n`, sorted if
    /// asked), `i` of them read, `written` of them written (a key that Python
    /// code removed meanwhile is skipped, as `PyDict_Next` skips it).
    Dict {
        dict: Handle<'ctx>,
        keys: Handle<'ctx>,
        n: usize,
        i: usize,
        written: usize,
    },
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

/// The two lowercase hex digits of every byte, as ujson writes them.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0xF]];
        i += 1;
    }
    t
};

/// Writes `\\uXXXX` (lowercase hex, as ujson) of `v < 0x10000` at `d`;
/// returns the end.
///
/// Two digits per table lookup, stored as a 4-byte and a 2-byte word: this
/// is the escape of every non-ASCII character of CJK text (twitter.json's
/// are 5% of its characters), where a lookup per digit cost 11 more
/// instructions per character.
///
/// # Safety
///
/// `d` must be valid for writing 6 bytes.
#[inline(always)]
unsafe fn write_u16_escape(d: *mut u8, v: u32) -> *mut u8 {
    let hi = HEX_PAIRS[((v >> 8) & 0xFF) as usize];
    let lo = HEX_PAIRS[(v & 0xFF) as usize];
    // SAFETY: the caller guarantees room for 6 bytes at `d`.
    unsafe {
        d.cast::<[u8; 4]>()
            .write_unaligned([b'\\', b'u', hi[0], hi[1]]);
        d.add(4).cast::<[u8; 2]>().write_unaligned(lo);
        d.add(6)
    }
}

/// Appends a separator: the usual one byte as a push, not a `memcpy`.
#[inline(always)]
fn put(out: &mut StrWriter<'_>, sep: &[u8]) -> Result<()> {
    match *sep {
        [b] => out.push(b),
        _ => out.extend_from_slice(sep),
    }
}

/// Copies `len < 16` bytes from `src` to `dst` with at most two loads and
/// two stores (overlapping), instead of a call to `memcpy`.
///
/// # Safety
///
/// `src` must be valid for reading and `dst` for writing `len` bytes; the
/// regions must not overlap.
#[inline(always)]
unsafe fn copy_small(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: every access is within `[0, len)` of its region (the caller's
    // guarantee): `len >= 8` reads `0..8` and `len-8..len`, and so on.
    unsafe {
        if len >= 8 {
            let a = src.cast::<u64>().read_unaligned();
            let b = src.add(len - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(a);
            dst.add(len - 8).cast::<u64>().write_unaligned(b);
        } else if len >= 4 {
            let a = src.cast::<u32>().read_unaligned();
            let b = src.add(len - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(a);
            dst.add(len - 4).cast::<u32>().write_unaligned(b);
        } else if len > 0 {
            dst.write(src.read());
            dst.add(len / 2).write(src.add(len / 2).read());
            dst.add(len - 1).write(src.add(len - 1).read());
        }
    }
}

/// `"00" "01" ... "99"`: two digits per lookup.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes the decimal digits of `v` (with `-` if negative) at `d`, last digit
/// first, straight into place; returns how many bytes it wrote (at most 20).
///
/// Unlike formatting into a buffer and copying it, no load reads back bytes
/// just stored in pieces (a stalled store forward per number).
///
/// # Safety
///
/// `d` must be valid for writing 20 bytes.
#[inline]
unsafe fn write_i64(d: *mut u8, v: i64) -> usize {
    let neg = usize::from(v < 0);
    let mut u = v.unsigned_abs();
    if let Ok(small) = u32::try_from(u) {
        // SAFETY: the caller guarantees 20 bytes: a sign and 10 digits fit.
        unsafe {
            if neg == 1 {
                d.write(b'-');
            }
            return neg + write_u32(d.add(neg), small);
        }
    }
    // The number of digits: 1 + floor(log10(u)), from the bit length.
    const POW10: [u64; 20] = {
        let mut t = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            t[i] = t[i - 1] * 10;
            i += 1;
        }
        t
    };
    // With `bits` the bit length, `t = floor(bits * log10(2))` (1233 / 4096
    // is log10(2) to within the error that matters below 2^64) is the digit
    // count or one less; one comparison with 10^t decides (`u | 1`: 0 has a
    // digit too).
    let bits = 64 - (u | 1).leading_zeros() as usize;
    let t = (bits * 1233) >> 12;
    let digits = t + usize::from(u | 1 >= POW10[t]);
    let len = neg + digits;
    // SAFETY: the caller guarantees 20 writable bytes; `len <= 20` (19 digits
    // and a sign at most for an i64), and every write is below `len`: the
    // digits are written from the end, as many as `digits` counted.
    unsafe {
        if neg == 1 {
            d.write(b'-');
        }
        let mut end = d.add(len);
        // Eight digits per division, then two independent halves of four:
        // the multiplications (divisions by constants) of one number overlap
        // instead of forming one chain of divisions by 100, twice as long.
        while u >= 100_000_000 {
            let r = (u % 100_000_000) as u32;
            u /= 100_000_000;
            end = end.sub(8);
            write_4_digits(end, r / 10_000);
            write_4_digits(end.add(4), r % 10_000);
        }
        let mut v = u as u32; // below 10^8
        if v >= 10_000 {
            end = end.sub(4);
            write_4_digits(end, v % 10_000);
            v /= 10_000;
        }
        if v >= 100 {
            end = end.sub(2);
            write_2_digits(end, v % 100);
            v /= 100;
        }
        if v >= 10 {
            write_2_digits(end.sub(2), v);
        } else {
            end.sub(1).write(b'0' + v as u8);
        }
    }
    len
}

/// Writes the decimal digits of `u` at `d`, first digit first; returns how
/// many (at most 10).
///
/// James Edward Anhalt III's method (jeaiii/itoa): one multiplication turns
/// `u` into a fixed-point number whose integer part is its first two digits
/// (`u / 10^N` for the `N + 2` or `N + 3` digits it has), then each
/// multiplication of the 32-bit fraction by 100 (or 10) brings the next two
/// digits (or the last one) into the integer part. No division, no
/// dependency on a digit count computed first: a 9-digit number takes about
/// 30 instructions, where dividing by powers of ten took 70. The constants
/// (`lead`) are exact for every `u32`: checked for all 2^32 values against
/// `u32::to_string` when this was written (a throwaway program; ~30 s); the
/// unit test below checks every
/// digit-count boundary and a million values of every length.
///
/// # Safety
///
/// `d` must be valid for writing 10 bytes.
#[inline(always)]
unsafe fn write_u32(d: *mut u8, u: u32) -> usize {
    /// `u / 10^N` as the integer part (bits 32..) of the result, the rest of
    /// `u` below it as a 32-bit fraction of `10^N`: `u` times `2^32 / 10^N`
    /// rounded up. From `N = 5` on, the reciprocal is taken `shift` more
    /// bits wide (and the product shifted back), so that its rounding error
    /// stays below what the digits that follow can see.
    #[inline(always)]
    fn lead<const N: u32>(u: u32) -> u64 {
        let shift = N / 5 * N * 53 / 16;
        let mult = (1u64 << (32 + shift)) / 10u64.pow(N) + 1;
        (mult * u64::from(u)) >> shift
    }
    /// The integer part of `t`: two digits.
    #[inline(always)]
    fn int(t: u64) -> u32 {
        (t >> 32) as u32
    }
    /// The next two digits: the fraction times 100.
    #[inline(always)]
    fn next2(t: &mut u64) -> u32 {
        *t = 100 * u64::from(*t as u32);
        int(*t)
    }
    /// The last digit: the fraction times 10.
    #[inline(always)]
    fn last(t: u64) -> u8 {
        b'0' + ((10 * u64::from(t as u32)) >> 32) as u8
    }
    /// The `N + 2` digits of `u` (`10^(N+1) <= u < 10^(N+2)`): the first
    /// two, `N / 2` more pairs, and a last digit if `N` is odd.
    ///
    /// # Safety
    /// `d` is valid for writing `N + 2` bytes.
    #[inline(always)]
    unsafe fn digits<const N: u32>(d: *mut u8, u: u32) -> usize {
        let mut t = lead::<N>(u);
        // SAFETY: the writes stay below `N + 2` (the caller's room); each
        // pair is below 100 (the first two of at least three digits, or a
        // fraction times 100).
        unsafe {
            write_2_digits(d, int(t));
            let mut i = 2;
            for _ in 0..N / 2 {
                write_2_digits(d.add(i), next2(&mut t));
                i += 2;
            }
            if N % 2 == 1 {
                d.add(i).write(last(t));
                i += 1;
            }
            i
        }
    }
    // SAFETY: every write is below the digit count returned, at most 10
    // (the caller's room); the branches pick the count from `u`.
    unsafe {
        if u < 100 {
            if u < 10 {
                d.write(b'0' + u as u8);
                return 1;
            }
            write_2_digits(d, u);
            return 2;
        }
        if u < 1_000_000 {
            if u < 10_000 {
                return if u < 1000 {
                    digits::<1>(d, u)
                } else {
                    digits::<2>(d, u)
                };
            }
            return if u < 100_000 {
                digits::<3>(d, u)
            } else {
                digits::<4>(d, u)
            };
        }
        if u < 100_000_000 {
            return if u < 10_000_000 {
                digits::<5>(d, u)
            } else {
                digits::<6>(d, u)
            };
        }
        if u < 1_000_000_000 {
            digits::<7>(d, u)
        } else {
            digits::<8>(d, u)
        }
    }
}

/// Writes `v < 100` as two digits at `d`.
///
/// # Safety
///
/// `d` must be valid for writing 2 bytes.
#[inline(always)]
unsafe fn write_2_digits(d: *mut u8, v: u32) {
    // SAFETY: `v < 100` picks a pair inside the table; the caller guarantees
    // the 2 bytes at `d`.
    unsafe { d.copy_from_nonoverlapping(DIGIT_PAIRS.as_ptr().add(v as usize * 2), 2) }
}

/// Writes `v < 10_000` as four digits (leading zeros included) at `d`.
///
/// # Safety
///
/// `d` must be valid for writing 4 bytes.
#[inline(always)]
unsafe fn write_4_digits(d: *mut u8, v: u32) {
    // SAFETY: both halves are below 100; the caller guarantees 4 bytes.
    unsafe {
        write_2_digits(d, v / 100);
        write_2_digits(d.add(2), v % 100);
    }
}

/// `OverflowError(msg)`: how ujson reports its own encoding errors.
#[cold]
fn overflow(msg: &'static str) -> Error {
    exc::OverflowError::new_err(msg)
}

impl<'a, 'ctx, const USUAL: bool> Encoder<'a, 'ctx, USUAL> {
    #[inline(always)]
    fn raw(&self) -> *mut sys::HPyContext {
        self.ctx.as_raw()
    }

    /// The bytes that stop a block (see `scan`), constant for `USUAL` options.
    #[inline(always)]
    fn scan(&self) -> block::Set {
        if USUAL {
            block::Set {
                slash: true,
                html: false,
                non_ascii: true,
            }
        } else {
            self.scan
        }
    }

    /// The separator after an item.
    #[inline(always)]
    fn item_separator(&self) -> &'a [u8] {
        let opts: &'a Options = self.opts;
        if USUAL { b"," } else { &opts.item_separator }
    }

    /// The separator after a key.
    #[inline(always)]
    fn key_separator(&self) -> &'a [u8] {
        let opts: &'a Options = self.opts;
        if USUAL { b":" } else { &opts.key_separator }
    }

    /// Appends the separator after an item.
    #[inline(always)]
    fn put_item_separator(&mut self) -> Result<()> {
        let sep = self.item_separator();
        put(&mut self.out, sep)
    }

    /// Appends the separator after a key.
    #[inline(always)]
    fn put_key_separator(&mut self) -> Result<()> {
        let sep = self.key_separator();
        put(&mut self.out, sep)
    }

    /// Spaces per level (0 or less: compact).
    #[inline(always)]
    fn indent(&self) -> i32 {
        if USUAL { 0 } else { self.opts.indent }
    }

    /// Whether every character from U+0080 on is escaped.
    #[inline(always)]
    fn ensure_ascii(&self) -> bool {
        USUAL || self.opts.ensure_ascii
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

    /// Writes `root`: its scalars at once, its containers frame by frame.
    fn run(&mut self, root: &Handle<'ctx>) -> Result<()> {
        self.value(root)?;
        loop {
            let level = self.stack.len();
            let Some(frame) = self.stack.last_mut() else {
                return Ok(());
            };
            match frame {
                Frame::Seq { obj, n, i } => {
                    let (n, index) = (*n, *i);
                    if index == n {
                        self.close(b']', n, level)?;
                        continue;
                    }
                    *i += 1;
                    // `obj` is the exact list or tuple the frame owns: its
                    // item read directly (`IndexError` if Python code made a
                    // list shorter meanwhile).
                    // SAFETY: `value` runs no Python code and makes no
                    // tracked object while it uses the item: the rule of
                    // this module's borrowed items (see `value`).
                    let item = match unsafe { obj.seq_item_borrowed(index) } {
                        Ok(item) => item,
                        Err(e) => return Err(self.shrunk(e)),
                    };
                    if index > 0 {
                        self.put_item_separator()?;
                    }
                    self.newline_indent(level)?;
                    self.value(&item)?;
                }
                Frame::Items { items, i } => {
                    let index = *i;
                    // SAFETY: `entry` runs no Python code and makes no
                    // tracked object while it uses the borrowed entry (it
                    // dups both first where it would).
                    let Some(entry) = (unsafe { items.next_borrowed() }) else {
                        self.close(b'}', index, level)?;
                        continue;
                    };
                    *i += 1;
                    let (key, value) = entry?;
                    self.entry(index, level, &key, &value)?;
                }
                Frame::Dict {
                    dict,
                    keys,
                    n,
                    i,
                    written,
                } => {
                    let (dict, keys, index, done) = (dict.as_raw(), keys.as_raw(), *i, *written);
                    if index == *n {
                        self.close(b'}', done, level)?;
                        continue;
                    }
                    *i += 1;
                    *written += 1;
                    let raw = self.raw();
                    // SAFETY: `keys` is the frame's own list of `n` keys.
                    let key = self
                        .own(unsafe { sys::HPy_GetItem_i(raw, keys, index as sys::HPy_ssize_t) })?;
                    // SAFETY: both handles are open; new handle or NULL with an
                    // exception (`KeyError` if Python code removed the key).
                    let value = match self.own(unsafe { sys::HPy_GetItem(raw, dict, key.as_raw()) })
                    {
                        Ok(value) => value,
                        Err(e) => {
                            if self.ctx.err_matches(&exc::KeyError::type_object(self.ctx)) {
                                self.ctx.err_clear();
                                if let Some(Frame::Dict { written, .. }) = self.stack.last_mut() {
                                    *written -= 1;
                                }
                                continue;
                            }
                            return Err(e);
                        }
                    };
                    self.entry(done, level, &key, &value)?;
                }
            }
        }
    }

    /// Writes the dict entry number `index` (its separator first).
    ///
    /// `key` and `value` may be borrowed from the dict (see `value`): a key
    /// whose text needs Python code (`str()` of a number, a `str` with lone
    /// surrogates) is written from owned handles of both, since that code may
    /// change the dict.
    #[inline(always)]
    fn entry(
        &mut self,
        index: usize,
        level: usize,
        key: &Handle<'ctx>,
        value: &Handle<'ctx>,
    ) -> Result<()> {
        if index > 0 {
            self.put_item_separator()?;
        }
        self.newline_indent(level)?;
        if !self.encode_key_fast(key)? {
            let (key, value) = (key.dup(), value.dup());
            self.encode_key_slow(&key)?;
            self.put_key_separator()?;
            return self.value(&value);
        }
        self.put_key_separator()?;
        self.value(value)
    }

    /// Pushes the frame `make` returns, made after the stack has room for it
    /// so that it is written straight into the stack's memory.
    ///
    /// (`Vec::push(frame)` holds the frame across its capacity check: built
    /// on the native stack in 8-byte stores, then copied in 16-byte loads,
    /// which stall, no store forwarding. That was most of the time of
    /// opening a container.)
    #[inline(always)]
    fn push(&mut self, make: impl FnOnce() -> Frame<'ctx>) {
        let len = self.stack.len();
        if len == self.stack.capacity() {
            self.grow_stack();
        }
        // SAFETY: `len < capacity` (grown above): the slot is allocated and
        // unused; the length covers it once written.
        unsafe {
            self.stack.as_mut_ptr().add(len).write(make());
            self.stack.set_len(len + 1);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_stack(&mut self) {
        self.stack.reserve(16);
    }

    /// Ends the innermost container (`n` items) with `bracket`.
    #[inline]
    fn close(&mut self, bracket: u8, n: usize, level: usize) -> Result<()> {
        self.stack.pop();
        if n > 0 {
            self.newline_indent(level - 1)?;
        }
        self.out.push(bracket)
    }

    /// Writes `obj` at the current level: a scalar, or a container's opening
    /// bracket and its frame.
    ///
    /// `obj` may be an item borrowed from the container being written (in a
    /// CPython-ABI build, without a reference of its own: no reference count
    /// written to every object of a document). Such an item lives only as
    /// long as the container holds it, so nothing here runs Python code or
    /// makes an object the garbage collector tracks (whose collection could
    /// run a `__del__`) while it uses `obj`: a container is dup'ed before its
    /// frame is made, and every path that runs Python code (`default`,
    /// `toDict`, `Decimal`, a `str` that needs `encode`, an int beyond 64
    /// bits) starts from its own handle (`dup`).
    #[inline(always)]
    fn value(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        if self.stack.len() > MAX_LEVEL {
            return Err(overflow("Maximum recursion level reached"));
        }
        if self.builtin(obj)? {
            Ok(())
        } else {
            self.other(obj.dup())
        }
    }

    /// Writes an object of a builtin type; whether it was one.
    #[inline(always)]
    fn builtin(&mut self, obj: &Handle<'ctx>) -> Result<bool> {
        // Ordered by how often each kind comes up in documents, cheapest
        // tests first: `str`, `dict` and `list` are flag tests, the
        // singletons identity tests, and only then the subtype tests.
        let ctx = self.ctx;
        if obj.is_str() {
            self.encode_str(obj)?;
        } else if obj.is_dict() {
            self.open_dict(obj)?;
        } else if obj.is_list() {
            self.open_seq(obj)?;
        } else if obj.is(&ctx.none()) {
            self.out.extend_from_slice(b"null")?;
        } else if obj.is(&ctx.true_()) {
            self.out.extend_from_slice(b"true")?;
        } else if obj.is(&ctx.false_()) {
            self.out.extend_from_slice(b"false")?;
        } else if self.type_check(obj, sys::h_LongType) {
            self.encode_int(obj)?;
        } else if self.type_check(obj, sys::h_FloatType) {
            self.encode_float(obj)?;
        } else if obj.is_tuple() {
            self.open_seq(obj)?;
        } else if !self.opts.reject_bytes && obj.is_bytes() {
            let data = obj.as_bytes()?;
            self.escape_quoted(data)?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Opens a list or tuple (or subclass instance): `[` and its frame.
    fn open_seq(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        if !self.is_exact_seq(obj) {
            return self.open_exact_seq(self.real_items(&obj.dup())?);
        }
        // An empty one (most lists of some documents) is written whole,
        // without a frame or a reference of its own.
        if self.seq_len(obj)? == 0 {
            return self.out.extend_from_slice(b"[]");
        }
        self.open_exact_seq(obj.dup())
    }

    /// Opens an exact list or tuple: `[` and its frame, which owns `obj`.
    #[inline(always)]
    fn open_exact_seq(&mut self, obj: Handle<'ctx>) -> Result<()> {
        let n = self.seq_len(&obj)?;
        self.out.push(b'[')?;
        self.push(|| Frame::Seq { obj, n, i: 0 });
        Ok(())
    }

    /// The length of an exact list or tuple (its real one).
    #[inline(always)]
    fn seq_len(&self, obj: &Handle<'ctx>) -> Result<usize> {
        // SAFETY: `obj` is an open exact list or tuple.
        let n = unsafe { sys::HPy_Length(self.raw(), obj.as_raw()) };
        usize::try_from(n).map_err(|_| Error::raised())
    }

    /// Whether `obj` is an exact list or tuple (no method of it overridden).
    #[inline]
    fn is_exact_seq(&self, obj: &Handle<'ctx>) -> bool {
        obj.is_exact_list() || obj.is_exact_tuple()
    }

    /// A list or tuple of the real items of a list or tuple subclass instance,
    /// as ujson reads them (`list.copy(obj)`, `tuple.__add__((), obj)`): not
    /// what an overridden `__len__` or `__getitem__` says.
    #[cold]
    fn real_items(&self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        if obj.is_list() {
            ctx.list_type().get_attr("copy")?.call1(obj)
        } else {
            let empty = ctx.new_tuple(&[])?;
            ctx.tuple_type().get_attr("__add__")?.call((&empty, obj))
        }
    }

    /// Opens a dict (or subclass instance): `{` and its frame, with a
    /// snapshot of its keys (sorted if asked).
    fn open_dict(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        let obj = obj.dup();
        if hpy::CPYTHON_ABI && !self.opts.sort_keys {
            // Its own entries in order, as ujson reads them (a subclass's
            // overrides are not called), straight from the dict's table.
            // (A universal build has no such access: `dict_items` reads a key
            // list there, as the path below does, after a type check of its
            // own that costs a global's load per dict.)
            let items = obj.into_dict_items()?;
            self.out.push(b'{')?;
            self.push(|| Frame::Items { items, i: 0 });
            return Ok(());
        }
        let dict = if self.is_exact_dict(&obj)? {
            obj
        } else {
            // ujson reads a subclass's real items: `HPyDict_Copy` copies them.
            obj.copy()?
        };
        // SAFETY: `dict` is an open dict; the result is a new list or NULL
        // with an exception set.
        let keys = self.own(unsafe { sys::HPyDict_Keys(self.raw(), dict.as_raw()) })?;
        if self.opts.sort_keys {
            keys.call_method0("sort")?;
        }
        // SAFETY: `keys` is an open list that only we hold.
        let n = unsafe { sys::HPy_Length(self.raw(), keys.as_raw()) };
        let n = usize::try_from(n).map_err(|_| Error::raised())?;
        self.out.push(b'{')?;
        self.push(|| Frame::Dict {
            dict,
            keys,
            n,
            i: 0,
            written: 0,
        });
        Ok(())
    }

    #[inline]
    fn is_exact_dict(&mut self, obj: &Handle<'ctx>) -> Result<bool> {
        if self.dict_type.is_none() {
            self.dict_type = Some(crate::dict_type(self.ctx)?);
        }
        let ty = obj.get_type();
        Ok(self.dict_type.as_ref().is_some_and(|d| ty.is(d)))
    }

    /// After `HPy_GetItem_i` failed on a frame's sequence: `RuntimeError` if
    /// it is a list that Python code (`default`, a `toDict`) made shorter
    /// meanwhile (ujson's message), else the error.
    #[cold]
    fn shrunk(&self, err: Error) -> Error {
        let ctx = self.ctx;
        let shorter = match self.stack.last() {
            Some(Frame::Seq { obj, .. }) => {
                obj.is_list() && ctx.err_matches(&exc::IndexError::type_object(ctx))
            }
            _ => false,
        };
        if shorter {
            ctx.err_clear();
            return exc::RuntimeError::new_err("list changed size during iteration");
        }
        err
    }

    /// Everything but the builtin types: `Decimal`, `toDict`, `__json__`,
    /// `default`, or `TypeError`.
    #[cold]
    fn other(&mut self, obj: Handle<'ctx>) -> Result<()> {
        let mut cur = obj;
        let mut default_depth = 0;
        loop {
            if crate::is_decimal(self.ctx, &cur)? {
                return self.encode_float(&cur);
            }
            if cur.has_attr("toDict") {
                let d = cur.call_method0("toDict")?;
                if !d.is_dict() {
                    return Err(exc::TypeError::new_err(format!(
                        "toDict() should return a dict, got {}",
                        d.type_name()
                    )));
                }
                return self.open_dict(&d);
            }
            if cur.has_attr("__json__") {
                let j = cur.call_method0("__json__")?;
                if j.is_str() {
                    with_str_bytes(&j, |b| self.out.extend_from_slice(b))??;
                } else if j.is_bytes() {
                    self.out.extend_from_slice(j.as_bytes()?)?;
                } else {
                    return Err(exc::TypeError::new_err(format!(
                        "__json__() should return str or bytes, got {}",
                        j.type_name()
                    )));
                }
                return Ok(());
            }
            if let Some(default) = self.default {
                if default_depth >= DEFAULT_MAX_DEPTH {
                    return Err(exc::TypeError::new_err("maximum recursion depth exceeded"));
                }
                let next = default.call1(&cur)?;
                default_depth += 1;
                if self.builtin(&next)? {
                    return Ok(());
                }
                cur = next;
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
        if self.escape_stored(obj)? {
            return Ok(());
        }
        if let Some(text) = utf8_of(obj) {
            return self.escape_quoted(text);
        }
        self.ctx.err_clear();
        self.encode_str_slow(&obj.dup())
    }

    /// A `str` whose UTF-8 the runtime refuses (lone surrogates on CPython):
    /// through `encode`, Python code, and so from an owned handle (`obj` may
    /// be borrowed, see `value`).
    #[cold]
    fn encode_str_slow(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        with_str_bytes(obj, |b| self.escape_quoted(b))?
    }

    /// Writes a `str` from the characters CPython stores (where the build
    /// sees them): ASCII text as it is, and with `ensure_ascii` a `str` of
    /// two or four bytes per character, as ujson writes its UTF-8 (whose
    /// UTF-8 would be made for the purpose, kept in the object, and decoded
    /// again here); whether it did.
    #[inline(always)]
    fn escape_stored(&mut self, s: &Handle<'ctx>) -> Result<bool> {
        if !hpy::CPYTHON_ABI {
            return Ok(false);
        }
        match s.str_data() {
            Some(hpy::StrData::Ascii(text)) => self.escape_quoted(text.as_bytes())?,
            Some(hpy::StrData::Ucs2(units)) if self.ensure_ascii() => self.escape_units(units)?,
            Some(hpy::StrData::Ucs4(units)) if self.ensure_ascii() => self.escape_units(units)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Writes `units` (characters) between double quotes, every one from
    /// U+0080 on as a `\uXXXX` escape (a pair of them, of the UTF-16
    /// surrogates, above U+FFFF), the others as the table says. UCS-2 text
    /// goes 16 units at a time while they are plain ASCII (see
    /// [`block::Set::pack_ucs2`]).
    #[inline(never)]
    fn escape_units<T: Unit>(&mut self, units: &[T]) -> Result<()> {
        // At most 12 bytes per character (a surrogate pair), and the quotes.
        self.reserve_for(units.len(), 12, 2)?;
        let start = self.out.len();
        let n = units.len();
        // SAFETY: `reserve_for` made room for `12 * n + 2` bytes after
        // `start`; each unit adds at most 12 bytes. With `i` units consumed,
        // at most `1 + 12 * i` bytes are written, so while `n - i >= LEN` a
        // block store of LEN bytes at `d` stays within the room; blocks are
        // read only while `i + LEN <= n`.
        unsafe {
            let base = self.out.as_mut_ptr().add(start);
            let mut d = base;
            d.write(b'"');
            d = d.add(1);
            let mut i = 0;
            while T::UCS2 && i + block::LEN <= n {
                let mask = T::pack_block(&self.scan(), units.as_ptr().add(i), d);
                if mask == 0 {
                    i += block::LEN;
                    d = d.add(block::LEN);
                    continue;
                }
                // The unit that stopped the block, and the rest of its run
                // of non-ASCII characters (CJK text is mostly such runs),
                // one at a time.
                let k = mask.trailing_zeros() as usize;
                i += k;
                d = d.add(k);
                loop {
                    // Eight at a time while all eight are non-ASCII (with
                    // `i + UNITS <= n`, the room left is at least
                    // `12 * UNITS + 1 >= UNITS_ROOM`), else one.
                    const { assert!(12 * block::UNITS + 1 >= block::UNITS_ROOM) };
                    if i + block::UNITS <= n && T::escape_8(units.as_ptr().add(i), d) {
                        i += block::UNITS;
                        d = d.add(6 * block::UNITS);
                    } else {
                        d = self.escape_unit(d, (*units.get_unchecked(i)).into());
                        i += 1;
                    }
                    if i == n || (*units.get_unchecked(i)).into() < 0x80 {
                        break;
                    }
                }
            }
            for &unit in units.get_unchecked(i..) {
                d = self.escape_unit(d, unit.into());
            }
            d.write(b'"');
            d = d.add(1);
            self.out.set_len(start + d.offset_from(base) as usize);
        }
        Ok(())
    }

    /// Writes the character `c` at `d` as `escape_units` does; returns the
    /// new end.
    ///
    /// # Safety
    ///
    /// `d` must be valid for writing 12 bytes.
    #[inline(always)]
    unsafe fn escape_unit(&self, d: *mut u8, c: u32) -> *mut u8 {
        // SAFETY: every arm writes at most 12 bytes at `d` (the caller's room).
        unsafe {
            if c < 0x80 {
                match self.table[c as usize] {
                    Esc::Short(x) => {
                        d.write(b'\\');
                        d.add(1).write(x);
                        d.add(2)
                    }
                    Esc::Unicode => write_u16_escape(d, c),
                    // Below 0x80 the table holds no `Sequence`.
                    Esc::Copy | Esc::Sequence => {
                        d.write(c as u8);
                        d.add(1)
                    }
                }
            } else if c < 0x10000 {
                write_u16_escape(d, c)
            } else {
                let v = c - 0x10000;
                let d = write_u16_escape(d, (v >> 10) + 0xD800);
                write_u16_escape(d, (v & 0x3FF) + 0xDC00)
            }
        }
    }

    /// Makes room in the output for `n` items of at most `per_item` bytes
    /// each and `extra` more: `MemoryError` when that is more than the
    /// address space or the allocator gives (never an abort).
    #[inline]
    fn reserve_for(&mut self, n: usize, per_item: usize, extra: usize) -> Result<()> {
        let bytes = n
            .checked_mul(per_item)
            .and_then(|bytes| bytes.checked_add(extra))
            .ok_or_else(|| exc::MemoryError::new_err(""))?;
        self.out.reserve(bytes)
    }

    /// Writes `s` escaped, between double quotes.
    ///
    /// The output is reserved once for the worst case and written through a
    /// pointer: 16 bytes at a time are checked (see [`block`]) and stored
    /// whole, the output advancing past the plain ones; the byte that stopped
    /// the block is escaped in place; the last bytes go one at a time. This
    /// loop is most of `dumps`'s own time on text-heavy documents.
    #[inline(always)]
    fn escape_quoted(&mut self, s: &[u8]) -> Result<()> {
        let n = s.len();
        if n < block::LEN
            && self.out.capacity() - self.out.len() >= block::LEN + 2
            && !self.scan().any_short(s)
        {
            // Short strings (most keys) with nothing to escape: checked in
            // one block and copied, inline.
            let start = self.out.len();
            // SAFETY: the capacity check above leaves room for LEN + 2 bytes
            // after `start`, of which `n + 2` are written and become the
            // length; `s` has `n` readable bytes.
            unsafe {
                let d = self.out.as_mut_ptr().add(start);
                d.write(b'"');
                copy_small(s.as_ptr(), d.add(1), n);
                d.add(1 + n).write(b'"');
                self.out.set_len(start + n + 2);
            }
            return Ok(());
        }
        self.escape_quoted_slow(s)
    }

    /// [`Self::escape_quoted`] for everything but short plain strings.
    #[inline(never)]
    fn escape_quoted_slow(&mut self, s: &[u8]) -> Result<()> {
        // Worst case per input byte: 6 output bytes (`\u00XX` for a control
        // byte; a 2-, 3- or 4-byte sequence becomes 6, 6 or 12 bytes), plus the
        // two quotes and room for one block store past the end.
        self.reserve_for(s.len(), 6, 2 + block::LEN)?;
        let n = s.len();
        let src = s.as_ptr();
        let start = self.out.len();
        // SAFETY: `reserve_for` made room for `worst = 6 * n + 2 + LEN` bytes
        // after `start`. With `i` input bytes consumed, at most `1 + 6 * i`
        // bytes are written (each input byte adds at most 6, see above), so
        // a block store at `d` (`block::LEN` bytes) and the closing quote
        // stay within `worst`.
        // Reads stay below `n`: blocks are read while `i + LEN <= n`, the
        // sequence decoder gets the slice `i..n`, the last block of a string
        // of `n >= LEN` bytes is read at `n - LEN`, and the last bytes of a
        // shorter one are read from `pad` (2 * LEN bytes, blocks read at
        // `j < rem <= LEN`). The length is set only after the bytes are
        // written; an error leaves it unchanged.
        unsafe {
            let base = self.out.as_mut_ptr().add(start);
            let mut d = base;
            d.write(b'"');
            d = d.add(1);
            let mut i = 0;
            while i + block::LEN <= n {
                let mask = self.scan().mask(src.add(i));
                core::ptr::copy_nonoverlapping(src.add(i), d, block::LEN);
                if mask == 0 {
                    i += block::LEN;
                    d = d.add(block::LEN);
                    continue;
                }
                let k = mask.trailing_zeros() as usize;
                i += k;
                d = d.add(k);
                let (used, end) = self.escape_one(src, i, n, d)?;
                i += used;
                d = end;
            }
            if n >= block::LEN {
                // The last `n - i < LEN` bytes: the string's last block,
                // read where it ends, its bits for bytes before `i` shifted
                // out; the bytes are copied from `s` (not block-stored, which
                // would overwrite escapes already written before `d`).
                while i < n {
                    let rem = n - i;
                    let mask = self.scan().mask(src.add(n - block::LEN)) >> (block::LEN - rem);
                    if mask == 0 {
                        copy_small(src.add(i), d, rem);
                        d = d.add(rem);
                        break;
                    }
                    let k = mask.trailing_zeros() as usize;
                    copy_small(src.add(i), d, k);
                    i += k;
                    d = d.add(k);
                    let (used, end) = self.escape_one(src, i, n, d)?;
                    i += used;
                    d = end;
                }
            } else if i < n {
                // A short string with something to escape (the inline path
                // took the others): the same steps on a copy padded
                // with plain bytes, so that a block read at any `j < rem` is
                // within `pad`; bits from `rem` on are masked off.
                let rem = n - i;
                let mut pad = [b'a'; 2 * block::LEN];
                copy_small(src.add(i), pad.as_mut_ptr(), rem);
                let p = pad.as_ptr();
                let mut j = 0;
                while j < rem {
                    let mask = self.scan().mask(p.add(j)) & ((1u32 << (rem - j)) - 1);
                    core::ptr::copy_nonoverlapping(p.add(j), d, block::LEN);
                    if mask == 0 {
                        d = d.add(rem - j);
                        break;
                    }
                    let k = mask.trailing_zeros() as usize;
                    j += k;
                    d = d.add(k);
                    let (used, end) = self.escape_one(p, j, rem, d)?;
                    j += used;
                    d = end;
                }
            }
            d.write(b'"');
            d = d.add(1);
            self.out.set_len(start + d.offset_from(base) as usize);
        }
        Ok(())
    }

    /// Writes byte `i` of `src[..n]` (with the rest of its sequence) as the
    /// table says, at `d`: how many input bytes it took, and the new end.
    ///
    /// # Safety
    ///
    /// `src` must be valid for reading `n > i` bytes, and `d` for writing 6
    /// bytes per input byte this consumes (at most `6 * (n - i)`).
    #[inline(always)]
    unsafe fn escape_one(
        &self,
        src: *const u8,
        i: usize,
        n: usize,
        d: *mut u8,
    ) -> Result<(usize, *mut u8)> {
        // SAFETY: guaranteed by the caller (see above): each arm writes at most
        // 6 bytes per input byte it consumes (a sequence of 2, 3 or 4 bytes: 6,
        // 6 or 12), and reads below `n`.
        unsafe {
            let c = *src.add(i);
            Ok(match self.table[usize::from(c)] {
                Esc::Copy => {
                    d.write(c);
                    (1, d.add(1))
                }
                Esc::Short(x) => {
                    d.write(b'\\');
                    d.add(1).write(x);
                    (1, d.add(2))
                }
                Esc::Unicode => (1, write_u16_escape(d, u32::from(c))),
                Esc::Sequence => {
                    // A run of sequences (text in a non-Latin script) stays
                    // in this loop instead of going back to the block scan.
                    let mut used = 0;
                    let mut d = d;
                    loop {
                        let at = i + used;
                        let (len, cp) =
                            decode_sequence(core::slice::from_raw_parts(src.add(at), n - at))?;
                        d = if cp >= 0x10000 {
                            let v = cp - 0x10000;
                            let d = write_u16_escape(d, (v >> 10) + 0xD800);
                            write_u16_escape(d, (v & 0x3FF) + 0xDC00)
                        } else {
                            write_u16_escape(d, cp)
                        };
                        used += len;
                        if i + used >= n
                            || self.table[usize::from(*src.add(i + used))] != Esc::Sequence
                        {
                            break;
                        }
                    }
                    (used, d)
                }
            })
        }
    }

    /// An `int` that is not `True` or `False` (the caller tests those).
    fn encode_int(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        // SAFETY: the handle is an open int.
        let v = unsafe { sys::HPyLong_AsInt64_t(self.raw(), obj.as_raw()) };
        if v != -1 || !self.ctx.err_occurred() {
            self.reserve_for(1, 20, 0)?;
            let start = self.out.len();
            // SAFETY: `reserve_for` made room for 20 bytes, the most an `i64` takes.
            unsafe {
                let len = write_i64(self.out.as_mut_ptr().add(start), v);
                self.out.set_len(start + len);
            }
            return Ok(());
        }
        self.encode_big_int(obj)
    }

    /// An int beyond `i64`: `u64`, or its decimal digits.
    #[cold]
    fn encode_big_int(&mut self, obj: &Handle<'ctx>) -> Result<()> {
        // Its own handle: `obj` may be borrowed (see `value`), and what
        // follows makes objects.
        let obj = &obj.dup();
        let raw = self.raw();
        self.ctx.err_clear();
        // SAFETY: the handle is an open int.
        let v = unsafe { sys::HPyLong_AsUInt64_t(raw, obj.as_raw()) };
        if v != u64::MAX || !self.ctx.err_occurred() {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(v).as_bytes())?;
            return Ok(());
        }
        self.ctx.err_clear();
        // `operator.index` makes an exact int of a subclass, whose `str` is its digits.
        // SAFETY: the handle is open; the results are new or NULL with an exception.
        let exact = self.own(unsafe { sys::HPy_Index(raw, obj.as_raw()) })?;
        // SAFETY: as above.
        let digits = self.own(unsafe { sys::HPy_Str(raw, exact.as_raw()) })?;
        self.out.extend_from_slice(digits.as_str()?.as_bytes())?;
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
            return self.out.extend_from_slice(s);
        }
        self.out
            .extend_from_slice(crate::float::format_f64(v).as_bytes())
    }

    #[inline]
    fn newline_indent(&mut self, level: usize) -> Result<()> {
        if self.indent() > 0 {
            self.out.push(b'\n')?;
            let n = self.indent() as usize * level;
            self.out.resize(self.out.len() + n, b' ')?;
        }
        Ok(())
    }

    /// Writes a key whose text is at hand without Python code: a `str`
    /// CPython (or the runtime) gives the UTF-8 of, `bytes`, `True`, `False`
    /// or `None`; whether it was one.
    #[inline(always)]
    fn encode_key_fast(&mut self, key: &Handle<'ctx>) -> Result<bool> {
        // A `str` key's text is memoised after it is written (both paths
        // below), where the build has the memo.
        let memo = USUAL && hpy::CPYTHON_ABI;
        if memo && self.key_from_memo(key) {
            return Ok(true);
        }
        let start = self.out.len();
        if self.escape_stored(key)? {
            if memo {
                self.memoize_key(key, start);
            }
            return Ok(true);
        }
        // On CPython, keys are nearly always `str`: ask for the text straight
        // away (one context call instead of two). Anything else fails with
        // an exception, cleared here, and takes the tests below (as does a
        // `str` with lone surrogates, which CPython will not encode).
        if self.cpython || key.is_str() {
            if let Some(text) = utf8_of(key) {
                self.escape_quoted(text)?;
                if memo {
                    self.memoize_key(key, start);
                }
                return Ok(true);
            }
            self.ctx.err_clear();
        }
        if key.is_bytes() {
            self.escape_quoted(key.as_bytes()?)?;
        } else if key.is(&self.ctx.true_()) {
            self.out.extend_from_slice(b"\"true\"")?;
        } else if key.is(&self.ctx.false_()) {
            self.out.extend_from_slice(b"\"false\"")?;
        } else if key.is_none() {
            self.out.extend_from_slice(b"\"null\"")?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The slot of the key memo for `key` (an object's address, in a
    /// CPython-ABI build: 16-byte aligned).
    #[inline(always)]
    fn key_slot(key: &Handle<'ctx>) -> usize {
        let a = key.as_raw()._i as usize;
        ((a >> 4) ^ (a >> 12)) % KEY_MEMO_SLOTS
    }

    /// Writes `key` from the memo, if it is there (and the output has room
    /// for one copy): whether it did.
    #[inline(always)]
    fn key_from_memo(&mut self, key: &Handle<'ctx>) -> bool {
        let Some(entry) = self.keys.get_mut(Self::key_slot(key)) else {
            return false;
        };
        if !entry.key.as_ref().is_some_and(|k| k.is(key))
            || self.out.capacity() - self.out.len() < KEY_MEMO_TEXT
        {
            return false;
        }
        let len = self.out.len();
        // SAFETY: the capacity check above leaves room for KEY_MEMO_TEXT
        // bytes after `len`, of which the entry's `len <= KEY_MEMO_TEXT`
        // become the length.
        unsafe {
            self.out
                .as_mut_ptr()
                .add(len)
                .cast::<[u8; KEY_MEMO_TEXT]>()
                .write_unaligned(entry.text);
            self.out.set_len(len + entry.len);
        }
        entry.hits = (entry.hits + 1).min(KEY_MEMO_HITS);
        true
    }

    /// Keeps `key`, a `str` whose text was just written from `start` on (and
    /// missed the memo), in its slot if the text is short enough and the
    /// slot's key has no hits left (else it loses one).
    #[inline(always)]
    fn memoize_key(&mut self, key: &Handle<'ctx>, start: usize) {
        let len = self.out.len() - start;
        // Exact `str` keys only: the memo drops the key it replaces (and all
        // of them at the end), and dropping a subclass instance can run
        // Python code (`__del__`, a weak reference's callback) while this
        // walk uses items borrowed from the document.
        if len > KEY_MEMO_TEXT || !key.is_exact_str() {
            return;
        }
        if self.keys.is_empty() {
            self.keys_seen += 1;
            if self.keys_seen < KEY_MEMO_AFTER {
                return;
            }
            self.keys.resize_with(KEY_MEMO_SLOTS, || KeyMemo {
                key: None,
                hits: 0,
                text: [0; KEY_MEMO_TEXT],
                len: 0,
            });
        }
        let entry = &mut self.keys[Self::key_slot(key)];
        if entry.hits > 0 {
            entry.hits -= 1;
            return;
        }
        let text = &self.out.as_bytes()[start..];
        // SAFETY: `text` has `len <= KEY_MEMO_TEXT` bytes, the entry's
        // buffer KEY_MEMO_TEXT: both copies stay within both (for `len >=
        // 16`, the first and the last 16 bytes, overlapping).
        unsafe {
            let (src, dst) = (text.as_ptr(), entry.text.as_mut_ptr());
            if len >= 16 {
                dst.copy_from_nonoverlapping(src, 16);
                dst.add(len - 16)
                    .copy_from_nonoverlapping(src.add(len - 16), 16);
            } else {
                copy_small(src, dst, len);
            }
        }
        entry.len = len;
        // Its own reference (`key` may be borrowed from the dict); the key it
        // replaces is released (a `str`: no Python code runs).
        entry.key = Some(key.dup());
    }

    /// Writes any other key: a `str` with lone surrogates (through
    /// `encode`), anything else through `str()`.
    #[cold]
    fn encode_key_slow(&mut self, key: &Handle<'ctx>) -> Result<()> {
        let s = if key.is_str() { key.dup() } else { key.str()? };
        with_str_bytes(&s, |b| self.escape_quoted(b))?
    }

    /// The output as a `str`.
    fn finish(self) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        let out = self.out;
        // (Checked even with `ensure_ascii`: `__json__` text goes in as it is.)
        if out.as_bytes().is_ascii() {
            // SAFETY: just checked.
            return unsafe { out.into_ascii_str_unchecked() };
        }
        if let Ok(text) = core::str::from_utf8(out.as_bytes()) {
            return ctx.new_str(text);
        }
        // Lone surrogates (WTF-8) or invalid bytes: Python's own decoder,
        // with ujson's error handler.
        let bytes = ctx.new_bytes(out.as_bytes())?;
        bytes.call_method("decode", ("utf-8", "surrogatepass"))
    }
}

/// Decodes the multi-byte sequence at the start of `s` for `\uXXXX` output:
/// its length and code point. Well-formed sequences (every `str` on CPython;
/// PyPy's lone surrogates are well-formed 3-byte sequences too) take the
/// short path; anything else gets ujson's checks and messages.
#[inline(always)]
fn decode_sequence(s: &[u8]) -> Result<(usize, u32)> {
    #[inline(always)]
    fn cont(b: u8) -> Option<u32> {
        (b & 0xC0 == 0x80).then_some(u32::from(b & 0x3F))
    }
    let fast = match *s {
        [l @ 0xC2..=0xDF, b1, ..] => cont(b1).map(|c1| (2, (u32::from(l & 0x1F) << 6) | c1)),
        [l @ 0xE0..=0xEF, b1, b2, ..] => cont(b1).zip(cont(b2)).and_then(|(c1, c2)| {
            let cp = (u32::from(l & 0x0F) << 12) | (c1 << 6) | c2;
            (cp >= 0x800).then_some((3, cp))
        }),
        [l @ 0xF0..=0xF4, b1, b2, b3, ..] => {
            cont(b1)
                .zip(cont(b2))
                .zip(cont(b3))
                .and_then(|((c1, c2), c3)| {
                    let cp = (u32::from(l & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
                    (0x10000..=0x10FFFF).contains(&cp).then_some((4, cp))
                })
        }
        _ => None,
    };
    match fast {
        Some(r) => Ok(r),
        None => decode_sequence_checked(s),
    }
}

/// [`decode_sequence`] for everything but well-formed 2- and 3-byte
/// sequences, with ujson's checks and messages.
#[cold]
#[inline(never)]
fn decode_sequence_checked(s: &[u8]) -> Result<(usize, u32)> {
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
    // PyPy returns lone surrogates in this buffer, as WTF-8; CPython refuses
    // them (below). Either way the bytes are (WTF-)8.
    if let Some(bytes) = utf8_of(s) {
        return Ok(f(bytes));
    }
    s.ctx().err_clear();
    let b = s.call_method("encode", ("utf-8", "surrogatepass"))?;
    Ok(f(b.as_bytes()?))
}

/// `HPyUnicode_AsUTF8AndSize`: the text of a `str`, borrowed from it, or
/// `None` with the runtime's exception set (on CPython: a `str` with lone
/// surrogates, or anything but a `str`, which only CPython callers pass).
#[inline(always)]
fn utf8_of<'a>(s: &'a Handle<'_>) -> Option<&'a [u8]> {
    let mut len: sys::HPy_ssize_t = 0;
    // SAFETY: the handle is open; on success the buffer holds `len` bytes and
    // lives as long as the handle, which the `'a` borrow keeps open.
    let data = unsafe { sys::HPyUnicode_AsUTF8AndSize(s.ctx().as_raw(), s.as_raw(), &mut len) };
    // SAFETY: see above; `len` is non-negative on success.
    (!data.is_null())
        .then(|| unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len as usize) })
}

#[cfg(test)]
mod tests {
    use super::write_i64;

    /// `write_i64` writes what `i64::to_string` does: around every power of
    /// ten, both signs, the extremes.
    #[test]
    fn write_i64_matches_to_string() {
        let mut values = vec![
            0,
            1,
            -1,
            9,
            10,
            11,
            99,
            100,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let mut p = 1i64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, -p + 1, -p, -p - 1]);
            p = next;
        }
        values.extend([p - 1, p, p + 1, -p]);
        // Where the 32-bit path ends (`write_u32`), and a million values of
        // it, spread over every digit count.
        let m = i64::from(u32::MAX);
        values.extend([m - 1, m, m + 1, -m + 1, -m, -m - 1]);
        let mut y = 0x9e37_79b9u32;
        for _ in 0..1_000_000 {
            y ^= y << 13;
            y ^= y >> 17;
            y ^= y << 5;
            values.push(i64::from(y >> (y % 32)));
        }
        // And numbers of every length with zeros and nines inside (a linear
        // congruential sweep, shifted to each magnitude).
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let v = (x >> (x % 64)) as i64;
            values.extend([v, v.wrapping_neg(), v / 7 * 7, (v / 1000) * 1000 + 1]);
        }
        for v in values {
            let mut buf = [0u8; 20];
            // SAFETY: `buf` is 20 writable bytes.
            let len = unsafe { write_i64(buf.as_mut_ptr(), v) };
            assert_eq!(core::str::from_utf8(&buf[..len]).unwrap(), v.to_string());
        }
    }
}
