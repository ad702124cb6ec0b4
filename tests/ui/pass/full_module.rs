// Right: a module with every calling convention, the context, keywords and an init function.
use hpy::hpy_module;

/// A module.
#[hpy_module]
mod full {
    use hpy::{Context, Handle, Result, exc, hpy_init, hpy_method};

    #[hpy_method]
    fn noargs() {}

    #[hpy_method]
    fn one<'py>(x: &Handle<'py>) -> Handle<'py> {
        x.dup()
    }

    #[hpy_method]
    fn two(a: i64, b: Option<i64>) -> i64 {
        a + b.unwrap_or(0)
    }

    #[hpy_method(name = "kw", signature = (a, /, b = 2, *, c = "x"))]
    fn keywords(ctx: &Context, a: &str, b: u8, c: String) -> Result<String> {
        if b == 0 {
            return Err(exc::ValueError::new_err("b must not be 0"));
        }
        Ok(format!("{}:{a}:{b}:{c}", ctx.name()))
    }

    #[hpy_init]
    fn init(module: &Handle<'_>) -> Result<()> {
        module.set_attr("VERSION", "1.0")
    }
}

fn main() {}
