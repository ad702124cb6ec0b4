// Wrong: #[hpy_module_export] outside a #[hpy_module] `mod`.
use hpy::hpy_module_export;

#[hpy_module_export]
const VERSION: &str = "1.0";

fn main() {}
