//! Finding the bytes of interest in a string 16 at a time: the scan under
//! both `loads` (where a string ends, whether it is ASCII) and `dumps`
//! (which bytes need an escape).
//!
//! On x86-64 a block is one SSE2 register (part of the baseline instruction
//! set, so the one universal binary runs on every x86-64 machine); elsewhere
//! a portable loop gives the same mask.

/// Bytes per block.
pub(crate) const LEN: usize = 16;

/// Which bytes to look for. `"`, `\\` and the control characters (below
/// 0x20, NUL included) always; the rest by option.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Set {
    /// `/`.
    pub(crate) slash: bool,
    /// `<`, `>` and `&`.
    pub(crate) html: bool,
    /// Every byte from 0x80 on.
    pub(crate) non_ascii: bool,
}

impl Set {
    /// Bit `k` is set when byte `k` of the block at `p` is in the set.
    ///
    /// # Safety
    ///
    /// `p` must be valid for reading [`LEN`] bytes.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    pub(crate) unsafe fn mask(&self, p: *const u8) -> u32 {
        use core::arch::x86_64::*;
        // SAFETY: the caller guarantees 16 readable bytes (an unaligned
        // load); SSE2 is enabled (cfg above).
        unsafe { self.mask_vec(_mm_loadu_si128(p.cast())) }
    }

    /// Bit `k` is set when byte `k` of `v` is in the set.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn mask_vec(&self, v: core::arch::x86_64::__m128i) -> u32 {
        use core::arch::x86_64::*;
        #[inline(always)]
        fn eq(v: __m128i, c: u8) -> __m128i {
            // SAFETY: SSE2 is enabled (cfg above).
            unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)) }
        }
        // SAFETY: SSE2 is enabled (cfg above); register operations only.
        unsafe {
            // Bytes up to 0x1F: min(v, 0x1F) == v, unsigned.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
            let mut m = _mm_or_si128(control, _mm_or_si128(eq(v, b'"'), eq(v, b'\\')));
            if self.slash {
                m = _mm_or_si128(m, eq(v, b'/'));
            }
            if self.html {
                m = _mm_or_si128(
                    m,
                    _mm_or_si128(eq(v, b'<'), _mm_or_si128(eq(v, b'>'), eq(v, b'&'))),
                );
            }
            let mut bits = _mm_movemask_epi8(m) as u32;
            if self.non_ascii {
                // The high bit of each byte.
                bits |= _mm_movemask_epi8(v) as u32;
            }
            bits
        }
    }

    /// Bit `k` is set when byte `k` of the block at `p` is in the set.
    ///
    /// # Safety
    ///
    /// `p` must be valid for reading [`LEN`] bytes.
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline(always)]
    pub(crate) unsafe fn mask(&self, p: *const u8) -> u32 {
        // SAFETY: the caller guarantees LEN readable bytes.
        let bytes = unsafe { &*p.cast::<[u8; LEN]>() };
        let mut bits = 0;
        for (k, &c) in bytes.iter().enumerate() {
            bits |= u32::from(self.contains(c)) << k;
        }
        bits
    }

    /// Whether any byte of `s` (shorter than [`LEN`]) is in the set.
    ///
    /// The block is put together in registers from at most two overlapping
    /// loads of `s` (the rest plain filler), never stored and loaded back: a
    /// block assembled in memory from smaller stores and read whole stalls
    /// the load (no store forwarding), which cost `dumps` a quarter of its
    /// own time on key-heavy documents.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    pub(crate) fn any_short(&self, s: &[u8]) -> bool {
        use core::arch::x86_64::*;
        debug_assert!(s.len() < LEN);
        const FILL: u64 = u64::from_ne_bytes([b'a'; 8]);
        let n = s.len();
        let p = s.as_ptr();
        // SAFETY: every read is within `s` (`n >= 8` reads `0..8` and
        // `n-8..n`, and so on); the overlap repeats bytes of `s`, and the
        // filler is outside the set, so the block holds exactly the bytes of
        // `s` and filler.
        let (lo, hi) = unsafe {
            if n >= 8 {
                (
                    p.cast::<u64>().read_unaligned(),
                    p.add(n - 8).cast::<u64>().read_unaligned(),
                )
            } else if n >= 4 {
                let a = u64::from(p.cast::<u32>().read_unaligned());
                let b = u64::from(p.add(n - 4).cast::<u32>().read_unaligned());
                (a | b << 32, FILL)
            } else if n > 0 {
                let a =
                    u64::from(*p) | u64::from(*p.add(n / 2)) << 8 | u64::from(*p.add(n - 1)) << 16;
                (a | FILL << 24, FILL)
            } else {
                return false;
            }
        };
        // SAFETY: SSE2 is enabled (cfg above); two general registers moved
        // into one vector, no memory round trip.
        self.mask_vec(unsafe { _mm_set_epi64x(hi as i64, lo as i64) }) != 0
    }

    /// Whether any byte of `s` (shorter than [`LEN`]) is in the set.
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline(always)]
    pub(crate) fn any_short(&self, s: &[u8]) -> bool {
        s.iter().any(|&c| self.contains(c))
    }

    /// For the [`LEN`] UCS-2 units at `p`: stores them at `d` as bytes (those
    /// below 0x80 as themselves) and returns the mask of the units to
    /// escape: every unit from 0x80 on, and the ASCII ones in the set. The
    /// bytes before the first bit set are the plain units' text.
    ///
    /// # Safety
    ///
    /// `p` must be valid for reading [`LEN`] units and `d` for writing
    /// [`LEN`] bytes.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    pub(crate) unsafe fn pack_ucs2(&self, p: *const u16, d: *mut u8) -> u32 {
        use core::arch::x86_64::*;
        // SAFETY: the caller guarantees 2 * LEN readable bytes at `p` and
        // LEN writable ones at `d` (unaligned accesses); SSE2 is enabled.
        unsafe {
            let lo = _mm_loadu_si128(p.cast());
            let hi = _mm_loadu_si128(p.add(LEN / 2).cast());
            // Signed saturation to bytes: 0x80..=0x7FFF become 0x7F, and
            // 0x8000 on (negative as i16) 0x80; so a unit is ASCII exactly
            // when it equals its byte, widened again. Compare in 16 bits.
            let packed = _mm_packs_epi16(lo, hi);
            let zero = _mm_setzero_si128();
            let wide_lo = _mm_unpacklo_epi8(packed, zero);
            let wide_hi = _mm_unpackhi_epi8(packed, zero);
            let same = _mm_packs_epi16(_mm_cmpeq_epi16(wide_lo, lo), _mm_cmpeq_epi16(wide_hi, hi));
            // `same` is 0xFF per unit below 0x80 (a byte 0x7F from a larger
            // unit differs from it) and whose byte has no high bit.
            let ascii = _mm_andnot_si128(_mm_cmplt_epi8(packed, zero), same);
            _mm_storeu_si128(d.cast(), packed);
            let plain = !(_mm_movemask_epi8(ascii) as u32) & 0xFFFF;
            plain | self.mask_vec(packed)
        }
    }

    /// For the [`LEN`] UCS-2 units at `p`: stores them at `d` as bytes (those
    /// below 0x80 as themselves) and returns the mask of the units to
    /// escape: every unit from 0x80 on, and the ASCII ones in the set.
    ///
    /// # Safety
    ///
    /// `p` must be valid for reading [`LEN`] units and `d` for writing
    /// [`LEN`] bytes.
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline(always)]
    pub(crate) unsafe fn pack_ucs2(&self, p: *const u16, d: *mut u8) -> u32 {
        let mut bits = 0;
        for k in 0..LEN {
            // SAFETY: `k < LEN`, within both regions (the caller's guarantee).
            let u = unsafe { p.add(k).read_unaligned() };
            let c = if u < 0x80 { u as u8 } else { 0xFF };
            // SAFETY: as above.
            unsafe { d.add(k).write(c) };
            bits |= u32::from(u >= 0x80 || self.contains(c)) << k;
        }
        bits
    }

    /// Whether `c` is in the set (the byte-at-a-time form of [`Set::mask`]).
    #[inline(always)]
    pub(crate) fn contains(&self, c: u8) -> bool {
        c < 0x20
            || c == b'"'
            || c == b'\\'
            || (self.slash && c == b'/')
            || (self.html && matches!(c, b'<' | b'>' | b'&'))
            || (self.non_ascii && c >= 0x80)
    }

    /// The first position at or after `p` whose byte is in the set, or
    /// `input.len()`.
    #[inline(always)]
    pub(crate) fn find(&self, input: &[u8], mut p: usize) -> usize {
        while p + LEN <= input.len() {
            // SAFETY: `p + LEN <= input.len()`, so LEN bytes are readable.
            let m = unsafe { self.mask(input.as_ptr().add(p)) };
            if m != 0 {
                return p + m.trailing_zeros() as usize;
            }
            p += LEN;
        }
        while let Some(&c) = input.get(p) {
            if self.contains(c) {
                break;
            }
            p += 1;
        }
        p
    }
}

