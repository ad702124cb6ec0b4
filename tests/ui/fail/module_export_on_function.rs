// Wrong: #[hpy_module_export] exports a const or a static; a function joins
// the module by itself.
use hpy::hpy_module;

#[hpy_module]
mod m {
    use hpy::hpy_module_export;

    #[hpy_module_export]
    use std::collections::HashMap;
}

fn main() {}
