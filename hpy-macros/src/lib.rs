//! Procedural macros for the `hpy` crate.
//!
//! **Status:** empty placeholder crate of the workspace; `#[hpy_module]` and
//! `#[hpy_method]` arrive with the vertical-slice issue. Users depend on `hpy`,
//! which re-exports them.
#![deny(missing_docs)]
