//! The class options `dict`, `weakref` and `unsendable`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hpy::{Field, Handle, Result, exc, hpy_class, hpy_method, hpy_methods};

/// Structs of this file dropped so far: (opens, weaks, locals).
static DROPS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

/// How many `Open`, `Weak` and `Local` structs were dropped.
#[hpy_method]
pub(crate) fn option_drops() -> Vec<usize> {
    DROPS.iter().map(|d| d.load(Ordering::Relaxed)).collect()
}

/// Instances have a `__dict__` and can be weakly referenced.
#[hpy_class(dict, weakref, subclass)]
pub(crate) struct Open {
    #[hpy(get, set)]
    n: i64,
    link: Field,
}

#[hpy_methods]
impl Open {
    #[new]
    #[hpy(signature = (n = 0))]
    fn new(n: i64) -> Self {
        Open {
            n,
            link: Field::new(),
        }
    }

    /// Keeps `obj`.
    fn link(slf: &Handle<'_>, obj: &Handle<'_>) -> Result<()> {
        slf.borrow::<Open>()?.link.store(slf, Some(obj))
    }

    /// Doubles `n` (`OverflowError` beyond `i64`).
    fn double(&mut self) -> Result<i64> {
        self.n = self
            .n
            .checked_mul(2)
            .ok_or_else(|| exc::OverflowError::new_err("Open.double overflow"))?;
        Ok(self.n)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        DROPS[0].fetch_add(1, Ordering::Relaxed);
    }
}

/// Instances can be weakly referenced (and have no `__dict__`).
#[hpy_class(weakref)]
pub(crate) struct Weak {
    #[hpy(get)]
    n: i64,
}

#[hpy_methods]
impl Weak {
    #[new]
    fn new(n: i64) -> Self {
        Weak { n }
    }
}

impl Drop for Weak {
    fn drop(&mut self) {
        DROPS[1].fetch_add(1, Ordering::Relaxed);
    }
}

/// A float with a `__dict__`.
#[hpy_class(extends = float, dict)]
pub(crate) struct Measure {
    #[hpy(get)]
    unit: String,
}

#[hpy_methods]
impl Measure {
    #[new]
    fn new(value: f64, unit: String) -> (Self, (f64,)) {
        (Measure { unit }, (value,))
    }
}

/// Holds an `Rc` (not `Send`): usable only in the thread that made it.
#[hpy_class(unsendable)]
pub(crate) struct Local {
    items: Rc<RefCell<Vec<i64>>>,
}

#[hpy_methods]
impl Local {
    #[new]
    fn new() -> Self {
        Local {
            items: Rc::new(RefCell::new(Vec::new())),
        }
    }

    /// Adds an item; returns the count.
    fn push(&self, item: i64) -> usize {
        let shared = Rc::clone(&self.items);
        shared.borrow_mut().push(item);
        shared.borrow().len()
    }

    /// The items.
    fn items(&self) -> Vec<i64> {
        self.items.borrow().clone()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        DROPS[2].fetch_add(1, Ordering::Relaxed);
    }
}
