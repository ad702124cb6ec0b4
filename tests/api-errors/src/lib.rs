//! Test fixture: exercises errors, warnings, custom exception classes and globals from Python
//! (`tests/python/test_api_errors.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises errors, warnings, custom exception classes and globals.
#[hpy_module]
mod api_errors {
    use hpy::hpy_method;

    /// Placeholder until the real functions are written.
    #[hpy_method]
    fn ping() -> &'static str {
        "pong"
    }
}
