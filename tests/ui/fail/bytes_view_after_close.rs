// Wrong: uses a `&[u8]` view after the handle it borrows from was closed.
use hpy::{Handle, Result};

fn f(x: &Handle<'_>) -> Result<usize> {
    let owned = x.dup();
    let b: &[u8] = owned.extract()?;
    owned.close();
    Ok(b.len())
}

fn main() {}
