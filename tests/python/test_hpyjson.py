"""The `hpyjson` example (examples/hpyjson): a ujson-compatible JSON module in Rust.

Runs on CPython in universal, debug (LeakDetector around every test) and trace
mode, and on PyPy in universal mode, from one `hpyjson.hpy0.so`.

What is checked:

* the API and ujson's documented behaviour (its README and its own tests):
  every function and keyword of `loads`/`dumps`/`load`/`dump`, the
  `decode`/`encode` aliases, `JSONDecodeError` (a `ValueError`), the error
  types (and ujson's messages) for bad input, big integers, float round
  trips, surrogates, NaN/Infinity and `allow_nan`, `default`, `reject_bytes`;
* conformance with JSONTestSuite (`../shared/data/JSONTestSuite/test_parsing`),
  in strict mode (`loads(x, strict=True)`, RFC 8259): every `y_` case is
  accepted and equals `json.loads` of it, every `n_` case raises
  `hpyjson.JSONDecodeError`, every `i_` case either way, without a crash (in
  both modes); the default mode is ujson's grammar, checked against ujson
  itself input by input in test_ujson_differential.py;
* round trips of the json-bench documents (`../shared/data/json-bench`);
  in debug mode only a slice of each, to keep that run fast.

Whatever could crash the interpreter (deep nesting, circular references, the
`i_` cases, the deepest `n_` cases) runs in a child process, one per mode,
that loads the module the same way and reports each case as it goes: a crash
fails the case that crashed (a new child goes on with the others), and the
test run survives.

The data is read in place from `../shared/data` (relative to the repository's
root); without that folder the tests that need it skip, naming it.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import CHILD_LOADER, IS_PYPY, ROOT
import hostile as H

DATA = (ROOT.parent / "shared" / "data").resolve()
SUITE = DATA / "JSONTestSuite" / "test_parsing"
BENCH = DATA / "json-bench"


def _cases(prefix: str) -> list[str]:
    return sorted(p.name for p in SUITE.glob(f"{prefix}_*.json")) if SUITE.is_dir() else []


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"test data not found: {path} (the shared data folder ../shared/data)")


def _suite_param(prefix: str):
    names = _cases(prefix)
    # One placeholder keeps the test visible (and skipped) when the data is absent.
    return names or [f"{prefix}_<no data>"]


def same(a, b) -> bool:
    """Structural equality where NaN equals NaN, -0.0 differs from 0.0, and 1 differs from 1.0
    (key order is not compared)."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


# ---------------------------------------------------------------------------
# The API


def test_module_api(hpyjson):
    for name in ("loads", "dumps", "load", "dump", "decode", "encode", "JSONDecodeError"):
        assert hasattr(hpyjson, name), name
    assert issubclass(hpyjson.JSONDecodeError, ValueError)
    assert hpyjson.decode("[1]") == [1]
    assert hpyjson.encode([1]) == "[1]"


def test_readme_examples(hpyjson):
    assert hpyjson.dumps([{"key": "value"}, 81, True]) == '[{"key":"value"},81,true]'
    assert hpyjson.loads("""[{"key": "value"}, 81, true]""") == [{"key": "value"}, 81, True]
    assert hpyjson.dumps("<script>John&Doe", encode_html_chars=True) == '"\\u003cscript\\u003eJohn\\u0026Doe"'
    assert hpyjson.dumps("åäö") == '"\\u00e5\\u00e4\\u00f6"'
    assert hpyjson.dumps("åäö", ensure_ascii=False) == '"åäö"'
    assert hpyjson.dumps("https://example.com") == '"https:\\/\\/example.com"'
    assert hpyjson.dumps("https://example.com", escape_forward_slashes=False) == '"https://example.com"'
    assert hpyjson.dumps({"foo": "bar"}) == '{"foo":"bar"}'
    assert hpyjson.dumps({"foo": "bar"}, indent=4) == '{\n    "foo": "bar"\n}'


@pytest.mark.parametrize("text, expected", [
    ("null", None), ("true", True), ("false", False), ("0", 0), ("-0", 0), ("123", 123),
    ("-5", -5), ("1.5", 1.5), ("-0.0", -0.0), ("1e2", 100.0), ("1E+2", 100.0), ("2.5e-3", 0.0025),
    ('""', ""), ('"abc"', "abc"), ("[]", []), ("{}", {}), (" [ 1 , 2 ] ", [1, 2]),
    ('{"a": [1, {"b": null}], "c": "d"}', {"a": [1, {"b": None}], "c": "d"}),
    ('{"a":1,"a":2}', {"a": 2}),
    ('"\\u00e9\\n\\/\\"\\\\\\b\\f\\r\\t"', 'é\n/"\\\b\f\r\t'),
    ('"\\u0000"', "\x00"),
    ("\t\n\r [1]\n", [1]),
])
def test_loads_values(hpyjson, text, expected):
    for arg in (text, text.encode(), bytearray(text.encode())):
        assert same(hpyjson.loads(arg), expected)
        assert same(hpyjson.decode(arg), expected)


def test_loads_types_of_numbers(hpyjson):
    assert type(hpyjson.loads("1")) is int
    assert type(hpyjson.loads("1.0")) is float
    assert type(hpyjson.loads("1e2")) is float
    assert math.copysign(1, hpyjson.loads("-0.0")) == -1


def test_loads_rejects_other_types(hpyjson):
    for bad in (1, None, 1.5, ["[]"], memoryview(b"[]"), object()):
        with pytest.raises(TypeError):
            hpyjson.loads(bad)


def test_loads_bad_arguments(hpyjson):
    with pytest.raises(TypeError):
        hpyjson.loads()
    with pytest.raises(TypeError):
        hpyjson.loads("1", "2")
    with pytest.raises(TypeError):
        hpyjson.dumps()
    with pytest.raises(TypeError):
        hpyjson.dumps(1, bogus=1)


@pytest.mark.parametrize("value, expected", [
    (None, "null"), (True, "true"), (False, "false"), (0, "0"), (-7, "-7"),
    (1.5, "1.5"), (1.0, "1.0"), (-0.0, "-0.0"), ("", '""'), ([], "[]"), ({}, "{}"), ((1, 2), "[1,2]"),
    ([1, [2, [3]], {"a": (4,)}], '[1,[2,[3]],{"a":[4]}]'),
    (-2**63, "-9223372036854775808"), (2**64 - 1, "18446744073709551615"),
    ("\"\\\b\f\n\r\t", '"\\"\\\\\\b\\f\\n\\r\\t"'),
    ("\x00\x01\x1f\x7f", '"\\u0000\\u0001\\u001f\x7f"'),
    ("<>&'", "\"<>&'\""),
])
def test_dumps_values(hpyjson, value, expected):
    assert hpyjson.dumps(value) == expected
    assert hpyjson.encode(value) == expected


