//! Importing modules, compiling and running Python source, and aborting:
//! [`Context::import_module`], [`Context::compile`], [`Context::eval_code`],
//! [`Context::fatal_error`].

use core::ops::Deref;

use crate::conv::IntoPy;
use crate::err::{Error, Result, exc::SyntaxError, exc::TypeError, exc::ValueError};
use crate::util::with_c_str;
use crate::{Context, Handle, Runtime};
use hpy_sys as sys;

/// What [`Context::compile`] parses: the `mode` of Python's `compile()`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// One expression (`"eval"`); running the code returns its value.
    Expr,
    /// A module: any number of statements (`"exec"`); running it returns `None`.
    File,
    /// One interactive statement (`"single"`): expression values are printed.
    Single,
}

impl SourceKind {
    /// The C value (`HPy_SourceKind_Expr`, `_File` or `_Single`).
    #[inline]
    pub const fn to_raw(self) -> sys::HPy_SourceKind {
        match self {
            SourceKind::Expr => sys::HPy_SourceKind_Expr,
            SourceKind::File => sys::HPy_SourceKind_File,
            SourceKind::Single => sys::HPy_SourceKind_Single,
        }
    }
}

/// A handle to a Python code object, as [`Context::compile`] makes it and
/// [`Context::eval_code`] runs it.
///
/// It is a separate type because HPy runs whatever it is given as code: a
/// non-code object would crash the interpreter. It dereferences to
/// [`Handle`].
#[derive(Clone, Debug)]
pub struct Code<'ctx>(Handle<'ctx>);

impl<'ctx> Code<'ctx> {
    /// Checks that `obj` is a code object (e.g. a function's `__code__`).
    ///
    /// Anything else raises `TypeError: expected code, got int`. The check
    /// compares `obj`'s type with that of a freshly compiled code object: it
    /// cannot be fooled by a class named `code`.
    pub fn new(obj: Handle<'ctx>) -> Result<Self> {
        let ctx = obj.ctx();
        let probe = ctx.compile("0", "<probe>", SourceKind::Expr)?;
        if obj.get_type().is(&probe.0.get_type()) {
            Ok(Code(obj))
        } else {
            Err(Error::wrong_type("code", &obj))
        }
    }

    /// The handle, as a plain [`Handle`].
    #[inline]
    pub fn into_handle(self) -> Handle<'ctx> {
        self.0
    }
}

impl<'ctx> Deref for Code<'ctx> {
    type Target = Handle<'ctx>;

    #[inline(always)]
    fn deref(&self) -> &Handle<'ctx> {
        &self.0
    }
}

impl<'ctx> IntoPy<'ctx> for Code<'ctx> {
    #[inline(always)]
    fn into_py(self, _ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(self.0)
    }
}

impl<'ctx> IntoPy<'ctx> for &Code<'ctx> {
    #[inline(always)]
    fn into_py(self, _ctx: &'ctx Context) -> Result<Handle<'ctx>> {
        Ok(self.0.dup())
    }
}

