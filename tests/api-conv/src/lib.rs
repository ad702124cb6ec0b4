//! Test fixture: exercises conversions of the standard collections and other std types from Python
//! (`tests/python/test_api_conv.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises conversions of the standard collections and other std types.
#[hpy_module]
mod api_conv {
    use std::borrow::Cow;
    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    use hpy::{Context, Handle, IntoPy, Result, hpy_method};

    // --- sequences -------------------------------------------------------------

    /// Vec<i64> round trip (reversed).
    #[hpy_method]
    fn vec_i64(mut xs: Vec<i64>) -> Vec<i64> {
        xs.reverse();
        xs
    }

    /// Vec<String> round trip (upper-cased).
    #[hpy_method]
    fn vec_str(xs: Vec<String>) -> Vec<String> {
        xs.into_iter().map(|s| s.to_uppercase()).collect()
    }

    /// Vec<u8>: bytes in (or a list/tuple of ints), bytes out.
    #[hpy_method]
    fn vec_u8(xs: Vec<u8>) -> Vec<u8> {
        xs
    }

    /// Vec<Vec<i64>> round trip.
    #[hpy_method]
    fn nested(xs: Vec<Vec<i64>>) -> Vec<Vec<i64>> {
        xs
    }

    /// Vec<Option<f64>> round trip.
    #[hpy_method]
    fn vec_opt(xs: Vec<Option<f64>>) -> Vec<Option<f64>> {
        xs
    }

