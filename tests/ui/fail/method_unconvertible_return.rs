// Wrong: a return type that has no conversion to a Python object.
use hpy::hpy_method;

struct Point {
    x: f64,
}

#[hpy_method]
fn origin() -> Point {
    Point { x: 0.0 }
}

fn main() {}
