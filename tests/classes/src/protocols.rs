//! Classes that implement Python's protocols through dunders: numbers,
//! comparisons, containers, calls, iteration, context managers and
//! attribute hooks.

use hpy::{CompareOp, Context, Handle, Result, exc, hpy_class, hpy_methods};

/// A 2-D vector with the arithmetic operators.
#[hpy_class(frozen, subclass)]
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct Vec2 {
    #[hpy(get)]
    x: f64,
    #[hpy(get)]
    y: f64,
}

#[hpy_methods]
impl Vec2 {
    #[new]
    fn new(x: f64, y: f64) -> Self {
        Vec2 { x, y }
    }

    fn __repr__(&self) -> String {
        format!("Vec2({}, {})", self.x, self.y)
    }

    fn __add__(&self, other: &Vec2) -> Vec2 {
        Vec2::new(self.x + other.x, self.y + other.y)
    }

    fn __sub__(&self, other: &Vec2) -> Vec2 {
        Vec2::new(self.x - other.x, self.y - other.y)
    }

    /// `v * k` for a number `k`.
    fn __mul__(&self, k: f64) -> Vec2 {
        Vec2::new(self.x * k, self.y * k)
    }

    /// `k * v`.
    fn __rmul__(&self, k: f64) -> Vec2 {
        Vec2::new(self.x * k, self.y * k)
    }

    /// The dot product: `a @ b`.
    fn __matmul__(&self, other: &Vec2) -> f64 {
        self.x * other.x + self.y * other.y
    }

    fn __truediv__(&self, k: f64) -> Result<Vec2> {
        if k == 0.0 {
            return Err(exc::ZeroDivisionError::new_err(
                "division of a Vec2 by zero",
            ));
        }
        Ok(Vec2::new(self.x / k, self.y / k))
    }

    fn __neg__(&self) -> Vec2 {
        Vec2::new(-self.x, -self.y)
    }

    fn __abs__(&self) -> f64 {
        self.x.hypot(self.y)
    }

    fn __bool__(&self) -> bool {
        self.x != 0.0 || self.y != 0.0
    }

    /// `v ** n`: the components to the power n, modulo m if given.
    fn __pow__(&self, n: i32, modulo: Option<f64>) -> Vec2 {
        let p = |c: f64| {
            let v = c.powi(n);
            match modulo {
                Some(m) => v % m,
                None => v,
            }
        };
        Vec2::new(p(self.x), p(self.y))
    }

    fn __eq__(&self, other: &Vec2) -> bool {
        self == other
    }

    fn __lt__(&self, other: &Vec2) -> bool {
        self.__abs__() < other.__abs__()
    }

    fn __hash__(&self) -> u64 {
        self.x.to_bits() ^ self.y.to_bits().rotate_left(17)
    }
}

/// A mutable accumulator: in-place operators, and `__richcmp__`.
#[hpy_class]
pub(crate) struct Total {
    #[hpy(get)]
    value: i64,
}

#[hpy_methods]
impl Total {
    #[new]
    fn new(value: i64) -> Self {
        Total { value }
    }

    fn __iadd__(&mut self, n: i64) -> Result<()> {
        self.value = self
            .value
            .checked_add(n)
            .ok_or_else(|| exc::OverflowError::new_err("Total overflow"))?;
        Ok(())
    }

    fn __isub__(&mut self, n: i64) -> Result<()> {
        self.value = self
            .value
            .checked_sub(n)
            .ok_or_else(|| exc::OverflowError::new_err("Total underflow"))?;
        Ok(())
    }

    fn __int__(&self) -> i64 {
        self.value
    }

    fn __index__(&self) -> i64 {
        self.value
    }

    fn __float__(&self) -> f64 {
        self.value as f64
    }

    fn __richcmp__(&self, other: i64, op: CompareOp) -> bool {
        match op {
            CompareOp::Lt => self.value < other,
            CompareOp::Le => self.value <= other,
            CompareOp::Eq => self.value == other,
            CompareOp::Ne => self.value != other,
            CompareOp::Gt => self.value > other,
            CompareOp::Ge => self.value >= other,
        }
    }

