//! Test fixture: exercises the object protocol, numbers, calls, import and eval from Python
//! (`tests/python/test_api_object.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises the object protocol, numbers, calls, import and eval.
#[hpy_module]
mod api_object {
    use hpy::hpy_method;

    /// Placeholder until the real functions are written.
    #[hpy_method]
    fn ping() -> &'static str {
        "pong"
    }
}
