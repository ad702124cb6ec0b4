// Wrong: keeps a handle in a `thread_local!`, so it would outlive the call it belongs to.
use hpy::Handle;
use std::cell::RefCell;

thread_local! {
    static KEPT: RefCell<Option<Handle<'static>>> = const { RefCell::new(None) };
}

fn keep<'py>(x: &Handle<'py>) {
    KEPT.with(|k| *k.borrow_mut() = Some(x.dup()));
}

fn main() {}
