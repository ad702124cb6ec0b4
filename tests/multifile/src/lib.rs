//! Test fixture: a module spread over several files. Functions declared
//! anywhere in the crate join the module (through `inventory`), exceptions are
//! one-line `create_exception!`s, constants are `#[hpy_module_export]`s, and
//! globals outside the module `mod` are `hpy::global!`s.

use hpy::hpy_module;

mod errors;
mod words;

/// Word statistics, from several files.
#[hpy_module]
mod multifile {
    use hpy::{hpy_method, hpy_module_export};

    // A `use` of a function defined elsewhere is allowed (it joins anyway).
    #[allow(unused_imports)]
    use super::words::count_words;

    /// The module's version.
    #[hpy_module_export]
    const VERSION: &str = "1.0";

    /// A constant of another type.
    #[hpy_module_export]
    const MAX_WORDS: usize = 1 << 20;

    /// A static, exported by reference.
    #[hpy_module_export]
    static LIMITS: [i64; 3] = [1, 10, 100];

    /// Declared inside the module `mod`, as before.
    #[hpy_method]
    fn inline_function() -> &'static str {
        "inline"
    }
}
