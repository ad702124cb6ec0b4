// Wrong: a parameter type that has no conversion from a Python object.
use hpy::hpy_method;

struct Point {
    x: f64,
}

#[hpy_method]
fn norm(p: Point) -> f64 {
    p.x.abs()
}

// (a module in the crate, so that the function above has one to join)
#[hpy::hpy_module]
mod m {}

fn main() {}
