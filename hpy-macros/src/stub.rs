//! Type stubs: each macro describes what it makes in a line of text, in
//! Python's terms (parameter names, kinds, defaults, and the types its Rust
//! types convert from and to), and submits the lines through `inventory`
//! so that they stay in the library. `cargo hpy` finds them there (they
//! start with `hpy-rs stub 1`) and writes `<module>.pyi`.
//!
//! Lines (fields separated by tabs):
//!
//! * `F  name  params  return`: a module function;
//! * `C  RustIdent  PyName  base`: a class;
//! * `A  RustIdent  name  type  ro|rw`: a field property of a class;
//! * `M  RustIdent  decorator  name  params  return`: a method (decorator:
//!   empty, `staticmethod`, `classmethod`, `property`, `setter`).
//!
//! A type the macros cannot name in Python (a struct of the user's) is
//! written `@Ident@`: `cargo hpy` keeps the name if the module has a class
//! of that name (`Self` is the class being described), else writes `Any`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// The Python type that values of the Rust type `ty` convert from or to.
pub(crate) fn hint(ty: &Type) -> String {
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Path(p) if p.path.is_ident("str") => "str".to_owned(),
            Type::Slice(s) if is_ident(&s.elem, "u8") => "bytes".to_owned(),
            other => hint(other),
        },
        Type::Paren(p) => hint(&p.elem),
        Type::Group(g) => hint(&g.elem),
        Type::Tuple(t) if t.elems.is_empty() => "None".to_owned(),
        Type::Tuple(t) => format!(
            "tuple[{}]",
            t.elems.iter().map(hint).collect::<Vec<_>>().join(", ")
        ),
        Type::Slice(s) => format!("list[{}]", hint(&s.elem)),
        Type::Array(a) => format!("list[{}]", hint(&a.elem)),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return "Any".to_owned();
            };
            let args: Vec<&Type> = match &last.arguments {
                PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let arg = |i: usize| args.get(i).map_or_else(|| "Any".to_owned(), |t| hint(t));
            match last.ident.to_string().as_str() {
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                | "u128" | "usize" | "BigInt" | "NonZeroU64" | "NonZeroI64" => "int".to_owned(),
                "f32" | "f64" => "float".to_owned(),
                "bool" => "bool".to_owned(),
                "String" | "str" | "char" | "Cow" | "PathBuf" | "OsString" => "str".to_owned(),
                "Vec" | "VecDeque" | "LinkedList" => format!("list[{}]", arg(0)),
                "HashMap" | "BTreeMap" | "IndexMap" => format!("dict[{}, {}]", arg(0), arg(1)),
                "HashSet" | "BTreeSet" | "IndexSet" => format!("set[{}]", arg(0)),
                "Option" => format!("{} | None", arg(0)),
                "Box" | "Rc" | "Arc" | "Result" | "PyResult" => arg(0),
                "Handle" | "Bound" | "Py" | "PyObject" | "PyAny" => "Any".to_owned(),
                "Self" => "@Self@".to_owned(),
                other => format!("@{other}@"),
            }
        }
        _ => "Any".to_owned(),
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident(name))
}

/// The Python type a function returns: `T` of `Result<T>`, `None` for no
/// return type; the instance for `#[new]`'s `(Self, Base)`.
pub(crate) fn return_hint(output: &ReturnType) -> String {
    match output {
        ReturnType::Default => "None".to_owned(),
        ReturnType::Type(_, ty) => hint(ty),
    }
}

/// `T` for `T | None` (what `__next__` yields: `None` ends the iteration).
pub(crate) fn strip_none(hint: &str) -> String {
    hint.strip_suffix(" | None").unwrap_or(hint).to_owned()
}

/// `inventory::submit!` of stub lines, prefixed with the marker and the
/// item's module path, NUL-terminated.
pub(crate) fn submit(lines: &[String]) -> TokenStream {
    let body = format!("{}\0", lines.join("\n"));
    quote! {
        ::hpy::impl_::inventory::submit! {
            ::hpy::impl_::Submission {
                module_path: ::core::module_path!(),
                module: ::core::option::Option::None,
                item: ::hpy::impl_::Contribution::Stub(::core::concat!(
                    "hpy-rs stub 1\n", ::core::module_path!(), "\n", #body
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> String {
        hint(&syn::parse_str(s).unwrap())
    }

    #[test]
    fn rust_types_in_python_terms() {
        assert_eq!(h("i64"), "int");
        assert_eq!(h("&str"), "str");
        assert_eq!(h("&[u8]"), "bytes");
        assert_eq!(h("Vec<Option<f64>>"), "list[float | None]");
        assert_eq!(h("HashMap<String, Vec<i32>>"), "dict[str, list[int]]");
        assert_eq!(h("(i64, bool)"), "tuple[int, bool]");
        assert_eq!(h("hpy::Result<()>"), "None");
        assert_eq!(h("&Handle<'py>"), "Any");
        assert_eq!(h("&Point"), "@Point@");
        assert_eq!(h("Self"), "@Self@");
        assert_eq!(strip_none("int | None"), "int");
    }
}
