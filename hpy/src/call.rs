//! Calling Python objects: [`Handle::call`] and friends, with positional
//! arguments as [`CallArgs`] and keyword arguments as [`CallKwargs`].
//!
//! Calls go through HPy's vectorcall-style `HPy_Call` and `HPy_CallMethod`:
//! the arguments stay in an array on the Rust stack (up to [`INLINE_ARGS`] of
//! them, receiver and keyword values included) and no tuple or dict is built.
//! (On PyPy 7.3.18+ these members sit one slot later than in hpy 0.9.0's
//! context; `hpy_sys` reads them from the right slot, see
//! `hpy_sys::ContextLayout`.) [`Handle::call_tuple_dict`] calls with an
//! existing tuple and dict.

use crate::conv::IntoPy;
use crate::err::Result;
use crate::object::AttrName;
use crate::util::new_str;
use crate::{Borrowed, Context, Handle};
use hpy_sys as sys;

/// How many arguments (the receiver of a method call and keyword values
/// included) a call passes without allocating.
pub const INLINE_ARGS: usize = 12;

/// A vector of raw handles: inline up to [`INLINE_ARGS`], then on the heap.
struct RawVec {
    len: usize,
    inline: [sys::HPy; INLINE_ARGS],
    heap: Vec<sys::HPy>,
}

impl RawVec {
    #[inline(always)]
    const fn new() -> Self {
        RawVec {
            len: 0,
            inline: [sys::HPy::NULL; INLINE_ARGS],
            heap: Vec::new(),
        }
    }

    #[inline(always)]
    fn push(&mut self, h: sys::HPy) {
        if self.len < INLINE_ARGS {
            self.inline[self.len] = h;
        } else {
            self.spill(h);
        }
        self.len += 1;
    }

    #[cold]
    fn spill(&mut self, h: sys::HPy) {
        if self.heap.is_empty() {
            self.heap.reserve(2 * INLINE_ARGS);
            self.heap.extend_from_slice(&self.inline);
        }
        self.heap.push(h);
    }

    #[inline(always)]
    fn as_slice(&self) -> &[sys::HPy] {
        if self.len <= INLINE_ARGS {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// The arguments of one call, being collected (not a public API: it appears
/// only in the hidden methods of [`CallArgs`] and [`CallKwargs`]).
///
/// It owns the handles it converted (and the keyword names) and closes them
/// when dropped, after the call.
#[doc(hidden)]
pub struct ArgBuf<'ctx> {
    ctx: &'ctx Context,
    /// Receiver (for a method call), positional arguments, keyword values.
    args: RawVec,
    /// Keyword names: new `str` handles, owned.
    names: RawVec,
    /// Handles converted from Rust values, owned.
    owned: RawVec,
}

impl<'ctx> ArgBuf<'ctx> {
    #[inline(always)]
    fn new(ctx: &'ctx Context) -> Self {
        ArgBuf {
            ctx,
            args: RawVec::new(),
            names: RawVec::new(),
            owned: RawVec::new(),
        }
    }

    /// The context of the call.
    #[inline(always)]
    pub fn ctx(&self) -> &'ctx Context {
        self.ctx
    }

    /// Adds an argument that the caller keeps open until the call is over.
    #[inline(always)]
    pub fn push_borrowed(&mut self, h: &Handle<'_>) {
        self.args.push(h.as_raw());
    }

    /// Adds an argument that this buffer closes after the call.
    #[inline(always)]
    pub fn push_owned(&mut self, h: Handle<'ctx>) {
        let raw = h.into_raw();
        self.owned.push(raw);
        self.args.push(raw);
    }

    /// Adds a Rust value, converted to a Python object.
    #[inline(always)]
    pub fn push_value(&mut self, v: impl IntoPy<'ctx>) -> Result<()> {
        let h = v.into_py(self.ctx)?;
        self.push_owned(h);
        Ok(())
    }

    /// Adds the name of a keyword argument (its value is pushed next).
    #[inline]
    pub fn push_name(&mut self, name: &str) -> Result<()> {
        let name = new_str(self.ctx, name)?;
        self.names.push(name.into_raw());
        Ok(())
    }
}

impl core::fmt::Debug for ArgBuf<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ArgBuf")
            .field("args", &self.args.len)
            .field("names", &self.names.len)
            .finish()
    }
}

