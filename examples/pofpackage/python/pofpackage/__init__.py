"""HPy's proof-of-concept package as a mixed Rust/Python project: `foo` and
`bar` are extension modules (`src/lib.rs`, one library built by cargo), the
rest is Python (`python/pofpackage/`), which wheels ship beside them."""

from . import bar, foo
from .greetings import greet

__all__ = ["bar", "foo", "greet"]
