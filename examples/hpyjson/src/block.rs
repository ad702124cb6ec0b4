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
        #[inline(always)]
        fn eq(v: __m128i, c: u8) -> __m128i {
            // SAFETY: SSE2 is enabled (cfg above).
            unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)) }
        }
        // SAFETY: the caller guarantees 16 readable bytes (an unaligned
        // load); SSE2 is enabled (cfg above).
        unsafe {
            let v = _mm_loadu_si128(p.cast());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The block mask agrees with `contains` at every position of every
    /// byte value, for every option combination.
    #[test]
    fn mask_matches_contains() {
        for bits in 0..8 {
            let set = Set {
                slash: bits & 1 != 0,
                html: bits & 2 != 0,
                non_ascii: bits & 4 != 0,
            };
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
