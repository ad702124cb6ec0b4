//! `#[hpy_method]`: parsing, checking and expansion.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
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
}

enum MethodOption {
    Name(LitStr),
    Signature(Signature),
}

impl Parse for MethodOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input
            .parse::<Token![=]>()
            .map_err(|e| syn::Error::new(e.span(), format!("expected `{key} = ...`")))?;
        match key.to_string().as_str() {
            "name" => Ok(MethodOption::Name(input.parse()?)),
            "signature" => Ok(MethodOption::Signature(input.parse()?)),
            other => Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown #[hpy_method] option `{other}`: expected `name = \"...\"` or `signature = (...)`"
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
            }
        }
        Ok(opts)
    }
}

/// One Python-visible parameter.
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
        self.default.is_none() && !self.is_option
    }
}

/// The calling convention chosen for a method.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Convention {
    NoArgs,
    O,
    VarArgs,
    Keywords,
}

/// A checked `#[hpy_method]` function.
pub(crate) struct Method {
    func: ItemFn,
    py_name: String,
    takes_ctx: bool,
    params: Vec<Param>,
    convention: Convention,
    text_signature: String,
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

/// Checks the function and its options, collecting every error.
pub(crate) fn analyze(opts: MethodOptions, func: ItemFn) -> syn::Result<Method> {
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
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(r) => errors.push(syn::Error::new(
                r.span(),
                "#[hpy_method] functions cannot take `self`: write a free function (module functions have no `self`)",
            )),
            FnArg::Typed(pt) => {
                if is_context_ref(&pt.ty) {
                    if i == 0 {
                        takes_ctx = true;
                    } else {
                        errors.push(syn::Error::new(pt.ty.span(), "the `&Context` parameter must be the first one"));
                    }
                    continue;
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
        if p.kind == Kind::KeywordOnly {
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

    if let Some(first) = errors.pop() {
        let mut combined = first;
        for e in errors {
            combined.combine(e);
        }
        return Err(combined);
    }

    let convention = if has_signature && params.iter().any(|p| p.kind != Kind::PositionalOnly) {
        Convention::Keywords
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
    let text_signature = text_signature(&params);
    Ok(Method {
        func,
        py_name,
        takes_ctx,
        params,
        convention,
        text_signature,
    })
}

/// Applies `signature = (...)` to the parameters, checking that it names them all, in order.
fn apply_signature(signature: Signature, params: &mut [Param]) -> syn::Result<()> {
    let mut kind = Kind::PositionalOrKeyword;
    let mut index = 0;
    let mut seen_slash = false;
    for item in signature.items {
        match item {
            SigItem::Slash(span) => {
                if seen_slash || kind == Kind::KeywordOnly {
                    return Err(syn::Error::new(span, "`/` must come once, before `*`"));
                }
                seen_slash = true;
                for p in params[..index].iter_mut() {
                    p.kind = Kind::PositionalOnly;
                }
            }
            SigItem::Star(span) => {
                if kind == Kind::KeywordOnly {
                    return Err(syn::Error::new(span, "`*` may come only once"));
                }
                kind = Kind::KeywordOnly;
            }
            SigItem::Param { name, default } => {
                let Some(p) = params.get_mut(index) else {
                    return Err(syn::Error::new(
                        name.span(),
                        format!(
                            "the signature names `{name}`, but the function has no more parameters"
                        ),
                    ));
                };
                if p.ident != name {
                    return Err(syn::Error::new(
                        name.span(),
                        format!(
                            "the signature does not match the parameters: expected `{}` here, found `{name}`",
                            p.ident
                        ),
                    ));
                }
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

fn text_signature(params: &[Param]) -> String {
    let mut out = Vec::new();
    let mut star_done = false;
    for (i, p) in params.iter().enumerate() {
        if p.kind == Kind::KeywordOnly && !star_done {
            out.push("*".to_owned());
            star_done = true;
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
    let name = &m.py_name;
    let span = fn_ident.span();
    let py_name = c_str_lit(name, span)?;
    let doc = doc_string(func);
    let full_doc = if doc.is_empty() {
        format!("{name}({})\n--\n\n", m.text_signature)
    } else {
        format!("{name}({})\n--\n\n{doc}", m.text_signature)
    };
    let doc_lit = c_str_lit(&full_doc, span)?;
    let ctx_arg = if m.takes_ctx { quote!(ctx,) } else { quote!() };

    // Per parameter: a `let` that borrows the argument handle for the whole call
    // (so `&str` and `&[u8]` views can point into it), and the expression that
    // converts it, naming the function and the parameter in errors.
    let convert = |i: usize,
                   p: &Param,
                   raw: TokenStream,
                   may_be_missing: bool|
     -> (TokenStream, TokenStream) {
        let arg_name = p.ident.to_string();
        let h = format_ident!("__hpy_arg{}", i);
        let ty_span = p.ty.span();
        if may_be_missing {
            let default = match &p.default {
                Some(d) => quote!(::core::convert::Into::into(#d)),
                None => quote!(::core::option::Option::None),
            };
            let bind = quote!(let #h = ::hpy::impl_::borrow_opt(ctx, #raw););
            let extract = quote_spanned! {ty_span=>
                match &#h {
                    ::core::option::Option::Some(h) => ::hpy::impl_::extract_arg(h, #name, #arg_name)?,
                    ::core::option::Option::None => #default,
                }
            };
            (bind, extract)
        } else {
            let bind = quote!(let #h = ::hpy::impl_::borrow_arg(ctx, #raw););
            let extract =
                quote_spanned!(ty_span=> ::hpy::impl_::extract_arg(&#h, #name, #arg_name)?);
            (bind, extract)
        }
    };

    let sys = quote!(::hpy::impl_::sys);
    let (impl_fn, trampoline_fn, signature, erase_impl, erase_tramp) = match m.convention {
        Convention::NoArgs => (
            quote! {
                unsafe extern "C" fn __hpy_impl(ctx: *mut #sys::HPyContext, _self: #sys::HPy) -> #sys::HPy {
                    // SAFETY: the runtime calls this with the context of the current call.
                    unsafe {
                        ::hpy::impl_::run_method(ctx, #name, |ctx| {
                            ::hpy::impl_::IntoReturn::into_return(#fn_ident(#ctx_arg), ctx)
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
            (
                quote! {
                    unsafe extern "C" fn __hpy_impl(ctx: *mut #sys::HPyContext, _self: #sys::HPy, arg: #sys::HPy) -> #sys::HPy {
                        // SAFETY: the runtime calls this with the context of the current call
                        // and `arg` borrowed for the call.
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #name, |ctx| {
                                #bind
                                ::hpy::impl_::IntoReturn::into_return(#fn_ident(#ctx_arg #a), ctx)
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
            (
                quote! {
                    unsafe extern "C" fn __hpy_impl(
                        ctx: *mut #sys::HPyContext,
                        _self: #sys::HPy,
                        args: *const #sys::HPy,
                        nargs: usize,
                    ) -> #sys::HPy {
                        // SAFETY: the runtime calls this with the context of the current call
                        // and `nargs` borrowed handles at `args`; only indices below `nargs`
                        // are read (checked first).
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #name, |ctx| {
                                ::hpy::impl_::check_positional(#name, nargs, #min, #max)?;
                                #(#binds)*
                                ::hpy::impl_::IntoReturn::into_return(#fn_ident(#ctx_arg #(#args),*), ctx)
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
            let n = m.params.len();
            let names: Vec<String> = m.params.iter().map(|p| p.ident.to_string()).collect();
            let required: Vec<bool> = m.params.iter().map(Param::required).collect();
            let positional_only = m
                .params
                .iter()
                .take_while(|p| p.kind == Kind::PositionalOnly)
                .count();
            let max_positional = m
                .params
                .iter()
                .take_while(|p| p.kind != Kind::KeywordOnly)
                .count();
            let slots: Vec<Ident> = (0..n).map(|i| format_ident!("__hpy_raw{}", i)).collect();
            let (binds, args): (Vec<TokenStream>, Vec<TokenStream>) = m
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let raw = &slots[i];
                    convert(i, p, quote!(#raw), !p.required())
                })
                .unzip();
            (
                quote! {
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
                        };
                        // SAFETY: the runtime calls this with the context of the current call,
                        // `nargs` positional handles at `args` followed by one per keyword in
                        // `kwnames`, all borrowed for the call; `parse_keywords` returns only
                        // those (or NULL for a parameter not given).
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #name, |ctx| {
                                let [#(#slots),*] = ::hpy::impl_::parse_keywords::<#n>(ctx, &SPEC, args, nargs, kwnames)?;
                                #(#binds)*
                                ::hpy::impl_::IntoReturn::into_return(#fn_ident(#ctx_arg #(#args),*), ctx)
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

    Ok(quote! {
        #func

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis static #def: ::hpy::impl_::StaticDef = {
            #impl_fn
            #trampoline_fn
            ::hpy::impl_::StaticDef::method(
                #py_name,
                #doc_lit,
                #signature,
                ::hpy::impl_::#erase_impl(__hpy_impl),
                ::hpy::impl_::#erase_tramp(__hpy_trampoline),
            )
        };
    })
}
