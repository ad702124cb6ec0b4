"""Hostile objects: instances of subclasses of the builtin types whose dunder
methods lie, raise, or change things behind the caller's back.

Shared by the hostile-object suite (`test_hostile.py`) and the random-call
fuzzer (`tools/fuzz_calls.py`). Every value is made fresh by `pool()`, since
extension functions may mutate what they are given.

The rule they test: whatever a Python object does, an extension function
built with the SDK returns the right value or raises a clean exception (the
one CPython raises for the same mistake, or the one the hostile method
raised), and never crashes, aborts, reads out of bounds, or leaks.
"""

from __future__ import annotations

import inspect
import re
import math


class Hostile(Exception):
    """What the hostile methods raise."""


def _raise(*_args, **_kwargs):
    raise Hostile("a hostile method raised")


# --- bytes, bytearray -----------------------------------------------------------


class BytesLongLen(bytes):
    def __len__(self):
        return 100_000


class BytesHugeLen(bytes):
    def __len__(self):
        return 10**18


class BytesRaisingLen(bytes):
    __len__ = _raise


class BytesShortLen(bytes):
    def __len__(self):
        return 0


class BytesRaisingEverything(bytes):
    __len__ = __iter__ = __getitem__ = __hash__ = __eq__ = __bytes__ = _raise


class BytearrayLyingLen(bytearray):
    def __len__(self):
        return 10**9


class BytearrayRaisingIter(bytearray):
    __iter__ = __getitem__ = _raise


# --- str ------------------------------------------------------------------------


class StrLongLen(str):
    def __len__(self):
        return 10**9


class StrRaisingLen(str):
    __len__ = _raise


class StrRaisingHash(str):
    __hash__ = _raise


