//! Maps and sets: `HashMap`/`BTreeMap` (dict), `HashSet`/`BTreeSet` (set).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use super::seq::list_from_iter;
use super::{FromPy, IntoPy};
use crate::err::{Error, Result};
use crate::{Context, Handle};
use hpy_sys as sys;

// --- dict -------------------------------------------------------------------------------

/// `repr(obj)` for an error message (cold; never leaves an exception set).
#[cold]
fn repr_for_message(obj: &Handle<'_>) -> String {
    match obj.repr().and_then(|r| r.extract::<String>()) {
        Ok(s) => s,
        Err(_) => {
            obj.ctx().err_clear();
            format!("<{} object>", obj.type_name())
        }
    }
}

/// Adds `context(obj)` to a lazy error (computing it only then: an exception
/// raised by the interpreter stays as it is, and no Python code runs while it
/// is set).
#[cold]
fn with_repr_context(err: Error, what: &str, obj: &Handle<'_>) -> Error {
    if err.is_raised() {
        return err;
    }
    err.with_context(format_args!("{what} {}", repr_for_message(obj)))
}

/// `list(d)` for a dict `d` (`HPyDict_Keys`).
fn dict_keys<'ctx>(obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    let ctx = obj.ctx();
    // SAFETY: the context is live and `obj` a dict; the result is a new list or
    // NULL with an exception set.
    unsafe { Handle::from_raw_result(ctx, sys::HPyDict_Keys(ctx.as_raw(), obj.as_raw())) }
}

/// Calls `f(key, value)` for every item of the dict `obj` (or a wrong-type error).
fn for_each_item<'ctx>(
    obj: &Handle<'ctx>,
    mut f: impl FnMut(&Handle<'ctx>, &Handle<'ctx>) -> Result<()>,
) -> Result<usize> {
    let ctx = obj.ctx();
    let raw = ctx.as_raw();
    // SAFETY: the context is live and `obj` open in it.
    if unsafe { sys::HPyDict_Check(raw, obj.as_raw()) } == 0 {
        return Err(Error::wrong_type("dict", obj));
    }
    let keys = dict_keys(obj)?;
    let n = keys.len()?;
    for i in 0..n {
        let key = keys.get_item(i)?;
        // SAFETY: both open; new handle or NULL with an exception (`KeyError` if a
        // conversion removed the key meanwhile).
        let value = unsafe {
            Handle::from_raw_result(ctx, sys::HPy_GetItem(raw, obj.as_raw(), key.as_raw()))
        }?;
        f(&key, &value)?;
    }
    Ok(n)
}

/// Converts one dict item, with `key ...` or `value for key ...` as the context.
#[inline]
fn extract_pair<'ctx, K, V>(key: &Handle<'ctx>, value: &Handle<'ctx>) -> Result<(K, V)>
where
    K: for<'b> FromPy<'b, 'ctx>,
    V: for<'b> FromPy<'b, 'ctx>,
{
    let k = K::from_py(key).map_err(|e| with_repr_context(e, "key", key))?;
    let v = V::from_py(value).map_err(|e| with_repr_context(e, "value for key", key))?;
    Ok((k, v))
}

/// A new dict of the converted `(key, value)` pairs.
fn dict_from_iter<'ctx, K, V>(
    ctx: &'ctx Context,
    items: impl Iterator<Item = (K, V)>,
) -> Result<Handle<'ctx>>
where
    K: IntoPy<'ctx>,
    V: IntoPy<'ctx>,
{
    let raw = ctx.as_raw();
    // SAFETY: the context is live; new dict or NULL with an exception.
    let dict = unsafe { Handle::from_raw_result(ctx, sys::HPyDict_New(raw)) }?;
    for (k, v) in items {
        let k = k.into_py(ctx)?;
        let v = v.into_py(ctx)?;
        // SAFETY: all three handles are open; `HPy_SetItem` does not steal them.
        if unsafe { sys::HPy_SetItem(raw, dict.as_raw(), k.as_raw(), v.as_raw()) } < 0 {
            return Err(Error::raised());
        }
    }
    Ok(dict)
}

impl<'a, 'ctx, K, V, S> FromPy<'a, 'ctx> for HashMap<K, V, S>
where
    K: for<'b> FromPy<'b, 'ctx> + Eq + Hash,
    V: for<'b> FromPy<'b, 'ctx>,
    S: BuildHasher + Default,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let mut map = HashMap::with_hasher(S::default());
        for_each_item(obj, |k, v| {
            let (k, v) = extract_pair(k, v)?;
            map.insert(k, v);
            Ok(())
        })?;
        Ok(map)
    }
}

impl<'a, 'ctx, K, V> FromPy<'a, 'ctx> for BTreeMap<K, V>
where
    K: for<'b> FromPy<'b, 'ctx> + Ord,
    V: for<'b> FromPy<'b, 'ctx>,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let mut map = BTreeMap::new();
        for_each_item(obj, |k, v| {
            let (k, v) = extract_pair(k, v)?;
            map.insert(k, v);
            Ok(())
        })?;
        Ok(map)
    }
}

impl<'ctx, K: IntoPy<'ctx>, V: IntoPy<'ctx>, S> IntoPy<'ctx> for HashMap<K, V, S> {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        dict_from_iter(ctx, self.into_iter())
    }
}

impl<'s, 'ctx, K, V, S> IntoPy<'ctx> for &'s HashMap<K, V, S>
where
    &'s K: IntoPy<'ctx>,
    &'s V: IntoPy<'ctx>,
{
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        dict_from_iter(ctx, self.iter())
    }
}

