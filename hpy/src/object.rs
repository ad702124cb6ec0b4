//! The object protocol on [`Handle`]: attributes, items, comparisons, hashing,
//! string forms, truth, types, and the number protocol.
//!
//! Every method is named after the Python built-in or `operator` function it
//! performs (`obj.get_attr("x")` is `getattr(obj, "x")`, `a.floordiv(b)` is
//! `operator.floordiv(a, b)`, i.e. `a // b`), and fails with the exception
//! Python raises for the same operation.

use std::borrow::Cow;

use crate::conv::IntoPy;
use crate::err::{Error, Result};
use crate::util::{new_str, with_c_str};
use crate::{Borrowed, Context, Handle, Runtime};
use hpy_sys as sys;

/// `Err(Error::raised())` for a C `-1`, `Ok(())` otherwise.
#[inline(always)]
fn check_status(r: core::ffi::c_int) -> Result<()> {
    if r < 0 { Err(Error::raised()) } else { Ok(()) }
}

/// `Err(Error::raised())` for a negative C result, `Ok(r != 0)` otherwise.
#[inline(always)]
fn check_bool(r: core::ffi::c_int) -> Result<bool> {
    if r < 0 {
        Err(Error::raised())
    } else {
        Ok(r != 0)
    }
}

mod sealed {
    pub trait Sealed {}
}

// --- attribute names ----------------------------------------------------------------

/// An attribute name: a `&str` (or `&String`), or a handle to a Python `str`.
///
/// It lets [`Handle::get_attr`] and friends pick the context function at
/// compile time: `HPy_GetAttr_s` for a Rust string (made NUL-terminated on the
/// stack; an embedded NUL raises `ValueError: embedded null character`), and
/// `HPy_GetAttr` for a handle, e.g. an interned name kept by the caller. A
/// handle that is not a `str` raises `TypeError` (`attribute name must be
/// string, not 'int'` on CPython).
///
/// This trait is sealed: it is implemented for `&str`, `&String`, `&Handle`,
/// `Handle` and `&Borrowed`.
pub trait AttrName: sealed::Sealed {
    #[doc(hidden)]
    fn __get_attr<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>>;
    #[doc(hidden)]
    fn __has_attr(self, obj: &Handle<'_>) -> bool;
    #[doc(hidden)]
    fn __set_attr(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()>;
    #[doc(hidden)]
    fn __del_attr(self, obj: &Handle<'_>) -> Result<()>;
    /// Calls `f` with the name as a `str` object, for `HPy_CallMethod`.
    #[doc(hidden)]
    fn __with_str<R>(self, ctx: &Context, f: impl FnOnce(sys::HPy) -> R) -> Result<R>;
    /// The name as a C string for `HPy_CallMethodTupleDict_s`, or the raw
    /// handle for `HPy_CallMethodTupleDict`, passed to `f`.
    #[doc(hidden)]
    fn __with_name<R>(self, f: impl FnOnce(NameArg) -> R) -> Result<R>;
}

/// A method name ready for a context function (see [`AttrName`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum NameArg {
    /// A NUL-terminated UTF-8 string.
    CStr(*const core::ffi::c_char),
    /// A handle to a `str`.
    Handle(sys::HPy),
}

impl sealed::Sealed for &str {}
impl sealed::Sealed for &String {}

impl AttrName for &str {
    #[inline]
    fn __get_attr<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
        let ctx = obj.ctx();
        with_c_str(self, |name| {
            // SAFETY: the handle is open and `name` is a C string for the call.
            unsafe { Handle::from_raw_result(ctx, sys::HPy_GetAttr_s(ctx.as_raw(), obj.raw, name)) }
        })?
    }

    #[inline]
    fn __has_attr(self, obj: &Handle<'_>) -> bool {
        let ctx = obj.ctx();
        // A name with a NUL cannot be an attribute set through a C string, and
        // `HPy_HasAttr_s` swallows errors: answer `false` the same way.
        with_c_str(self, |name| {
            // SAFETY: the handle is open and `name` is a C string for the call.
            unsafe { sys::HPy_HasAttr_s(ctx.as_raw(), obj.raw, name) != 0 }
        })
        .unwrap_or(false)
    }

    #[inline]
    fn __set_attr(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
        let ctx = obj.ctx();
        with_c_str(self, |name| {
            // SAFETY: both handles are open and `name` is a C string for the call;
            // `HPy_SetAttr_s` does not steal `value`.
            check_status(unsafe { sys::HPy_SetAttr_s(ctx.as_raw(), obj.raw, name, value) })
        })?
    }

    #[inline]
    fn __del_attr(self, obj: &Handle<'_>) -> Result<()> {
        let ctx = obj.ctx();
        with_c_str(self, |name| {
            // SAFETY: the handle is open and `name` is a C string for the call.
            check_status(unsafe { sys::HPy_DelAttr_s(ctx.as_raw(), obj.raw, name) })
        })?
    }

    #[inline]
    fn __with_str<R>(self, ctx: &Context, f: impl FnOnce(sys::HPy) -> R) -> Result<R> {
        if self.as_bytes().contains(&0) {
            return Err(crate::exc::ValueError::new_err("embedded null character"));
        }
        let name = new_str(ctx, self)?;
        Ok(f(name.raw))
    }

    #[inline]
    fn __with_name<R>(self, f: impl FnOnce(NameArg) -> R) -> Result<R> {
        with_c_str(self, |name| f(NameArg::CStr(name)))
    }
}

impl AttrName for &String {
    #[inline]
    fn __get_attr<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
        self.as_str().__get_attr(obj)
    }
    #[inline]
    fn __has_attr(self, obj: &Handle<'_>) -> bool {
        self.as_str().__has_attr(obj)
    }
    #[inline]
    fn __set_attr(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
        self.as_str().__set_attr(obj, value)
    }
    #[inline]
    fn __del_attr(self, obj: &Handle<'_>) -> Result<()> {
        self.as_str().__del_attr(obj)
    }
    #[inline]
    fn __with_str<R>(self, ctx: &Context, f: impl FnOnce(sys::HPy) -> R) -> Result<R> {
        self.as_str().__with_str(ctx, f)
    }
    #[inline]
    fn __with_name<R>(self, f: impl FnOnce(NameArg) -> R) -> Result<R> {
        self.as_str().__with_name(f)
    }
}

