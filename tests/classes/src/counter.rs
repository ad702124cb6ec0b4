//! A class declared outside the module `mod`, with two `#[hpy_methods]`
//! blocks here and a third in `counter_more.rs`, and a `Drop` that Python
//! can observe.

use std::sync::atomic::{AtomicUsize, Ordering};

use hpy::{hpy_class, hpy_method, hpy_methods};

/// Counters dropped so far.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Counts up.
#[hpy_class(subclass)]
pub(crate) struct Counter {
    #[hpy(get)]
    pub(crate) count: u64,
    /// Some heap data, to make leaks visible.
    pub(crate) history: Vec<u64>,
}

#[hpy_methods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter {
            count: 0,
            history: Vec::new(),
        }
    }

    /// Adds one and returns the new count.
    fn increment(&mut self) -> u64 {
        self.count += 1;
        self.history.push(self.count);
        self.count
    }
}

#[hpy_methods]
impl Counter {
    /// The counts so far.
    fn history(&self) -> Vec<u64> {
        self.history.clone()
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many counters have been dropped.
#[hpy_method]
pub(crate) fn counters_dropped() -> usize {
    DROPPED.load(Ordering::Relaxed)
}
