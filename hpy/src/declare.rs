//! Declarations that join a module from anywhere in the crate:
//! [`create_exception!`](crate::create_exception) and
//! [`global!`](crate::global!).

/// Declares a Python exception class in one line, PyO3's
/// `create_exception!`: the class `module.Name` with base `Base` (a builtin
/// exception of [`exc`](crate::exc), or another class declared with this
/// macro) and an optional docstring.
///
/// It defines the Rust type `Name`, with `Name::new_err(msg)` (a lazily
/// raised error, like [`exc::ValueError::new_err`](crate::exc::ValueError::new_err))
/// and `Name::type_object(ctx)` (the class). The class is made when the
/// module is imported and added to the module whose name is `module`; it may
/// be declared in any file of the crate.
///
/// ```
/// hpy::create_exception!(textstats, EmptyInput, hpy::exc::ValueError, "The text has no words.");
///
/// fn first_word(text: &str) -> hpy::Result<&str> {
///     text.split_whitespace()
///         .next()
///         .ok_or_else(|| EmptyInput::new_err("no words"))
/// }
/// ```
#[macro_export]
macro_rules! create_exception {
    ($module:ident, $name:ident, $base:ty $(,)?) => {
        $crate::create_exception!(@declare $module, $name, $base, ::core::option::Option::None);
    };
    ($module:ident, $name:ident, $base:ty, $doc:expr $(,)?) => {
        $crate::create_exception!(@declare $module, $name, $base, ::core::option::Option::Some($doc));
    };
    (@declare $module:ident, $name:ident, $base:ty, $doc:expr) => {
        #[doc = concat!("The Python exception class `", stringify!($module), ".", stringify!($name), "`.")]
        #[derive(Debug, Clone, Copy)]
        #[allow(unreachable_pub)]
        pub struct $name;

        impl $name {
            #[doc = concat!("A lazily raised `", stringify!($name), "` with `msg`.")]
            #[inline]
            pub fn new_err(msg: impl ::core::convert::Into<::std::borrow::Cow<'static, str>>) -> $crate::Error {
                $crate::Error::from_declared(Self::__hpy_def, msg)
            }

            #[doc = concat!("The class `", stringify!($module), ".", stringify!($name), "`.")]
            #[inline]
            pub fn type_object(ctx: &$crate::Context) -> $crate::Result<$crate::Handle<'_>> {
                Self::__hpy_def().class(ctx)
            }

            #[doc(hidden)]
            pub fn __hpy_def() -> &'static $crate::impl_::ExceptionDef {
                static DEF: $crate::impl_::ExceptionDef = $crate::impl_::ExceptionDef {
                    module: stringify!($module),
                    name: stringify!($name),
                    qualified_name: concat!(stringify!($module), ".", stringify!($name)),
                    doc: $doc,
                    base: <$base as $crate::impl_::ExceptionBase>::base_class,
                    global: $crate::Global::new(),
                };
                &DEF
            }
        }

        impl $crate::impl_::ExceptionBase for $name {
            #[inline]
            fn base_class(ctx: &$crate::Context) -> $crate::Result<$crate::Handle<'_>> {
                Self::type_object(ctx)
            }
        }

        $crate::impl_::inventory::submit! {
            $crate::impl_::Submission {
                module_path: ::core::module_path!(),
                module: ::core::option::Option::None,
                item: $crate::impl_::Contribution::Exception($name::__hpy_def),
            }
        }
    };
}

/// Declares a [`Global`](crate::Global) anywhere in the crate:
/// `hpy::global!(static NAME);` is `static NAME: Global = Global::new();`
/// that also joins the module definition (PyPy and GraalPy need to know
/// every global). Inside the `#[hpy_module]` `mod`, a plain
/// `static NAME: Global = Global::new();` does the same.
///
/// ```
/// hpy::global!(pub static CACHE);
///
/// fn cached<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
///     if let Some(obj) = CACHE.try_load(ctx) {
///         return Ok(obj);
///     }
///     let obj = ctx.import_module("json")?;
///     CACHE.store(ctx, &obj);
///     Ok(obj)
/// }
/// ```
#[macro_export]
macro_rules! global {
    ($(#[$attr:meta])* $vis:vis static $name:ident $(;)?) => {
        $(#[$attr])*
        $vis static $name: $crate::Global = $crate::Global::new();

        $crate::impl_::inventory::submit! {
            $crate::impl_::Submission {
                module_path: ::core::module_path!(),
                module: ::core::option::Option::None,
                item: $crate::impl_::Contribution::Global(&$name),
            }
        }
    };
}
