// Functions, exceptions and globals outside the module `mod` join it; the
// `mod` may `use` them; constants are exported.
use hpy::hpy_module;

mod stats {
    use hpy::{Result, hpy_method};

    hpy::create_exception!(textstats, EmptyInput, hpy::exc::ValueError, "No words.");
    hpy::global!(pub(crate) static CACHE);

    #[hpy_method(signature = (text, *, k = 10))]
    pub(crate) fn top_k(text: &str, k: usize) -> Result<Vec<String>> {
        if text.is_empty() {
            return Err(EmptyInput::new_err("empty"));
        }
        Ok(text.split_whitespace().take(k).map(str::to_owned).collect())
    }
}

#[hpy_module]
mod textstats {
    use hpy::{Handle, hpy_method, hpy_module_export};

    #[allow(unused_imports)]
    use super::stats::top_k;

    #[hpy_module_export]
    const VERSION: &str = "1.0";

    #[hpy_method(signature = (*args, **kwargs))]
    fn count<'py>(args: Vec<i64>, kwargs: Option<&Handle<'py>>) -> usize {
        args.len() + usize::from(kwargs.is_some())
    }
}

fn main() {
    let _ = &stats::CACHE;
}
