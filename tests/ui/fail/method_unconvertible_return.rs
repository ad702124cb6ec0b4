// Wrong: a return type that has no conversion to a Python object.
use hpy::hpy_method;

struct Point {
    x: f64,
}

#[hpy_method]
fn origin() -> Point {
    Point { x: 0.0 }
}

// (a module in the crate, so that the function above has one to join)
#[hpy::hpy_module]
mod m {}

fn main() {}
