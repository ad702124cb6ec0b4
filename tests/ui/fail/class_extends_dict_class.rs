// Wrong: extending a class with `dict` (or `weakref`): on CPython the class
// Python sees is a Python subclass of its HPy type, which an HPy type cannot
// extend. The subclass takes the option itself.
use hpy::hpy_class;

#[hpy::hpy_module]
mod m {}

#[hpy_class(subclass, dict)]
struct Base {
    x: f64,
}

#[hpy_class(extends = Base)]
struct Derived {
    y: f64,
}

fn main() {}
