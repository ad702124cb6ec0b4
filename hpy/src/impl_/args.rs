//! Arguments: borrowing them, converting them, and sorting the positional and
//! keyword arguments of a call into parameters, with CPython's messages.

use core::mem::ManuallyDrop;

use super::sys;
use crate::conv::FromPy;
use crate::err::{Error, Result, exc::TypeError};
use crate::{Context, Handle};
use sys::HPy;

// ---------------------------------------------------------------------------
// Arguments

/// A borrowed argument: a `Handle` that is never closed by us.
///
/// # Safety
/// `raw` must be an open handle of `ctx` for the rest of the call.
#[inline(always)]
pub unsafe fn borrow_arg<'ctx>(ctx: &'ctx Context, raw: HPy) -> ManuallyDrop<Handle<'ctx>> {
    // SAFETY: forwarded from the caller; `ManuallyDrop` keeps us from closing it.
    ManuallyDrop::new(unsafe { Handle::from_raw(ctx, raw) })
}

/// A borrowed argument that may be missing (NULL).
///
/// # Safety
/// `raw` must be NULL or an open handle of `ctx` for the rest of the call.
#[inline(always)]
pub unsafe fn borrow_opt<'ctx>(ctx: &'ctx Context, raw: HPy) -> Option<ManuallyDrop<Handle<'ctx>>> {
    if raw.is_null() {
        None
    } else {
        // SAFETY: forwarded from the caller.
        Some(unsafe { borrow_arg(ctx, raw) })
    }
}

/// Converts argument `arg` of function `func`, naming both in a wrong-type error.
#[inline(always)]
pub fn extract_arg<'a, 'ctx, T: FromPy<'a, 'ctx>>(
    obj: &'a Handle<'ctx>,
    func: &str,
    arg: &str,
) -> Result<T> {
    match T::from_py(obj) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.for_argument(func, arg)),
    }
}

/// The conversion of one parameter of an `#[hpy_method]`: [`extract_arg`]
/// for any `FromPy` type. `Name` is a unit struct the macro names after the
/// parameter, so that a type without a conversion is reported as
/// "parameter `p`: `Point` cannot be converted from a Python object".
#[diagnostic::on_unimplemented(
    message = "parameter `{Name}`: `{Self}` cannot be converted from a Python object",
    label = "no `hpy::FromPy` conversion for this type",
    note = "implement `hpy::FromPy` for it, or take `&hpy::Handle<'_>` and convert inside the function"
)]
pub trait Parameter<'a, 'ctx, Name>: Sized {
    /// Converts argument `arg` of function `func`, naming both in a wrong-type error.
    fn extract(obj: &'a Handle<'ctx>, func: &str, arg: &str) -> Result<Self>;
}

impl<'a, 'ctx, Name, T: FromPy<'a, 'ctx>> Parameter<'a, 'ctx, Name> for T {
    #[inline(always)]
    fn extract(obj: &'a Handle<'ctx>, func: &str, arg: &str) -> Result<Self> {
        extract_arg(obj, func, arg)
    }
}

/// The conversion of a parameter of reference type `&X` (`Self` is `X`):
/// `&str`, `&[u8]` and `&Handle` borrow from the argument; `&T` for a
/// `#[hpy_class]` `T` borrows the struct inside it, with a guard kept in
/// `holder` for the call (so `a.merge(a)` with `&mut self` and `&Self`
/// raises instead of aliasing).
#[diagnostic::on_unimplemented(
    message = "parameter `{Name}`: `&{Self}` cannot be converted from a Python object",
    label = "no conversion to a reference of this type",
    note = "a reference parameter is `&str`, `&[u8]`, `&Handle<'py>` or `&T` for a `#[hpy_class]` `T`; take an owned value otherwise"
)]
pub trait RefParameter<'h, 'ctx, Name> {
    /// What keeps the borrow alive for the call.
    type Holder: 'h;
    /// Converts argument `arg` of function `func`; the reference lives as
    /// long as the holder's borrow.
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        holder: &'a mut Option<Self::Holder>,
        func: &str,
        arg: &str,
    ) -> Result<&'a Self>
    where
        'h: 'a;
}