/// Units escaped at once by [`escape_8_units`].
pub(crate) const UNITS: usize = 8;

/// Bytes [`escape_8_units`] may store at `d`: six per unit, and the last
/// unit's eight-byte store two bytes past them.
pub(crate) const UNITS_ROOM: usize = 6 * UNITS + 2;

/// Writes the `\uXXXX` escapes (lowercase hex, as ujson) of the [`UNITS`]
/// UCS-2 units at `p` to `d`, `6 * UNITS` bytes, if every one is from 0x80
/// on (a run of CJK text, say), and says whether it did; otherwise it
/// writes nothing. The hex digits of all eight are made at once: each
/// byte's two nibbles spread into bytes, put in the order of the digits
/// (high byte first) and turned into `0-9a-f`; each unit then goes out as
/// one eight-byte store of `\u` and its four digits.
///
/// # Safety
///
/// `p` must be valid for reading [`UNITS`] units, `d` for writing
/// [`UNITS_ROOM`] bytes.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) unsafe fn escape_8_units(p: *const u16, d: *mut u8) -> bool {
    use core::arch::x86_64::*;
    // SAFETY: the caller guarantees 16 readable bytes at `p` (an unaligned
    // load) and UNITS_ROOM writable ones at `d`; SSE2 is enabled (cfg).
    unsafe {
        let v = _mm_loadu_si128(p.cast());
        // A unit below 0x80 has no bit of 0xFF80 set: none may.
        let below = _mm_cmpeq_epi16(
            _mm_and_si128(v, _mm_set1_epi16(0xFF80u16 as i16)),
            _mm_setzero_si128(),
        );
        if _mm_movemask_epi8(below) != 0 {
            return false;
        }
        let nibble = _mm_set1_epi8(0x0F);
        // Per byte: its high nibble (`hi`) and its low one (`lo`).
        let hi = _mm_and_si128(_mm_srli_epi16::<4>(v), nibble);
        let lo = _mm_and_si128(v, nibble);
        // Per unit (low byte L, high byte H), interleaved: L>>4, L&15,
        // H>>4, H&15; the two 16-bit halves swapped: the digits in order.
        let order = |x: __m128i| {
            _mm_shufflehi_epi16::<0b10_11_00_01>(_mm_shufflelo_epi16::<0b10_11_00_01>(x))
        };
        let first = order(_mm_unpacklo_epi8(hi, lo));
        let last = order(_mm_unpackhi_epi8(hi, lo));
        // 0-9 -> '0'-'9', 10-15 -> 'a'-'f' ('a' - '0' - 10 = 39).
        let hex = |x: __m128i| {
            let letters = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(9)), _mm_set1_epi8(39));
            _mm_add_epi8(_mm_add_epi8(x, _mm_set1_epi8(b'0' as i8)), letters)
        };
        let mut digits = [0u32; UNITS];
        _mm_storeu_si128(digits.as_mut_ptr().cast(), hex(first));
        _mm_storeu_si128(digits.as_mut_ptr().add(4).cast(), hex(last));
        for (k, &four) in digits.iter().enumerate() {
            let escape = (u64::from(four) << 16) | u64::from(u16::from_le_bytes([b'\\', b'u']));
            d.add(6 * k).cast::<u64>().write_unaligned(escape.to_le());
        }
    }
    true
}

