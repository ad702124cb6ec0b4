//! Exception classes and a global, declared in one line each.

hpy::create_exception!(
    multifile,
    EmptyInput,
    hpy::exc::ValueError,
    "The text has no words."
);
hpy::create_exception!(multifile, TooLong, EmptyInput);

hpy::global!(
    /// The object `remember` stored.
    pub(crate) static LAST
);
