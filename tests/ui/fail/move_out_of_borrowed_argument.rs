// Wrong: takes ownership of a borrowed argument (the caller still owns and closes it).
use hpy::Handle;

fn identity<'py>(x: &Handle<'py>) -> Handle<'py> {
    *x
}

fn main() {}