impl<'h, 'ctx, Name> RefParameter<'h, 'ctx, Name> for str {
    type Holder = ();
    #[inline(always)]
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        _: &'a mut Option<()>,
        func: &str,
        arg: &str,
    ) -> Result<&'a str>
    where
        'h: 'a,
    {
        extract_arg(obj, func, arg)
    }
}

impl<'h, 'ctx, Name> RefParameter<'h, 'ctx, Name> for [u8] {
    type Holder = ();
    #[inline(always)]
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        _: &'a mut Option<()>,
        func: &str,
        arg: &str,
    ) -> Result<&'a [u8]>
    where
        'h: 'a,
    {
        extract_arg(obj, func, arg)
    }
}

impl<'h, 'ctx, Name> RefParameter<'h, 'ctx, Name> for Handle<'ctx> {
    type Holder = ();
    #[inline(always)]
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        _: &'a mut Option<()>,
        _: &str,
        _: &str,
    ) -> Result<&'a Self>
    where
        'h: 'a,
    {
        Ok(obj)
    }
}

impl<'h, 'ctx, Name, T: crate::Class> RefParameter<'h, 'ctx, Name> for T {
    type Holder = crate::Ref<'h, T>;
    #[inline(always)]
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        holder: &'a mut Option<crate::Ref<'h, T>>,
        func: &str,
        arg: &str,
    ) -> Result<&'a T>
    where
        'h: 'a,
    {
        match obj.borrow::<T>() {
            Ok(r) => Ok(&**holder.insert(r)),
            Err(e) => Err(e.for_argument(func, arg)),
        }
    }
}

/// The conversion of a parameter of type `&mut T` for a `#[hpy_class]` `T`.
#[diagnostic::on_unimplemented(
    message = "parameter `{Name}`: `&mut {Self}` cannot be converted from a Python object",
    label = "only the struct of a `#[hpy_class]` that is not `frozen` can be borrowed mutably",
    note = "take `&mut T` for a `#[hpy_class]` `T` that is not `frozen`, or an owned value"
)]
pub trait MutParameter<'h, 'ctx, Name> {
    /// What keeps the borrow alive for the call.
    type Holder: 'h;
    /// Converts argument `arg` of function `func`.
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        holder: &'a mut Option<Self::Holder>,
        func: &str,
        arg: &str,
    ) -> Result<&'a mut Self>
    where
        'h: 'a;
}

impl<'h, 'ctx, Name, T: crate::class::Mutable> MutParameter<'h, 'ctx, Name> for T {
    type Holder = crate::RefMut<'h, T>;
    #[inline(always)]
    fn extract<'a>(
        obj: &'h Handle<'ctx>,
        holder: &'a mut Option<crate::RefMut<'h, T>>,
        func: &str,
        arg: &str,
    ) -> Result<&'a mut T>
    where
        'h: 'a,
    {
        match obj.borrow_mut::<T>() {
            Ok(r) => Ok(&mut **holder.insert(r)),
            Err(e) => Err(e.for_argument(func, arg)),
        }
    }
}

/// The first argument of a classmethod's function (the class), and the
/// others.
///
/// # Safety
/// `args` holds `nargs` handles borrowed for the call.
#[inline(always)]
pub unsafe fn take_cls<'ctx>(
    ctx: &'ctx Context,
    args: *const HPy,
    nargs: usize,
    func: &str,
) -> Result<(ManuallyDrop<Handle<'ctx>>, *const HPy, usize)> {
    if nargs == 0 {
        return Err(TypeError::new_err(format!(
            "{func}() needs the class first"
        )));
    }
    // SAFETY: `args` holds at least one handle, borrowed for the call.
    Ok(unsafe { (borrow_arg(ctx, *args), args.add(1), nargs - 1) })
}

/// Checks the number of positional arguments of a VARARGS function.
#[inline(always)]
pub fn check_positional(func: &str, nargs: usize, min: usize, max: usize) -> Result<()> {
    if nargs < min || nargs > max {
        Err(positional_count_error(func, nargs, min, max))
    } else {
        Ok(())
    }
}

/// `f() takes exactly 2 arguments (3 given)`, CPython's wording for C functions.
#[cold]
#[inline(never)]
fn positional_count_error(func: &str, nargs: usize, min: usize, max: usize) -> Error {
    let (how, n) = if min == max {
        ("exactly", min)
    } else if nargs < min {
        ("at least", min)
    } else {
        ("at most", max)
    };
    let s = if n == 1 { "" } else { "s" };
    TypeError::new_err(format!(
        "{func}() takes {how} {n} argument{s} ({nargs} given)"
    ))
}

