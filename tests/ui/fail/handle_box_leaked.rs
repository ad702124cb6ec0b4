// Wrong: leaks a box holding a handle to get a `'static` reference to it.
use hpy::Handle;

fn leak<'py>(x: &Handle<'py>) -> &'static Handle<'static> {
    Box::leak(Box::new(x.dup()))
}

fn main() {}
