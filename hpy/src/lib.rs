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
//! * [`FromPy`] and [`IntoPy`]: conversions for the scalar types (including
//!   `i128`/`u128` and `char`), strings, bytes, `Option`, handles, and the
//!   standard collections (`Vec`, arrays, tuples up to 12, `HashMap`,
//!   `BTreeMap`, `HashSet`, `BTreeSet`), `Cow` and `PathBuf`. Nested
//!   conversions say where they failed (`argument 'xs': item 3: ...`).
//!
//! # The whole HPy API
//!
//! * Object protocol and numbers: methods on [`Handle`] (`get_attr`,
//!   `get_item`, `len`, `rich_compare`, `hash`, `add`, `iadd`, `pow_mod`, ...);
//!   calls with [`Handle::call`], [`Handle::call_kw`], [`Handle::call_method`].
//! * Builtin types: `str`, `bytes`, `list`, `tuple`, `dict`, slices, capsules
//!   and context variables (`ctx.new_list()`, `obj.read_char(i)`, ...), with
//!   [`ListBuilder`], [`TupleBuilder`] and [`Tracker`].
//! * Errors: [`Error`] (raised or lazy), every builtin exception in [`exc`],
//!   custom exception classes (`ctx.new_exception`) kept in a [`Global`],
//!   warnings, `errno`-based `OSError`s.
//! * Storage across calls: [`Global`], listed in the module definition by
//!   `#[hpy_module]`.
//! * `ctx.import_module`, `ctx.compile`/`ctx.eval_code`, and
//!   `ctx.allow_threads` to release the GIL around pure Rust work.
#![deny(missing_docs)]

mod builder;
mod builtins;
mod call;
pub mod class;
mod context;
mod conv;
mod declare;
mod err;
mod eval;
mod global;
mod handle;
mod hybrid;
#[doc(hidden)]
pub mod impl_;
mod object;
#[cfg(feature = "pyo3")]
pub mod pyo3;
mod tracker;
mod util;

pub use class::{Class, ClassBase, Field, Init, Mutable, Ref, RefMut};
pub use context::{Context, Runtime};
pub use conv::{FromPy, IntoPy};
pub use err::{Error, Result, exc};
pub use handle::{Borrowed, BorrowedItem, Handle};
pub use hpy_macros::{hpy_class, hpy_init, hpy_method, hpy_methods, hpy_module, hpy_module_export};
pub use impl_::BufferElement;

// Re-exports of the API areas (one line per item, kept sorted within each area).
// [object, calls, eval]
pub use call::CallArgs;
pub use call::CallKwargs;
pub use call::INLINE_ARGS;
pub use eval::Code;
pub use eval::SourceKind;
pub use object::AttrName;
pub use object::CompareOp;
pub use object::ItemKey;
pub use object::PyIntValue;
// [builtin types, builders, tracker]
pub use builder::ListBuilder;
pub use builder::TupleBuilder;
pub use builtins::DictItems;
pub use builtins::StrData;
pub use builtins::StrWriter;
pub use tracker::Tracker;
// [errors, globals, conversions]
pub use global::Global;

/// Whether this is a CPython-ABI build (`cargo hpy build --abi cpython`: a
/// plain CPython extension) rather than a universal one. Code rarely needs
/// it: the SDK picks the faster path of each build itself; an extension may
/// use it (as a constant, without a `cfg`) where the best algorithm differs
/// between the two builds.
pub const CPYTHON_ABI: bool = cfg!(hpy_abi = "cpython");

/// The raw HPy 0.9.0 universal ABI (re-export of the `hpy-sys` crate).
pub use hpy_sys as sys;
