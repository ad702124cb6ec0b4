"""hpyjson against ujson 6.1, input by input: the drop-in promise, measured.

`import hpyjson as ujson` must not change what a program sees. Both modules
get the same inputs and every outcome is compared:

* a value: equal with exact types (1 is not 1.0 nor True), NaN equal to NaN,
  -0.0 unequal to 0.0, dict keys in the same order;
* text from `dumps`: equal character for character;
* an exception: the same type name and the same message.

The inputs (about 50,000 calls; the counts go to
`target/test-logs/ujson-differential-<mode>.txt`):

* `loads` of every JSONTestSuite case (`../shared/data/JSONTestSuite`), as
  bytes and as str, and of the json-bench documents;
* `loads` of generated edge cases: every string of up to four characters
  over a number alphabet (bare, in an array, as an object value), integer
  limits, long mantissas and exponents, random doubles in several notations,
  every byte inside a string, every escape, surrogate escapes, UTF-8
  sequences of every lead byte, NaN/Infinity and their prefixes, keys that
  are not strings, nesting at ujson's limit, whitespace, random token soup;
  and the types `loads` and `load` accept or refuse;
* `dumps` of hand-picked and random objects (ints at every limit, floats of
  every kind, strings of every kind of character, bytes, containers,
  subclasses, `toDict`/`__json__` objects, `Decimal`, non-string keys,
  unsortable keys, nesting at the limit) under sixteen option sets.

and calls with missing, surplus or unknown arguments.

Every difference that remains belongs to a class in KNOWN, which says why it
is right and recognises its members precisely; the test fails on a
difference no class explains and on a class that explains nothing any more. ujson comes from PyPI (tools/setup-interpreters installs the pinned
version into the CPython venv); it is a C extension for CPython, so the test
runs on CPython only, in each HPy mode.
"""

from __future__ import annotations

import decimal
import io
import itertools
import math
import os
import random
import reprlib
import struct
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
from conftest import IS_PYPY, TARGET_DIR, ROOT

pytestmark = pytest.mark.skipif(IS_PYPY, reason="ujson is a CPython C extension (compared on CPython)")

UJSON_VERSION = "6.1.0"
DATA = (ROOT.parent / "shared" / "data").resolve()
SUITE = DATA / "JSONTestSuite" / "test_parsing"
BENCH = DATA / "json-bench"



