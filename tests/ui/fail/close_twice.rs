// Wrong: closes the same handle twice.
use hpy::Handle;

fn f<'py>(x: &Handle<'py>) {
    let h = x.dup();
    h.close();
    h.close();
}

fn main() {}
