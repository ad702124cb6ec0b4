// Wrong: a class's struct holding a `Handle<'static>` (or any handle): even
// without a lifetime parameter, a handle is refused in a class's struct.
use hpy::{Handle, hpy_class};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Cache {
    last: Option<Handle<'static>>,
}

fn main() {}
