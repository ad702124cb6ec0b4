//! The `signature = (a, b = 1, /, c, *, d)` option of `#[hpy_method]`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

/// One item of a signature.
pub(crate) enum SigItem {
    /// A parameter, with its default value.
    Param { name: Ident, default: Option<Expr> },
    /// `/`: the parameters before it are positional-only.
    Slash(Span),
    /// `*`: the parameters after it are keyword-only.
    Star(Span),
    /// `*args`: the extra positional arguments (the parameters after it are
    /// keyword-only).
    VarArgs(Ident),
    /// `**kwargs`: the extra keyword arguments (last).
    VarKwargs(Ident),
}

impl Parse for SigItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Token![/]) {
            let t: Token![/] = input.parse()?;
            return Ok(SigItem::Slash(t.span));
        }
        if input.peek(Token![*]) {
            let t: Token![*] = input.parse()?;
            if input.peek(Token![*]) {
                input.parse::<Token![*]>()?;
                return Ok(SigItem::VarKwargs(input.parse()?));
            }
            if input.peek(Ident) {
                return Ok(SigItem::VarArgs(input.parse()?));
            }
            return Ok(SigItem::Star(t.span));
        }
        let name: Ident = input.parse()?;
        let default = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse::<Expr>()?)
        } else {
            None
        };
        Ok(SigItem::Param { name, default })
    }
}

/// A parsed `signature = (...)`.
pub(crate) struct Signature {
    pub(crate) items: Vec<SigItem>,
    pub(crate) span: Span,
}

impl Parse for Signature {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        let paren = syn::parenthesized!(content in input);
        let items = Punctuated::<SigItem, Token![,]>::parse_terminated(&content)?;
        Ok(Signature {
            items: items.into_iter().collect(),
            span: paren.span.join(),
        })
    }
}

/// How a parameter may be passed.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    PositionalOnly,
    PositionalOrKeyword,
    KeywordOnly,
    /// `*args`.
    VarPositional,
    /// `**kwargs`.
    VarKeyword,
}

/// Renders a default value for `__text_signature__`: literals as Python
/// literals (also inside a one-argument constructor, `Some(5)` or
/// `CInt(0)`, and under `.into()`, `.to_string()`, `.to_owned()`), anything
/// else as `...`.
pub(crate) fn python_default(expr: &Expr) -> String {
    match expr {
        Expr::Call(call) if call.args.len() == 1 => python_default(&call.args[0]),
        Expr::MethodCall(m)
            if m.args.is_empty()
                && ["into", "to_string", "to_owned", "into_owned"]
                    .contains(&m.method.to_string().as_str()) =>
        {
            python_default(&m.receiver)
        }
        Expr::Paren(p) => python_default(&p.expr),
        Expr::Lit(lit) => match &lit.lit {
            syn::Lit::Int(i) => i.base10_digits().to_owned(),
            syn::Lit::Float(f) => f.base10_digits().to_owned(),
            syn::Lit::Bool(b) => if b.value { "True" } else { "False" }.to_owned(),
            syn::Lit::Str(s) => {
                let v = s.value();
                if v.chars().all(|c| c.is_ascii_graphic() || c == ' ')
                    && !v.contains('\'')
                    && !v.contains('\\')
                {
                    format!("'{v}'")
                } else {
                    "...".to_owned()
                }
            }
            _ => "...".to_owned(),
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            let inner = python_default(&u.expr);
            if inner == "..." {
                inner
            } else {
                format!("-{inner}")
            }
        }
        Expr::Path(p) if p.path.is_ident("None") => "None".to_owned(),
        _ => "...".to_owned(),
    }
}
