//! `#[hpy_method]`: parsing, checking and expansion.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, ItemFn, LitStr, Pat, Token, Type};

use crate::signature::{Kind, SigItem, Signature, python_default};

/// The options of `#[hpy_method(...)]`.
#[derive(Default)]
pub(crate) struct MethodOptions {
    name: Option<LitStr>,
    signature: Option<Signature>,
    /// `module = "..."`: the module a function outside any module `mod` joins.
    module: Option<LitStr>,
    /// Set by `#[hpy_module]` on the functions inside its `mod`, which it
    /// lists itself.
    inline: bool,
}

/// The hidden option `#[hpy_module]` adds to the `#[hpy_method]`s of its `mod`.
pub(crate) const INLINE_MARK: &str = "__hpy_in_module";

enum MethodOption {
    Name(LitStr),
    Signature(Signature),
    Module(LitStr),
    Inline,
}

impl Parse for MethodOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key == INLINE_MARK {
            return Ok(MethodOption::Inline);
        }
        input
            .parse::<Token![=]>()
            .map_err(|e| syn::Error::new(e.span(), format!("expected `{key} = ...`")))?;
        match key.to_string().as_str() {
            "name" => Ok(MethodOption::Name(input.parse()?)),
            "signature" => Ok(MethodOption::Signature(input.parse()?)),
            "module" => Ok(MethodOption::Module(input.parse()?)),
            other => Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown #[hpy_method] option `{other}`: expected `name = \"...\"`, `signature = (...)` or `module = \"...\"`"
                ),
            )),
        }
    }
}

impl Parse for MethodOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = MethodOptions::default();
        for opt in Punctuated::<MethodOption, Token![,]>::parse_terminated(input)? {
            match opt {
                MethodOption::Name(n) if opts.name.is_some() => {
                    return Err(syn::Error::new(n.span(), "`name` is given twice"));
                }
                MethodOption::Name(n) => opts.name = Some(n),
                MethodOption::Signature(s) if opts.signature.is_some() => {
                    return Err(syn::Error::new(s.span, "`signature` is given twice"));
                }
                MethodOption::Signature(s) => opts.signature = Some(s),
                MethodOption::Module(m) if opts.module.is_some() => {
                    return Err(syn::Error::new(m.span(), "`module` is given twice"));
                }
                MethodOption::Module(m) => opts.module = Some(m),
                MethodOption::Inline => opts.inline = true,
            }
        }
        Ok(opts)
    }
}

/// One Python-visible parameter.
#[derive(Clone)]
struct Param {
    ident: Ident,
    ty: Type,
    kind: Kind,
    default: Option<Expr>,
    /// `Option<T>`: optional, `None` by default.
    is_option: bool,
}

impl Param {
    fn required(&self) -> bool {
        self.default.is_none() && !self.is_option && !self.is_var()
    }

    fn is_var(&self) -> bool {
        matches!(self.kind, Kind::VarPositional | Kind::VarKeyword)
    }
}

/// The calling convention chosen for a method.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Convention {
    NoArgs,
    O,
    VarArgs,
    Keywords,
}

/// How a method of a class receives its instance.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Receiver {
    /// A module function (its `self` is the module, unused).
    None,
    /// `&self`: the struct, borrowed.
    Ref,
    /// `&mut self`: the struct, borrowed mutably.
    Mut,
    /// `slf: &Handle<'py>`: the object itself.
    Handle,
    /// `slf: Ref<'_, Self>`.
    RefGuard,
    /// `slf: RefMut<'_, Self>`.
    MutGuard,
    /// `cls: &Handle<'py>`: the class (a `#[classmethod]`), passed first.
    Cls,
}

/// A checked `#[hpy_method]` function (or method of a class).
#[derive(Clone)]
pub(crate) struct Method {
    pub(crate) func: ItemFn,
    pub(crate) py_name: String,
    pub(crate) takes_ctx: bool,
    params: Vec<Param>,
    pub(crate) convention: Convention,
    pub(crate) text_signature: String,
    /// `None` inside a module `mod`; else the module it joins (`Some(None)`:
    /// every module of the crate).
    free: Option<Option<LitStr>>,
    /// How it receives its instance (methods of classes).
    pub(crate) receiver: Receiver,
    /// The class (`Self`) of a method.
    pub(crate) self_ty: Option<Type>,
    /// `#[new]`: a `tp_new` slot that makes an instance of what it returns.
    pub(crate) is_new: bool,
    /// `__init__` (`tp_init`): parsed as `#[new]` is, returns `()`.
    pub(crate) is_init: bool,
    /// The name errors use (`norm`, or `Point.norm` for a method).
    pub(crate) err_name: String,
    /// `__call__`: the KEYWORDS function is the class's `tp_call` slot.
    pub(crate) call_slot: bool,
    /// `__next__`: `None` raises `StopIteration`.
    pub(crate) iter_next: bool,
    /// `__next__` as the `HPY_RS_tp_iternext` slot of a CPython-ABI build:
    /// the NOARGS impl with CPython's `tp_iternext` as its trampoline.
    pub(crate) iternext_slot: bool,
    /// A reflected operator as a method (`__radd__`): an argument that does
    /// not convert (`TypeError`) returns `NotImplemented`.
    pub(crate) operand: bool,
}

impl Method {
    /// The name and type of each Python-visible parameter.
    pub(crate) fn params(&self) -> impl Iterator<Item = (&Ident, &Type)> {
        self.params.iter().map(|p| (&p.ident, &p.ty))
    }

    /// The number of Python-visible parameters.
    pub(crate) fn param_count(&self) -> usize {
        self.params.len()
    }

    /// The type of the only parameter (a setter's value), if there is one.
    pub(crate) fn single_param_type(&self) -> Option<&Type> {
        match self.params.as_slice() {
            [p] => Some(&p.ty),
            _ => None,
        }
    }

    /// `ctx,` if the function takes the context.
    pub(crate) fn ctx_arg(&self) -> TokenStream {
        if self.takes_ctx {
            quote!(ctx,)
        } else {
            quote!()
        }
    }

    /// Whether no Python code can run while the method body holds `self`:
    /// `&self` or `&mut self`, no `&Context`, no other parameter, and a
    /// return type with no reference, lifetime, `impl` or `dyn` in it (a
    /// hidden lifetime fails `owned_return` at compile time). Such a method
    /// gets its struct from `self_peek`/`self_peek_mut`: the borrow flag
    /// checked, not written (see `hpy::impl_::self_peek` for why that is
    /// sound).
    pub(crate) fn python_free(&self) -> bool {
        matches!(self.receiver, Receiver::Ref | Receiver::Mut)
            // `__getbuffer__` keeps its borrow after the call.
            && self.func.sig.ident != "__getbuffer__"
            && !self.takes_ctx
            && self.params.is_empty()
            && !self.is_new
            && !self.is_init
            && self.returns_owned()
    }

