// Wrong: keeps a handle from one call in a static next to a `Global`, instead of `store`.
use hpy::{Global, Handle};
use std::sync::Mutex;

static CACHE: Global = Global::new();
static RAW: Mutex<Option<Handle<'static>>> = Mutex::new(None);

fn remember(x: &Handle<'_>) {
    let _ = &CACHE;
    *RAW.lock().unwrap() = Some(x.dup());
}

fn main() {}
