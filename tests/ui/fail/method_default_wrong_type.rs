// Wrong: a default value of another type than the parameter's (`k` is a
// `usize`: `2` would do, and a float is no `usize`).
use hpy::hpy_method;

#[hpy_method(signature = (k = 2.5))]
fn f(k: usize) -> usize {
    k
}

// (a module in the crate, so that the function above has one to join)
#[hpy::hpy_module]
mod m {}

fn main() {}
