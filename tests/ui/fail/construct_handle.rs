// Wrong: makes a handle from a raw value in safe code.
use hpy::{Context, Handle};

fn forge(ctx: &Context) -> Handle<'_> {
    Handle::from_raw(ctx, hpy::sys::HPy { _i: 8 })
}

fn main() {}