/// The static description of a KEYWORDS function's parameters.
#[derive(Debug)]
pub struct KeywordSpec {
    /// The function's Python name.
    pub func: &'static str,
    /// All parameter names, in order.
    pub params: &'static [&'static str],
    /// How many leading parameters are positional-only.
    pub positional_only: usize,
    /// How many leading parameters may be given by position.
    pub max_positional: usize,
    /// Which parameters must be given (no default).
    pub required: &'static [bool],
    /// Whether `*args` takes the positional arguments beyond `max_positional`.
    pub var_positional: bool,
    /// Whether `**kwargs` takes the keyword arguments no parameter takes.
    pub var_keyword: bool,
}

impl KeywordSpec {
    /// The fewest positional arguments that give every required parameter,
    /// or `usize::MAX` when a keyword-only parameter is required (no call by
    /// position alone is complete).
    #[inline(always)]
    pub const fn min_positional(&self) -> usize {
        let mut i = self.required.len();
        while i > 0 {
            if self.required[i - 1] {
                return if i <= self.max_positional {
                    i
                } else {
                    usize::MAX
                };
            }
            i -= 1;
        }
        0
    }
}

/// The `*args` and `**kwargs` of a call: a tuple (empty when there are none),
/// and a dict, or `None` when no keyword went there.
#[derive(Debug)]
pub struct VarArgs<'ctx> {
    /// `*args`: the positional arguments beyond the parameters.
    pub args: Handle<'ctx>,
    /// `**kwargs`: the keyword arguments no parameter takes.
    pub kwargs: Option<Handle<'ctx>>,
}