/// [`escape_8_units`] without SSE2.
///
/// # Safety
///
/// As for the SSE2 version.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) unsafe fn escape_8_units(p: *const u16, d: *mut u8) -> bool {
    // SAFETY: forwarded.
    unsafe { escape_8_units_scalar(p, d) }
}

/// The bytes of [`escape_8_units`], one unit at a time (compiled and tested
/// on every target; the SSE2 version is checked against it).
///
/// # Safety
///
/// As for [`escape_8_units`].
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
unsafe fn escape_8_units_scalar(p: *const u16, d: *mut u8) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // SAFETY: the caller guarantees UNITS readable units at `p` and
    // UNITS_ROOM writable bytes at `d` (of which 6 * UNITS are written).
    unsafe {
        let units = core::slice::from_raw_parts(p, UNITS);
        if units.iter().any(|&u| u < 0x80) {
            return false;
        }
        for (k, &u) in units.iter().enumerate() {
            let u = usize::from(u);
            let e = [
                b'\\',
                b'u',
                HEX[u >> 12],
                HEX[(u >> 8) & 15],
                HEX[(u >> 4) & 15],
                HEX[u & 15],
            ];
            core::ptr::copy_nonoverlapping(e.as_ptr(), d.add(6 * k), 6);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of the options.
    fn every_set() -> impl Iterator<Item = Set> {
        (0..8).map(|bits| Set {
            slash: bits & 1 != 0,
            html: bits & 2 != 0,
            non_ascii: bits & 4 != 0,
        })
    }

    /// The block mask agrees with `contains` at every position of every
    /// byte value, for every option combination.
    #[test]
    fn mask_matches_contains() {
        for set in every_set() {
            for c in 0..=255u8 {
                for k in 0..LEN {
                    let mut block = [b'a'; LEN];
                    block[k] = c;
                    // SAFETY: `block` is LEN bytes.
                    let m = unsafe { set.mask(block.as_ptr()) };
                    let want = if set.contains(c) { 1 << k } else { 0 };
                    assert_eq!(m, want, "{set:?} byte {c:#x} at {k}");
                }
            }
        }
    }

    /// `pack_ucs2` flags every unit from 0x80 on and the ASCII units in the
    /// set, at every position, for every option combination, and stores the
    /// plain units before the first flag as their bytes.
    #[test]
    fn pack_ucs2_matches_contains() {
        let mut units: Vec<u16> = (0..0x200).collect();
        units.extend([
            0x7FF, 0x800, 0x7FFF, 0x8000, 0x807F, 0x8080, 0xD800, 0xFF7F, 0xFFFF,
        ]);
        for set in every_set() {
            for &u in &units {
                for k in 0..LEN {
                    let mut block = [u16::from(b'a'); LEN];
                    block[k] = u;
                    let mut out = [0u8; LEN];
                    // SAFETY: LEN units in, LEN bytes out.
                    let m = unsafe { set.pack_ucs2(block.as_ptr(), out.as_mut_ptr()) };
                    let flagged = u >= 0x80 || set.contains(u as u8);
                    assert_eq!(
                        m,
                        if flagged { 1 << k } else { 0 },
                        "{set:?} unit {u:#x} at {k}"
                    );
                    let plain = if flagged { k } else { LEN };
                    assert!(
                        out[..plain]
                            .iter()
                            .enumerate()
                            .all(|(j, &c)| u16::from(c) == block[j])
                    );
                }
            }
        }
    }

    /// `any_short` agrees with `contains` for every length below a block,
    /// every byte value at every position, for every option combination.
    #[test]
    fn any_short_matches_contains() {
        for set in every_set() {
            assert!(!set.any_short(b""));
            for n in 1..LEN {
                for c in 0..=255u8 {
                    for k in 0..n {
                        let mut s = vec![b'x'; n];
                        s[k] = c;
                        assert_eq!(
                            set.any_short(&s),
                            set.contains(c),
                            "{set:?} {c:#x} at {k} of {n}"
                        );
                    }
                }
            }
        }
    }

    /// `escape_8_units` writes `\uXXXX` of each unit exactly as a format
    /// does, for units around every nibble boundary and random ones, and
    /// nothing at all if any unit is ASCII (at any position).
    #[test]
    fn escape_8_units_matches_format() {
        let mut edges: Vec<u16> = vec![0x80, 0x9F, 0xA0, 0xFF, 0x100, 0x7FF, 0x800, 0x9999, 0xAAAA];
        edges.extend([
            0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFEFF, 0xFFFE, 0xFFFF,
        ]);
        let mut x = 0x1234_5678u32;
        let mut blocks: Vec<[u16; UNITS]> = Vec::new();
        for w in edges.windows(UNITS) {
            blocks.push(w.try_into().unwrap());
        }
        for _ in 0..100_000 {
            let mut b = [0u16; UNITS];
            for u in &mut b {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *u = 0x80 + (x % (0x1_0000 - 0x80)) as u16;
            }
            blocks.push(b);
        }
        for b in &blocks {
            let mut scalar = [0u8; UNITS_ROOM];
            // SAFETY: UNITS units in, UNITS_ROOM bytes out.
            assert!(unsafe { escape_8_units_scalar(b.as_ptr(), scalar.as_mut_ptr()) });
            let mut out = [0xEEu8; UNITS_ROOM + 4];
            // SAFETY: UNITS units in, UNITS_ROOM bytes out (and more).
            assert!(unsafe { escape_8_units(b.as_ptr(), out.as_mut_ptr()) });
            assert_eq!(out[..6 * UNITS], scalar[..6 * UNITS]);
            let want: String = b.iter().map(|u| format!("\\u{u:04x}")).collect();
            assert_eq!(&out[..6 * UNITS], want.as_bytes(), "{b:x?}");
            assert!(
                out[UNITS_ROOM..].iter().all(|&c| c == 0xEE),
                "stored past its room"
            );
            for k in 0..UNITS {
                for ascii in [0u16, 0x22, 0x5C, 0x7F] {
                    let mut c = *b;
                    c[k] = ascii;
                    let mut out = [0xEEu8; UNITS_ROOM];
                    // SAFETY: as above.
                    assert!(!unsafe { escape_8_units(c.as_ptr(), out.as_mut_ptr()) });
                    // SAFETY: as above.
                    assert!(!unsafe { escape_8_units_scalar(c.as_ptr(), out.as_mut_ptr()) });
                    assert!(out.iter().all(|&c| c == 0xEE), "wrote for {c:x?}");
                }
            }
        }
    }

    #[test]
    fn find_stops_at_the_first_member() {
        let set = Set {
            slash: false,
            html: false,
            non_ascii: true,
        };
        let text = b"0123456789abcdefghij\"klmnopqrstuvwxyz0123456789";
        for start in 0..text.len() {
            let want = if start <= 20 { 20 } else { text.len() };
            assert_eq!(set.find(text, start), want, "from {start}");
        }
        assert_eq!(set.find("abc\u{e9}".as_bytes(), 0), 3);
        assert_eq!(set.find(b"", 0), 0);
    }
}
