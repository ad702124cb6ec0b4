//! Module assembly: what a module gathers from its `mod` and from anywhere in
//! its crate, its definition (built once, at the first `HPyInit_<name>`), and
//! the work of its `HPy_mod_exec` slot.
//!
//! Items outside the module `mod` submit themselves with [`inventory`]
//! ([`Submission`]): `#[hpy_method]` on a free function, [`create_exception!`]
//! and [`global!`](crate::global!). `HPyInit_<name>` builds the module's
//! `defines` and `globals` arrays from its own items and every submission of
//! its crate (the first segment of `module_path!()`), once, and leaks them:
//! the runtime keeps pointers into them for as long as the module lives.
//!
//! [`create_exception!`]: crate::create_exception

use core::ffi::CStr;
use std::sync::OnceLock;

use super::{StaticDef, sys};
use crate::err::Result;
use crate::{Context, Global, Handle, Runtime};

pub use inventory;

/// Something a crate contributes to its module(s) from outside the module
/// `mod`, found at load time through [`inventory`].
#[derive(Debug)]
pub struct Submission {
    /// `module_path!()` where it was declared: the first segment is its crate.
    pub module_path: &'static str,
    /// The module it joins (`#[hpy_method(module = "...")]`), or `None`: every
    /// module of its crate.
    pub module: Option<&'static str>,
    /// What it is.
    pub item: Contribution,
}

