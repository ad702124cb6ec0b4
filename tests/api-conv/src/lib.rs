//! Test fixture: exercises conversions of the standard collections and other std types from Python
//! (`tests/python/test_api_conv.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises conversions of the standard collections and other std types.
#[hpy_module]
mod api_conv {
    use hpy::hpy_method;

    /// Placeholder until the real functions are written.
    #[hpy_method]
    fn ping() -> &'static str {
        "pong"
    }
}
