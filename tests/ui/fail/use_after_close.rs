// Wrong: uses a handle after closing it explicitly.
use hpy::{Handle, Result};

fn f<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
    let h = x.dup();
    h.close();
    h.repr()
}

fn main() {}
