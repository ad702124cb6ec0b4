//! Classes that extend builtin types (`float`, `str`, `list`, `int`,
//! `tuple`, exceptions) and other classes.

use std::sync::atomic::{AtomicUsize, Ordering};

use hpy::{Context, Field, Handle, Result, hpy_class, hpy_method, hpy_methods};

/// Structs of this file dropped so far: (quantities, tags, histories,
/// parse errors, shapes, rects, squares).
static DROPS: [AtomicUsize; 7] = [const { AtomicUsize::new(0) }; 7];

fn dropped(i: usize) {
    DROPS[i].fetch_add(1, Ordering::Relaxed);
}

/// How many structs of each class of this file were dropped: quantities,
/// tags, histories, parse errors, shapes, rects, squares.
#[hpy_method]
pub(crate) fn base_drops() -> Vec<usize> {
    DROPS.iter().map(|d| d.load(Ordering::Relaxed)).collect()
}

/// A float with a unit.
#[hpy_class(extends = float, subclass)]
pub(crate) struct Quantity {
    /// The unit.
    #[hpy(get, set)]
    unit: String,
}

#[hpy_methods]
impl Quantity {
    #[new]
    #[hpy(signature = (value, unit = "m".to_owned()))]
    fn new(value: f64, unit: String) -> (Self, (f64,)) {
        (Quantity { unit }, (value,))
    }

    /// The value and the unit.
    fn describe(slf: &Handle<'_>) -> Result<String> {
        let value: f64 = slf.extract()?;
        Ok(format!("{value} {}", slf.borrow::<Quantity>()?.unit))
    }

    /// Renames the unit (a mutable borrow).
    fn set_unit(&mut self, unit: String) {
        self.unit = unit;
    }
}

impl Drop for Quantity {
    fn drop(&mut self) {
        dropped(0);
    }
}

/// A quantity in metres, made from Rust.
#[hpy_method]
pub(crate) fn metres(ctx: &Context, value: f64) -> Result<Handle<'_>> {
    ctx.new_instance::<Quantity>((
        Quantity {
            unit: "m".to_owned(),
        },
        (value,),
    ))
}

/// A str that counts how often it was used.
#[hpy_class(extends = str)]
pub(crate) struct Tag {
    #[hpy(get)]
    uses: u64,
    note: String,
}

#[hpy_methods]
impl Tag {
    #[new]
    fn new(text: &str) -> (Self, (String,)) {
        (
            Tag {
                uses: 0,
                note: format!("made from {text:?}"),
            },
            (text.to_uppercase(),),
        )
    }

    /// Counts one use; returns the count.
    fn use_(&mut self) -> u64 {
        self.uses += 1;
        self.uses
    }

    /// How it was made.
    fn note(&self) -> String {
        self.note.clone()
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        dropped(1);
    }
}

/// A list with a name; `list.__init__` fills it from the constructor's
/// argument, as for a Python subclass of `list`.
#[hpy_class(extends = list)]
pub(crate) struct History {
    #[hpy(get)]
    name: String,
}

#[hpy_methods]
impl History {
    #[new]
    #[hpy(signature = (items, name = "history".to_owned()))]
    fn new(items: &Handle<'_>, name: String) -> Self {
        let _ = items;
        History { name }
    }

    /// The name and the length.
    fn describe(slf: &Handle<'_>) -> Result<String> {
        Ok(format!(
            "{} of {}",
            slf.borrow::<History>()?.name,
            slf.len()?
        ))
    }
}

impl Drop for History {
    fn drop(&mut self) {
        dropped(2);
    }
}

/// A `ValueError` that knows its line.
#[hpy_class(extends = ValueError)]
pub(crate) struct ParseError {
    /// The line of the error.
    #[hpy(get)]
    line: usize,
    source: String,
}

#[hpy_methods]
impl ParseError {
    #[new]
    fn new(message: String, line: usize) -> (Self, (String,)) {
        (
            ParseError {
                line,
                source: format!("{message} at {line}"),
            },
            (message,),
        )
    }

    /// Where it happened.
    fn source(&self) -> String {
        self.source.clone()
    }
}

impl Drop for ParseError {
    fn drop(&mut self) {
        dropped(3);
    }
}

/// Raises a `ParseError` made in Rust.
#[hpy_method]
pub(crate) fn parse(ctx: &Context, text: &str) -> Result<usize> {
    match text.find('!') {
        None => Ok(text.len()),
        Some(at) => {
            let err = ctx.new_instance::<ParseError>((
                ParseError {
                    line: at + 1,
                    source: text.to_owned(),
                },
                ("bang".to_owned(),),
            ))?;
            Err(hpy::Error::from_value(&err))
        }
    }
}

/// An int with bit tests: no data (CPython keeps an int's digits where a
/// struct would go), so frozen and a unit struct; made by `int` itself.
#[hpy_class(extends = int, frozen)]
pub(crate) struct Flags;

#[hpy_methods]
impl Flags {
    /// Whether bit `bit` is set.
    fn has(slf: &Handle<'_>, bit: u32) -> Result<bool> {
        let value: u128 = slf.extract()?;
        Ok(bit < 128 && (value >> bit) & 1 == 1)
    }