    /// Whether the return type has no reference, lifetime, `impl` or `dyn`
    /// in it (a hidden lifetime fails `owned_return` at compile time).
    pub(crate) fn returns_owned(&self) -> bool {
        match &self.func.sig.output {
            syn::ReturnType::Default => true,
            syn::ReturnType::Type(_, ty) => owned_type(ty, self.self_ty.as_ref()),
        }
    }

    /// The function that lends the struct to a
    /// [`python_free`](Self::python_free) method: `self_peek` or
    /// `self_peek_mut`.
    pub(crate) fn peek_fn(&self) -> TokenStream {
        if self.receiver == Receiver::Mut {
            quote!(::hpy::impl_::self_peek_mut)
        } else {
            quote!(::hpy::impl_::self_peek)
        }
    }

    /// The call of the user's function with `args` (receiver first), its
    /// result checked to borrow nothing for a [`python_free`](Self::python_free)
    /// method.
    pub(crate) fn checked_call(&self, call: TokenStream) -> TokenStream {
        if self.python_free() {
            quote!(::hpy::impl_::owned_return(#call))
        } else {
            call
        }
    }

    /// The path that calls the user's function.
    pub(crate) fn call_path(&self) -> TokenStream {
        let fn_ident = &self.func.sig.ident;
        match &self.self_ty {
            Some(ty) => quote!(<#ty>::#fn_ident),
            None => quote!(#fn_ident),
        }
    }
}

/// Whether a return type, as written, is one of the types known to borrow
/// nothing: numbers, `bool`, `char`, `String`, `Self` (or the class's name),
/// and `Option`, `Result`, `Vec`, `Error`, tuples and arrays of them. Any
/// other type may hide a lifetime (`Cow<str>` borrows from `self` with none
/// written), so its method keeps the borrow through the conversion.
/// (`owned_return` still checks the value: a type that shadows one of these
/// names and borrows fails to compile there.)
fn owned_type(ty: &Type, self_ty: Option<&Type>) -> bool {
    const OWNED: &[&str] = &[
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
        "f32", "f64", "bool", "char", "String", "Self", "Option", "Result", "Vec", "Error",
    ];
    match ty {
        Type::Tuple(t) => t.elems.iter().all(|e| owned_type(e, self_ty)),
        Type::Array(a) => owned_type(&a.elem, self_ty),
        Type::Paren(p) => owned_type(&p.elem, self_ty),
        Type::Group(g) => owned_type(&g.elem, self_ty),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let is_self_ty = matches!(self_ty, Some(Type::Path(s)) if s.path.segments.last().is_some_and(|l| l.ident == last.ident && l.arguments.is_empty()));
            if !OWNED.iter().any(|n| last.ident == n) && !is_self_ty {
                return false;
            }
            match &last.arguments {
                syn::PathArguments::None => true,
                syn::PathArguments::AngleBracketed(args) => args.args.iter().all(|a| match a {
                    syn::GenericArgument::Type(t) => owned_type(t, self_ty),
                    _ => false,
                }),
                syn::PathArguments::Parenthesized(_) => false,
            }
        }
        _ => false,
    }
}

/// The name of the static `HPyDef` that `#[hpy_method]` emits for `func`.
pub(crate) fn def_ident(func: &Ident) -> Ident {
    format_ident!("__hpy_def_{}", func)
}

fn is_context_ref(ty: &Type) -> bool {
    if let Type::Reference(r) = ty {
        if let Type::Path(p) = &*r.elem {
            return p.qself.is_none()
                && p.path.segments.last().is_some_and(|s| s.ident == "Context");
        }
    }
    false
}

fn is_option(ty: &Type) -> bool {
    if let Type::Path(p) = ty {
        return p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option");
    }
    false
}

/// Containers whose items are converted one by one: an item that borrows
/// (`&str`, `&[u8]`, `&Handle`) would borrow from an item handle that the
/// conversion closes, so `FromPy` does not exist for them.
const CONTAINERS: &[&str] = &[
    "Vec",
    "VecDeque",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "LinkedList",
];

/// The first reference inside a container type, if any: `Vec<&str>`,
/// `[&str; 2]`, `(&str, i64)`, `HashMap<&str, i64>`, ... (not `Option<&str>`,
/// whose value borrows from the argument itself).
fn borrowed_item(ty: &Type, inside: bool) -> Option<&syn::TypeReference> {
    match ty {
        Type::Reference(r) if inside => Some(r),
        Type::Reference(_) => None,
        Type::Array(a) => borrowed_item(&a.elem, true),
        Type::Slice(a) => borrowed_item(&a.elem, true),
        Type::Tuple(t) => t.elems.iter().find_map(|e| borrowed_item(e, true)),
        Type::Paren(p) => borrowed_item(&p.elem, inside),
        Type::Group(g) => borrowed_item(&g.elem, inside),
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            let container = CONTAINERS.iter().any(|c| last.ident == c);
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => borrowed_item(t, inside || container),
                _ => None,
            })
        }
        _ => None,
    }
}

