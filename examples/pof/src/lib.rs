//! HPy's proof-of-concept module `pof`, written in safe Rust.
//!
//! Build it with `cargo hpy build -p pof`, then `import pof` from the output
//! folder on CPython (with `hpy` installed) or PyPy:
//!
//! ```text
//! >>> import pof
//! >>> pof.add_ints(40, 2)
//! 42
//! >>> pof.double("ab")
//! 'abab'
//! >>> pof.Point(1, 2)
//! Point(1, 2)
//! ```

use hpy::hpy_module;

/// HPy's proof-of-concept module, in Rust.
#[hpy_module]
mod pof {
    use hpy::{Handle, Result, hpy_class, hpy_method, hpy_methods};

    /// Do nothing and return None.
    #[hpy_method]
    fn do_nothing() {}

    /// Return x + x, for any object that supports `+`.
    #[hpy_method]
    fn double<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
        x.add(x)
    }

    /// Add two integers.
    #[hpy_method]
    fn add_ints(a: i64, b: i64) -> Result<i64> {
        a.checked_add(b).ok_or_else(|| {
            hpy::exc::OverflowError::new_err("add_ints() result does not fit in 64 bits")
        })
    }

    /// Add two integers, given by position or by keyword.
    #[hpy_method(signature = (a, b))]
    fn add_ints_kw(a: i64, b: i64) -> Result<i64> {
        add_ints(a, b)
    }

    /// A point in the plane.
    #[hpy_class]
    struct Point {
        #[hpy(get)]
        x: f64,
        #[hpy(get)]
        y: f64,
    }

    #[hpy_methods]
    impl Point {
        #[new]
        fn new(x: f64, y: f64) -> Self {
            Point { x, y }
        }

        /// `Point(x, y)`, the coordinates as C's `%g` writes them (as HPy's
        /// own proof-of-concept does).
        fn __repr__(&self) -> String {
            format!(
                "Point({}, {})",
                super::format_g(self.x),
                super::format_g(self.y)
            )
        }
    }
}

/// `x` as C's `printf("%g", x)` writes it: 6 significant digits, fixed
/// notation for exponents from -4 to 5, trailing zeros removed.
fn format_g(x: f64) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // The exponent after rounding to 6 significant digits.
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim(&format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::format_g;

    #[test]
    fn format_g_is_cs() {
        for (x, want) in [
            (1.0, "1"),
            (2.0, "2"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.333333"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e100, "1e+100"),
            (999999.5, "1e+06"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(format_g(x), want, "{x}");
        }
    }
}
