//! Test fixture: one function per feature of `#[hpy_method]`, `#[hpy_module]`
//! and the conversions, driven by `tests/python/test_features.py` on every
//! interpreter and mode.

use hpy::hpy_module;

/// Exercises the SDK's methods and conversions.
#[hpy_module]
mod features {
    use hpy::{Context, Handle, IntoPy, Result, exc, hpy_init, hpy_method};

    /// An `i64` result, or `OverflowError` where Rust arithmetic overflowed
    /// (Python ints would not).
    fn checked(v: Option<i64>) -> Result<i64> {
        v.ok_or_else(|| exc::OverflowError::new_err("result does not fit i64"))
    }

    // --- calling conventions ---------------------------------------------

    /// NOARGS: returns None.
    #[hpy_method]
    fn noargs() {}

    /// O: returns its argument (a new handle to it).
    #[hpy_method]
    fn identity<'py>(x: &Handle<'py>) -> Handle<'py> {
        x.clone()
    }

    /// O, returning the borrowed argument itself: the conversion dups it.
    #[hpy_method]
    fn identity_ref<'a, 'py>(x: &'a Handle<'py>) -> &'a Handle<'py> {
        x
    }

    /// VARARGS: three required positional arguments (order matters).
    #[hpy_method]
    fn three(a: i64, b: i64, c: i64) -> String {
        format!("{a},{b},{c}")
    }

    /// VARARGS with a trailing optional argument.
    #[hpy_method]
    fn opt_args(a: i64, b: Option<i64>) -> Result<i64> {
        checked(a.checked_add(b.unwrap_or(100)))
    }

    /// VARARGS with a default from the signature.
    #[hpy_method(signature = (a, b = 7, /))]
    fn pos_default(a: i64, b: i64) -> Result<i64> {
        checked(a.checked_mul(b))
    }

    /// KEYWORDS: defaults and a keyword-only parameter.
    #[hpy_method(signature = (a, b = 10, *, scale = 1))]
    fn kwargs(a: i64, b: i64, scale: i64) -> Result<i64> {
        checked(a.checked_add(b).and_then(|s| s.checked_mul(scale)))
    }

    /// KEYWORDS with a positional-only first parameter.
    #[hpy_method(signature = (a, /, b))]
    fn pos_only(a: i64, b: i64) -> Result<i64> {
        a.checked_sub(b)
            .ok_or_else(|| exc::OverflowError::new_err("a - b does not fit in 64 bits"))
    }

    /// KEYWORDS with a required keyword-only parameter.
    #[hpy_method(signature = (*, key))]
    fn kw_only(key: &str) -> String {
        format!("key={key}")
    }

    /// Renamed in Python.
    #[hpy_method(name = "py_name")]
    fn rust_name() -> &'static str {
        "rust_name"
    }

    /// Takes the context.
    #[hpy_method]
    fn context_name(ctx: &Context) -> String {
        ctx.name().to_owned()
    }

    /// Whether CPython's trampolines call this module's impls directly
    /// (not through the runtime's `ctx_CallRealFunctionFromTrampoline`).
    #[hpy_method]
    fn trampolines_call_directly() -> bool {
        hpy::impl_::trampolines_call_directly()
    }

    /// Takes the context and an argument.
    #[hpy_method]
    fn is_none(ctx: &Context, x: &Handle<'_>) -> bool {
        x.is(&ctx.none())
    }

    // --- conversions -------------------------------------------------------

    /// i8 round trip.
    #[hpy_method]
    fn echo_i8(x: i8) -> i8 {
        x
    }

    /// i16 round trip.
    #[hpy_method]
    fn echo_i16(x: i16) -> i16 {
        x
    }

    /// i32 round trip.
    #[hpy_method]
    fn echo_i32(x: i32) -> i32 {
        x
    }

    /// i64 round trip.
    #[hpy_method]
    fn echo_i64(x: i64) -> i64 {
        x
    }

    /// isize round trip.
    #[hpy_method]
    fn echo_isize(x: isize) -> isize {
        x
    }

    /// u8 round trip.
    #[hpy_method]
    fn echo_u8(x: u8) -> u8 {
        x
    }

    /// u16 round trip.
    #[hpy_method]
    fn echo_u16(x: u16) -> u16 {
        x
    }

    /// u32 round trip.
    #[hpy_method]
    fn echo_u32(x: u32) -> u32 {
        x
    }

    /// u64 round trip.
    #[hpy_method]
    fn echo_u64(x: u64) -> u64 {
        x
    }

    /// usize round trip.
    #[hpy_method]
    fn echo_usize(x: usize) -> usize {
        x
    }

    /// f64 round trip.
    #[hpy_method]
    fn echo_f64(x: f64) -> f64 {
        x
    }

    /// f32 round trip.
    #[hpy_method]
    fn echo_f32(x: f32) -> f32 {
        x
    }

    /// bool: strict (only True and False).
    #[hpy_method]
    fn negate(x: bool) -> bool {
        !x
    }

    /// &str borrowed from the argument: its length in characters.
    #[hpy_method]
    fn char_count(s: &str) -> usize {
        s.chars().count()
    }

    /// String in, String out.
    #[hpy_method]
    fn shout(s: String) -> String {
        s.to_uppercase() + "!"
    }

    /// A str with an embedded NUL.
    #[hpy_method]
    fn with_nul() -> &'static str {
        "a\0b"
    }

    /// A long str (beyond the stack buffer of the conversion).
    #[hpy_method]
    fn long_str(n: usize) -> Result<String> {
        let mut s = String::new();
        s.try_reserve_exact(n.saturating_mul(2))?;
        for _ in 0..n {
            s.push_str("xy");
        }
        Ok(s)
    }

    /// &[u8] borrowed from a bytes argument.
    #[hpy_method]
    fn byte_sum(b: &[u8]) -> u64 {
        b.iter().map(|&x| u64::from(x)).sum()
    }

    /// Vec<u8> in, Vec<u8> out.
    #[hpy_method]
    fn reversed_bytes(mut b: Vec<u8>) -> Vec<u8> {
        b.reverse();
        b
    }

    /// Option in and out.
    #[hpy_method]
    fn maybe_double(x: Option<i64>) -> Result<Option<i64>> {
        x.map(|v| checked(v.checked_mul(2))).transpose()
    }

    /// `Handle` (owned, dup'd) argument, concatenated with itself.
    #[hpy_method]
    fn twice<'py>(x: Handle<'py>) -> Result<Handle<'py>> {
        x.add(&x)
    }

    // --- errors and panics ----------------------------------------------------

    /// Raises ValueError with the message.
    #[hpy_method]
    fn raise_value_error(msg: String) -> Result<()> {
        Err(exc::ValueError::new_err(msg))
    }

    /// Propagates a conversion error with `?` (not an argument: no argument name).
    #[hpy_method]
    fn extract_int(x: &Handle<'_>) -> Result<i64> {
        let v: i64 = x.extract()?;
        Ok(v)
    }

    /// Propagates an exception raised by the interpreter.
    #[hpy_method]
    fn add<'py>(a: &Handle<'py>, b: &Handle<'py>) -> Result<Handle<'py>> {
        a.add(b)
    }

    /// Panics with the message.
    #[hpy_method]
    fn panic_with(msg: &str) {
        panic!("{msg}");
    }

    /// Panics with a non-string payload.
    #[hpy_method]
    fn panic_any() {
        std::panic::panic_any(42_u32);
    }

    /// Sets an attribute on an object.
    #[hpy_method]
    fn set_answer(obj: &Handle<'_>) -> Result<()> {
        obj.set_attr("answer", 42)
    }

    /// Reads an attribute.
    #[hpy_method]
    fn get_attr<'py>(obj: &Handle<'py>, name: &str) -> Result<Handle<'py>> {
        obj.get_attr(name)
    }

    // --- *args, **kwargs ----------------------------------------------------

    /// `(a, *args, b=1, **kwargs)`: what each parameter got.
    #[hpy_method(signature = (a, *args, b = 1, **kwargs))]
    fn var_both<'py>(
        ctx: &'py Context,
        a: &Handle<'py>,
        args: &Handle<'py>,
        b: i64,
        kwargs: Option<&Handle<'py>>,
    ) -> Result<Handle<'py>> {
        let kw = match kwargs {
            Some(d) => d.dup(),
            None => ctx.none().dup(),
        };
        ctx.new_tuple(&[a, args, &b.into_py(ctx)?, &kw])
    }

    /// `(*args)` converted: the sum of the ints.
    #[hpy_method(signature = (*args))]
    fn var_sum(args: Vec<i64>) -> i64 {
        args.iter().fold(0i64, |s, v| s.wrapping_add(*v))
    }

    /// `(*args)` as a Rust tuple: exactly two items.
    #[hpy_method(signature = (*pair))]
    fn var_pair(pair: (String, i64)) -> String {
        format!("{}={}", pair.0, pair.1)
    }

    /// `(**kwargs)` converted: the keywords, sorted, or None.
    #[hpy_method(signature = (**kwargs))]
    fn var_kwargs(
        kwargs: Option<std::collections::BTreeMap<String, i64>>,
    ) -> Option<Vec<(String, i64)>> {
        kwargs.map(|m| m.into_iter().collect())
    }

    /// `(a, /, **kwargs)`: a keyword named `a` goes to `kwargs`, as in Python.
    #[hpy_method(signature = (a, /, **kwargs))]
    fn pos_only_and_kwargs<'py>(
        ctx: &'py Context,
        a: i64,
        kwargs: Option<&Handle<'py>>,
    ) -> Result<Handle<'py>> {
        let kw = match kwargs {
            Some(d) => d.dup(),
            None => ctx.none().dup(),
        };
        ctx.new_tuple(&[&a.into_py(ctx)?, &kw])
    }

    /// `(*args, key)`: a parameter after `*args` is keyword-only.
    #[hpy_method(signature = (*args, key))]
    fn var_then_key<'py>(args: &Handle<'py>, key: &str) -> Result<String> {
        Ok(format!("{}:{key}", args.len()?))
    }

    // --- defaults of the parameter's type ------------------------------------

    /// `k = 10` for a `usize`, `scale = 2.5` for an `f32`, `-1` for an `i8`.
    #[hpy_method(signature = (items, k = 10, scale = 2.5, low = -1))]
    fn typed_defaults(items: Vec<i64>, k: usize, scale: f32, low: i8) -> String {
        format!("{} {k} {scale} {low}", items.len())
    }

    /// A string literal default for a `String`; a number for an `Option`.
    #[hpy_method(signature = (name = "world", times = 2))]
    fn literal_defaults(name: String, times: Option<u8>) -> String {
        format!("{name}x{}", times.map_or(-1, i16::from))
    }

    // --- module initialisation ---------------------------------------------

    #[hpy_init]
    fn init(ctx: &Context, module: &Handle<'_>) -> Result<()> {
        module.set_attr("ANSWER", 42)?;
        module.set_attr("GREETING", "hello from Rust")?;
        module.set_attr("NOTHING", ctx.none())?;
        Ok(())
    }
}
