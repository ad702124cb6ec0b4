// Wrong: makes a context from nothing in safe code.
fn main() {
    let _ctx = hpy::Context {};
}
