// Wrong: `**kwargs` is None when no extra keyword argument is given, so its
// type must be an `Option`.
use hpy::{Handle, hpy_method};

#[hpy_method(signature = (**kwargs))]
fn f(kwargs: &Handle<'_>) -> usize {
    kwargs.len().unwrap_or(0)
}

fn main() {}
