// Wrong: parameter types that have no conversion from a Python object; the
// message names the parameter, whatever its kind.
use hpy::hpy_method;

struct Point {
    x: f64,
}

#[hpy_method]
fn norm(p: Point) -> f64 {
    p.x.abs()
}

#[hpy_method(signature = (origin, scale = 1.0, *points, weights = None, **options))]
fn spread(
    origin: f64,
    scale: f64,
    points: Vec<Point>,
    weights: Option<Point>,
    options: Option<std::collections::HashMap<String, Point>>,
) -> f64 {
    let _ = (points, weights, options);
    origin * scale
}

// (a module in the crate, so that the functions above have one to join)
#[hpy::hpy_module]
mod m {}

fn main() {}
