// Wrong: a `#[new]` that returns something else than the class.
use hpy::{hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Point {
    x: f64,
}

#[hpy_class]
struct Other {
    y: f64,
}

#[hpy_methods]
impl Point {
    #[new]
    fn new(y: f64) -> Other {
        Other { y }
    }
}

fn main() {}
