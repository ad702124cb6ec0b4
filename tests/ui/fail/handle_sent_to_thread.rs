// Wrong: sends a handle to another thread.
use hpy::Handle;

fn f(x: &Handle<'_>) {
    let h = x.dup();
    std::thread::spawn(move || drop(h));
}

fn main() {}