def test_dumps_subclasses_of_builtin_types(hpyjson):
    class F(float):
        pass

    class I(int):  # noqa: E742
        pass

    class S(str):
        pass

    class D(dict):
        pass

    class L(list):
        pass

    assert hpyjson.dumps([F(1.5), I(3), S("s"), D(a=1), L([1]), True]) == '[1.5,3,"s",{"a":1},[1],true]'


def test_dumps_lying_str_subclasses(hpyjson):
    # A str subclass that lies about its length, items and text: dumps
    # writes the characters the object holds (ASCII, Latin-1, UCS-2 and
    # UCS-4 ones, as values and as keys), as ujson does, under every option
    # that changes how they are escaped.
    Liar = H.StrLyingAboutText

    for text in ["plain", "caf\xe9 </>", "日本語 \"q\" \\ /", "a😀\U0010ffff\n", "x" * 40 + "日"]:
        for ensure_ascii in (True, False):
            for html in (True, False):
                opts = dict(ensure_ascii=ensure_ascii, encode_html_chars=html)
                assert hpyjson.dumps(Liar(text), **opts) == hpyjson.dumps(text, **opts), text
                assert hpyjson.dumps({Liar(text): Liar(text)}, **opts) == hpyjson.dumps({text: text}, **opts)
                assert hpyjson.dumps(text, **opts) == _ujson_escape(text, ensure_ascii, True, html)


def test_dumps_dict_keys(hpyjson):
    assert hpyjson.dumps({"a": 1, "b": [2]}) == '{"a":1,"b":[2]}'
    # ujson turns non-str keys into strings (like json): int, float, bool, None.
    assert hpyjson.dumps({7: 1}) == '{"7":1}'
    assert hpyjson.dumps({2.5: 1}) == '{"2.5":1}'
    assert hpyjson.dumps({True: 1}) == '{"true":1}'
    assert hpyjson.dumps({None: 1}) == '{"null":1}'


