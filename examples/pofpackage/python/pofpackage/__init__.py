"""HPy's proof-of-concept package as a mixed Rust/Python project: `foo` is
the extension module (`src/lib.rs`, built by cargo), the rest is Python
(`python/pofpackage/`), which wheels ship beside it."""

from . import foo
from .greetings import greet

__all__ = ["foo", "greet"]