/// Sorts the arguments of a KEYWORDS call into one slot per parameter (NULL
/// for a parameter not given), with CPython's error messages for wrong calls.
///
/// # Safety
/// `ctx` must be live; `args` must hold `nargs` positional handles followed by
/// one handle per name in `kwnames` (a tuple of str, or NULL), as the runtime
/// passes them to a KEYWORDS impl.
#[inline(always)]
pub unsafe fn parse_keywords<const N: usize>(
    ctx: &Context,
    spec: &KeywordSpec,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> Result<[HPy; N]> {
    debug_assert!(!spec.var_positional && !spec.var_keyword);
    let mut slots = [HPy::NULL; N];
    // The common call, by position only and complete: no sorting to do.
    if kwnames.is_null() && nargs <= spec.max_positional && nargs >= spec.min_positional() {
        // A loop over the N slots (a constant), not a `memcpy` call: a
        // call's cost would be most of the copy of a few handles.
        for (i, slot) in slots.iter_mut().enumerate() {
            if i < nargs {
                // SAFETY: `args` holds `nargs` handles (caller's contract).
                *slot = unsafe { *args.add(i) };
            }
        }
        return Ok(slots);
    }
    // SAFETY: forwarded from the caller.
    unsafe { sort_keywords(ctx, spec, args, nargs, kwnames, &mut slots) }?;
    Ok(slots)
}

/// [`parse_keywords`] for a call with keywords, or incomplete: kept out of
/// line, so that the common call inlines only the copy.
///
/// # Safety
/// As for [`parse_keywords`].
#[inline(never)]
unsafe fn sort_keywords(
    ctx: &Context,
    spec: &KeywordSpec,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    slots: &mut [HPy],
) -> Result<()> {
    // SAFETY: forwarded from the caller; without `**kwargs` no keyword is extra.
    unsafe {
        sort_arguments(ctx, spec, args, nargs, kwnames, slots, |_, _| {
            unreachable_extra()
        })
    }
}

/// [`parse_keywords`] for a function with `*args` or `**kwargs`: also the
/// tuple of the extra positional arguments and the dict of the extra
/// keyword arguments (Python's rules: a keyword that names a positional-only
/// parameter goes to `**kwargs` too).
///
/// # Safety
/// As for [`parse_keywords`].
pub unsafe fn parse_var_keywords<'ctx, const N: usize>(
    ctx: &'ctx Context,
    spec: &KeywordSpec,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> Result<([HPy; N], VarArgs<'ctx>)> {
    let mut slots = [HPy::NULL; N];
    let mut kwargs: Option<Handle<'ctx>> = None;
    // SAFETY: forwarded from the caller; `value` is one of its argument handles.
    unsafe {
        sort_arguments(
            ctx,
            spec,
            args,
            nargs,
            kwnames,
            &mut slots,
            |name, value| {
                let dict = match &kwargs {
                    Some(d) => d,
                    None => kwargs.insert(ctx.new_dict()?),
                };
                let value = core::mem::ManuallyDrop::new(Handle::from_raw(ctx, value));
                dict.set_item(name, &*value)
            },
        )
    }?;
    let extra = nargs.saturating_sub(spec.max_positional);
    // SAFETY: `args` holds `nargs` handles; the extra ones follow the
    // positional parameters; the tuple takes its own references.
    let args = unsafe {
        let start = args.add(nargs - extra);
        ctx.tuple_from_raw(core::slice::from_raw_parts(start, extra))
    }?;
    Ok((slots, VarArgs { args, kwargs }))
}

#[cold]
fn unreachable_extra() -> Result<()> {
    Err(crate::exc::SystemError::new_err(
        "a keyword argument reached no parameter",
    ))
}

/// The common part: positional arguments to the first slots (the rest to
/// `*args`, if any), keywords to their slots or to `extra` (with `**kwargs`),
/// then the check that every required parameter was given.
///
/// # Safety
/// As for [`parse_keywords`]; `extra` gets the name and a borrowed value handle.
#[inline]
unsafe fn sort_arguments(
    ctx: &Context,
    spec: &KeywordSpec,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    slots: &mut [HPy],
    mut extra: impl FnMut(&Handle<'_>, HPy) -> Result<()>,
) -> Result<()> {
    debug_assert_eq!(spec.params.len(), slots.len());
    if nargs > spec.max_positional && !spec.var_positional {
        return Err(too_many_positional(spec, nargs));
    }
    for (i, slot) in slots
        .iter_mut()
        .enumerate()
        .take(nargs.min(spec.max_positional))
    {
        // SAFETY: `args` holds at least `nargs` handles (caller's contract).
        *slot = unsafe { *args.add(i) };
    }
    if !kwnames.is_null() {
        let raw = ctx.as_raw();
        // SAFETY: `kwnames` is a tuple owned by the caller for the call.
        let nkw = unsafe { sys::HPy_Length(raw, kwnames) };
        for k in 0..nkw.max(0) as usize {
            // SAFETY: `k` < len(kwnames); `HPy_GetItem_i` returns a new handle.
            let name = unsafe {
                Handle::from_raw_result(ctx, sys::HPy_GetItem_i(raw, kwnames, k as isize))
            }?;
            // SAFETY: keyword values follow the `nargs` positional arguments.
            let value = unsafe { *args.add(nargs + k) };
            // Lone surrogates (no valid UTF-8) name no parameter.
            let index = name
                .as_str()
                .ok()
                .and_then(|n| spec.params.iter().position(|p| *p == n));
            if index.is_none() {
                ctx.err_clear(); // what reading the name may have raised
            }
            let index = match index {
                Some(i) if i >= spec.positional_only => i,
                _ if spec.var_keyword => {
                    extra(&name, value)?;
                    continue;
                }
                Some(_) => {
                    return Err(positional_only_given_by_keyword(spec, name.as_str()?));
                }
                None => return Err(unexpected_keyword_named(ctx, spec, &name)),
            };
            if !slots[index].is_null() {
                return Err(TypeError::new_err(format!(
                    "{}() got multiple values for argument '{}'",
                    spec.func, spec.params[index]
                )));
            }
            slots[index] = value;
        }
    }
    if let Some(missing) = (0..slots.len()).find(|&i| spec.required[i] && slots[i].is_null()) {
        return Err(missing_arguments(spec, slots, missing));
    }
    Ok(())
}

/// The `TypeError` for a keyword that names no parameter.
#[cold]
fn unexpected_keyword_named(ctx: &Context, spec: &KeywordSpec, name: &Handle<'_>) -> Error {
    match name.as_str() {
        Ok(name) => unexpected_keyword(spec, name),
        Err(_) => unexpected_keyword_object(ctx, spec, name),
    }
}

#[cold]
fn too_many_positional(spec: &KeywordSpec, nargs: usize) -> Error {
    let max = spec.max_positional;
    let min = spec.required[..max].iter().filter(|r| **r).count();
    let takes = if min == max {
        format!("{max}")
    } else {
        format!("from {min} to {max}")
    };
    let s = if max == 1 && min == max { "" } else { "s" };
    let were = if nargs == 1 { "was" } else { "were" };
    TypeError::new_err(format!(
        "{}() takes {takes} positional argument{s} but {nargs} {were} given",
        spec.func
    ))
}

#[cold]
fn unexpected_keyword(spec: &KeywordSpec, name: &str) -> Error {
    TypeError::new_err(format!(
        "{}() got an unexpected keyword argument '{name}'",
        spec.func
    ))
}

/// The `TypeError` for a keyword name that is no valid UTF-8 (a `str` with
/// lone surrogates), which only Python can format: CPython's message, with the
/// name as it is.
#[cold]
fn unexpected_keyword_object(ctx: &Context, spec: &KeywordSpec, name: &Handle<'_>) -> Error {
    ctx.err_clear(); // the UnicodeEncodeError of reading the name as UTF-8
    let message = format!("{}() got an unexpected keyword argument '%s'", spec.func);
    let formatted = ctx
        .new_str(&message)
        .and_then(|m| m.rem(name))
        .map(|m| Error::set_object(&crate::exc::TypeError::type_object(ctx), &m));
    match formatted {
        Ok(e) | Err(e) => e,
    }
}

#[cold]
fn positional_only_given_by_keyword(spec: &KeywordSpec, name: &str) -> Error {
    TypeError::new_err(format!(
        "{}() got some positional-only arguments passed as keyword arguments: '{name}'",
        spec.func
    ))
}

#[cold]
fn missing_arguments(spec: &KeywordSpec, slots: &[HPy], first: usize) -> Error {
    let keyword_only = first >= spec.max_positional;
    let missing: Vec<&str> = (0..slots.len())
        .filter(|&i| {
            spec.required[i] && slots[i].is_null() && (i >= spec.max_positional) == keyword_only
        })
        .map(|i| spec.params[i])
        .collect();
    let kind = if keyword_only {
        "keyword-only"
    } else {
        "positional"
    };
    let s = if missing.len() == 1 { "" } else { "s" };
    let names: Vec<String> = missing.iter().map(|n| format!("'{n}'")).collect();
    let names = match names.len() {
        1 => names[0].clone(),
        2 => format!("{} and {}", names[0], names[1]),
        _ => format!(
            "{}, and {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        ),
    };
    TypeError::new_err(format!(
        "{}() missing {} required {kind} argument{s}: {names}",
        spec.func,
        missing.len()
    ))
}

/// The arguments of a NEWFUNC or INITPROC call (positional ones as an
/// array, keywords as a dict) in the shape of a KEYWORDS call: the
/// positional arguments followed by the keyword values, and a tuple of the
/// keyword names. It owns what it made for the call.
#[derive(Debug)]
pub struct DictCall<'ctx> {
    /// The positional arguments, then the keyword values: the call's own
    /// array (positional arguments only, or PyPy's KEYWORDS form), or the
    /// array made for keywords from a dict.
    args: *const HPy,
    /// The number of positional arguments.
    nargs: usize,
    /// What the keywords need: `None` without keywords, so that the common
    /// call is three words and never allocates.
    keywords: Option<Box<DictKeywords<'ctx>>>,
}

/// The keyword part of a [`DictCall`].
#[derive(Debug)]
struct DictKeywords<'ctx> {
    /// The keyword names, a tuple.
    kwnames: Handle<'ctx>,
    /// The array made for keywords from a dict (empty for PyPy's form):
    /// only kept, `DictCall::args` points into it.
    _owned: Vec<HPy>,
    /// The keyword values, owned (only kept) for the call.
    _values: Vec<Handle<'ctx>>,
}

impl Drop for DictCall<'_> {
    /// Keyword-less calls (nearly all) have nothing to drop: that test is
    /// inlined, the rest is not.
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(keywords) = self.keywords.take() {
            drop_keywords(keywords);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_keywords(keywords: Box<DictKeywords<'_>>) {
    drop(keywords);
}

impl DictCall<'_> {
    /// Where the arguments start (as a KEYWORDS call's `args`).
    #[inline(always)]
    pub fn args(&self) -> *const HPy {
        self.args
    }

    /// The number of positional arguments.
    #[inline(always)]
    pub fn nargs(&self) -> usize {
        self.nargs
    }

    /// The tuple of keyword names, or NULL.
    #[inline(always)]
    pub fn kwnames(&self) -> HPy {
        self.keywords
            .as_ref()
            .map_or(HPy::NULL, |k| k.kwnames.as_raw())
    }
}

/// Converts a NEWFUNC/INITPROC call's arguments into a [`DictCall`].
///
/// HPy passes the keywords as a dict (CPython's `hpy` package); PyPy 7.3.19
/// passes them as a KEYWORDS call does, a tuple of names whose values follow
/// the `nargs` positional arguments (`call_varargs_kw` in its
/// `interp_extfunc.py`). Both are taken.
///
/// # Safety
/// `ctx` must be live; `args` must hold `nargs` handles and `kw` be a dict
/// or NULL, or a tuple of names whose values follow at `args[nargs..]`, all
/// borrowed for the call.
#[inline(always)]
pub unsafe fn dict_call<'ctx>(
    ctx: &'ctx Context,
    args: *const HPy,
    nargs: sys::HPy_ssize_t,
    kw: HPy,
) -> Result<DictCall<'ctx>> {
    let nargs = usize::try_from(nargs).unwrap_or(0);
    // The common case, positional arguments only: the call's own array.
    if kw.is_null() {
        return Ok(DictCall {
            args,
            nargs,
            keywords: None,
        });
    }
    // SAFETY: forwarded from the caller; `kw` is not NULL.
    unsafe { dict_call_keywords(ctx, args, nargs, kw) }
}

