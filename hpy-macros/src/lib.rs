//! Procedural macros of the `hpy` crate: [`macro@hpy_method`], [`macro@hpy_module`]
//! and [`macro@hpy_init`]. Use them through `hpy` (`hpy::hpy_method`, ...).
//!
//! The expansions are kept small: they declare the `extern "C"` functions and
//! the static definitions the HPy ABI needs, and call into `hpy::impl_` for
//! everything else. Misuse is reported as a spanned compile error, never a
//! macro panic.
#![deny(missing_docs)]

mod class;
mod dunder;
mod method;
mod module;
mod signature;
mod stub;

use proc_macro::TokenStream;

/// Turns a plain Rust function into a Python function of an HPy module.
///
/// ```ignore
/// /// Add two integers.
/// #[hpy_method]
/// fn add_ints(a: i64, b: i64) -> i64 { a + b }
///
/// /// Keyword arguments and defaults, PyO3-style.
/// #[hpy_method(signature = (a, b = 2, *, scale = 1))]
/// fn add_scaled(a: i64, b: i64, scale: i64) -> i64 { (a + b) * scale }
/// ```
///
/// * An optional first parameter `ctx: &Context` receives the call's context.
/// * Every other parameter is converted with `hpy::FromPy`; `&Handle<'py>`
///   takes the object itself (borrowed). An `Option<T>` parameter is optional
///   and defaults to `None`.
/// * The return type is anything `hpy::IntoPy`, or `hpy::Result` of one.
/// * The cheapest HPy calling convention is chosen: `NOARGS` (no parameters),
///   `O` (one required positional parameter), `VARARGS` (positional only) or
///   `KEYWORDS` (a `signature` that allows keywords).
/// * Without a `signature`, parameters are positional-only. With one, the
///   syntax is Python's: `a` (positional or keyword), `b = <Rust expr>` (with a
///   default), `/` (the parameters before it are positional-only), `*` (the ones
///   after it are keyword-only).
/// * `name = "pyname"` sets the Python name (default: the Rust name).
/// * The `///` documentation becomes `__doc__`, with a `__text_signature__`.
///
/// Wrong calls raise `TypeError` in CPython's words (`add_ints() takes exactly 2
/// arguments (3 given)`, `add_ints() argument 'a' must be int, not str`,
/// `f() got an unexpected keyword argument 'c'`, ...). A panic becomes a
/// `SystemError` that carries the panic message.
#[proc_macro_attribute]
pub fn hpy_method(attr: TokenStream, item: TokenStream) -> TokenStream {
    method::expand(attr.into(), item.into()).into()
}

/// Makes a Rust struct a Python class (PyO3's `#[pyclass]`): its instances
/// hold the struct, and the class joins the crate's module (or the one
/// `module = "..."` names) when it is imported.
///
/// ```ignore
/// /// A point in the plane.
/// #[hpy_class]                  // options: name = "...", module = "...", frozen, subclass
/// struct Point {
///     #[hpy(get, set)] x: f64,  // a property, read/write from Python
///     #[hpy(get)] y: f64,       // read-only
/// }
/// ```
///
/// * `name = "..."`: the Python name (default: the struct's).
/// * `frozen`: the struct never changes after `__new__`: no `&mut self`,
///   no `#[hpy(set)]`, and no borrow counting.
/// * `subclass`: Python classes may derive from it.
/// * `#[hpy(get)]`, `#[hpy(set)]` on a field: a property of that name
///   (`name = "..."` renames it); get needs `&T: IntoPy`, set `T: FromPy`.
///
/// The struct must be `Send` (an object may die on any thread) and aligned to
/// at most 16 bytes. Methods, `#[new]` and dunders come from
/// [`macro@hpy_methods`] blocks.
#[proc_macro_attribute]
pub fn hpy_class(attr: TokenStream, item: TokenStream) -> TokenStream {
    class::expand_class(attr.into(), item.into()).into()
}

