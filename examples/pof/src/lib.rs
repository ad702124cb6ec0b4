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
//! ```

use hpy::hpy_module;

/// HPy's proof-of-concept module, in Rust.
#[hpy_module]
mod pof {
    use hpy::{Handle, Result, hpy_method};

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
}
