//! Safe Rust SDK for HPy extensions: write plain Rust functions, ship **one**
//! universal binary that CPython (with `hpy` installed), PyPy, and HPy's debug
//! and trace modes all load unmodified.
//!
//! ```
//! use hpy::hpy_module;
//!
//! #[hpy_module]
//! mod pof {
//!     use hpy::{Handle, Result, hpy_method};
//!
//!     /// Add two integers.
//!     #[hpy_method]
//!     fn add_ints(a: i64, b: i64) -> i64 {
//!         a + b
//!     }
//!
//!     /// Return x + x, for any object.
//!     #[hpy_method]
//!     fn double<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
//!         x.add(x)
//!     }
//! }
//! ```
//!
//! Build it with `cargo hpy build`, then `import pof` from the output folder.
//!
//! # The object model
//!
//! * [`Context`]: the HPy context of one call, only ever seen as `&'ctx Context`;
//!   it cannot be made, kept, or sent to another thread by safe code.
//! * [`Handle<'ctx>`](Handle): an owned handle; `Drop` closes it, `Clone`
//!   dups it, [`Handle::close`] consumes it. Arguments arrive as
//!   `&Handle<'ctx>`: borrowed, so they cannot be closed, or returned without
//!   a dup.
//! * [`Borrowed`]: a borrowed handle, e.g. a context constant (`ctx.none()`).
//! * [`Error`] and [`Result`]: an exception that is already raised, or built
//!   lazily and raised at the boundary; [`exc`] has every builtin type.
//!   Panics are caught at every `extern "C"` boundary and raised as
//!   `SystemError`.
//! * [`FromPy`] and [`IntoPy`]: conversions for the scalar types, strings,
//!   bytes, `Option` and handles.
#![deny(missing_docs)]

mod builder;
mod builtins;
mod call;
mod context;
mod conv;
mod err;
mod eval;
mod global;
mod handle;
#[doc(hidden)]
pub mod impl_;
mod object;
mod tracker;
mod util;

pub use context::{Context, Runtime};
pub use conv::{FromPy, IntoPy};
pub use err::{Error, Result, exc};
pub use handle::{Borrowed, Handle};
pub use hpy_macros::{hpy_init, hpy_method, hpy_module};

// Re-exports of the API areas (one line per item, kept sorted within each area).
// [object, calls, eval]
// [builtin types, builders, tracker]
// [errors, globals, conversions]

/// The raw HPy 0.9.0 universal ABI (re-export of the `hpy-sys` crate).
pub use hpy_sys as sys;