/// What to write instead of a borrowed item type.
fn owned_instead(r: &syn::TypeReference) -> String {
    let elem = &r.elem;
    match &**elem {
        Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
        Type::Slice(s) => {
            let item = &s.elem;
            format!("Vec<{}>", quote!(#item).to_string().replace(' ', ""))
        }
        other => quote!(#other)
            .to_string()
            .replace(" < ", "<")
            .replace(" >", ">")
            .replace(" '", "'"),
    }
}

/// Checks the function and its options, collecting every error.
pub(crate) fn analyze(opts: MethodOptions, func: ItemFn) -> syn::Result<Method> {
    analyze_in(opts, func, None)
}

/// The type of a `slf` receiver: `&Handle<'py>`, `Ref<'_, Self>` or
/// `RefMut<'_, Self>`.
fn slf_receiver(ty: &Type) -> Option<Receiver> {
    let last = |t: &Type| match t {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    match ty {
        Type::Reference(r)
            if r.mutability.is_none() && last(&r.elem).as_deref() == Some("Handle") =>
        {
            Some(Receiver::Handle)
        }
        _ => match last(ty).as_deref() {
            Some("Ref") => Some(Receiver::RefGuard),
            Some("RefMut") => Some(Receiver::MutGuard),
            _ => None,
        },
    }
}

/// [`analyze`] for a function, or for a method of the class `self_ty` (which
/// may take `&self`, `&mut self` or `slf` first).
pub(crate) fn analyze_in(
    opts: MethodOptions,
    func: ItemFn,
    self_ty: Option<&Type>,
) -> syn::Result<Method> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let sig = &func.sig;
    if let Some(a) = &sig.asyncness {
        errors.push(syn::Error::new(
            a.span(),
            "#[hpy_method] cannot be applied to an `async fn`: Python calls it synchronously",
        ));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(syn::Error::new(
            u.span(),
            "#[hpy_method] functions must be safe to call: remove `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new(
            abi.span(),
            "#[hpy_method] generates the `extern \"C\"` functions itself: remove the ABI",
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new(
            v.span(),
            "#[hpy_method] functions cannot be variadic",
        ));
    }
    for g in &sig.generics.params {
        if !matches!(g, syn::GenericParam::Lifetime(_)) {
            errors.push(syn::Error::new(
                g.span(),
                "#[hpy_method] functions cannot be generic: Python needs one concrete function (lifetime parameters are fine)",
            ));
        }
    }
    if let Some(w) = &sig.generics.where_clause {
        if w.predicates
            .iter()
            .any(|p| !matches!(p, syn::WherePredicate::Lifetime(_)))
        {
            errors.push(syn::Error::new(
                w.span(),
                "#[hpy_method] functions cannot have `where` bounds on types",
            ));
        }
    }

    let mut takes_ctx = false;
    let mut params = Vec::new();
    let mut receiver = Receiver::None;
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(r) if self_ty.is_some() && i == 0 => {
                if r.reference.is_none() {
                    errors.push(syn::Error::new(
                        r.span(),
                        "a method takes `&self` or `&mut self`: the struct stays inside its Python object",
                    ));
                } else if r.mutability.is_some() {
                    receiver = Receiver::Mut;
                } else {
                    receiver = Receiver::Ref;
                }
            }
            FnArg::Receiver(r) => errors.push(syn::Error::new(
                r.span(),
                if self_ty.is_some() {
                    "`self` must be the first parameter"
                } else {
                    "#[hpy_method] functions cannot take `self`: write a free function (module functions have no `self`), or a method in a #[hpy_methods] impl block"
                },
            )),
            FnArg::Typed(pt) => {
                let first_after_receiver = i == usize::from(receiver != Receiver::None);
                if is_context_ref(&pt.ty) {
                    if first_after_receiver {
                        takes_ctx = true;
                    } else {
                        errors.push(syn::Error::new(
                            pt.ty.span(),
                            if receiver == Receiver::None {
                                "the `&Context` parameter must be the first one"
                            } else {
                                "the `&Context` parameter must come first after the receiver"
                            },
                        ));
                    }
                    continue;
                }
                if self_ty.is_some() && i == 0 {
                    if let Pat::Ident(p) = &*pt.pat {
                        if p.ident == "cls" {
                            match slf_receiver(&pt.ty) {
                                Some(Receiver::Handle) => receiver = Receiver::Cls,
                                _ => errors.push(syn::Error::new(
                                    pt.ty.span(),
                                    "`cls` receives the class: its type is `&Handle<'py>`",
                                )),
                            }
                            continue;
                        }
                        if p.ident == "slf" {
                            match slf_receiver(&pt.ty) {
                                Some(r) => receiver = r,
                                None => errors.push(syn::Error::new(
                                    pt.ty.span(),
                                    "`slf` receives the instance: its type is `&Handle<'py>`, `Ref<'_, Self>` or `RefMut<'_, Self>`",
                                )),
                            }
                            continue;
                        }
                    }
                }
                let ident = match &*pt.pat {
                    Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => p.ident.clone(),
                    other => {
                        errors.push(syn::Error::new(
                            other.span(),
                            "#[hpy_method] parameters must be plain names (they become Python parameter names)",
                        ));
                        continue;
                    }
                };
                let is_option = is_option(&pt.ty);
                if let Some(r) = borrowed_item(&pt.ty, false) {
                    errors.push(syn::Error::new_spanned(
                        r,
                        format!(
                            "parameter `{ident}`: the items of a converted collection cannot borrow from Python objects (each item's handle is closed once it is converted); use `{}` here",
                            owned_instead(r)
                        ),
                    ));
                }
                params.push(Param { ident, ty: (*pt.ty).clone(), kind: Kind::PositionalOnly, default: None, is_option });
            }
        }
    }

    let has_signature = opts.signature.is_some();
    if let Some(signature) = opts.signature {
        if let Err(e) = apply_signature(signature, &mut params) {
            errors.push(e);
        }
    }
    // Python's rule: a parameter that may be given by position cannot follow one
    // with a default unless it has a default too.
    let mut seen_default = false;
    for p in &params {
        if p.kind == Kind::VarKeyword && !p.is_option {
            errors.push(syn::Error::new_spanned(
                &p.ty,
                format!(
                    "`**{}` is `None` when no extra keyword argument is given: make its type an `Option`, e.g. `Option<&Handle<'py>>` or `Option<HashMap<String, i64>>`",
                    p.ident
                ),
            ));
        }
        if matches!(
            p.kind,
            Kind::KeywordOnly | Kind::VarPositional | Kind::VarKeyword
        ) {
            continue;
        }
        if p.required() && seen_default {
            errors.push(syn::Error::new(
                p.ident.span(),
                "non-default argument follows default argument (give it a default, make it keyword-only, or reorder)",
            ));
        }
        seen_default |= !p.required();
    }

    let mut errors = errors.into_iter();
    if let Some(mut combined) = errors.next() {
        combined.extend(errors);
        return Err(combined);
    }

    let convention = if has_signature && params.iter().any(|p| p.kind != Kind::PositionalOnly) {
        // keywords, *args or **kwargs
        Convention::Keywords
    } else if receiver == Receiver::Cls {
        // `cls` comes first among the arguments of a classmethod's function
        Convention::VarArgs
    } else {
        match params.as_slice() {
            [] => Convention::NoArgs,
            [p] if p.required() => Convention::O,
            _ => Convention::VarArgs,
        }
    };
    let py_name = opts
        .name
        .map(|n| n.value())
        .unwrap_or_else(|| func.sig.ident.to_string());
    let mut text_signature = text_signature(&params);
    if receiver != Receiver::None {
        // A classmethod's function is bound to its module (`$module`), and
        // `classmethod` binds `cls`.
        let first = if receiver == Receiver::Cls {
            "$module, cls"
        } else {
            "$self"
        };
        text_signature = if text_signature.is_empty() {
            first.to_owned()
        } else {
            format!("{first}, {text_signature}")
        };
    }
    let free = (!opts.inline && self_ty.is_none()).then_some(opts.module);
    Ok(Method {
        func,
        takes_ctx,
        params,
        convention,
        text_signature,
        free,
        receiver,
        self_ty: self_ty.cloned(),
        is_new: false,
        is_init: false,
        call_slot: false,
        iternext_slot: false,
        iter_next: false,
        operand: false,
        err_name: py_name.clone(),
        py_name,
    })
}

/// Applies `signature = (...)` to the parameters, checking that it names them all, in order.
fn apply_signature(signature: Signature, params: &mut [Param]) -> syn::Result<()> {
    let mut kind = Kind::PositionalOrKeyword;
    let mut index = 0;
    let mut seen_slash = false;
    let mut seen_star = false;
    let mut seen_kwargs = false;
    let next_param = |name: &Ident, index: usize, params: &mut [Param]| -> syn::Result<()> {
        let Some(p) = params.get(index) else {
            return Err(syn::Error::new(
                name.span(),
                format!("the signature names `{name}`, but the function has no more parameters"),
            ));
        };
        if p.ident != *name {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "the signature does not match the parameters: expected `{}` here, found `{name}`",
                    p.ident
                ),
            ));
        }
        Ok(())
    };
    for item in signature.items {
        if seen_kwargs {
            let span = match &item {
                SigItem::Param { name, .. } | SigItem::VarArgs(name) | SigItem::VarKwargs(name) => {
                    name.span()
                }
                SigItem::Slash(span) | SigItem::Star(span) => *span,
            };
            return Err(syn::Error::new(span, "nothing may follow `**kwargs`"));
        }
        match item {
            SigItem::Slash(span) => {
                if seen_slash || seen_star {
                    return Err(syn::Error::new(
                        span,
                        "`/` must come once, before `*` and `*args`",
                    ));
                }
                seen_slash = true;
                for p in params[..index].iter_mut() {
                    p.kind = Kind::PositionalOnly;
                }
            }
            SigItem::Star(span) => {
                if seen_star {
                    return Err(syn::Error::new(span, "`*` (or `*args`) may come only once"));
                }
                seen_star = true;
                kind = Kind::KeywordOnly;
            }
            SigItem::VarArgs(name) => {
                if seen_star {
                    return Err(syn::Error::new(
                        name.span(),
                        "`*args` may come only once, and not after `*`",
                    ));
                }
                next_param(&name, index, params)?;
                params[index].kind = Kind::VarPositional;
                seen_star = true;
                kind = Kind::KeywordOnly;
                index += 1;
            }
            SigItem::VarKwargs(name) => {
                next_param(&name, index, params)?;
                params[index].kind = Kind::VarKeyword;
                seen_kwargs = true;
                index += 1;
            }
            SigItem::Param { name, default } => {
                next_param(&name, index, params)?;
                let p = &mut params[index];
                p.kind = kind;
                p.default = default;
                index += 1;
            }
        }
    }
    if let Some(p) = params.get(index) {
        return Err(syn::Error::new(
            signature.span,
            format!(
                "the signature does not list parameter `{}` (it must list every parameter, in order)",
                p.ident
            ),
        ));
    }
    Ok(())
}

