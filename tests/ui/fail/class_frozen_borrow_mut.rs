// Wrong: borrowing a `frozen` class's struct mutably from Rust, or taking
// it as a `&mut` argument.
use hpy::{Handle, Result, hpy_class, hpy_method};

#[hpy::hpy_module]
mod m {}

#[hpy_class(frozen)]
struct Total {
    n: i64,
}

fn bump(obj: &Handle<'_>) -> Result<()> {
    obj.borrow_mut::<Total>()?.n += 1;
    Ok(())
}

#[hpy_method]
fn reset(t: &mut Total) {
    t.n = 0;
}

fn main() {
    let _ = bump;
}