    /// Vec<Handle>: the same objects back.
    #[hpy_method]
    fn vec_handles<'py>(xs: Vec<Handle<'py>>) -> Vec<Handle<'py>> {
        xs
    }

    /// VecDeque<Handle>: the same objects back, in a list.
    #[hpy_method]
    fn deque_handles<'py>(xs: VecDeque<Handle<'py>>) -> VecDeque<Handle<'py>> {
        xs
    }

    /// [Handle; 2]: the same objects back, in a list.
    #[hpy_method]
    fn array_handles<'py>(xs: [Handle<'py>; 2]) -> [Handle<'py>; 2] {
        xs
    }

    /// &[Handle]: a list made from a borrowed slice.
    #[hpy_method]
    fn slice_handles<'py>(ctx: &'py Context, xs: Vec<Handle<'py>>) -> Result<Handle<'py>> {
        xs.as_slice().into_py(ctx)
    }

    /// (Handle, Handle): the same tuple back.
    #[hpy_method]
    fn pair_handles<'py>(t: (Handle<'py>, Handle<'py>)) -> (Handle<'py>, Handle<'py>) {
        t
    }

    /// Vec<Vec<Handle>>: the same nested lists back.
    #[hpy_method]
    fn nested_handles<'py>(xs: Vec<Vec<Handle<'py>>>) -> Vec<Vec<Handle<'py>>> {
        xs
    }

    /// Vec<Option<Handle>>: the same objects (and Nones) back.
    #[hpy_method]
    fn optional_handles<'py>(xs: Vec<Option<Handle<'py>>>) -> Vec<Option<Handle<'py>>> {
        xs
    }

    /// BTreeMap<String, Handle>: the same dict back.
    #[hpy_method]
    fn map_handles<'py>(m: BTreeMap<String, Handle<'py>>) -> BTreeMap<String, Handle<'py>> {
        m
    }

    /// VecDeque<i64>: rotated left by one.
    #[hpy_method]
    fn deque(mut xs: VecDeque<i64>) -> VecDeque<i64> {
        xs.rotate_left(usize::from(!xs.is_empty()));
        xs
    }

    /// [i64; 3] round trip.
    #[hpy_method]
    fn array3(xs: [i64; 3]) -> [i64; 3] {
        [xs[2], xs[1], xs[0]]
    }

    /// [u8; 4]: bytes (or a list of 4 ints) in, bytes out.
    #[hpy_method]
    fn array_u8(xs: [u8; 4]) -> [u8; 4] {
        xs
    }

    /// [String; 2] round trip.
    #[hpy_method]
    fn array_str(xs: [String; 2]) -> [String; 2] {
        xs
    }

    /// Slices to Python: `&[i64]`, `&[&str]`, `&[u8]` (bytes), `&Vec<f64>`.
    #[hpy_method]
    fn slices(ctx: &Context) -> Result<Vec<Handle<'_>>> {
        let ints: &[i64] = &[1, 2, 3];
        let strs: &[&str] = &["a", "b"];
        let bytes: &[u8] = b"xyz";
        let floats = vec![0.5, 1.5];
        let nested: &[[u8; 2]] = &[[1, 2], [3, 4]];
        Ok(vec![
            ints.into_py(ctx)?,
            strs.into_py(ctx)?,
            bytes.into_py(ctx)?,
            (&floats).into_py(ctx)?,
            nested.into_py(ctx)?,
            (&[true, false]).into_py(ctx)?,
        ])
    }

    /// A list of `n` ints `0..n` (beyond any stack buffer).
    #[hpy_method]
    fn range_list(n: usize) -> Result<Vec<usize>> {
        let mut v = Vec::new();
        v.try_reserve_exact(n)?;
        v.extend(0..n);
        Ok(v)
    }

    // --- tuples ---------------------------------------------------------------------

    /// (i64, String) -> (String, i64).
    #[hpy_method]
    fn swap(t: (i64, String)) -> (String, i64) {
        (t.1, t.0)
    }

    /// A 1-tuple round trip.
    #[hpy_method]
    fn tuple1(t: (bool,)) -> (bool,) {
        t
    }

    /// A 12-tuple round trip.
    #[hpy_method]
    #[allow(clippy::type_complexity)]
    fn tuple12(
        t: (i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool, String),
    ) -> (i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool, String) {
        t
    }

    /// Vec<(String, i64)> round trip.
    #[hpy_method]
    fn pairs(xs: Vec<(String, i64)>) -> Vec<(String, i64)> {
        xs
    }

    // --- maps and sets -----------------------------------------------------------------

    /// HashMap<String, i64>: values doubled.
    #[hpy_method]
    fn hashmap(m: HashMap<String, i64>) -> HashMap<String, i64> {
        m.into_iter().map(|(k, v)| (k, v * 2)).collect()
    }

    /// BTreeMap<i64, Vec<String>> round trip; also its keys in order.
    #[hpy_method]
    fn btreemap(m: BTreeMap<i64, Vec<String>>) -> (BTreeMap<i64, Vec<String>>, Vec<i64>) {
        let keys = m.keys().copied().collect();
        (m, keys)
    }

    /// A dict from a borrowed map (`&HashMap`).
    #[hpy_method]
    fn map_ref(ctx: &Context) -> Result<Handle<'_>> {
        let m: HashMap<&str, u8> = [("one", 1), ("two", 2)].into_iter().collect();
        (&m).into_py(ctx)
    }

    /// The raw `HPyDict_Keys(d)`: on PyPy 7.3.19 the member read there is
    /// `HPyUnicode_Substring` (its context layout differs from ID 244 on).
    #[hpy_method]
    fn raw_dict_keys<'py>(ctx: &'py Context, d: &Handle<'py>) -> Result<Handle<'py>> {
        if !d.is_dict() {
            return Err(hpy::Error::wrong_type("dict", d));
        }
        // SAFETY: the context is live and `d` an open dict; the result is new
        // or NULL with an exception set.
        unsafe { Handle::from_raw_result(ctx, hpy::sys::HPyDict_Keys(ctx.as_raw(), d.as_raw())) }
    }

    /// Vec<HashMap<String, i64>> round trip (for nested error paths).
    #[hpy_method]
    fn vec_of_maps(xs: Vec<HashMap<String, i64>>) -> usize {
        xs.len()
    }

    /// HashSet<i64>: each element + 1.
    #[hpy_method]
    fn hashset(s: HashSet<i64>) -> HashSet<i64> {
        s.into_iter().map(|v| v + 1).collect()
    }

    /// BTreeSet<String>: sorted, as a list.
    #[hpy_method]
    fn btreeset_sorted(s: BTreeSet<String>) -> Vec<String> {
        s.into_iter().collect()
    }

    /// BTreeSet<String> round trip (a set).
    #[hpy_method]
    fn btreeset(s: BTreeSet<String>) -> BTreeSet<String> {
        s
    }

    /// A set from a borrowed set (`&BTreeSet`).
    #[hpy_method]
    fn set_ref(ctx: &Context) -> Result<Handle<'_>> {
        let s: BTreeSet<char> = "hello".chars().collect();
        (&s).into_py(ctx)
    }

    // --- char, Cow ---------------------------------------------------------------------

    /// The next character.
    #[hpy_method]
    fn next_char(c: char) -> Option<char> {
        char::from_u32(u32::from(c) + 1)
    }

    /// A str of one character from a code point (NUL included).
    #[hpy_method]
    fn chr(code: u32) -> Option<char> {
        char::from_u32(code)
    }

    /// Cow<str>: borrowed when unchanged, owned when changed; reports which.
    #[hpy_method]
    fn cow_str(s: Cow<'_, str>) -> (bool, String) {
        let borrowed = matches!(s, Cow::Borrowed(_));
        (borrowed, s.into_owned())
    }

    /// Returns a Cow<str> (owned or borrowed).
    #[hpy_method]
    fn cow_out(owned: bool) -> Cow<'static, str> {
        if owned {
            Cow::Owned("owned".to_owned())
        } else {
            Cow::Borrowed("borrowed")
        }
    }

    /// Cow<[u8]> round trip (bytes).
    #[hpy_method]
    fn cow_bytes(b: Cow<'_, [u8]>) -> Cow<'static, [u8]> {
        Cow::Owned(b.iter().rev().copied().collect())
    }

    // --- 128-bit integers ----------------------------------------------------------------

    /// i128 round trip.
    #[hpy_method]
    fn echo_i128(x: i128) -> i128 {
        x
    }

    /// u128 round trip.
    #[hpy_method]
    fn echo_u128(x: u128) -> u128 {
        x
    }

    /// i128::MIN, i128::MAX, u128::MAX, and a few values around 2**64.
    #[hpy_method]
    fn int128_constants() -> (i128, i128, u128, i128, i128, u128) {
        (
            i128::MIN,
            i128::MAX,
            u128::MAX,
            1 << 64,
            -(1 << 64) - 1,
            (1 << 64) + 5,
        )
    }

    /// i64 round trip (for the overflow message).
    #[hpy_method]
    fn echo_i64(x: i64) -> i64 {
        x
    }

    /// u64 round trip (for the overflow message).
    #[hpy_method]
    fn echo_u64(x: u64) -> u64 {
        x
    }

    // --- paths ----------------------------------------------------------------------------

    /// PathBuf round trip.
    #[hpy_method]
    fn echo_path(p: PathBuf) -> PathBuf {
        p
    }

    /// The components of a path, as strs.
    #[hpy_method]
    fn path_parts(p: PathBuf) -> Vec<String> {
        p.iter().map(|c| c.to_string_lossy().into_owned()).collect()
    }

    /// `&Path` to Python.
    #[hpy_method]
    fn path_join<'py>(ctx: &'py Context, a: PathBuf, b: String) -> Result<Handle<'py>> {
        let joined = a.join(b);
        let p: &Path = &joined;
        p.into_py(ctx)
    }

    /// OsString round trip, and its length in bytes.
    #[hpy_method]
    fn os_string(s: OsString) -> (OsString, usize) {
        let n = s.len();
        (s, n)
    }

    /// The raw bytes of a path (Unix).
    #[hpy_method]
    fn path_bytes(p: PathBuf) -> Vec<u8> {
        #[cfg(unix)]
        {
            std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
        }
        #[cfg(not(unix))]
        {
            p.to_string_lossy().into_owned().into_bytes()
        }
    }
}