impl Method {
    /// The parameters in a type stub: `self` or `cls` first for a method,
    /// then each one's name, kind (`/`, `*`, `*args`, `**kwargs`), Python
    /// type and `= ...` where it has a default.
    pub(crate) fn stub_params(&self) -> String {
        let mut out = Vec::new();
        match self.receiver {
            Receiver::None => {}
            Receiver::Cls => out.push("cls".to_owned()),
            _ => out.push("self".to_owned()),
        }
        let mut star_done = false;
        for (i, p) in self.params.iter().enumerate() {
            let name = p.ident.to_string().trim_start_matches("r#").to_owned();
            match p.kind {
                Kind::VarPositional => {
                    out.push(format!("*{name}: Any"));
                    star_done = true;
                    continue;
                }
                Kind::VarKeyword => {
                    out.push(format!("**{name}: Any"));
                    continue;
                }
                Kind::KeywordOnly if !star_done => {
                    out.push("*".to_owned());
                    star_done = true;
                }
                _ => {}
            }
            let mut s = format!("{name}: {}", crate::stub::hint(&p.ty));
            if p.default.is_some() || p.is_option {
                s.push_str(" = ...");
            }
            out.push(s);
            let next_not_pos_only = self
                .params
                .get(i + 1)
                .is_none_or(|n| n.kind != Kind::PositionalOnly);
            if p.kind == Kind::PositionalOnly && next_not_pos_only {
                out.push("/".to_owned());
            }
        }
        out.join(", ")
    }

    /// The Python type the function returns (`T` of `Result<T>`).
    pub(crate) fn stub_return(&self) -> String {
        crate::stub::return_hint(&self.func.sig.output)
    }
}

fn text_signature(params: &[Param]) -> String {
    let mut out = Vec::new();
    let mut star_done = false;
    for (i, p) in params.iter().enumerate() {
        match p.kind {
            Kind::VarPositional => {
                out.push(format!("*{}", p.ident));
                star_done = true;
                continue;
            }
            Kind::VarKeyword => {
                out.push(format!("**{}", p.ident));
                continue;
            }
            Kind::KeywordOnly if !star_done => {
                out.push("*".to_owned());
                star_done = true;
            }
            _ => {}
        }
        let mut s = p.ident.to_string();
        if let Some(d) = &p.default {
            s = format!("{s}={}", python_default(d));
        } else if p.is_option {
            s.push_str("=None");
        }
        out.push(s);
        let next_not_pos_only = params
            .get(i + 1)
            .is_none_or(|n| n.kind != Kind::PositionalOnly);
        if p.kind == Kind::PositionalOnly && next_not_pos_only {
            out.push("/".to_owned());
        }
    }
    out.join(", ")
}

fn doc_string(func: &ItemFn) -> String {
    let mut lines = Vec::new();
    for attr in &func.attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let v = s.value();
                lines.push(v.strip_prefix(' ').unwrap_or(&v).to_owned());
            }
        }
    }
    lines.join("\n").trim().to_owned()
}

/// A C string literal token (`c"..."`), or an error for an embedded NUL.
pub(crate) fn c_str_lit(s: &str, span: Span) -> syn::Result<syn::LitCStr> {
    let c = std::ffi::CString::new(s)
        .map_err(|_| syn::Error::new(span, "the string must not contain a NUL character"))?;
    Ok(syn::LitCStr::new(&c, span))
}

