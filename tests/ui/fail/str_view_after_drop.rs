// Wrong: uses a `&str` view after the handle it borrows from was dropped.
use hpy::{Handle, Result};

fn f(x: &Handle<'_>) -> Result<usize> {
    let owned = x.dup();
    let s: &str = owned.extract()?;
    drop(owned);
    Ok(s.len())
}

fn main() {}
