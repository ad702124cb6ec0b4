//! Safe Rust SDK for writing HPy extensions that ship as one universal binary.
//!
//! **Status:** foundation only. The raw ABI is complete in [`sys`] (the
//! `hpy-sys` crate); the safe layer (`Context`, `Handle`, conversions, errors,
//! builders, globals, types) and the `#[hpy_module]`/`#[hpy_method]` macros are
//! being built on top of it, issue by issue (see the README's status section).
#![deny(missing_docs)]

/// The raw HPy 0.9.0 universal ABI (re-export of the `hpy-sys` crate).
pub use hpy_sys as sys;
