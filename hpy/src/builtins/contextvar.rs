//! Context variables (`contextvars.ContextVar`).

use crate::conv::IntoPy;
use crate::err::{Error, Result};
use crate::util::with_c_str;
use crate::{Context, Handle};
use hpy_sys as sys;

impl Context {
    /// A new `contextvars.ContextVar(name, default=default)` (`HPyContextVar_New`).
    ///
    /// ```
    /// fn precision_var<'py>(ctx: &'py hpy::Context) -> hpy::Result<hpy::Handle<'py>> {
    ///     let default = ctx.new_str("high")?;
    ///     ctx.new_context_var("precision", Some(&default))
    /// }
    /// ```
    pub fn new_context_var(&self, name: &str, default: Option<&Handle<'_>>) -> Result<Handle<'_>> {
        let default = default.map_or(sys::HPy::NULL, |d| d.raw);
        with_c_str(name, |name| {
            // SAFETY: the context is live; `name` is a C string for the call (the
            // runtime copies it into a `str`); `default` is NULL or an open handle.
            unsafe {
                Handle::from_raw_result(self, sys::HPyContextVar_New(self.as_raw(), name, default))
            }
        })?
    }
}

impl<'ctx> Handle<'ctx> {
    /// `var.get(default)` of a `ContextVar` (`HPyContextVar_Get`), or `None`
    /// where Python raises `LookupError` (no value in the current context, no
    /// default given and none in the variable).
    ///
    /// Anything but a `ContextVar` raises `TypeError: an instance of ContextVar
    /// was expected`.
    pub fn context_var_try_get(
        &self,
        default: Option<&Handle<'_>>,
    ) -> Result<Option<Handle<'ctx>>> {
        let default = default.map_or(sys::HPy::NULL, |d| d.raw);
        let mut result = sys::HPy::NULL;
        // SAFETY: the handle is open; `default` is NULL or open; `result` is a
        // valid out-pointer that receives a new handle, or NULL.
        let r =
            unsafe { sys::HPyContextVar_Get(self.ctx.as_raw(), self.raw, default, &mut result) };
        if r < 0 {
            return Err(Error::raised());
        }
        if result.is_null() {
            return Ok(None);
        }
        // SAFETY: the runtime returned a new handle that we own.
        Ok(Some(unsafe { Handle::from_raw(self.ctx, result) }))
    }

    /// `var.get(default)` of a `ContextVar` (`HPyContextVar_Get`): its value in
    /// the current context, else `default`, else the variable's default.
    ///
    /// Without any of them it raises `LookupError(var)`, as Python does; anything
    /// but a `ContextVar` raises `TypeError: an instance of ContextVar was expected`.
    ///
    /// ```
    /// fn current<'py>(var: &hpy::Handle<'py>) -> hpy::Result<hpy::Handle<'py>> {
    ///     var.context_var_get(None)
    /// }
    /// ```
    pub fn context_var_get(&self, default: Option<&Handle<'_>>) -> Result<Handle<'ctx>> {
        match self.context_var_try_get(default)? {
            Some(value) => Ok(value),
            None => Err(self.lookup_error()),
        }
    }

    /// Raises `LookupError(self)`, Python's error for an unset variable.
    #[cold]
    fn lookup_error(&self) -> Error {
        let raw = self.ctx.as_raw();
        // SAFETY: the context is live; `h_LookupError` is a constant and `self`
        // an open handle (the runtime takes its own reference).
        unsafe { sys::HPyErr_SetObject(raw, sys::h_LookupError(raw), self.raw) };
        Error::raised()
    }

    /// `var.set(value)` of a `ContextVar` (`HPyContextVar_Set`), converting
    /// `value` first: returns the `Token` that `var.reset(token)` takes.
    ///
    /// Anything but a `ContextVar` raises `TypeError: an instance of ContextVar
    /// was expected`.
    pub fn context_var_set(&self, value: impl IntoPy<'ctx>) -> Result<Handle<'ctx>> {
        let value = value.into_py(self.ctx)?;
        // SAFETY: both handles are open; the runtime does not steal `value`; the
        // result is a new handle or NULL with an exception.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPyContextVar_Set(self.ctx.as_raw(), self.raw, value.raw),
            )
        }
    }
}