macro_rules! attr_name_handle {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}

        impl AttrName for $ty {
            #[inline]
            fn __get_attr<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
                let ctx = obj.ctx();
                // SAFETY: both handles are open in the live context; the result is
                // new or NULL with an exception set.
                unsafe { Handle::from_raw_result(ctx, sys::HPy_GetAttr(ctx.as_raw(), obj.raw, self.as_raw())) }
            }

            #[inline]
            fn __has_attr(self, obj: &Handle<'_>) -> bool {
                // SAFETY: both handles are open in the live context.
                unsafe { sys::HPy_HasAttr(obj.ctx().as_raw(), obj.raw, self.as_raw()) != 0 }
            }

            #[inline]
            fn __set_attr(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
                // SAFETY: all three handles are open; `HPy_SetAttr` does not steal.
                check_status(unsafe { sys::HPy_SetAttr(obj.ctx().as_raw(), obj.raw, self.as_raw(), value) })
            }

            #[inline]
            fn __del_attr(self, obj: &Handle<'_>) -> Result<()> {
                // SAFETY: both handles are open in the live context.
                check_status(unsafe { sys::HPy_DelAttr(obj.ctx().as_raw(), obj.raw, self.as_raw()) })
            }

            #[inline]
            fn __with_str<R>(self, ctx: &Context, f: impl FnOnce(sys::HPy) -> R) -> Result<R> {
                // `HPy_CallMethod` needs a `str`; CPython's own check says this.
                // SAFETY: the handle is open in the live context.
                if unsafe { sys::HPyUnicode_Check(ctx.as_raw(), self.as_raw()) } == 0 {
                    return Err(attribute_name_error(&self));
                }
                Ok(f(self.as_raw()))
            }

            #[inline]
            fn __with_name<R>(self, f: impl FnOnce(NameArg) -> R) -> Result<R> {
                // Checked here for the same message everywhere (PyPy's would be
                // `expected str, got int object`).
                // SAFETY: the handle is open in the live context.
                if unsafe { sys::HPyUnicode_Check(self.ctx().as_raw(), self.as_raw()) } == 0 {
                    return Err(attribute_name_error(&self));
                }
                Ok(f(NameArg::Handle(self.as_raw())))
            }
        }
    )*};
}

attr_name_handle!(&Handle<'_>, Handle<'_>, &Borrowed<'_, '_>);

#[cold]
fn attribute_name_error(name: &Handle<'_>) -> Error {
    crate::exc::TypeError::new_err(format!(
        "attribute name must be string, not '{}'",
        name.type_name()
    ))
}

// --- item keys -----------------------------------------------------------------------

/// A key or index for [`Handle::get_item`], [`Handle::set_item`] and
/// [`Handle::del_item`]: a handle, a Rust integer, or a `&str`.
///
/// The context function is picked at compile time: `HPy_GetItem_i` for an
/// integer (no Python `int` is made by the extension), `HPy_GetItem_s` for a
/// string, and `HPy_GetItem` for a handle. All three are Python's `obj[key]`,
/// so a dict with `int` keys can be indexed with a Rust integer as well as a
/// list can. An integer that does not fit `isize` and a string with an
/// embedded NUL go through a `str`/`int` object instead.
///
/// This trait is sealed: it is implemented for `&Handle`, `Handle`,
/// `&Borrowed`, `&str`, `&String` and every primitive integer type.
pub trait ItemKey: sealed::Sealed {
    #[doc(hidden)]
    fn __get_item<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>>;
    #[doc(hidden)]
    fn __set_item(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()>;
    #[doc(hidden)]
    fn __del_item(self, obj: &Handle<'_>) -> Result<()>;
}

macro_rules! item_key_handle {
    ($($ty:ty),*) => {$(
        impl ItemKey for $ty {
            #[inline]
            fn __get_item<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
                let ctx = obj.ctx();
                // SAFETY: both handles are open; the result is new or NULL with an
                // exception set.
                unsafe { Handle::from_raw_result(ctx, sys::HPy_GetItem(ctx.as_raw(), obj.raw, self.as_raw())) }
            }

            #[inline]
            fn __set_item(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
                // SAFETY: all three handles are open; `HPy_SetItem` does not steal.
                check_status(unsafe { sys::HPy_SetItem(obj.ctx().as_raw(), obj.raw, self.as_raw(), value) })
            }

            #[inline]
            fn __del_item(self, obj: &Handle<'_>) -> Result<()> {
                // SAFETY: both handles are open in the live context.
                check_status(unsafe { sys::HPy_DelItem(obj.ctx().as_raw(), obj.raw, self.as_raw()) })
            }
        }
    )*};
}

item_key_handle!(&Handle<'_>, Handle<'_>, &Borrowed<'_, '_>);

impl ItemKey for &str {
    #[inline]
    fn __get_item<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
        let ctx = obj.ctx();
        if self.as_bytes().contains(&0) {
            return new_str(ctx, self)?.__get_item(obj);
        }
        with_c_str(self, |key| {
            // SAFETY: the handle is open and `key` is a C string for the call.
            unsafe { Handle::from_raw_result(ctx, sys::HPy_GetItem_s(ctx.as_raw(), obj.raw, key)) }
        })?
    }

    #[inline]
    fn __set_item(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
        let ctx = obj.ctx();
        if self.as_bytes().contains(&0) {
            return new_str(ctx, self)?.__set_item(obj, value);
        }
        with_c_str(self, |key| {
            // SAFETY: both handles are open and `key` is a C string for the call.
            check_status(unsafe { sys::HPy_SetItem_s(ctx.as_raw(), obj.raw, key, value) })
        })?
    }

    #[inline]
    fn __del_item(self, obj: &Handle<'_>) -> Result<()> {
        let ctx = obj.ctx();
        if self.as_bytes().contains(&0) {
            return new_str(ctx, self)?.__del_item(obj);
        }
        with_c_str(self, |key| {
            // SAFETY: the handle is open and `key` is a C string for the call.
            check_status(unsafe { sys::HPy_DelItem_s(ctx.as_raw(), obj.raw, key) })
        })?
    }
}

impl ItemKey for &String {
    #[inline]
    fn __get_item<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
        self.as_str().__get_item(obj)
    }
    #[inline]
    fn __set_item(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
        self.as_str().__set_item(obj, value)
    }
    #[inline]
    fn __del_item(self, obj: &Handle<'_>) -> Result<()> {
        self.as_str().__del_item(obj)
    }
}

