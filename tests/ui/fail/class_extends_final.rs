// Wrong: extending a class that is not `#[hpy_class(subclass)]`.
use hpy::hpy_class;

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Base {
    x: f64,
}

#[hpy_class(extends = Base)]
struct Derived {
    y: f64,
}

fn main() {}
