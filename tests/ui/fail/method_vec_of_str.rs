// Wrong: items of a converted collection that borrow from Python objects
// (each item's handle is closed once it is converted): the message names the
// parameter and the owned type to use.
use hpy::hpy_method;

#[hpy_method]
fn join(texts: Vec<&str>, pairs: Vec<(&str, i64)>, map: std::collections::HashMap<&[u8], i64>) -> usize {
    texts.len() + pairs.len() + map.len()
}

fn main() {}