/// The Python methods of a [`macro@hpy_class`]: every `fn` of the `impl` block
/// (PyO3's `#[pymethods]`). There may be several blocks, in any files.
///
/// ```ignore
/// #[hpy_methods]
/// impl Point {
///     #[new]
///     #[hpy(signature = (x = 0.0, y = 0.0))]
///     fn new(x: f64, y: f64) -> Self { Point { x, y } }
///
///     fn norm(&self) -> f64 { self.x.hypot(self.y) }
///     fn scale(&mut self, k: f64) { self.x *= k; self.y *= k; }
///
///     #[getter]
///     fn r(&self) -> f64 { self.norm() }
///
///     fn __repr__(&self) -> String { format!("Point({}, {})", self.x, self.y) }
/// }
/// ```
///
/// * Methods take `&self`, `&mut self` (the struct, borrowed through the
///   instance's borrow flag: a conflicting borrow raises `RuntimeError`) or
///   `slf: &Handle<'py>` first, then an optional `ctx: &Context`, then
///   parameters as in [`macro@hpy_method`] (`#[hpy(signature = (...), name =
///   "...")]` gives the signature and the Python name).
/// * `#[new]` makes instances (`tp_new`): it returns `Self` or
///   `Result<Self>`. Without one, the class cannot be instantiated from Python.
/// * `#[getter]` / `#[setter]` make properties (`get_x`/`set_x` or `x`, or
///   `#[getter(name)]`).
/// * `__repr__` and `__str__` are the class's slots.
#[proc_macro_attribute]
pub fn hpy_methods(attr: TokenStream, item: TokenStream) -> TokenStream {
    class::expand_methods(attr.into(), item.into()).into()
}

/// Turns an inline `mod` into an HPy module that every HPy runtime can load.
///
/// ```ignore
/// /// The module's docstring.
/// #[hpy_module]            // or #[hpy_module(name = "pyname")]
/// mod pof {
///     use hpy::{hpy_method, hpy_init, Context, Handle, Result};
///
///     #[hpy_method]
///     fn do_nothing() {}
///
///     #[hpy_init]
///     fn init(ctx: &Context, module: &Handle<'_>) -> Result<()> {
///         module.set_attr("answer", 42)
///     }
/// }
/// ```
///
/// It emits the four exported symbols of the HPy 0.9 module protocol
/// (`get_required_hpy_major_version_<name>`,
/// `get_required_hpy_minor_version_<name>`, `HPyInitGlobalContext_<name>`,
/// `HPyInit_<name>`) and an `HPy_mod_exec` slot. The `HPyModuleDef` is built
/// at the first `HPyInit_<name>`: every `#[hpy_method]` and `Global` of the
/// `mod`, and every `#[hpy_method]`, `create_exception!` and `global!` of
/// the rest of the crate. At import, the exec slot makes the crate's
/// exception classes, sets the `#[hpy_module_export]` constants, and runs the
/// optional `#[hpy_init]` function. The module name is the `mod`'s name unless
/// `name = "..."` says otherwise; the built file must be named `<name>.hpy0.so`.
#[proc_macro_attribute]
pub fn hpy_module(attr: TokenStream, item: TokenStream) -> TokenStream {
    module::expand(attr.into(), item.into()).into()
}

/// Exports a `const` or a `static` of a `#[hpy_module]` `mod` as a module
/// attribute of the same name, converted with `hpy::IntoPy` at import
/// (PyO3's `#[pymodule_export]`):
///
/// ```ignore
/// #[hpy_module]
/// mod textstats {
///     #[hpy_module_export]
///     const VERSION: &str = "1.0";
/// }
/// ```
///
/// It only has a meaning inside a `#[hpy_module]` `mod`, which consumes it.
#[proc_macro_attribute]
pub fn hpy_module_export(attr: TokenStream, item: TokenStream) -> TokenStream {
    // `#[hpy_module]` marks the attributes it consumed.
    if attr.to_string() == "__hpy_module_consumed" {
        return item;
    }
    let item: proc_macro2::TokenStream = item.into();
    let err = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[hpy_module_export] marks a `const` or `static` of a #[hpy_module] `mod` for export, and must be used inside one",
    )
    .to_compile_error();
    quote::quote!(#err #item).into()
}

/// Marks the initialisation function of a `#[hpy_module]` (run by the module's
/// `HPy_mod_exec` slot): `fn(&Context, &Handle<'_>) -> Result<()>` (the
/// context is optional; `()` may be returned instead of a `Result`).
///
/// It only has a meaning inside a `#[hpy_module]` `mod`, which consumes it.
#[proc_macro_attribute]
pub fn hpy_init(attr: TokenStream, item: TokenStream) -> TokenStream {
    // `#[hpy_module]` marks the attributes it consumed.
    if attr.to_string() == "__hpy_module_consumed" {
        return item;
    }
    let item: proc_macro2::TokenStream = item.into();
    let err = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[hpy_init] marks the init function of a #[hpy_module] `mod`, and must be used inside one",
    )
    .to_compile_error();
    quote::quote!(#err #item).into()
}