def _ujson_reference(obj):
    """ujson's output with its default options for dicts, lists, str and int,
    from the reference escaper below."""
    if isinstance(obj, dict):
        return "{" + ",".join(_ujson_escape(k, True, True, False) + ":" + _ujson_reference(v)
                              for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(map(_ujson_reference, obj)) + "]"
    if isinstance(obj, str):
        return _ujson_escape(obj, True, True, False)
    return json.dumps(obj)


def test_dumps_many_keys(hpyjson):
    # Keys repeated across many objects (which a CPython-ABI build writes from
    # a memo of the keys met before), among keys seen once, keys that need
    # escapes, non-ASCII ones, ones longer than the memo keeps, and more keys
    # than it has slots: the same text every time.
    keys = ["id", "name", "a/b", "caf\xe9", "日本", "\n\"", "x" * 40, "k" * 30, "😀", "a" * 14]
    keys += [f"key{i}" for i in range(600)]
    doc = [{k: i for k in keys[:10] + keys[10 + 3 * i: 13 + 3 * i]} for i in range(200)]
    assert hpyjson.dumps(doc) == _ujson_reference(doc)
    # The same texts again as other objects (json.loads makes new keys).
    both = [doc, json.loads(json.dumps(doc))]
    assert hpyjson.dumps(both) == _ujson_reference(both)


def test_dumps_keys_freed_during_the_call(hpyjson):
    # `default` empties the dicts written before it and makes new keys of the
    # same size, which CPython's allocator places where the freed ones were
    # (had they been freed): the memo of the keys written (CPython-ABI builds)
    # holds references of its own, so a new key is never written as the old
    # one that had its address.
    first = [{"".join(["k", str(i), "_", str(j)]): j for j in range(40)} for i in range(5)]
    later = []
    expected = _ujson_reference([json.loads(json.dumps(first)),
                                 [{f"n{i}_{j}": j for j in range(40)} for i in range(5)]])

    def default(obj):
        for d in first:
            d.clear()
        later.extend({"".join(["n", str(i), "_", str(j)]): j for j in range(40)} for i in range(5))
        return later

    assert hpyjson.dumps([first, object()], default=default) == expected


def test_dumps_key_subclass_goes_only_when_python_code_lets_it(hpyjson):
    # A str subclass key can run Python code when its last reference goes
    # (`__del__`, a weak reference's callback): the memo of the keys written
    # (CPython-ABI builds) keeps exact str keys only, so such a key goes when
    # Python code lets it go (here `default`, emptying the dicts written
    # before it), never later inside dumps' own walk, where that code could
    # free what the walk is reading.
    in_default = [False]
    events = []

    class K(str):
        def __del__(self):
            events.append(in_default[0])

    first = [{K(f"k{i}_{j}"): j for j in range(40)} for i in range(3)]
    expected = _ujson_reference([json.loads(json.dumps(first)), None])

    def default(obj):
        in_default[0] = True
        for d in first:
            d.clear()
        in_default[0] = False

    assert hpyjson.dumps([first, object()], default=default) == expected
    if not IS_PYPY:  # PyPy's collector runs `__del__` later, whoever drops the key
        assert len(events) == 120 and all(events), events


def test_dumps_ensure_ascii(hpyjson):
    s = "é日\U0001f600"
    assert hpyjson.dumps(s) == '"\\u00e9\\u65e5\\ud83d\\ude00"'
    assert hpyjson.dumps(s, ensure_ascii=True) == '"\\u00e9\\u65e5\\ud83d\\ude00"'
    assert hpyjson.dumps(s, ensure_ascii=False) == f'"{s}"'
    assert hpyjson.dumps({s: s}, ensure_ascii=False) == f'{{"{s}":"{s}"}}'


@pytest.mark.parametrize("char, escaped", [("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")])
def test_dumps_encode_html_chars(hpyjson, char, escaped):
    assert hpyjson.dumps(char, encode_html_chars=True) == f'"{escaped}"'
    assert hpyjson.dumps(char, encode_html_chars=False) == f'"{char}"'
    assert hpyjson.dumps(char) == f'"{char}"'


def test_dumps_escape_forward_slashes(hpyjson):
    assert hpyjson.dumps("a/b") == '"a\\/b"'
    assert hpyjson.dumps("a/b", escape_forward_slashes=True) == '"a\\/b"'
    assert hpyjson.dumps("a/b", escape_forward_slashes=False) == '"a/b"'
    assert hpyjson.dumps({"/": "/"}, escape_forward_slashes=False) == '{"/":"/"}'


def _ujson_escape(s, ensure_ascii, slashes, html):
    """ujson's string escaping, character by character (the reference for
    the encoder's 16-bytes-at-a-time loop)."""
    short = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
    out = []
    for ch in s:
        o = ord(ch)
        if ch in short:
            out.append(short[ch])
        elif o < 0x20 or (html and ch in "<>&"):
            out.append("\\u%04x" % o)
        elif ch == "/" and slashes:
            out.append("\\/")
        elif ensure_ascii and o >= 0x10000:
            v = o - 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
        elif ensure_ascii and o > 0x7F:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def test_dumps_escaping_matches_reference(hpyjson):
    # Random strings of every length around the 16-byte blocks, mixing the
    # characters that need escapes under some option with plain ones and
    # with 2-, 3- and 4-byte sequences, at every alignment.
    import random

    rng = random.Random(8259)
    alphabet = ['a', 'Z', '0', ' ', '"', "\\", '/', '<', '>', '&', '\n', '\t', '\x00', '\x1f',
                '\x7f', 'é', 'ÿ', 'Ā', '日', '\uffff', '\U0001f600', '\U0010ffff']
    for length in list(range(0, 40)) + [63, 64, 65, 200]:
        for _ in range(12):
            weights = [rng.random() ** 3 for _ in alphabet]
            s = "".join(rng.choices(alphabet, weights, k=length))
            for ensure_ascii in (True, False):
                for slashes in (True, False):
                    for html in (True, False):
                        got = hpyjson.dumps(s, ensure_ascii=ensure_ascii,
                                            escape_forward_slashes=slashes, encode_html_chars=html)
                        assert got == _ujson_escape(s, ensure_ascii, slashes, html), (s, ensure_ascii, slashes, html)
                        assert json.loads(got) == s
            # Keys take the same path.
            assert hpyjson.dumps({s: 0}) == "{" + _ujson_escape(s, True, True, False) + ":0}"


def test_dumps_one_escape_at_every_position(hpyjson):
    # One character to escape (or a multi-byte one) at each position of an
    # otherwise plain string of each length up to three blocks: the short
    # path, the block loop and the last (overlapping) block all meet each
    # position. Two such characters too, the second one in the last block.
    # And the same in UCS-2 text (a character from U+0100 on at the end),
    # which is checked 16 characters at a time.
    for ch in ['"', "\\", "\n", "\x01", "/", "é", "日", "\uffe0", "\U0001f600"]:
        for length in range(1, 49):
            for i in range(length):
                s = "a" * i + ch + "b" * (length - i - 1)
                assert hpyjson.dumps(s) == _ujson_escape(s, True, True, False), (ch, length, i)
                assert hpyjson.dumps(s, ensure_ascii=False) == _ujson_escape(s, False, True, False)
                t = s + "c" * 5 + ch
                assert hpyjson.dumps(t) == _ujson_escape(t, True, True, False), (ch, length, i)
                u = s + "\u0100"
                assert hpyjson.dumps(u) == _ujson_escape(u, True, True, False), (ch, length, i)
            assert hpyjson.dumps({s: 1}) == "{" + _ujson_escape(s, True, True, False) + ":1}"


def test_dumps_runs_of_non_ascii_ucs2(hpyjson):
    # UCS-2 text whose runs of non-ASCII characters the CPython-ABI build
    # escapes eight at a time: runs of every length around 8 and 16, after
    # prefixes that put them at every alignment, each broken once by an
    # ASCII character (plain or escaped) at every position; every hex digit
    # and the units at the edges (U+0080, U+07FF, U+D7FF, lone surrogates,
    # U+E000, U+FFFF).
    run_chars = ["\u0080", "\u07ff", "\u0abc", "\u1def", "日", "\ud7ff", "\ud800", "\udfff",
                 "\ue000", "\u9876", "\u5432", "\uffff"]
    for prefix in range(0, 18):
        for run in range(0, 35):
            text = "".join(run_chars[(k * 5 + prefix) % len(run_chars)] for k in range(run))
            base = "a" * prefix + text + "zz"
            assert hpyjson.dumps(base) == _ujson_escape(base, True, True, False), (prefix, run)
            for k in range(run):
                for ascii in ("x", '"', "\n", "/"):
                    s = base[:prefix + k] + ascii + base[prefix + k + 1:]
                    assert hpyjson.dumps(s) == _ujson_escape(s, True, True, False), (prefix, run, k)


def test_dumps_sort_keys(hpyjson):
    obj = {"b": 1, "a": 2, "c": {"z": 0, "y": 1}}
    assert hpyjson.dumps(obj) == '{"b":1,"a":2,"c":{"z":0,"y":1}}'
    assert hpyjson.dumps(obj, sort_keys=True) == '{"a":2,"b":1,"c":{"y":1,"z":0}}'
    with pytest.raises(TypeError):
        hpyjson.dumps({1: 1, "a": 2}, sort_keys=True)


def test_dumps_indent(hpyjson):
    assert hpyjson.dumps([1, [2, []]], indent=1) == "[\n 1,\n [\n  2,\n  []\n ]\n]"
    assert hpyjson.dumps({"b": 1, "a": [1]}, indent=2, sort_keys=True) == \
        '{\n  "a": [\n    1\n  ],\n  "b": 1\n}'
    assert hpyjson.dumps([], indent=2) == "[]"
    assert hpyjson.dumps({}, indent=2) == "{}"
    assert hpyjson.dumps([1], indent=0) == "[1]"


@pytest.mark.parametrize("separators, expected", [
    ((",", ":"), '{"a":0,"b":[1,2]}'),
    ((", ", ": "), '{"a": 0, "b": [1, 2]}'),
    ((" , ", " : "), '{"a" : 0 , "b" : [1 , 2]}'),
    (None, '{"a":0,"b":[1,2]}'),
])
def test_dumps_separators(hpyjson, separators, expected):
    assert hpyjson.dumps({"a": 0, "b": [1, 2]}, separators=separators) == expected


def test_dumps_separators_with_indent(hpyjson):
    assert hpyjson.dumps([1, {"a": 2}], indent=2, separators=(",", ": ")) == \
        '[\n  1,\n  {\n    "a": 2\n  }\n]'
    assert hpyjson.dumps({}, separators=(" , ", " : ")) == "{}"
    assert hpyjson.dumps([], separators=(" , ", " : ")) == "[]"
    # Indented with the compact separators (ujson's output): the options the
    # encoder's fast instance folds (compact, "," and ":") but one.
    assert hpyjson.dumps([1, {"a": [2, "/\u00e9"]}], indent=2, separators=(",", ":")) == \
        '[\n  1,\n  {\n    "a":[\n      2,\n      "\\/\\u00e9"\n    ]\n  }\n]'


@pytest.mark.parametrize("separators, exc", [
    (True, TypeError), (0, TypeError), (b"", TypeError), ((), ValueError), ((",",), ValueError),
    ((",", ":", "x"), ValueError), ((True, 0), TypeError), ((",", True), TypeError),
    ((b",", b":"), TypeError),
])
def test_dumps_bad_separators(hpyjson, separators, exc):
    with pytest.raises(exc):
        hpyjson.dumps({"a": 0}, separators=separators)


def test_dumps_reject_bytes(hpyjson):
    with pytest.raises(TypeError, match="is not JSON serializable"):
        hpyjson.dumps(b"abc")
    with pytest.raises(TypeError, match="is not JSON serializable"):
        hpyjson.dumps([b"abc"], reject_bytes=True)
    assert hpyjson.dumps(b"abc", reject_bytes=False) == '"abc"'
    assert hpyjson.dumps([b"\xc3\xa9"], reject_bytes=False) == '["\\u00e9"]'


@pytest.mark.parametrize("value", [object(), {1, 2}, 1j, type, print])
def test_dumps_not_serializable(hpyjson, value):
    with pytest.raises(TypeError, match="is not JSON serializable"):
        hpyjson.dumps(value)
    with pytest.raises(TypeError, match="is not JSON serializable"):
        hpyjson.dumps({"k": [1, value]})


def test_dumps_default(hpyjson):
    import datetime

    d = datetime.date(2024, 1, 2)
    assert hpyjson.dumps([d], default=lambda o: o.isoformat()) == '["2024-01-02"]'
    assert hpyjson.dumps({"x": {1, 2}}, default=sorted) == '{"x":[1,2]}'
    assert hpyjson.dumps([1, object()], default=lambda o: {"t": [type(o).__name__]}) == '[1,{"t":["object"]}]'
    # default is not consulted for what can be serialized anyway
    assert hpyjson.dumps([1, "a"], default=lambda o: 1 / 0) == '[1,"a"]'
    assert hpyjson.dumps(None, default=None) == "null"


def test_dumps_list_changed_by_default(hpyjson):
    # The length is read once (as ujson): items appended meanwhile are not
    # written; removing items is an error, not a crash or a silent cut.
    grows = [object(), 1]
    assert hpyjson.dumps(grows, default=lambda o: grows.append(9) or "x") == '["x",1]'
    assert grows == [grows[0], 1, 9]
    shrinks = [object(), 1, 2]
    with pytest.raises(RuntimeError, match="list changed size during iteration"):
        hpyjson.dumps(shrinks, default=lambda o: shrinks.clear() or "x")


def test_dumps_python_code_frees_what_is_being_written(hpyjson):
    # A CPython-ABI build reads items without references of their own; any
    # Python code that runs mid-way (a key's `__str__`, `default`, a `str`
    # subclass's `encode`) may drop the container's last references to them.
    class Key:
        def __str__(self):
            d.clear()  # the value's only reference was d's
            return "k"

    d = {Key(): ["held", "only", "by", "d", 10**30]}
    assert hpyjson.dumps(d) == '{"k":["held","only","by","d",1000000000000000000000000000000]}'
    assert d == {}

    parent = {"a": object(), "b": ["only", "in", "parent"]}
    assert hpyjson.dumps(parent, default=lambda o: parent.clear() or "x") == '{"a":"x"}'
    # A key removed meanwhile is skipped, in key order too (a snapshot of the keys).
    parent = {"c": 1, "b": ["only", "here"], "a": object()}
    out = hpyjson.dumps(parent, sort_keys=True, default=lambda o: parent.pop("b") and "x")
    assert out == '{"a":"x","c":1}'

    class Lonely(str):
        def encode(self, *args):
            items.clear()
            return str.encode(self, *args)

    # (`ensure_ascii=False`: the text as UTF-8, which on CPython a lone
    # surrogate has only through `encode`; PyPy gives it as WTF-8.)
    if IS_PYPY:
        return
    items = [Lonely("\ud800"), "after"]
    with pytest.raises(RuntimeError, match="list changed size during iteration"):
        hpyjson.dumps(items, ensure_ascii=False)
    items = [[Lonely("\ud800")]]
    assert hpyjson.dumps(items, ensure_ascii=False) == '[["\ud800"]]'
    assert items == []


def test_dumps_default_errors_propagate(hpyjson):
    class Boom(Exception):
        pass

    def boom(o):
        raise Boom("from default")

    with pytest.raises(Boom, match="from default"):
        hpyjson.dumps([object()], default=boom)
    with pytest.raises(ZeroDivisionError):
        hpyjson.dumps(object(), default=lambda o: 1 / 0)


def test_dump_and_load(hpyjson):
    f = io.StringIO()
    assert hpyjson.dump([1, 2, 3], f) is None
    assert f.getvalue() == "[1,2,3]"
    f = io.StringIO()
    hpyjson.dump({"b": [1], "a": "/"}, f, indent=2, sort_keys=True, escape_forward_slashes=False)
    assert f.getvalue() == '{\n  "a": "/",\n  "b": [\n    1\n  ]\n}'
    data = {"emoji": "🐍", "cjk": "日本語"}
    f = io.StringIO()
    hpyjson.dump(data, f, ensure_ascii=False)
    f.seek(0)
    assert hpyjson.load(f) == data
    assert hpyjson.load(io.BytesIO(b'{"a": [1, 2.5]}')) == {"a": [1, 2.5]}

    class Writer:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

    w = Writer()
    hpyjson.dump([1, {"a": None}], w)
    assert w.text == '[1,{"a":null}]'

    class Reader:
        def read(self):
            return "[1,2,3,4]"

    assert hpyjson.load(Reader()) == [1, 2, 3, 4]


def test_dump_and_load_errors(hpyjson):
    with pytest.raises(TypeError):
        hpyjson.dump([], "")
    with pytest.raises(TypeError):
        hpyjson.dump([], types.SimpleNamespace(write="a"))
    with pytest.raises(ZeroDivisionError):
        hpyjson.dump([0], types.SimpleNamespace(write=lambda s: 1 / 0))
    closed = io.StringIO()
    closed.close()
    with pytest.raises(ValueError, match="closed file"):
        hpyjson.dump([0], closed)
    with pytest.raises(TypeError):
        hpyjson.dump([object()], io.StringIO())
    with pytest.raises(TypeError):
        hpyjson.load("[]")
    with pytest.raises(TypeError):
        hpyjson.load(object())
    with pytest.raises(TypeError):
        hpyjson.load(types.SimpleNamespace(read=object()))
    with pytest.raises(ZeroDivisionError):
        hpyjson.load(types.SimpleNamespace(read=lambda: 1 / 0))
    with pytest.raises(TypeError):
        hpyjson.load(types.SimpleNamespace(read=lambda: 3))
    with pytest.raises(hpyjson.JSONDecodeError):
        hpyjson.load(io.StringIO("[1,"))


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("text", [
    "", " ", "[", "[1,", "[1,]", "{", '{"a"', '{"a":', '{"a":1,}', '{"a"}', "{1:1}", "{'a':1}",
    '"abc', '"\\x"', '"\\u12"', '"\\u12zz"', "[1] x", "[1]]", "tru", "nul", "fals", "True", "nan",
    "n", "+1", ".5", "1e", "1e+", "[1 2]", '{"a" 1}', "\x00", "[1]\x00",
])
def test_loads_bad_input_raises_json_decode_error(hpyjson, text):
    with pytest.raises(hpyjson.JSONDecodeError) as info:
        hpyjson.loads(text)
    assert isinstance(info.value, ValueError)
    assert str(info.value)
    with pytest.raises(hpyjson.JSONDecodeError):
        hpyjson.loads(text.encode())
    assert hpyjson.loads("[1]") == [1]  # ... and the module keeps working


@pytest.mark.parametrize("data", [b'"\xff"', b'"\xc3"', b'["\xe9t\xe9"]', b'"\xed\xa0"', b"\xff"])
def test_loads_invalid_utf8_raises_json_decode_error(hpyjson, data):
    with pytest.raises(hpyjson.JSONDecodeError):
        hpyjson.loads(data)


# ujson 6.1's messages, for the same input (test_ujson_differential.py
# checks thousands more against ujson itself); hpyjson is a drop-in replacement.
@pytest.mark.parametrize("text, message", [
    ("", "Expected object or value"),
    ("   ", "Expected object or value"),
    ("[1] x", "Trailing data"),
    ("NaN!", "Trailing data"),
    ("Infinity and Beyond", "Trailing data"),
    ("n", "Unexpected character found when decoding 'null'"),
    ("tru", "Unexpected character found when decoding 'true'"),
    ("I", "Unexpected character found when decoding 'Infinity'"),
    ("Nan", "Unexpected character found when decoding 'NaN'"),
    ("-Inf", "Unexpected character found when decoding '-Infinity'"),
    ("-NaN", "Trailing data"),  # "-" is 0 for ujson
    ("1e", "Trailing data"),  # the double is "1", then junk
    ("[1e]", "Unexpected character found when decoding array value \\(2\\)"),
    ("[1,]", "Unexpected character found when decoding array value \\(1\\)"),
    ('{"a":1,}', "Unexpected character in found when decoding object value"),
    ('"abc', "Unmatched '\"' when decoding 'string'"),
    ('"a\x00b"', "Unmatched '\"' when decoding 'string'"),
    ('{"a"}', "No ':' found when decoding object value"),
    ("{1:1}", "Key name of object must be 'string' when decoding 'object'"),
    ('{["a"]: 1}', "Invalid JSON: object keys must be strings"),
    ('"\\x"', "Unrecognized escape sequence when decoding 'string'"),
    ('"\\u12"', "Unexpected character in unicode escape sequence when decoding 'string'"),
    ("[" * 1025 + "]" * 1025, "Reached object decoding depth limit"),
])
def test_loads_error_messages_match_ujson(hpyjson, text, message):
    with pytest.raises(hpyjson.JSONDecodeError, match=message):
        hpyjson.loads(text)


# strict=True: RFC 8259's grammar; ujson's messages where ujson rejects too,
# messages of the same style where only RFC 8259 does.
@pytest.mark.parametrize("text, message", [
    ("", "Expected object or value"),
    ("[1] x", "Trailing data"),
    ("NaN", "Expected object or value"),
    ("Infinity", "Expected object or value"),
    ("I", "Expected object or value"),
    ("-Inf", "Expected a digit when decoding 'number'"),
    ("-", "Expected a digit when decoding 'number'"),
    ("01", "Leading zeros are not allowed when decoding 'number'"),
    ("-01", "Leading zeros are not allowed when decoding 'number'"),
    ("1.", "Expected a digit after '.' when decoding 'number'"),
    ("1e", "Expected a digit in the exponent when decoding 'number'"),
    ("1e+", "Expected a digit in the exponent when decoding 'number'"),
    ('"a\tb"', "Invalid control character when decoding 'string'"),
    ('"a\x00b"', "Invalid control character when decoding 'string'"),
    ('"abc', "Unmatched '\"' when decoding 'string'"),
    ('{["a"]: 1}', "Key name of object must be 'string' when decoding 'object'"),
    ("{1:1}", "Key name of object must be 'string' when decoding 'object'"),
])
def test_strict_error_messages(hpyjson, text, message):
    with pytest.raises(hpyjson.JSONDecodeError, match=message):
        hpyjson.loads(text, strict=True)
    with pytest.raises(hpyjson.JSONDecodeError, match=message):
        hpyjson.load(io.StringIO(text), strict=True)


# What ujson accepts beyond RFC 8259, and so does hpyjson by default.
@pytest.mark.parametrize("text, expected", [
    ("NaN", math.nan),
    ("Infinity", math.inf),
    ("-Infinity", -math.inf),
    ("[NaN, Infinity, -Infinity]", [math.nan, math.inf, -math.inf]),
    ('{"a": NaN}', {"a": math.nan}),
    ("01", 1),
    ("-007", -7),
    ("-", 0),
    ("[-]", [0]),
    ("1.", 1.0),
    ("-.5", -0.5),
    ("00.5e1", 5.0),
    ("1.e2", 100.0),
    ("0001E+2", 100.0),
    ('"a\tb\x01"', "a\tb\x01"),
    ('["\n"]', ["\n"]),
    ("000000000000000000000000000001", 1),
    ("-0000000000000000000000000000018446744073709551616", -18446744073709551616),
])
def test_ujson_grammar_by_default(hpyjson, text, expected):
    assert same(hpyjson.loads(text), expected)
    assert same(hpyjson.loads(text.encode()), expected)
    assert same(hpyjson.decode(text), expected)
    assert same(hpyjson.load(io.StringIO(text)), expected)
    with pytest.raises(hpyjson.JSONDecodeError):
        hpyjson.loads(text, strict=True)


def test_strict_is_keyword_only_and_a_bool(hpyjson):
    with pytest.raises(TypeError):
        hpyjson.loads("1", True)
    with pytest.raises(TypeError):
        hpyjson.loads("1", strict=1)
    assert hpyjson.loads("1", strict=False) == 1
    assert hpyjson.loads(obj="[NaN]", strict=False)[0] != 0


@pytest.mark.parametrize("word", ["Infinity", "NaN", "null", "true", "false"])
def test_loads_incomplete_words(hpyjson, word):
    for length in range(1, len(word)):
        with pytest.raises(hpyjson.JSONDecodeError):
            hpyjson.loads(word[:length])
        with pytest.raises(hpyjson.JSONDecodeError):
            hpyjson.loads(word[:length] + "z")


# ---------------------------------------------------------------------------
# Numbers


BIG_INTS = [2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64 - 1, 2**64, -2**64, 2**100, -2**100,
            10**40 + 1, -(10**300) - 7, int("9" * 1000)]


@pytest.mark.parametrize("n", BIG_INTS, ids=lambda n: f"{'-' if n < 0 else ''}{len(str(abs(n)))}digits")
def test_big_ints(hpyjson, n):
    assert hpyjson.dumps(n) == str(n)
    assert hpyjson.dumps([n, {"k": n}]) == f'[{n},{{"k":{n}}}]'
    back = hpyjson.loads(str(n))
    assert back == n and type(back) is int
    assert hpyjson.loads(f"[{n}, {n}]") == [n, n]
    assert hpyjson.loads(str(n).encode()) == n


TRICKY_FLOATS = [0.1, 0.2, 0.3, 1 / 3, 1e308, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
                 -0.0, 0.0, 1e16, 1e15, 1e17, 1e22, 1e21, 1e-7, 1e-5, 123456789012345678.0,
                 9007199254740993.0, 2.0**53, 1.0, -1.5, 3.141592653589793, 2.718281828459045e-100]


@pytest.mark.parametrize("x", TRICKY_FLOATS, ids=repr)
def test_float_round_trip(hpyjson, x):
    text = hpyjson.dumps(x)
    back = hpyjson.loads(text)
    assert type(back) is float, text
    assert same(back, x), text
    assert same(json.loads(text), x), text  # valid JSON, read the same by the stdlib
    assert same(hpyjson.loads(hpyjson.dumps([x, {"k": x}])), [x, {"k": x}])


def test_float_parsing_is_correctly_rounded(hpyjson):
    for text in ["0.1", "2.2250738585072011e-308", "1.00000000000000011102230246251565404236316680908203125",
                 "7.038531e-26", "9007199254740993", "9007199254740993.0", "1e23", "8.41e21", "5e-324",
                 "2.4703282292062327e-324", "1.7976931348623157e308", "123456789012345678901234567890.5",
                 "0.000000000000000000000000000000000001", "-0.0e5", "1E-2", "4.9406564584124654e-324"]:
        assert same(hpyjson.loads(text), json.loads(text)), text


@pytest.mark.parametrize("text, expected", [("1e400", math.inf), ("-1e400", -math.inf), ("1e-400", 0.0)])
def test_float_overflow_and_underflow(hpyjson, text, expected):
    assert same(hpyjson.loads(text), expected)


def test_nan_and_infinity(hpyjson):
    assert hpyjson.dumps(math.nan) == "NaN"
    assert hpyjson.dumps(math.inf) == "Infinity"
    assert hpyjson.dumps(-math.inf) == "-Infinity"
    assert hpyjson.dumps([math.inf], allow_nan=True) == "[Infinity]"
    # loads reads them back, as ujson and json do ...
    for x in (math.nan, math.inf, -math.inf, [math.nan, {"k": -math.inf}]):
        assert same(hpyjson.loads(hpyjson.dumps(x)), x)
        assert same(hpyjson.loads(hpyjson.dumps(x)), json.loads(json.dumps(x)))
    # ... but not in strict mode: RFC 8259 has no such literals.
    for text in ("NaN", "Infinity", "-Infinity", "[NaN]"):
        with pytest.raises(hpyjson.JSONDecodeError):
            hpyjson.loads(text, strict=True)
    assert hpyjson.loads('["NaN", "Infinity"]', strict=True) == ["NaN", "Infinity"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [math.nan], {"k": math.inf}, [[-math.inf]]],
                         ids=repr)
