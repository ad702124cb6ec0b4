// Wrong: an option that `#[hpy_method]` does not know (`rename` instead of `name`).
use hpy::hpy_method;

#[hpy_method(rename = "add")]
fn add_ints(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