macro_rules! item_key_int {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}

        // `isize::try_from` cannot fail for the narrower types.
        #[allow(irrefutable_let_patterns)]
        impl ItemKey for $ty {
            #[inline]
            fn __get_item<'ctx>(self, obj: &Handle<'ctx>) -> Result<Handle<'ctx>> {
                let ctx = obj.ctx();
                let Ok(i) = isize::try_from(self) else {
                    return ctx.new_int(self)?.__get_item(obj);
                };
                // SAFETY: the handle is open; the result is new or NULL with an
                // exception set.
                unsafe { Handle::from_raw_result(ctx, sys::HPy_GetItem_i(ctx.as_raw(), obj.raw, i)) }
            }

            #[inline]
            fn __set_item(self, obj: &Handle<'_>, value: sys::HPy) -> Result<()> {
                let ctx = obj.ctx();
                let Ok(i) = isize::try_from(self) else {
                    return ctx.new_int(self)?.__set_item(obj, value);
                };
                // SAFETY: both handles are open; `HPy_SetItem_i` does not steal.
                check_status(unsafe { sys::HPy_SetItem_i(ctx.as_raw(), obj.raw, i, value) })
            }

            #[inline]
            fn __del_item(self, obj: &Handle<'_>) -> Result<()> {
                let ctx = obj.ctx();
                let Ok(i) = isize::try_from(self) else {
                    return ctx.new_int(self)?.__del_item(obj);
                };
                // SAFETY: the handle is open in the live context.
                check_status(unsafe { sys::HPy_DelItem_i(ctx.as_raw(), obj.raw, i) })
            }
        }
    )*};
}

item_key_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

// --- comparisons ---------------------------------------------------------------------

/// A rich comparison operator (`HPy_RichCmpOp`): `<`, `<=`, `==`, `!=`, `>`, `>=`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `<` (`HPy_LT`).
    Lt,
    /// `<=` (`HPy_LE`).
    Le,
    /// `==` (`HPy_EQ`).
    Eq,
    /// `!=` (`HPy_NE`).
    Ne,
    /// `>` (`HPy_GT`).
    Gt,
    /// `>=` (`HPy_GE`).
    Ge,
}

impl CompareOp {
    /// The C value of the operator.
    #[inline]
    pub const fn to_raw(self) -> sys::HPy_RichCmpOp {
        match self {
            CompareOp::Lt => sys::HPy_LT,
            CompareOp::Le => sys::HPy_LE,
            CompareOp::Eq => sys::HPy_EQ,
            CompareOp::Ne => sys::HPy_NE,
            CompareOp::Gt => sys::HPy_GT,
            CompareOp::Ge => sys::HPy_GE,
        }
    }

    /// The name of the function in Python's `operator` module: `"lt"`, `"eq"`, ...
    #[inline]
    pub const fn operator_name(self) -> &'static str {
        match self {
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
        }
    }

    /// The operator for a C value (e.g. the argument of a `tp_richcompare`
    /// slot), or `None` for a value that is not one.
    #[inline]
    pub const fn from_raw(op: sys::HPy_RichCmpOp) -> Option<CompareOp> {
        Some(match op.0 {
            0 => CompareOp::Lt,
            1 => CompareOp::Le,
            2 => CompareOp::Eq,
            3 => CompareOp::Ne,
            4 => CompareOp::Gt,
            5 => CompareOp::Ge,
            _ => return None,
        })
    }

    /// The Python operator: `"<"`, `"<="`, `"=="`, `"!="`, `">"` or `">="`.
    #[inline]
    pub const fn symbol(self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

// --- integers from Rust -------------------------------------------------------------

/// A Rust integer that [`Context::new_int`] turns into a Python `int` with
/// the context function of its exact width (`HPyLong_FromInt32_t` for `i32`,
/// `HPyLong_FromUInt64_t` for `u64`, ...).
///
/// This trait is sealed: it is implemented for every primitive integer type
/// up to 64 bits.
pub trait PyIntValue: sealed::Sealed + Copy {
    #[doc(hidden)]
    fn __new_int(self, ctx: &Context) -> sys::HPy;
}

macro_rules! py_int_value {
    ($($ty:ty => |$c:ident, $v:ident| $call:expr;)*) => {$(
        impl PyIntValue for $ty {
            #[inline(always)]
            fn __new_int(self, ctx: &Context) -> sys::HPy {
                let ($c, $v) = (ctx.as_raw(), self);
                // SAFETY: the context is live; the conversion is lossless (the
                // parameter is at least as wide and of the same signedness).
                unsafe { $call }
            }
        }
    )*};
}

py_int_value! {
    i8 => |c, v| sys::HPyLong_FromInt32_t(c, i32::from(v));
    i16 => |c, v| sys::HPyLong_FromInt32_t(c, i32::from(v));
    i32 => |c, v| sys::HPyLong_FromInt32_t(c, v);
    i64 => |c, v| sys::HPyLong_FromInt64_t(c, v);
    isize => |c, v| sys::HPyLong_FromSsize_t(c, v);
    u8 => |c, v| sys::HPyLong_FromUInt32_t(c, u32::from(v));
    u16 => |c, v| sys::HPyLong_FromUInt32_t(c, u32::from(v));
    u32 => |c, v| sys::HPyLong_FromUInt32_t(c, v);
    u64 => |c, v| sys::HPyLong_FromUInt64_t(c, v);
    usize => |c, v| sys::HPyLong_FromSize_t(c, v);
}

impl Context {
    /// A new Python `int` with the value of `v`, through the context function
    /// of `v`'s width (`HPyLong_FromInt32_t`, `HPyLong_FromUInt32_t`,
    /// `HPyLong_FromInt64_t`, `HPyLong_FromUInt64_t`, `HPyLong_FromSsize_t`,
    /// `HPyLong_FromSize_t`).
    ///
    /// ```
    /// fn answer<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     let big = ctx.new_int(u64::MAX)?;
    ///     let small = ctx.new_int(-7i8)?;
    ///     big.add(&small)
    /// }
    /// ```
    #[inline]
    pub fn new_int(&self, v: impl PyIntValue) -> Result<Handle<'_>> {
        // SAFETY: the result is a new handle or NULL with an exception set.
        unsafe { Handle::from_raw_result(self, v.__new_int(self)) }
    }
}

// --- the object protocol -----------------------------------------------------------

impl<'ctx> Handle<'ctx> {
    // --- truth, identity, types -------------------------------------------------

    /// Python truth value (`HPy_IsTrue`, `bool(x)`).
    #[inline]
    pub fn is_true(&self) -> Result<bool> {
        // SAFETY: the handle is open in the live context.
        check_bool(unsafe { sys::HPy_IsTrue(self.ctx.as_raw(), self.raw) })
    }

