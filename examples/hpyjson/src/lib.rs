//! `hpyjson`: a ujson-compatible JSON module, as one HPy universal binary
//! (CPython with `hpy` installed, PyPy, HPy's debug and trace modes).
//!
//! ```text
//! >>> import hpyjson
//! >>> hpyjson.dumps([{"key": "value"}, 81, True])
//! '[{"key":"value"},81,true]'
//! >>> hpyjson.loads("""[{"key": "value"}, 81, true]""")
//! [{'key': 'value'}, 81, True]
//! ```
//!
//! The API is ujson's: `loads`/`decode`, `load`, `dumps`/`encode`, `dump`
//! and `JSONDecodeError` (a `ValueError`), with ujson's keyword arguments,
//! behaviour and error messages (see `decode.rs` and `encode.rs`).

use hpy::{Context, FromPy, Handle, Result, exc, hpy_module};

mod block;
mod decode;
mod encode;
mod float;

hpy::create_exception!(
    hpyjson,
    JSONDecodeError,
    exc::ValueError,
    "Raised when loads() meets invalid JSON."
);

/// A keyword flag that takes any object, by its truth value (ujson's
/// `PyObject_IsTrue`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Truthy(bool);

impl From<bool> for Truthy {
    fn from(v: bool) -> Self {
        Truthy(v)
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for Truthy {
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        Ok(Truthy(obj.is_true()?))
    }
}

/// A C `int` argument (`indent`), as ujson's `PyArg_ParseTuple` format `i` takes it
/// (`bool` and `__index__` objects too), with CPython's messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CInt(i32);

impl From<i32> for CInt {
    fn from(v: i32) -> Self {
        CInt(v)
    }
}

impl<'a, 'ctx> FromPy<'a, 'ctx> for CInt {
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        let int_type = ctx.int_type();
        if obj.is_instance(&ctx.float_type())?
            || !(obj.is_instance(&int_type)? || obj.has_attr("__index__"))
        {
            return Err(exc::TypeError::new_err(format!(
                "'{}' object cannot be interpreted as an integer",
                obj.type_name()
            )));
        }
        let v: i64 = match obj.extract() {
            Ok(v) => v,
            Err(e) if e.type_name() == Some("OverflowError") => {
                let negative = obj.lt(0i64)?;
                return Err(int_range_error(negative));
            }
            Err(e) => return Err(e),
        };
        i32::try_from(v)
            .map(CInt)
            .map_err(|_| int_range_error(v < 0))
    }
}

#[cold]
fn int_range_error(negative: bool) -> hpy::Error {
    exc::OverflowError::new_err(if negative {
        "signed integer is less than minimum"
    } else {
        "signed integer is greater than maximum"
    })
}

/// The type `dict`.
pub(crate) fn dict_type<'ctx>(ctx: &'ctx Context) -> Result<Handle<'ctx>> {
    hpyjson::DICT.load(ctx)
}

/// Whether `obj` is a `decimal.Decimal` (ujson writes those as floats);
/// `decimal` is imported the first time a non-builtin object is encoded.
pub(crate) fn is_decimal(ctx: &Context, obj: &Handle<'_>) -> Result<bool> {
    let ty = match hpyjson::DECIMAL.try_load(ctx) {
        Some(ty) => ty,
        None => {
            let ty = ctx.import_module("decimal")?.get_attr("Decimal")?;
            hpyjson::DECIMAL.store(ctx, &ty);
            ty
        }
    };
    obj.is_instance(&ty)
}

/// The UTF-8 (or WTF-8) text of `obj` for `loads`: a `str`, `bytes` or
/// `bytearray`, as ujson takes them; `f` also learns whether the text is
/// known to be valid UTF-8 (a `str`'s text on CPython, which refuses lone
/// surrogates), so that the parser need not check it again.
fn with_input<R>(
    ctx: &Context,
    obj: &Handle<'_>,
    f: impl FnOnce(&[u8], bool) -> Result<R>,
) -> Result<R> {
    if obj.is_str() {
        // `as_str` is valid UTF-8 by construction; it fails for lone
        // surrogates (always on CPython, never on PyPy), which ujson takes.
        if let Ok(text) = obj.as_str() {
            return f(text.as_bytes(), true);
        }
        ctx.err_clear();
        return encode::with_str_bytes(obj, |b| f(b, false))?;
    }
    if obj.is_bytes() {
        return f(obj.as_bytes()?, false);
    }
    let bytearray = hpyjson::BYTEARRAY.load(ctx)?;
    if obj.is_instance(&bytearray)? {
        let copy = obj.bytes()?;
        return f(copy.as_bytes()?, false);
    }
    if exports_contiguous_buffer(ctx, obj)? {
        return Err(exc::TypeError::new_err(
            "Arbitrary bytes-like objects are no longer supported. Use either string, bytes, or bytearray.",
        ));
    }
    Err(exc::TypeError::new_err(
        "Expected string, bytes, or bytearray",
    ))
}

