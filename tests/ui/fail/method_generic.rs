// Wrong: `#[hpy_method]` on a generic function (Python needs one concrete function).
use hpy::hpy_method;

#[hpy_method]
fn first<T: Default>(x: i64) -> i64 {
    let _ = T::default();
    x
}

fn main() {}
