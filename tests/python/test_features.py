"""Every feature of #[hpy_method], #[hpy_module] and the conversions
(tests/features), on every interpreter and mode; bad input never crashes.
"""

import pytest
from conftest import IS_PYPY

I64 = (-2**63, 2**63 - 1)
INT_RANGES = {
    "i8": (-2**7, 2**7 - 1),
    "i16": (-2**15, 2**15 - 1),
    "i32": (-2**31, 2**31 - 1),
    "i64": I64,
    "isize": I64,
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
    "usize": (0, 2**64 - 1),
}


# --- module and calling conventions --------------------------------------------


def test_init_function_ran(features):
    assert features.ANSWER == 42
    assert features.GREETING == "hello from Rust"
    assert features.NOTHING is None


def test_conventions(features):
    assert features.noargs() is None
    obj = object()
    assert features.identity(obj) is obj
    assert features.identity_ref(obj) is obj
    assert features.three(1, 2, 3) == "1,2,3"


def test_optional_and_default_positional(features):
    assert features.opt_args(1) == 101
    assert features.opt_args(1, 2) == 3
    assert features.opt_args(1, None) == 101
    assert features.pos_default(6) == 42
    assert features.pos_default(6, 2) == 12
    with pytest.raises(TypeError, match=r"^opt_args\(\) takes at least 1 argument \(0 given\)$"):
        features.opt_args()
    with pytest.raises(TypeError, match=r"^opt_args\(\) takes at most 2 arguments \(3 given\)$"):
        features.opt_args(1, 2, 3)


def test_keywords_defaults_and_keyword_only(features):
    assert features.kwargs(1) == 11
    assert features.kwargs(1, 2) == 3
    assert features.kwargs(1, b=2, scale=3) == 9
    assert features.kwargs(scale=2, a=1) == 22
    with pytest.raises(TypeError, match=r"^kwargs\(\) takes from 1 to 2 positional arguments but 3 were given$"):
        features.kwargs(1, 2, 3)
    with pytest.raises(TypeError, match=r"^kwargs\(\) missing 1 required positional argument: 'a'$"):
        features.kwargs(b=1)
    with pytest.raises(TypeError, match=r"^kwargs\(\) argument 'scale' must be int, not str$"):
        features.kwargs(1, scale="x")


def test_positional_only_and_keyword_only(features):
    assert features.pos_only(5, 3) == 2
    assert features.pos_only(5, b=3) == 2
    with pytest.raises(OverflowError, match="does not fit in 64 bits"):
        features.pos_only(-2**63, 1)
    with pytest.raises(
        TypeError, match=r"^pos_only\(\) got some positional-only arguments passed as keyword arguments: 'a'$"
    ):
        features.pos_only(a=5, b=3)
    assert features.kw_only(key="k") == "key=k"
    with pytest.raises(TypeError, match=r"^kw_only\(\) takes 0 positional arguments but 1 was given$"):
        features.kw_only("k")
    with pytest.raises(TypeError, match=r"^kw_only\(\) missing 1 required keyword-only argument: 'key'$"):
        features.kw_only()


def test_names_docs_and_text_signatures(features):
    assert features.py_name() == "rust_name"
    assert not hasattr(features, "rust_name")
    assert features.kwargs.__doc__ == "KEYWORDS: defaults and a keyword-only parameter."
    if not IS_PYPY:
        assert features.kwargs.__text_signature__ == "(a, b=10, *, scale=1)"
        assert features.pos_only.__text_signature__ == "(a, /, b)"
        assert features.opt_args.__text_signature__ == "(a, b=None, /)"
        assert features.kw_only.__text_signature__ == "(*, key)"
        assert features.pos_default.__text_signature__ == "(a, b=7, /)"


def test_context_parameter(features, mode):
    name = features.context_name()
    assert {"universal": "Universal", "debug": "Debug", "trace": "Trace", "cpython": "CPython ABI"}[mode] in name
    assert features.is_none(None) is True
    assert features.is_none(0) is False


def test_trampolines_call_directly_only_where_handles_are_objects(features, mode):
    # CPython's trampolines skip ctx_CallRealFunctionFromTrampoline in the
    # universal modes of HPy's and hpy-rs's runtimes (a handle is the
    # object's address, plus one for HPy's) and, by construction, in a
    # CPython-ABI build; debug and trace modes keep their own handles.
    expected = not IS_PYPY and mode in ("universal", "cpython")
    assert features.trampolines_call_directly() is expected


