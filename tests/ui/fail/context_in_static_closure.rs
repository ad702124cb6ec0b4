// Wrong: captures the call's context in a `'static` closure that can run after the call.
use hpy::Context;

fn later(ctx: &Context) -> Box<dyn Fn() -> usize + 'static> {
    Box::new(move || ctx.name().len())
}

fn main() {}
