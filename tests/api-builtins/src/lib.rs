//! Test fixture: exercises str, bytes, list, tuple, dict, slices, capsules, context variables, builders and trackers from Python
//! (`tests/python/test_api_builtins.py`), on every interpreter and mode.

use hpy::hpy_module;

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many capsule payloads were dropped (see `Payload`).
static DROPS: AtomicUsize = AtomicUsize::new(0);

/// The value of the capsules made by `new_capsule`; counts its drops, and
/// panics in `Drop` when asked to.
struct Payload {
    value: i64,
    panic_on_drop: bool,
}

impl Drop for Payload {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop {
            panic!("Payload({}) panicked in Drop", self.value);
        }
    }
}

/// Runs the same body with a `ListBuilder` or a `TupleBuilder`.
macro_rules! with_builder {
    ($ctx:expr, $kind:expr, $len:expr, |$b:ident| $body:expr) => {
        match $kind {
            "list" => {
                #[allow(unused_mut)]
                let mut $b = $ctx.list_builder($len)?;
                $body
            }
            "tuple" => {
                #[allow(unused_mut)]
                let mut $b = $ctx.tuple_builder($len)?;
                $body
            }
            other => Err(hpy::exc::ValueError::new_err(format!(
                "unknown kind {other:?}"
            ))),
        }
    };
}

/// Exercises str, bytes, list, tuple, dict, slices, capsules, context variables, builders and trackers.
#[hpy_module]
mod api_builtins {
    use super::{DROPS, Payload};
    use hpy::{Context, Handle, IntoPy, Result, exc, hpy_method};
    use std::ffi::{CStr, CString};
    use std::sync::atomic::Ordering;

    const PAYLOAD: &CStr = c"api_builtins.Payload";

    /// A C string from Python bytes or str (NUL inside: ValueError).
    fn c_string(b: &[u8]) -> Result<CString> {
        CString::new(b).map_err(|_| exc::ValueError::new_err("embedded null byte"))
    }