impl Drop for ArgBuf<'_> {
    fn drop(&mut self) {
        let ctx = self.ctx.as_raw();
        for &h in self.owned.as_slice().iter().chain(self.names.as_slice()) {
            // SAFETY: these handles were made for this buffer, are open, and are
            // closed exactly once, here.
            unsafe { sys::HPy_Close(ctx, h) };
        }
    }
}

mod sealed {
    pub trait Args {}
    pub trait Kwargs {}
}

/// The positional arguments of a call.
///
/// * `()`: no arguments;
/// * a tuple of up to 12 values of [`IntoPy`] types, e.g. `(1, "a", &obj)`
///   (`(x,)` for one);
/// * a slice or array of handles, `&[&Handle]` or `&[Handle]` (e.g.
///   `&[&a, &b]`), passed as they are, without a dup.
///
/// No tuple is built on CPython, and nothing is allocated for up to
/// [`INLINE_ARGS`] arguments.
///
/// This trait is sealed.
pub trait CallArgs<'ctx>: sealed::Args {
    #[doc(hidden)]
    fn __push_args(self, buf: &mut ArgBuf<'ctx>) -> Result<()>;
}

/// The keyword arguments of a call.
///
/// * `()`: none;
/// * a slice or array of `(name, &Handle)` pairs, e.g. `&[("sep", &sep)]`;
/// * a tuple of up to 6 `(name, value)` pairs with values of [`IntoPy`]
///   types, e.g. `(("sep", ","), ("end", ""))` (`(("sep", ","),)` for one).
///
/// On CPython the names are passed as a tuple of `str` (`kwnames`), with the
/// values after the positional arguments; elsewhere as a dict.
///
/// This trait is sealed.
pub trait CallKwargs<'ctx>: sealed::Kwargs {
    #[doc(hidden)]
    fn __push_kwargs(self, buf: &mut ArgBuf<'ctx>) -> Result<()>;
}

impl sealed::Args for () {}
impl sealed::Kwargs for () {}

impl<'ctx> CallArgs<'ctx> for () {
    #[inline(always)]
    fn __push_args(self, _buf: &mut ArgBuf<'ctx>) -> Result<()> {
        Ok(())
    }
}

impl<'ctx> CallKwargs<'ctx> for () {
    #[inline(always)]
    fn __push_kwargs(self, _buf: &mut ArgBuf<'ctx>) -> Result<()> {
        Ok(())
    }
}

macro_rules! args_tuple {
    ($(($($t:ident),+))*) => {$(
        impl<$($t),+> sealed::Args for ($($t,)+) {}

        impl<'ctx, $($t: IntoPy<'ctx>),+> CallArgs<'ctx> for ($($t,)+) {
            #[inline(always)]
            #[allow(non_snake_case)]
            fn __push_args(self, buf: &mut ArgBuf<'ctx>) -> Result<()> {
                let ($($t,)+) = self;
                $(buf.push_value($t)?;)+
                Ok(())
            }
        }
    )*};
}

args_tuple! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
    (A, B, C, D, E, F, G, H, I)
    (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K)
    (A, B, C, D, E, F, G, H, I, J, K, L)
}

macro_rules! kwargs_tuple {
    ($(($($t:ident $n:ident),+))*) => {$(
        impl<$($t),+> sealed::Kwargs for ($((&str, $t),)+) {}

        impl<'ctx, $($t: IntoPy<'ctx>),+> CallKwargs<'ctx> for ($((&str, $t),)+) {
            #[inline(always)]
            #[allow(non_snake_case)]
            fn __push_kwargs(self, buf: &mut ArgBuf<'ctx>) -> Result<()> {
                let ($(($n, $t),)+) = self;
                $(
                    buf.push_name($n)?;
                    buf.push_value($t)?;
                )+
                Ok(())
            }
        }
    )*};
}

