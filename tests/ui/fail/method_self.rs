// Wrong: `#[hpy_method]` on a method that takes `self`.
use hpy::hpy_method;

struct Counter(i64);

impl Counter {
    #[hpy_method]
    fn get(&self) -> i64 {
        self.0
    }
}

fn main() {}
