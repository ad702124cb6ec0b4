// Wrong: a struct that is not `Send` (an `Rc`), without `unsendable`: Python
// may use the object from any thread.
use std::rc::Rc;

use hpy::hpy_class;

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Shared {
    data: Rc<Vec<u8>>,
}

fn main() {}
