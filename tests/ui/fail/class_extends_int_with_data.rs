// Wrong: a class that extends `int` with data: CPython keeps an int's digits
// where the struct would go, so such a class is a frozen unit struct.
use hpy::hpy_class;

#[hpy::hpy_module]
mod m {}

#[hpy_class(extends = int, frozen)]
struct Tagged {
    tag: u32,
}

fn main() {}