def first_sort_error(obj):
    """The error (type name, message) of the first dict (depth first, in
    sorted-key order) whose keys do not sort, or None."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if type(o) in (list, tuple):
            stack.extend(reversed(o))
        elif type(o) is dict:
            try:
                keys = sorted(o)
            except Exception as e:  # noqa: BLE001 - TypeError, or decimal's InvalidOperation
                return type(e).__name__, str(e)
            stack.extend(o[k] for k in reversed(keys))
    return None


def is_valid_json(text) -> bool:
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def ujson_sort_keys_goes_on(category, obj, options, ours, theirs) -> bool:
    if category not in ("dumps", "dump") or not options.get("sort_keys"):
        return False
    first = first_sort_error(obj)
    if first is None or ours != first:
        return False
    # ujson reports a later error, or returns text that is not JSON
    return theirs[0] != "ok" or not is_valid_json(theirs[1])


def argument_error_wording(category, obj, options, ours, theirs) -> bool:
    return category == "bad calls" and ours[0] == theirs[0] == "TypeError"


# The differences that remain, by class: (name, why it is right, recogniser).
KNOWN = [
    ("sort_keys with keys that do not sort",
     "ujson 6.1 does not stop when sorting a dict's keys fails: it leaves the dict half written "
     "('{'), goes on with the TypeError pending, and reports whichever error comes last; when a "
     "later object's attribute probe (toDict) clears the pending error it even returns text that "
     "is not JSON (e.g. '[{],1]'). hpyjson raises the TypeError of the first dict whose keys do "
     "not sort (the message list.sort gives, as ujson's first one), as json.dumps does.",
     ujson_sort_keys_goes_on),
    ("wording of argument errors",
     "a call with missing, surplus, repeated or unknown arguments raises TypeError in both; "
     "hpyjson words it as CPython words it for any function with a signature (\"dumps() missing "
     "1 required positional argument: 'obj'\"), ujson as PyArg_ParseTupleAndKeywords does "
     "(\"function missing required argument 'obj' (pos 1)\"), a wording that itself changes "
     "between CPython versions.",
     argument_error_wording),
]


# ---------------------------------------------------------------------------
# Comparison


def same(a, b) -> bool:
    """Exact-type structural equality: NaN equals NaN, -0.0 is not 0.0, dict key order counts."""
    stack = [(a, b)]
    while stack:
        a, b = stack.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, float):
            if math.isnan(a) or math.isnan(b):
                if not (math.isnan(a) and math.isnan(b)):
                    return False
            elif a != b or math.copysign(1, a) != math.copysign(1, b):
                return False
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b))
        elif isinstance(a, dict):
            if list(a) != list(b):
                return False
            stack.extend((a[k], b[k]) for k in a)
        elif a != b:
            return False
    return True


def outcome(f, *args, **kwargs):
    """("ok", result) or (exception type name, message)."""
    try:
        return "ok", f(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - every exception is an outcome to compare
        return type(e).__name__, str(e)


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 4, 120, 120, 8, 8


def show(x) -> str:
    """A short ASCII repr of any input, deep ones included."""
    return _REPR.repr(x).encode("ascii", "backslashreplace").decode()[:200]


def agree(a, b) -> bool:
    if a[0] != b[0]:
        return False
    return same(a[1], b[1]) if a[0] == "ok" else a[1] == b[1]


# ---------------------------------------------------------------------------
# loads inputs


def number_alphabet_cases():
    alphabet = "-+0159.eE"
    for n in range(1, 5):
        for chars in itertools.product(alphabet, repeat=n):
            s = "".join(chars)
            yield s
            if n <= 3:
                yield f"[{s}]"
                yield f'{{"k":{s}}}'


def integer_cases():
    for base in (2**31, 2**32, 2**53, 2**63, 2**64, 10**19, 10**20, 10**40):
        for d in range(-2, 3):
            for v in (base + d, -(base + d)):
                yield str(v)
                yield "000" + str(v) if v >= 0 else "-000" + str(-v)
                yield f"[{v}, {v}.0, {v}e0]"
    for digits in (4299, 4300, 4301):
        yield "7" * digits
        yield "-" + "7" * digits
        yield "[" + "7" * digits + "]"
    yield "-"
    yield "--1"
    yield "-a"
    yield "[-, -]"


def float_cases(rng):
    for digits in (17, 100, 400, 768, 771, 772, 773, 800, 5000):
        mantissa = "1" + "0" * (digits - 2) + "1"
        for exp in ("", "e-400", "e-300", "e+10", "e308", "e-" + "9" * 12, "e" + "9" * 12):
            yield f"{mantissa[:1]}.{mantissa[1:]}{exp}"
            yield f"0.{'0' * digits}1{exp}"
            yield f"-{mantissa}.5{exp}"
    for text in ("1e0000000000000000000001", "1e-0000000000000000000001", "0.0e99999999999",
                 "2.4703282292062327e-324", "2.4703282292062328e-324", "4.9406564584124654e-324",
                 "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
                 "9007199254740993", "9007199254740993.0", "0.1", "1e23", "-0.0", "-0.0e5",
                 "1.5e", "1.5e+", "1.5e-", "1.5E+x", "0e", "00.", "-.e1", "-.0", "-.", "1.]", "1..2"):
        yield text
        yield f"[{text}]"
    for _ in range(3000):
        bits = rng.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isnan(x) or math.isinf(x):
            continue
        yield repr(x)
        yield f"{x:.17g}"
        yield f"{x:.25e}"
    for _ in range(3000):
        int_part = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 30)))
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 30)))
        exp = rng.choice(["", "e", "E"]) + rng.choice(["", "+", "-"]) + str(rng.randrange(0, 400))
        yield rng.choice(["", "-"]) + int_part + rng.choice([".", ""]) + frac + exp


def constant_cases():
    for word in ("NaN", "Infinity", "-Infinity", "true", "false", "null"):
        for n in range(1, len(word) + 1):
            for tail in ("", "x", " ", "]", "0"):
                s = word[:n] + tail
                yield s
                yield f"[{s}]"
                yield f'{{"k": {s}}}'
    yield "nan"
    yield "inf"
    yield "-NaN"
    yield "+1"
    yield "+Infinity"
    yield "[NaN,Infinity,-Infinity]"


def string_cases():
    for b in range(256):
        yield b'"a' + bytes([b]) + b'b"'
        yield b'["' + bytes([b]) + b'"]'
    for c in range(128):
        yield b'"\\' + bytes([c]) + b'"'
    for hexes in ("", "0", "00", "00e", "00e9", "00E9", "000g", "D800", "DC00", "d83d", "dE00"):
        yield '"\\u' + hexes + '"'
    surrogates = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud83d", "\\ude00", "x", "\\u0041"]
    for pair in itertools.product(surrogates, repeat=3):
        yield '"' + "".join(pair) + '"'
    continuations = [b"\x80", b"\xbf", b"\x7f", b"\xc0", b"", b"\x00"]
    for lead in range(0x80, 0x100):
        for tail in itertools.product(continuations, repeat=2):
            body = bytes([lead]) + b"".join(tail)
            yield b'"' + body + b'"'
            yield b'"' + body + b'\x80\x80"'
    for text in ("\ud800", "\udc00", "\ud83d\ude00", "a\ud800b", "\ud800\udc00"):
        yield '"' + text + '"'  # str input with lone surrogates (encoded with surrogatepass)
    yield b'"\xed\xa0\x80"'  # a surrogate in UTF-8
    yield b'"\xed\xa0\xbd\xed\xb8\x80"'
    yield b'"\xef\xbb\xbf"'
    yield b"\xef\xbb\xbf[1]"  # a BOM before the value
    yield '"' + "x" * 100_000 + '"'
    yield '"' + "\\n" * 50_000 + '"'
    yield '"' + "é" * 50_000 + "\\u20ac" + '"'


def structure_cases(rng):
    keys = ['{["a"]: 1}', '{["a", 1]: 1}', '{{"a": {}}: 1}', '{{"a": []}: 1}', '{[]: 1}', '{{}: 1}',
            '{["a"] 1}', '{["a"]: 1', '{"a": 1, ["b"]: 2}', '{"k": {["a"]: 1}}', '{[{"a": "b"}]: 1}',
            '{1: 2}', '{"a":1, 2: 3}', '{null: 1}', '{[{}]: 1}', '{["a",{}]: 1}', '{NaN: 1}',
            '{["a"]: 1, "b": [}', '{["a"]: ' + "1" * 5000 + "}", '{"a" 1}', '{"a":}', '{"a":1 "b":2}',
            '{"a":1,"a":2}', '{"b":1,"a":2,"b":3}', '{"":1}', '{"a":1,}', "{,}", "{", "}", "[", "]",
            "[1,]", "[,1]", "[1 2]", "[1,,2]", "[]]", "[[]", '{"a":[}', "[{]}"]
    yield from keys
    for depth in (1023, 1024, 1025):
        yield "[" * depth + "]" * depth
        yield "[" * depth
        yield '{"k":' * depth + "1" + "}" * depth
        yield '[{"k":' * (depth // 2) + "1" + "}]" * (depth // 2)
    for ws in (" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\x00", "\u2028"):
        yield f"{ws}[{ws}1{ws},{ws}2{ws}]{ws}"
        yield f'{ws}{{{ws}"a"{ws}:{ws}1{ws}}}{ws}'
    yield ""
    yield "   "
    yield "[1] x"
    yield "[1]\x00"
    yield "1 2"
    tokens = ["[", "]", "{", "}", ",", ":", '"a"', '"b"', "1", "-1.5", "0", "-", ".", "e", "NaN",
              "Infinity", "true", "null", " ", "\n", '"', "\\", "01", "1e5", '"\\u00e9"', "\t"]
    for _ in range(5000):
        yield "".join(rng.choice(tokens) for _ in range(rng.randrange(1, 16)))
    # random valid documents, with whitespace
    for _ in range(500):
        yield random_document(rng, 4)


def random_document(rng, depth):
    r = rng.random()
    if depth == 0 or r < 0.4:
        return rng.choice(["1", "-2.5e3", "0", '"x\\u00e9"', "true", "false", "null", "NaN", "-Infinity",
                           "123456789012345678901234567890", '"\\ud83d\\ude00"', "1E-7", '""'])
    ws = rng.choice(["", " ", "\n  "])
    if r < 0.7:
        items = [random_document(rng, depth - 1) for _ in range(rng.randrange(0, 5))]
        return "[" + ws + ("," + ws).join(items) + ws + "]"
    members = [f'"k{rng.randrange(5)}"{ws}:{ws}{random_document(rng, depth - 1)}'
               for _ in range(rng.randrange(0, 5))]
    return "{" + ws + ("," + ws).join(members) + ws + "}"


def suite_cases():
    if not SUITE.is_dir():
        return
    for path in sorted(SUITE.glob("*.json")):
        data = path.read_bytes()
        yield path.name, data
        try:
            yield path.name + " (str)", data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            yield path.name + " (str, latin-1)", data.decode("latin-1")


def bench_cases():
    for name in ("twitter.json", "citm_catalog.json"):
        path = BENCH / name
        if path.is_file():
            data = path.read_bytes()
            yield name, data
            yield name + " (str)", data.decode("utf-8")


def loads_inputs():
    """(input id, input) for `loads`, deterministic."""
    rng = random.Random(20261130)
    yield from suite_cases()
    yield from bench_cases()
    generators = [("number", number_alphabet_cases()), ("int", integer_cases()), ("float", float_cases(rng)),
                  ("constant", constant_cases()), ("string", string_cases()),
                  ("structure", structure_cases(rng))]
    for kind, gen in generators:
        for i, text in enumerate(gen):
            yield f"{kind} #{i}", text
            if isinstance(text, str) and kind in ("number", "constant", "structure"):
                try:
                    yield f"{kind} #{i} (bytes)", text.encode("utf-8", "surrogatepass")
                except UnicodeEncodeError:
                    pass


class Reader:
    """A file-like object whose `read` returns `value`."""

    def __init__(self, value):
        self.value = value

    def read(self):
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


class NotCallableRead:
    read = 5


class StrSub(str):
    pass


class BytesSub(bytes):
    pass


def input_type_cases():
    """(id, function name, argument): what loads and load take and refuse."""
    for arg in ([1], None, 1, 1.5, bytearray(b"[1]"), memoryview(b"[1]"), StrSub("[1]"), BytesSub(b"[1]"),
                bytearray(), b"", "", object(), ["[1]"], array_of_bytes()):
        yield f"loads({type(arg).__name__})", "loads", arg
    for arg in (io.StringIO("[1, 2]"), io.BytesIO(b'{"a": NaN}'), Reader("[1]"), Reader(b"[1]"), Reader(1),
                Reader(None), Reader(ValueError("read failed")), NotCallableRead(), object(), "[1]",
                Reader(bytearray(b"[1]"))):
        yield f"load({type(arg).__name__})", "load", arg


def array_of_bytes():
    import array

    return array.array("b", b"[1]")


# ---------------------------------------------------------------------------
# dumps inputs


class ToDict:
    def __init__(self, value):
        self.value = value

    def toDict(self):  # noqa: N802 - ujson's protocol
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


class ToJSON:
    def __init__(self, value):
        self.value = value

    def __json__(self):
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


class IntSub(int):
    pass


class FloatSub(float):
    pass


class DictSub(dict):
    pass


class ListSub(list):
    pass


class TupleSub(tuple):
    pass


class Unhashable:
    __hash__ = None


def nested_list(n):
    x = []
    for _ in range(n):
        x = [x]
    return x


def nested_dict(n):
    x = {}
    for _ in range(n):
        x = {"k": x}
    return x


CHAR_POOLS = ["abcXYZ 019", "\"\\/", "<>&'", "\x00\x01\x08\x09\x0a\x0c\x0d\x1f\x7f", "\u0080\u00e9\u00ff",
              "\u0100\u07ff\u0800\u2028\u2029\ufeff\uffff", "\U00010000\U0001f600\U0010ffff", "\ud800\udc00\udfff"]


def random_string(rng):
    pools = rng.sample(CHAR_POOLS, rng.randrange(1, 4))
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randrange(0, 24)))


def random_float(rng):
    r = rng.random()
    if r < 0.5:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
    if r < 0.8:
        return rng.uniform(-1e6, 1e6)
    return float(rng.choice([0.1, 1e16, 1e15, 1e-5, 1e-7, 1e21, 1e22, 1e23, 5e-324, -0.0, 0.0,
                             1.7976931348623157e308, 2.0**53, 123456789.123456789, 1 / 3]))


def random_scalar(rng):
    r = rng.randrange(9)
    if r == 0:
        return rng.choice([0, 1, -1, 2**31, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64 - 1, 2**64, 10**30,
                           -10**30])
    if r == 1:
        return rng.randrange(-2**70, 2**70)
    if r == 2:
        return random_float(rng)
    if r in (3, 4):
        return random_string(rng)
    if r == 5:
        return rng.choice([True, False, None])
    if r == 6:
        return random_string(rng).encode("utf-8", "surrogatepass")
    if r == 7:
        return rng.choice([IntSub(5), FloatSub(2.5), StrSub("s"), decimal.Decimal("1.5"), decimal.Decimal("NaN")])
    return rng.choice([math.nan, math.inf, -math.inf])


def random_key(rng):
    r = rng.randrange(8)
    if r < 4:
        return random_string(rng)
    return rng.choice([1, -5, 2**64, 1.5, math.nan, True, False, None, b"bytes", (1, 2), decimal.Decimal("2.5")])


def random_object(rng, depth):
    r = rng.random()
    if depth == 0 or r < 0.45:
        return random_scalar(rng)
    n = rng.randrange(0, 5)
    if r < 0.65:
        return [random_object(rng, depth - 1) for _ in range(n)]
    if r < 0.72:
        return tuple(random_object(rng, depth - 1) for _ in range(n))
    return {random_key(rng): random_object(rng, depth - 1) for _ in range(n)}


def dumps_objects():
    """(id, object) for `dumps`, deterministic."""
    fixed = [
        0, 1, -1, True, False, None, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64 - 1, 2**64, -2**64,
        10**100, -(10**300), int("9" * 4300), 10**4300, IntSub(7), FloatSub(1.25),
        0.0, -0.0, 0.1, 1 / 3, 1e16, 1e15, 1e17, 1e21, 1e22, 1e-5, 1e-6, 1e-7, 5e-324, 1.7976931348623157e308,
        123456789012345678.0, 2.0**53, 9007199254740993.0, math.nan, math.inf, -math.inf, -math.nan,
        "", "a", "é", "\u2028", "\U0001f600", "\ud800", "\udc00", "\ud800\udc00", "a/b", "<&>", "\x00\x1f\x7f",
        StrSub("sub"), b"", b"bytes", b"\xff", bytearray(b"ba"), memoryview(b"mv"),
        [], (), {}, [1, [2, [3]]], (1, (2,)), {"a": {"b": {}}}, DictSub(a=1), ListSub([1]), TupleSub((1,)),
        OrderedDict([("b", 1), ("a", 2)]),
        {1: 1, 1.5: 2, True: 3, None: 4}, {"b": 1, "a": 2, "c": {"z": 1, "y": 2}},
        {b"k": 1}, {(1, 2): 1}, {decimal.Decimal("1.5"): 1}, {math.nan: 1, math.inf: 2},
        {"a": 1, 2: 3}, {1: 1, "1": 2}, {StrSub("k"): 1}, {IntSub(3): 1}, {False: 0, 0: 1},
        decimal.Decimal("1.5"), decimal.Decimal("-0"), decimal.Decimal("1e500"), decimal.Decimal("NaN"),
        decimal.Decimal("sNaN"), decimal.Decimal("Infinity"), decimal.Decimal("0.1000000000000000055511151231257827"),
        ToDict({"a": 1}), ToDict([1]), ToDict(None), ToDict(ValueError("toDict failed")), ToDict(DictSub(x=1)),
        ToJSON('{"raw": 1}'), ToJSON(b"[1,2]"), ToJSON("not json"), ToJSON(5), ToJSON(None),
        ToJSON(ValueError("__json__ failed")), ToJSON(""),
        object(), Unhashable(), {1, 2}, frozenset(), complex(1, 2), range(3), iter([1]), type, print,
        nested_list(1023), nested_list(1024), nested_list(1025), nested_dict(1024), nested_dict(1025),
        [nested_list(1023)], {"k": nested_list(1023)},
    ]
    for i, obj in enumerate(fixed):
        yield f"fixed #{i} {type(obj).__name__}", obj
    rng = random.Random(20261130)
    for i in range(2500):
        yield f"random #{i}", random_object(rng, 4)


def default_str(obj):
    return str(obj)


def default_raises(obj):
    raise TypeError(f"no default for {type(obj).__name__}")


def default_self(obj):
    return obj


OPTION_SETS = [
    {},
    {"ensure_ascii": False},
    {"encode_html_chars": True},
    {"escape_forward_slashes": False},
    {"sort_keys": True},
    {"indent": 2},
    {"indent": 4, "sort_keys": True, "ensure_ascii": False},
    {"indent": -1},
    {"allow_nan": False},
    {"reject_bytes": False},
    {"reject_bytes": False, "ensure_ascii": False, "encode_html_chars": True},
    {"separators": (", ", ": ")},
    {"separators": ("\u00e9", "\ud800"), "indent": 1},
    {"default": default_str},
    {"default": default_raises, "sort_keys": True},
    {"default": default_self},
]

BAD_OPTIONS = [
    {"indent": 1001}, {"indent": 2**40}, {"indent": "2"}, {"indent": 1.5}, {"indent": None},
    {"separators": [",", ":"]}, {"separators": (",",)}, {"separators": (1, ":")}, {"separators": (",", 2)},
    {"default": 5}, {"ensure_ascii": Unhashable()}, {"sort_keys": []},
]

# (function, args, kwargs): calls that do not match the signature.
BAD_CALLS = [
    ("dumps", (), {}), ("loads", (), {}), ("loads", ("1", "2"), {}), ("loads", ("1",), {"obj": "1"}),
    ("dumps", (1, True, False, True, False, 2, True, True, None, None, 5), {}), ("dump", (1,), {}),
    ("load", (), {}), ("load", (), {"fp": io.StringIO("1")}), ("dumps", (1,), {"obj": 1}),
    ("dumps", (1,), {"indent": 1, "bogus": 2}), ("load", (io.StringIO("1"), "y"), {}),
    ("dump", (1, io.StringIO(), True), {}), ("dumps", (), {"bogus": 1}), ("loads", ("1",), {"bogus": 1}),
]


# ---------------------------------------------------------------------------
# The test


def _report(mode: str, lines: list[str]) -> Path:
    path = TARGET_DIR / "test-logs" / f"ujson-differential-{mode}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _ujson():
    """ujson, which tools/setup-interpreters installs everywhere it can: the
    pinned version needs Python 3.10."""
    if sys.version_info < (3, 10):
        pytest.skip(f"ujson {UJSON_VERSION} (the version hpyjson follows) needs Python 3.10")
    import ujson

    return ujson


def test_ujson_is_the_pinned_version():
    ujson = _ujson()
    assert ujson.__version__ == UJSON_VERSION, (
        f"ujson {ujson.__version__} is installed; the comparison is with {UJSON_VERSION} "
        "(tools/setup-interpreters installs it)")


def test_hpyjson_has_ujsons_names(hpyjson):
    ujson = _ujson()

    for name in dir(ujson):
        if name.startswith("__") and name != "__version__":
            continue
        ours, theirs = getattr(hpyjson, name), getattr(ujson, name)
        assert type(ours) is type(theirs) or callable(ours) == callable(theirs), name
    assert hpyjson.JSONDecodeError.__bases__ == ujson.JSONDecodeError.__bases__ == (ValueError,)
    assert hpyjson.JSONDecodeError.__name__ == "JSONDecodeError"
    assert hpyjson.JSONDecodeError.__module__ == "hpyjson"
    assert hpyjson.decode is hpyjson.loads and hpyjson.encode is hpyjson.dumps


def test_hpyjson_behaves_as_ujson(hpyjson, mode):
    ujson = _ujson()

    if ujson.__version__ != UJSON_VERSION:
        pytest.fail(f"ujson {ujson.__version__} installed, {UJSON_VERSION} expected (tools/setup-interpreters)")
    counts: dict[str, int] = {}
    differences: list[tuple[str, str, object, object]] = []

    def check(category, case_id, ours, theirs, shown, options=None):
        counts[category] = counts.get(category, 0) + 1
        if not agree(ours, theirs):
            why = next((name for name, _, recognise in KNOWN
                        if recognise(category, shown, options or {}, ours, theirs)), None)
            differences.append((f"{category}: {case_id}", show(shown), ours, theirs, why))

    for n, (case_id, data) in enumerate(loads_inputs()):
        check("loads", case_id, outcome(hpyjson.loads, data), outcome(ujson.loads, data), data)
        if n % 50 == 0:
            check("decode", case_id, outcome(hpyjson.decode, data), outcome(ujson.decode, data), data)
    for case_id, name, arg in input_type_cases():
        ours = outcome(getattr(hpyjson, name), arg)
        if isinstance(arg, io.IOBase):
            arg.seek(0)
        check("input types", case_id, ours, outcome(getattr(ujson, name), arg), arg)
    objects = list(dumps_objects())
    for n, (case_id, obj) in enumerate(objects):
        for k, options in enumerate(OPTION_SETS):
            ours = outcome(hpyjson.dumps, obj, **options)
            theirs = outcome(ujson.dumps, obj, **options)
            check("dumps", f"{case_id} {options}", ours, theirs, obj, options)
            if n % 25 == 0:
                f1, f2 = io.StringIO(), io.StringIO()
                ours = outcome(hpyjson.dump, obj, f1, **options)
                theirs = outcome(ujson.dump, obj, f2, **options)
                check("dump", f"{case_id} {options}", (ours[0], f1.getvalue() if ours[0] == "ok" else ours[1]),
                      (theirs[0], f2.getvalue() if theirs[0] == "ok" else theirs[1]), obj, options)
    for options in BAD_OPTIONS:
        for obj in ([1, {"a": b"x"}], "s"):
            check("bad options", f"{options}", outcome(hpyjson.dumps, obj, **options),
                  outcome(ujson.dumps, obj, **options), options)
    for name, args, kwargs in BAD_CALLS:
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, io.StringIO):
                a.seek(0)
        ours = outcome(getattr(hpyjson, name), *args, **kwargs)
        check("bad calls", f"{name}{args}{kwargs}", ours, outcome(getattr(ujson, name), *args, **kwargs),
              (name, args, kwargs))

    unexplained = [d for d in differences if d[4] is None]
    by_class = {name: sum(d[4] == name for d in differences) for name, _, _ in KNOWN}
    stale = [name for name, n in by_class.items() if n == 0]
    total = sum(counts.values())
    lines = [f"hpyjson ({mode} mode) against ujson {ujson.__version__}: {total} calls, "
             f"{len(differences)} differences, {len(unexplained)} unexplained"]
    lines += [f"  {category:12} {count:6} calls" for category, count in counts.items()]
    for name, why, _ in KNOWN:
        lines.append(f"  known difference ({by_class[name]} calls): {name}: {why}")
    for case_id, shown, ours, theirs, why in sorted(differences, key=lambda d: d[4] is not None):
        lines.append(f"  {case_id}: input {shown}\n    hpyjson {show(ours)}\n    ujson   "
                     f"{show(theirs)}\n    class: {why or 'UNEXPLAINED'}")
    report = _report(mode, lines)
    assert not unexplained and not stale, (
        f"{len(unexplained)} unexplained differences, known classes that explain nothing: {stale} "
        f"(report: {report}):\n" + "\n".join(lines[: 1 + len(counts) + len(KNOWN) + 4 * 20]))
    if not DATA.is_dir():
        pytest.skip(f"the generated cases agree; the data cases need {DATA}")