    /// The object's type (`HPy_Type`, Python's `type(x)`).
    #[inline]
    pub fn get_type(&self) -> Handle<'ctx> {
        // SAFETY: the handle is open; `HPy_Type` returns a new handle (never NULL
        // for a valid object).
        unsafe { Handle::from_raw(self.ctx, sys::HPy_Type(self.ctx.as_raw(), self.raw)) }
    }

    /// Whether this object is a type (an instance of `type`).
    #[inline]
    pub fn is_type(&self) -> bool {
        let ctx = self.ctx;
        // SAFETY: both handles are open and `type` is a type.
        unsafe { sys::HPy_TypeCheck(ctx.as_raw(), self.raw, sys::h_TypeType(ctx.as_raw())) != 0 }
    }

    /// Whether the object is an instance of the type `ty` or of a subclass
    /// (`HPy_TypeCheck`; like `isinstance(x, ty)` without the
    /// `__instancecheck__` hook).
    ///
    /// `ty` that is not a type raises `TypeError: isinstance() arg 2 must be a
    /// type, a tuple of types, or a union` (HPy itself would crash).
    ///
    /// ```
    /// fn is_int(x: &hpy::Handle<'_>) -> hpy::Result<bool> {
    ///     x.is_instance(&x.ctx().int_type())
    /// }
    /// ```
    #[inline]
    pub fn is_instance(&self, ty: &Handle<'_>) -> Result<bool> {
        if !ty.is_type() {
            return Err(not_a_type(
                "isinstance() arg 2 must be a type, a tuple of types, or a union",
            ));
        }
        // SAFETY: both handles are open and `ty` is a type (checked above).
        Ok(unsafe { sys::HPy_TypeCheck(self.ctx.as_raw(), self.raw, ty.raw) != 0 })
    }

    /// Whether this type is `ty` or a subclass of it (`HPyType_IsSubtype`; like
    /// `issubclass(self, ty)` without the `__subclasscheck__` hook).
    ///
    /// Either one not being a type raises `TypeError` with `issubclass`'s
    /// message (HPy itself would crash).
    #[inline]
    pub fn is_subclass(&self, ty: &Handle<'_>) -> Result<bool> {
        if !self.is_type() {
            return Err(not_a_type("issubclass() arg 1 must be a class"));
        }
        if !ty.is_type() {
            return Err(not_a_type(
                "issubclass() arg 2 must be a class, a tuple of classes, or a union",
            ));
        }
        // SAFETY: both handles are open and are types (checked above).
        Ok(unsafe { sys::HPyType_IsSubtype(self.ctx.as_raw(), self.raw, ty.raw) != 0 })
    }

    /// The name of this type object (`ty.__name__`), e.g. `"int"` for
    /// `ctx.int_type()`; see [`Handle::type_name`] for the name of an
    /// object's type.
    ///
    /// Borrowed from the type (`HPyType_GetName`, no copy). A non-type raises
    /// `TypeError: expected type, got int`.
    pub fn type_object_name(&self) -> Result<Cow<'_, str>> {
        if !self.is_type() {
            return Err(Error::wrong_type("type", self));
        }
        // SAFETY: `self` is an open handle to a type (checked above).
        let name = unsafe { sys::HPyType_GetName(self.ctx.as_raw(), self.raw) };
        if name.is_null() {
            return Err(Error::raised());
        }
        // SAFETY: a non-NULL result is a NUL-terminated string that stays valid
        // while the handle is open, which the `&self` borrow guarantees.
        let name = unsafe { core::ffi::CStr::from_ptr(name) };
        Ok(name.to_string_lossy())
    }

    /// Whether the object can be called (`HPyCallable_Check`, `callable(x)`).
    #[inline]
    pub fn is_callable(&self) -> bool {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::HPyCallable_Check(self.ctx.as_raw(), self.raw) != 0 }
    }

    /// Whether the object provides the number protocol: `int()`, `float()`
    /// or `operator.index()` on it can work (`HPyNumber_Check`).
    #[inline]
    ///
    /// Like CPython: true for an object whose type has `__index__`, `__int__`
    /// or `__float__`, and for `complex`. PyPy 7.3.19's `HPyNumber_Check` only
    /// looks for `__int__` and `__float__`; the other two are checked here on
    /// runtimes other than CPython.
    pub fn is_number(&self) -> bool {
        let ctx = self.ctx;
        // SAFETY: the handle is open in the live context.
        let r = unsafe { sys::HPyNumber_Check(ctx.as_raw(), self.raw) != 0 };
        if r || ctx.runtime() == Runtime::CPython {
            return r;
        }
        // SAFETY: both handles are open; `complex` is a type (a context constant).
        let complex =
            unsafe { sys::HPy_TypeCheck(ctx.as_raw(), self.raw, sys::h_ComplexType(ctx.as_raw())) };
        complex != 0 || self.get_type().has_attr("__index__")
    }

    /// Prints a debugging description of the object to stderr (`_HPy_Dump`).
    pub fn dump(&self) {
        // SAFETY: the handle is open in the live context.
        unsafe { sys::_HPy_Dump(self.ctx.as_raw(), self.raw) }
    }

    // --- attributes ------------------------------------------------------------------

    /// `getattr(x, name)` (`HPy_GetAttr_s` for a `&str`, `HPy_GetAttr` for a
    /// handle; see [`AttrName`]).
    ///
    /// ```
    /// fn upper<'py>(s: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     s.get_attr("upper")?.call0()
    /// }
    /// ```
    #[inline]
    pub fn get_attr(&self, name: impl AttrName) -> Result<Handle<'ctx>> {
        name.__get_attr(self)
    }

    /// `hasattr(x, name)` (`HPy_HasAttr_s` or `HPy_HasAttr`).
    ///
    /// Like HPy (and CPython's `PyObject_HasAttr`), any error while looking the
    /// attribute up counts as "no" and is cleared; use [`get_attr`](Self::get_attr)
    /// to see it.
    #[inline]
    pub fn has_attr(&self, name: impl AttrName) -> bool {
        name.__has_attr(self)
    }

    /// `setattr(x, name, value)` (`HPy_SetAttr_s` or `HPy_SetAttr`), converting
    /// `value` first.
    #[inline]
    pub fn set_attr(&self, name: impl AttrName, value: impl IntoPy<'ctx>) -> Result<()> {
        let value = value.into_py(self.ctx)?;
        name.__set_attr(self, value.raw)
    }

    /// `delattr(x, name)` (`HPy_DelAttr_s` or `HPy_DelAttr`).
    #[inline]
    pub fn del_attr(&self, name: impl AttrName) -> Result<()> {
        name.__del_attr(self)
    }

    // --- items -------------------------------------------------------------------------

    /// `x[key]` (`HPy_GetItem`, `HPy_GetItem_i` or `HPy_GetItem_s`; see [`ItemKey`]).
    ///
    /// ```
    /// fn first_and_name<'py>(seq: &hpy::Handle<'py>, d: &hpy::Handle<'py>)
    ///     -> hpy::Result<(hpy::Handle<'py>, hpy::Handle<'py>)> {
    ///     Ok((seq.get_item(0)?, d.get_item("name")?))
    /// }
    /// ```
    #[inline]
    pub fn get_item(&self, key: impl ItemKey) -> Result<Handle<'ctx>> {
        key.__get_item(self)
    }

    /// `x[key] = value` (`HPy_SetItem`, `HPy_SetItem_i` or `HPy_SetItem_s`),
    /// converting `value` first.
    #[inline]
    pub fn set_item(&self, key: impl ItemKey, value: impl IntoPy<'ctx>) -> Result<()> {
        let value = value.into_py(self.ctx)?;
        key.__set_item(self, value.raw)
    }

    /// `del x[key]` (`HPy_DelItem`, `HPy_DelItem_i` or `HPy_DelItem_s`).
    #[inline]
    pub fn del_item(&self, key: impl ItemKey) -> Result<()> {
        key.__del_item(self)
    }

    /// `value in x` (`HPy_Contains`; on PyPy `operator.contains`, as for
    /// [`repr`](Self::repr)).
    #[inline]
    pub fn contains(&self, value: impl IntoPy<'ctx>) -> Result<bool> {
        let value = value.into_py(self.ctx)?;
        if !pypy_stack_overflow_safe(self.ctx) {
            return operator(self.ctx, "contains")?
                .call((self, &value))?
                .is_true();
        }
        // SAFETY: both handles are open in the live context.
        check_bool(unsafe { sys::HPy_Contains(self.ctx.as_raw(), self.raw, value.raw) })
    }

    /// `len(x)` (`HPy_Length`).
    #[inline]
    pub fn len(&self) -> Result<usize> {
        // SAFETY: the handle is open in the live context.
        let n = unsafe { sys::HPy_Length(self.ctx.as_raw(), self.raw) };
        // A successful length is never negative.
        usize::try_from(n).map_err(|_| Error::raised())
    }

    /// `len(x) == 0` (`HPy_Length`).
    #[inline]
    pub fn is_empty(&self) -> Result<bool> {
        self.len().map(|n| n == 0)
    }

    // --- string forms and hashing ----------------------------------------------------

    /// `repr(x)` (`HPy_Repr`; on PyPy, the builtin `repr`, because PyPy
    /// 7.3.19's `HPy_Repr` leaves the process doomed when it runs out of stack
    /// on a deeply nested object, where `repr` raises `RecursionError`).
    #[inline]
    pub fn repr(&self) -> Result<Handle<'ctx>> {
        if !pypy_stack_overflow_safe(self.ctx) {
            return builtin(self.ctx, "repr")?.call1(self);
        }
        // SAFETY: the handle is open; the result is new or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPy_Repr(self.ctx.as_raw(), self.raw)) }
    }

    /// `str(x)` (`HPy_Str`).
    #[inline]
    pub fn str(&self) -> Result<Handle<'ctx>> {
        // SAFETY: the handle is open; the result is new or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPy_Str(self.ctx.as_raw(), self.raw)) }
    }

    /// `ascii(x)` (`HPy_ASCII`; on PyPy, the builtin `ascii`, as for
    /// [`repr`](Self::repr)).
    #[inline]
    pub fn ascii(&self) -> Result<Handle<'ctx>> {
        if !pypy_stack_overflow_safe(self.ctx) {
            return builtin(self.ctx, "ascii")?.call1(self);
        }
        // SAFETY: the handle is open; the result is new or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPy_ASCII(self.ctx.as_raw(), self.raw)) }
    }

    /// The bytes of an object (`HPy_Bytes`, C's `PyObject_Bytes`): like
    /// `bytes(x)`, except that an `int` raises `TypeError: cannot convert
    /// 'int' object to bytes` instead of making zero bytes. It takes bytes,
    /// `__bytes__`, buffers, and iterables of ints in `range(256)`.
    ///
    /// PyPy 7.3.19's `HPy_Bytes` accepts no iterables (`TypeError: a
    /// bytes-like object is required, not 'list'`): on runtimes other than
    /// CPython, that error is replaced by the result of `bytes(iter(x))`.
    #[inline]
    pub fn bytes(&self) -> Result<Handle<'ctx>> {
        // Asked before the call: with its exception set, nothing else may be.
        let iterable_fallback = self.ctx.runtime() != Runtime::CPython
            && !self.is_bytes()
            && !self.get_type().has_attr("__bytes__");
        // SAFETY: the handle is open; the result is new or NULL with an exception set.
        let r = unsafe {
            Handle::from_raw_result(self.ctx, sys::HPy_Bytes(self.ctx.as_raw(), self.raw))
        };
        match r {
            Err(e) if iterable_fallback => self.bytes_from_iterable(e),
            r => r,
        }
    }

    /// The iterable case of `PyObject_Bytes` (see [`bytes`](Self::bytes)), after
    /// `HPy_Bytes` raised `err` for an object without `__bytes__`.
    #[cold]
    fn bytes_from_iterable(&self, err: Error) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        let c = ctx.as_raw();
        // SAFETY: the context is live; `TypeError` is a context constant.
        let is_type_error =
            |c| unsafe { sys::HPyErr_ExceptionMatches(c, sys::h_TypeError(c)) != 0 };
        if !is_type_error(c) {
            return Err(err);
        }
        ctx.err_clear();
        let cannot = || {
            crate::exc::TypeError::new_err(format!(
                "cannot convert '{}' object to bytes",
                self.type_name()
            ))
        };
        // SAFETY: the handle is open in the live context.
        if unsafe { sys::HPyUnicode_Check(c, self.raw) } != 0 {
            return Err(cannot());
        }
        let iter = match builtin(ctx, "iter")?.call1(self) {
            Ok(iter) => iter,
            Err(_) if is_type_error(c) => {
                ctx.err_clear();
                return Err(cannot());
            }
            Err(e) => return Err(e),
        };
        // Through `itertools.chain`: `bytes(iter)` would size its buffer from
        // the iterator's length hint, which `len(x)` gives and a hostile object
        // chooses (see `crate::util::list_of_items`).
        let chain = ctx.import_module("itertools")?.get_attr("chain")?;
        ctx.bytes_type().call1(chain.call1(iter)?)
    }

    /// `hash(x)` (`HPy_Hash`).
    #[inline]
    pub fn hash(&self) -> Result<isize> {
        // SAFETY: the handle is open in the live context.
        let h = unsafe { sys::HPy_Hash(self.ctx.as_raw(), self.raw) };
        // -1 is never a valid hash: it means an exception is set.
        if h == -1 { Err(Error::raised()) } else { Ok(h) }
    }

    // --- comparisons -------------------------------------------------------------------

    /// `x <op> other` as an object (`HPy_RichCompare`; on PyPy `operator.lt`
    /// & co., as for [`repr`](Self::repr)): usually a `bool`, but any object a
    /// type's `__lt__` & co. return.
    #[inline]
    pub fn rich_compare(&self, other: impl IntoPy<'ctx>, op: CompareOp) -> Result<Handle<'ctx>> {
        let other = other.into_py(self.ctx)?;
        if !pypy_stack_overflow_safe(self.ctx) {
            return operator(self.ctx, op.operator_name())?.call((self, &other));
        }
        // SAFETY: both handles are open; the result is new or NULL with an exception.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPy_RichCompare(self.ctx.as_raw(), self.raw, other.raw, op.to_raw().0),
            )
        }
    }

    /// `bool(x <op> other)` (`HPy_RichCompareBool`). As in CPython, identical
    /// objects are equal (and not unequal) without calling `__eq__`.
    #[inline]
    pub fn compare(&self, other: impl IntoPy<'ctx>, op: CompareOp) -> Result<bool> {
        let other = other.into_py(self.ctx)?;
        if !pypy_stack_overflow_safe(self.ctx) {
            // `PyObject_RichCompareBool`'s identity shortcut, then the operator.
            match op {
                CompareOp::Eq if self.is(&other) => return Ok(true),
                CompareOp::Ne if self.is(&other) => return Ok(false),
                _ => {}
            }
            return self.rich_compare(&other, op)?.is_true();
        }
        // SAFETY: both handles are open in the live context.
        check_bool(unsafe {
            sys::HPy_RichCompareBool(self.ctx.as_raw(), self.raw, other.raw, op.to_raw().0)
        })
    }

    /// `x == other` as a `bool` (`HPy_RichCompareBool` with `HPy_EQ`).
    #[inline]
    pub fn eq(&self, other: impl IntoPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Eq)
    }

    /// `x != other` as a `bool` (`HPy_RichCompareBool` with `HPy_NE`).
    #[inline]
    pub fn ne(&self, other: impl IntoPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Ne)
    }

    /// `x < other` as a `bool` (`HPy_RichCompareBool` with `HPy_LT`).
    #[inline]
    pub fn lt(&self, other: impl IntoPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Lt)
    }

    /// `x <= other` as a `bool` (`HPy_RichCompareBool` with `HPy_LE`).
    #[inline]
    pub fn le(&self, other: impl IntoPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Le)
    }

    /// `x > other` as a `bool` (`HPy_RichCompareBool` with `HPy_GT`).
    #[inline]
    pub fn gt(&self, other: impl IntoPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Gt)
    }

    /// `x >= other` as a `bool` (`HPy_RichCompareBool` with `HPy_GE`).
    #[inline]
    pub fn ge(&self, other: impl IntoPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Ge)
    }
}

