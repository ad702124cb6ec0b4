// Wrong: returns a context constant where an owned handle is required, without `dup`.
use hpy::{Context, Handle};

fn none(ctx: &Context) -> Handle<'_> {
    ctx.none()
}

fn main() {}
