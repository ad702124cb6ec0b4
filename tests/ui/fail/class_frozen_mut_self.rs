// Wrong: `&mut self` on a `frozen` class, whose struct is never borrowed
// mutably (it has no borrow flag).
use hpy::{hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class(frozen)]
struct Total {
    n: i64,
}

#[hpy_methods]
impl Total {
    fn add(&mut self, k: i64) {
        self.n += k;
    }
}

fn main() {}