/// The builtin `name` (e.g. `"iter"`), from the context's builtins: a dict
/// (HPy documents `h_Builtins` as the dict of builtins), or a module.
pub(crate) fn builtin<'ctx>(ctx: &'ctx Context, name: &str) -> Result<Handle<'ctx>> {
    let builtins = ctx.builtins();
    // SAFETY: the handle is a context constant of the live context.
    if unsafe { sys::HPyDict_Check(ctx.as_raw(), builtins.as_raw()) } != 0 {
        builtins.get_item(name)
    } else {
        builtins.get_attr(name)
    }
}

/// Whether the runtime's `HPy_Repr`, `HPy_ASCII`, `HPy_RichCompare`,
/// `HPy_RichCompareBool` and `HPy_Contains` survive running out of native
/// stack: false on PyPy, where the safe layer calls the same operations
/// through Python (`repr`, `ascii`, `operator.eq`, `operator.contains`, ...),
/// which raise `RecursionError` cleanly.
///
/// A PyPy bug (7.3.19, HPy 0.9.1.dev61): when those context functions run
/// out of stack inside PyPy's own recursion (the repr or comparison of a
/// deeply nested list), they return as if nothing happened but leave an
/// RPython-level exception pending, which the next context call finds:
/// `Fatal RPython error: AssertionError` in `HPyUnicode_Check`, and the
/// process aborts. `HPyErr_Occurred` does not see it, so it cannot be
/// cleared. Reproducer (in an extension function):
///
/// ```text
/// x = []
/// for _ in range(20000): x = [x]
/// # HPy_Repr(ctx, x) -> a non-NULL handle, no exception set;
/// # the next HPyUnicode_Check(ctx, result) aborts the process.
/// ```
///
/// `HPy_Str` and `HPy_Hash` on the same objects raise `RecursionError`
/// properly, and calls through `HPy_CallTupleDict` do too.
#[inline(always)]
pub(crate) fn pypy_stack_overflow_safe(ctx: &Context) -> bool {
    ctx.runtime() != Runtime::PyPy
}

