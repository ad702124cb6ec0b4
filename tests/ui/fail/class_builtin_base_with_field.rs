// Wrong: a `Field` in a class that extends a builtin type: HPy 0.9 on CPython
// cannot traverse it without skipping the builtin's own deallocation.
use hpy::{Field, hpy_class};

#[hpy::hpy_module]
mod m {}

#[hpy_class(extends = list)]
struct Tracked {
    owner: Field,
}

fn main() {}