/// Whether `obj` exports a C-contiguous buffer (ujson's
/// `PyObject_GetBuffer(obj, PyBUF_C_CONTIGUOUS)` test), asked through
/// `memoryview(obj)`: HPy 0.9 has no buffer API.
#[cold]
fn exports_contiguous_buffer(ctx: &Context, obj: &Handle<'_>) -> Result<bool> {
    let Ok(view) = ctx.memoryview_type().call1(obj) else {
        ctx.err_clear();
        return Ok(false);
    };
    let contiguous = view.get_attr("c_contiguous")?.is_true()?;
    view.call_method0("release")?;
    Ok(contiguous)
}

fn loads_impl<'py>(ctx: &'py Context, obj: &Handle<'py>, strict: bool) -> Result<Handle<'py>> {
    with_input(ctx, obj, |input, utf8| {
        decode::loads(ctx, input, utf8, strict)
    })
}

/// The keyword arguments of `dumps` and `dump`.
struct DumpArgs<'a, 'py> {
    ensure_ascii: Truthy,
    encode_html_chars: Truthy,
    escape_forward_slashes: Truthy,
    sort_keys: Truthy,
    indent: CInt,
    allow_nan: Truthy,
    reject_bytes: Truthy,
    default: Option<&'a Handle<'py>>,
    separators: Option<&'a Handle<'py>>,
}

/// One separator: a `str`, as its (WTF-)8 bytes.
fn separator(item: &Handle<'_>, what: &'static str) -> Result<Vec<u8>> {
    if !item.is_str() {
        return Err(exc::TypeError::new_err(what));
    }
    encode::with_str_bytes(item, <[u8]>::to_vec)
}

fn dumps_impl<'py>(
    ctx: &'py Context,
    obj: &Handle<'py>,
    a: DumpArgs<'_, 'py>,
) -> Result<Handle<'py>> {
    let indent = a.indent.0;
    if indent > 1000 {
        return Err(exc::ValueError::new_err(
            "Maximum allowed indentation is 1000",
        ));
    }
    let (item_separator, key_separator) = match a.separators {
        Some(seps) => {
            if !seps.is_tuple() {
                return Err(exc::TypeError::new_err(
                    "expected tuple or None as separator",
                ));
            }
            if seps.len()? != 2 {
                return Err(exc::ValueError::new_err(
                    "expected tuple of size 2 as separator",
                ));
            }
            (
                separator(&seps.get_item(0usize)?, "expected str as item separator")?,
                separator(&seps.get_item(1usize)?, "expected str as key separator")?,
            )
        }
        None => (
            b",".to_vec(),
            if indent != 0 {
                b": ".to_vec()
            } else {
                b":".to_vec()
            },
        ),
    };
    let opts = encode::Options {
        ensure_ascii: a.ensure_ascii.0,
        encode_html_chars: a.encode_html_chars.0,
        escape_forward_slashes: a.escape_forward_slashes.0,
        sort_keys: a.sort_keys.0,
        indent,
        allow_nan: a.allow_nan.0,
        reject_bytes: a.reject_bytes.0,
        item_separator,
        key_separator,
    };
    encode::dumps(ctx, obj, &opts, a.default)
}

/// A ujson-compatible JSON encoder and decoder (HPy, Rust).
#[hpy_module]
mod hpyjson {
    use super::{CInt, DumpArgs, Truthy, dumps_impl, loads_impl};
    use hpy::{Context, Global, Handle, Result, exc, hpy_init, hpy_method};

    /// The type `bytearray`, looked up at import.
    pub(crate) static BYTEARRAY: Global = Global::new();
    /// `decimal.Decimal`, looked up when first needed.
    pub(crate) static DECIMAL: Global = Global::new();
    /// The type `dict`, looked up at import (HPy 0.9 has no constant for it).
    pub(crate) static DICT: Global = Global::new();

