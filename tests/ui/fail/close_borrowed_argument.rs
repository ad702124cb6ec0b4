// Wrong: closes an argument, which the caller owns.
use hpy::Handle;

fn f(x: &Handle<'_>) {
    x.close();
}

fn main() {}
