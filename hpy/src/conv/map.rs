//! Maps and sets: `HashMap`/`BTreeMap` (dict), `HashSet`/`BTreeSet` (set).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use super::seq::list_from_iter;
use super::{FromPy, IntoPy};
use crate::err::{Error, Result};
use crate::object::builtin;
use crate::util::call1;
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
/// Calls `f` with every key and value of the dict `obj`.
///
/// A `dict` subclass may override `__getitem__`, `keys` or `__len__`: like
/// PyO3 (and Python's own `dict(d)`), its real items are read, from a copy
/// (`HPyDict_Copy`). Python code run by `f` may change the dict meanwhile:
/// the keys are a snapshot, and a key removed since raises `KeyError`.
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
    let copy;
    let dict = if is_exact_dict(obj)? {
        obj
    } else {
        copy = obj.copy()?;
        &copy
    };
    let keys = dict_keys(dict)?;
    let n = keys.len()?;
    for i in 0..n {
        let key = keys.get_item(i)?;
        // SAFETY: both open; new handle or NULL with an exception (`KeyError` if a
        // conversion removed the key meanwhile).
        let value = unsafe {
            Handle::from_raw_result(ctx, sys::HPy_GetItem(raw, dict.as_raw(), key.as_raw()))
        }?;
        f(&key, &value)?;
    }
    Ok(n)
}

/// Whether `type(obj) is dict` (HPy 0.9 has no handle to `dict`: the
/// builtins dict, an exact dict, gives it).
fn is_exact_dict(obj: &Handle<'_>) -> Result<bool> {
    let ctx = obj.ctx();
    let builtins = ctx.builtins();
    let dict_type = if builtins.is_dict() {
        builtins.get_type()
    } else {
        builtin(ctx, "dict")?
    };
    Ok(obj.get_type().is(&dict_type))
}

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

/// The elements of `obj`, as a new list: `list(obj)` for a `set`, a
/// `frozenset`, or any other iterable but a `str` (which is refused, as for
/// sequences: it is never taken as a set of characters).
fn set_items<'ctx>(obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    if obj.is_str() {
        return Err(Error::wrong_type_noted(
            "an iterable",
            obj,
            Some("a str is not taken as a set of characters"),
        ));
    }
    let ty = obj.get_type();
    if !ty.has_attr("__iter__") && !ty.has_attr("__getitem__") {
        return Err(Error::wrong_type("an iterable", obj));
    }
    crate::util::list_of_items(obj)
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
    call1(&builtin(ctx, "set")?, &list)
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
