// Wrong: keeps a handle in a `static`, so it would outlive the call it belongs to.
use hpy::Handle;

static mut KEPT: Option<Handle<'static>> = None;

fn keep<'py>(x: &Handle<'py>) {
    unsafe { KEPT = Some(x.dup()) };
}

fn main() {}