kwargs_tuple! {
    (A a)
    (A a, B b)
    (A a, B b, C c)
    (A a, B b, C c, D d)
    (A a, B b, C c, D d, E e)
    (A a, B b, C c, D d, E e, F f)
}

macro_rules! args_slices {
    ($($ty:ty),*) => {$(
        impl sealed::Args for $ty {}

        impl<'ctx> CallArgs<'ctx> for $ty {
            #[inline(always)]
            fn __push_args(self, buf: &mut ArgBuf<'ctx>) -> Result<()> {
                for h in self.iter() {
                    buf.push_borrowed(h);
                }
                Ok(())
            }
        }
    )*};
}

args_slices!(&[&Handle<'_>], &[Handle<'_>], &[&Borrowed<'_, '_>]);

macro_rules! args_arrays {
    ($($ty:ty),*) => {$(
        impl<const N: usize> sealed::Args for $ty {}

        impl<'ctx, const N: usize> CallArgs<'ctx> for $ty {
            /// As the slice of the array.
            #[inline(always)]
            fn __push_args(self, buf: &mut ArgBuf<'ctx>) -> Result<()> {
                self.as_slice().__push_args(buf)
            }
        }
    )*};
}

args_arrays!(&[&Handle<'_>; N], &[Handle<'_>; N], &[&Borrowed<'_, '_>; N]);

macro_rules! kwargs_slices {
    ($($ty:ty),*) => {$(
        impl sealed::Kwargs for $ty {}

        impl<'ctx> CallKwargs<'ctx> for $ty {
            #[inline(always)]
            fn __push_kwargs(self, buf: &mut ArgBuf<'ctx>) -> Result<()> {
                for (name, value) in self.iter() {
                    buf.push_name(name)?;
                    buf.push_borrowed(value);
                }
                Ok(())
            }
        }
    )*};
}

kwargs_slices!(&[(&str, &Handle<'_>)], &[(&str, Handle<'_>)]);

macro_rules! kwargs_arrays {
    ($($ty:ty),*) => {$(
        impl<const N: usize> sealed::Kwargs for $ty {}

        impl<'ctx, const N: usize> CallKwargs<'ctx> for $ty {
            /// As the slice of the array.
            #[inline(always)]
            fn __push_kwargs(self, buf: &mut ArgBuf<'ctx>) -> Result<()> {
                self.as_slice().__push_kwargs(buf)
            }
        }
    )*};
}

kwargs_arrays!(&[(&str, &Handle<'_>); N], &[(&str, Handle<'_>); N]);

/// A new tuple of `items`.
#[inline]
fn new_tuple<'ctx>(ctx: &'ctx Context, items: &[sys::HPy]) -> Result<Handle<'ctx>> {
    // SAFETY: the context is live and every item is an open handle;
    // `HPyTuple_FromArray` only reads the array (its C prototype lacks `const`).
    unsafe {
        Handle::from_raw_result(
            ctx,
            sys::HPyTuple_FromArray(
                ctx.as_raw(),
                items.as_ptr().cast_mut(),
                items.len() as sys::HPy_ssize_t,
            ),
        )
    }
}

/// The keywords of `buf` as the `kwnames` tuple of `HPy_Call`, or NULL.
#[inline]
fn kwnames<'ctx>(buf: &ArgBuf<'ctx>) -> Result<Option<Handle<'ctx>>> {
    let names = buf.names.as_slice();
    if names.is_empty() {
        return Ok(None);
    }
    new_tuple(buf.ctx, names).map(Some)
}

#[inline(always)]
fn raw_or_null(h: &Option<Handle<'_>>) -> sys::HPy {
    h.as_ref().map_or(sys::HPy::NULL, Handle::as_raw)
}