def test_allow_nan_false_raises_overflow_error(hpyjson, value):
    with pytest.raises(OverflowError):
        hpyjson.dumps(value, allow_nan=False)
    assert hpyjson.dumps([1.5], allow_nan=False) == "[1.5]"


# ---------------------------------------------------------------------------
# Strings and surrogates


def test_surrogate_pairs(hpyjson):
    assert hpyjson.loads('"\\ud83d\\ude00"') == "\U0001f600"
    assert hpyjson.loads('"\\uD834\\uDD1E"') == "\U0001d11e"
    assert hpyjson.loads('"\U0001f600"') == "\U0001f600"
    assert hpyjson.loads('"\U0001f600"'.encode()) == "\U0001f600"
    assert hpyjson.dumps("\U0001f600") == '"\\ud83d\\ude00"'
    assert hpyjson.dumps("\U0001f600", ensure_ascii=False) == '"\U0001f600"'
    for cp in (0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF):
        s = f"a{chr(cp)}b"
        assert hpyjson.loads(hpyjson.dumps(s)) == s
        assert hpyjson.loads(hpyjson.dumps(s, ensure_ascii=False)) == s
        assert hpyjson.loads(hpyjson.dumps(s, ensure_ascii=False).encode()) == s


@pytest.mark.parametrize("text, expected", [
    ('"\\ud800"', "\ud800"), ('"\\udc00"', "\udc00"), ('"\\udc00\\ud800"', "\udc00\ud800"),
    ('"\\ud800abc"', "\ud800abc"), ('"\\ud800\\n"', "\ud800\n"), ('"\\ud800\\u0041"', "\ud800A"),
    ('{"\\udfaa": 0}', {"\udfaa": 0}),
])
def test_lone_surrogates_load_like_json(hpyjson, text, expected):
    assert hpyjson.loads(text) == expected == json.loads(text)


