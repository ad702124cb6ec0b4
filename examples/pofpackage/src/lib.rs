//! HPy's proof-of-concept module inside a package, `pofpackage.foo`, in
//! safe Rust, and a second module of the same library, `pofpackage.bar`.
//!
//! `cargo hpy build -p pofpackage --out DIR` writes, for each module,
//! `DIR/pofpackage/<module>.hpy0.so` (the library, once per module), its
//! loader `DIR/pofpackage/<module>.py` and its type stub, and an empty
//! `DIR/pofpackage/__init__.py`:
//!
//! ```text
//! >>> import pofpackage.foo, pofpackage.bar
//! >>> pofpackage.foo.hello()
//! 'hello from pofpackage.foo'
//! >>> pofpackage.bar.shout("hello")
//! 'HELLO!'
//! ```

use hpy::hpy_module;

/// The module `foo` of the package `pofpackage`.
#[hpy_module(name = "pofpackage.foo")]
mod foo {
    use hpy::{Context, Handle, Result, hpy_method};

    /// Say hello, from the module's own name.
    #[hpy_method]
    fn hello(ctx: &Context) -> Result<String> {
        let _ = ctx;
        Ok("hello from pofpackage.foo".to_owned())
    }

    /// The module's `__name__`, as the module sees it.
    #[hpy_method]
    fn module_name<'py>(ctx: &'py Context) -> Result<Handle<'py>> {
        ctx.import_module("pofpackage.foo")?.get_attr("__name__")
    }
}

/// The module `bar` of the package `pofpackage`: several extension modules
/// in one crate.
#[hpy_module(name = "pofpackage.bar")]
mod bar {
    use hpy::{Result, hpy_method};

    /// `text` in capitals, with an exclamation mark.
    #[hpy_method]
    fn shout(text: &str) -> Result<String> {
        Ok(format!("{}!", text.to_uppercase()))
    }
}
