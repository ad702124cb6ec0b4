// Wrong: `#[hpy(get)]` on a field of a type that has no conversion to Python.
use hpy::hpy_class;

#[hpy::hpy_module]
mod m {}

struct Secret(u8);

#[hpy_class]
struct Vault {
    #[hpy(get)]
    secret: Secret,
}

fn main() {}