    #[hpy_init]
    fn init(ctx: &Context, module: &Handle<'_>) -> Result<()> {
        let bytearray = ctx.builtins().get_item("bytearray")?;
        BYTEARRAY.store(ctx, &bytearray);
        DICT.store(ctx, &ctx.builtins().get_item("dict")?);
        module.set_attr("__version__", env!("CARGO_PKG_VERSION"))?;
        // ujson's aliases: the same functions under a second name.
        module.set_attr("decode", module.get_attr("loads")?)?;
        module.set_attr("encode", module.get_attr("dumps")?)?;
        Ok(())
    }

    /// Converts JSON as string to dict object structure. Set strict=True to
    /// accept RFC 8259 JSON only (no NaN, Infinity, leading zeros, raw
    /// control characters in strings...).
    #[hpy_method(signature = (obj, *, strict = false))]
    fn loads<'py>(ctx: &'py Context, obj: &Handle<'py>, strict: bool) -> Result<Handle<'py>> {
        loads_impl(ctx, obj, strict)
    }

    /// Converts JSON as file to dict object structure. Set strict=True to
    /// accept RFC 8259 JSON only.
    #[hpy_method(signature = (fp, /, *, strict = false))]
    fn load<'py>(ctx: &'py Context, fp: &Handle<'py>, strict: bool) -> Result<Handle<'py>> {
        let read = file_method(fp, "read")?;
        let text = read.call0()?;
        loads_impl(ctx, &text, strict)
    }

    /// Converts arbitrary object recursively into JSON. Use ensure_ascii=false
    /// to output UTF-8. Set encode_html_chars=True to encode < > & as unicode
    /// escape sequences. Set escape_forward_slashes=False to prevent escaping
    /// / characters. Set allow_nan=False to raise an exception when NaN or
    /// Infinity would be serialized. Set reject_bytes=True to raise TypeError
    /// on bytes.
    #[allow(clippy::too_many_arguments)]
    #[hpy_method(signature = (obj, ensure_ascii = true, encode_html_chars = false,
        escape_forward_slashes = true, sort_keys = false, indent = CInt(0), allow_nan = true,
        reject_bytes = true, default = None, separators = None))]
    fn dumps<'py>(
        ctx: &'py Context,
        obj: &Handle<'py>,
        ensure_ascii: Truthy,
        encode_html_chars: Truthy,
        escape_forward_slashes: Truthy,
        sort_keys: Truthy,
        indent: CInt,
        allow_nan: Truthy,
        reject_bytes: Truthy,
        default: Option<&Handle<'py>>,
        separators: Option<&Handle<'py>>,
    ) -> Result<Handle<'py>> {
        let args = DumpArgs {
            ensure_ascii,
            encode_html_chars,
            escape_forward_slashes,
            sort_keys,
            indent,
            allow_nan,
            reject_bytes,
            default,
            separators,
        };
        dumps_impl(ctx, obj, args)
    }

    /// Converts arbitrary object recursively into JSON file (`fp.write(dumps(obj, ...))`).
    #[allow(clippy::too_many_arguments)]
    #[hpy_method(signature = (obj, fp, /, *, ensure_ascii = true, encode_html_chars = false,
        escape_forward_slashes = true, sort_keys = false, indent = CInt(0), allow_nan = true,
        reject_bytes = true, default = None, separators = None))]
    fn dump<'py>(
        ctx: &'py Context,
        obj: &Handle<'py>,
        fp: &Handle<'py>,
        ensure_ascii: Truthy,
        encode_html_chars: Truthy,
        escape_forward_slashes: Truthy,
        sort_keys: Truthy,
        indent: CInt,
        allow_nan: Truthy,
        reject_bytes: Truthy,
        default: Option<&Handle<'py>>,
        separators: Option<&Handle<'py>>,
    ) -> Result<()> {
        let write = file_method(fp, "write")?;
        let args = DumpArgs {
            ensure_ascii,
            encode_html_chars,
            escape_forward_slashes,
            sort_keys,
            indent,
            allow_nan,
            reject_bytes,
            default,
            separators,
        };
        let text = dumps_impl(ctx, obj, args)?;
        write.call1(&text)?;
        Ok(())
    }

    /// `fp.<name>`, if it is there and callable; `TypeError: expected file` otherwise.
    fn file_method<'py>(fp: &Handle<'py>, name: &str) -> Result<Handle<'py>> {
        if !fp.has_attr(name) {
            return Err(exc::TypeError::new_err("expected file"));
        }
        let m = fp.get_attr(name)?;
        if !m.is_callable() {
            return Err(exc::TypeError::new_err("expected file"));
        }
        Ok(m)
    }
}
