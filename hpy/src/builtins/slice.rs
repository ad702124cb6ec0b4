//! `slice`: unpacking and resolving against a length.

use super::{descriptor_error, ssize, type_check, wrong_type};
use crate::Handle;
use crate::err::{Error, Result};
use hpy_sys as sys;

impl<'ctx> Handle<'ctx> {
    /// Whether the object is a `slice` (`slice` cannot be subclassed).
    #[inline]
    pub fn is_slice(&self) -> bool {
        type_check(self, sys::h_SliceType)
    }

    /// The `(start, stop, step)` of a `slice` as integers (`HPySlice_Unpack`):
    /// a `None` step becomes 1, a `None` start and stop become `0` and
    /// `isize::MAX` for a positive step (`isize::MAX` and `isize::MIN` for a
    /// negative one), and values beyond `isize` are clamped to it.
    ///
    /// Fails like Python's slicing: a step of 0 raises `ValueError: slice step
    /// cannot be zero`, a non-integer bound `TypeError`; anything but a `slice`
    /// raises `TypeError` (`expected slice, got int`).
    pub fn slice_unpack(&self) -> Result<(isize, isize, isize)> {
        // Checked first: CPython's `PySlice_Unpack` reads any object as a slice.
        if !self.is_slice() {
            return Err(wrong_type("slice", self));
        }
        self.unpack_slice()
    }

    #[inline(always)]
    fn unpack_slice(&self) -> Result<(isize, isize, isize)> {
        let (mut start, mut stop, mut step) = (0, 0, 0);
        // SAFETY: `self` is an open slice; the out-pointers are valid locals.
        let r = unsafe {
            sys::HPySlice_Unpack(
                self.ctx.as_raw(),
                self.raw,
                &mut start,
                &mut stop,
                &mut step,
            )
        };
        if r < 0 {
            return Err(Error::raised());
        }
        Ok((start, stop, step))
    }

    /// Python's `slice.indices(length)`, plus the number of items the slice
    /// selects: `(start, stop, step, count)` for a sequence of `length` items
    /// (`HPySlice_Unpack` and `HPySlice_AdjustIndices`).
    ///
    /// Fails like `slice.indices`: a step of 0 raises `ValueError: slice step
    /// cannot be zero`, anything but a `slice` raises `TypeError: descriptor
    /// 'indices' for 'slice' objects doesn't apply to a 'int' object`.
    ///
    /// ```
    /// // Copies the selected items of `data`, for a `__getitem__` taking slices.
    /// fn select(key: &hpy::Handle<'_>, data: &[u8]) -> hpy::Result<Vec<u8>> {
    ///     let (start, _stop, step, count) = key.slice_indices(data.len())?;
    ///     Ok((0..count as isize).map(|i| data[(start + i * step) as usize]).collect())
    /// }
    /// ```
    pub fn slice_indices(&self, length: usize) -> Result<(isize, isize, isize, usize)> {
        if !self.is_slice() {
            return Err(descriptor_error("indices", "slice", self));
        }
        let (mut start, mut stop, step) = self.unpack_slice()?;
        let count = sys::HPySlice_AdjustIndices(ssize(length), &mut start, &mut stop, step);
        Ok((start, stop, step, count as usize))
    }
}
