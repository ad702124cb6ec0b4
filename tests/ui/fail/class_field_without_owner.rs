// Wrong: loading and storing a `Field` without the object that owns it:
// the owner is a parameter, so that the field is checked to be inside it.
use hpy::{Field, Handle, Result, hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Node {
    next: Field,
}

#[hpy_methods]
impl Node {
    fn next<'py>(&self) -> Result<Option<Handle<'py>>> {
        self.next.load()
    }

    fn set_next(&self, obj: &Handle<'_>) -> Result<()> {
        self.next.store(Some(obj))
    }
}

fn main() {}