impl<'ctx> Handle<'ctx> {
    /// Calls the object with the arguments in `buf`, the first `nargs` positional.
    fn call_buf(&self, buf: &ArgBuf<'ctx>, nargs: usize) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        let args = buf.args.as_slice();
        let kwnames = kwnames(buf)?;
        // SAFETY: `self` and every handle in `args` are open; `args` holds
        // `nargs` positional arguments followed by one value per name in
        // `kwnames` (a tuple of str, or NULL); the result is new or NULL with an
        // exception set.
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPy_Call(
                    ctx.as_raw(),
                    self.raw,
                    args.as_ptr(),
                    nargs,
                    raw_or_null(&kwnames),
                ),
            )
        }
    }

    /// `x()`: calls the object without arguments (`HPy_Call`).
    #[inline]
    pub fn call0(&self) -> Result<Handle<'ctx>> {
        self.call_kw((), ())
    }

    /// `x(arg)`: calls the object with one argument.
    #[inline]
    pub fn call1(&self, arg: impl IntoPy<'ctx>) -> Result<Handle<'ctx>> {
        self.call_kw((arg,), ())
    }

    /// `x(*args)`: calls the object with positional arguments (`HPy_Call` on
    /// every runtime); see [`CallArgs`].
    ///
    /// ```
    /// use hpy::{Handle, Result};
    ///
    /// // f(a, b), with the handles passed as they are
    /// fn apply<'py>(f: &Handle<'py>, a: &Handle<'py>, b: &Handle<'py>) -> Result<Handle<'py>> {
    ///     f.call(&[a, b])
    /// }
    ///
    /// // f(1, "two", x), converting the Rust values
    /// fn mixed<'py>(f: &Handle<'py>, x: &Handle<'py>) -> Result<Handle<'py>> {
    ///     f.call((1, "two", x))
    /// }
    /// ```
    #[inline]
    pub fn call(&self, args: impl CallArgs<'ctx>) -> Result<Handle<'ctx>> {
        self.call_kw(args, ())
    }

    /// `x(*args, **kwargs)`: calls the object with positional and keyword
    /// arguments (`HPy_Call`); see
    /// [`CallArgs`] and [`CallKwargs`].
    ///
    /// ```
    /// use hpy::{Context, Handle, Result};
    ///
    /// // print("a", 1, sep="-")
    /// fn print_two(ctx: &Context) -> Result<()> {
    ///     let print = ctx.builtins().get_item("print")?; // a dict
    ///     print.call_kw(("a", 1), (("sep", "-"),))?;
    ///     Ok(())
    /// }
    ///
    /// // f(a, key=v), with the handles passed as they are
    /// fn forward<'py>(f: &Handle<'py>, a: &Handle<'py>, v: &Handle<'py>) -> Result<Handle<'py>> {
    ///     f.call_kw(&[a], &[("key", v)])
    /// }
    /// ```
    #[inline]
    pub fn call_kw(
        &self,
        args: impl CallArgs<'ctx>,
        kwargs: impl CallKwargs<'ctx>,
    ) -> Result<Handle<'ctx>> {
        let mut buf = ArgBuf::new(self.ctx);
        args.__push_args(&mut buf)?;
        let nargs = buf.args.len;
        kwargs.__push_kwargs(&mut buf)?;
        self.call_buf(&buf, nargs)
    }

    /// `x(first, *args)`: a call with one handle in front of `args` (a
    /// type's `__new__` gets the class first).
    pub(crate) fn call_with_first(
        &self,
        first: &Handle<'_>,
        args: impl CallArgs<'ctx>,
    ) -> Result<Handle<'ctx>> {
        let mut buf = ArgBuf::new(self.ctx);
        buf.push_borrowed(first);
        args.__push_args(&mut buf)?;
        let nargs = buf.args.len;
        self.call_buf(&buf, nargs)
    }

    /// `x(*args, **kw)` with a tuple and an optional dict
    /// (`HPy_CallTupleDict`), e.g. to forward the arguments a function received.
    ///
    /// `args` that is not a tuple raises `TypeError: HPy_CallTupleDict
    /// requires args to be a tuple or null handle`, and `kw` that is not a
    /// dict, `TypeError: HPy_CallTupleDict requires kw to be a dict or null
    /// handle` (HPy's messages, on every runtime).
    pub fn call_tuple_dict(
        &self,
        args: &Handle<'_>,
        kw: Option<&Handle<'_>>,
    ) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        // Checked here: the debug mode and PyPy do not all check.
        // SAFETY: the handles are open in the live context.
        if unsafe { sys::HPyTuple_Check(ctx.as_raw(), args.raw) } == 0 {
            return Err(crate::exc::TypeError::new_err(
                "HPy_CallTupleDict requires args to be a tuple or null handle",
            ));
        }
        let kw = kw.map_or(sys::HPy::NULL, Handle::as_raw);
        // SAFETY: as above.
        if !kw.is_null() && unsafe { sys::HPyDict_Check(ctx.as_raw(), kw) } == 0 {
            return Err(crate::exc::TypeError::new_err(
                "HPy_CallTupleDict requires kw to be a dict or null handle",
            ));
        }
        // SAFETY: `self` and `args` (a tuple) are open, `kw` is a dict or NULL;
        // the result is new or NULL with an exception set.
        unsafe {
            Handle::from_raw_result(
                ctx,
                sys::HPy_CallTupleDict(ctx.as_raw(), self.raw, args.raw, kw),
            )
        }
    }

    /// `x.name(*args)`: calls a method (`HPy_CallMethod` on CPython, which
    /// does not make a bound method object; getattr and `HPy_CallTupleDict`
    /// elsewhere). `name` is a `&str` or a `str` handle (see [`AttrName`]).
    ///
    /// ```
    /// fn split<'py>(s: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     s.call_method("split", (",",))
    /// }
    /// ```
    #[inline]
    pub fn call_method(
        &self,
        name: impl AttrName,
        args: impl CallArgs<'ctx>,
    ) -> Result<Handle<'ctx>> {
        self.call_method_kw(name, args, ())
    }

    /// `x.name(*args, **kwargs)`: calls a method with positional and keyword
    /// arguments (see [`call_method`](Self::call_method)).
    ///
    /// ```
    /// fn split_once<'py>(s: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     s.call_method_kw("split", (",",), (("maxsplit", 1),))
    /// }
    /// ```
    pub fn call_method_kw(
        &self,
        name: impl AttrName,
        args: impl CallArgs<'ctx>,
        kwargs: impl CallKwargs<'ctx>,
    ) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        let mut buf = ArgBuf::new(ctx);
        buf.push_borrowed(self);
        args.__push_args(&mut buf)?;
        let nargs = buf.args.len;
        kwargs.__push_kwargs(&mut buf)?;
        let args = buf.args.as_slice();
        let kwnames = kwnames(&buf)?;
        let raw = name.__with_str(ctx, |name| {
            // SAFETY: `name` is an open str; `args` holds the receiver, then
            // `nargs - 1` positional arguments, then one value per name in
            // `kwnames` (a tuple of str, or NULL), all open.
            unsafe {
                sys::HPy_CallMethod(
                    ctx.as_raw(),
                    name,
                    args.as_ptr(),
                    nargs,
                    raw_or_null(&kwnames),
                )
            }
        })?;
        // SAFETY: the result is new or NULL with an exception set.
        unsafe { Handle::from_raw_result(ctx, raw) }
    }

    /// `x.name()`: calls a method without arguments (see [`call_method`](Self::call_method)).
    #[inline]
    pub fn call_method0(&self, name: impl AttrName) -> Result<Handle<'ctx>> {
        self.call_method_kw(name, (), ())
    }

    /// `x.name(arg)`: calls a method with one argument (see [`call_method`](Self::call_method)).
    #[inline]
    pub fn call_method1(
        &self,
        name: impl AttrName,
        arg: impl IntoPy<'ctx>,
    ) -> Result<Handle<'ctx>> {
        self.call_method_kw(name, (arg,), ())
    }
}
