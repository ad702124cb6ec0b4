// Wrong: closes a context constant (`None`) as if it were owned.
use hpy::Context;

fn f(ctx: &Context) {
    ctx.none().close();
}

fn main() {}
