// Wrong: moves an exception type (a context constant) out to drop it, as if it were owned.
use hpy::exc::TypeError;
use hpy::Context;

fn f(ctx: &Context) {
    let ty = TypeError::type_object(ctx);
    drop(*ty);
}

fn main() {}
