// Wrong: a parameter after `**kwargs`.
use hpy::{Handle, hpy_method};

#[hpy_method(signature = (**kwargs, a))]
fn f(kwargs: Option<&Handle<'_>>, a: i64) -> i64 {
    let _ = kwargs;
    a
}

fn main() {}
