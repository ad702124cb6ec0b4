// Wrong: a required positional parameter after one with a default, as Python forbids.
use hpy::hpy_method;

#[hpy_method(signature = (a = 1, b))]
fn add_ints(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
