//! HPy's proof-of-concept module inside a package, `pofpackage.foo`, in
//! safe Rust.
//!
//! `cargo hpy build -p pofpackage --out DIR` writes
//! `DIR/pofpackage/foo.hpy0.so`, its loader `DIR/pofpackage/foo.py` and an
//! empty `DIR/pofpackage/__init__.py`:
//!
//! ```text
//! >>> import pofpackage.foo
//! >>> pofpackage.foo.hello()
//! 'hello from pofpackage.foo'
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
