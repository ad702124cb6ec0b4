// Right: `&str`/`&[u8]` views used while their handle is alive, then copied out.
use hpy::{Handle, Result};

fn measure(x: &Handle<'_>) -> Result<String> {
    let s: &str = x.extract()?;
    let n = s.len();
    Ok(format!("{s}:{n}"))
}

fn main() {
    let _ = measure;
}
