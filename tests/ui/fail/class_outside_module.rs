// Wrong: a class in a crate without any #[hpy_module]: no module would make
// it, so it would be used before it exists.
use hpy::hpy_class;

#[hpy_class]
struct Lost {
    x: f64,
}

fn main() {}