    /// How many bits are set.
    #[getter]
    fn count(slf: &Handle<'_>) -> Result<u32> {
        Ok(slf.extract::<u128>()?.count_ones())
    }

    fn __repr__(slf: &Handle<'_>) -> Result<String> {
        Ok(format!("Flags({:#b})", slf.extract::<u128>()?))
    }
}

/// A pair: a tuple of two floats, with a `#[new]`.
#[hpy_class(extends = tuple, frozen)]
pub(crate) struct Pair;

#[hpy_methods]
impl Pair {
    #[new]
    fn new(a: f64, b: f64) -> (Self, ((f64, f64),)) {
        (Pair, ((a, b),))
    }

    /// The sum of the two.
    fn total(slf: &Handle<'_>) -> Result<f64> {
        let (a, b): (f64, f64) = slf.extract()?;
        Ok(a + b)
    }
}

/// A named shape, the base of `Rect`.
#[hpy_class(subclass)]
pub(crate) struct Shape {
    #[hpy(get)]
    name: String,
    /// Any object (a `Field` of the base, traversed for the subclasses too).
    link: Field,
}

#[hpy_methods]
impl Shape {
    #[new]
    #[hpy(signature = (name = "shape".to_owned()))]
    fn new(name: String) -> Self {
        Shape {
            name,
            link: Field::new(),
        }
    }

    /// The area (none for a bare shape).
    fn area(&self) -> f64 {
        0.0
    }

    /// The name and the area, through `area` as Python sees it.
    fn describe(slf: &Handle<'_>) -> Result<String> {
        let area: f64 = slf.call_method("area", ())?.extract()?;
        Ok(format!("{} of area {area}", slf.borrow::<Shape>()?.name))
    }

    /// Renames the shape (a mutable borrow of the base's struct).
    fn rename(&mut self, name: String) {
        self.name = name;
    }

    /// Keeps `obj` (`None` clears).
    fn link(slf: &Handle<'_>, obj: &Handle<'_>) -> Result<()> {
        let shape = slf.borrow::<Shape>()?;
        shape.link.store(slf, (!obj.is_none()).then_some(obj))
    }

    /// What `link` kept.
    fn linked<'py>(slf: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        slf.borrow::<Shape>()?.link.load(slf)
    }

    /// `shape(suffix)`: the name and the suffix (a call slot that the
    /// subclasses, Rust and Python, inherit).
    #[hpy(signature = (suffix = "", *, times = 1))]
    fn __call__(&self, suffix: &str, times: usize) -> String {
        format!("{}{}", self.name, suffix.repeat(times.min(8)))
    }
}

impl Drop for Shape {
    fn drop(&mut self) {
        dropped(4);
    }
}

/// A rectangle: a shape with sides.
#[hpy_class(extends = Shape, subclass)]
pub(crate) struct Rect {
    #[hpy(get, set)]
    w: f64,
    #[hpy(get, set)]
    h: f64,
}

#[hpy_methods]
impl Rect {
    #[new]
    fn new(w: f64, h: f64) -> (Self, Shape) {
        (
            Rect { w, h },
            Shape {
                name: "rect".to_owned(),
                link: Field::new(),
            },
        )
    }

    /// The area.
    fn area(&self) -> f64 {
        self.w * self.h
    }

    /// Scales the sides, and calls `f` meanwhile (with the rect borrowed
    /// mutably; the shape's struct stays free).
    fn scale_calling<'py>(&mut self, k: f64, f: &Handle<'py>) -> Result<Handle<'py>> {
        self.w *= k;
        self.h *= k;
        f.call0()
    }
}

impl Drop for Rect {
    fn drop(&mut self) {
        dropped(5);
    }
}

/// A square: two levels down.
#[hpy_class(extends = Rect)]
pub(crate) struct Square {
    note: Field,
}

#[hpy_methods]
impl Square {
    #[new]
    fn new(side: f64) -> (Self, (Rect, Shape)) {
        (
            Square { note: Field::new() },
            (
                Rect { w: side, h: side },
                Shape {
                    name: "square".to_owned(),
                    link: Field::new(),
                },
            ),
        )
    }

    /// Keeps `obj` in the square's own field.
    fn note(slf: &Handle<'_>, obj: &Handle<'_>) -> Result<()> {
        slf.borrow::<Square>()?.note.store(slf, Some(obj))
    }

    /// The side.
    #[getter]
    fn side(slf: &Handle<'_>) -> Result<f64> {
        Ok(slf.borrow::<Rect>()?.w)
    }
}

impl Drop for Square {
    fn drop(&mut self) {
        dropped(6);
    }
}

/// A square made in Rust.
#[hpy_method]
pub(crate) fn unit_square(ctx: &Context) -> Result<Handle<'_>> {
    ctx.new_instance::<Square>((
        Square { note: Field::new() },
        (
            Rect { w: 1.0, h: 1.0 },
            Shape {
                name: "unit".to_owned(),
                link: Field::new(),
            },
        ),
    ))
}