    /// A tuple of ints, through a tuple builder.
    fn int_tuple<'py>(ctx: &'py Context, items: &[i64]) -> Result<Handle<'py>> {
        let mut b = ctx.tuple_builder(items.len())?;
        for (i, v) in items.iter().enumerate() {
            b.set(i, *v)?;
        }
        b.build()
    }

    // --- bytes ------------------------------------------------------------------

    /// ctx.new_bytes(s.encode()).
    #[hpy_method]
    fn new_bytes<'py>(ctx: &'py Context, s: &str) -> Result<Handle<'py>> {
        ctx.new_bytes(s.as_bytes())
    }

    /// ctx.new_bytes_from_c_str(b) (b without NUL).
    #[hpy_method]
    fn new_bytes_from_c_str<'py>(ctx: &'py Context, b: &[u8]) -> Result<Handle<'py>> {
        ctx.new_bytes_from_c_str(&c_string(b)?)
    }

    /// x.is_bytes().
    #[hpy_method]
    fn is_bytes(x: &Handle<'_>) -> bool {
        x.is_bytes()
    }

    /// A copy of x.as_bytes().
    #[hpy_method]
    fn as_bytes(x: &Handle<'_>) -> Result<Vec<u8>> {
        x.as_bytes().map(<[u8]>::to_vec)
    }

    /// x.bytes_len().
    #[hpy_method]
    fn bytes_len(x: &Handle<'_>) -> Result<usize> {
        x.bytes_len()
    }

    /// A copy of x.bytes_as_c_str() (without the NUL).
    #[hpy_method]
    fn bytes_as_c_str(x: &Handle<'_>) -> Result<Vec<u8>> {
        x.bytes_as_c_str().map(|s| s.to_bytes().to_vec())
    }

    // --- str --------------------------------------------------------------------

    /// ctx.new_str(s) (a copy of the argument).
    #[hpy_method]
    fn new_str<'py>(ctx: &'py Context, s: &str) -> Result<Handle<'py>> {
        ctx.new_str(s)
    }

    /// x.str_data(): `None`, or (kind, the characters' code units).
    #[hpy_method]
    fn str_data(x: &Handle<'_>) -> Option<(&'static str, Vec<u32>)> {
        Some(match x.str_data()? {
            hpy::StrData::Ascii(s) => ("ascii", s.bytes().map(u32::from).collect()),
            hpy::StrData::Latin1(u) => ("latin1", u.iter().map(|&c| u32::from(c)).collect()),
            hpy::StrData::Ucs2(u) => ("ucs2", u.iter().map(|&c| u32::from(c)).collect()),
            hpy::StrData::Ucs4(u) => ("ucs4", u.to_vec()),
        })
    }

    /// ctx.new_str_from_c_str(b).
    #[hpy_method]
    fn new_str_from_c_str<'py>(ctx: &'py Context, b: &[u8]) -> Result<Handle<'py>> {
        ctx.new_str_from_c_str(&c_string(b)?)
    }

    /// ctx.new_str_from_wide(w), `w` packed as native-endian 4-byte (or
    /// 2-byte on Windows) integers.
    #[hpy_method]
    fn new_str_from_wide<'py>(ctx: &'py Context, packed: &[u8]) -> Result<Handle<'py>> {
        const N: usize = size_of::<hpy::sys::wchar_t>();
        let wide: Vec<hpy::sys::wchar_t> = packed
            .chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                hpy::sys::wchar_t::from_ne_bytes(a)
            })
            .collect();
        ctx.new_str_from_wide(&wide)
    }

    /// ctx.decode_fs_default(b).
    #[hpy_method]
    fn decode_fs_default<'py>(ctx: &'py Context, b: &[u8]) -> Result<Handle<'py>> {
        ctx.decode_fs_default(b)
    }

    /// ctx.decode_fs_default_c_str(b).
    #[hpy_method]
    fn decode_fs_default_c_str<'py>(ctx: &'py Context, b: &[u8]) -> Result<Handle<'py>> {
        ctx.decode_fs_default_c_str(&c_string(b)?)
    }

    /// ctx.new_str_from_ascii(b).
    #[hpy_method]
    fn new_str_from_ascii<'py>(ctx: &'py Context, b: &[u8]) -> Result<Handle<'py>> {
        ctx.new_str_from_ascii(b)
    }

    /// ctx.decode_ascii(b, errors).
    #[hpy_method]
    fn decode_ascii<'py>(ctx: &'py Context, b: &[u8], errors: Option<&str>) -> Result<Handle<'py>> {
        ctx.decode_ascii(b, errors)
    }

    /// ctx.decode_latin1(b, errors).
    #[hpy_method]
    fn decode_latin1<'py>(
        ctx: &'py Context,
        b: &[u8],
        errors: Option<&str>,
    ) -> Result<Handle<'py>> {
        ctx.decode_latin1(b, errors)
    }

    /// x.is_str().
    #[hpy_method]
    fn is_str(x: &Handle<'_>) -> bool {
        x.is_str()
    }

    /// x.as_str(), copied.
    #[hpy_method]
    fn as_str(x: &Handle<'_>) -> Result<String> {
        x.as_str().map(str::to_owned)
    }

    /// x.encode_utf8().
    #[hpy_method]
    fn encode_utf8<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
        x.encode_utf8()
    }

    /// x.encode_ascii().
    #[hpy_method]
    fn encode_ascii<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
        x.encode_ascii()
    }

    /// x.encode_latin1().
    #[hpy_method]
    fn encode_latin1<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
        x.encode_latin1()
    }

    /// x.encode_fs_default().
    #[hpy_method]
    fn encode_fs_default<'py>(x: &Handle<'py>) -> Result<Handle<'py>> {
        x.encode_fs_default()
    }

    /// x.read_char(i), as a one-character str.
    #[hpy_method]
    fn read_char(x: &Handle<'_>, i: usize) -> Result<String> {
        x.read_char(i).map(String::from)
    }

    /// x.read_code_point(i).
    #[hpy_method]
    fn read_code_point(x: &Handle<'_>, i: usize) -> Result<u32> {
        x.read_code_point(i)
    }

    /// x.substring(start, end).
    #[hpy_method]
    fn substring<'py>(x: &Handle<'py>, start: usize, end: usize) -> Result<Handle<'py>> {
        x.substring(start, end)
    }

    /// x.decode(encoding, errors).
    #[hpy_method]
    fn decode<'py>(
        x: &Handle<'py>,
        encoding: Option<&str>,
        errors: Option<&str>,
    ) -> Result<Handle<'py>> {
        x.decode(encoding, errors)
    }

    /// A `StrWriter` of `capacity` fed by `parts`: an int pushes that byte,
    /// a (bytes, repeat) pair is extended `repeat` times, ("resize", n, b)
    /// resizes, ("truncate", n) truncates; then `into_str` (or, with
    /// `ascii`, `into_ascii_str_unchecked` after the writer's own ASCII
    /// check). Returns (str, len, capacity before into_str). At most
    /// `FIXTURE_TEXT_MAX` bytes are written (`ValueError` beyond: the
    /// hostile-argument test passes every int it has).
    #[hpy_method]
    fn str_writer<'py>(
        ctx: &'py Context,
        capacity: usize,
        parts: Vec<Handle<'py>>,
        ascii: bool,
    ) -> Result<(Handle<'py>, usize, usize)> {
        let mut w = ctx.str_writer(capacity)?;
        assert!(w.is_empty() && w.capacity() >= capacity.max(1));
        for part in &parts {
            if !part.is_tuple() {
                w.push(part.extract::<u8>()?)?;
            } else if part.get_item(0usize)?.is_bytes() {
                let bytes = part.get_item(0usize)?;
                let repeat = part.get_item(1usize)?.extract::<usize>()?;
                let bytes = bytes.as_bytes()?;
                text_within_limit(w.len(), bytes.len().checked_mul(repeat))?;
                for _ in 0..repeat {
                    w.extend_from_slice(bytes)?;
                }
            } else if part.get_item(0usize)?.extract::<&str>()? == "resize" {
                let n = part.get_item(1usize)?.extract::<usize>()?;
                text_within_limit(0, Some(n))?;
                w.resize(n, part.get_item(2usize)?.extract::<u8>()?)?;
            } else {
                w.truncate(part.get_item(1usize)?.extract::<usize>()?);
            }
            assert!(w.len() <= w.capacity());
        }
        let (len, cap) = (w.len(), w.capacity());
        let s = if ascii {
            if !w.as_bytes().is_ascii() {
                return Err(exc::ValueError::new_err("not ASCII"));
            }
            // SAFETY: just checked.
            unsafe { w.into_ascii_str_unchecked() }?
        } else {
            w.into_str()?
        };
        Ok((s, len, cap))
    }

    /// `reserve(n)` on a new `StrWriter` (n = -1: `usize::MAX`): its
    /// capacity after, or the error.
    #[hpy_method]
    fn str_writer_reserve(ctx: &Context, n: i64) -> Result<usize> {
        let mut w = ctx.str_writer(8)?;
        w.extend_from_slice(b"abc")?;
        w.reserve(usize::try_from(n).unwrap_or(usize::MAX))?;
        assert_eq!(w.as_bytes(), b"abc");
        Ok(w.capacity())
    }

    /// Writes through `as_mut_ptr` past `len`, then `set_len`, as an encoder
    /// does: `n` copies of `text`, reserved once.
    #[hpy_method]
    fn str_writer_raw<'py>(ctx: &'py Context, text: &str, n: usize) -> Result<Handle<'py>> {
        let mut w = ctx.str_writer(1)?;
        let total = text_within_limit(0, text.len().checked_mul(n))?;
        w.reserve(total)?;
        let start = w.len();
        // SAFETY: `reserve` made room for `total` bytes after `start`, all
        // written before `set_len`.
        unsafe {
            let mut p = w.as_mut_ptr().add(start);
            for _ in 0..n {
                core::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len());
                p = p.add(text.len());
            }
            w.set_len(start + total);
        }
        w.into_str()
    }

    /// The most text the `str_writer` fixtures write.
    const FIXTURE_TEXT_MAX: usize = 1 << 24;

    /// `more` bytes after `len`, if the total stays within `FIXTURE_TEXT_MAX`.
    fn text_within_limit(len: usize, more: Option<usize>) -> Result<usize> {
        match more.and_then(|m| m.checked_add(len)) {
            Some(total) if total <= FIXTURE_TEXT_MAX => Ok(total - len),
            _ => Err(exc::ValueError::new_err(
                "more text than the fixture writes",
            )),
        }
    }

    // --- list, tuple, dict ------------------------------------------------------

    /// ctx.new_list().
    #[hpy_method]
    fn new_list(ctx: &Context) -> Result<Handle<'_>> {
        ctx.new_list()
    }

    /// [i * i for i in range(n)], by appending.
    #[hpy_method]
    fn squares(ctx: &Context, n: i64) -> Result<Handle<'_>> {
        let list = ctx.new_list()?;
        for i in 0..n {
            list.append(i * i)?;
        }
        Ok(list)
    }

    /// lst.append(x).
    #[hpy_method]
    fn append(lst: &Handle<'_>, x: &Handle<'_>) -> Result<()> {
        lst.append(x)
    }

    /// x.is_list().
    #[hpy_method]
    fn is_list(x: &Handle<'_>) -> bool {
        x.is_list()
    }

    /// x.is_tuple().
    #[hpy_method]
    fn is_tuple(x: &Handle<'_>) -> bool {
        x.is_tuple()
    }

    /// x.is_dict().
    #[hpy_method]
    fn is_dict(x: &Handle<'_>) -> bool {
        x.is_dict()
    }

    /// ctx.new_tuple(&[a, b, c]).
    #[hpy_method]
    fn new_tuple3<'py>(
        ctx: &'py Context,
        a: &Handle<'py>,
        b: &Handle<'py>,
        c: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        ctx.new_tuple(&[a, b, c])
    }

    /// ctx.new_tuple(&[x; n]) (n > 16 takes the heap path).
    #[hpy_method]
    fn new_tuple_n<'py>(ctx: &'py Context, x: &Handle<'py>, n: usize) -> Result<Handle<'py>> {
        let mut items = Vec::new();
        items.try_reserve_exact(n)?; // MemoryError for an impossible n, never an abort
        items.resize(n, x);
        ctx.new_tuple(&items)
    }

    /// ctx.new_list_from(&items).
    #[hpy_method]
    fn list_from<'py>(ctx: &'py Context, items: Vec<Handle<'py>>) -> Result<Handle<'py>> {
        ctx.new_list_from(&items)
    }

    /// ctx.new_dict().
    #[hpy_method]
    fn new_dict(ctx: &Context) -> Result<Handle<'_>> {
        ctx.new_dict()
    }

    /// d.keys().
    #[hpy_method]
    fn dict_keys<'py>(d: &Handle<'py>) -> Result<Handle<'py>> {
        d.keys()
    }

    /// d.copy().
    #[hpy_method]
    fn dict_copy<'py>(d: &Handle<'py>) -> Result<Handle<'py>> {
        d.copy()
    }

    /// list(d.items()), read with `dict_items` (no Python code called).
    #[hpy_method]
    fn dict_items<'py>(ctx: &'py Context, d: &Handle<'py>) -> Result<Handle<'py>> {
        let out = ctx.new_list()?;
        for entry in d.dict_items()? {
            let (k, v) = entry?;
            out.append(ctx.new_tuple(&[&k, &v])?)?;
        }
        Ok(out)
    }

    /// Iterates over `d`'s entries, calling `f(key)` after each one read (to
    /// let Python change the dict meanwhile); the keys seen.
    #[hpy_method]
    fn dict_items_calling<'py>(
        ctx: &'py Context,
        d: &Handle<'py>,
        f: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        let out = ctx.new_list()?;
        for entry in d.dict_items()? {
            let (k, _) = entry?;
            f.call1(&k)?;
            out.append(k)?;
        }
        Ok(out)
    }

    /// seq[i] through `seq_item`.
    #[hpy_method]
    fn seq_item<'py>(seq: &Handle<'py>, i: usize) -> Result<Handle<'py>> {
        seq.seq_item(i)
    }

    /// seq[i] through `seq_item_borrowed`, dup'ed at once.
    #[hpy_method]
    fn seq_item_borrowed<'py>(seq: &Handle<'py>, i: usize) -> Result<Handle<'py>> {
        // SAFETY: the item is dup'ed before anything else runs.
        let item = unsafe { seq.seq_item_borrowed(i) }?;
        Ok(item.dup())
    }

    /// How many of the first `n` items of `seq` are `None`, read with
    /// `seq_item_borrowed` (only an identity test while each is in use).
    #[hpy_method]
    fn count_none_borrowed(seq: &Handle<'_>, n: usize) -> Result<usize> {
        let mut count = 0;
        for i in 0..n {
            // SAFETY: only `is_none` runs while the item is in use.
            let item = unsafe { seq.seq_item_borrowed(i) }?;
            count += usize::from(item.is_none());
        }
        Ok(count)
    }

    /// The keys of `d` whose value is `None`, read with `next_borrowed`
    /// (each key dup'ed before the list grows).
    #[hpy_method]
    fn none_value_keys_borrowed<'py>(ctx: &'py Context, d: &Handle<'py>) -> Result<Handle<'py>> {
        let out = ctx.new_list()?;
        let mut items = d.dict_items()?;
        // SAFETY: an identity test and a dup run while an entry is in use;
        // the list grows from the owned key only.
        while let Some(entry) = unsafe { items.next_borrowed() } {
            let (key, value) = entry?;
            if value.is_none() {
                let key = key.dup();
                drop(value);
                out.append(key)?;
            }
        }
        Ok(out)
    }

    /// (x.is_exact_list(), x.is_exact_tuple(), x.is_list(), x.is_tuple()).
    #[hpy_method]
    fn exactness(x: &Handle<'_>) -> (bool, bool, bool, bool) {
        (
            x.is_exact_list(),
            x.is_exact_tuple(),
            x.is_list(),
            x.is_tuple(),
        )
    }

    /// (x.is_exact_str(), x.is_str()).
    #[hpy_method]
    fn str_exactness(x: &Handle<'_>) -> (bool, bool) {
        (x.is_exact_str(), x.is_str())
    }

    // --- slices -----------------------------------------------------------------

    /// x.is_slice().
    #[hpy_method]
    fn is_slice(x: &Handle<'_>) -> bool {
        x.is_slice()
    }

    /// s.slice_unpack() as a tuple.
    #[hpy_method]
    fn slice_unpack<'py>(ctx: &'py Context, s: &Handle<'py>) -> Result<Handle<'py>> {
        let (start, stop, step) = s.slice_unpack()?;
        int_tuple(ctx, &[start as i64, stop as i64, step as i64])
    }

    /// s.slice_indices(length) as a tuple.
    #[hpy_method]
    fn slice_indices<'py>(
        ctx: &'py Context,
        s: &Handle<'py>,
        length: usize,
    ) -> Result<Handle<'py>> {
        let (start, stop, step, count) = s.slice_indices(length)?;
        int_tuple(ctx, &[start as i64, stop as i64, step as i64, count as i64])
    }

    // --- builders ---------------------------------------------------------------

    /// A list or tuple of n items, [i * 10 for i in range(n)], set back to front.
    #[hpy_method]
    fn build<'py>(ctx: &'py Context, kind: &str, n: usize) -> Result<Handle<'py>> {
        with_builder!(ctx, kind, n, |b| {
            assert_eq!(b.len(), n);
            assert_eq!(b.is_empty(), n == 0);
            for i in (0..n).rev() {
                b.set(i, (i * 10) as u64)?;
            }
            b.build()
        })
    }

    /// A list or tuple of n items where only the `indices` are set (to
    /// themselves), the rest None.
    #[hpy_method]
    fn build_partial<'py>(
        ctx: &'py Context,
        kind: &str,
        n: usize,
        indices: &[u8],
    ) -> Result<Handle<'py>> {
        with_builder!(ctx, kind, n, |b| {
            for &i in indices {
                b.set(usize::from(i), u64::from(i))?;
            }
            b.build()
        })
    }

    /// Sets the given `item` at the `indices`, one after the other, then drops
    /// the builder (cancelling it) or builds it.
    #[hpy_method]
    fn builder_sets<'py>(
        ctx: &'py Context,
        kind: &str,
        n: usize,
        indices: &[u8],
        item: &Handle<'py>,
        finish: bool,
    ) -> Result<Option<Handle<'py>>> {
        with_builder!(ctx, kind, n, |b| {
            for &i in indices {
                b.set(usize::from(i), item)?;
            }
            if finish {
                b.build().map(Some)
            } else {
                Ok(None)
            }
        })
    }

    /// Sets item `i` of a builder of length `n` to a new object, after setting
    /// item 0: out of range raises IndexError, and the builder is cancelled.
    #[hpy_method]
    fn builder_set_at<'py>(
        ctx: &'py Context,
        kind: &str,
        n: usize,
        i: usize,
    ) -> Result<Handle<'py>> {
        with_builder!(ctx, kind, n, |b| {
            b.set(0, "first")?;
            b.set(i, format!("item {i}"))?;
            b.build()
        })
    }

    /// A builder of `n` items (a MemoryError when too long); returns its repr.
    #[hpy_method]
    fn builder_of_len(ctx: &Context, kind: &str, n: usize) -> Result<String> {
        with_builder!(ctx, kind, n, |b| Ok(format!("{b:?}")))
    }

    /// A value whose conversion fails, set into a builder: the builder is cancelled.
    #[hpy_method]
    fn builder_conversion_error<'py>(ctx: &'py Context, kind: &str) -> Result<Handle<'py>> {
        with_builder!(ctx, kind, 2, |b| {
            b.set(0, 1u64)?;
            let bad: Result<Handle<'_>> = Err(exc::RuntimeError::new_err("conversion failed"));
            b.set(1, bad?)?;
            b.build()
        })
    }

    // --- tracker ----------------------------------------------------------------

    /// [i * i for i in range(n)], every handle tracked.
    #[hpy_method]
    fn tracker_squares(ctx: &Context, n: i64, capacity: usize) -> Result<Handle<'_>> {
        let tracker = ctx.new_tracker(capacity)?;
        let list = tracker.add(ctx.new_list()?)?;
        for i in 0..n {
            let square = tracker.add((i * i).into_py(ctx)?)?;
            list.append(&*square)?;
        }
        Ok(list.dup())
    }

    /// Tracks n new ints, then fails: the tracker closes them all.
    #[hpy_method]
    fn tracker_error(ctx: &Context, n: i64) -> Result<()> {
        let tracker = ctx.new_tracker(0)?;
        for i in 0..n {
            tracker.add(i.into_py(ctx)?)?;
        }
        Err(exc::ValueError::new_err(format!(
            "failed after {n} handles"
        )))
    }

    /// Tracks n new ints, forgets them, and closes them itself: returns their sum.
    #[hpy_method]
    fn tracker_forget(ctx: &Context, n: i64) -> Result<i64> {
        let mut tracker = ctx.new_tracker(2)?;
        let mut raw = Vec::new();
        for i in 0..n {
            raw.push(tracker.add(i.into_py(ctx)?)?.as_raw());
        }
        tracker.forget_all();
        let mut sum = 0;
        for r in raw {
            // SAFETY: the tracker forgot `r` without closing it; nothing else owns it.
            let h = unsafe { Handle::from_raw(ctx, r) };
            sum += h.extract::<i64>()?;
        }
        // The tracker is still usable after forget_all.
        tracker.add(ctx.new_str("tracked again")?)?;
        tracker.close();
        Ok(sum)
    }

    /// ctx.new_tracker(capacity) (a MemoryError when too large).
    #[hpy_method]
    fn tracker_of_capacity(ctx: &Context, capacity: usize) -> Result<String> {
        let t = ctx.new_tracker(capacity)?;
        Ok(format!("{t:?}"))
    }

    // --- capsules ---------------------------------------------------------------

    /// A capsule named "api_builtins.Payload" holding `value`.
    #[hpy_method]
    fn new_capsule(ctx: &Context, value: i64, panic_on_drop: bool) -> Result<Handle<'_>> {
        ctx.new_capsule(
            Payload {
                value,
                panic_on_drop,
            },
            PAYLOAD,
        )
    }

    /// A capsule named "api_builtins.Payload" holding a String instead.
    #[hpy_method]
    fn new_string_capsule(ctx: &Context, s: String) -> Result<Handle<'_>> {
        ctx.new_capsule(s, PAYLOAD)
    }

    /// A capsule made with the raw API: our name, a static pointer, no destructor.
    #[hpy_method]
    fn new_raw_capsule(ctx: &Context) -> Result<Handle<'_>> {
        static DATA: i64 = 7;
        // SAFETY: the context is live; the pointer and the name are static; no destructor.
        unsafe {
            Handle::from_raw_result(
                ctx,
                hpy::sys::HPyCapsule_New(
                    ctx.as_raw(),
                    (&raw const DATA).cast_mut().cast(),
                    PAYLOAD.as_ptr(),
                    core::ptr::null_mut(),
                ),
            )
        }
    }

    /// The value of a Payload capsule named `name`.
    #[hpy_method]
    fn capsule_value(cap: &Handle<'_>, name: &[u8]) -> Result<i64> {
        let payload: &Payload = cap.capsule_ref(&c_string(name)?)?;
        Ok(payload.value)
    }

    /// The String of a capsule named "api_builtins.Payload".
    #[hpy_method]
    fn capsule_string(cap: &Handle<'_>) -> Result<String> {
        cap.capsule_ref::<String>(PAYLOAD).cloned()
    }

    /// cap.is_capsule(name).
    #[hpy_method]
    fn is_capsule(cap: &Handle<'_>, name: &[u8]) -> Result<bool> {
        Ok(cap.is_capsule(&c_string(name)?))
    }

    /// cap.capsule_name(), decoded.
    #[hpy_method]
    fn capsule_name(cap: &Handle<'_>) -> Result<Option<String>> {
        Ok(cap
            .capsule_name()?
            .map(|n| n.to_string_lossy().into_owned()))
    }

    /// How many Payloads were dropped so far.
    #[hpy_method]
    fn capsule_drops() -> usize {
        DROPS.load(Ordering::SeqCst)
    }

    // --- context variables ------------------------------------------------------

    /// ctx.new_context_var(name, default).
    #[hpy_method]
    fn new_context_var<'py>(
        ctx: &'py Context,
        name: &str,
        default: Option<&Handle<'py>>,
    ) -> Result<Handle<'py>> {
        ctx.new_context_var(name, default)
    }

    /// var.context_var_get(default).
    #[hpy_method]
    fn context_var_get<'py>(
        var: &Handle<'py>,
        default: Option<&Handle<'py>>,
    ) -> Result<Handle<'py>> {
        var.context_var_get(default)
    }

    /// var.context_var_try_get(None).
    #[hpy_method]
    fn context_var_try_get<'py>(var: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        var.context_var_try_get(None)
    }

    /// var.context_var_set(value).
    #[hpy_method]
    fn context_var_set<'py>(var: &Handle<'py>, value: &Handle<'py>) -> Result<Handle<'py>> {
        var.context_var_set(value)
    }
}