@pytest.mark.parametrize("s", ["\ud800", "\udfff", "a\udc00b", "\udc00\ud800"], ids=ascii)
def test_lone_surrogates_dump(hpyjson, s):
    text = hpyjson.dumps(s)
    assert text == json.dumps(s)  # escaped, e.g. "\ud800"
    assert hpyjson.loads(text) == s
    assert hpyjson.loads(hpyjson.dumps({s: [s]})) == {s: [s]}
    # Without ensure_ascii the surrogate cannot be UTF-8: ujson 6 passes it
    # through into the str, older ujson raised UnicodeEncodeError; both are fine.
    try:
        raw = hpyjson.dumps(s, ensure_ascii=False)
    except UnicodeEncodeError:
        pass
    else:
        assert raw == f'"{s}"'


# ---------------------------------------------------------------------------
# Structure, deep nesting, circular references: in a child process


def test_moderate_nesting(hpyjson):
    deep = []
    for _ in range(200):
        deep = [deep, {"k": deep}] if len(str(deep)) < 50 else [deep]
    assert hpyjson.loads(hpyjson.dumps(deep)) == deep
    text = "[" * 400 + "]" * 400
    assert hpyjson.loads(text) == json.loads(text)


def _nested_list(n):
    """n lists, one in the other."""
    x = []
    for _ in range(n - 1):
        x = [x]
    return x


