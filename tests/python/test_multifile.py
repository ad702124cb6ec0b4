"""A module spread over several files (tests/multifile): functions declared
anywhere in the crate join the module, exceptions and globals are declared in
one line each, constants are exported with #[hpy_module_export]."""

from __future__ import annotations

import pytest


def test_functions_from_every_file(multifile):
    names = {n for n in dir(multifile) if not n.startswith("_")}
    # inline, from words.rs (a free function, a renamed one), a global's users
    assert {"inline_function", "count_words", "top_k", "shout", "remember", "recall"} <= names
    assert multifile.inline_function() == "inline"
    assert multifile.count_words("a b  c") == 3
    assert multifile.top_k("a b a c b a") == [("a", 3), ("b", 2), ("c", 1)]
    assert multifile.top_k("a b a c b a", k=1) == [("a", 3)]
    assert multifile.shout("hi") == "HI"
    assert multifile.count_words.__module__ == "multifile"
    assert multifile.top_k.__text_signature__ == "(text, k=3)"


def test_one_line_exceptions(multifile):
    EmptyInput, TooLong = multifile.EmptyInput, multifile.TooLong
    assert EmptyInput.__module__ == "multifile" and EmptyInput.__name__ == "EmptyInput"
    assert issubclass(EmptyInput, ValueError)
    assert issubclass(TooLong, EmptyInput)  # a base declared with create_exception! too
    assert EmptyInput.__doc__ == "The text has no words."
    with pytest.raises(EmptyInput, match=r"^no words in the text$"):
        multifile.count_words("  ")
    with pytest.raises(TooLong, match=r"^the text is longer than 1 MiB$"):
        multifile.top_k("x" * (2 << 20))
    # the Rust side sees the very classes the module holds
    assert multifile.exception_types() == (EmptyInput, TooLong)


def test_exported_constants(multifile):
    assert multifile.VERSION == "1.0"
    assert multifile.MAX_WORDS == 1 << 20
    assert multifile.LIMITS == [1, 10, 100]


def test_global_declared_outside_the_module(multifile):
    obj = object()
    multifile.remember(obj)
    assert multifile.recall() is obj
