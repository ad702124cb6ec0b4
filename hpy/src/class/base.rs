//! What a class extends: `#[hpy_class(extends = ...)]`.
//!
//! * Nothing (or `extends = object`): instances are plain objects whose HPy
//!   payload holds the struct.
//! * A builtin type: `float`, `str`, `list` or an exception type
//!   (`ValueError`, ...). The instance *is* a float (a str, ...), made by the
//!   builtin's own `__new__` with the arguments that `#[new]` returns next to
//!   the struct, `fn new(..) -> (Self, (3.5,))`; the struct follows the
//!   builtin's fields (HPy's builtin shapes on CPython). `int` and `tuple`
//!   keep their items where a struct would go on CPython (Python forbids
//!   `__slots__` in their subclasses for the same reason): a class that
//!   extends them is `frozen` and holds no data (a unit struct), it adds
//!   methods.
//! * Another class, `extends = Shape` (a `#[hpy_class(subclass)]`): the
//!   instance holds the base's struct and then its own; the base's methods
//!   work on it, and `#[new]` returns both, `fn new(..) -> (Self, Shape)`
//!   (`(Self, (Mid, Shape))` two levels down).
//!
//! The types here are the markers `extends = float` and friends stand for
//! (the exception types are those of [`crate::exc`]).

use core::ffi::{c_int, c_void};

use super::Class;
use crate::call::CallArgs;
use crate::err::{Result, exc};
use crate::impl_::{ClassDef, ClassObject};
use crate::{Context, Handle};
use hpy_sys as sys;

/// How the instances of a chain of classes begin (the chain's root).
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Root {
    /// `object`: the payload is HPy's storage of an object-shaped instance.
    Object,
    /// A builtin type of fixed size on CPython (`float`, `str`, `list`, the
    /// exceptions): the payload follows the builtin's fields.
    Builtin,
    /// `int` or `tuple`, whose items are where a payload would be on CPython:
    /// no payload (the classes of the chain are unit structs).
    Payloadless,
}

/// What a class may extend: [`Object`] (the default), a builtin type
/// ([`Float`], [`Str`], [`List`], [`Int`], [`Tuple`], the exception types of
/// [`crate::exc`]), or another class (`#[hpy_class(subclass)]`).
///
/// # Safety
///
/// Implemented by this crate only: for the builtin types here and in
/// [`crate::exc`], and for every [`Class`].
pub unsafe trait ClassBase: 'static {
    /// The root of the chain.
    #[doc(hidden)]
    const ROOT: Root;
    /// How many bytes of the payload the chain up to this base takes.
    #[doc(hidden)]
    const END: usize;
    /// Whether a class may extend this one.
    #[doc(hidden)]
    const SUBCLASS: bool;
    /// Whether this is a class (not a builtin type).
    #[doc(hidden)]
    const IS_CLASS: bool;
    /// Whether this is a class with `dict` or `weakref` (which no class may
    /// extend: on CPython such a class is a Python subclass of its HPy type).
    #[doc(hidden)]
    const DICT_OR_WEAKREF: bool;
    /// Whether a struct of the chain holds `Field`s.
    #[doc(hidden)]
    const HAS_FIELDS: bool;
    /// Whether a struct of the chain needs dropping.
    #[doc(hidden)]
    const NEEDS_DROP: bool;
    /// The HPy shape of the chain's types on CPython.
    #[doc(hidden)]
    const SHAPE: sys::HPyType_BuiltinShape;
    /// The Python name of the builtin at the root (`"float"`), or of the class.
    #[doc(hidden)]
    const BASE_NAME: &'static str;
    /// The type object.
    #[doc(hidden)]
    fn __type_object(ctx: &Context) -> Result<Handle<'_>>;
    /// The definition of the class (`None` for a builtin).
    #[doc(hidden)]
    fn __class_def() -> Option<&'static ClassDef>;
    /// Drops the structs of the chain in the payload at `payload` (each once).
    ///
    /// # Safety
    /// `payload` is the payload of a dying instance of a class of the chain.
    #[doc(hidden)]
    unsafe fn __drop_chain(payload: *const u8);
    /// Visits the `Field`s of the chain's structs (`tp_traverse`).
    ///
    /// # Safety
    /// `payload` is the payload of a live instance of a class of the chain;
    /// `visit` and `arg` are the runtime's.
    #[doc(hidden)]
    unsafe fn __visit_chain(
        payload: *const u8,
        visit: sys::HPyFunc_visitproc,
        arg: *mut c_void,
    ) -> c_int;
}

