//! `#[hpy_class]` and `#[hpy_methods]`: parsing, checking and expansion.
//!
//! A class is a `ClassDef` (in `hpy::impl_`) that joins its module through
//! `inventory`, like a free function; every `#[hpy_methods]` block of it
//! submits its definitions the same way, from any file. The module's exec
//! slot makes the type (`HPyType_FromSpec`) from them.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, ImplItem, ItemFn, ItemImpl, ItemStruct, LitStr, Token, Type};

use crate::dunder::Dunder;
use crate::method::{
    Convention, INLINE_MARK, MethodOptions, Receiver, analyze_in, c_str_lit, method_def_block,
};

// ---------------------------------------------------------------------------
// #[hpy_class]

#[derive(Default)]
struct ClassOptions {
    name: Option<LitStr>,
    module: Option<LitStr>,
    frozen: bool,
    subclass: bool,
    unsendable: bool,
    dict: bool,
    weakref: bool,
    extends: Option<syn::Path>,
    inline: bool,
}

impl Parse for ClassOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = ClassOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "name" | "module" => {
                    input.parse::<Token![=]>()?;
                    let value: LitStr = input.parse()?;
                    let slot = if key == "name" {
                        &mut opts.name
                    } else {
                        &mut opts.module
                    };
                    if slot.is_some() {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("`{key}` is given twice"),
                        ));
                    }
                    *slot = Some(value);
                }
                "frozen" => opts.frozen = true,
                "subclass" => opts.subclass = true,
                "unsendable" => opts.unsendable = true,
                "dict" => opts.dict = true,
                "weakref" => opts.weakref = true,
                "extends" => {
                    input.parse::<Token![=]>()?;
                    if opts.extends.is_some() {
                        return Err(syn::Error::new(key.span(), "`extends` is given twice"));
                    }
                    opts.extends = Some(input.parse()?);
                }
                k if k == INLINE_MARK => opts.inline = true,
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown #[hpy_class] option `{other}`: expected `name = \"...\"`, `module = \"...\"`, `extends = ...`, `frozen`, `subclass`, `dict`, `weakref` or `unsendable`"
                        ),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(opts)
    }
}

/// `#[hpy(get, set, name = "...")]` on a field.
#[derive(Default)]
struct FieldOptions {
    get: bool,
    set: bool,
    name: Option<LitStr>,
}

