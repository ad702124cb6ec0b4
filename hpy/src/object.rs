//! The object protocol on [`Handle`]: attributes, items, comparisons, hashing,
//! string forms, truth, types, and the number protocol.

use crate::Handle;
use crate::conv::IntoPy;
use crate::err::{Error, Result};
use crate::util::with_c_str;
use hpy_sys as sys;

impl<'ctx> Handle<'ctx> {
    /// Python truth value (`HPy_IsTrue`, `bool(x)`).
    pub fn is_true(&self) -> Result<bool> {
        // SAFETY: the handle is open in the live context.
        let r = unsafe { sys::HPy_IsTrue(self.ctx.as_raw(), self.raw) };
        if r < 0 {
            Err(Error::raised())
        } else {
            Ok(r != 0)
        }
    }

    /// Whether the object is an instance of `ty` (`HPy_TypeCheck`).
    pub fn is_instance(&self, ty: &Handle<'_>) -> bool {
        // SAFETY: both handles are open in the live context.
        unsafe { sys::HPy_TypeCheck(self.ctx.as_raw(), self.raw, ty.raw) != 0 }
    }

    /// The object's type (`HPy_Type`, Python's `type(x)`).
    pub fn get_type(&self) -> Handle<'ctx> {
        // SAFETY: the handle is open; `HPy_Type` returns a new handle (never NULL
        // for a valid object).
        unsafe { Handle::from_raw(self.ctx, sys::HPy_Type(self.ctx.as_raw(), self.raw)) }
    }

    /// `x + other` (`HPy_Add`).
    pub fn add(&self, other: &Handle<'_>) -> Result<Handle<'ctx>> {
        // SAFETY: both handles are open; the result is a new handle or NULL with an
        // exception set.
        unsafe {
            Handle::from_raw_result(
                self.ctx,
                sys::HPy_Add(self.ctx.as_raw(), self.raw, other.raw),
            )
        }
    }

    /// `repr(x)` (`HPy_Repr`).
    pub fn repr(&self) -> Result<Handle<'ctx>> {
        // SAFETY: the handle is open; the result is new or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPy_Repr(self.ctx.as_raw(), self.raw)) }
    }

    /// `str(x)` (`HPy_Str`).
    pub fn str(&self) -> Result<Handle<'ctx>> {
        // SAFETY: the handle is open; the result is new or NULL with an exception set.
        unsafe { Handle::from_raw_result(self.ctx, sys::HPy_Str(self.ctx.as_raw(), self.raw)) }
    }

    /// `getattr(x, name)` (`HPy_GetAttr_s`).
    pub fn get_attr(&self, name: &str) -> Result<Handle<'ctx>> {
        let ctx = self.ctx;
        with_c_str(name, |name| {
            // SAFETY: the handle is open and `name` is a C string for the call.
            unsafe {
                Handle::from_raw_result(ctx, sys::HPy_GetAttr_s(ctx.as_raw(), self.raw, name))
            }
        })?
    }

    /// `setattr(x, name, value)` (`HPy_SetAttr_s`), converting `value` first.
    pub fn set_attr(&self, name: &str, value: impl IntoPy<'ctx>) -> Result<()> {
        let ctx = self.ctx;
        let value = value.into_py(ctx)?;
        with_c_str(name, |name| {
            // SAFETY: both handles are open and `name` is a C string for the call;
            // `HPy_SetAttr_s` does not steal `value`.
            let r = unsafe { sys::HPy_SetAttr_s(ctx.as_raw(), self.raw, name, value.raw) };
            if r < 0 { Err(Error::raised()) } else { Ok(()) }
        })?
    }
}
