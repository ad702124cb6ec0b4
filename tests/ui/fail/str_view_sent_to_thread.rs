// Wrong: sends a `&str` borrowed from a str handle to another thread.
use hpy::{Handle, Result};

fn f(x: &Handle<'_>) -> Result<()> {
    let s: &str = x.extract()?;
    std::thread::spawn(move || s.len());
    Ok(())
}

fn main() {}
