//! The Rust side of the call-overhead benchmark (`bench/call_overhead.py`): the
//! same three functions as `bench/c/callbench_hpy.c` and `callbench_capi.c`,
//! written as plain `#[hpy_method]` functions.

use hpy::hpy_module;

/// Call-overhead benchmark functions, in Rust.
#[hpy_module]
mod callbench_rs {
    use hpy::{Handle, hpy_method};

    /// No arguments; returns None (NOARGS).
    #[hpy_method]
    fn noop() {}

    /// Returns its argument (O).
    #[hpy_method]
    fn identity<'py>(x: &Handle<'py>) -> Handle<'py> {
        x.dup()
    }

    /// Adds two integers (VARARGS, typed extraction).
    #[hpy_method]
    fn add_ints(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }
}
