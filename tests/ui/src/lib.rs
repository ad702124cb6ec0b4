//! Holds the trybuild cases in `fail/` and `pass/`; see `tests/trybuild.rs`.
