// Right: a builder is filled, then built exactly once; a tracker closes its handles together.
use hpy::{Context, Handle, Result};

fn squares(ctx: &Context, n: usize) -> Result<Handle<'_>> {
    let mut b = ctx.list_builder(n)?;
    for i in 0..n {
        b.set(i, (i * i) as i64)?;
    }
    b.build()
}

fn pair<'py>(ctx: &'py Context, a: &Handle<'py>) -> Result<Handle<'py>> {
    let mut t = ctx.tuple_builder(2)?;
    t.set(0, a)?;
    t.set(1, ctx.none())?;
    t.build()
}

fn main() {
    let _ = (squares, pair);
}
