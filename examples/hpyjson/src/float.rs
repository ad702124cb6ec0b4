//! Float formatting: the shortest digits that read back as the same `f64`
//! (from `ryu`), laid out like ujson's double-conversion settings
//! (`EMIT_TRAILING_DECIMAL_POINT | EMIT_TRAILING_ZERO_AFTER_POINT |
//! EMIT_POSITIVE_EXPONENT_SIGN`, decimal notation for exponents -4..=15):
//! `1.0`, `0.0001`, `1e-5`, `1e+16`, `1.5e+300`, `-0.0`, `5e-324`.
//!
//! Python's `repr` differs only in the exponent's padding (`1e-05`); both
//! read back as the same float.

/// The text of a float: at most 24 bytes (a sign, 17 digits, a point, or
/// three zeros after `0.`, or an exponent of up to `e-324`).
pub(crate) struct FloatText {
    buf: [u8; 32],
    len: usize,
}

impl FloatText {
    /// The text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn extend_from_slice(&mut self, s: &[u8]) {
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    fn zeros(&mut self, n: usize) {
        self.buf[self.len..self.len + n].fill(b'0');
        self.len += n;
    }
}

/// The JSON form of the finite `v`.
pub(crate) fn format_f64(v: f64) -> FloatText {
    let mut out = FloatText {
        buf: [0; 32],
        len: 0,
    };
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v).as_bytes();
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.iter().position(|&c| c == b'e') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    // The mantissa's digits, and where the decimal point is relative to them.
    let mut digits = [0u8; 32];
    let mut n = 0;
    let mut point = None;
    for &c in mantissa {
        if c == b'.' {
            point = Some(n);
        } else if n < digits.len() {
            digits[n] = c;
            n += 1;
        }
    }
    let mut decimal_point = point.unwrap_or(n) as i32 + exp;
    let mut first = 0;
    while first < n && digits[first] == b'0' {
        first += 1;
        decimal_point -= 1;
    }
    while n > first && digits[n - 1] == b'0' {
        n -= 1;
    }
    if neg {
        out.push(b'-');
    }
    let d = &digits[first..n];
    if d.is_empty() {
        out.extend_from_slice(b"0.0");
        return out;
    }
    let exponent = decimal_point - 1;
    if (-4..16).contains(&exponent) {
        if decimal_point <= 0 {
            out.extend_from_slice(b"0.");
            out.zeros((-decimal_point) as usize);
            out.extend_from_slice(d);
        } else {
            let dp = decimal_point as usize;
            if dp >= d.len() {
                out.extend_from_slice(d);
                out.zeros(dp - d.len());
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&d[..dp]);
                out.push(b'.');
                out.extend_from_slice(&d[dp..]);
            }
        }
    } else {
        out.push(d[0]);
        if d.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        out.extend_from_slice(
            itoa::Buffer::new()
                .format(exponent.unsigned_abs())
                .as_bytes(),
        );
    }
    out
}

/// The exponent `ryu` wrote (`-7`, `16`).
fn parse_exp(s: &[u8]) -> i32 {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let v = digits
        .iter()
        .fold(0i32, |acc, &c| acc * 10 + i32::from(c.wrapping_sub(b'0')));
    if neg { -v } else { v }
}
