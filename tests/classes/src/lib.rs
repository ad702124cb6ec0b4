//! Test fixture: classes. `Point` is the example; the others each
//! exercise one feature (frozen classes, borrows, subclassing, instances as
//! arguments and results, classes in another file).

use hpy::hpy_module;

mod bases;
mod counter;
mod counter_more;
mod fields;
mod hostile;
mod options;
mod protocols;

/// Classes from Rust structs.
#[hpy_module]
mod classes {
    use hpy::{Context, Handle, Ref, RefMut, Result, exc, hpy_class, hpy_method, hpy_methods};

    /// A point in the plane.
    #[hpy_class(subclass)]
    #[derive(Clone, Debug)]
    pub(crate) struct Point {
        /// The x coordinate.
        #[hpy(get, set)]
        pub(crate) x: f64,
        #[hpy(get)]
        pub(crate) y: f64,
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

        /// Multiplies both coordinates by `k`.
        fn scale(&mut self, k: f64) {
            self.x *= k;
            self.y *= k;
        }

        /// Swaps the coordinates (a `&mut self` method that no Python code
        /// can interrupt: its borrow flag is only checked).
        fn flip(&mut self) {
            core::mem::swap(&mut self.x, &mut self.y);
        }

        /// Adds `other`'s coordinates to this point's.
        fn merge(&mut self, other: &Point) {
            self.x += other.x;
            self.y += other.y;
        }

        /// `p + q`: an operator that no Python code can interrupt (both
        /// borrow flags are only checked).
        fn __add__(&self, other: &Point) -> Point {
            Point {
                x: self.x + other.x,
                y: self.y + other.y,
            }
        }

        /// Calls `f` while this point is borrowed (shared).
        fn call_while_borrowed<'py>(&self, f: &Handle<'py>) -> Result<Handle<'py>> {
            f.call0()
        }

        /// Calls `f` while this point is borrowed mutably.
        fn call_while_mut<'py>(&mut self, f: &Handle<'py>) -> Result<Handle<'py>> {
            self.x += 1.0;
            f.call0()
        }

        /// A copy of this point, as a new instance.
        fn copy(&self) -> Point {
            self.clone()
        }

        /// The object itself.
        fn itself<'py>(slf: &Handle<'py>) -> Handle<'py> {
            slf.dup()
        }

        /// Keyword arguments and the context.
        #[hpy(signature = (dx, dy = 0.0, *, times = 1))]
        fn moved<'py>(
            &self,
            ctx: &'py Context,
            dx: f64,
            dy: f64,
            times: u32,
        ) -> Result<Handle<'py>> {
            let t = f64::from(times);
            ctx.new_instance(Point {
                x: self.x + dx * t,
                y: self.y + dy * t,
            })
        }

        /// The radius.
        #[getter]
        fn r(&self) -> f64 {
            self.norm()
        }

        #[getter]
        fn get_angle(&self) -> f64 {
            self.y.atan2(self.x)
        }

        /// Sets the angle, keeping the radius.
        #[setter]
        fn set_angle(&mut self, angle: f64) {
            let r = self.norm();
            self.x = r * angle.cos();
            self.y = r * angle.sin();
        }

        /// `slf` as a `Ref` guard.
        fn sum(slf: Ref<'_, Self>) -> f64 {
            slf.x + slf.y
        }

        /// `slf` as a `RefMut` guard.
        fn reset(mut slf: RefMut<'_, Self>) {
            slf.x = 0.0;
            slf.y = 0.0;
        }

        /// The origin.
        #[staticmethod]
        fn origin() -> Point {
            Point { x: 0.0, y: 0.0 }
        }

        /// The distance between two points.
        #[staticmethod]
        fn distance(a: &Point, b: &Point) -> f64 {
            (a.x - b.x).hypot(a.y - b.y)
        }

        /// The unit point on the x axis, of this class (or subclass).
        #[classmethod]
        fn unit<'py>(cls: &Handle<'py>) -> Result<Handle<'py>> {
            cls.call((1.0, 0.0))
        }

        /// A point of this class from polar coordinates.
        #[classmethod]
        #[hpy(signature = (r, angle = 0.0))]
        fn polar<'py>(cls: &Handle<'py>, r: f64, angle: f64) -> Result<Handle<'py>> {
            cls.call((r * angle.cos(), r * angle.sin()))
        }

        fn __repr__(&self) -> String {
            format!("Point({}, {})", self.x, self.y)
        }

        fn __str__(&self) -> String {
            format!("({}, {})", self.x, self.y)
        }
    }

    /// A value that never changes.
    #[hpy_class(frozen)]
    pub(crate) struct Frozen {
        #[hpy(get)]
        pub(crate) value: i64,
        #[hpy(get, name = "label")]
        pub(crate) text: String,
    }

    #[hpy_methods]
    impl Frozen {
        #[new]
        fn new(value: i64, text: String) -> Self {
            Frozen { value, text }
        }

        /// The text, borrowed from the struct: a result with a lifetime
        /// that is not written (it keeps `self` borrowed while converted).
        #[allow(mismatched_lifetime_syntaxes, elided_lifetimes_in_paths)]
        fn text_view(&self) -> std::borrow::Cow<str> {
            std::borrow::Cow::Borrowed(&self.text)
        }

        fn doubled(&self) -> Result<i64> {
            self.value
                .checked_mul(2)
                .ok_or_else(|| exc::OverflowError::new_err("Frozen.doubled overflow"))
        }
    }

    /// A class without `#[new]`: made from Rust only.
    #[hpy_class(name = "Token")]
    pub(crate) struct Opaque {
        #[hpy(get)]
        id: u64,
    }

    /// A `Token`, made in Rust.
    #[hpy_method]
    fn make_token(id: u64) -> Opaque {
        Opaque { id }
    }

    /// The x of any Point (or subclass instance).
    #[hpy_method]
    fn x_of(p: &Point) -> f64 {
        p.x
    }

    /// Doubles the x of a Point in place.
    #[hpy_method]
    fn double_x(p: &mut Point) {
        p.x *= 2.0;
    }

    /// Whether `obj` is a Point, and its coordinates through `borrow`.
    #[hpy_method]
    fn inspect_point(obj: &Handle<'_>) -> Result<Option<(f64, f64)>> {
        if !obj.is_instance_of::<Point>()? {
            return Ok(None);
        }
        let p = obj.borrow::<Point>()?;
        Ok(Some((p.x, p.y)))
    }

    /// The class object of Point, from Rust.
    #[hpy_method]
    fn point_type(ctx: &Context) -> Result<Handle<'_>> {
        ctx.type_object::<Point>()
    }

    /// Fails inside `new`.
    #[hpy_class]
    pub(crate) struct Picky {
        #[hpy(get)]
        n: u8,
    }

    #[hpy_methods]
    impl Picky {
        #[new]
        fn new(n: i64) -> Result<Self> {
            match u8::try_from(n) {
                Ok(n) if n % 2 == 0 => Ok(Picky { n }),
                _ => Err(exc::ValueError::new_err("n must be an even byte")),
            }
        }
    }
}