// SAFETY: the constants describe the chain of `T`'s class as `#[hpy_class]`
// lays it out (`Class`'s contract).
unsafe impl<T: Class> ClassBase for T {
    const ROOT: Root = <T::Base as ClassBase>::ROOT;
    const END: usize = T::OFFSET + size_of::<ClassObject<T>>();
    const SUBCLASS: bool = T::SUBCLASS;
    const IS_CLASS: bool = true;
    const DICT_OR_WEAKREF: bool = T::DICT || T::WEAKREF;
    const HAS_FIELDS: bool = T::HAS_FIELDS || <T::Base as ClassBase>::HAS_FIELDS;
    const NEEDS_DROP: bool = core::mem::needs_drop::<T>() || <T::Base as ClassBase>::NEEDS_DROP;
    const SHAPE: sys::HPyType_BuiltinShape = <T::Base as ClassBase>::SHAPE;
    const BASE_NAME: &'static str = T::NAME;

    fn __type_object(ctx: &Context) -> Result<Handle<'_>> {
        ctx.type_object::<T>()
    }

    fn __class_def() -> Option<&'static ClassDef> {
        Some(T::__def())
    }

    unsafe fn __drop_chain(payload: *const u8) {
        // SAFETY: forwarded.
        unsafe {
            crate::impl_::drop_level::<T>(payload);
            <T::Base as ClassBase>::__drop_chain(payload);
        }
    }

    unsafe fn __visit_chain(
        payload: *const u8,
        visit: sys::HPyFunc_visitproc,
        arg: *mut c_void,
    ) -> c_int {
        // SAFETY: forwarded.
        unsafe {
            let r = crate::impl_::visit_level::<T>(payload, visit, arg);
            if r != 0 {
                return r;
            }
            <T::Base as ClassBase>::__visit_chain(payload, visit, arg)
        }
    }
}

/// A base that is no class: a class extending it is made from its struct
/// alone (the builtin gets no arguments), or from `(Self, args)`.
pub trait BuiltinBase: ClassBase {}

macro_rules! builtin_base {
    ($ty:ty, $root:ident, $shape:ident, $name:expr, |$ctx:ident| $type_object:expr) => {
        // SAFETY: a builtin root: no payload of a class before the chain's.
        unsafe impl ClassBase for $ty {
            const ROOT: Root = Root::$root;
            const END: usize = 0;
            const SUBCLASS: bool = true;
            const IS_CLASS: bool = false;
            const DICT_OR_WEAKREF: bool = false;
            const HAS_FIELDS: bool = false;
            const NEEDS_DROP: bool = false;
            const SHAPE: sys::HPyType_BuiltinShape = sys::$shape;
            const BASE_NAME: &'static str = $name;

            #[inline]
            fn __type_object($ctx: &Context) -> Result<Handle<'_>> {
                Ok($type_object.dup())
            }

            #[inline]
            fn __class_def() -> Option<&'static ClassDef> {
                None
            }

            #[inline]
            unsafe fn __drop_chain(_payload: *const u8) {}

            #[inline]
            unsafe fn __visit_chain(
                _payload: *const u8,
                _visit: sys::HPyFunc_visitproc,
                _arg: *mut c_void,
            ) -> c_int {
                0
            }
        }

        impl BuiltinBase for $ty {}
    };
}

/// `object`, the default base.
#[derive(Debug, Clone, Copy)]
pub struct Object;
/// `float` (`extends = float`).
#[derive(Debug, Clone, Copy)]
pub struct Float;
/// `str` (`extends = str`).
#[derive(Debug, Clone, Copy)]
pub struct Str;
/// `list` (`extends = list`).
#[derive(Debug, Clone, Copy)]
pub struct List;
/// `int` (`extends = int`): for a frozen unit struct (methods only).
#[derive(Debug, Clone, Copy)]
pub struct Int;
/// `tuple` (`extends = tuple`): for a frozen unit struct (methods only).
#[derive(Debug, Clone, Copy)]
pub struct Tuple;

builtin_base!(
    Object,
    Object,
    HPyType_BuiltinShape_Object,
    "object",
    |ctx| ctx.object_type()
);
builtin_base!(Float, Builtin, HPyType_BuiltinShape_Float, "float", |ctx| {
    ctx.float_type()
});
builtin_base!(Str, Builtin, HPyType_BuiltinShape_Unicode, "str", |ctx| ctx
    .str_type());
builtin_base!(List, Builtin, HPyType_BuiltinShape_List, "list", |ctx| ctx
    .list_type());
builtin_base!(Int, Payloadless, HPyType_BuiltinShape_Long, "int", |ctx| {
    ctx.int_type()
});
builtin_base!(
    Tuple,
    Payloadless,
    HPyType_BuiltinShape_Tuple,
    "tuple",
    |ctx| ctx.tuple_type()
);

macro_rules! exception_bases {
    ($($name:ident),* $(,)?) => {$(
        builtin_base!(
            exc::$name,
            Builtin,
            HPyType_BuiltinShape_Legacy,
            stringify!($name),
            |ctx| <exc::$name as exc::ExceptionType>::type_object(ctx)
        );

        // SAFETY: the arguments go to the exception's `__new__`.
        unsafe impl<A: for<'c> CallArgs<'c>> BaseInit<exc::$name> for A {
            #[inline]
            fn __create_base<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>> {
                crate::impl_::create_root::<exc::$name>(ctx, ty, self)
            }
        }
    )*};
}