/// `operator.<name>`.
#[cold]
fn operator<'ctx>(ctx: &'ctx Context, name: &str) -> Result<Handle<'ctx>> {
    ctx.import_module("operator")?.get_attr(name)
}

#[cold]
fn not_a_type(msg: &'static str) -> Error {
    crate::exc::TypeError::new_err(msg)
}

/// The name of the type object `ty` (see [`Handle::type_object_name`]), for
/// the crate's messages.
#[allow(dead_code)] // for `Handle::type_name` in handle.rs (owner's file)
pub(crate) fn type_object_name(ty: &Handle<'_>) -> Result<String> {
    ty.type_object_name().map(Cow::into_owned)
}

// --- the number protocol -------------------------------------------------------------

macro_rules! binary_ops {
    ($( $(#[$doc:meta])* $name:ident: |$c:ident, $a:ident, $b:ident| $call:expr; )*) => {
        impl<'ctx> Handle<'ctx> {$(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self, other: impl IntoPy<'ctx>) -> Result<Handle<'ctx>> {
                let other = other.into_py(self.ctx)?;
                let ($c, $a, $b) = (self.ctx.as_raw(), self.raw, other.raw);
                // SAFETY: both handles are open in the live context; the result is
                // a new handle or NULL with an exception set.
                unsafe { Handle::from_raw_result(self.ctx, $call) }
            }
        )*}
    };
}

macro_rules! unary_ops {
    ($( $(#[$doc:meta])* $name:ident: |$c:ident, $a:ident| $call:expr; )*) => {
        impl<'ctx> Handle<'ctx> {$(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self) -> Result<Handle<'ctx>> {
                let ($c, $a) = (self.ctx.as_raw(), self.raw);
                // SAFETY: the handle is open in the live context; the result is a
                // new handle or NULL with an exception set.
                unsafe { Handle::from_raw_result(self.ctx, $call) }
            }
        )*}
    };
}

binary_ops! {
    /// `x + other` (`HPy_Add`, `operator.add`).
    ///
    /// ```
    /// fn plus_one<'py>(x: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     x.add(1)
    /// }
    /// ```
    add: |c, a, b| sys::HPy_Add(c, a, b);
    /// `x - other` (`HPy_Subtract`, `operator.sub`).
    sub: |c, a, b| sys::HPy_Subtract(c, a, b);
    /// `x * other` (`HPy_Multiply`, `operator.mul`).
    mul: |c, a, b| sys::HPy_Multiply(c, a, b);
    /// `x @ other` (`HPy_MatrixMultiply`, `operator.matmul`).
    matmul: |c, a, b| sys::HPy_MatrixMultiply(c, a, b);
    /// `x // other` (`HPy_FloorDivide`, `operator.floordiv`).
    floordiv: |c, a, b| sys::HPy_FloorDivide(c, a, b);
    /// `x / other` (`HPy_TrueDivide`, `operator.truediv`).
    truediv: |c, a, b| sys::HPy_TrueDivide(c, a, b);
    /// `x % other` (`HPy_Remainder`, `operator.mod`; `mod` is a Rust keyword).
    rem: |c, a, b| sys::HPy_Remainder(c, a, b);
    /// `divmod(x, other)` (`HPy_Divmod`).
    divmod: |c, a, b| sys::HPy_Divmod(c, a, b);
    /// `x << other` (`HPy_Lshift`, `operator.lshift`).
    lshift: |c, a, b| sys::HPy_Lshift(c, a, b);
    /// `x >> other` (`HPy_Rshift`, `operator.rshift`).
    rshift: |c, a, b| sys::HPy_Rshift(c, a, b);
    /// `x & other` (`HPy_And`, `operator.and_`).
    and: |c, a, b| sys::HPy_And(c, a, b);
    /// `x ^ other` (`HPy_Xor`, `operator.xor`).
    xor: |c, a, b| sys::HPy_Xor(c, a, b);
    /// `x | other` (`HPy_Or`, `operator.or_`).
    or: |c, a, b| sys::HPy_Or(c, a, b);
    /// `x += other` (`HPy_InPlaceAdd`, `operator.iadd`): the new value of `x`
    /// (the same object for a mutable `x`, e.g. a list).
    iadd: |c, a, b| sys::HPy_InPlaceAdd(c, a, b);
    /// `x -= other` (`HPy_InPlaceSubtract`, `operator.isub`).
    isub: |c, a, b| sys::HPy_InPlaceSubtract(c, a, b);
    /// `x *= other` (`HPy_InPlaceMultiply`, `operator.imul`).
    imul: |c, a, b| sys::HPy_InPlaceMultiply(c, a, b);
    /// `x @= other` (`HPy_InPlaceMatrixMultiply`, `operator.imatmul`).
    imatmul: |c, a, b| sys::HPy_InPlaceMatrixMultiply(c, a, b);
    /// `x //= other` (`HPy_InPlaceFloorDivide`, `operator.ifloordiv`).
    ifloordiv: |c, a, b| sys::HPy_InPlaceFloorDivide(c, a, b);
    /// `x /= other` (`HPy_InPlaceTrueDivide`, `operator.itruediv`).
    itruediv: |c, a, b| sys::HPy_InPlaceTrueDivide(c, a, b);
    /// `x %= other` (`HPy_InPlaceRemainder`, `operator.imod`).
    irem: |c, a, b| sys::HPy_InPlaceRemainder(c, a, b);
    /// `x <<= other` (`HPy_InPlaceLshift`, `operator.ilshift`).
    ilshift: |c, a, b| sys::HPy_InPlaceLshift(c, a, b);
    /// `x >>= other` (`HPy_InPlaceRshift`, `operator.irshift`).
    irshift: |c, a, b| sys::HPy_InPlaceRshift(c, a, b);
    /// `x &= other` (`HPy_InPlaceAnd`, `operator.iand`).
    iand: |c, a, b| sys::HPy_InPlaceAnd(c, a, b);
    /// `x ^= other` (`HPy_InPlaceXor`, `operator.ixor`).
    ixor: |c, a, b| sys::HPy_InPlaceXor(c, a, b);
    /// `x |= other` (`HPy_InPlaceOr`, `operator.ior`).
    ior: |c, a, b| sys::HPy_InPlaceOr(c, a, b);
}

unary_ops! {
    /// `-x` (`HPy_Negative`, `operator.neg`).
    neg: |c, a| sys::HPy_Negative(c, a);
    /// `+x` (`HPy_Positive`, `operator.pos`).
    pos: |c, a| sys::HPy_Positive(c, a);
    /// `abs(x)` (`HPy_Absolute`).
    abs: |c, a| sys::HPy_Absolute(c, a);
    /// `~x` (`HPy_Invert`, `operator.invert`).
    invert: |c, a| sys::HPy_Invert(c, a);
    /// `operator.index(x)` (`HPy_Index`): `x` as an exact `int`, through `__index__`.
    index: |c, a| sys::HPy_Index(c, a);
    /// `int(x)` (`HPy_Long`).
    int: |c, a| sys::HPy_Long(c, a);
    /// `float(x)` (`HPy_Float`).
    float: |c, a| sys::HPy_Float(c, a);
}

impl<'ctx> Handle<'ctx> {
    /// `x ** exp` (`HPy_Power` with `None` as the modulus, `operator.pow`).
    #[inline]
    pub fn pow(&self, exp: impl IntoPy<'ctx>) -> Result<Handle<'ctx>> {
        let exp = exp.into_py(self.ctx)?;
        let c = self.ctx.as_raw();
        // SAFETY: all handles are open (`None` is a context constant); the result
        // is new or NULL with an exception set.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPy_Power(c, self.raw, exp.raw, sys::h_None(c)),
            )
        }
    }

    /// `pow(x, exp, modulo)` (`HPy_Power`).
    #[inline]
    pub fn pow_mod(
        &self,
        exp: impl IntoPy<'ctx>,
        modulo: impl IntoPy<'ctx>,
    ) -> Result<Handle<'ctx>> {
        let exp = exp.into_py(self.ctx)?;
        let modulo = modulo.into_py(self.ctx)?;
        // SAFETY: all handles are open; the result is new or NULL with an exception set.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPy_Power(self.ctx.as_raw(), self.raw, exp.raw, modulo.raw),
            )
        }
    }

    /// `x **= exp` (`HPy_InPlacePower` with `None` as the modulus, `operator.ipow`).
    #[inline]
    pub fn ipow(&self, exp: impl IntoPy<'ctx>) -> Result<Handle<'ctx>> {
        let exp = exp.into_py(self.ctx)?;
        let c = self.ctx.as_raw();
        // SAFETY: all handles are open (`None` is a context constant); the result
        // is new or NULL with an exception set.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPy_InPlacePower(c, self.raw, exp.raw, sys::h_None(c)),
            )
        }
    }

    // --- C-level integer conversions -----------------------------------------------

    /// The `int` modulo 2**64, for C-style wrapping conversions
    /// (`HPyLong_AsUInt64_tMask`): `-1` becomes `u64::MAX`. A non-int uses
    /// `__index__`, or raises `TypeError`.
    #[inline]
    pub fn to_u64_mask(&self) -> Result<u64> {
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsUInt64_tMask(self.ctx.as_raw(), self.raw) };
        if v == u64::MAX && self.ctx.err_occurred() {
            return Err(Error::raised());
        }
        Ok(v)
    }

    /// The `int` modulo 2**32, for C-style wrapping conversions
    /// (`HPyLong_AsUInt32_tMask`): `-1` becomes `u32::MAX`. A non-int uses
    /// `__index__`, or raises `TypeError`.
    #[inline]
    pub fn to_u32_mask(&self) -> Result<u32> {
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsUInt32_tMask(self.ctx.as_raw(), self.raw) };
        if v == u32::MAX && self.ctx.err_occurred() {
            return Err(Error::raised());
        }
        Ok(v)
    }

    /// The `int` as an `i32`, or `OverflowError` (`HPyLong_AsInt32_t` on
    /// CPython). The same value as `extract::<i32>()`.
    ///
    /// PyPy 7.3.19's `HPyLong_AsInt32_t` silently truncates out-of-range
    /// values, so other runtimes convert through `HPyLong_AsInt64_t` and check
    /// the range, raising CPython's `OverflowError: Python int too large to
    /// convert to C int32_t`.
    #[inline]
    pub fn to_i32(&self) -> Result<i32> {
        let ctx = self.ctx;
        if ctx.runtime() == Runtime::CPython {
            // SAFETY: the handle is open in the live context.
            let v = unsafe { sys::HPyLong_AsInt32_t(ctx.as_raw(), self.raw) };
            if v == -1 && ctx.err_occurred() {
                return Err(Error::raised());
            }
            return Ok(v);
        }
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsInt64_t(ctx.as_raw(), self.raw) };
        if v == -1 && ctx.err_occurred() {
            return Err(Error::raised());
        }
        i32::try_from(v).map_err(|_| int32_overflow("int32_t"))
    }

    /// The `int` as a `u32`, or `OverflowError` (`HPyLong_AsUInt32_t`). The
    /// same value as `extract::<u32>()`.
    ///
    /// hpy 0.9.0 on CPython replaces every error of this function (a non-int's
    /// `TypeError`, a negative int's `OverflowError: can't convert negative
    /// int to unsigned`) with `OverflowError: Python int too large to convert
    /// to C uint32_t`; the error path asks `HPyLong_AsUInt64_t` for the real
    /// error. Other runtimes convert through `HPyLong_AsUInt64_t` and check the
    /// range.
    #[inline]
    pub fn to_u32(&self) -> Result<u32> {
        let ctx = self.ctx;
        if ctx.runtime() == Runtime::CPython {
            // SAFETY: the handle is open in the live context.
            let v = unsafe { sys::HPyLong_AsUInt32_t(ctx.as_raw(), self.raw) };
            if v == u32::MAX && ctx.err_occurred() {
                ctx.err_clear();
                return Err(self.u32_error());
            }
            return Ok(v);
        }
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsUInt64_t(ctx.as_raw(), self.raw) };
        if v == u64::MAX && ctx.err_occurred() {
            return Err(Error::raised());
        }
        u32::try_from(v).map_err(|_| int32_overflow("uint32_t"))
    }

    /// The real error of a failed `HPyLong_AsUInt32_t` (see [`to_u32`](Self::to_u32)).
    #[cold]
    fn u32_error(&self) -> Error {
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsUInt64_t(self.ctx.as_raw(), self.raw) };
        if v == u64::MAX && self.ctx.err_occurred() {
            Error::raised()
        } else {
            int32_overflow("uint32_t")
        }
    }

    /// The `int` as a C pointer (`HPyLong_AsVoidPtr`), e.g. an address that
    /// was passed to Python as an `int`.
    #[inline]
    ///
    /// As on CPython, any int from `-2**63` to `2**64 - 1` converts (a
    /// negative one as its two's complement). PyPy 7.3.19's
    /// `HPyLong_AsVoidPtr` rejects values from `2**63`; on runtimes other than
    /// CPython they are converted through `HPyLong_AsUInt64_t` instead.
    pub fn to_void_ptr(&self) -> Result<*mut core::ffi::c_void> {
        let ctx = self.ctx;
        // SAFETY: the handle is open in the live context.
        let p = unsafe { sys::HPyLong_AsVoidPtr(ctx.as_raw(), self.raw) };
        if p.is_null() && ctx.err_occurred() {
            if ctx.runtime() != Runtime::CPython {
                return self.void_ptr_from_u64();
            }
            return Err(Error::raised());
        }
        Ok(p)
    }

    /// See [`to_void_ptr`](Self::to_void_ptr).
    #[cold]
    fn void_ptr_from_u64(&self) -> Result<*mut core::ffi::c_void> {
        let ctx = self.ctx;
        let c = ctx.as_raw();
        // SAFETY: the context is live; `OverflowError` is a context constant.
        if unsafe { sys::HPyErr_ExceptionMatches(c, sys::h_OverflowError(c)) } == 0 {
            return Err(Error::raised());
        }
        ctx.err_clear();
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsUInt64_t(c, self.raw) };
        if v == u64::MAX && ctx.err_occurred() {
            return Err(Error::raised());
        }
        Ok(v as usize as *mut core::ffi::c_void)
    }

    /// An `int` as the nearest `f64` (`HPyLong_AsDouble`). Unlike
    /// `extract::<f64>()` it accepts only `int` (a `float` raises `TypeError`),
    /// and too large an int raises `OverflowError: int too large to convert to
    /// float`.
    ///
    /// PyPy 7.3.19's `HPyLong_AsDouble` also converts a `float` (or anything
    /// with `__float__`): on runtimes other than CPython, a non-int raises
    /// CPython's `TypeError: an integer is required` before the call.
    #[inline]
    pub fn int_to_f64(&self) -> Result<f64> {
        if self.ctx.runtime() != Runtime::CPython && !self.is_instance(&self.ctx.int_type())? {
            return Err(crate::exc::TypeError::new_err("an integer is required"));
        }
        // SAFETY: the handle is open in the live context.
        let v = unsafe { sys::HPyLong_AsDouble(self.ctx.as_raw(), self.raw) };
        if v == -1.0 && self.ctx.err_occurred() {
            return Err(Error::raised());
        }
        Ok(v)
    }
}

#[cold]
fn int32_overflow(c_type: &str) -> Error {
    crate::exc::OverflowError::new_err(format!("Python int too large to convert to C {c_type}"))
}
