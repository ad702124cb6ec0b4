//! The dunders of `#[hpy_methods]`: which HPy slot each one fills, and the
//! slot functions that call the user's methods.
//!
//! * Dunders with an HPy slot of their own (`__repr__`, `__hash__`,
//!   `__len__`, `__getitem__`, `__call__`, `__neg__`, ...) fill it.
//! * Several dunders share a slot: the comparisons (`__eq__`, `__lt__`,
//!   ... or one `__richcmp__`) share `tp_richcompare`, `__setitem__` and
//!   `__delitem__` share `mp_ass_subscript`, an operator and its reflected
//!   form (`__add__`, `__radd__`) share `nb_add`. They must be in one
//!   `#[hpy_methods]` block.
//! * Operators get any object on either side (`1 + p` calls `nb_add(1, p)`):
//!   the slot checks which side is an instance, and an operand that does not
//!   convert (`TypeError`) gives `NotImplemented`, so that Python tries the
//!   other side, as for Python classes.
//! * Dunders without an HPy slot in 0.9 (`__iter__`, `__next__`,
//!   `__enter__`, `__exit__`, `__getattr__`, ...) are methods, which the
//!   runtime finds by name (CPython after `rebind_dunders`); `__next__`
//!   returns an `Option` (`None` raises `StopIteration`).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Ident, Type};

use crate::method::{Method, Receiver, extract_expr, holder_decl};

