//! A third `#[hpy_methods]` block of `Counter` (declared in `counter.rs`),
//! in a file of its own: the blocks of one class may live in any files of
//! the crate (`inventory` gathers them, as PyO3's `multiple-pymethods`).

use hpy::hpy_methods;

use crate::counter::Counter;

#[hpy_methods]
impl Counter {
    /// Sets the count back to zero (the history stays).
    fn reset(&mut self) {
        self.count = 0;
    }

    /// The largest count so far, from the history.
    #[getter]
    fn peak(&self) -> u64 {
        self.history.iter().copied().max().unwrap_or(0)
    }
}