impl<'ctx, K: IntoPy<'ctx>, V: IntoPy<'ctx>> IntoPy<'ctx> for BTreeMap<K, V> {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        dict_from_iter(ctx, self.into_iter())
    }
}

impl<'s, 'ctx, K, V> IntoPy<'ctx> for &'s BTreeMap<K, V>
where
    &'s K: IntoPy<'ctx>,
    &'s V: IntoPy<'ctx>,
{
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        dict_from_iter(ctx, self.iter())
    }
}

// --- set, frozenset --------------------------------------------------------------------
//
// HPy 0.9 has no set API: sets are made by calling the builtin `set` on a list,
// and read by calling `list` on them (through `HPy_CallTupleDict`, with the
// one-item tuple these calls need anyway).

/// `callable(arg)`.
fn call1<'ctx>(callable: &Handle<'ctx>, arg: &Handle<'_>) -> Result<Handle<'ctx>> {
    let ctx = callable.ctx();
    let raw = ctx.as_raw();
    let mut items = [arg.as_raw()];
    // SAFETY: the context is live and `items` holds one open handle (read only).
    let args = unsafe {
        Handle::from_raw_result(ctx, sys::HPyTuple_FromArray(raw, items.as_mut_ptr(), 1))
    }?;
    // SAFETY: `callable` and `args` are open; NULL kw is allowed; the result is new
    // or NULL with an exception set.
    unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPy_CallTupleDict(raw, callable.as_raw(), args.as_raw(), sys::HPy::NULL),
        )
    }
}

/// The builtin `name` (`set`, `frozenset`): an item of `ctx.builtins()`, which
/// is the builtins *dict* on CPython (`PyEval_GetBuiltins()`), or an attribute
/// if a runtime gives the module.
fn builtin<'ctx>(ctx: &'ctx Context, name: &'static core::ffi::CStr) -> Result<Handle<'ctx>> {
    let raw = ctx.as_raw();
    let builtins = ctx.builtins();
    // SAFETY: the context is live and `builtins` a constant; `name` is a C
    // string; the results are new handles or NULL with an exception set.
    unsafe {
        let h = if sys::HPyDict_Check(raw, builtins.as_raw()) != 0 {
            sys::HPy_GetItem_s(raw, builtins.as_raw(), name.as_ptr())
        } else {
            sys::HPy_GetAttr_s(raw, builtins.as_raw(), name.as_ptr())
        };
        Handle::from_raw_result(ctx, h)
    }
}

/// The items of the set or frozenset `obj`, as a new list.
fn set_items<'ctx>(obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    let ctx = obj.ctx();
    let set = builtin(ctx, c"set")?;
    let frozenset = builtin(ctx, c"frozenset")?;
    let raw = ctx.as_raw();
    // SAFETY: the context is live; all handles are open and the last two are types.
    let is_set = unsafe {
        sys::HPy_TypeCheck(raw, obj.as_raw(), set.as_raw()) != 0
            || sys::HPy_TypeCheck(raw, obj.as_raw(), frozenset.as_raw()) != 0
    };
    if !is_set {
        return Err(Error::wrong_type("set or frozenset", obj));
    }
    call1(&ctx.list_type(), obj)
}

/// Calls `insert` with every converted element of the set `obj`.
fn for_each_element<'ctx, T>(obj: &Handle<'ctx>, mut insert: impl FnMut(T)) -> Result<()>
where
    T: for<'b> FromPy<'b, 'ctx>,
{
    let items = set_items(obj)?;
    for i in 0..items.len()? {
        let item = items.get_item(i)?;
        insert(T::from_py(&item).map_err(|e| with_repr_context(e, "element", &item))?);
    }
    Ok(())
}

/// `set(items)`.
fn set_from_iter<'ctx, I>(ctx: &'ctx Context, items: I) -> Result<Handle<'ctx>>
where
    I: ExactSizeIterator,
    I::Item: IntoPy<'ctx>,
{
    let list = list_from_iter(ctx, items)?;
    call1(&builtin(ctx, c"set")?, &list)
}

impl<'a, 'ctx, T, S> FromPy<'a, 'ctx> for HashSet<T, S>
where
    T: for<'b> FromPy<'b, 'ctx> + Eq + Hash,
    S: BuildHasher + Default,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let mut set = HashSet::with_hasher(S::default());
        for_each_element(obj, |v| {
            set.insert(v);
        })?;
        Ok(set)
    }
}

impl<'a, 'ctx, T> FromPy<'a, 'ctx> for BTreeSet<T>
where
    T: for<'b> FromPy<'b, 'ctx> + Ord,
{
    fn from_py(obj: &'a Handle<'ctx>) -> Result<Self> {
        let mut set = BTreeSet::new();
        for_each_element(obj, |v| {
            set.insert(v);
        })?;
        Ok(set)
    }
}

impl<'ctx, T: IntoPy<'ctx>, S> IntoPy<'ctx> for HashSet<T, S> {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        set_from_iter(ctx, self.into_iter())
    }
}

impl<'s, 'ctx, T, S> IntoPy<'ctx> for &'s HashSet<T, S>
where
    &'s T: IntoPy<'ctx>,
{
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        set_from_iter(ctx, self.iter())
    }
}

impl<'ctx, T: IntoPy<'ctx>> IntoPy<'ctx> for BTreeSet<T> {
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        set_from_iter(ctx, self.into_iter())
    }
}

impl<'s, 'ctx, T> IntoPy<'ctx> for &'s BTreeSet<T>
where
    &'s T: IntoPy<'ctx>,
{
    fn into_py(self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        set_from_iter(ctx, self.iter())
    }
}