exception_bases! {
    BaseException, Exception, StopAsyncIteration, StopIteration, GeneratorExit,
    ArithmeticError, LookupError, AssertionError, AttributeError, BufferError, EOFError,
    FloatingPointError, OSError, ImportError, ModuleNotFoundError, IndexError, KeyError,
    KeyboardInterrupt, MemoryError, NameError, OverflowError, RuntimeError, RecursionError,
    NotImplementedError, SyntaxError, IndentationError, TabError, ReferenceError, SystemError,
    SystemExit, TypeError, UnboundLocalError, UnicodeError, UnicodeEncodeError,
    UnicodeDecodeError, UnicodeTranslateError, ValueError, ZeroDivisionError, BlockingIOError,
    BrokenPipeError, ChildProcessError, ConnectionError, ConnectionAbortedError,
    ConnectionRefusedError, ConnectionResetError, FileExistsError, FileNotFoundError,
    InterruptedError, IsADirectoryError, NotADirectoryError, PermissionError,
    ProcessLookupError, TimeoutError, Warning, UserWarning, DeprecationWarning,
    PendingDeprecationWarning, SyntaxWarning, RuntimeWarning, FutureWarning, ImportWarning,
    UnicodeWarning, BytesWarning, ResourceWarning,
}

macro_rules! args_bases {
    ($($ty:ty),*) => {$(
        // SAFETY: the arguments go to the builtin's `__new__`.
        unsafe impl<A: for<'c> CallArgs<'c>> BaseInit<$ty> for A {
            #[inline]
            fn __create_base<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>> {
                crate::impl_::create_root::<$ty>(ctx, ty, self)
            }
        }
    )*};
}

args_bases!(Float, Str, List, Int, Tuple);

// SAFETY: `object()` takes no arguments.
unsafe impl BaseInit<Object> for () {
    #[inline]
    fn __create_base<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>> {
        crate::impl_::create_root::<Object>(ctx, ty, ())
    }
}

/// What makes a new instance of `T`: its struct, and what its bases need.
///
/// * `T` itself, for a class that extends `object` or a builtin type (which
///   then gets no arguments: `0.0`, `""`, `[]`);
/// * `(T, args)` for a class that extends a builtin type: `args` are the
///   builtin's arguments (`(3.5,)` for a float);
/// * `(T, base)` for a class that extends another class, where `base` is what
///   makes that one (`Base`, or `(Base, ...)`).
///
/// [`Context::new_instance`] takes one, and so may `#[new]` return one.
///
/// # Safety
///
/// Implemented by this crate only.
pub unsafe trait Init<T: Class>: Sized {
    /// Makes an instance of `ty` (`T`'s class or a subclass) holding the
    /// structs.
    #[doc(hidden)]
    fn __create<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>>;
}

/// A new instance, and the start of its payload if the runtime gave it
/// (NULL: to be looked up).
#[doc(hidden)]
pub type Created<'c> = (Handle<'c>, *mut u8);

/// What makes the part of a new instance that belongs to the base `B`.
///
/// # Safety
///
/// Implemented by this crate only.
pub unsafe trait BaseInit<B: ClassBase>: Sized {
    /// Makes an instance of `ty` (a subclass of `B`) with `B`'s part.
    #[doc(hidden)]
    fn __create_base<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>>;
}

// SAFETY: the object is made by the root, then the struct goes in.
unsafe impl<T: Class> Init<T> for T
where
    T::Base: BuiltinBase,
{
    #[inline]
    fn __create<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>> {
        let (obj, payload) = crate::impl_::create_root::<T::Base>(ctx, ty, ())?;
        // SAFETY: `obj` is a new instance of `ty`, a subclass of `T`'s class,
        // and `payload` its payload (or NULL).
        unsafe { crate::impl_::write_level::<T>(&obj, payload, self) }?;
        Ok((obj, payload))
    }
}

// SAFETY: the bases' part first, then the struct.
unsafe impl<T: Class, I: BaseInit<T::Base>> Init<T> for (T, I) {
    #[inline]
    fn __create<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>> {
        let (value, base) = self;
        let (obj, payload) = base.__create_base(ctx, ty)?;
        // SAFETY: `obj` is a new instance of `ty`, a subclass of `T`'s class,
        // with the parts of its bases in, and `payload` its payload (or NULL).
        unsafe { crate::impl_::write_level::<T>(&obj, payload, value) }?;
        Ok((obj, payload))
    }
}

// SAFETY: forwarded to the base class's `Init`.
unsafe impl<B: Class, I: Init<B>> BaseInit<B> for I {
    #[inline]
    fn __create_base<'c>(self, ctx: &'c Context, ty: &Handle<'_>) -> Result<Created<'c>> {
        self.__create(ctx, ty)
    }
}
