// Wrong: keeps the handle loaded from a `Global` beyond the call (load gives a call-bound handle).
use hpy::{Context, Global, Handle, Result};

static CACHE: Global = Global::new();

fn load_forever(ctx: &Context) -> Result<Handle<'static>> {
    CACHE.load(ctx)
}

fn main() {}
