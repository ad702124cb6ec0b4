//! Classes whose methods call back into Python while their struct is
//! borrowed: the borrow flag must turn re-entrant misuse into exceptions.

use hpy::{Handle, Result, hpy_class, hpy_methods};

/// Numbers, compared with Python objects by Python's `==` (which runs any
/// `__eq__`, while the bag is borrowed).
#[hpy_class]
pub(crate) struct Bag {
    items: Vec<i64>,
    /// Bumped by every change.
    #[hpy(get)]
    version: u64,
}

#[hpy_methods]
impl Bag {
    #[new]
    #[hpy(signature = (*items))]
    fn new(items: Vec<i64>) -> Self {
        Bag { items, version: 0 }
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    /// Adds an item (needs the bag mutably).
    fn push(&mut self, item: i64) {
        self.items.push(item);
        self.version += 1;
    }

    /// How many items are `== x` (Python's `==`, with the bag borrowed).
    fn count(&self, x: &Handle<'_>) -> Result<usize> {
        let mut n = 0;
        for &item in &self.items {
            if x.eq(item)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Removes the first item `== x` (Python's `==`, with the bag borrowed
    /// mutably); whether there was one.
    fn remove(&mut self, x: &Handle<'_>) -> Result<bool> {
        for i in 0..self.items.len() {
            if x.eq(self.items[i])? {
                self.items.remove(i);
                self.version += 1;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Merges `other`'s items into this bag (`a.merge(a)` needs the same
    /// struct mutably and shared at once: refused).
    fn merge(&mut self, other: &Bag) {
        self.items.extend_from_slice(&other.items);
        self.version += 1;
    }

    /// The items.
    fn items(&self) -> Vec<i64> {
        self.items.clone()
    }
}
