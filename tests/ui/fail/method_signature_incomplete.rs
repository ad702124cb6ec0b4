// Wrong: the signature leaves out a parameter.
use hpy::hpy_method;

#[hpy_method(signature = (a))]
fn add_ints(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
