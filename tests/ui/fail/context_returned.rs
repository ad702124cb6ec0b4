// Wrong: returns the call's context so that it outlives the call.
use hpy::Context;

fn keep(ctx: &Context) -> &'static Context {
    ctx
}

fn main() {}