fn field_options(attrs: &mut Vec<syn::Attribute>) -> syn::Result<Option<FieldOptions>> {
    let mut found: Option<FieldOptions> = None;
    let mut err: Option<syn::Error> = None;
    attrs.retain(|a| {
        if !a.path().is_ident("hpy") {
            return true;
        }
        let opts = found.get_or_insert_with(FieldOptions::default);
        let res = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("get") {
                opts.get = true;
            } else if meta.path.is_ident("set") {
                opts.set = true;
            } else if meta.path.is_ident("name") {
                opts.name = Some(meta.value()?.parse()?);
            } else {
                return Err(
                    meta.error("unknown field option: expected `get`, `set` or `name = \"...\"`")
                );
            }
            Ok(())
        });
        if let Err(e) = res {
            match &mut err {
                Some(all) => all.combine(e),
                None => err = Some(e),
            }
        }
        false
    });
    match err {
        Some(e) => Err(e),
        None => Ok(found),
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

fn optional_c_str(s: &str, span: Span) -> syn::Result<TokenStream> {
    if s.is_empty() {
        Ok(quote!(::core::option::Option::None))
    } else {
        let lit = c_str_lit(s, span)?;
        Ok(quote!(::core::option::Option::Some(#lit)))
    }
}

/// The span of the first identifier `name` in `tokens`, if any.
fn mentions(tokens: &TokenStream, name: &str) -> Option<Span> {
    for t in tokens.clone() {
        match t {
            proc_macro2::TokenTree::Ident(i) if i == name => return Some(i.span()),
            proc_macro2::TokenTree::Group(g) => {
                if let Some(s) = mentions(&g.stream(), name) {
                    return Some(s);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether `ty` is `Field` (or a path ending in it): an object reference.
fn is_field_type(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none()
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Field" && s.arguments.is_none())
        }
        _ => false,
    }
}

/// Expands `#[hpy_class]`.
/// Python's builtin exception types (`extends = ValueError`): those of `hpy::exc`.
const EXCEPTIONS: &[&str] = &[
    "BaseException",
    "Exception",
    "StopAsyncIteration",
    "StopIteration",
    "GeneratorExit",
    "ArithmeticError",
    "LookupError",
    "AssertionError",
    "AttributeError",
    "BufferError",
    "EOFError",
    "FloatingPointError",
    "OSError",
    "ImportError",
    "ModuleNotFoundError",
    "IndexError",
    "KeyError",
    "KeyboardInterrupt",
    "MemoryError",
    "NameError",
    "OverflowError",
    "RuntimeError",
    "RecursionError",
    "NotImplementedError",
    "SyntaxError",
    "IndentationError",
    "TabError",
    "ReferenceError",
    "SystemError",
    "SystemExit",
    "TypeError",
    "UnboundLocalError",
    "UnicodeError",
    "UnicodeEncodeError",
    "UnicodeDecodeError",
    "UnicodeTranslateError",
    "ValueError",
    "ZeroDivisionError",
    "BlockingIOError",
    "BrokenPipeError",
    "ChildProcessError",
    "ConnectionError",
    "ConnectionAbortedError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "FileExistsError",
    "FileNotFoundError",
    "InterruptedError",
    "IsADirectoryError",
    "NotADirectoryError",
    "PermissionError",
    "ProcessLookupError",
    "TimeoutError",
    "Warning",
    "UserWarning",
    "DeprecationWarning",
    "PendingDeprecationWarning",
    "SyntaxWarning",
    "RuntimeWarning",
    "FutureWarning",
    "ImportWarning",
    "UnicodeWarning",
    "BytesWarning",
    "ResourceWarning",
];

/// The base of `extends = <path>`: the type that stands for it, and whether
/// it is a builtin type (else another class).
fn base_of(extends: Option<&syn::Path>) -> (TokenStream, bool) {
    let Some(path) = extends else {
        return (quote!(::hpy::class::base::Object), true);
    };
    let last = path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let span = path.span();
    if path.segments.len() == 1 && path.leading_colon.is_none() {
        let marker = match last.as_str() {
            "object" => Some("Object"),
            "float" => Some("Float"),
            "str" => Some("Str"),
            "list" => Some("List"),
            "int" => Some("Int"),
            "tuple" => Some("Tuple"),
            _ => None,
        };
        if let Some(m) = marker {
            let m = Ident::new(m, span);
            return (quote_spanned!(span=> ::hpy::class::base::#m), true);
        }
        if EXCEPTIONS.contains(&last.as_str()) {
            let e = Ident::new(&last, span);
            return (quote_spanned!(span=> ::hpy::exc::#e), true);
        }
    }
    let from_hpy = path.segments.first().is_some_and(|s| s.ident == "hpy")
        && (EXCEPTIONS.contains(&last.as_str())
            || ["Object", "Float", "Str", "List", "Int", "Tuple"].contains(&last.as_str()));
    (path.to_token_stream(), from_hpy)
}

pub(crate) fn expand_class(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand_class(attr, item.clone()) {
        Ok(ts) => ts,
        Err(e) => {
            let err = e.to_compile_error();
            // Keep the struct (minus our field attributes) so that its uses
            // still resolve.
            match syn::parse2::<ItemStruct>(item) {
                Ok(mut st) => {
                    for f in st.fields.iter_mut() {
                        f.attrs.retain(|a| !a.path().is_ident("hpy"));
                    }
                    quote!(#st #err)
                }
                Err(_) => err,
            }
        }
    }
}

fn try_expand_class(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut st: ItemStruct = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[hpy_class] applies to a struct (its instances hold one)",
        )
    })?;
    let opts: ClassOptions = syn::parse2(attr)?;
    let mut errors: Vec<syn::Error> = Vec::new();
    if !st.generics.params.is_empty() {
        errors.push(syn::Error::new(
            st.generics.span(),
            "a #[hpy_class] cannot be generic (Python needs one concrete type), nor hold references: it lives as long as its Python object",
        ));
    }
    let ident = st.ident.clone();
    let name = opts
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), LitStr::value);
    let doc = doc_string(&st.attrs);

    // The class and its field properties, for type stubs.
    let stub_base = match opts.extends.as_ref().and_then(|p| p.segments.last()) {
        None => String::new(),
        Some(last) => match last.ident.to_string().as_str() {
            "object" => String::new(),
            builtin @ ("float" | "int" | "str" | "bytes") => builtin.to_owned(),
            "tuple" => "tuple[Any, ...]".to_owned(),
            "list" => "list[Any]".to_owned(),
            "dict" => "dict[Any, Any]".to_owned(),
            "set" => "set[Any]".to_owned(),
            other if EXCEPTIONS.contains(&other) => other.to_owned(),
            other => format!("@{other}@"),
        },
    };
    let mut stub_lines = vec![format!("C\t{ident}\t{name}\t{stub_base}")];
    // The getters and setters of the fields.
    let mut field_defs = Vec::new();
    let mut field_statics = Vec::new();
    // The `Field`s, which `tp_traverse` reports.
    let mut object_fields: Vec<TokenStream> = Vec::new();
    for (i, field) in st.fields.iter_mut().enumerate() {
        let member_tokens = match &field.ident {
            Some(id) => quote!(#id),
            None => {
                let index = syn::Index::from(i);
                quote!(#index)
            }
        };
        if let Some(h) = mentions(&field.ty.to_token_stream(), "Handle") {
            errors.push(syn::Error::new(
                h,
                "a class's struct holds Python objects in `hpy::Field`s, never in a `Handle` (a handle lives for one call)",
            ));
        }
        let is_field = is_field_type(&field.ty);
        if is_field {
            object_fields.push(member_tokens.clone());
        }
        let fopts = match field_options(&mut field.attrs) {
            Ok(Some(o)) => o,
            Ok(None) => continue,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let member = match &field.ident {
            Some(id) => quote!(#id),
            None => {
                let index = syn::Index::from(i);
                quote!(#index)
            }
        };
        let attr_name = match (&fopts.name, &field.ident) {
            (Some(n), _) => n.value(),
            (None, Some(id)) => id.to_string().trim_start_matches("r#").to_owned(),
            (None, None) => {
                errors.push(syn::Error::new(
                    field.span(),
                    "a field of a tuple struct needs a Python name: `#[hpy(get, name = \"...\")]`",
                ));
                continue;
            }
        };
        stub_lines.push(format!(
            "A\t{ident}\t{attr_name}\t{}\t{}",
            crate::stub::hint(&field.ty),
            if fopts.set { "rw" } else { "ro" }
        ));
        if !fopts.get && !fopts.set {
            errors.push(syn::Error::new(
                field.span(),
                "say what Python may do with the field: `#[hpy(get)]`, `#[hpy(set)]` or `#[hpy(get, set)]`",
            ));
            continue;
        }
        if fopts.set && opts.frozen {
            errors.push(syn::Error::new(
                field.span(),
                "a `frozen` class never changes: its fields cannot have `#[hpy(set)]`",
            ));
            continue;
        }
        let fty = &field.ty;
        let span = field.span();
        let err_name = format!("{name}.{attr_name}");
        let def = format_ident!("__HPY_FIELD_{}", i);
        let get_value = if is_field {
            quote! {
                // SAFETY: `__hpy_slf` is the object whose struct holds the field.
                let __hpy_value = unsafe { __hpy_recv.#member.__load_unchecked(&__hpy_slf) }?;
                ::hpy::impl_::IntoReturn::into_return(__hpy_value, ctx)
            }
        } else if member_type(fty).is_some() {
            // A number or `bool`: copied out while the borrow flag is only
            // checked (nothing runs during a copy; see `self_peek`), then
            // converted.
            quote! {
                let __hpy_value = ::hpy::impl_::copied(&__hpy_recv.#member);
                ::hpy::impl_::IntoReturn::into_return(__hpy_value, ctx)
            }
        } else {
            quote!(::hpy::impl_::IntoReturn::into_return(&__hpy_recv.#member, ctx))
        };
        let get_recv = if !is_field && member_type(fty).is_some() {
            quote!(let __hpy_recv = ::hpy::impl_::self_peek::<#ident>(&__hpy_slf)?;)
        } else {
            quote!(let __hpy_recv = ::hpy::impl_::self_ref::<#ident>(&__hpy_slf)?;)
        };
        let set_value = if is_field {
            quote! {
                let __hpy_recv = ::hpy::impl_::self_ref::<#ident>(&__hpy_slf)?;
                // SAFETY: `__hpy_slf` is the object whose struct holds the field.
                unsafe { __hpy_recv.#member.__store_unchecked(&__hpy_slf, &__hpy_value) };
            }
        } else {
            quote! {
                let __hpy_new: #fty =
                    ::hpy::impl_::extract_attribute(&__hpy_value, #name, #attr_name)?;
                let mut __hpy_recv = ::hpy::impl_::self_mut::<#ident>(&__hpy_slf)?;
                __hpy_recv.#member = __hpy_new;
            }
        };
        let getter = if fopts.get {
            Some(quote_spanned! {span=>
                    // (`inline(always)`: the trampoline calls the impl directly, in a
                    // CPython-ABI build and on a universal build's direct path; inlined there,
                    // a call saves a jump and a frame. The impl stays a function of its own
                    // for the runtimes that call it through the definition.)
                    #[inline(always)]
                    unsafe extern "C" fn __hpy_get(
                        ctx: *mut ::hpy::impl_::sys::HPyContext,
                        slf: ::hpy::impl_::sys::HPy,
                        _closure: *mut ::core::ffi::c_void,
                    ) -> ::hpy::impl_::sys::HPy {
                        // SAFETY: the runtime calls a getter with the call's context and
                        // an instance of the class, borrowed for the call.
                        unsafe {
                            ::hpy::impl_::run_method(ctx, #err_name, |ctx| {
                                let __hpy_slf = ::hpy::impl_::borrow_arg(ctx, slf);
                                #get_recv
                                #get_value
                            })
                        }
                    }
                    unsafe extern "C" fn __hpy_get_trampoline(
                        slf: *mut ::hpy::impl_::sys::cpy_PyObject,
                        closure: *mut ::core::ffi::c_void,
                    ) -> *mut ::hpy::impl_::sys::cpy_PyObject {
                        // SAFETY: CPython calls this as a getset's getter.
                        unsafe { ::hpy::impl_::trampoline_getter(slf, closure, __hpy_get) }
                    }
            })
        } else {
            None
        };
        let setter = if fopts.set {
            Some(quote_spanned! {span=>
                    #[inline(always)]
                    unsafe extern "C" fn __hpy_set(
                        ctx: *mut ::hpy::impl_::sys::HPyContext,
                        slf: ::hpy::impl_::sys::HPy,
                        value: ::hpy::impl_::sys::HPy,
                        _closure: *mut ::core::ffi::c_void,
                    ) -> ::core::ffi::c_int {
                        // SAFETY: the runtime calls a setter with the call's context, an
                        // instance of the class and the value (NULL: `del`), borrowed.
                        unsafe {
                            ::hpy::impl_::run_inquiry(ctx, #err_name, |ctx| {
                                let __hpy_slf = ::hpy::impl_::borrow_arg(ctx, slf);
                                let __hpy_value = ::hpy::impl_::borrow_opt(ctx, value)
                                    .ok_or_else(|| ::hpy::impl_::no_deleter::<#ident>(#attr_name))?;
                                #set_value
                                ::core::result::Result::Ok(())
                            })
                        }
                    }
                    unsafe extern "C" fn __hpy_set_trampoline(
                        slf: *mut ::hpy::impl_::sys::cpy_PyObject,
                        value: *mut ::hpy::impl_::sys::cpy_PyObject,
                        closure: *mut ::core::ffi::c_void,
                    ) -> ::core::ffi::c_int {
                        // SAFETY: CPython calls this as a getset's setter.
                        unsafe { ::hpy::impl_::trampoline_setter(slf, value, closure, __hpy_set) }
                    }
            })
        } else {
            None
        };
        let field_doc = doc_string(&field.attrs);
        // A number field of a frozen class is a read-only HPy member on
        // CPython: nothing ever borrows the struct mutably, so CPython may
        // read the field itself (as PyO3 does for frozen classes).
        let member = match member_type(fty) {
            Some(mt) if opts.frozen && !fopts.set => {
                let mt = Ident::new(mt, span);
                let name_lit = c_str_lit(&attr_name, span)?;
                let doc = optional_c_str(&field_doc, span)?;
                Some(quote! {
                    ::core::option::Option::Some(::hpy::impl_::StaticDef::member(
                        #name_lit,
                        ::hpy::impl_::sys::#mt,
                        <#ident as ::hpy::Class>::OFFSET
                            + ::hpy::impl_::value_offset::<#ident>()
                            + ::core::mem::offset_of!(#ident, #member),
                        true,
                        #doc,
                    ))
                })
            }
            _ => None,
        };
        field_statics.push(property_static(
            &def,
            &quote!(#ident),
            &attr_name,
            &field_doc,
            getter,
            setter,
            Some(member.unwrap_or_else(|| quote!(::core::option::Option::None))),
            span,
        )?);
        field_defs.push(def);
    }
    if let Some(mut all) = errors.pop() {
        for e in errors {
            all.combine(e);
        }
        return Err(all);
    }

    let module = match &opts.module {
        Some(m) => quote!(::core::option::Option::Some(#m)),
        None => quote!(::core::option::Option::None),
    };
    let frozen = opts.frozen;
    let subclass = opts.subclass;
    let unsendable = opts.unsendable;
    let dict = opts.dict;
    let weakref = opts.weakref;
    let has_fields = !object_fields.is_empty();
    let doc = optional_c_str(&doc, ident.span())?;
    let stub = crate::stub::submit(&stub_lines);
    let (base, builtin_base) = base_of(opts.extends.as_ref());
    let new_name = c_str_lit(&format!("{name}.__new__"), ident.span())?;
    let marker = if opts.inline {
        quote!()
    } else {
        quote_spanned! {ident.span()=>
            const _: () = crate::HPY_CLASSES_NEED_A_HPY_MODULE_AT_THE_CRATE_ROOT;
        }
    };
    // A struct made from Rust alone (`Point { .. }.into_py(ctx)`, or returned
    // by a function) is one whose bases need nothing: not a class that
    // extends another class.
    let into_py = if builtin_base {
        quote! {
            impl<'ctx> ::hpy::IntoPy<'ctx> for #ident {
                #[inline]
                fn into_py(self, ctx: &'ctx ::hpy::Context) -> ::hpy::Result<::hpy::Handle<'ctx>> {
                    ctx.new_instance(self)
                }
            }
        }
    } else {
        quote!()
    };
    let mutable = if frozen {
        quote!()
    } else {
        quote!(impl ::hpy::Mutable for #ident {})
    };
    let send_check = if unsendable {
        quote!()
    } else {
        quote_spanned! {ident.span()=>
            const _: fn() = ::hpy::impl_::assert_send::<#ident>;
        }
    };
    let extends_span = opts
        .extends
        .as_ref()
        .map_or_else(|| ident.span(), Spanned::span);
    let base_checks = quote_spanned! {extends_span=>
        const _: () = ::core::assert!(
            <#base as ::hpy::ClassBase>::SUBCLASS,
            "the base class is not `#[hpy_class(subclass)]`: no class may extend it",
        );
        const _: () = ::core::assert!(
            !<#base as ::hpy::ClassBase>::DICT_OR_WEAKREF,
            "no class may extend a class with `dict` or `weakref` (on CPython that class is a Python subclass of its HPy type); give the subclass the option instead",
        );
        const _: () = ::core::assert!(
            !(<#base as ::hpy::ClassBase>::IS_CLASS
                && ::core::matches!(<#base as ::hpy::ClassBase>::ROOT, ::hpy::class::base::Root::Builtin)),
            "a class cannot extend a class that extends a builtin type: PyPy 7.3 cannot make its instances",
        );
        const _: () = ::core::assert!(
            !::core::matches!(<#base as ::hpy::ClassBase>::ROOT, ::hpy::class::base::Root::Payloadless)
                || (::core::mem::size_of::<#ident>() == 0 && #frozen && !::core::mem::needs_drop::<#ident>()),
            "a class that extends `int` or `tuple` holds no data: it is a `frozen` unit struct (CPython keeps their items where a struct would go)",
        );
        const _: () = ::core::assert!(
            !(::core::matches!(<#base as ::hpy::ClassBase>::ROOT, ::hpy::class::base::Root::Builtin)
                && <#ident as ::hpy::ClassBase>::HAS_FIELDS),
            "a class that extends a builtin type cannot hold `Field`s: HPy 0.9 on CPython cannot traverse them without leaking the builtin's contents",
        );
    };
    Ok(quote! {
        #st

        #[doc(hidden)]
        const _: () = {
            const _: () = ::core::assert!(
                ::core::mem::align_of::<#ident>() <= 16,
                "a #[hpy_class] struct may be aligned to at most 16 bytes (HPy aligns instances to max_align_t)",
            );
            #marker
            #send_check
            #base_checks
            #(#field_statics)*

            // SAFETY: the definition below describes a type whose instances
            // carry a `ClassObject<Self>` at `OFFSET` of their payload, after
            // their bases' (`ClassParts::of` reads the layout from these
            // constants); every method expansion uses that type.
            unsafe impl ::hpy::Class for #ident {
                const NAME: &'static str = #name;
                const FROZEN: bool = #frozen;
                const SUBCLASS: bool = #subclass;
                const UNSENDABLE: bool = #unsendable;
                const DICT: bool = #dict;
                const WEAKREF: bool = #weakref;
                type Base = #base;
                const OFFSET: usize =
                    ::hpy::impl_::offset_after::<#ident>(<#base as ::hpy::ClassBase>::END);
                const HAS_FIELDS: bool = #has_fields;

                fn __def() -> &'static ::hpy::impl_::ClassDef {
                    static DESTROY: ::hpy::impl_::StaticDef = ::hpy::impl_::destroy_def::<#ident>();
                    static NO_NEW: ::hpy::impl_::StaticDef = ::hpy::impl_::no_new_def::<#ident>();
                    static TRAVERSE: ::hpy::impl_::StaticDef = ::hpy::impl_::traverse_def::<#ident>();
                    static FINALIZE: ::hpy::impl_::StaticDef = ::hpy::impl_::finalize_def::<#ident>();
                    static DEL: ::hpy::impl_::StaticDef = ::hpy::impl_::del_def::<#ident>();
                    static NEW_STATIC: ::hpy::impl_::StaticDef =
                        ::hpy::impl_::new_static_def::<#ident>(#new_name);
                    static DEF: ::hpy::impl_::ClassDef = ::hpy::impl_::ClassDef {
                        name: #name,
                        module: #module,
                        module_path: ::core::module_path!(),
                        doc: #doc,
                        subclass: #subclass,
                        dict: #dict,
                        weakref: #weakref,
                        properties: &[#(&#field_defs),*],
                        parts: ::hpy::impl_::ClassParts::of::<#ident>(
                            &DESTROY, &NO_NEW, &TRAVERSE, &FINALIZE, &DEL, &NEW_STATIC,
                        ),
                        global: ::hpy::Global::new(),
                        qualified_name: ::std::sync::OnceLock::new(),
                        header: ::core::sync::atomic::AtomicUsize::new(0),
                        new_impl: ::core::sync::atomic::AtomicUsize::new(0),
                        payloadless: ::std::sync::OnceLock::new(),
                        call: ::std::sync::OnceLock::new(),
                    };
                    &DEF
                }

                #[allow(unused_variables)]
                unsafe fn __visit_fields(
                    value: *const Self,
                    visit: ::hpy::impl_::sys::HPyFunc_visitproc,
                    arg: *mut ::core::ffi::c_void,
                ) -> ::core::ffi::c_int {
                    #(
                        // SAFETY: `value` points to the live struct (the caller's
                        // contract); the field's address is taken without a
                        // reference (the struct may be borrowed mutably).
                        let r = unsafe {
                            ::hpy::impl_::visit_field(::core::ptr::addr_of!((*value).#object_fields), visit, arg)
                        };
                        if r != 0 {
                            return r;
                        }
                    )*
                    0
                }
            }

            #into_py
            #mutable

            ::hpy::impl_::inventory::submit! {
                ::hpy::impl_::Submission {
                    module_path: ::core::module_path!(),
                    module: #module,
                    item: ::hpy::impl_::Contribution::Class(<#ident as ::hpy::Class>::__def),
                }
            }

            #stub
        };
    })
}

// ---------------------------------------------------------------------------
// #[hpy_methods]

/// What a function of an `#[hpy_methods]` block is.
enum Role {
    Method,
    New,
    /// `#[staticmethod]` (`false`) or `#[classmethod]` (`true`).
    Static(bool),
    Getter(String),
    Setter(String),
    /// A dunder (`__repr__`, `__add__`, `__iter__`, ...).
    Dunder(Dunder),
}

/// Takes our attributes off a function: its role and its `#[hpy(...)]` options.
fn take_role(f: &mut syn::ImplItemFn) -> syn::Result<(Role, MethodOptions)> {
    let mut role: Option<(Role, Span)> = None;
    let mut opts_tokens: Option<TokenStream> = None;
    let mut errors: Vec<syn::Error> = Vec::new();
    let fn_name = f.sig.ident.to_string();
    let mut set_role = |r: Role, span: Span, errors: &mut Vec<syn::Error>| {
        if role.is_some() {
            errors.push(syn::Error::new(
                span,
                "a function has one role: `#[new]`, `#[getter]`, `#[setter]`, `#[staticmethod]` or `#[classmethod]`",
            ));
        } else {
            role = Some((r, span));
        }
    };
    let mut kept = Vec::new();
    for a in f.attrs.drain(..) {
        let path = a.path();
        let span = a.span();
        if path.is_ident("new") {
            set_role(Role::New, span, &mut errors);
        } else if path.is_ident("getter") || path.is_ident("setter") {
            let getter = path.is_ident("getter");
            let explicit: Option<Ident> = match &a.meta {
                syn::Meta::List(l) => match l.parse_args::<Ident>() {
                    Ok(i) => Some(i),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                },
                _ => None,
            };
            let prefix = if getter { "get_" } else { "set_" };
            let name = explicit.map_or_else(
                || fn_name.strip_prefix(prefix).unwrap_or(&fn_name).to_owned(),
                |i| i.to_string(),
            );
            let r = if getter {
                Role::Getter(name)
            } else {
                Role::Setter(name)
            };
            set_role(r, span, &mut errors);
        } else if path.is_ident("staticmethod") {
            set_role(Role::Static(false), span, &mut errors);
        } else if path.is_ident("classmethod") {
            set_role(Role::Static(true), span, &mut errors);
        } else if path.is_ident("hpy") {
            match &a.meta {
                syn::Meta::List(l) => {
                    if opts_tokens.is_some() {
                        errors.push(syn::Error::new(span, "`#[hpy(...)]` is given twice"));
                    }
                    opts_tokens = Some(l.tokens.clone());
                }
                _ => errors.push(syn::Error::new(
                    span,
                    "expected `#[hpy(signature = (...), name = \"...\")]`",
                )),
            }
        } else {
            kept.push(a);
        }
    }
    f.attrs = kept;
    let opts: MethodOptions = match opts_tokens {
        Some(t) => syn::parse2(t)?,
        None => MethodOptions::default(),
    };
    if let Some(mut all) = errors.pop() {
        for e in errors {
            all.combine(e);
        }
        return Err(all);
    }
    let role = match role {
        Some((r, _)) => r,
        None => match crate::dunder::classify(&fn_name, f.sig.ident.span())? {
            Some(d) => Role::Dunder(d),
            None => Role::Method,
        },
    };
    Ok((role, opts))
}

/// The slots that several dunders share: item assignment and deletion,
/// comparisons, operators and their reflected forms.
fn combined_slots(
    combined: &[(Dunder, crate::method::Method, Span)],
    class: &Type,
) -> syn::Result<Vec<TokenStream>> {
    use crate::dunder;
    let find = |want: Dunder| {
        combined
            .iter()
            .find(|(d, _, _)| *d == want)
            .map(|(_, m, s)| (m, *s))
    };
    let mut out = Vec::new();
    let set = find(Dunder::SetItem);
    let del = find(Dunder::DelItem);
    if set.is_some() || del.is_some() {
        out.push(dunder::item_assignment(set, del, class)?);
    }
    let richcmp = find(Dunder::RichCmp);
    let ops: Vec<(&'static str, &crate::method::Method, Span)> = combined
        .iter()
        .filter_map(|(d, m, s)| match d {
            Dunder::Compare(op) => Some((*op, m, *s)),
            _ => None,
        })
        .collect();
    if richcmp.is_some() || !ops.is_empty() {
        out.push(dunder::rich_compare(richcmp, &ops)?);
    }
    let mut slots: Vec<&'static str> = Vec::new();
    for (d, _, _) in combined {
        if let Dunder::Binary { slot, .. } = d {
            if !slots.contains(slot) {
                slots.push(slot);
            }
        }
    }
    for slot in slots {
        let fwd = find(Dunder::Binary {
            slot,
            reflected: false,
        });
        let rev = find(Dunder::Binary {
            slot,
            reflected: true,
        });
        out.push(dunder::operator(slot, fwd, rev, class, false)?);
    }
    let fwd = find(Dunder::Pow { reflected: false });
    let rev = find(Dunder::Pow { reflected: true });
    if fwd.is_some() || rev.is_some() {
        out.push(dunder::operator("nb_power", fwd, rev, class, true)?);
    }
    Ok(out)
}

/// A property's pieces, gathered from its `#[getter]` and `#[setter]`.
struct PropertyParts {
    name: String,
    getter: Option<TokenStream>,
    setter: Option<TokenStream>,
    span: Span,
    doc: String,
}

/// Expands `#[hpy_methods]`.
pub(crate) fn expand_methods(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand_methods(attr, item.clone()) {
        Ok(ts) => ts,
        Err(e) => {
            let err = e.to_compile_error();
            quote!(#item #err)
        }
    }
}

fn try_expand_methods(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new(
            attr.span(),
            "#[hpy_methods] takes no options",
        ));
    }
    let mut block: ItemImpl = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[hpy_methods] applies to an `impl` block of a #[hpy_class] struct",
        )
    })?;
    if let Some((_, path, _)) = &block.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "#[hpy_methods] applies to an inherent `impl` block, not a trait impl",
        ));
    }
    if !block.generics.params.is_empty() {
        return Err(syn::Error::new(
            block.generics.span(),
            "a #[hpy_methods] block cannot be generic",
        ));
    }
    let self_ty = (*block.self_ty).clone();
    let class_name = match &self_ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string()),
        _ => String::new(),
    };
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut statics = Vec::new();
    let mut defs = Vec::new();
    // Definitions of a CPython-ABI build only (after `defs`).
    let mut cpython_defs: Vec<Ident> = Vec::new();
    let mut getsets: Vec<PropertyParts> = Vec::new();
    // Dunders that share a slot, made once every function is seen.
    let mut combined: Vec<(Dunder, crate::method::Method, Span)> = Vec::new();
    // Dunders without a slot, re-bound on CPython once the class exists.
    let mut rebind: Vec<String> = Vec::new();
    let mut static_members = Vec::new();
    let mut new_signature = quote!(::core::option::Option::None);
    // The methods as a type stub says them (see `crate::stub`).
    let mut stub_lines: Vec<String> = Vec::new();
    for (i, item) in block.items.iter_mut().enumerate() {
        let ImplItem::Fn(f) = item else { continue };
        let (role, opts) = match take_role(f) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let func = ItemFn {
            attrs: f.attrs.clone(),
            vis: f.vis.clone(),
            sig: f.sig.clone(),
            block: Box::new(f.block.clone()),
        };
        let span = f.sig.ident.span();
        let def = format_ident!("__hpy_def_{}", i);
        let result = (|| -> syn::Result<()> {
            let mut m = analyze_in(opts, func, Some(&self_ty))?;
            m.err_name = format!("{class_name}.{}", m.py_name);
            let ret = m.stub_return();
            let stub = match &role {
                Role::Method => Some(("", m.py_name.clone(), m.stub_params(), ret)),
                Role::New => {
                    let params = m.stub_params();
                    let params = if params.is_empty() {
                        "cls".to_owned()
                    } else {
                        format!("cls, {params}")
                    };
                    Some(("", "__new__".to_owned(), params, "@Self@".to_owned()))
                }
                Role::Static(false) => {
                    Some(("staticmethod", m.py_name.clone(), m.stub_params(), ret))
                }
                Role::Static(true) => {
                    Some(("classmethod", m.py_name.clone(), m.stub_params(), ret))
                }
                Role::Getter(name) => Some(("property", name.clone(), m.stub_params(), ret)),
                Role::Setter(name) => {
                    Some(("setter", name.clone(), m.stub_params(), "None".to_owned()))
                }
                // `__richcmp__` is Rust's spelling of the six comparisons,
                // which every object has.
                Role::Dunder(_) if m.py_name == "__richcmp__" => None,
                // The buffer protocol has no Python method.
                Role::Dunder(_)
                    if matches!(m.py_name.as_str(), "__getbuffer__" | "__releasebuffer__") =>
                {
                    None
                }
                Role::Dunder(_) => {
                    let ret = match m.py_name.as_str() {
                        "__next__" => crate::stub::strip_none(&ret),
                        "__init__" => "None".to_owned(),
                        _ => ret,
                    };
                    // `==` and `!=` take any object (an operand of another
                    // type gives `NotImplemented`), as `object`'s do.
                    let params = match m.py_name.as_str() {
                        "__eq__" | "__ne__" => "self, other: object".to_owned(),
                        _ => m.stub_params(),
                    };
                    Some(("", m.py_name.clone(), params, ret))
                }
            };
            if let Some((decorator, py, params, ret)) = stub {
                stub_lines.push(format!(
                    "M\t{class_name}\t{decorator}\t{py}\t{params}\t{ret}"
                ));
            }
            if matches!(m.receiver, Receiver::Mut | Receiver::MutGuard) {
                let receiver_span = f.sig.inputs.first().map_or(span, Spanned::span);
                statics.push(quote_spanned! {receiver_span=>
                    const _: () = ::core::assert!(
                        !<#self_ty as ::hpy::Class>::FROZEN,
                        "a `frozen` class has no `&mut self` methods: its struct is never borrowed mutably",
                    );
                });
            }
            match role {
                Role::Method => {
                    if m.receiver == Receiver::None {
                        return Err(syn::Error::new(
                            span,
                            "a method takes `&self`, `&mut self` or `slf` first (or is a `#[new]`, `#[staticmethod]` or `#[classmethod]`)",
                        ));
                    }
                    let block = method_def_block(&m)?;
                    statics.push(quote! {
                        #[allow(non_upper_case_globals)]
                        static #def: ::hpy::impl_::StaticDef = #block;
                    });
                    defs.push(def);
                }
                Role::New => {
                    if m.receiver != Receiver::None {
                        return Err(syn::Error::new(
                            span,
                            "`#[new]` makes the instance: it takes no `self` and returns `Self` (or `Result<Self>`)",
                        ));
                    }
                    m.is_new = true;
                    let sig = &m.text_signature;
                    new_signature = quote!(::core::option::Option::Some(#sig));
                    m.convention = Convention::Keywords;
                    m.err_name = format!("{class_name}.__new__");
                    let block = method_def_block(&m)?;
                    statics.push(quote! {
                        #[allow(non_upper_case_globals)]
                        static #def: ::hpy::impl_::StaticDef = #block;
                    });
                    defs.push(def);
                }
                Role::Dunder(d) => match d {
                    Dunder::Repr(_)
                    | Dunder::Unary(_)
                    | Dunder::Hash
                    | Dunder::Bool
                    | Dunder::Len
                    | Dunder::GetItem
                    | Dunder::Contains => {
                        for (k, block) in crate::dunder::simple_slot(&m, d, span)?
                            .into_iter()
                            .enumerate()
                        {
                            let def = format_ident!("__hpy_def_{}_{}", i, k);
                            statics.push(quote! {
                                #[allow(non_upper_case_globals)]
                                static #def: ::hpy::impl_::StaticDef = #block;
                            });
                            defs.push(def);
                        }
                    }
                    Dunder::InPlace(slot) => {
                        let block = crate::dunder::in_place(&m, slot, span)?;
                        statics.push(quote! {
                            #[allow(non_upper_case_globals)]
                            static #def: ::hpy::impl_::StaticDef = #block;
                        });
                        defs.push(def);
                    }
                    Dunder::GetBuffer => {
                        let block = crate::dunder::getbuffer(&m, span)?;
                        let release = format_ident!("__hpy_def_{}_release", i);
                        statics.push(quote! {
                            #[allow(non_upper_case_globals)]
                            static #def: ::hpy::impl_::StaticDef = #block;
                            #[allow(non_upper_case_globals)]
                            static #release: ::hpy::impl_::StaticDef =
                                ::hpy::impl_::release_buffer_def::<#self_ty>();
                        });
                        defs.push(def);
                        defs.push(release);
                    }
                    Dunder::Init => {
                        if m.receiver == Receiver::None || m.receiver == Receiver::Cls {
                            return Err(syn::Error::new(
                                span,
                                "`__init__` takes the instance first: `&self`, `&mut self` or `slf` (the struct itself comes from `#[new]`)",
                            ));
                        }
                        m.is_init = true;
                        m.convention = Convention::Keywords;
                        m.err_name = format!("{class_name}.__init__");
                        let block = method_def_block(&m)?;
                        statics.push(quote! {
                            #[allow(non_upper_case_globals)]
                            static #def: ::hpy::impl_::StaticDef = #block;
                        });
                        defs.push(def);
                    }
                    Dunder::Call | Dunder::Next | Dunder::Method => {
                        if m.receiver == Receiver::None {
                            return Err(syn::Error::new(
                                span,
                                format!(
                                    "`{}` takes the instance first: `&self`, `&mut self` or `slf`",
                                    m.py_name
                                ),
                            ));
                        }
                        if d == Dunder::Call {
                            m.call_slot = true;
                            m.convention = Convention::Keywords;
                        } else {
                            m.iter_next = d == Dunder::Next;
                            rebind.push(m.py_name.clone());
                        }
                        let block = method_def_block(&m)?;
                        statics.push(quote! {
                            #[allow(non_upper_case_globals)]
                            static #def: ::hpy::impl_::StaticDef = #block;
                        });
                        if d == Dunder::Next && m.convention == Convention::NoArgs {
                            // A CPython-ABI build also gets `tp_iternext`
                            // itself: `for x in obj` calls the impl directly.
                            let mut slot = m.clone();
                            slot.iternext_slot = true;
                            let block = method_def_block(&slot)?;
                            let slot_def = format_ident!("{}_tp_iternext", def);
                            statics.push(quote! {
                                #[cfg(hpy_abi = "cpython")]
                                #[allow(non_upper_case_globals)]
                                static #slot_def: ::hpy::impl_::StaticDef = #block;
                            });
                            cpython_defs.push(slot_def);
                        }
                        defs.push(def);
                    }
                    Dunder::Binary {
                        reflected: true, ..
                    }
                    | Dunder::Pow { reflected: true } => {
                        // Also a method of its name: PyPy fills only the forward
                        // name (`__add__`) from a number slot, and finds
                        // `__radd__` in the class's dict.
                        let mut method = m.clone();
                        method.operand = true;
                        let block = method_def_block(&method)?;
                        statics.push(quote! {
                            #[allow(non_upper_case_globals)]
                            static #def: ::hpy::impl_::StaticDef = #block;
                        });
                        defs.push(def);
                        combined.push((d, m, span));
                    }
                    _ => combined.push((d, m, span)),
                },
                Role::Static(classmethod) => {
                    let want = if classmethod {
                        Receiver::Cls
                    } else {
                        Receiver::None
                    };
                    if m.receiver != want {
                        return Err(syn::Error::new(
                            span,
                            if classmethod {
                                "a `#[classmethod]` takes the class first: `cls: &Handle<'py>`"
                            } else {
                                "a `#[staticmethod]` takes no `self`, `slf` or `cls`"
                            },
                        ));
                    }
                    // A function of the module (HPy 0.9 has no static or class
                    // methods), named `Class.name` there, which the module's exec
                    // wraps in `staticmethod`/`classmethod` and moves to the class.
                    let attr = m.py_name.clone();
                    m.py_name = format!("{class_name}.{attr}");
                    m.err_name = m.py_name.clone();
                    let block = method_def_block(&m)?;
                    let attr_lit = c_str_lit(&attr, span)?;
                    let hidden_lit = c_str_lit(&m.py_name, span)?;
                    statics.push(quote! {
                        #[allow(non_upper_case_globals)]
                        static #def: ::hpy::impl_::StaticMember = ::hpy::impl_::StaticMember {
                            name: #attr_lit,
                            function_name: #hidden_lit,
                            def: #block,
                            classmethod: #classmethod,
                        };
                    });
                    static_members.push(def);
                }
                Role::Getter(name) => {
                    let getter = getter_pair(&m, span)?;
                    let doc = doc_string(&m.func.attrs);
                    match getsets.iter_mut().find(|g| g.name == name) {
                        Some(g) if g.getter.is_none() => {
                            g.getter = Some(getter);
                            g.doc = doc;
                        }
                        Some(_) => {
                            return Err(syn::Error::new(
                                span,
                                format!("a second getter for `{name}`"),
                            ));
                        }
                        None => getsets.push(PropertyParts {
                            name,
                            getter: Some(getter),
                            setter: None,
                            span,
                            doc,
                        }),
                    }
                }
                Role::Setter(name) => {
                    let setter = setter_pair(&m, &class_name, &name, span)?;
                    match getsets.iter_mut().find(|g| g.name == name) {
                        Some(g) if g.setter.is_none() => g.setter = Some(setter),
                        Some(_) => {
                            return Err(syn::Error::new(
                                span,
                                format!("a second setter for `{name}`"),
                            ));
                        }
                        None => getsets.push(PropertyParts {
                            name,
                            getter: None,
                            setter: Some(setter),
                            span,
                            doc: String::new(),
                        }),
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            errors.push(e);
        }
    }
    match combined_slots(&combined, &self_ty) {
        Ok(blocks) => {
            for (k, block) in blocks.into_iter().enumerate() {
                let def = format_ident!("__hpy_combined_{}", k);
                statics.push(quote! {
                    #[allow(non_upper_case_globals)]
                    static #def: ::hpy::impl_::StaticDef = #block;
                });
                defs.push(def);
            }
        }
        Err(e) => errors.push(e),
    }
    let rebind: Vec<syn::LitCStr> = rebind
        .iter()
        .map(|n| c_str_lit(n, Span::call_site()))
        .collect::<syn::Result<_>>()?;
    let mut properties = Vec::new();
    for (i, g) in getsets.into_iter().enumerate() {
        let PropertyParts {
            name,
            getter,
            setter,
            span,
            doc,
        } = g;
        let def = format_ident!("__hpy_property_{}", i);
        statics.push(property_static(
            &def,
            &quote!(#self_ty),
            &name,
            &doc,
            getter,
            setter,
            Some(quote!(::core::option::Option::None)),
            span,
        )?);
        properties.push(def);
    }
    if let Some(mut all) = errors.pop() {
        for e in errors {
            all.combine(e);
        }
        return Err(all);
    }
    statics.push(crate::stub::submit(&stub_lines));
    let defs_static = if cpython_defs.is_empty() {
        quote!(static __HPY_DEFS: &[&::hpy::impl_::StaticDef] = &[#(&#defs),*];)
    } else {
        quote! {
            #[cfg(hpy_abi = "cpython")]
            static __HPY_DEFS: &[&::hpy::impl_::StaticDef] =
                &[#(&#defs,)* #(&#cpython_defs),*];
            #[cfg(not(hpy_abi = "cpython"))]
            static __HPY_DEFS: &[&::hpy::impl_::StaticDef] = &[#(&#defs),*];
        }
    };
    Ok(quote! {
        #block

        #[doc(hidden)]
        const _: () = {
            #(#statics)*
            #defs_static
            static __HPY_ITEMS: ::hpy::impl_::ClassItems = ::hpy::impl_::ClassItems {
                class: <#self_ty as ::hpy::Class>::__def,
                defs: __HPY_DEFS,
                properties: &[#(&#properties),*],
                rebind: &[#(#rebind),*],
                statics: &[#(&#static_members),*],
                new_signature: #new_signature,
            };
            ::hpy::impl_::inventory::submit! {
                ::hpy::impl_::Submission {
                    module_path: ::core::module_path!(),
                    module: ::core::option::Option::None,
                    item: ::hpy::impl_::Contribution::ClassItems(&__HPY_ITEMS),
                }
            }
        };
    })
}

/// A property: its getset (what CPython gets) and its getter and setter as
/// hidden methods (what other runtimes get, wrapped in a Python `property`:
/// PyPy 7.3.19 neither type-checks a getset's object nor raises what its
/// setter raised). `getter` defines `__hpy_get` and `__hpy_get_trampoline`,
/// `setter` `__hpy_set` and `__hpy_set_trampoline`.
#[allow(clippy::too_many_arguments)]
fn property_static(
    def: &Ident,
    class: &TokenStream,
    name: &str,
    doc: &str,
    getter: Option<TokenStream>,
    setter: Option<TokenStream>,
    member: Option<TokenStream>,
    span: Span,
) -> syn::Result<TokenStream> {
    let member = member.unwrap_or_else(|| quote!(::core::option::Option::None));
    let name_lit = c_str_lit(name, span)?;
    let get_name = c_str_lit(&format!("__hpy_get_{name}"), span)?;
    let set_name = c_str_lit(&format!("__hpy_set_{name}"), span)?;
    let doc = optional_c_str(doc, span)?;
    let none = quote!(::core::option::Option::None);
    let (get_items, getset_get, get_method) = match getter {
        Some(items) => (
            quote! {
                #items
                #[inline(always)]
                unsafe extern "C" fn __hpy_get_method(
                    ctx: *mut ::hpy::impl_::sys::HPyContext,
                    slf: ::hpy::impl_::sys::HPy,
                ) -> ::hpy::impl_::sys::HPy {
                    // SAFETY: the runtime calls the method with the call's context and an
                    // instance of the class (it checks the type); the getter takes them.
                    unsafe { __hpy_get(ctx, slf, ::core::ptr::null_mut()) }
                }
                unsafe extern "C" fn __hpy_get_method_trampoline(
                    slf: *mut ::hpy::impl_::sys::cpy_PyObject,
                    _arg: *mut ::hpy::impl_::sys::cpy_PyObject,
                ) -> *mut ::hpy::impl_::sys::cpy_PyObject {
                    // SAFETY: CPython would call this as METH_NOARGS.
                    unsafe { ::hpy::impl_::trampoline_noargs(slf, __hpy_get_method) }
                }
            },
            quote!(
                ::hpy::impl_::erase_getter(__hpy_get),
                ::core::option::Option::Some(
                    __hpy_get_trampoline as ::hpy::impl_::GetterTrampoline
                ),
            ),
            quote!(::core::option::Option::Some(::hpy::impl_::StaticDef::method(
                #get_name,
                c"",
                ::hpy::impl_::sys::HPyFunc_NOARGS,
                ::hpy::impl_::erase_noargs(__hpy_get_method),
                ::hpy::impl_::erase_noargs_trampoline(__hpy_get_method_trampoline),
            ))),
        ),
        None => (quote!(), quote!(#none, #none,), none.clone()),
    };
    let (set_items, getset_set, set_method) = match setter {
        Some(items) => (
            quote! {
                #items
                #[inline(always)]
                unsafe extern "C" fn __hpy_set_method(
                    ctx: *mut ::hpy::impl_::sys::HPyContext,
                    slf: ::hpy::impl_::sys::HPy,
                    value: ::hpy::impl_::sys::HPy,
                ) -> ::hpy::impl_::sys::HPy {
                    // SAFETY: as for the getter; the value is borrowed for the call.
                    unsafe {
                        ::hpy::impl_::setter_result(ctx, __hpy_set(ctx, slf, value, ::core::ptr::null_mut()))
                    }
                }
                unsafe extern "C" fn __hpy_set_method_trampoline(
                    slf: *mut ::hpy::impl_::sys::cpy_PyObject,
                    arg: *mut ::hpy::impl_::sys::cpy_PyObject,
                ) -> *mut ::hpy::impl_::sys::cpy_PyObject {
                    // SAFETY: CPython would call this as METH_O.
                    unsafe { ::hpy::impl_::trampoline_o(slf, arg, __hpy_set_method) }
                }
            },
            quote!(
                ::hpy::impl_::erase_setter(__hpy_set),
                ::core::option::Option::Some(
                    __hpy_set_trampoline as ::hpy::impl_::SetterTrampoline
                ),
            ),
            quote!(::core::option::Option::Some(::hpy::impl_::StaticDef::method(
                #set_name,
                c"",
                ::hpy::impl_::sys::HPyFunc_O,
                ::hpy::impl_::erase_o(__hpy_set_method),
                ::hpy::impl_::erase_noargs_trampoline(__hpy_set_method_trampoline),
            ))),
        ),
        None => (
            quote!(),
            quote!(
                ::hpy::impl_::erase_setter(::hpy::impl_::readonly_setter::<#class>),
                ::core::option::Option::Some(
                    ::hpy::impl_::readonly_setter_trampoline::<#class> as ::hpy::impl_::SetterTrampoline,
                ),
            ),
            none.clone(),
        ),
    };
    Ok(quote_spanned! {span=>
        #[allow(non_upper_case_globals)]
        static #def: ::hpy::impl_::PropertyDef = {
            #get_items
            #set_items
            ::hpy::impl_::PropertyDef {
                name: #name_lit,
                doc: #doc,
                getset: ::hpy::impl_::StaticDef::getset(#name_lit, #doc, #getset_get #getset_set),
                get_method: #get_method,
                set_method: #set_method,
                member: #member,
            }
        };
    })
}

/// The HPy member type of a field of type `ty`, if it is a number (or
/// `bool`) that CPython can read itself.
fn member_type(ty: &Type) -> Option<&'static str> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let seg = &p.path.segments[0];
    if !seg.arguments.is_empty() {
        return None;
    }
    Some(match seg.ident.to_string().as_str() {
        "f64" => "HPyMember_DOUBLE",
        "f32" => "HPyMember_FLOAT",
        "bool" => "HPyMember_BOOL",
        "i8" => "HPyMember_BYTE",
        "u8" => "HPyMember_UBYTE",
        "i16" => "HPyMember_SHORT",
        "u16" => "HPyMember_USHORT",
        "i32" => "HPyMember_INT",
        "u32" => "HPyMember_UINT",
        "i64" => "HPyMember_LONGLONG",
        "u64" => "HPyMember_ULONGLONG",
        "isize" => "HPyMember_HPYSSIZET",
        _ => return None,
    })
}

/// The receiver's `let`s and argument for a slot or property of `m`.
fn receiver_tokens(m: &Method0, span: Span) -> syn::Result<(TokenStream, TokenStream)> {
    let self_ty = m.self_ty.as_ref().expect("a method of a class");
    let slf = quote!(let __hpy_slf = ::hpy::impl_::borrow_arg(ctx, slf););
    if m.python_free() {
        // The borrow flag checked, not taken (see `Method::python_free`).
        let peek = m.peek_fn();
        return Ok((
            quote!(#slf let __hpy_recv = #peek::<#self_ty>(&__hpy_slf)?;),
            quote!(__hpy_recv,),
        ));
    }
    Ok(match m.receiver {
        Receiver::Ref => (
            quote!(#slf let __hpy_recv = ::hpy::impl_::self_ref::<#self_ty>(&__hpy_slf)?;),
            quote!(&*__hpy_recv,),
        ),
        Receiver::Mut => (
            quote!(#slf let mut __hpy_recv = ::hpy::impl_::self_mut::<#self_ty>(&__hpy_slf)?;),
            quote!(&mut *__hpy_recv,),
        ),
        Receiver::Handle => (slf, quote!(&*__hpy_slf,)),
        Receiver::RefGuard => (
            quote!(#slf let __hpy_recv = ::hpy::impl_::self_ref::<#self_ty>(&__hpy_slf)?;),
            quote!(__hpy_recv,),
        ),
        Receiver::MutGuard => (
            quote!(#slf let __hpy_recv = ::hpy::impl_::self_mut::<#self_ty>(&__hpy_slf)?;),
            quote!(__hpy_recv,),
        ),
        Receiver::None | Receiver::Cls => {
            return Err(syn::Error::new(
                span,
                "this takes the instance first: `&self`, `&mut self` or `slf`",
            ));
        }
    })
}

type Method0 = crate::method::Method;

/// The `(impl, trampoline)` pair of a `#[getter]` method.
fn getter_pair(m: &Method0, span: Span) -> syn::Result<TokenStream> {
    if m.param_count() != 0 {
        return Err(syn::Error::new(
            span,
            "a `#[getter]` takes only the instance (and the context)",
        ));
    }
    let (recv_bind, recv_arg) = receiver_tokens(m, span)?;
    let ctx_arg = m.ctx_arg();
    let call = m.checked_call({
        let path = m.call_path();
        quote!(#path(#recv_arg #ctx_arg))
    });
    let name = &m.err_name;
    Ok(quote_spanned! {span=>
        #[inline(always)]
        unsafe extern "C" fn __hpy_get(
            ctx: *mut ::hpy::impl_::sys::HPyContext,
            slf: ::hpy::impl_::sys::HPy,
            _closure: *mut ::core::ffi::c_void,
        ) -> ::hpy::impl_::sys::HPy {
            // SAFETY: the runtime calls a getter with the call's context and an
            // instance of the class, borrowed for the call.
            unsafe {
                ::hpy::impl_::run_method(ctx, #name, |ctx| {
                    #recv_bind
                    ::hpy::impl_::IntoReturn::into_return(#call, ctx)
                })
            }
        }
        unsafe extern "C" fn __hpy_get_trampoline(
            slf: *mut ::hpy::impl_::sys::cpy_PyObject,
            closure: *mut ::core::ffi::c_void,
        ) -> *mut ::hpy::impl_::sys::cpy_PyObject {
            // SAFETY: CPython calls this as a getset's getter.
            unsafe { ::hpy::impl_::trampoline_getter(slf, closure, __hpy_get) }
        }
    })
}

/// The `(impl, trampoline)` pair of a `#[setter]` method: the instance and
/// one value (`del` raises `TypeError`).
fn setter_pair(m: &Method0, class: &str, attr: &str, span: Span) -> syn::Result<TokenStream> {
    let Some(value_ty) = m.single_param_type() else {
        return Err(syn::Error::new(
            span,
            "a `#[setter]` takes the instance and one value",
        ));
    };
    let (recv_bind, recv_arg) = receiver_tokens(m, span)?;
    let ctx_arg = m.ctx_arg();
    let call = m.call_path();
    let name = &m.err_name;
    let self_ty = m.self_ty.as_ref().expect("a method of a class");
    Ok(quote_spanned! {span=>
        #[inline(always)]
        unsafe extern "C" fn __hpy_set(
            ctx: *mut ::hpy::impl_::sys::HPyContext,
            slf: ::hpy::impl_::sys::HPy,
            value: ::hpy::impl_::sys::HPy,
            _closure: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            // SAFETY: the runtime calls a setter with the call's context, an
            // instance of the class and the value (NULL: `del`), borrowed.
            unsafe {
                ::hpy::impl_::run_inquiry(ctx, #name, |ctx| {
                    let __hpy_value = ::hpy::impl_::borrow_opt(ctx, value)
                        .ok_or_else(|| ::hpy::impl_::no_deleter::<#self_ty>(#attr))?;
                    let __hpy_new: #value_ty =
                        ::hpy::impl_::extract_attribute(&__hpy_value, #class, #attr)?;
                    #recv_bind
                    ::hpy::impl_::IntoSetResult::into_set_result(#call(#recv_arg #ctx_arg __hpy_new))
                })
            }
        }
        unsafe extern "C" fn __hpy_set_trampoline(
            slf: *mut ::hpy::impl_::sys::cpy_PyObject,
            value: *mut ::hpy::impl_::sys::cpy_PyObject,
            closure: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            // SAFETY: CPython calls this as a getset's setter.
            unsafe { ::hpy::impl_::trampoline_setter(slf, value, closure, __hpy_set) }
        }
    })
}