impl Context {
    /// `import name` (`HPyImport_ImportModule`): the module, e.g.
    /// `ctx.import_module("os.path")`. A missing module raises
    /// `ModuleNotFoundError: No module named 'name'`.
    ///
    /// ```
    /// fn cwd(ctx: &hpy::Context) -> hpy::Result<String> {
    ///     ctx.import_module("os")?.call_method("getcwd", ())?.extract()
    /// }
    /// ```
    pub fn import_module(&self, name: &str) -> Result<Handle<'_>> {
        with_c_str(name, |name| {
            // SAFETY: the context is live and `name` is a C string for the call;
            // the result is new or NULL with an exception set.
            unsafe {
                Handle::from_raw_result(self, sys::HPyImport_ImportModule(self.as_raw(), name))
            }
        })?
    }

    /// `compile(source, filename, mode)` (`HPy_Compile_s`): a code object for
    /// [`eval_code`](Self::eval_code). Bad syntax raises `SyntaxError` (with
    /// `filename` in it), and a NUL character in `source` raises `SyntaxError:
    /// source code string cannot contain null bytes`, as CPython's `compile()`
    /// does (checked on 3.11.7; PyPy 7.3.19 raises `ValueError` there).
    ///
    /// On runtimes other than CPython this calls the builtin
    /// `compile(..., dont_inherit=True)` instead: PyPy's `HPy_Compile_s`
    /// compiles with the `__future__` flags of the calling Python code.
    ///
    /// ```
    /// use hpy::SourceKind;
    ///
    /// fn six<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     let code = ctx.compile("2 * 3", "<six>", SourceKind::Expr)?;
    ///     let globals = ctx.import_module("__main__")?.get_attr("__dict__")?;
    ///     ctx.eval_code(&code, &globals, &globals)
    /// }
    /// ```
    pub fn compile(&self, source: &str, filename: &str, kind: SourceKind) -> Result<Code<'_>> {
        if source.as_bytes().contains(&0) {
            return Err(SyntaxError::new_err(
                "source code string cannot contain null bytes",
            ));
        }
        if self.runtime() != Runtime::CPython {
            // PyPy's `HPy_Compile_s` compiles with the `__future__` flags of the
            // calling Python code (CPython's does not): the builtin
            // `compile(..., dont_inherit=True)` behaves the same everywhere.
            return self.compile_builtin(source, filename, kind);
        }
        let raw = with_c_str(filename, |filename| {
            with_c_str(source, |source| {
                // SAFETY: the context is live; both are C strings for the call.
                unsafe { sys::HPy_Compile_s(self.as_raw(), source, filename, kind.to_raw()) }
            })
        })??;
        // SAFETY: the result is a new code object or NULL with an exception set.
        unsafe { Handle::from_raw_result(self, raw) }.map(Code)
    }

    /// `compile(source, filename, mode, dont_inherit=True)`, through the
    /// builtin (see [`compile`](Self::compile)).
    #[cold]
    fn compile_builtin(&self, source: &str, filename: &str, kind: SourceKind) -> Result<Code<'_>> {
        if filename.as_bytes().contains(&0) {
            return Err(ValueError::new_err("embedded null character"));
        }
        let mode = match kind {
            SourceKind::Expr => "eval",
            SourceKind::File => "exec",
            SourceKind::Single => "single",
        };
        let compile = crate::object::builtin(self, "compile")?;
        compile
            .call_kw((source, filename, mode), (("dont_inherit", true),))
            .map(Code)
    }

    /// Runs a code object (`HPy_EvalCode`, `exec(code, globals, locals)`, or
    /// `eval` for [`SourceKind::Expr`] code): its value for an expression,
    /// `None` for statements. Exceptions raised by the code propagate.
    ///
    /// `globals` must be a `dict` (anything else raises `TypeError: globals
    /// must be a dict, not int`); `locals` can be any mapping (often
    /// `globals` again). As `exec` does, a `globals` without a
    /// `__builtins__` key gets the current builtins under that key (on
    /// CPython 3.9 the code would otherwise see no builtins but `None`).
    pub fn eval_code<'ctx>(
        &'ctx self,
        code: &Code<'_>,
        globals: &Handle<'_>,
        locals: &Handle<'_>,
    ) -> Result<Handle<'ctx>> {
        // SAFETY: the handle is open in the live context.
        if unsafe { sys::HPyDict_Check(self.as_raw(), globals.as_raw()) } == 0 {
            return Err(TypeError::new_err(format!(
                "globals must be a dict, not {}",
                globals.type_name()
            )));
        }
        // Through `dict`'s own methods, as `exec` reads and writes the dict
        // itself: a subclass's `__contains__`/`__setitem__` play no part.
        let dict = crate::object::builtin(self, "dict")?;
        if !dict
            .call_method("__contains__", (globals, "__builtins__"))?
            .is_true()?
        {
            dict.call_method("__setitem__", (globals, "__builtins__", &*self.builtins()))?;
        }
        // SAFETY: `code` is an open code object (the `Code` type guarantees it),
        // `globals` an open dict, `locals` open; the result is new or NULL with
        // an exception set.
        unsafe {
            Handle::from_raw_result(
                self,
                sys::HPy_EvalCode(
                    self.as_raw(),
                    code.as_raw(),
                    globals.as_raw(),
                    locals.as_raw(),
                ),
            )
        }
    }

    /// Prints `message` and aborts the process (`HPy_FatalError`, like C's
    /// `Py_FatalError`): for states the extension cannot recover from. It
    /// never returns; a NUL in `message` ends it there.
    pub fn fatal_error(&self, message: &str) -> ! {
        let message = message.split('\0').next().unwrap_or_default();
        let r = with_c_str(message, |message| {
            // SAFETY: the context is live and `message` is a C string.
            unsafe { sys::HPy_FatalError(self.as_raw(), message) }
        });
        match r {
            Ok(never) => never,
            // SAFETY: as above; a static C string. (Unreachable: `message` has no NUL.)
            Err(_) => unsafe { sys::HPy_FatalError(self.as_raw(), c"fatal error".as_ptr()) },
        }
    }
}
