// Right: storage across calls goes through a `Global`: `store` in one call, `load` in another.
use hpy::hpy_module;

#[hpy_module]
mod cached {
    use hpy::{Context, Global, Handle, Result, hpy_method};

    static LAST: Global = Global::new();

    #[hpy_method]
    fn remember(ctx: &Context, x: &Handle<'_>) {
        LAST.store(ctx, x);
    }

    #[hpy_method]
    fn recall(ctx: &Context) -> Result<Handle<'_>> {
        LAST.load(ctx)
    }
}

fn main() {}
