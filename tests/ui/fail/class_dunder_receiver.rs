// Wrong: dunders without the instance (`__repr__` with no `self`) and an
// `__init__` without one.
use hpy::{hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Seq {
    items: Vec<i64>,
}

#[hpy_methods]
impl Seq {
    fn __repr__() -> String {
        "Seq".to_owned()
    }

    fn __init__(items: Vec<i64>) {
        let _ = items;
    }
}

fn main() {}
