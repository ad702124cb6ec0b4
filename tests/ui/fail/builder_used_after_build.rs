// Wrong: sets an item of a list builder after it was built.
use hpy::{Context, Handle, Result};

fn f(ctx: &Context) -> Result<Handle<'_>> {
    let mut b = ctx.list_builder(1)?;
    b.set(0, 1)?;
    let list = b.build()?;
    b.set(0, 2)?;
    Ok(list)
}

fn main() {}
