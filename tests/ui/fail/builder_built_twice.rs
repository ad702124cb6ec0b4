// Wrong: builds the same tuple builder twice.
use hpy::{Context, Handle, Result};

fn f(ctx: &Context) -> Result<Handle<'_>> {
    let b = ctx.tuple_builder(0)?;
    let _first = b.build()?;
    b.build()
}

fn main() {}
