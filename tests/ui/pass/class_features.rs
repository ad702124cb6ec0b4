// Right: a class with the features a user reaches for first, and subclasses
// of a builtin type and of a class; instances made from Rust.
use hpy::{Context, Field, Handle, Result, hpy_class, hpy_method, hpy_methods};

#[hpy::hpy_module]
mod shapes {}

/// A point in the plane.
#[hpy_class(subclass)]
struct Point {
    #[hpy(get, set)]
    x: f64,
    #[hpy(get)]
    y: f64,
    tag: Field,
}

#[hpy_methods]
impl Point {
    #[new]
    #[hpy(signature = (x = 0.0, y = 0.0))]
    fn new(x: f64, y: f64) -> Self {
        Point { x, y, tag: Field::new() }
    }

    fn norm(&self) -> f64 {
        self.x.hypot(self.y)
    }

    fn scale(&mut self, k: f64) {
        self.x *= k;
        self.y *= k;
    }

    #[getter]
    fn r(&self) -> f64 {
        self.norm()
    }

    #[staticmethod]
    fn origin() -> Point {
        Point::new(0.0, 0.0)
    }

    #[classmethod]
    fn unit<'py>(cls: &Handle<'py>) -> Result<Handle<'py>> {
        cls.call((1.0, 0.0))
    }

    fn __repr__(&self) -> String {
        format!("Point({}, {})", self.x, self.y)
    }

    fn __add__(&self, other: &Point) -> Point {
        Point::new(self.x + other.x, self.y + other.y)
    }

    fn tag<'py>(slf: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        slf.borrow::<Point>()?.tag.load(slf)
    }
}

/// A float with a unit.
#[hpy_class(extends = float)]
struct Quantity {
    unit: String,
}

#[hpy_methods]
impl Quantity {
    #[new]
    fn new(value: f64, unit: String) -> (Self, (f64,)) {
        (Quantity { unit }, (value,))
    }

    fn __getbuffer__(&self) -> &[u8] {
        self.unit.as_bytes()
    }
}

/// A point with a label: extends `Point`.
#[hpy_class(extends = Point, weakref, dict)]
struct Labeled {
    label: String,
}

#[hpy_methods]
impl Labeled {
    #[new]
    fn new(label: String) -> (Self, Point) {
        (Labeled { label }, Point::new(1.0, 1.0))
    }

    fn __init__(&mut self, label: String) {
        self.label = label;
    }
}

#[hpy_method]
fn make(ctx: &Context) -> Result<(Handle<'_>, Handle<'_>)> {
    let q = ctx.new_instance::<Quantity>((Quantity { unit: "m".into() }, (1.0,)))?;
    let l = ctx.new_instance::<Labeled>((Labeled { label: "a".into() }, Point::new(0.0, 0.0)))?;
    Ok((q, l))
}

fn main() {}
