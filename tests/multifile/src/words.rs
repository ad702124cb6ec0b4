//! Functions outside the module `mod`: they join it by themselves.

use hpy::{Context, Handle, Result, hpy_method};

use crate::errors::{EmptyInput, TooLong};

/// The number of words in `text`.
#[hpy_method]
pub(crate) fn count_words(text: &str) -> Result<usize> {
    if text.trim().is_empty() {
        return Err(EmptyInput::new_err("no words in the text"));
    }
    Ok(text.split_whitespace().count())
}

/// The `k` most common words (ties in alphabetical order).
#[hpy_method(signature = (text, k = 3))]
pub(crate) fn top_k(text: &str, k: usize) -> Result<Vec<(String, usize)>> {
    if text.len() > 1 << 20 {
        return Err(TooLong::new_err("the text is longer than 1 MiB"));
    }
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for w in text.split_whitespace() {
        *counts.entry(w).or_default() += 1;
    }
    if counts.is_empty() {
        return Err(EmptyInput::new_err("no words in the text"));
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().map(|(w, n)| (w.to_owned(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(k);
    Ok(v)
}

/// Joins only the module named `multifile` (the crate has one anyway).
#[hpy_method(module = "multifile", name = "shout")]
pub(crate) fn shout_words(text: &str) -> String {
    text.to_uppercase()
}

/// Remembers an object in a `hpy::global!` declared in another file.
#[hpy_method]
pub(crate) fn remember(ctx: &Context, obj: &Handle<'_>) {
    crate::errors::LAST.store(ctx, obj);
}

/// What `remember` stored last.
#[hpy_method]
pub(crate) fn recall(ctx: &Context) -> Result<Handle<'_>> {
    crate::errors::LAST.load(ctx)
}

/// The exception classes, from Rust.
#[hpy_method]
pub(crate) fn exception_types(ctx: &Context) -> Result<(Handle<'_>, Handle<'_>)> {
    Ok((EmptyInput::type_object(ctx)?, TooLong::type_object(ctx)?))
}
