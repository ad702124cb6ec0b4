//! A bound on the native stack that one `loads` or `dumps` call may use.
//!
//! Both recurse once per level of nesting. A level limit alone (1024, as in
//! ujson) is not enough: PyPy checks the native stack in its own code against a
//! fixed budget (768 KiB by default, shared with the interpreter's frames), and
//! when an HPy call finds it exceeded, the process aborts ("Fatal RPython error:
//! AssertionError"). So each level also checks how much stack this call has
//! used since it started, and stops well within that budget, with the same
//! error as the level limit.

/// Native stack a single call may use for its recursion.
const BUDGET: usize = 256 * 1024;

/// Where a call started on the stack.
#[derive(Copy, Clone, Debug)]
pub(crate) struct StackGuard {
    base: usize,
}

impl StackGuard {
    /// Marks the current stack position as the start of the call.
    #[inline(always)]
    pub(crate) fn here() -> Self {
        StackGuard {
            base: stack_position(),
        }
    }

    /// Whether the recursion went deeper than the budget (the stack grows
    /// down on every supported target).
    #[inline(always)]
    pub(crate) fn exhausted(&self) -> bool {
        self.base.saturating_sub(stack_position()) > BUDGET
    }
}

/// The address of a local: the current depth of the stack.
#[inline(always)]
fn stack_position() -> usize {
    let marker = 0u8;
    core::hint::black_box(&marker) as *const u8 as usize
}