class StrAlwaysEqual(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class StrRaisingEverything(str):
    __len__ = __iter__ = __getitem__ = __hash__ = __eq__ = __str__ = __repr__ = _raise


class StrLyingAboutText(str):
    """A str whose methods lie about or refuse its text: what an SDK reads of
    it must be the characters CPython stores."""

    def __len__(self):
        return 10**9

    def __iter__(self):
        raise RuntimeError("__iter__ called")

    def __getitem__(self, i):
        raise RuntimeError("__getitem__ called")

    def __eq__(self, other):
        raise RuntimeError("__eq__ called")

    __hash__ = str.__hash__

    def __str__(self):
        return "lie"


class StrFspathLies(str):
    def __fspath__(self):
        return 42


# --- int, float -----------------------------------------------------------------


class IntRaisingIndex(int):
    __index__ = _raise


class IntHugeIndex(int):
    def __index__(self):
        return 10**30


class IntIndexReturnsStr(int):
    def __index__(self):
        return "seven"


class IntRaisingEverything(int):
    __index__ = __int__ = __float__ = __hash__ = __eq__ = __lt__ = __bool__ = __repr__ = _raise


class IntLyingFloat(int):
    def __float__(self):
        return 1.5


class FloatRaisingFloat(float):
    __float__ = _raise


class FloatFloatReturnsStr(float):
    def __float__(self):
        return "1.0"


class FloatRaisingEverything(float):
    __float__ = __index__ = __hash__ = __eq__ = __bool__ = __repr__ = _raise


class Indexable:
    """Not an int, but usable as one (`__index__`)."""

    def __index__(self):
        return 3


class HugeIndexable:
    def __index__(self):
        return 10**30


class IndexRaises:
    __index__ = _raise


class FloatLike:
    def __float__(self):
        return 2.5


class FloatLikeRaises:
    __float__ = _raise


# --- list, tuple ------------------------------------------------------------------


class ListLongLen(list):
    def __len__(self):
        return 5


class ListShortLen(list):
    def __len__(self):
        return 1


class ListHugeLen(list):
    def __len__(self):
        return 10**11


class ListRaisingLen(list):
    __len__ = _raise


class ListRaisingIter(list):
    __iter__ = _raise


class ListLyingIter(list):
    def __iter__(self):
        return iter(["not", "the", "items"])


class ListRaisingGetitem(list):
    __getitem__ = _raise


class ListRaisingEverything(list):
    __len__ = __iter__ = __getitem__ = __contains__ = __eq__ = __repr__ = __reversed__ = _raise


class TupleLongLen(tuple):
    def __len__(self):
        return 7


class TupleRaisingLen(tuple):
    __len__ = _raise


class TupleRaisingEverything(tuple):
    __len__ = __iter__ = __getitem__ = __contains__ = __eq__ = __hash__ = __repr__ = _raise


# --- dict, set ----------------------------------------------------------------------


class DictLyingKeys(dict):
    def keys(self):
        return ["not a key"]

    def __len__(self):
        return 50


class DictRaisingGetitem(dict):
    __getitem__ = _raise


class DictRaisingEverything(dict):
    __len__ = __iter__ = __getitem__ = keys = items = values = __contains__ = __repr__ = _raise


class DictMissing(dict):
    def __missing__(self, key):
        return "missing"


class SetRaisingIter(set):
    __iter__ = _raise


class SetLyingLen(set):
    def __len__(self):
        return 10**12


class FrozensetRaisingEverything(frozenset):
    __iter__ = __len__ = __contains__ = __hash__ = __eq__ = _raise


# --- other protocols ----------------------------------------------------------------


class FspathRaises:
    __fspath__ = _raise


class FspathReturnsInt:
    def __fspath__(self):
        return 1


class FspathWithNul:
    def __fspath__(self):
        return "a\0b"


class RaisingRepr:
    __repr__ = __str__ = _raise


class RaisingBool:
    __bool__ = _raise


class RaisingGetattr:
    def __getattribute__(self, name):
        raise Hostile(f"no attribute {name!r} for you")


class RaisingCall:
    __call__ = _raise


class Sequence2:
    """A sequence of the protocol (`__len__`, `__getitem__`) that is no list."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        if i >= 2:
            raise IndexError(i)
        return i + 1


class SequenceLyingLen:
    """A sequence whose `__len__` says more than `__getitem__` gives."""

    def __len__(self):
        return 10**12

    def __getitem__(self, i):
        if i >= 2:
            raise IndexError(i)
        return i + 1


class SequenceRaising:
    __len__ = __getitem__ = __iter__ = _raise


def deep_list(n: int):
    x: list = []
    for _ in range(n):
        x = [x]
    return x


def deep_tuple(n: int):
    x: tuple = ()
    for _ in range(n):
        x = (x,)
    return x


# --- the pool ------------------------------------------------------------------------


def pool() -> list[tuple[str, object]]:
    """Every value, made fresh, with a label: ordinary values of every
    builtin type, edge values, and the hostile subclasses above."""
    return [
        # ordinary values and edges
        ("None", None),
        ("True", True),
        ("False", False),
        ("0", 0),
        ("1", 1),
        ("-1", -1),
        ("2", 2),
        ("7", 7),
        ("255", 255),
        ("256", 256),
        ("-129", -129),
        ("2**31", 2**31),
        ("2**32", 2**32),
        ("2**63-1", 2**63 - 1),
        ("2**63", 2**63),
        ("2**64", 2**64),
        ("-2**63-1", -(2**63) - 1),
        ("10**30", 10**30),
        ("0.0", 0.0),
        ("-0.0", -0.0),
        ("1.5", 1.5),
        ("nan", math.nan),
        ("inf", math.inf),
        ("1e308", 1e308),
        ("1j", 1j),
        ("''", ""),
        ("'a'", "a"),
        ("'abc'", "abc"),
        ("'é€😀'", "é€😀"),
        ("'a\\0b'", "a\0b"),
        ("lone surrogate", "a\ud800b"),
        ("'list'", "list"),
        ("'tuple'", "tuple"),
        ("'x' * 10000", "x" * 10000),
        ("b''", b""),
        ("b'abc'", b"abc"),
        ("b'a\\0b'", b"a\0b"),
        ("b'\\xff'", b"\xff"),
        ("bytearray", bytearray(b"xyz")),
        ("memoryview", memoryview(b"mv")),
        ("[]", []),
        ("[1, 2, 3]", [1, 2, 3]),
        ("['a', 'b']", ["a", "b"]),
        ("[[1], [2, 3]]", [[1], [2, 3]]),
        ("()", ()),
        ("(1, 'a')", (1, "a")),
        ("(1, 2, 3)", (1, 2, 3)),
        ("{}", {}),
        ("{'a': 1}", {"a": 1}),
        ("{1: [2]}", {1: [2]}),
        ("{1, 2}", {1, 2}),
        ("frozenset", frozenset({"x"})),
        ("range(3)", range(3)),
        ("slice(1, 5, 2)", slice(1, 5, 2)),
        ("object()", object()),
        ("int type", int),
        ("str type", str),
        ("ValueError type", ValueError),
        ("ValueError()", ValueError("v")),
        ("len", len),
        ("lambda", lambda *a, **k: a),
        ("deep list", deep_list(3000)),
        ("deep tuple", deep_tuple(3000)),
        # hostile subclasses and protocol objects
        ("BytesLongLen", BytesLongLen(b"abc")),
        ("BytesHugeLen", BytesHugeLen(b"abc")),
        ("BytesRaisingLen", BytesRaisingLen(b"abc")),
        ("BytesShortLen", BytesShortLen(b"abc")),
        ("BytesRaisingEverything", BytesRaisingEverything(b"a\0c")),
        ("BytearrayLyingLen", BytearrayLyingLen(b"abc")),
        ("BytearrayRaisingIter", BytearrayRaisingIter(b"abc")),
        ("StrLongLen", StrLongLen("abc")),
        ("StrRaisingLen", StrRaisingLen("abc")),
        ("StrRaisingHash", StrRaisingHash("abc")),
        ("StrAlwaysEqual", StrAlwaysEqual("abc")),
        ("StrRaisingEverything", StrRaisingEverything("a\ud800c")),
        ("StrFspathLies", StrFspathLies("p")),
        ("IntRaisingIndex", IntRaisingIndex(5)),
        ("IntHugeIndex", IntHugeIndex(5)),
        ("IntIndexReturnsStr", IntIndexReturnsStr(5)),
        ("IntRaisingEverything", IntRaisingEverything(5)),
        ("IntLyingFloat", IntLyingFloat(5)),
        ("FloatRaisingFloat", FloatRaisingFloat(2.0)),
        ("FloatFloatReturnsStr", FloatFloatReturnsStr(2.0)),
        ("FloatRaisingEverything", FloatRaisingEverything(2.0)),
        ("Indexable", Indexable()),
        ("IndexRaises", IndexRaises()),
        ("HugeIndexable", HugeIndexable()),
        ("FloatLike", FloatLike()),
        ("FloatLikeRaises", FloatLikeRaises()),
        ("ListLongLen", ListLongLen([1])),
        ("ListShortLen", ListShortLen([1, 2, 3])),
        ("ListHugeLen", ListHugeLen([1, 2])),
        ("ListRaisingLen", ListRaisingLen([1])),
        ("ListRaisingIter", ListRaisingIter([1])),
        ("ListLyingIter", ListLyingIter([1, 2])),
        ("ListRaisingGetitem", ListRaisingGetitem([1])),
        ("ListRaisingEverything", ListRaisingEverything(["a", 1])),
        ("TupleLongLen", TupleLongLen((1, 2))),
        ("TupleRaisingLen", TupleRaisingLen((1, "a"))),
        ("TupleRaisingEverything", TupleRaisingEverything((1, "a"))),
        ("DictLyingKeys", DictLyingKeys(a=1)),
        ("DictRaisingGetitem", DictRaisingGetitem(a=1)),
        ("DictRaisingEverything", DictRaisingEverything(a=1)),
        ("DictMissing", DictMissing(a=1)),
        ("SetRaisingIter", SetRaisingIter({1})),
        ("SetLyingLen", SetLyingLen({1, 2})),
        ("FrozensetRaisingEverything", FrozensetRaisingEverything({1})),
        ("FspathRaises", FspathRaises()),
        ("FspathReturnsInt", FspathReturnsInt()),
        ("FspathWithNul", FspathWithNul()),
        ("RaisingRepr", RaisingRepr()),
        ("RaisingBool", RaisingBool()),
        ("RaisingGetattr", RaisingGetattr()),
        ("RaisingCall", RaisingCall()),
        ("Sequence2", Sequence2()),
        ("SequenceLyingLen", SequenceLyingLen()),
        ("SequenceRaising", SequenceRaising()),
    ]


# --- what may be called, and what it may raise ----------------------------------------

# Functions never called with arbitrary arguments: they abort the process on
# purpose (HPy_FatalError), leak on purpose, block for a time the caller
# chooses, change files, or print what they are given.
NEVER_CALL = {
    ("api_object", "fatal_error"),
    ("api_object", "dump"),
    ("smoke", "leak_one_handle"),
    ("api_errors", "sleep_held"),
    ("api_errors", "sleep_released"),
    ("api_errors", "rename"),
    ("api_errors", "unraisable"),
    ("api_errors", "unraisable_raised"),
    ("api_object", "import_module"),
    ("api_object", "eval_code"),
    ("api_object", "run"),
    ("api_object", "compile"),
}

# Functions whose job is to raise a SystemError (a panic, a Global read
# before it was stored) or to raise whatever exception they are given.
MAY_RAISE_ANYTHING = {
    ("features", "panic_any"),
    ("features", "panic_with"),
    ("api_errors", "panic_released"),
    ("api_errors", "raise_from_type"),
    ("api_errors", "raise_from_value"),
    ("api_errors", "raise_set_object"),
    ("api_errors", "raise_never_stored"),
    ("api_errors", "load_never"),
    ("api_errors", "error_state"),
    ("api_object", "call0"),
    ("api_object", "call1"),
    ("api_object", "call2"),
    ("api_object", "call_kw"),
    ("api_object", "call_kw_only"),
    ("api_object", "call_mixed"),
    ("api_object", "call_n"),
    ("api_object", "call_n_kw"),
    ("api_object", "call_tuple_dict"),
    ("api_object", "call_method0"),
    ("api_object", "call_method1"),
    ("api_object", "call_method_h"),
    ("api_object", "call_method_kw"),
    ("api_object", "binop"),
    ("api_object", "unop"),
    ("api_object", "pow_mod"),
}

# Parameters that size a loop or an allocation: they take small counts (and
# wrong types), never huge valid ones, which would only make a call slow.
COUNT_PARAMS = {"n", "m", "capacity", "stack_level", "length", "secs"}
COUNTS = [0, 1, 2, 3, 5, 16, 17, 100, -1, 2**64, 1.5, "3", None]


# Parameters whose cost grows without bound with the integer they are given,
# as in Python itself (`pow(5, 2**63)` runs for hours in CPython too): an
# exact int beyond SMALL_INT in magnitude is replaced by a small one there.
# Hostile int subclasses (small values) and wrong types still reach them.
SMALL_INT_PARAMS = {("api_object", "pow_mod"): {"b"}}
SMALL_INT = 1000


def bounded(module: str, function: str, param, value):
    """`value`, or a small int in its place where a huge one would make the
    call run for hours (SMALL_INT_PARAMS)."""
    if (param is not None and param.name in SMALL_INT_PARAMS.get((module, function), ())
            and type(value) is int and abs(value) > SMALL_INT):
        return 3
    return value


# SystemErrors that are the documented answer to a bad argument (CPython's
# own words for the same call to its C API).
DOCUMENTED_SYSTEM_ERRORS = {
    ("api_errors", "new_exception"): "name must be module.class",
    # hpy::Global's answer to a load before any store (these fixtures load
    # what `stash` stored, if it ran)
    ("api_errors", "unstash"): "loaded before it was stored",
    ("api_errors", "raise_stash_type"): "loaded before it was stored",
    ("multifile", "recall"): "loaded before it was stored",
}


# Arguments that let a function get as far as the value under test.
GOOD = {
    "name": "real", "key": "a", "kname": "k", "value": 1, "kvalue": 2, "f": lambda *a, **k: (a, k),
    "ty": ValueError, "category": UserWarning, "base": None, "kind": "list", "op_name": "==",
    "mode": "eval", "encoding": "utf-8", "errors": "strict", "msg": "m", "message": "m",
    "source": "1", "filename": "f", "path": "p", "indices": b"\x00", "finish": True, "item": 1,
    "which": "value", "doc": None, "dict": None, "globals": {}, "locals": {}, "lst": [],
    "seq": [1], "d": {"a": 1}, "start": 0, "end": 1, "i": 0, "length": 5, "panic_on_drop": False,
    "stack_level": 1, "owned": True, "sub": bool, "cap": None, "var": None,
    # constructors of the test classes
    "text": "abc", "values": [1.0, 2.0], "items": [1, 2], "owner": "o", "unit": "m",
    "label": "l", "line": 1, "side": 2.0,
}
GOOD_DEFAULT = 1


def parameters(f) -> list | None:
    """The parameters (`inspect.Parameter`s) of an extension function, from
    its `__text_signature__` (`inspect.signature` reads it on CPython only);
    None for a function that has none."""
    text = getattr(f, "__text_signature__", None)
    if text is None:
        return None
    # A method's (or a module function's) first parameter, `$self`,
    # `$module`, `$type`, is bound.
    text = re.sub(r"^\(\$\w+(, )?", "(", text)
    namespace: dict = {}
    exec(f"def _f{text}: pass", namespace)
    return list(inspect.signature(namespace["_f"]).parameters.values())


def good(param) -> object:
    """A value of `param` (an `inspect.Parameter`) that lets the call go on:
    its default, a small count, or a value that fits its name."""
    if param.name in COUNT_PARAMS:
        return 2
    if param.default is not param.empty:
        return param.default
    return GOOD.get(param.name, GOOD_DEFAULT)


def unexpected(module: str, function: str, exc: BaseException) -> bool:
    """Whether `exc`, raised by `module.function`, reveals a bug: a
    SystemError (a panic in the SDK, an exception left set, an error
    returned without one), unless the function raises those on purpose."""
    if (module, function) in MAY_RAISE_ANYTHING or not isinstance(exc, SystemError):
        return False
    documented = DOCUMENTED_SYSTEM_ERRORS.get((module, function))
    return documented is None or documented not in str(exc)
