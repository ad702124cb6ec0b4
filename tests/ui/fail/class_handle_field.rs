// Wrong: a class's struct holding a `Handle`. A handle lives for one call;
// an object lives in a struct only through a `Field`, which the collector
// traverses.
use hpy::{Handle, hpy_class};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Cache<'py> {
    last: Handle<'py>,
}

fn main() {}