/// The kinds of [`Submission`].
#[derive(Debug)]
pub enum Contribution {
    /// A module function.
    Method(&'static StaticDef),
    /// A `Global` (listed in `HPyModuleDef.globals`, which PyPy needs).
    Global(&'static Global),
    /// An exception class made by `create_exception!`.
    Exception(fn() -> &'static ExceptionDef),
    /// A `#[hpy_class]`.
    Class(fn() -> &'static super::ClassDef),
    /// The items of a `#[hpy_methods]` block.
    ClassItems(&'static super::ClassItems),
    /// Lines of a type stub (`hpy-rs stub 1` and the item's module path
    /// first, NUL-terminated), which `cargo hpy` reads from the library; the
    /// runtime has no use for them.
    Stub(&'static str),
}

inventory::collect!(Submission);

/// The first segment of a `module_path!()`: the crate.
fn crate_of(module_path: &str) -> &str {
    module_path.split("::").next().unwrap_or(module_path)
}

/// The submissions of the crate whose module path is `module_path`.
fn submissions_of(module_path: &'static str) -> impl Iterator<Item = &'static Submission> + Clone {
    let krate = crate_of(module_path);
    inventory::iter::<Submission>
        .into_iter()
        .filter(move |s| crate_of(s.module_path) == krate)
}

/// What `#[hpy_module]` knows of its module at compile time.
#[derive(Debug)]
pub struct ModuleSpec {
    /// The module's Python name.
    pub name: &'static str,
    /// `module_path!()` at the `mod` (its crate gathers the submissions).
    pub module_path: &'static str,
    /// The module's docstring.
    pub doc: Option<&'static CStr>,
    /// The functions declared inside the `mod`.
    pub methods: &'static [&'static StaticDef],
    /// The `Global`s declared inside the `mod`.
    pub globals: &'static [&'static Global],
    /// The `HPy_mod_exec` slot.
    pub exec: &'static StaticDef,
}

/// The module definition `HPyInit_<name>` returns: built at the first call,
/// from the spec and the crate's submissions, then the same every time.
pub fn module_def(
    spec: &'static ModuleSpec,
    cell: &'static ModuleDefCell,
) -> *mut sys::HPyModuleDef {
    cell.0
        .get_or_init(|| ModuleDefPtr(build_module_def(spec)))
        .0
}

/// Where a module keeps its built definition (a `static` of the expansion).
#[derive(Debug)]
pub struct ModuleDefCell(OnceLock<ModuleDefPtr>);

impl ModuleDefCell {
    /// An empty cell.
    pub const fn new() -> Self {
        ModuleDefCell(OnceLock::new())
    }
}

impl Default for ModuleDefCell {
    fn default() -> Self {
        ModuleDefCell::new()
    }
}

#[derive(Debug)]
struct ModuleDefPtr(*mut sys::HPyModuleDef);

// SAFETY: the definition is written once, before the pointer is published by
// the `OnceLock`, and afterwards only by the HPy runtime under the
// interpreter lock (module creation); Rust code never reads it again.
unsafe impl Send for ModuleDefPtr {}
// SAFETY: as above.
unsafe impl Sync for ModuleDefPtr {}

/// The entry points of a module, which `#[hpy_module]` expands to: the four
/// symbols of HPy's module protocol (`get_required_hpy_major_version_<name>`,
/// `..._minor_...`, `HPyInitGlobalContext_<name>`, `HPyInit_<name>`).
#[doc(hidden)]
#[macro_export]
#[cfg(not(hpy_abi = "cpython"))]
macro_rules! __hpy_module_entry_points {
    (
        major: $major:ident,
        minor: $minor:ident,
        init_context: $init_ctx:ident,
        init: $init:ident,
        py_init: $py_init:ident,
        spec: $spec:ident,
        def: $def:ident,
    ) => {
        /// HPy module protocol: the ABI major version this module needs.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $major() -> u32 {
            ::hpy::impl_::sys::HPY_ABI_VERSION
        }

        /// HPy module protocol: the ABI minor version this module needs.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $minor() -> u32 {
            ::hpy::impl_::sys::HPY_ABI_VERSION_MINOR
        }

        /// HPy module protocol: receives the context of CPython's trampolines.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $init_ctx(ctx: *mut ::hpy::impl_::sys::HPyContext) {
            // SAFETY: the loader calls this with its live context and the GIL
            // held, before anything of the module runs.
            unsafe { ::hpy::impl_::set_trampoline_context(ctx) }
        }

        /// HPy module protocol: the module definition (no context; no HPy
        /// calls), built at the first call from this `mod` and the rest of
        /// the crate.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $init() -> *mut ::hpy::impl_::sys::HPyModuleDef {
            ::hpy::impl_::module_loading();
            ::hpy::impl_::module_def(&$spec, &$def)
        }
    };
}

/// The entry point of a module in a CPython-ABI build (`--cfg
/// hpy_abi="cpython"`), which `#[hpy_module]` expands to: `PyInit_<name>`,
/// as in any CPython extension.
#[doc(hidden)]
#[macro_export]
#[cfg(hpy_abi = "cpython")]
macro_rules! __hpy_module_entry_points {
    (
        major: $major:ident,
        minor: $minor:ident,
        init_context: $init_ctx:ident,
        init: $init:ident,
        py_init: $py_init:ident,
        spec: $spec:ident,
        def: $def:ident,
    ) => {
        /// The module's initialisation function (multi-phase: it returns the
        /// module's definition, and CPython runs its exec slot).
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "C" fn $py_init() -> *mut ::hpy::impl_::sys::cpy_PyObject {
            ::hpy::impl_::module_loading();
            ::hpy::impl_::py_init(&$spec, &$def)
        }
    };
}

/// The body of `PyInit_<name>` in a CPython-ABI build: the module's
/// `PyModuleDef` (from the same definition `HPyInit_<name>` returns in a
/// universal build), initialised for multi-phase creation.
#[cfg(hpy_abi = "cpython")]
pub fn py_init(spec: &'static ModuleSpec, cell: &'static ModuleDefCell) -> *mut sys::cpy_PyObject {
    let def = module_def(spec, cell);
    // SAFETY: CPython calls `PyInit_<name>` with the GIL held; the definition
    // and everything in it are leaked (`'static`).
    unsafe { sys::cpython::module_def_init(def).cast() }
}

fn build_module_def(spec: &'static ModuleSpec) -> *mut sys::HPyModuleDef {
    let mut defines: Vec<*mut sys::HPyDef> = module_methods(spec).map(StaticDef::as_ptr).collect();
    // The functions of the static and class methods of its classes, which the
    // exec slot moves to them.
    defines.extend(
        super::class::static_member_defs(spec.name, submissions_of(spec.module_path))
            .map(|d| d.as_ptr_unchecked()),
    );
    let mut globals: Vec<*mut sys::HPyGlobal> = spec.globals.iter().map(|g| g.as_ptr()).collect();
    // Every global and exception of the crate: any of its functions may use
    // them, whichever module they joined.
    for s in submissions_of(spec.module_path) {
        match s.item {
            Contribution::Method(_) | Contribution::ClassItems(_) | Contribution::Stub(_) => {}
            Contribution::Global(g) => globals.push(g.as_ptr()),
            Contribution::Exception(def) => globals.push(def().global.as_ptr()),
            Contribution::Class(def) => globals.push(def().global.as_ptr()),
        }
    }
    defines.push(spec.exec.as_ptr());
    defines.push(core::ptr::null_mut());
    globals.push(core::ptr::null_mut());
    let doc = spec.doc.map_or(core::ptr::null(), CStr::as_ptr);
    Box::into_raw(Box::new(sys::HPyModuleDef {
        doc,
        size: 0,
        legacy_methods: core::ptr::null_mut(),
        defines: Box::leak(defines.into_boxed_slice()).as_mut_ptr(),
        globals: Box::leak(globals.into_boxed_slice()).as_mut_ptr(),
    }))
}

/// The part of `HPy_mod_exec` that the SDK does before the module's own
/// exports and `#[hpy_init]`: it makes the module's classes and the crate's
/// exception classes (and adds those of this module to it), and, on runtimes other than CPython,
/// gives the module's functions their `__module__`.
pub fn module_exec(ctx: &Context, module: &Handle<'_>, spec: &'static ModuleSpec) -> Result<()> {
    super::class::make_classes(ctx, module, spec.name, submissions_of(spec.module_path))?;
    for s in submissions_of(spec.module_path) {
        if let Contribution::Exception(def) = s.item {
            let def = def();
            let class = def.class(ctx)?;
            if def.module == spec.name {
                module.set_attr(def.name, &class)?;
            }
        }
    }
    if ctx.runtime() != Runtime::CPython {
        introspection(ctx, module, spec)?;
    }
    Ok(())
}

/// PyPy 7.3.19 gives extension functions no `__module__` (CPython: the
/// module's name): each function of the module gets it here.
///
/// (Its `inspect.signature` cannot be helped: PyPy's HPy functions are
/// `extension_function`s, whose `__text_signature__` `inspect` does not read
/// (it does for `builtin_function_or_method` only), and which take no
/// `__signature__` or `__wrapped__` attribute; `inspect.signature` says
/// `(*args, **keywords)` there. `__text_signature__` itself is right.)
fn introspection(ctx: &Context, module: &Handle<'_>, spec: &'static ModuleSpec) -> Result<()> {
    // The full name (`pkg.module`): PyPy names a package's module by its
    // last part until the loader stub sets `__name__`.
    let name = ctx.new_str(spec.name)?;
    for def in module_methods(spec) {
        let Some(method) = def.method_name() else {
            continue;
        };
        let Ok(method) = method.to_str() else {
            continue;
        };
        if let Ok(f) = module.get_attr(method) {
            f.set_attr("__module__", &name)?;
        } else {
            ctx.err_clear();
        }
    }
    Ok(())
}

/// The functions of the module: its own and those of its crate that join it.
fn module_methods(spec: &'static ModuleSpec) -> impl Iterator<Item = &'static StaticDef> {
    spec.methods
        .iter()
        .copied()
        .chain(
            submissions_of(spec.module_path).filter_map(|s| match s.item {
                Contribution::Method(def) if s.module.is_none_or(|m| m == spec.name) => Some(def),
                _ => None,
            }),
        )
}

/// An exception class declared with `create_exception!`: made at the first
/// `HPy_mod_exec` of a module of its crate (or when first used), kept in its
/// `Global`.
#[derive(Debug)]
pub struct ExceptionDef {
    /// The module it belongs to (the first argument of `create_exception!`).
    pub module: &'static str,
    /// The class name.
    pub name: &'static str,
    /// `module.name`.
    pub qualified_name: &'static str,
    /// Its docstring.
    pub doc: Option<&'static str>,
    /// Its base class.
    pub base: for<'ctx> fn(&'ctx Context) -> Result<Handle<'ctx>>,
    /// Where the class is kept.
    pub global: Global,
}

impl ExceptionDef {
    /// The class: loaded, or made now (its base first) and stored.
    pub fn class<'ctx>(&'static self, ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        if let Some(class) = self.global.try_load(ctx) {
            return Ok(class);
        }
        let base = (self.base)(ctx)?;
        let class = ctx.new_exception(self.qualified_name, Some(&base), None, self.doc)?;
        self.global.store(ctx, &class);
        Ok(class)
    }
}

/// A type that `create_exception!` can take as a base: the builtin exception
/// types of [`exc`](crate::exc) and the classes of `create_exception!`.
pub trait ExceptionBase {
    /// A new handle to the class.
    fn base_class(ctx: &Context) -> Result<Handle<'_>>;
}
