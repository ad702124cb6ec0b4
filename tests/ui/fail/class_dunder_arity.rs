// Wrong: dunders with the wrong number of parameters.
use hpy::{hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Seq {
    items: Vec<i64>,
}

#[hpy_methods]
impl Seq {
    fn __len__(&self, extra: i64) -> usize {
        self.items.len() + extra as usize
    }

    fn __getitem__(&self) -> i64 {
        self.items[0]
    }
}

fn main() {}