/// [`dict_call`] with keywords.
///
/// # Safety
/// As for [`dict_call`]; `kw` is not NULL.
#[inline(never)]
unsafe fn dict_call_keywords<'ctx>(
    ctx: &'ctx Context,
    args: *const HPy,
    nargs: usize,
    kw: HPy,
) -> Result<DictCall<'ctx>> {
    let positional = DictCall {
        args,
        nargs,
        keywords: None,
    };
    // SAFETY: the context is live; `kw` is open for the call.
    let kwnames = unsafe { sys::HPyTuple_Check(ctx.as_raw(), kw) } != 0;
    if kwnames {
        // PyPy: the values follow the positional arguments in the call's array.
        // SAFETY: `kw` is open for the call; the dup is ours.
        let kwnames = unsafe { core::mem::ManuallyDrop::new(Handle::from_raw(ctx, kw)) }.dup();
        return Ok(DictCall {
            args,
            nargs,
            keywords: Some(Box::new(DictKeywords {
                kwnames,
                _owned: Vec::new(),
                _values: Vec::new(),
            })),
        });
    }
    // SAFETY: `kw` is a dict, open for the call; the result is a new list.
    let keys = unsafe { Handle::from_raw_result(ctx, sys::HPyDict_Keys(ctx.as_raw(), kw)) }?;
    let n = keys.len()?;
    if n == 0 {
        return Ok(positional);
    }
    // SAFETY: `kw` is open for the call; only read.
    let kw = core::mem::ManuallyDrop::new(unsafe { Handle::from_raw(ctx, kw) });
    let mut values = Vec::new();
    values.try_reserve(n)?;
    let mut owned = Vec::new();
    owned.try_reserve(nargs + n)?;
    // SAFETY: `args` holds `nargs` handles (caller's contract).
    owned.extend_from_slice(unsafe { core::slice::from_raw_parts(args, nargs) });
    let mut names = Vec::new();
    names.try_reserve(n)?;
    for i in 0..n {
        let key = keys.get_item(i)?;
        let value = kw.get_item(&key)?;
        owned.push(value.as_raw());
        values.push(value);
        names.push(key);
    }
    let raw: Vec<HPy> = names.iter().map(Handle::as_raw).collect();
    // SAFETY: the names are open handles; the tuple takes its own references.
    let kwnames = unsafe { ctx.tuple_from_raw(&raw) }?;
    // The heap array does not move when the Vec moves into the box.
    let args = owned.as_ptr();
    Ok(DictCall {
        args,
        nargs,
        keywords: Some(Box::new(DictKeywords {
            kwnames,
            _owned: owned,
            _values: values,
        })),
    })
}
