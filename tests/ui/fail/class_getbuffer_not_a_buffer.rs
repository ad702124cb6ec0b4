// Wrong: a `__getbuffer__` that exports no slice of numbers, and one whose
// receiver cannot keep the borrow.
use hpy::{Handle, hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Names {
    names: Vec<String>,
}

#[hpy_methods]
impl Names {
    fn __getbuffer__(&self) -> &[String] {
        &self.names
    }
}

#[hpy_class]
struct Other {
    data: Vec<u8>,
}

#[hpy_methods]
impl Other {
    fn __getbuffer__(slf: &Handle<'_>) -> Vec<u8> {
        let _ = slf;
        Vec::new()
    }
}

fn main() {}
