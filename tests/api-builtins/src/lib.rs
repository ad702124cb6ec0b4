//! Test fixture: exercises str, bytes, list, tuple, dict, slices, capsules, context variables, builders and trackers from Python
//! (`tests/python/test_api_builtins.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises str, bytes, list, tuple, dict, slices, capsules, context variables, builders and trackers.
#[hpy_module]
mod api_builtins {
    use hpy::hpy_method;

    /// Placeholder until the real functions are written.
    #[hpy_method]
    fn ping() -> &'static str {
        "pong"
    }
}
