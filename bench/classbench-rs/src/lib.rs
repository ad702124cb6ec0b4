//! The Rust side of the class benchmark (`bench/class_bench.py`): the same
//! types as `bench/c/classbench_hpy.c`, `bench/c/classbench_capi.c` and
//! `bench/classbench-pyo3`, written as a Rust user writes them.
//!
//! * `Point` (mutable: every method goes through the borrow flag) and
//!   `FrozenPoint` (`frozen`: no borrow flag): `x`, `y` as fields,
//!   `new(x=0.0, y=0.0)`, `norm()`, the getter `r` (= `norm()`), `p + q`.
//! * `Bag` and `FrozenBag`: `n` integers `0..n` (100 by default), `len()`,
//!   and iteration through `__iter__`, which returns a `BagIter` whose
//!   `__next__(&mut self) -> Option<i64>` yields them. The iterator holds a
//!   copy of the items, as in every other implementation.

use hpy::hpy_module;

/// Class benchmark types, in Rust.
#[hpy_module]
mod classbench_rs {
    use hpy::{hpy_class, hpy_methods};

    /// A point in the plane (mutable: methods take the borrow flag).
    #[hpy_class]
    pub(crate) struct Point {
        #[hpy(get, set)]
        x: f64,
        #[hpy(get, set)]
        y: f64,
    }

    #[hpy_methods]
    impl Point {
        #[new]
        #[hpy(signature = (x = 0.0, y = 0.0))]
        fn new(x: f64, y: f64) -> Self {
            Point { x, y }
        }

        /// The distance to the origin.
        fn norm(&self) -> f64 {
            self.x.hypot(self.y)
        }

        /// The radius (= norm()).
        #[getter]
        fn r(&self) -> f64 {
            self.norm()
        }

        fn __add__(&self, other: &Point) -> Point {
            Point {
                x: self.x + other.x,
                y: self.y + other.y,
            }
        }
    }

    /// A point in the plane that never changes (no borrow flag).
    #[hpy_class(frozen)]
    pub(crate) struct FrozenPoint {
        #[hpy(get)]
        x: f64,
        #[hpy(get)]
        y: f64,
    }

    #[hpy_methods]
    impl FrozenPoint {
        #[new]
        #[hpy(signature = (x = 0.0, y = 0.0))]
        fn new(x: f64, y: f64) -> Self {
            FrozenPoint { x, y }
        }

        /// The distance to the origin.
        fn norm(&self) -> f64 {
            self.x.hypot(self.y)
        }

        /// The radius (= norm()).
        #[getter]
        fn r(&self) -> f64 {
            self.norm()
        }

        fn __add__(&self, other: &FrozenPoint) -> FrozenPoint {
            FrozenPoint {
                x: self.x + other.x,
                y: self.y + other.y,
            }
        }
    }

    /// The integers 0..n (mutable class).
    #[hpy_class]
    pub(crate) struct Bag {
        items: Vec<i64>,
    }

    #[hpy_methods]
    impl Bag {
        #[new]
        #[hpy(signature = (n = 100))]
        fn new(n: i64) -> Self {
            Bag {
                items: (0..n).collect(),
            }
        }

        fn __len__(&self) -> usize {
            self.items.len()
        }

        fn __iter__(&self) -> BagIter {
            BagIter {
                items: self.items.clone(),
                next: 0,
            }
        }
    }

    /// The integers 0..n (frozen class).
    #[hpy_class(frozen)]
    pub(crate) struct FrozenBag {
        items: Vec<i64>,
    }

    #[hpy_methods]
    impl FrozenBag {
        #[new]
        #[hpy(signature = (n = 100))]
        fn new(n: i64) -> Self {
            FrozenBag {
                items: (0..n).collect(),
            }
        }

        fn __len__(&self) -> usize {
            self.items.len()
        }

        fn __iter__(&self) -> BagIter {
            BagIter {
                items: self.items.clone(),
                next: 0,
            }
        }
    }

    /// The iterator of a `Bag` or `FrozenBag`: a copy of its items.
    #[hpy_class]
    pub(crate) struct BagIter {
        items: Vec<i64>,
        next: usize,
    }

    #[hpy_methods]
    impl BagIter {
        fn __iter__<'py>(slf: &hpy::Handle<'py>) -> hpy::Handle<'py> {
            slf.dup()
        }

        fn __next__(&mut self) -> Option<i64> {
            let item = self.items.get(self.next).copied();
            self.next += 1;
            item
        }
    }
}