/// What a dunder is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dunder {
    /// `REPRFUNC` (`tp_repr`, `tp_str`).
    Repr(&'static str),
    /// `UNARYFUNC` number slot.
    Unary(&'static str),
    Hash,
    Bool,
    Len,
    GetItem,
    SetItem,
    DelItem,
    Contains,
    Call,
    /// One comparison (`__eq__`, ...): the `CompareOp` variant.
    Compare(&'static str),
    /// `__richcmp__(other, op)`.
    RichCmp,
    /// A binary operator slot, forward or reflected.
    Binary {
        slot: &'static str,
        reflected: bool,
    },
    /// `__pow__` / `__rpow__` (ternary: an optional modulo).
    Pow {
        reflected: bool,
    },
    /// An in-place operator.
    InPlace(&'static str),
    /// `__next__`: a method whose `None` raises `StopIteration`.
    Next,
    /// `__init__` (`tp_init`).
    Init,
    /// `__getbuffer__` (`bf_getbuffer`, with the SDK's `bf_releasebuffer`).
    GetBuffer,
    /// A dunder without a slot: a method, re-bound after the type exists.
    Method,
}

const BINARY: &[(&str, &str)] = &[
    ("add", "nb_add"),
    ("sub", "nb_subtract"),
    ("mul", "nb_multiply"),
    ("matmul", "nb_matrix_multiply"),
    ("truediv", "nb_true_divide"),
    ("floordiv", "nb_floor_divide"),
    ("mod", "nb_remainder"),
    ("divmod", "nb_divmod"),
    ("lshift", "nb_lshift"),
    ("rshift", "nb_rshift"),
    ("and", "nb_and"),
    ("xor", "nb_xor"),
    ("or", "nb_or"),
];

const UNARY: &[(&str, &str)] = &[
    ("__neg__", "nb_negative"),
    ("__pos__", "nb_positive"),
    ("__abs__", "nb_absolute"),
    ("__invert__", "nb_invert"),
    ("__int__", "nb_int"),
    ("__float__", "nb_float"),
    ("__index__", "nb_index"),
];

const COMPARE: &[(&str, &str)] = &[
    ("__lt__", "Lt"),
    ("__le__", "Le"),
    ("__eq__", "Eq"),
    ("__ne__", "Ne"),
    ("__gt__", "Gt"),
    ("__ge__", "Ge"),
];

/// What the dunder `name` is: `Ok(None)` for a name that is no dunder, an
/// error for one that must be spelled otherwise.
pub(crate) fn classify(name: &str, span: Span) -> syn::Result<Option<Dunder>> {
    if !(name.len() > 4 && name.starts_with("__") && name.ends_with("__")) {
        return Ok(None);
    }
    let refuse = |msg: &str| Err(syn::Error::new(span, msg));
    let d = match name {
        "__repr__" => Dunder::Repr("tp_repr"),
        "__str__" => Dunder::Repr("tp_str"),
        "__hash__" => Dunder::Hash,
        "__bool__" => Dunder::Bool,
        "__len__" => Dunder::Len,
        "__getitem__" => Dunder::GetItem,
        "__setitem__" => Dunder::SetItem,
        "__delitem__" => Dunder::DelItem,
        "__contains__" => Dunder::Contains,
        "__call__" => Dunder::Call,
        "__richcmp__" => Dunder::RichCmp,
        "__pow__" => Dunder::Pow { reflected: false },
        "__rpow__" => Dunder::Pow { reflected: true },
        "__ipow__" => Dunder::InPlace("nb_inplace_power"),
        "__next__" => Dunder::Next,
        "__new__" => return refuse("write `#[new] fn new(...) -> Self` instead of `__new__`"),
        "__init__" => Dunder::Init,
        "__getbuffer__" => Dunder::GetBuffer,
        "__releasebuffer__" => {
            return refuse(
                "the buffer's borrow is given back when the buffer is released: write `__getbuffer__` only",
            );
        }
        "__del__" => return refuse("implement `Drop` for the struct instead of `__del__`"),
        "__traverse__" | "__clear__" => {
            return refuse("the garbage collector's slots are made from the struct's `Field`s");
        }
        _ => {
            if let Some((_, slot)) = UNARY.iter().find(|(n, _)| *n == name) {
                Dunder::Unary(slot)
            } else if let Some((_, op)) = COMPARE.iter().find(|(n, _)| *n == name) {
                Dunder::Compare(op)
            } else {
                let inner = &name[2..name.len() - 2];
                let binary = |op: &str| BINARY.iter().find(|(n, _)| *n == op).map(|(_, s)| *s);
                if let Some(slot) = binary(inner) {
                    Dunder::Binary {
                        slot,
                        reflected: false,
                    }
                } else if let Some(slot) = inner.strip_prefix('r').and_then(binary) {
                    Dunder::Binary {
                        slot,
                        reflected: true,
                    }
                } else if let Some(slot) = inner.strip_prefix('i').and_then(binary) {
                    if slot == "nb_divmod" {
                        return refuse("Python has no `__idivmod__`");
                    }
                    // nb_add -> nb_inplace_add
                    Dunder::InPlace(inplace_slot(slot))
                } else {
                    Dunder::Method
                }
            }
        }
    };
    Ok(Some(d))
}

fn inplace_slot(slot: &str) -> &'static str {
    match slot {
        "nb_add" => "nb_inplace_add",
        "nb_subtract" => "nb_inplace_subtract",
        "nb_multiply" => "nb_inplace_multiply",
        "nb_matrix_multiply" => "nb_inplace_matrix_multiply",
        "nb_true_divide" => "nb_inplace_true_divide",
        "nb_floor_divide" => "nb_inplace_floor_divide",
        "nb_remainder" => "nb_inplace_remainder",
        "nb_lshift" => "nb_inplace_lshift",
        "nb_rshift" => "nb_inplace_rshift",
        "nb_and" => "nb_inplace_and",
        "nb_xor" => "nb_inplace_xor",
        _ => "nb_inplace_or",
    }
}

// ---------------------------------------------------------------------------
// Pieces of slot functions

/// The receiver of a method that cannot reach Python while it holds the
/// struct: bound by `self_peek`/`self_peek_mut`, the borrow flag checked,
/// not taken.
fn peeked_receiver(m: &Method, h: &Ident, tag: &str) -> (TokenStream, TokenStream) {
    let self_ty = m.self_ty.as_ref().expect("a method of a class");
    let recv = format_ident!("__hpy_recv_{}", tag);
    let peek = m.peek_fn();
    (quote!(let #recv = #peek::<#self_ty>(&#h)?;), quote!(#recv,))
}

/// The receiver of `m`, borrowed from the handle `h` (a local `Handle`):
/// the `let`s and the argument that passes it.
fn receiver(
    m: &Method,
    h: &Ident,
    tag: &str,
    span: Span,
) -> syn::Result<(TokenStream, TokenStream)> {
    if m.python_free() {
        // The borrow flag checked, not taken (see `Method::python_free`).
        return Ok(peeked_receiver(m, h, tag));
    }
    let self_ty = m.self_ty.as_ref().expect("a method of a class");
    let recv = format_ident!("__hpy_recv_{}", tag);
    Ok(match m.receiver {
        Receiver::Ref => (
            quote!(let #recv = ::hpy::impl_::self_ref::<#self_ty>(&#h)?;),
            quote!(&*#recv,),
        ),
        Receiver::Mut => (
            quote!(let mut #recv = ::hpy::impl_::self_mut::<#self_ty>(&#h)?;),
            quote!(&mut *#recv,),
        ),
        Receiver::Handle => (quote!(), quote!(&*#h,)),
        Receiver::RefGuard => (
            quote!(let #recv = ::hpy::impl_::self_ref::<#self_ty>(&#h)?;),
            quote!(#recv,),
        ),
        Receiver::MutGuard => (
            quote!(let #recv = ::hpy::impl_::self_mut::<#self_ty>(&#h)?;),
            quote!(#recv,),
        ),
        Receiver::None | Receiver::Cls => {
            return Err(syn::Error::new(
                span,
                format!(
                    "`{}` takes the instance first: `&self`, `&mut self` or `slf`",
                    m.py_name
                ),
            ));
        }
    })
}

/// The arguments of `m` from the handles `hs` (locals), in order: the `let`s
/// (holders) and the expressions. With `operand`, an argument that does not
/// convert makes the slot return `NotImplemented`.
fn arguments(m: &Method, hs: &[TokenStream], operand: bool) -> (TokenStream, Vec<TokenStream>) {
    arguments_skipping(m, 0, hs, operand)
}

/// [`arguments`] for the operands of an operator from the `skip`-th
/// parameter on.
fn arguments_from(m: &Method, skip: usize, hs: &[TokenStream]) -> (TokenStream, Vec<TokenStream>) {
    arguments_skipping(m, skip, hs, true)
}

fn arguments_skipping(
    m: &Method,
    skip: usize,
    hs: &[TokenStream],
    operand: bool,
) -> (TokenStream, Vec<TokenStream>) {
    let mut binds = TokenStream::new();
    let mut exprs = Vec::new();
    let name = &m.err_name;
    for ((ident, ty), h) in m.params().skip(skip).zip(hs) {
        binds.extend(holder_decl(ident, ty));
        if operand {
            let e = extract_expr(ident, ty, quote!(&#h), name, false);
            exprs.push(quote! {
                match #e {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(e) => return ::hpy::impl_::not_implemented_or(ctx, e),
                }
            });
        } else {
            exprs.push(extract_expr(ident, ty, quote!(&#h), name, true));
        }
    }
    (binds, exprs)
}

/// `mod __hpy_params { pub struct <name>; ... }`: the markers that name the
/// parameters of `methods` in conversion errors.
fn markers<'a>(methods: impl IntoIterator<Item = &'a Method>) -> TokenStream {
    let mut names: Vec<&Ident> = Vec::new();
    for m in methods {
        for (ident, _) in m.params() {
            if !names.contains(&ident) {
                names.push(ident);
            }
        }
    }
    quote! {
        #[allow(non_camel_case_types, dead_code, unreachable_pub)]
        mod __hpy_params {
            #(pub struct #names;)*
        }
    }
}

/// Checks that `m` takes exactly `n` parameters (besides the receiver and
/// the context).
fn arity(m: &Method, n: usize, what: &str, span: Span) -> syn::Result<()> {
    if m.param_count() != n {
        return Err(syn::Error::new(
            span,
            format!("`{}` takes the instance and {what}", m.py_name),
        ));
    }
    Ok(())
}

/// Whether `ty` is `&Self` or `&<the class>` (any lifetime).
fn is_class_ref(ty: &Type, class: &Type) -> bool {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => is_class(&r.elem, class),
        _ => false,
    }
}

/// Whether no Python code can run while operator `m` holds its structs:
/// `&self` and operands that are all `&Class` (checked against the loaded
/// class, no conversion code), no `&Context`, a result that borrows nothing.
/// Such an operator gets its structs from `self_peek`/`peek_with_type`:
/// the borrow flags checked, not taken (see `hpy::impl_::self_peek`). Only
/// shared borrows: a `&mut self` beside a `&Class` operand that may be the
/// same object needs the flag taken.
fn python_free_operator(m: &Method, class: &Type) -> bool {
    m.receiver == Receiver::Ref
        && !m.takes_ctx
        && m.params().all(|(_, ty)| is_class_ref(ty, class))
        && m.returns_owned()
}

/// Whether `ty` is `Self` or the class.
fn is_class(ty: &Type, class: &Type) -> bool {
    let text = quote!(#ty).to_string();
    text == "Self" || text == quote!(#class).to_string()
}

/// Whether `m` returns the class (`Self`, `Point`), or a `Result` of it.
fn returns_class(m: &Method, class: &Type) -> bool {
    let syn::ReturnType::Type(_, ty) = &m.func.sig.output else {
        return false;
    };
    if is_class(ty, class) {
        return true;
    }
    let Type::Path(p) = &**ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident != "Result" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return false;
    };
    matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if is_class(t, class))
}

/// The call of `m` with the receiver argument and argument expressions.
fn call(m: &Method, recv_arg: &TokenStream, args: &[TokenStream]) -> TokenStream {
    let path = m.call_path();
    let ctx_arg = m.ctx_arg();
    m.checked_call(quote!(#path(#recv_arg #ctx_arg #(#args),*)))
}

/// A slot definition: its impl (`params` of the signature after the
/// context, returning `ret`, with `body` run by `runner`), its CPython
/// trampoline and the `StaticDef`.
struct Slot<'a> {
    slot: &'a str,
    /// The impl function's parameters after the context.
    params: TokenStream,
    ret: TokenStream,
    /// `run_method(ctx, name, |ctx| ...)` or `run_slot(ctx, name, error, |ctx| ...)`.
    error_value: Option<TokenStream>,
    /// The trampoline's C parameters, and their names (passed to the body).
    tramp_params: TokenStream,
    tramp_args: TokenStream,
    tramp_ret: TokenStream,
    /// The suffix of `trampoline_<x>`, `erase_<x>`, `erase_<x>_trampoline`.
    kind: &'a str,
}

fn slot_def(s: &Slot<'_>, name: &str, markers: &TokenStream, body: TokenStream) -> TokenStream {
    let sys = quote!(::hpy::impl_::sys);
    let slot = format_ident!("HPy_{}", s.slot);
    let params = &s.params;
    let ret = &s.ret;
    let tramp_params = &s.tramp_params;
    let tramp_args = &s.tramp_args;
    let tramp_ret = &s.tramp_ret;
    let tramp_body = format_ident!("trampoline_{}", s.kind);
    let erase = format_ident!("erase_{}", s.kind);
    let erase_tramp = format_ident!("erase_{}_trampoline", s.kind);
    let run = match &s.error_value {
        None => quote!(::hpy::impl_::run_method(ctx, #name, |ctx| { #body })),
        Some(e) => quote!(::hpy::impl_::run_slot(ctx, #name, #e, |ctx| { #body })),
    };
    quote! {{
        // (`inline(always)`: the trampoline calls the impl directly, in a
        // CPython-ABI build and on a universal build's direct path; inlined there,
        // a call saves a jump and a frame. The impl stays a function of its own
        // for the runtimes that call it through the definition.)
        #[inline(always)]
        unsafe extern "C" fn __hpy_impl(ctx: *mut #sys::HPyContext, #params) -> #ret {
            #markers
            // SAFETY: the runtime calls the slot with the call's context and
            // handles borrowed for the call; operators check which operand is
            // an instance, the other slots get one first.
            unsafe { #run }
        }
        unsafe extern "C" fn __hpy_trampoline(#tramp_params) -> #tramp_ret {
            // SAFETY: CPython calls this as the slot.
            unsafe { ::hpy::impl_::#tramp_body(#tramp_args __hpy_impl) }
        }
        ::hpy::impl_::StaticDef::slot(
            #sys::#slot,
            ::hpy::impl_::#erase(__hpy_impl),
            ::hpy::impl_::#erase_tramp(__hpy_trampoline),
        )
    }}
}

fn cpy() -> TokenStream {
    quote!(*mut ::hpy::impl_::sys::cpy_PyObject)
}

fn hpy() -> TokenStream {
    quote!(::hpy::impl_::sys::HPy)
}

/// `(ctx, a0) -> ret` slots (`REPRFUNC`, `UNARYFUNC`, hash, bool, len).
fn unary_sig<'a>(slot: &'a str, kind: &'static str) -> Slot<'a> {
    let (h, c) = (hpy(), cpy());
    let (ret, tramp_ret, error_value) = match kind {
        "hash" => (
            quote!(::hpy::impl_::sys::HPy_hash_t),
            quote!(::hpy::impl_::sys::HPy_hash_t),
            Some(quote!(-1)),
        ),
        "bool" => (
            quote!(::core::ffi::c_int),
            quote!(::core::ffi::c_int),
            Some(quote!(-1)),
        ),
        "len" => (
            quote!(::hpy::impl_::sys::HPy_ssize_t),
            quote!(::hpy::impl_::sys::HPy_ssize_t),
            Some(quote!(-1)),
        ),
        _ => (h.clone(), c.clone(), None),
    };
    Slot {
        slot,
        params: quote!(a0: #h),
        ret,
        error_value,
        tramp_params: quote!(a0: #c),
        tramp_args: quote!(a0,),
        tramp_ret,
        kind,
    }
}

/// `(ctx, a0, a1) -> HPy` (`BINARYFUNC`) or `-> c_int` (`OBJOBJPROC`).
fn binary_sig(slot: &str, objobj: bool) -> Slot<'_> {
    let (h, c) = (hpy(), cpy());
    let (ret, tramp_ret, error_value, kind) = if objobj {
        (
            quote!(::core::ffi::c_int),
            quote!(::core::ffi::c_int),
            Some(quote!(-1)),
            "objobj",
        )
    } else {
        (h.clone(), c.clone(), None, "binary")
    };
    Slot {
        slot,
        params: quote!(a0: #h, a1: #h),
        ret,
        error_value,
        tramp_params: quote!(a0: #c, a1: #c),
        tramp_args: quote!(a0, a1,),
        tramp_ret,
        kind,
    }
}

// ---------------------------------------------------------------------------
// The slot functions

/// A slot of one method that takes the instance and `n` plain arguments
/// (`__repr__`, `__neg__`, `__hash__`, `__len__`, `__getitem__`,
/// `__contains__`, ...).
pub(crate) fn simple_slot(m: &Method, d: Dunder, span: Span) -> syn::Result<Vec<TokenStream>> {
    let name = &m.err_name;
    let h0 = format_ident!("__hpy_a0");
    let (recv_bind, recv_arg) = receiver(m, &h0, "0", span)?;
    let bind0 = quote!(let #h0 = ::hpy::impl_::borrow_arg(ctx, a0););
    let mk = |sig: Slot<'_>, nargs: usize, wrap: &dyn Fn(TokenStream) -> TokenStream| {
        let hs: Vec<TokenStream> = (1..=nargs)
            .map(|i| {
                let h = format_ident!("__hpy_a{}", i);
                quote!(#h)
            })
            .collect();
        let arg_binds: TokenStream = (1..=nargs)
            .map(|i| {
                let h = format_ident!("__hpy_a{}", i);
                let raw = format_ident!("a{}", i);
                quote!(let #h = ::hpy::impl_::borrow_arg(ctx, #raw);)
            })
            .collect();
        let (holders, args) = arguments(m, &hs, false);
        let wrapped = wrap(call(m, &recv_arg, &args));
        let body = quote! {
            #bind0
            #arg_binds
            #recv_bind
            #holders
            #wrapped
        };
        slot_def(&sig, name, &markers([m]), body)
    };
    let into_return = |c: TokenStream| quote!(::hpy::impl_::IntoReturn::into_return(#c, ctx));
    Ok(match d {
        Dunder::Repr(slot) => {
            arity(m, 0, "nothing else", span)?;
            vec![mk(unary_sig(slot, "repr"), 0, &into_return)]
        }
        Dunder::Unary(slot) => {
            arity(m, 0, "nothing else", span)?;
            vec![mk(unary_sig(slot, "unary"), 0, &into_return)]
        }
        Dunder::Hash => {
            arity(m, 0, "nothing else", span)?;
            vec![mk(
                unary_sig("tp_hash", "hash"),
                0,
                &|c| quote!(::hpy::impl_::IntoHash::into_hash(#c)),
            )]
        }
        Dunder::Bool => {
            arity(m, 0, "nothing else", span)?;
            vec![mk(
                unary_sig("nb_bool", "bool"),
                0,
                &|c| quote!(::hpy::impl_::IntoBool::into_bool(#c)),
            )]
        }
        Dunder::Len => {
            arity(m, 0, "nothing else", span)?;
            let len = |c: TokenStream| quote!(::hpy::impl_::IntoLen::into_len(#c));
            // Both protocols ask for the length (`len()` tries the sequence's).
            vec![
                mk(unary_sig("mp_length", "len"), 0, &len),
                mk(unary_sig("sq_length", "len"), 0, &len),
            ]
        }
        Dunder::GetItem => {
            arity(m, 1, "the key", span)?;
            // `sq_item` too, as CPython gives a Python class with
            // `__getitem__`: iteration by index (`for x in obj`,
            // `reversed(obj)` with `__len__`) then works as on PyPy, which
            // finds `__getitem__` by name (the exec leaves `sq_item` out there:
            // PyPy would make it the `__getitem__`).
            let h1 = format_ident!("__hpy_a1");
            let (holders, args) = arguments(m, &[quote!(#h1)], false);
            let wrapped = into_return(call(m, &recv_arg, &args));
            let sq_item = slot_def(
                &Slot {
                    slot: "sq_item",
                    params: quote!(a0: ::hpy::impl_::sys::HPy, a1: ::hpy::impl_::sys::HPy_ssize_t),
                    ret: hpy(),
                    error_value: None,
                    tramp_params: quote!(a0: *mut ::hpy::impl_::sys::cpy_PyObject, a1: ::hpy::impl_::sys::HPy_ssize_t),
                    tramp_args: quote!(a0, a1,),
                    tramp_ret: cpy(),
                    kind: "ssizearg",
                },
                name,
                &markers([m]),
                quote! {
                    #bind0
                    let #h1 = ctx.new_int(a1)?;
                    #recv_bind
                    #holders
                    #wrapped
                },
            );
            vec![
                mk(binary_sig("mp_subscript", false), 1, &into_return),
                sq_item,
            ]
        }
        Dunder::Contains => {
            arity(m, 1, "the item", span)?;
            vec![mk(
                binary_sig("sq_contains", true),
                1,
                &|c| quote!(::hpy::impl_::IntoBool::into_bool(#c)),
            )]
        }
        other => unreachable!("not a simple slot: {other:?}"),
    })
}

/// `mp_ass_subscript`: `__setitem__(key, value)` and/or `__delitem__(key)`.
pub(crate) fn item_assignment(
    set: Option<(&Method, Span)>,
    del: Option<(&Method, Span)>,
    class: &Type,
) -> syn::Result<TokenStream> {
    let any = set.or(del).expect("one of them").0;
    let name = &any.err_name;
    let (h, c) = (hpy(), cpy());
    let sig = Slot {
        slot: "mp_ass_subscript",
        params: quote!(a0: #h, a1: #h, a2: #h),
        ret: quote!(::core::ffi::c_int),
        error_value: Some(quote!(-1)),
        tramp_params: quote!(a0: #c, a1: #c, a2: #c),
        tramp_args: quote!(a0, a1, a2,),
        tramp_ret: quote!(::core::ffi::c_int),
        kind: "objobjarg",
    };
    let h0 = format_ident!("__hpy_a0");
    let set_body = match set {
        Some((m, span)) => {
            arity(m, 2, "the key and the value", span)?;
            let (recv_bind, recv_arg) = receiver(m, &h0, "0", span)?;
            let (holders, args) = arguments(m, &[quote!(__hpy_a1), quote!(__hpy_a2)], false);
            let c = call(m, &recv_arg, &args);
            quote! {
                let __hpy_a2 = ::hpy::impl_::borrow_arg(ctx, a2);
                #recv_bind
                #holders
                ::hpy::impl_::IntoSetResult::into_set_result(#c)?;
                ::core::result::Result::Ok(0)
            }
        }
        None => {
            quote!(::core::result::Result::Err(::hpy::impl_::no_item_support::<#class>("assignment")))
        }
    };
    let del_body = match del {
        Some((m, span)) => {
            arity(m, 1, "the key", span)?;
            let (recv_bind, recv_arg) = receiver(m, &h0, "0", span)?;
            let (holders, args) = arguments(m, &[quote!(__hpy_a1)], false);
            let c = call(m, &recv_arg, &args);
            quote! {
                #recv_bind
                #holders
                ::hpy::impl_::IntoSetResult::into_set_result(#c)?;
                ::core::result::Result::Ok(0)
            }
        }
        None => {
            quote!(::core::result::Result::Err(::hpy::impl_::no_item_support::<#class>("deletion")))
        }
    };
    let methods: Vec<&Method> = set.iter().chain(del.iter()).map(|(m, _)| *m).collect();
    let body = quote! {
        let #h0 = ::hpy::impl_::borrow_arg(ctx, a0);
        let __hpy_a1 = ::hpy::impl_::borrow_arg(ctx, a1);
        if a2.is_null() {
            #del_body
        } else {
            #set_body
        }
    };
    Ok(slot_def(&sig, name, &markers(methods), body))
}

/// `tp_richcompare` from `__richcmp__(other, op)` or the six comparisons.
pub(crate) fn rich_compare(
    richcmp: Option<(&Method, Span)>,
    ops: &[(&'static str, &Method, Span)],
) -> syn::Result<TokenStream> {
    let (h, c) = (hpy(), cpy());
    let sig = Slot {
        slot: "tp_richcompare",
        params: quote!(a0: #h, a1: #h, op: ::hpy::impl_::sys::HPy_RichCmpOp),
        ret: h.clone(),
        error_value: None,
        tramp_params: quote!(a0: #c, a1: #c, op: ::core::ffi::c_int),
        tramp_args: quote!(a0, a1, op,),
        tramp_ret: c.clone(),
        kind: "richcmp",
    };
    let h0 = format_ident!("__hpy_a0");
    let body = if let Some((m, span)) = richcmp {
        if !ops.is_empty() {
            return Err(syn::Error::new(
                span,
                "define either `__richcmp__` or the comparisons (`__eq__`, `__lt__`, ...), not both",
            ));
        }
        arity(
            m,
            2,
            "the other object and the operator (`hpy::CompareOp`)",
            span,
        )?;
        let (recv_bind, recv_arg) = receiver(m, &h0, "0", span)?;
        let (holders, args) = arguments(m, &[quote!(__hpy_a1)], true);
        let c = call(m, &recv_arg, &[args[0].clone(), quote!(__hpy_op)]);
        quote! {
            let ::core::option::Option::Some(__hpy_op) = ::hpy::impl_::compare_op(op) else {
                return ::core::result::Result::Ok(::hpy::impl_::not_implemented(ctx));
            };
            let #h0 = ::hpy::impl_::borrow_arg(ctx, a0);
            let __hpy_a1 = ::hpy::impl_::borrow_arg(ctx, a1);
            #recv_bind
            #holders
            ::hpy::impl_::IntoReturn::into_return(#c, ctx)
        }
    } else {
        let mut arms = TokenStream::new();
        for (op, m, span) in ops {
            arity(m, 1, "the other object", *span)?;
            let (recv_bind, recv_arg) = receiver(m, &h0, "0", *span)?;
            let (holders, args) = arguments(m, &[quote!(__hpy_a1)], true);
            let c = call(m, &recv_arg, &args);
            let op = format_ident!("{}", op);
            arms.extend(quote! {
                ::core::option::Option::Some(::hpy::CompareOp::#op) => {
                    #recv_bind
                    #holders
                    ::hpy::impl_::IntoReturn::into_return(#c, ctx)
                }
            });
        }
        quote! {
            let #h0 = ::hpy::impl_::borrow_arg(ctx, a0);
            let __hpy_a1 = ::hpy::impl_::borrow_arg(ctx, a1);
            match ::hpy::impl_::compare_op(op) {
                #arms
                _ => ::core::result::Result::Ok(::hpy::impl_::not_implemented(ctx)),
            }
        }
    };
    let methods: Vec<&Method> = richcmp
        .iter()
        .map(|(m, _)| *m)
        .chain(ops.iter().map(|(_, m, _)| *m))
        .collect();
    let name = &methods[0].err_name;
    Ok(slot_def(&sig, name, &markers(methods), body))
}

/// A binary operator slot from `__op__` (the instance on the left) and/or
/// `__rop__` (on the right); `__pow__`/`__rpow__` also get the modulo (they
/// take it as a third parameter, or refuse one).
pub(crate) fn operator(
    slot: &'static str,
    forward: Option<(&Method, Span)>,
    reflected: Option<(&Method, Span)>,
    class: &Type,
    pow: bool,
) -> syn::Result<TokenStream> {
    let (h, c) = (hpy(), cpy());
    let sig = if pow {
        Slot {
            slot,
            params: quote!(a0: #h, a1: #h, a2: #h),
            ret: h.clone(),
            error_value: None,
            tramp_params: quote!(a0: #c, a1: #c, a2: #c),
            tramp_args: quote!(a0, a1, a2,),
            tramp_ret: c.clone(),
            kind: "ternary",
        }
    } else {
        binary_sig(slot, false)
    };
    // One side: the instance is `inst`, the other operand `other`.
    let side = |m: &Method,
                span: Span,
                inst: &str,
                other: &str,
                tag: &str|
     -> syn::Result<TokenStream> {
        let inst = format_ident!("{}", inst);
        let other = format_ident!("{}", other);
        let n = m.param_count();
        let modulo = pow && n == 2;
        if !(n == 1 || modulo) {
            return Err(syn::Error::new(
                span,
                if pow {
                    format!(
                        "`{}` takes the instance, the other operand and optionally the modulo",
                        m.py_name
                    )
                } else {
                    format!("`{}` takes the instance and the other operand", m.py_name)
                },
            ));
        }
        let free = python_free_operator(m, class);
        let (recv_bind, recv_arg) = if free {
            // The borrow flags checked, not taken (see `python_free_operator`).
            peeked_receiver(m, &inst, tag)
        } else {
            receiver(m, &inst, tag, span)?
        };
        let hs: Vec<TokenStream> = if modulo {
            vec![quote!(#other), quote!(__hpy_modulo)]
        } else {
            vec![quote!(#other)]
        };
        let (mut holders, mut args) = arguments(m, &hs, true);
        // An operand of the class itself (`other: &Point`) is checked
        // against the type the slot loaded (no second load).
        let first = m.params().next().map(|(_, ty)| ty.clone());
        if let Some(ty) = first.filter(|ty| is_class_ref(ty, class)) {
            let holder = format_ident!("__hpy_operand_{}", tag);
            let mut rest = TokenStream::new();
            if modulo {
                let (h2, a2) = arguments_from(m, 1, &hs[1..]);
                rest = h2;
                args = vec![quote!(&*#holder), a2[0].clone()];
            } else {
                args = vec![quote!(&*#holder)];
            }
            let _ = ty;
            let borrow = if free {
                quote!(::hpy::impl_::peek_with_type)
            } else {
                quote!(::hpy::impl_::borrow_with_type)
            };
            holders = quote! {
                let #holder = match #borrow::<#class>(&#other, &__hpy_ty) {
                    ::core::result::Result::Ok(r) => r,
                    ::core::result::Result::Err(e) => return ::hpy::impl_::not_implemented_or(ctx, e),
                };
                #rest
            };
        }
        let mut c = call(m, &recv_arg, &args);
        if free {
            // The references end with the call: its result borrows nothing.
            c = quote!(::hpy::impl_::owned_return(#c));
        }
        let no_modulo = if pow && !modulo {
            // A two-parameter `__pow__` has no modulo: pow(a, b, m) is not for it.
            quote! {
                if !__hpy_modulo.is_none() {
                    return ::core::result::Result::Ok(::hpy::impl_::not_implemented(ctx));
                }
            }
        } else {
            quote!()
        };
        // A result of the class itself is made with the loaded type.
        let ret = if returns_class(m, class) {
            quote!(::hpy::impl_::IntoInstance::<#class>::into_instance(#c, ctx, &__hpy_ty))
        } else {
            quote!(::hpy::impl_::IntoReturn::into_return(#c, ctx))
        };
        Ok(quote! {
            (|| -> ::hpy::Result<::hpy::impl_::sys::HPy> {
                #no_modulo
                #recv_bind
                #holders
                #ret
            })()
        })
    };
    // The class is loaded once per call, for the operand checks and the result.
    let mut body = quote! {
        let __hpy_left = ::hpy::impl_::borrow_arg(ctx, a0);
        let __hpy_right = ::hpy::impl_::borrow_arg(ctx, a1);
        // Lent, not loaded: an operand that is an instance keeps the class
        // alive whenever it is used after Python code may have run.
        let __hpy_ty = ::hpy::impl_::class_type_lent::<#class>(ctx)?;
    };
    if pow {
        body.extend(quote!(let __hpy_modulo = ::hpy::impl_::borrow_arg(ctx, a2);));
    }
    if let Some((m, span)) = forward {
        let s = side(m, span, "__hpy_left", "__hpy_right", "l")?;
        if reflected.is_some() {
            // `NotImplemented` from the left lets the right side try.
            body.extend(quote! {
                if ::hpy::impl_::instance_with_type(&__hpy_left, &__hpy_ty) {
                    let __hpy_r = #s?;
                    if !::hpy::impl_::is_not_implemented(ctx, __hpy_r) {
                        return ::core::result::Result::Ok(__hpy_r);
                    }
                    ::hpy::impl_::close_raw(ctx, __hpy_r);
                }
            });
        } else {
            body.extend(quote! {
                if ::hpy::impl_::instance_with_type(&__hpy_left, &__hpy_ty) {
                    return #s;
                }
            });
        }
    }
    if let Some((m, span)) = reflected {
        let s = side(m, span, "__hpy_right", "__hpy_left", "r")?;
        body.extend(quote! {
            if ::hpy::impl_::instance_with_type(&__hpy_right, &__hpy_ty) {
                return #s;
            }
        });
    }
    body.extend(quote!(::core::result::Result::Ok(
        ::hpy::impl_::not_implemented(ctx)
    )));
    let methods: Vec<&Method> = forward
        .iter()
        .chain(reflected.iter())
        .map(|(m, _)| *m)
        .collect();
    let name = &methods[0].err_name;
    Ok(slot_def(&sig, name, &markers(methods), body))
}

/// An in-place operator (`__iadd__`, ...): the instance (on the left) and
/// the other operand; the result is the instance itself.
pub(crate) fn in_place(m: &Method, slot: &'static str, span: Span) -> syn::Result<TokenStream> {
    let pow = slot == "nb_inplace_power";
    let n = m.param_count();
    if !(n == 1 || (pow && n == 2)) {
        return Err(syn::Error::new(
            span,
            format!("`{}` takes the instance and the other operand", m.py_name),
        ));
    }
    let (h, c) = (hpy(), cpy());
    let sig = if pow {
        Slot {
            slot,
            params: quote!(a0: #h, a1: #h, a2: #h),
            ret: h.clone(),
            error_value: None,
            tramp_params: quote!(a0: #c, a1: #c, a2: #c),
            tramp_args: quote!(a0, a1, a2,),
            tramp_ret: c.clone(),
            kind: "ternary",
        }
    } else {
        binary_sig(slot, false)
    };
    let h0 = format_ident!("__hpy_a0");
    let (recv_bind, recv_arg) = receiver(m, &h0, "0", span)?;
    let hs: Vec<TokenStream> = if n == 2 {
        vec![quote!(__hpy_a1), quote!(__hpy_a2)]
    } else {
        vec![quote!(__hpy_a1)]
    };
    let (holders, args) = arguments(m, &hs, true);
    let cl = call(m, &recv_arg, &args);
    let bind2 = if pow {
        quote!(let __hpy_a2 = ::hpy::impl_::borrow_arg(ctx, a2);)
    } else {
        quote!()
    };
    let body = quote! {
        let #h0 = ::hpy::impl_::borrow_arg(ctx, a0);
        let __hpy_a1 = ::hpy::impl_::borrow_arg(ctx, a1);
        #bind2
        {
            #recv_bind
            #holders
            ::hpy::impl_::IntoInPlace::into_in_place(#cl)?;
        }
        ::core::result::Result::Ok(#h0.dup().into_raw())
    };
    Ok(slot_def(&sig, &m.err_name, &markers([m]), body))
}

/// `bf_getbuffer`: `__getbuffer__(&self) -> &[T]` (or `&mut self -> &mut
/// [T]`); the borrow is kept until `bf_releasebuffer` (`release_buffer`).
pub(crate) fn getbuffer(m: &Method, span: Span) -> syn::Result<TokenStream> {
    if !matches!(m.receiver, Receiver::Ref | Receiver::Mut) {
        return Err(syn::Error::new(
            span,
            "`__getbuffer__` takes `&self` (and returns `&[T]`) or `&mut self` (and returns `&mut [T]`): the borrow lasts as long as the buffer",
        ));
    }
    arity(m, 0, "nothing else", span)?;
    let name = &m.err_name;
    let h0 = format_ident!("__hpy_a0");
    let (recv_bind, recv_arg) = receiver(m, &h0, "0", span)?;
    let recv = format_ident!("__hpy_recv_0");
    let call = call(m, &recv_arg, &[]);
    let sys = quote!(::hpy::impl_::sys);
    Ok(quote! {{
        #[inline(always)]
        unsafe extern "C" fn __hpy_impl(
            ctx: *mut #sys::HPyContext,
            a0: #sys::HPy,
            view: *mut #sys::HPy_buffer,
            flags: ::core::ffi::c_int,
        ) -> ::core::ffi::c_int {
            // SAFETY: the runtime calls `bf_getbuffer` with the call's context, the
            // instance (borrowed) and the view to fill.
            unsafe {
                ::hpy::impl_::run_inquiry(ctx, #name, |ctx| {
                    let #h0 = ::hpy::impl_::borrow_arg(ctx, a0);
                    #recv_bind
                    let __hpy_parts = ::hpy::impl_::IntoBuffer::into_buffer(#call)?;
                    ::hpy::impl_::fill_buffer(ctx, &#h0, view, flags, __hpy_parts)?;
                    // The borrow lasts until `bf_releasebuffer` gives it back.
                    ::core::mem::forget(#recv);
                    ::core::result::Result::Ok(())
                })
            }
        }
        unsafe extern "C" fn __hpy_trampoline(
            slf: *mut #sys::cpy_PyObject,
            view: *mut #sys::cpy_Py_buffer,
            flags: ::core::ffi::c_int,
        ) -> ::core::ffi::c_int {
            // SAFETY: CPython calls this as `bf_getbuffer`.
            unsafe { ::hpy::impl_::trampoline_getbuffer(slf, view, flags, __hpy_impl) }
        }
        ::hpy::impl_::StaticDef::slot(
            #sys::HPy_bf_getbuffer,
            ::hpy::impl_::erase_getbuffer(__hpy_impl),
            ::hpy::impl_::erase_getbuffer_trampoline(__hpy_trampoline),
        )
    }})
}
