// Wrong: `#[hpy_init]` outside a `#[hpy_module]`, where nothing would run it.
use hpy::{Handle, hpy_init};

#[hpy_init]
fn init(module: &Handle<'_>) {
    let _ = module;
}

fn main() {}
