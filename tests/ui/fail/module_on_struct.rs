// Wrong: `#[hpy_module]` on an item that is not an inline `mod`.
use hpy::hpy_module;

#[hpy_module]
struct Pof;

fn main() {}
