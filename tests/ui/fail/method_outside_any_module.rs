// Wrong: an #[hpy_method] outside any module `mod`, in a crate without a
// #[hpy_module]: no module would ever gather it.
use hpy::hpy_method;

#[hpy_method]
fn lost() -> i64 {
    42
}

fn main() {}