def _nested_dict(n):
    """n dicts, one in the other."""
    x = {}
    for _ in range(n - 1):
        x = {"k": x}
    return x


@pytest.mark.parametrize("nested", [_nested_list, _nested_dict])
def test_documented_depth(hpyjson, nested):
    # ujson 6.1's limits, to the level: dumps writes 1025 nested containers
    # and refuses 1026; loads reads 1024 and refuses 1025. (The encoder and
    # the decoder keep their open containers on the heap: no native stack
    # budget cuts them short.)
    text = hpyjson.dumps(nested(1025))
    assert text.count("[") + text.count("{") == 1025
    with pytest.raises(OverflowError, match=r"^Maximum recursion level reached$"):
        hpyjson.dumps(nested(1026))
    text_1024 = hpyjson.dumps(nested(1024))
    assert hpyjson.dumps(hpyjson.loads(text_1024)) == text_1024  # (== would recurse too deep)
    with pytest.raises(hpyjson.JSONDecodeError, match=r"^Reached object decoding depth limit$"):
        hpyjson.loads(text)


SMALL_STACK_CHILD = CHILD_LOADER + r'''
import sys, threading
name, path, mode, kib = sys.argv[1:5]
mod = load(name, path, mode)

def nested(n):
    x = []
    for _ in range(n - 1):
        x = [x, {"k": 1}]
    return x

out = []
def work():
    text = mod.dumps(nested(1024))
    out.append(text.count("[") == 1024 and mod.dumps(mod.loads(text)) == text)

threading.stack_size(int(kib) * 1024)
t = threading.Thread(target=work)
t.start()
t.join()
print(out)
'''