    fn __hash__(&self) -> i64 {
        self.value
    }
}

/// A list of strings: the container protocol.
#[hpy_class]
pub(crate) struct Strings {
    items: Vec<String>,
}

#[hpy_methods]
impl Strings {
    #[new]
    #[hpy(signature = (*items))]
    fn new(items: Vec<String>) -> Self {
        Strings { items }
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __getitem__(&self, index: isize) -> Result<String> {
        let i = self.index(index)?;
        Ok(self.items[i].clone())
    }

    fn __setitem__(&mut self, index: isize, value: String) -> Result<()> {
        let i = self.index(index)?;
        self.items[i] = value;
        Ok(())
    }

    fn __delitem__(&mut self, index: isize) -> Result<()> {
        let i = self.index(index)?;
        self.items.remove(i);
        Ok(())
    }

    fn __contains__(&self, item: &str) -> bool {
        self.items.iter().any(|s| s == item)
    }

    fn __iter__(slf: &Handle<'_>) -> Result<StringsIter> {
        let items = slf.borrow::<Strings>()?.items.clone();
        Ok(StringsIter { items, next: 0 })
    }

    /// Calls `f` with each item; returns how many calls it made.
    fn __call__(&self, f: &Handle<'_>) -> Result<usize> {
        for s in &self.items {
            f.call1(s.as_str())?;
        }
        Ok(self.items.len())
    }
}

impl Strings {
    fn index(&self, index: isize) -> Result<usize> {
        let n = self.items.len() as isize;
        let i = if index < 0 { index + n } else { index };
        if !(0..n).contains(&i) {
            return Err(exc::IndexError::new_err("Strings index out of range"));
        }
        Ok(i as usize)
    }
}

/// The iterator of a `Strings`.
#[hpy_class]
pub(crate) struct StringsIter {
    items: Vec<String>,
    next: usize,
}

#[hpy_methods]
impl StringsIter {
    fn __iter__<'py>(slf: &Handle<'py>) -> Handle<'py> {
        slf.dup()
    }

    fn __next__(&mut self) -> Option<String> {
        let item = self.items.get(self.next).cloned();
        self.next += 1;
        item
    }
}

/// Counts down from `n` (`Countdown(3)` yields 3, 2, 1); the value 13
/// raises `ValueError` instead (an error from `__next__`). Python may
/// subclass it, and override `__next__`. `n` is at most 1000 (the call
/// fuzzer iterates whatever it makes).
#[hpy_class(subclass)]
pub(crate) struct Countdown {
    #[hpy(get)]
    n: i64,
}

#[hpy_methods]
impl Countdown {
    #[new]
    fn new(n: i64) -> Result<Self> {
        Countdown::start(n)
    }

    fn __iter__<'py>(slf: &Handle<'py>) -> Handle<'py> {
        slf.dup()
    }

    fn __next__(&mut self) -> Result<Option<i64>> {
        if self.n <= 0 {
            return Ok(None);
        }
        let n = self.n;
        self.n -= 1;
        if n == 13 {
            return Err(exc::ValueError::new_err("unlucky 13"));
        }
        Ok(Some(n))
    }
}

impl Countdown {
    fn start(n: i64) -> Result<Self> {
        if n > 1000 {
            return Err(exc::ValueError::new_err(
                "a countdown starts at 1000 at most",
            ));
        }
        Ok(Countdown { n })
    }
}

/// A `Countdown` with no `__next__` of its own: it iterates with its base's.
#[hpy_class(extends = Countdown)]
pub(crate) struct QuietCountdown {}

#[hpy_methods]
impl QuietCountdown {
    #[new]
    fn new(n: i64) -> Result<(Self, Countdown)> {
        Ok((QuietCountdown {}, Countdown::start(n)?))
    }
}

/// A context manager that records what happened to it, and attributes that
/// do not exist.
#[hpy_class]
pub(crate) struct Recorder {
    #[hpy(get)]
    log: Vec<String>,
}

