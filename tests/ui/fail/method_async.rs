// Wrong: `#[hpy_method]` on an `async fn` (Python calls methods synchronously).
use hpy::hpy_method;

#[hpy_method]
async fn fetch(x: i64) -> i64 {
    x
}

fn main() {}
