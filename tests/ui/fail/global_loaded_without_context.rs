// Wrong: loads a `Global` without a context (outside any call).
use hpy::Global;

static CACHE: Global = Global::new();

fn main() {
    let _h = CACHE.load();
}
