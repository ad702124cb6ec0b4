// Wrong: returns a borrowed argument where an owned handle is required, without `dup`.
use hpy::Handle;

fn identity<'py>(x: &Handle<'py>) -> Handle<'py> {
    x
}

fn main() {}
