//! Every misuse in `fail/` must be rejected at compile time with exactly the
//! diagnostic in its `.stderr`; every case in `pass/` must compile. Regenerate
//! the `.stderr` files after a deliberate change with `TRYBUILD=overwrite`, and
//! review each: it must name the real reason (a lifetime, a move, `Send`, a
//! missing conversion), not an incidental error.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("fail/*.rs");
    t.pass("pass/*.rs");
}
