// Wrong: a `'static` closure hands out a handle after the call has returned.
use hpy::Handle;

fn later<'py>(x: &Handle<'py>) -> Box<dyn Fn() -> Handle<'static>> {
    let x = x.dup();
    Box::new(move || x.dup())
}

fn main() {}