/// The expression of a default value, placed where the parameter's value
/// goes, so that its type is the parameter's (as in PyO3): `k = 10` for a
/// `usize` is a `usize`. A numeric literal for an `Option<T>` becomes
/// `Some(literal)`. Anything else also converts with `Into` into the
/// parameter's type (`name = "x"` for a `String`, `flag = true` for a type
/// with `From<bool>`), which is the identity for a value of the type itself.
fn default_value(d: &Expr, is_option: bool) -> TokenStream {
    fn numeric(e: &Expr) -> bool {
        match e {
            Expr::Lit(l) => matches!(l.lit, syn::Lit::Int(_) | syn::Lit::Float(_)),
            Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && numeric(&u.expr),
            Expr::Paren(p) => numeric(&p.expr),
            _ => false,
        }
    }
    let span = d.span();
    if numeric(d) {
        if is_option {
            quote_spanned!(span=> ::core::option::Option::Some(#d))
        } else {
            quote_spanned!(span=> #d)
        }
    } else {
        quote_spanned!(span=> ::core::convert::Into::into(#d))
    }
}

/// Expands `#[hpy_method]`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                "#[hpy_method] applies to a function (`fn`)",
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    let opts: MethodOptions = match syn::parse2(attr) {
        Ok(o) => o,
        Err(e) => return with_error(func, e),
    };
    match analyze(opts, func.clone()).and_then(|m| generate(&m)) {
        Ok(ts) => ts,
        Err(e) => with_error(func, e),
    }
}

/// Keeps the user's function (so that other errors still make sense) and adds ours.
fn with_error(func: ItemFn, err: syn::Error) -> TokenStream {
    let err = err.to_compile_error();
    quote!(#func #err)
}

fn generate(m: &Method) -> syn::Result<TokenStream> {
    let func = &m.func;
    let vis = &func.vis;
    let fn_ident = &func.sig.ident;
    let def = def_ident(fn_ident);
    let name = &m.err_name;
    let span = fn_ident.span();
    let py_name = c_str_lit(&m.py_name, span)?;
    let doc = doc_string(func);
    // `Class.name` for the function of a static or class method: CPython
    // looks for the text signature under the last part of the name.
    let short = m.py_name.rsplit('.').next().unwrap_or(&m.py_name);
    let full_doc = if doc.is_empty() {
        format!("{short}({})\n--\n\n", m.text_signature)
    } else {
        format!("{short}({})\n--\n\n{doc}", m.text_signature)
    };
    let doc_lit = c_str_lit(&full_doc, span)?;
    let ctx_arg = if m.takes_ctx { quote!(ctx,) } else { quote!() };
    let (call_path, recv_bind, recv_arg) = receiver_parts(m);
    let checked_call = m.checked_call(quote!(#call_path(#recv_arg #ctx_arg)));
    // A classmethod's function gets the class as its first argument.
    let cls_shift = if m.receiver == Receiver::Cls {
        quote!(let (__hpy_cls, args, nargs) = ::hpy::impl_::take_cls(ctx, args, nargs, #name)?;)
    } else {
        quote!()
    };
    let into_return = if m.iter_next {
        quote!(::hpy::impl_::IntoIterNext::into_next)
    } else {
        quote!(::hpy::impl_::IntoReturn::into_return)
    };

    // One unit struct per parameter, named like it: the conversion goes
    // through `Parameter<.., __hpy_params::name>`, whose diagnostic then names
    // the parameter when its type has no `FromPy`.
    let markers = m.params.iter().map(|p| &p.ident);
    let params_mod = quote! {
        #[allow(non_camel_case_types, dead_code, unreachable_pub)]
        mod __hpy_params {
            #(pub struct #markers;)*
        }
    };
    // A reference parameter (`&str`, `&Point`, `&mut Point`, ...) converts
    // through `RefParameter`/`MutParameter`, with a holder that keeps the
    // borrow for the call, declared right after the argument's handle.
    let extract = |p: &Param, h: TokenStream| -> TokenStream {
        if m.operand {
            let e = extract_expr(&p.ident, &p.ty, h, name, false);
            quote! {
                match #e {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(e) => return ::hpy::impl_::not_implemented_or(ctx, e),
                }
            }
        } else {
            extract_expr(&p.ident, &p.ty, h, name, true)
        }
    };
    let holder_bind = |p: &Param| -> TokenStream { holder_decl(&p.ident, &p.ty) };

    // Per parameter: a `let` that borrows the argument handle for the whole call
    // (so `&str` and `&[u8]` views can point into it), and the expression that
    // converts it, naming the function and the parameter in errors.
    let convert = |i: usize,
                   p: &Param,
                   raw: TokenStream,
                   may_be_missing: bool|
     -> (TokenStream, TokenStream) {
        let h = format_ident!("__hpy_arg{}", i);
        let ty_span = p.ty.span();
        if may_be_missing {
            let default = match &p.default {
                Some(d) => default_value(d, p.is_option),
                None => quote!(::core::option::Option::None),
            };
            let holder = holder_bind(p);
            let bind = quote!(let #h = ::hpy::impl_::borrow_opt(ctx, #raw); #holder);
            let some = extract(p, quote!(h));
            let extract = quote_spanned! {ty_span=>
                match &#h {
                    ::core::option::Option::Some(h) => #some,
                    ::core::option::Option::None => #default,
                }
            };
            (bind, extract)
        } else {
            let holder = holder_bind(p);
            let bind = quote!(let #h = ::hpy::impl_::borrow_arg(ctx, #raw); #holder);
            (bind, extract(p, quote!(&#h)))
        }
    };

    let sys = quote!(::hpy::impl_::sys);
    let (impl_fn, trampoline_fn, signature, erase_impl, erase_tramp) = match m.convention {
        Convention::NoArgs => (
            quote! {
                // (`inline(always)`: the trampoline calls the impl directly, in a
                // CPython-ABI build and on a universal build's direct path; inlined there,
                // a call saves a jump and a frame. The impl stays a function of its own
                // for the runtimes that call it through the definition.)
                #[inline(always)]
                unsafe extern "C" fn __hpy_impl(ctx: *mut #sys::HPyContext, _self: #sys::HPy) -> #sys::HPy {
                    // SAFETY: the runtime calls this with the context of the current call.
                    unsafe {
                        ::hpy::impl_::run_method(ctx, #name, |ctx| {
                            #recv_bind
                            #into_return(#checked_call, ctx)
                        })
                    }
                }
            },
            quote! {
                unsafe extern "C" fn __hpy_trampoline(
                    slf: *mut #sys::cpy_PyObject,
                    _unused: *mut #sys::cpy_PyObject,
                ) -> *mut #sys::cpy_PyObject {
                    // SAFETY: CPython calls this as METH_NOARGS.
                    unsafe { ::hpy::impl_::trampoline_noargs(slf, __hpy_impl) }
                }
            },
            quote!(#sys::HPyFunc_NOARGS),
            quote!(erase_noargs),
            quote!(erase_noargs_trampoline),
        ),
        Convention::O => {
            let (bind, a) = convert(0, &m.params[0], quote!(arg), false);
            let checked_call_1 = m.checked_call(quote!(#call_path(#recv_arg #ctx_arg #a)));
            (
                quote! {
                    #[inline(always)]
                    unsafe extern "C" fn __hpy_impl(ctx: *mut #sys::HPyContext, _self: #sys::HPy, arg: #sys::HPy) -> #sys::HPy {
                        #params_mod
                        // SAFETY: the runtime calls this with the context of the current call
                        // and `arg` borrowed for the call.
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #name, |ctx| {
                            #recv_bind
                                #bind
                                #into_return(#checked_call_1, ctx)
                            })
                        }
                    }
                },
                quote! {
                    unsafe extern "C" fn __hpy_trampoline(
                        slf: *mut #sys::cpy_PyObject,
                        arg: *mut #sys::cpy_PyObject,
                    ) -> *mut #sys::cpy_PyObject {
                        // SAFETY: CPython calls this as METH_O.
                        unsafe { ::hpy::impl_::trampoline_o(slf, arg, __hpy_impl) }
                    }
                },
                quote!(#sys::HPyFunc_O),
                quote!(erase_o),
                quote!(erase_noargs_trampoline),
            )
        }
        Convention::VarArgs => {
            let max = m.params.len();
            let min = m.params.iter().filter(|p| p.required()).count();
            let (binds, args): (Vec<TokenStream>, Vec<TokenStream>) = m
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    if p.required() {
                        convert(i, p, quote!(*args.add(#i)), false)
                    } else {
                        convert(
                            i,
                            p,
                            quote!(if #i < nargs { *args.add(#i) } else { #sys::HPy::NULL }),
                            true,
                        )
                    }
                })
                .unzip();
            let checked_call_n = m.checked_call(quote!(#call_path(#recv_arg #ctx_arg #(#args),*)));
            (
                quote! {
                    #[inline(always)]
                    unsafe extern "C" fn __hpy_impl(
                        ctx: *mut #sys::HPyContext,
                        _self: #sys::HPy,
                        args: *const #sys::HPy,
                        nargs: usize,
                    ) -> #sys::HPy {
                        #params_mod
                        // SAFETY: the runtime calls this with the context of the current call
                        // and `nargs` borrowed handles at `args`; only indices below `nargs`
                        // are read (checked first).
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #name, |ctx| {
                            #recv_bind
                                #cls_shift
                                ::hpy::impl_::check_positional(#name, nargs, #min, #max)?;
                                #(#binds)*
                                #into_return(#checked_call_n, ctx)
                            })
                        }
                    }
                },
                quote! {
                    unsafe extern "C" fn __hpy_trampoline(
                        slf: *mut #sys::cpy_PyObject,
                        args: *const *mut #sys::cpy_PyObject,
                        nargs: isize,
                    ) -> *mut #sys::cpy_PyObject {
                        // SAFETY: CPython calls this as METH_FASTCALL.
                        unsafe { ::hpy::impl_::trampoline_varargs(slf, args, nargs, __hpy_impl) }
                    }
                },
                quote!(#sys::HPyFunc_VARARGS),
                quote!(erase_varargs),
                quote!(erase_varargs_trampoline),
            )
        }
        Convention::Keywords => {
            let regular: Vec<&Param> = m.params.iter().filter(|p| !p.is_var()).collect();
            let n = regular.len();
            let names: Vec<String> = regular.iter().map(|p| p.ident.to_string()).collect();
            let required: Vec<bool> = regular.iter().map(|p| p.required()).collect();
            let positional_only = regular
                .iter()
                .take_while(|p| p.kind == Kind::PositionalOnly)
                .count();
            let max_positional = regular
                .iter()
                .take_while(|p| !matches!(p.kind, Kind::KeywordOnly))
                .count();
            let var_positional = m.params.iter().any(|p| p.kind == Kind::VarPositional);
            let var_keyword = m.params.iter().any(|p| p.kind == Kind::VarKeyword);
            let has_var = var_positional || var_keyword;
            let slots: Vec<Ident> = (0..n).map(|i| format_ident!("__hpy_raw{}", i)).collect();
            let mut slot = 0;
            let (binds, args): (Vec<TokenStream>, Vec<TokenStream>) = m
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let h = format_ident!("__hpy_arg{}", i);
                    let ty_span = p.ty.span();
                    match p.kind {
                        Kind::VarPositional => {
                            let holder = holder_bind(p);
                            (
                                quote!(let #h = &__hpy_var.args; #holder),
                                extract(p, quote!(#h)),
                            )
                        }
                        Kind::VarKeyword => {
                            let some = extract(p, quote!(h));
                            let holder = holder_bind(p);
                            (
                                quote!(let #h = &__hpy_var.kwargs; #holder),
                                quote_spanned! {ty_span=>
                                    match #h {
                                        ::core::option::Option::Some(h) => #some,
                                        ::core::option::Option::None => ::core::option::Option::None,
                                    }
                                },
                            )
                        }
                        _ => {
                            let raw = &slots[slot];
                            slot += 1;
                            convert(i, p, quote!(#raw), !p.required())
                        }
                    }
                })
                .unzip();
            let parse = if has_var {
                quote! {
                    let ([#(#slots),*], __hpy_var) =
                        ::hpy::impl_::parse_var_keywords::<#n>(ctx, &SPEC, args, nargs, kwnames)?;
                }
            } else {
                quote! {
                    let [#(#slots),*] = ::hpy::impl_::parse_keywords::<#n>(ctx, &SPEC, args, nargs, kwnames)?;
                }
            };
            let call = m.checked_call(quote!(#call_path(#recv_arg #ctx_arg #(#args),*)));
            if m.is_init {
                let spec = quote! {
                    static SPEC: ::hpy::impl_::KeywordSpec = ::hpy::impl_::KeywordSpec {
                        func: #name,
                        params: &[#(#names),*],
                        positional_only: #positional_only,
                        max_positional: #max_positional,
                        required: &[#(#required),*],
                        var_positional: #var_positional,
                        var_keyword: #var_keyword,
                    };
                };
                return Ok(init_def_block(
                    name,
                    &spec,
                    &params_mod,
                    &recv_bind,
                    &parse,
                    &binds,
                    &call,
                ));
            }
            if m.is_new {
                return new_def_block(
                    m,
                    name,
                    &names,
                    &required,
                    positional_only,
                    max_positional,
                    var_positional,
                    var_keyword,
                    &params_mod,
                    &parse,
                    &binds,
                    &call,
                );
            }
            (
                quote! {
                    #[inline(always)]
                    unsafe extern "C" fn __hpy_impl(
                        ctx: *mut #sys::HPyContext,
                        _self: #sys::HPy,
                        args: *const #sys::HPy,
                        nargs: usize,
                        kwnames: #sys::HPy,
                    ) -> #sys::HPy {
                        static SPEC: ::hpy::impl_::KeywordSpec = ::hpy::impl_::KeywordSpec {
                            func: #name,
                            params: &[#(#names),*],
                            positional_only: #positional_only,
                            max_positional: #max_positional,
                            required: &[#(#required),*],
                            var_positional: #var_positional,
                            var_keyword: #var_keyword,
                        };
                        #params_mod
                        // SAFETY: the runtime calls this with the context of the current call,
                        // `nargs` positional handles at `args` followed by one per keyword in
                        // `kwnames`, all borrowed for the call; the parser returns only those
                        // (or NULL for a parameter not given).
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #name, |ctx| {
                            #recv_bind
                                #cls_shift
                                #parse
                                #(#binds)*
                                #into_return(#call, ctx)
                            })
                        }
                    }
                },
                quote! {
                    unsafe extern "C" fn __hpy_trampoline(
                        slf: *mut #sys::cpy_PyObject,
                        args: *const *mut #sys::cpy_PyObject,
                        nargsf: usize,
                        kwnames: *mut #sys::cpy_PyObject,
                    ) -> *mut #sys::cpy_PyObject {
                        // SAFETY: CPython calls this as METH_FASTCALL | METH_KEYWORDS.
                        unsafe { ::hpy::impl_::trampoline_keywords(slf, args, nargsf, kwnames, __hpy_impl) }
                    }
                },
                quote!(#sys::HPyFunc_KEYWORDS),
                quote!(erase_keywords),
                quote!(erase_keywords_trampoline),
            )
        }
    };

    // A function outside any module `mod` joins its crate's module(s) through
    // `inventory`; that needs a `#[hpy_module]` at the crate root, whose
    // expansion brings this marker there.
    let submit = match &m.free {
        None => quote!(),
        Some(module) => {
            let module = match module {
                Some(m) => quote!(::core::option::Option::Some(#m)),
                None => quote!(::core::option::Option::None),
            };
            quote_spanned! {span=>
                const _: () = crate::HPY_METHODS_OUTSIDE_THE_MODULE_MOD_NEED_A_HPY_MODULE_AT_THE_CRATE_ROOT;
                ::hpy::impl_::inventory::submit! {
                    ::hpy::impl_::Submission {
                        module_path: ::core::module_path!(),
                        module: #module,
                        item: ::hpy::impl_::Contribution::Method(&#def),
                    }
                }
            }
        }
    };

    let block = if m.iternext_slot {
        quote! {{
            #impl_fn
            // The impl as `tp_iternext`: the end is NULL without an exception
            // (CPython's protocol), not a `StopIteration` made to be cleared.
            #[inline(always)]
            unsafe extern "C" fn __hpy_impl_end(ctx: *mut #sys::HPyContext, _self: #sys::HPy) -> #sys::HPy {
                // SAFETY: called by `__hpy_iternext` with the context of the call.
                unsafe {
                    ::hpy::impl_::run_method(ctx, #name, |ctx| {
                        #recv_bind
                        ::hpy::impl_::IntoIterNext::into_next_or_end(#checked_call, ctx)
                    })
                }
            }
            unsafe extern "C" fn __hpy_iternext(
                slf: *mut #sys::cpy_PyObject,
            ) -> *mut #sys::cpy_PyObject {
                // SAFETY: CPython calls this as `tp_iternext`.
                unsafe { ::hpy::impl_::trampoline_iternext(slf, __hpy_impl_end) }
            }
            ::hpy::impl_::StaticDef::slot(
                ::hpy::impl_::sys::HPY_RS_tp_iternext,
                ::hpy::impl_::#erase_impl(__hpy_impl),
                ::hpy::impl_::erase_iternext_trampoline(__hpy_iternext),
            )
        }}
    } else if m.call_slot {
        quote! {{
            #impl_fn
            #trampoline_fn
            ::hpy::impl_::StaticDef::slot(
                ::hpy::impl_::sys::HPy_tp_call,
                ::hpy::impl_::#erase_impl(__hpy_impl),
                ::hpy::impl_::#erase_tramp(__hpy_trampoline),
            )
        }}
    } else {
        quote! {{
            #impl_fn
            #trampoline_fn
            ::hpy::impl_::StaticDef::method(
                #py_name,
                #doc_lit,
                #signature,
                ::hpy::impl_::#erase_impl(__hpy_impl),
                ::hpy::impl_::#erase_tramp(__hpy_trampoline),
            )
        }}
    };
    if m.self_ty.is_some() {
        return Ok(block);
    }
    let stub = crate::stub::submit(&[format!(
        "F\t{}\t{}\t{}",
        m.py_name,
        m.stub_params(),
        m.stub_return()
    )]);
    Ok(quote! {
        #func

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis static #def: ::hpy::impl_::StaticDef = #block;

        #submit

        #[doc(hidden)]
        const _: () = {
            #stub
        };
    })
}

/// The `tp_new` slot of a `#[new]` function: its arguments (an array and a
/// dict) are parsed as a KEYWORDS call's, and what it returns goes into a new
/// instance of the type it was called on (the class or a Python subclass).
#[allow(clippy::too_many_arguments)]
fn new_def_block(
    m: &Method,
    name: &str,
    names: &[String],
    required: &[bool],
    positional_only: usize,
    max_positional: usize,
    var_positional: bool,
    var_keyword: bool,
    params_mod: &TokenStream,
    parse: &TokenStream,
    binds: &[TokenStream],
    call: &TokenStream,
) -> syn::Result<TokenStream> {
    let sys = quote!(::hpy::impl_::sys);
    let self_ty = m.self_ty.as_ref().expect("#[new] is a method of a class");
    Ok(quote! {{
        #[inline(always)]
        unsafe extern "C" fn __hpy_impl(
            ctx: *mut #sys::HPyContext,
            _self: #sys::HPy,
            args: *const #sys::HPy,
            nargs: #sys::HPy_ssize_t,
            kw: #sys::HPy,
        ) -> #sys::HPy {
            static SPEC: ::hpy::impl_::KeywordSpec = ::hpy::impl_::KeywordSpec {
                func: #name,
                params: &[#(#names),*],
                positional_only: #positional_only,
                max_positional: #max_positional,
                required: &[#(#required),*],
                var_positional: #var_positional,
                var_keyword: #var_keyword,
            };
            #params_mod
            // SAFETY: the runtime calls `tp_new` with the context of the call, the
            // type, `nargs` positional handles at `args` and a dict (or NULL) of
            // keywords, all borrowed for the call; `_self` is the type, a subclass
            // of this class (or the class), whose payload is this class's.
            unsafe {
                ::hpy::impl_::run_method(ctx, #name, |ctx| {
                    let __hpy_call = ::hpy::impl_::dict_call(ctx, args, nargs, kw)?;
                    // (No keywords without `kw`: said on the raw argument, the
                    // common call's test folds into `dict_call`'s.)
                    let (args, nargs, kwnames) = (
                        __hpy_call.args(),
                        __hpy_call.nargs(),
                        if kw.is_null() { #sys::HPy::NULL } else { __hpy_call.kwnames() },
                    );
                    #parse
                    #(#binds)*
                    let __hpy_value = ::hpy::impl_::IntoNew::<#self_ty>::into_new(#call)?;
                    let __hpy_type = ::hpy::impl_::borrow_arg(ctx, _self);
                    ::hpy::impl_::new_instance_of::<#self_ty>(ctx, &__hpy_type, __hpy_value)
                        .map(::hpy::Handle::into_raw)
                })
            }
        }
        unsafe extern "C" fn __hpy_trampoline(
            self_: *mut #sys::cpy_PyObject,
            args: *mut #sys::cpy_PyObject,
            kw: *mut #sys::cpy_PyObject,
        ) -> *mut #sys::cpy_PyObject {
            // SAFETY: CPython calls this as `tp_new`.
            unsafe { ::hpy::impl_::trampoline_new(self_, args, kw, __hpy_impl) }
        }
        ::hpy::impl_::StaticDef::slot(
            #sys::HPy_tp_new,
            ::hpy::impl_::erase_new(__hpy_impl),
            ::hpy::impl_::erase_new_trampoline(__hpy_trampoline),
        )
    }})
}

/// The `tp_init` slot of an `__init__` method: its arguments (an array and a
/// dict) are parsed as a KEYWORDS call's; it returns `()` or `Result<()>`.
fn init_def_block(
    name: &str,
    spec: &TokenStream,
    params_mod: &TokenStream,
    recv_bind: &TokenStream,
    parse: &TokenStream,
    binds: &[TokenStream],
    call: &TokenStream,
) -> TokenStream {
    let sys = quote!(::hpy::impl_::sys);
    quote! {{
        #[inline(always)]
        unsafe extern "C" fn __hpy_impl(
            ctx: *mut #sys::HPyContext,
            _self: #sys::HPy,
            args: *const #sys::HPy,
            nargs: #sys::HPy_ssize_t,
            kw: #sys::HPy,
        ) -> ::core::ffi::c_int {
            #spec
            #params_mod
            // SAFETY: the runtime calls `tp_init` with the context of the call,
            // the instance, `nargs` positional handles at `args` and a dict (or
            // NULL) of keywords, all borrowed for the call.
            unsafe {
                ::hpy::impl_::run_inquiry(ctx, #name, |ctx| {
                    let __hpy_call = ::hpy::impl_::dict_call(ctx, args, nargs, kw)?;
                    // (No keywords without `kw`: said on the raw argument, the
                    // common call's test folds into `dict_call`'s.)
                    let (args, nargs, kwnames) = (
                        __hpy_call.args(),
                        __hpy_call.nargs(),
                        if kw.is_null() { #sys::HPy::NULL } else { __hpy_call.kwnames() },
                    );
                    #recv_bind
                    #parse
                    #(#binds)*
                    ::hpy::impl_::IntoSetResult::into_set_result(#call)
                })
            }
        }
        unsafe extern "C" fn __hpy_trampoline(
            self_: *mut #sys::cpy_PyObject,
            args: *mut #sys::cpy_PyObject,
            kw: *mut #sys::cpy_PyObject,
        ) -> ::core::ffi::c_int {
            // SAFETY: CPython calls this as `tp_init`.
            unsafe { ::hpy::impl_::trampoline_init(self_, args, kw, __hpy_impl) }
        }
        ::hpy::impl_::StaticDef::slot(
            #sys::HPy_tp_init,
            ::hpy::impl_::erase_init(__hpy_impl),
            ::hpy::impl_::erase_init_trampoline(__hpy_trampoline),
        )
    }}
}

/// The local that holds the borrow of reference parameter `ident` (snake
/// case for any parameter name: `_args` gives `__hpy_holder_u_args`).
fn holder_ident(ident: &Ident) -> Ident {
    let name = ident.to_string();
    if name.starts_with('_') {
        format_ident!("__hpy_holder_u{}", name)
    } else {
        format_ident!("__hpy_holder_{}", name)
    }
}

/// The expression that converts the argument handle `h` to parameter
/// `ident` of type `ty` (of the function named `func` in errors), followed by
/// `?` if `try_` (else it is a `Result`). A reference parameter (`&str`,
/// `&Point`, `&mut Point`, ...) converts through `RefParameter` or
/// `MutParameter` with a holder (see [`holder_decl`]) that keeps the borrow
/// for the call; others through `Parameter`. Both name the parameter in their
/// compile errors through the unit struct `__hpy_params::<ident>`.
pub(crate) fn extract_expr(
    ident: &Ident,
    ty: &Type,
    h: TokenStream,
    func: &str,
    try_: bool,
) -> TokenStream {
    let arg_name = ident.to_string();
    let holder = holder_ident(ident);
    // The `?` carries the type's span too: type errors then point at it.
    let tail = if try_ {
        quote_spanned!(ty.span()=> ?)
    } else {
        quote!()
    };
    match ty {
        Type::Reference(r) => {
            let elem = erase_lifetimes(r.elem.to_token_stream());
            let tr = if r.mutability.is_some() {
                quote!(MutParameter)
            } else {
                quote!(RefParameter)
            };
            quote_spanned! {ty.span()=>
                <#elem as ::hpy::impl_::#tr<'_, '_, __hpy_params::#ident>>::extract(#h, &mut #holder, #func, #arg_name)#tail
            }
        }
        _ => quote_spanned! {ty.span()=>
            <_ as ::hpy::impl_::Parameter<'_, '_, __hpy_params::#ident>>::extract(#h, #func, #arg_name)#tail
        },
    }
}

/// The holder a reference parameter converts into (declared after the
/// argument's handle, which it borrows); nothing for other parameters.
pub(crate) fn holder_decl(ident: &Ident, ty: &Type) -> TokenStream {
    if matches!(ty, Type::Reference(_)) {
        let holder = holder_ident(ident);
        quote!(let mut #holder = ::core::option::Option::None;)
    } else {
        quote!()
    }
}

/// `ty` with every named lifetime replaced by `'_` (the function's own
/// lifetimes are not in scope where the expansion names the type).
fn erase_lifetimes(ty: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let mut out = Vec::new();
    let mut tokens = ty.into_iter().peekable();
    while let Some(t) = tokens.next() {
        match t {
            TokenTree::Punct(p) if p.as_char() == '\'' => {
                if matches!(tokens.peek(), Some(TokenTree::Ident(_))) {
                    tokens.next();
                }
                out.push(TokenTree::Punct(p));
                out.push(TokenTree::Ident(Ident::new("_", Span::call_site())));
            }
            TokenTree::Group(g) => {
                let mut ng = Group::new(g.delimiter(), erase_lifetimes(g.stream()));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// The definition of a method of a class: the `{ ... StaticDef::method(..) }`
/// block (its impl function and trampoline inside).
pub(crate) fn method_def_block(m: &Method) -> syn::Result<TokenStream> {
    generate(m)
}

/// What calls the user's function: its path, the `let`s that borrow the
/// receiver, and the receiver argument.
fn receiver_parts(m: &Method) -> (TokenStream, TokenStream, TokenStream) {
    let fn_ident = &m.func.sig.ident;
    let Some(self_ty) = &m.self_ty else {
        return (quote!(#fn_ident), quote!(), quote!());
    };
    let path = quote!(<#self_ty>::#fn_ident);
    let slf = quote!(let __hpy_slf = ::hpy::impl_::borrow_arg(ctx, _self););
    if m.python_free() {
        let peek = m.peek_fn();
        return (
            path,
            quote!(#slf let __hpy_recv = #peek::<#self_ty>(&__hpy_slf)?;),
            quote!(__hpy_recv,),
        );
    }
    match m.receiver {
        Receiver::None => (path, quote!(), quote!()),
        Receiver::Ref => (
            path,
            quote!(#slf let __hpy_recv = ::hpy::impl_::self_ref::<#self_ty>(&__hpy_slf)?;),
            quote!(&*__hpy_recv,),
        ),
        Receiver::Mut => (
            path,
            quote!(#slf let mut __hpy_recv = ::hpy::impl_::self_mut::<#self_ty>(&__hpy_slf)?;),
            quote!(&mut *__hpy_recv,),
        ),
        Receiver::Handle => (path, slf, quote!(&*__hpy_slf,)),
        Receiver::Cls => (path, quote!(), quote!(&*__hpy_cls,)),
        Receiver::RefGuard => (
            path,
            quote!(#slf let __hpy_recv = ::hpy::impl_::self_ref::<#self_ty>(&__hpy_slf)?;),
            quote!(__hpy_recv,),
        ),
        Receiver::MutGuard => (
            path,
            quote!(#slf let __hpy_recv = ::hpy::impl_::self_mut::<#self_ty>(&__hpy_slf)?;),
            quote!(__hpy_recv,),
        ),
    }
}
