// Wrong: shares a handle with another thread through an `Arc`.
use hpy::Handle;
use std::sync::Arc;

fn f(x: &Handle<'_>) {
    let shared = Arc::new(x.dup());
    let other = Arc::clone(&shared);
    std::thread::scope(|s| {
        s.spawn(move || other.is_none());
    });
}

fn main() {}
