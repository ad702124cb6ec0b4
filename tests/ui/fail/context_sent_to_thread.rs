// Wrong: sends the call's context to another thread.
use hpy::Context;

fn f(ctx: &'static Context) {
    std::thread::spawn(move || ctx.name().len());
}

fn main() {}
