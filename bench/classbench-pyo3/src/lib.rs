//! The PyO3 reference of the class benchmark (`bench/class_bench.py`): the
//! same types as `bench/classbench-rs`, written as a PyO3 user writes them
//! (plain `#[pyclass]`, so with PyO3's borrow checking, like the non-frozen
//! Rust row).

use pyo3::prelude::*;

/// Class benchmark types, with PyO3.
#[pymodule]
mod classbench_pyo3 {
    use pyo3::prelude::*;

    /// A point in the plane.
    #[pyclass]
    struct Point {
        #[pyo3(get, set)]
        x: f64,
        #[pyo3(get, set)]
        y: f64,
    }

    #[pymethods]
    impl Point {
        #[new]
        #[pyo3(signature = (x = 0.0, y = 0.0))]
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

        fn __add__(&self, other: PyRef<'_, Point>) -> Point {
            Point {
                x: self.x + other.x,
                y: self.y + other.y,
            }
        }
    }

    /// The integers 0..n.
    #[pyclass]
    struct Bag {
        items: Vec<i64>,
    }

    #[pymethods]
    impl Bag {
        #[new]
        #[pyo3(signature = (n = 100))]
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

    /// The iterator of a `Bag`: a copy of its items.
    #[pyclass]
    struct BagIter {
        items: Vec<i64>,
        next: usize,
    }

    #[pymethods]
    impl BagIter {
        fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
            slf
        }

        fn __next__(&mut self) -> Option<i64> {
            let item = self.items.get(self.next).copied();
            self.next += 1;
            item
        }
    }
}