#[hpy_methods]
impl Recorder {
    #[new]
    fn new() -> Self {
        Recorder { log: Vec::new() }
    }

    fn __enter__<'py>(slf: &Handle<'py>) -> Result<Handle<'py>> {
        slf.borrow_mut::<Recorder>()?.log.push("enter".into());
        Ok(slf.dup())
    }

    #[hpy(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &mut self,
        exc_type: &Handle<'_>,
        exc_value: &Handle<'_>,
        traceback: &Handle<'_>,
    ) -> Result<bool> {
        let _ = (exc_value, traceback);
        let what = if exc_type.is_none() {
            "exit".to_owned()
        } else {
            format!("exit with {}", exc_type.get_attr("__name__")?.as_str()?)
        };
        self.log.push(what);
        // Swallows ValueError only.
        Ok(exc_type.is(&exc::ValueError::type_object(exc_type.ctx())))
    }

    /// Called for attributes that are not found.
    fn __getattr__<'py>(&self, ctx: &'py Context, name: &str) -> Result<Handle<'py>> {
        if let Some(rest) = name.strip_prefix("dynamic_") {
            return ctx.new_str(&rest.to_uppercase());
        }
        Err(exc::AttributeError::new_err(format!(
            "'Recorder' object has no attribute '{name}'"
        )))
    }
}

/// A sequence by `__len__` and `__getitem__` alone: Python iterates it by
/// index (and `reversed` works), as for a Python class.
#[hpy_class]
pub(crate) struct Squares {
    n: usize,
}

#[hpy_methods]
impl Squares {
    #[new]
    fn new(n: usize) -> Self {
        Squares { n }
    }

    fn __len__(&self) -> usize {
        self.n
    }

    fn __getitem__(&self, index: isize) -> Result<isize> {
        if index < 0 || index as usize >= self.n {
            return Err(exc::IndexError::new_err("Squares index out of range"));
        }
        index
            .checked_mul(index)
            .ok_or_else(|| exc::OverflowError::new_err("Squares item overflow"))
    }
}

/// Made by `#[new]` and initialised (again and again) by `__init__`.
#[hpy_class(subclass)]
pub(crate) struct Account {
    #[hpy(get)]
    owner: String,
    #[hpy(get)]
    balance: i64,
    #[hpy(get)]
    inits: u32,
}

#[hpy_methods]
impl Account {
    #[new]
    #[hpy(signature = (*_args, **_kwargs))]
    fn new(_args: &Handle<'_>, _kwargs: Option<&Handle<'_>>) -> Self {
        Account {
            owner: String::new(),
            balance: 0,
            inits: 0,
        }
    }

    #[hpy(signature = (owner, balance = 0))]
    fn __init__(&mut self, owner: String, balance: i64) -> Result<()> {
        if balance < 0 {
            return Err(exc::ValueError::new_err("a balance cannot be negative"));
        }
        self.owner = owner;
        self.balance = balance;
        self.inits += 1;
        Ok(())
    }
}

/// Floats exported read-only through the buffer protocol.
#[hpy_class]
pub(crate) struct Samples {
    data: Vec<f64>,
}

#[hpy_methods]
impl Samples {
    #[new]
    fn new(values: Vec<f64>) -> Self {
        Samples { data: values }
    }

    fn __getbuffer__(&self) -> &[f64] {
        &self.data
    }

    /// Adds a value (needs the struct mutably: not while exported).
    fn append(&mut self, value: f64) {
        self.data.push(value);
    }

    /// The sum of the values.
    fn sum(&self) -> f64 {
        self.data.iter().sum()
    }
}

/// Bytes exported writable through the buffer protocol.
#[hpy_class]
pub(crate) struct Bytes {
    data: Vec<u8>,
}

#[hpy_methods]
impl Bytes {
    #[new]
    fn new(text: &str) -> Self {
        Bytes {
            data: text.as_bytes().to_vec(),
        }
    }

    fn __getbuffer__(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The bytes as text.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}
