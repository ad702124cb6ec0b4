// Wrong: keeping the struct of an instance past the call: `&self` (and a
// `&Point` argument) lives only as long as the call's borrow.
use std::sync::Mutex;

use hpy::{hpy_class, hpy_method, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Point {
    x: f64,
}

static LAST: Mutex<Option<&'static Point>> = Mutex::new(None);

#[hpy_methods]
impl Point {
    fn remember(&self) {
        *LAST.lock().unwrap() = Some(self);
    }
}

#[hpy_method]
fn keep(p: &Point) -> f64 {
    *LAST.lock().unwrap() = Some(p);
    p.x
}

fn main() {}
