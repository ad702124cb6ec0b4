//! `#[hpy_module]`: parsing, checking and expansion.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Item, ItemFn, ItemMod, LitStr, Token};

use crate::method::{INLINE_MARK, c_str_lit, def_ident};

struct ModuleOptions {
    name: Option<LitStr>,
}

impl Parse for ModuleOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut name = None;
        let opts = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated(input)?;
        for opt in opts {
            if !opt.path.is_ident("name") {
                return Err(syn::Error::new(
                    opt.path.span(),
                    "unknown #[hpy_module] option: expected `name = \"...\"`",
                ));
            }
            if name.is_some() {
                return Err(syn::Error::new(opt.span(), "`name` is given twice"));
            }
            match opt.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => name = Some(s),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "expected a string: `name = \"mymodule\"`",
                    ));
                }
            }
        }
        Ok(ModuleOptions { name })
    }
}

fn is_attr(a: &syn::Attribute, name: &str) -> bool {
    a.path().segments.last().is_some_and(|s| s.ident == name)
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| is_attr(a, name))
}

/// Marks the attribute `name` consumed (so that the user's `use` of it stays
/// used, and it expands to the item unchanged); whether it was there.
fn take_attr(attrs: &mut [syn::Attribute], name: &str) -> bool {
    let mut found = false;
    for a in attrs.iter_mut().filter(|a| is_attr(a, name)) {
        let path = a.path().clone();
        a.meta = syn::parse_quote!(#path(__hpy_module_consumed));
        found = true;
    }
    found
}

/// Adds the hidden "inside a module `mod`" option to an `#[hpy_method]`.
fn mark_inline(attr: &mut syn::Attribute) {
    let mark = format_ident!("{}", INLINE_MARK);
    match &mut attr.meta {
        syn::Meta::Path(path) => {
            let path = path.clone();
            attr.meta = syn::parse_quote!(#path(#mark));
        }
        syn::Meta::List(list) => {
            let tokens = &list.tokens;
            list.tokens = if tokens.is_empty() {
                quote!(#mark)
            } else {
                quote!(#tokens, #mark)
            };
        }
        syn::Meta::NameValue(_) => {} // an error the method macro reports
    }
}

/// Whether `ty` names `hpy::Global` (`Global`, `hpy::Global`, `::hpy::Global`):
/// such statics are listed in `HPyModuleDef.globals`.
fn is_global_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Global" && s.arguments.is_none()),
        syn::Type::Group(g) => is_global_type(&g.elem),
        syn::Type::Paren(p) => is_global_type(&p.elem),
        _ => false,
    }
}

fn doc_string(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
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

/// Expands `#[hpy_module]`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(ts) => ts,
        Err(e) => {
            let err = e.to_compile_error();
            quote!(#item #err)
        }
    }
}

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut module: ItemMod = syn::parse2(item.clone()).map_err(|_| {
        let span = syn::parse2::<Item>(item)
            .ok()
            .map_or_else(Span::call_site, |i| i.span());
        syn::Error::new(
            span,
            "#[hpy_module] applies to an inline `mod name { ... }` block",
        )
    })?;
    let opts: ModuleOptions = syn::parse2(attr)?;
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new(
            module.span(),
            "#[hpy_module] needs the module's items inline: `mod name { ... }`, not `mod name;`",
        ));
    };

    let name = match &opts.name {
        Some(n) => n.value(),
        None => module.ident.to_string(),
    };
    let name_span = opts
        .name
        .as_ref()
        .map_or_else(|| module.ident.span(), LitStr::span);
    // `pkg.sub.mod` for a module inside a package: its exported symbols are
    // named after the last part, as HPy's loader looks them up.
    let valid_part = |part: &str| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !part.starts_with(|c: char| c.is_ascii_digit())
    };
    if !name.split('.').all(valid_part) {
        return Err(syn::Error::new(
            name_span,
            format!(
                "`{name}` is not a valid module name: use ASCII letters, digits and `_` (it names the exported symbols), and dots between the parts of a package's module (`pkg.module`)"
            ),
        ));
    }
    let symbol_name = name.rsplit('.').next().unwrap_or(&name).to_owned();

    let mut methods: Vec<Ident> = Vec::new();
    let mut globals: Vec<Ident> = Vec::new();
    let mut exports: Vec<(Ident, bool)> = Vec::new();
    let mut init: Option<ItemFn> = None;
    let mut errors: Vec<syn::Error> = Vec::new();
    for item in items.iter_mut() {
        match item {
            Item::Static(st) => {
                if is_global_type(&st.ty) {
                    if let syn::StaticMutability::Mut(m) = &st.mutability {
                        errors.push(syn::Error::new(
                            m.span(),
                            "a `Global` changes through `store(ctx, obj)`: declare it `static NAME: Global = Global::new();`, without `mut`",
                        ));
                    }
                    globals.push(st.ident.clone());
                }
                if take_attr(&mut st.attrs, "hpy_module_export") {
                    if let syn::StaticMutability::Mut(m) = &st.mutability {
                        errors.push(syn::Error::new(
                            m.span(),
                            "a `static mut` cannot be exported: its value could change after import",
                        ));
                    }
                    exports.push((st.ident.clone(), true));
                }
                continue;
            }
            Item::Const(c) => {
                if take_attr(&mut c.attrs, "hpy_module_export") {
                    exports.push((c.ident.clone(), false));
                }
                continue;
            }
            Item::Fn(_) => {}
            other => {
                if let Item::Struct(x) = other {
                    // A class inside the `mod` needs no crate-root marker.
                    if let Some(attr) = x.attrs.iter_mut().find(|a| is_attr(a, "hpy_class")) {
                        mark_inline(attr);
                    }
                }
                let attrs: Option<&mut Vec<syn::Attribute>> = match other {
                    Item::Use(u) => Some(&mut u.attrs),
                    Item::Struct(x) => Some(&mut x.attrs),
                    Item::Enum(x) => Some(&mut x.attrs),
                    Item::Mod(x) => Some(&mut x.attrs),
                    _ => None,
                };
                if let Some(attrs) = attrs {
                    if let Some(a) = attrs.iter().find(|a| is_attr(a, "hpy_module_export")) {
                        errors.push(syn::Error::new_spanned(
                            a,
                            "#[hpy_module_export] exports a `const` or a `static` (a function outside the `mod` joins the module by itself)",
                        ));
                    }
                    take_attr(attrs, "hpy_module_export");
                }
                continue;
            }
        }
        let Item::Fn(func) = item else { continue };
        if let Some(attr) = func.attrs.iter_mut().find(|a| is_attr(a, "hpy_method")) {
            mark_inline(attr);
            methods.push(func.sig.ident.clone());
        }
        if has_attr(&func.attrs, "hpy_init") {
            // Keep the attribute (so the user's `use` of it stays used) but mark it
            // consumed: `hpy_init` then expands to the function unchanged.
            for a in func.attrs.iter_mut() {
                if is_attr(a, "hpy_init") {
                    let path = a.path().clone();
                    a.meta = syn::parse_quote!(#path(__hpy_module_consumed));
                }
            }
            if init.is_some() {
                errors.push(syn::Error::new(
                    func.sig.ident.span(),
                    "a #[hpy_module] can have only one #[hpy_init] function",
                ));
            } else {
                init = Some(func.clone());
            }
        }
    }
    // Reported next to the expansion (whose attributes are marked consumed,
    // so that they report nothing more).
    let mut errors = errors.into_iter();
    let item_errors = match errors.next() {
        Some(mut combined) => {
            combined.extend(errors);
            combined.to_compile_error()
        }
        None => TokenStream::new(),
    };

    let sys = quote!(::hpy::impl_::sys);
    let method_defs: Vec<TokenStream> = methods
        .iter()
        .map(|m| {
            let def = def_ident(m);
            quote!(&#def)
        })
        .collect();

    // The exec slot: the SDK's part (exceptions of the crate, introspection),
    // the exported constants, then the user's `#[hpy_init]`.
    let user_init = match &init {
        None => quote!(::core::result::Result::Ok(())),
        Some(init) => {
            let init_ident = &init.sig.ident;
            let takes_ctx = match init.sig.inputs.len() {
                1 => false,
                2 => true,
                _ => {
                    return Err(syn::Error::new(
                        init.sig.inputs.span(),
                        "the #[hpy_init] function takes the module, and optionally the context first: `fn init(ctx: &Context, module: &Handle<'_>) -> Result<()>`",
                    ));
                }
            };
            if let Some(FnArg::Receiver(r)) = init.sig.inputs.first() {
                return Err(syn::Error::new(
                    r.span(),
                    "the #[hpy_init] function cannot take `self`",
                ));
            }
            let call = if takes_ctx {
                quote!(#init_ident(ctx, &module))
            } else {
                quote!(#init_ident(&module))
            };
            quote!(::hpy::impl_::IntoInitResult::into_init_result(#call))
        }
    };
    let export_calls: Vec<TokenStream> = exports
        .iter()
        .map(|(ident, is_static)| {
            let attr_name = ident.to_string();
            let value = if *is_static {
                quote!(&#ident)
            } else {
                quote!(#ident)
            };
            quote_spanned!(ident.span()=> module.set_attr(#attr_name, #value)?;)
        })
        .collect();
    let exec_name = match &init {
        Some(init) => format!("{name}.{}", init.sig.ident),
        None => format!("{name} (import)"),
    };

    let n_globals = globals.len();
    let n_methods = method_defs.len();
    // `&NAME` as a `&Global`: a static of another type named `Global` is a type
    // error that points at it.
    let global_refs: Vec<TokenStream> = globals.iter().map(|g| quote!(&#g)).collect();
    let doc = doc_string(&module.attrs);
    let doc = if doc.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let lit = c_str_lit(&doc, module.ident.span())?;
        quote!(::core::option::Option::Some(#lit))
    };
    let major = format_ident!(
        "get_required_hpy_major_version_{}",
        symbol_name,
        span = name_span
    );
    let minor = format_ident!(
        "get_required_hpy_minor_version_{}",
        symbol_name,
        span = name_span
    );
    let init_ctx = format_ident!("HPyInitGlobalContext_{}", symbol_name, span = name_span);
    let init_fn = format_ident!("HPyInit_{}", symbol_name, span = name_span);
    let py_init = format_ident!("PyInit_{}", symbol_name, span = name_span);
    // The full name, for `cargo hpy build` to lay the module out in its
    // package's folder (it finds this string in the library).
    let marker_ident = format_ident!("HPY_RS_MODULE_NAME_{}", symbol_name, span = name_span);
    let marker = format!("hpy-rs module {name}\0");
    let marker_len = marker.len();
    let marker_lit = syn::LitByteStr::new(marker.as_bytes(), name_span);

    let extra = quote! {
        #[doc(hidden)]
        static __HPY_MOD_EXEC: ::hpy::impl_::StaticDef = {
            unsafe extern "C" fn __hpy_impl(ctx: *mut #sys::HPyContext, module: #sys::HPy) -> ::core::ffi::c_int {
                // SAFETY: the runtime calls `HPy_mod_exec` with the context of the
                // call and the module object, borrowed for the call.
                unsafe {
                    ::hpy::impl_::run_inquiry(ctx, #exec_name, |ctx| {
                        let module = ::hpy::impl_::borrow_arg(ctx, module);
                        ::hpy::impl_::module_exec(ctx, &module, &__HPY_MODULE_SPEC)?;
                        #(#export_calls)*
                        #user_init
                    })
                }
            }
            unsafe extern "C" fn __hpy_trampoline(module: *mut #sys::cpy_PyObject) -> ::core::ffi::c_int {
                // SAFETY: CPython calls `Py_mod_exec` with the module object.
                unsafe { ::hpy::impl_::trampoline_inquiry(module, __hpy_impl) }
            }
            ::hpy::impl_::StaticDef::slot(
                #sys::HPy_mod_exec,
                ::hpy::impl_::erase_inquiry(__hpy_impl),
                ::hpy::impl_::erase_inquiry_trampoline(__hpy_trampoline),
            )
        };
        #[doc(hidden)]
        static __HPY_METHODS: [&::hpy::impl_::StaticDef; #n_methods] = [#(#method_defs),*];
        #[doc(hidden)]
        static __HPY_GLOBALS: [&::hpy::Global; #n_globals] = [#(#global_refs),*];
        #[doc(hidden)]
        static __HPY_MODULE_SPEC: ::hpy::impl_::ModuleSpec = ::hpy::impl_::ModuleSpec {
            name: #name,
            module_path: ::core::module_path!(),
            doc: #doc,
            methods: &__HPY_METHODS,
            globals: &__HPY_GLOBALS,
            exec: &__HPY_MOD_EXEC,
        };
        #[doc(hidden)]
        static __HPY_MODULE_DEF: ::hpy::impl_::ModuleDefCell = ::hpy::impl_::ModuleDefCell::new();

        /// The module's full name, for `cargo hpy build` (exported so that the
        /// linker keeps it).
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        #[used]
        pub static #marker_ident: [u8; #marker_len] = *#marker_lit;

        // The module's entry points: the four symbols of HPy's module
        // protocol, or, in a CPython-ABI build, `PyInit_<name>` (the `hpy`
        // crate picks, so that this expansion reads no cfg of its own).
        ::hpy::__hpy_module_entry_points! {
            major: #major,
            minor: #minor,
            init_context: #init_ctx,
            init: #init_fn,
            py_init: #py_init,
            spec: __HPY_MODULE_SPEC,
            def: __HPY_MODULE_DEF,
        }
    };

    let extra_items: syn::File = syn::parse2(extra)?;
    items.extend(extra_items.items);
    // Next to the `mod` (the crate root, for functions elsewhere to join): the
    // marker their expansion checks for.
    Ok(quote! {
        #module
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub use ::hpy::impl_::crate_marker::*;
        #item_errors
    })
}