def test_calls_with_more_arguments_than_a_direct_call_converts(features):
    # Up to 8 arguments are converted on the stack; more go through the
    # runtime: the same answers either way, every calling convention.
    for n in (0, 7, 8, 9, 30, 300):
        assert features.var_sum(*range(n)) == sum(range(n))
        kw = {f"k{i}": i for i in range(n)}
        expected = (1, tuple(range(n)), 5, kw or None)
        assert features.var_both(1, *range(n), b=5, **kw) == expected


# --- conversions -------------------------------------------------------------------


@pytest.mark.parametrize("ty", sorted(INT_RANGES))
def test_integer_round_trip_and_range(features, ty):
    lo, hi = INT_RANGES[ty]
    echo = getattr(features, f"echo_{ty}")
    for v in (lo, hi, 0, 1, (lo + hi) // 2):
        assert echo(v) == v
        assert type(echo(v)) is int
    with pytest.raises(OverflowError):
        echo(hi + 1)
    with pytest.raises(OverflowError):
        echo(lo - 1)
    with pytest.raises(TypeError, match=rf"^echo_{ty}\(\) argument 'x' must be int, not str$"):
        echo("1")
    with pytest.raises(TypeError, match=rf"^echo_{ty}\(\) argument 'x' must be int, not float$"):
        echo(1.0)


def test_integer_overflow_messages(features):
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to u8$"):
        features.echo_u8(256)
    with pytest.raises(OverflowError, match=r"^Python int too small to convert to i8$"):
        features.echo_i8(-129)
    with pytest.raises(OverflowError, match=r"^can't convert negative int to unsigned$"):
        features.echo_u16(-1)


def test_index_protocol_is_honoured(features):
    class Index:
        def __index__(self):
            return 7

    assert features.echo_i64(Index()) == 7
    assert features.echo_i64(True) == 1


def test_floats(features):
    assert features.echo_f64(1.5) == 1.5
    assert features.echo_f64(3) == 3.0
    assert features.echo_f64(float("inf")) == float("inf")
    assert features.echo_f32(0.1) == pytest.approx(0.1, rel=1e-7)
    with pytest.raises(TypeError, match=r"^echo_f64\(\) argument 'x' must be float, not str$"):
        features.echo_f64("1.0")


def test_bool_is_strict(features):
    assert features.negate(True) is False
    assert features.negate(False) is True
    with pytest.raises(TypeError, match=r"^negate\(\) argument 'x' must be bool, not int$"):
        features.negate(1)


def test_str(features):
    assert features.char_count("héllo wörld ✓") == 13
    assert features.char_count("") == 0
    assert features.shout("abc") == "ABC!"
    assert features.with_nul() == "a\x00b"
    assert features.long_str(1000) == "xy" * 1000
    with pytest.raises(TypeError, match=r"^char_count\(\) argument 's' must be str, not bytes$"):
        features.char_count(b"abc")
    with pytest.raises(UnicodeEncodeError):
        features.char_count("\ud800")


def test_bytes(features):
    assert features.byte_sum(b"\x01\x02\xff") == 258
    assert features.byte_sum(b"") == 0
    assert features.reversed_bytes(b"abc") == b"cba"
    # Vec<u8> is bytes both ways, and also takes a list or tuple of ints
    assert features.reversed_bytes([1, 2, 255]) == b"\xff\x02\x01"
    assert features.reversed_bytes((7,)) == b"\x07"
    with pytest.raises(TypeError, match=r"^byte_sum\(\) argument 'b' must be bytes, not str$"):
        features.byte_sum("abc")
    with pytest.raises(TypeError, match=r"^reversed_bytes\(\) argument 'b' must be a sequence, not str \(a str is not taken as a sequence of characters\)$"):
        features.reversed_bytes("abc")
    with pytest.raises(OverflowError, match=r"^reversed_bytes\(\) argument 'b': item 0: Python int too large to convert to u8$"):
        features.reversed_bytes([256])


def test_option_and_owned_handle(features):
    assert features.maybe_double(21) == 42
    assert features.maybe_double(None) is None
    assert features.twice("ab") == "abab"


# --- errors, panics, attributes ----------------------------------------------------


def test_errors(features):
    with pytest.raises(ValueError, match="^custom message$"):
        features.raise_value_error("custom message")
    with pytest.raises(TypeError, match="^expected int, got str$"):
        features.extract_int("x")
    assert features.extract_int(5) == 5
    with pytest.raises(TypeError, match=r"unsupported operand"):
        features.add(1, "a")
    assert features.add(1, 2) == 3


def test_panics_become_system_error_and_the_interpreter_survives(features):
    for _ in range(3):
        with pytest.raises(SystemError, match=r"^panic_with\(\) panicked: boom$"):
            features.panic_with("boom")
    with pytest.raises(SystemError, match=r"^panic_any\(\) panicked: Box<dyn Any>$"):
        features.panic_any()
    assert features.three(1, 2, 3) == "1,2,3"


def test_attributes(features):
    class Obj:
        pass

    o = Obj()
    features.set_answer(o)
    assert o.answer == 42
    assert features.get_attr(o, "answer") == 42
    with pytest.raises(AttributeError):
        features.get_attr(o, "missing")
    with pytest.raises(ValueError, match="^embedded null character$"):
        features.get_attr(o, "a\x00b")
    with pytest.raises(AttributeError):
        features.set_answer(1)


# ---------------------------------------------------------------------------
# *args and **kwargs


def test_var_args_and_kwargs(features):
    assert features.var_both(1) == (1, (), 1, None)
    assert features.var_both(1, 2, 3, b=5, x=9, y="z") == (1, (2, 3), 5, {"x": 9, "y": "z"})
    assert features.var_both(a=1) == (1, (), 1, None)
    assert features.var_sum() == 0
    assert features.var_sum(1, 2, 3) == 6
    assert features.var_pair("a", 1) == "a=1"
    assert features.var_kwargs() is None  # None when no extra keyword, as in PyO3
    assert features.var_kwargs(b=2, a=1) == [("a", 1), ("b", 2)]
    # a keyword named like a positional-only parameter goes to **kwargs (Python's rule)
    assert features.pos_only_and_kwargs(1, a=2, c=3) == (1, {"a": 2, "c": 3})
    assert features.var_then_key(1, 2, key="k") == "2:k"


def test_var_args_and_kwargs_errors(features):
    # CPython's words for the same mistakes in a Python function
    with pytest.raises(TypeError, match=r"^var_both\(\) missing 1 required positional argument: 'a'$"):
        features.var_both()
    with pytest.raises(TypeError, match=r"^var_both\(\) got multiple values for argument 'a'$"):
        features.var_both(1, a=2)
    with pytest.raises(TypeError, match=r"^var_then_key\(\) missing 1 required keyword-only argument: 'key'$"):
        features.var_then_key(1, 2)
    with pytest.raises(TypeError, match=r"^var_kwargs\(\) takes 0 positional arguments but 1 was given$"):
        features.var_kwargs(1)
    with pytest.raises(TypeError, match=r"^pos_only_and_kwargs\(\) missing 1 required positional argument: 'a'$"):
        features.pos_only_and_kwargs(a=1)
    # converted *args and **kwargs say where they failed
    with pytest.raises(TypeError, match=r"^var_sum\(\) argument 'args': item 1: expected int, got str$"):
        features.var_sum(1, "x")
    with pytest.raises(TypeError, match=r"^var_kwargs\(\) argument 'kwargs': value for key 'a': expected int, got str$"):
        features.var_kwargs(a="x")
    with pytest.raises(ValueError, match=r"^expected a tuple of length 2, got length 1$"):
        features.var_pair("a")


def test_var_signatures(features):
    sig = {name: getattr(features, name).__text_signature__ for name in
           ("var_both", "var_sum", "var_kwargs", "pos_only_and_kwargs", "var_then_key")}
    assert sig == {
        "var_both": "(a, *args, b=1, **kwargs)",
        "var_sum": "(*args)",
        "var_kwargs": "(**kwargs)",
        "pos_only_and_kwargs": "(a, /, **kwargs)",
        "var_then_key": "(*args, key)",
    }


# ---------------------------------------------------------------------------
# defaults of the parameter's type


def test_typed_defaults(features):
    # k = 10 for a usize, 2.5 for an f32, -1 for an i8: no `10_usize` needed
    assert features.typed_defaults([1, 2]) == "2 10 2.5 -1"
    assert features.typed_defaults([1], 3, 1.5, 7) == "1 3 1.5 7"
    assert features.typed_defaults.__text_signature__ == "(items, k=10, scale=2.5, low=-1)"
    # a string literal for a String; a number for an Option (Some)
    assert features.literal_defaults() == "worldx2"
    assert features.literal_defaults("you", None) == "youx-1"
    assert features.literal_defaults.__text_signature__ == "(name='world', times=2)"


def test_introspection(features):
    # __module__ is the module's name on every runtime (PyPy 7.3.19 gives None
    # on its own); inspect.signature reads __text_signature__ on CPython only.
    assert features.var_both.__module__ == "features"
    assert features.kwargs.__module__ == "features"
    if not IS_PYPY:
        import inspect
        assert str(inspect.signature(features.var_both)) == "(a, *args, b=1, **kwargs)"
