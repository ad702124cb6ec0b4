// Wrong: the signature names a parameter the function does not have.
use hpy::hpy_method;

#[hpy_method(signature = (a, c))]
fn add_ints(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
