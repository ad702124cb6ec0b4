// Wrong: keeps the call's context in a `static` for a later call.
use hpy::Context;
use std::sync::OnceLock;

static CTX: OnceLock<&'static Context> = OnceLock::new();

fn main() {}