@pytest.mark.parametrize("kib", [64, 256])
def test_depth_on_a_small_thread_stack(hpyjson, loader, mode, kib):
    # A thread with a small stack (CPython's own json survives 256 KiB by
    # raising RecursionError) encodes and decodes to the documented depth:
    # the native stack a call uses does not grow with the nesting.
    if not loader.made(hpyjson):
        pytest.skip("a stand-in module")
    path = str(loader.path("hpyjson", mode))
    proc = subprocess.run([sys.executable, "-c", SMALL_STACK_CHILD, "hpyjson", path, mode, str(kib)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[True]", proc.stderr[-2000:]


def test_containers_are_read_as_ujson_reads_them(hpyjson):
    # A subclass may override __len__, __getitem__ or keys to lie or raise:
    # like ujson (and json), dumps writes the real items.
    class LongLen(list):
        def __len__(self):
            return 5

    class ShortLen(list):
        def __len__(self):
            return 1

    class HugeLen(list):
        def __len__(self):
            return 10**11

        def __getitem__(self, i):
            raise RuntimeError("not called")

    class RaisingLen(tuple):
        def __len__(self):
            raise ValueError("no len")

    class LyingDict(dict):
        def __getitem__(self, key):
            return "lie"

        def keys(self):
            return ["x"]

        def __len__(self):
            return 0

    assert hpyjson.dumps(LongLen([1])) == "[1]"
    assert hpyjson.dumps(ShortLen([1, 2, 3])) == "[1,2,3]"
    assert hpyjson.dumps(HugeLen([1, [2]])) == "[1,[2]]"
    assert hpyjson.dumps(RaisingLen((1, 2))) == "[1,2]"
    assert hpyjson.dumps(LyingDict(a=1, b=[LongLen([2])])) == '{"a":1,"b":[[2]]}'
    assert hpyjson.dumps([LongLen([1])], indent=2) == json.dumps([[1]], indent=2)


CHILD = CHILD_LOADER + r'''
import importlib, json, sys
name, path, mode = sys.argv[1:4]
if path == "-":
    mod = importlib.import_module(name)
else:
    mod = load(name, path, mode)

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

def circular_list():
    a = [1]
    a.append([a])
    return a

def circular_dict():
    d = {}
    d["d"] = {"e": d}
    return d

def run(kind, arg):
    if kind == "loads_file":
        with open(arg, "rb") as f:
            return mod.loads(f.read())
    if kind == "loads_file_strict":
        with open(arg, "rb") as f:
            return mod.loads(f.read(), strict=True)
    if kind == "loads_text":
        return mod.loads(arg)
    if kind == "dumps_nested_list":
        return mod.dumps(nested_list(arg))
    if kind == "dumps_nested_dict":
        return mod.dumps(nested_dict(arg))
    if kind == "dumps_circular_list":
        return mod.dumps(circular_list())
    if kind == "dumps_circular_dict":
        return mod.dumps(circular_dict())
    if kind == "dumps_circular_default":
        o = object()
        return mod.dumps([o], default=lambda x: [x])
    if kind == "dumps_nested_default":
        return mod.dumps(object(), default=lambda x: nested_list(arg))
    raise ValueError(kind)

for line in sys.stdin:
    case, kind, arg = json.loads(line)
    try:
        run(kind, arg)
        result = ["ok", None, False, ""]
    except BaseException as e:
        result = ["raised", type(e).__name__, isinstance(e, mod.JSONDecodeError), str(e)[:200]]
    print(json.dumps([case] + result), flush=True)
    mod.loads("[1]")  # the module still works
print(json.dumps(["<end>"]), flush=True)
'''

DEEP = 100_000
# case -> (kind, argument)
CHILD_CASES = {
    "loads_deep_open_arrays": ("loads_text", "[" * DEEP),
    "loads_deep_arrays": ("loads_text", "[" * DEEP + "]" * DEEP),
    "loads_deep_objects": ("loads_text", '{"k":' * DEEP + "1" + "}" * DEEP),
    "loads_deep_mixed": ("loads_text", '[{"k":' * (DEEP // 2) + "1" + "}]" * (DEEP // 2)),
    "loads_500_nested_objects": ("loads_text", '{"k":' * 500 + "1" + "}" * 500),  # valid, under 1024
    "loads_500_nested_mixed": ("loads_text", '[{"k":' * 250 + "1" + "}]" * 250),
    "dumps_deep_list": ("dumps_nested_list", DEEP),
    "dumps_deep_dict": ("dumps_nested_dict", DEEP),
    "dumps_circular_list": ("dumps_circular_list", None),
    "dumps_circular_dict": ("dumps_circular_dict", None),
    "dumps_circular_default": ("dumps_circular_default", None),
    "dumps_deep_from_default": ("dumps_nested_default", DEEP),
}
# n_ cases too deep to risk in the test process
DEEP_N_CASES = {"n_structure_100000_opening_arrays.json", "n_structure_open_array_object.json"}

_child_runs: dict[str, dict[str, list]] = {}


def child_results(hpyjson, loader, mode) -> dict[str, list]:
    """Runs every child case once per mode: case -> ["ok"|"raised"|"crashed", type, is_decode_error, msg]."""
    if mode in _child_runs:
        return _child_runs[mode]
    if loader.made(hpyjson):  # a module of the suite
        name, path = "hpyjson", str(loader.path("hpyjson", mode))
    else:  # a stand-in imported normally (e.g. ujson)
        name, path = hpyjson.__name__, "-"
    cases = dict(CHILD_CASES)
    if SUITE.is_dir():
        for f in _cases("i") + sorted(DEEP_N_CASES):
            cases[f] = ("loads_file_strict", str(SUITE / f))
            cases[f + ":ujson"] = ("loads_file", str(SUITE / f))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    results: dict[str, list] = {}
    while True:  # after a crash, a new child goes on with the cases after the one that crashed
        todo = [case for case in cases if case not in results]
        if not todo:
            break
        stdin = "".join(json.dumps([case, *cases[case]]) + "\n" for case in todo)
        proc = subprocess.run([sys.executable, "-c", CHILD, name, path, mode], input=stdin,
                              capture_output=True, text=True, env=env, timeout=600, check=False)
        for line in proc.stdout.splitlines():
            case, *result = json.loads(line)
            results[case] = result
        if "<end>" in results:
            break
        crashed = next(case for case in todo if case not in results)
        results[crashed] = ["crashed", f"exit status {proc.returncode}: {proc.stderr.strip()[-500:]}", False, ""]
    _child_runs[mode] = results
    return results


@pytest.mark.parametrize("case", [c for c in CHILD_CASES if c.startswith("loads_500")])
def test_nesting_under_the_limit_loads_without_crash(hpyjson, loader, mode, case):
    status, exc, _, msg = child_results(hpyjson, loader, mode)[case]
    assert status == "ok", (status, exc, msg)


@pytest.mark.parametrize("case", [c for c in CHILD_CASES if c.startswith("loads_deep")])
def test_deep_nesting_loads_raises_without_crash(hpyjson, loader, mode, case):
    status, exc, is_decode_error, msg = child_results(hpyjson, loader, mode)[case]
    assert status == "raised", (status, exc, msg)
    assert exc == "RecursionError" or is_decode_error, (exc, msg)


@pytest.mark.parametrize("case", [c for c in CHILD_CASES if c.startswith("dumps_deep")])
def test_deep_nesting_dumps_raises_without_crash(hpyjson, loader, mode, case):
    status, exc, _, msg = child_results(hpyjson, loader, mode)[case]
    assert status == "raised", (status, exc, msg)
    # ujson: OverflowError("Maximum recursion level reached"); CPython's json: RecursionError.
    assert exc in ("RecursionError", "OverflowError"), (exc, msg)


@pytest.mark.parametrize("case", [c for c in CHILD_CASES if "circular" in c])
def test_circular_reference_raises_without_crash(hpyjson, loader, mode, case):
    status, exc, _, msg = child_results(hpyjson, loader, mode)[case]
    assert status == "raised", (status, exc, msg)
    # ujson: OverflowError; json: ValueError("Circular reference detected"); or RecursionError.
    # (ujson reports a runaway `default` as TypeError("maximum recursion depth exceeded").)
    allowed = ("RecursionError", "OverflowError", "ValueError")
    if case == "dumps_circular_default":
        allowed += ("TypeError",)
    assert exc in allowed, (exc, msg)


@pytest.mark.parametrize("name", _suite_param("i"))
def test_suite_i_cases_never_crash(hpyjson, loader, mode, name):
    _need(SUITE)
    for case in (name, name + ":ujson"):  # strict mode, then ujson's grammar
        status, exc, is_decode_error, msg = child_results(hpyjson, loader, mode)[case]
        assert status in ("ok", "raised"), (case, status, exc)
        if status == "raised":
            # rejected as invalid input, not by a panic (SystemError) or any other failure
            assert is_decode_error or exc in ("ValueError", "UnicodeDecodeError", "OverflowError",
                                              "RecursionError"), (case, exc, msg)


# ---------------------------------------------------------------------------
# JSONTestSuite conformance


@pytest.mark.parametrize("name", _suite_param("y"))
def test_suite_y_cases_are_accepted(hpyjson, name):
    _need(SUITE)
    data = (SUITE / name).read_bytes()
    expected = json.loads(data)
    assert same(hpyjson.loads(data, strict=True), expected)
    assert same(hpyjson.loads(data), expected)  # ujson's grammar is a superset
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert same(hpyjson.loads(text, strict=True), expected)
    assert same(hpyjson.loads(text), expected)


@pytest.mark.parametrize("name", [n for n in _suite_param("n") if n not in DEEP_N_CASES])
def test_suite_n_cases_are_rejected(hpyjson, name):
    _need(SUITE)
    data = (SUITE / name).read_bytes()
    with pytest.raises(hpyjson.JSONDecodeError):
        hpyjson.loads(data, strict=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    with pytest.raises(hpyjson.JSONDecodeError):
        hpyjson.loads(text, strict=True)


@pytest.mark.parametrize("name", sorted(DEEP_N_CASES))
def test_suite_deep_n_cases_are_rejected_without_crash(hpyjson, loader, mode, name):
    _need(SUITE)
    for case in (name, name + ":ujson"):
        status, exc, is_decode_error, msg = child_results(hpyjson, loader, mode)[case]
        assert status == "raised", (case, status, exc)
        assert is_decode_error or exc == "RecursionError", (case, exc, msg)


# ---------------------------------------------------------------------------
# Round trips of the benchmark documents


def _slice(name: str, doc):
    """A small part of each document, for debug mode."""
    if name == "twitter.json":
        return {"statuses": doc["statuses"][:3], "search_metadata": doc["search_metadata"]}
    return {k: (dict(list(v.items())[:20]) if isinstance(v, dict) else v[:20] if isinstance(v, list) else v)
            for k, v in doc.items()}


@pytest.mark.parametrize("name", ["twitter.json", "citm_catalog.json"])
def test_bench_documents_round_trip(hpyjson, mode, name):
    path = BENCH / name
    _need(path)
    data = path.read_bytes()
    expected = json.loads(data)
    if mode == "debug":  # every handle is checked: a slice is enough, and fast
        expected = _slice(name, expected)
        data = json.dumps(expected, ensure_ascii=False).encode()
    doc = hpyjson.loads(data)
    assert same(doc, expected)
    assert same(hpyjson.loads(data.decode()), expected)
    for kwargs in ({}, {"ensure_ascii": False}, {"indent": 2}, {"sort_keys": True},
                   {"escape_forward_slashes": False, "encode_html_chars": True}):
        text = hpyjson.dumps(doc, **kwargs)
        assert same(hpyjson.loads(text), expected), kwargs
        assert same(json.loads(text), expected), kwargs
    compact = hpyjson.dumps(doc, ensure_ascii=False, escape_forward_slashes=False)
    if name == "citm_catalog.json":  # no floats, no slashes: byte for byte like json
        assert compact == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))


def test_interpreter_still_works(hpyjson):
    assert hpyjson.loads(hpyjson.dumps({"ok": [1, 2.5, None, "x"]})) == {"ok": [1, 2.5, None, "x"]}
