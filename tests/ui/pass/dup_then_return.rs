// Right: dup a borrowed argument (or a constant) to return an owned handle.
use hpy::{Context, Handle};

fn identity<'py>(x: &Handle<'py>) -> Handle<'py> {
    x.dup()
}

fn none(ctx: &Context) -> Handle<'_> {
    ctx.none().dup()
}

fn main() {
    let _ = (identity, none);
}
