// Right: an owned handle is closed once, explicitly or by `Drop`.
use hpy::Handle;

fn f<'py>(x: &Handle<'py>) {
    let a = x.dup();
    let b = a.clone();
    a.close();
    drop(b);
}

fn main() {
    let _ = f;
}
