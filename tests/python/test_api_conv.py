"""Conversions of the standard collections and other std types (`tests/api-conv`).

Each test runs on CPython in universal, debug (inside LeakDetector) and trace
mode, and on PyPy in universal mode. Failure cases check the exception type
and the message, including where in a nested value the conversion failed.
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

from conftest import IS_PYPY, leak_check

UNIX = os.name == "posix"


# --- Vec, VecDeque, arrays, slices ----------------------------------------------------------


def test_vec(api_conv):
    assert api_conv.vec_i64([1, 2, 3]) == [3, 2, 1]
    assert api_conv.vec_i64((1, 2, 3)) == [3, 2, 1]  # a tuple works too
    assert api_conv.vec_i64([]) == []
    assert api_conv.vec_str(["a", "é"]) == ["A", "É"]
    assert api_conv.nested([[1], [], [2, 3]]) == [[1], [], [2, 3]]
    assert api_conv.vec_opt([1.5, None, 2]) == [1.5, None, 2.0]
    objs = [object(), None, "x"]
    out = api_conv.vec_handles(objs)
    assert type(out) is list and all(a is b for a, b in zip(out, objs))
    assert api_conv.deque([1, 2, 3]) == [2, 3, 1]
    assert api_conv.deque([]) == []
    assert api_conv.range_list(1000) == list(range(1000))

    class MyList(list):
        pass

    assert api_conv.vec_i64(MyList([1, 2])) == [2, 1]


def test_vec_takes_any_sequence(api_conv):
    # Exact lists and tuples are read in place; anything else of the sequence
    # protocol goes through list(obj), as PyO3's Vec extraction iterates.
    assert api_conv.vec_i64(range(3)) == [2, 1, 0]
    assert api_conv.vec_i64(b"\x01\x02") == [2, 1]
    assert api_conv.deque(range(4)) == [1, 2, 3, 0]
    assert api_conv.array3(range(3)) == [2, 1, 0]

    class Seq:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            if i >= 2:
                raise IndexError(i)
            return i * 10

    assert api_conv.vec_i64(Seq()) == [10, 0]

    class Tup(tuple):
        pass

    assert api_conv.vec_i64(Tup((5, 6))) == [6, 5]


def test_vec_errors(api_conv):
    with pytest.raises(TypeError, match=r"^vec_i64\(\) argument 'xs': item 3: expected int, got str$"):
        api_conv.vec_i64([1, 2, 3, "x"])
    with pytest.raises(TypeError, match=r"^vec_i64\(\) argument 'xs' must be a sequence, not str \(a str is not taken as a sequence of characters\)$"):
        api_conv.vec_i64("123")
    with pytest.raises(TypeError, match=r"^vec_i64\(\) argument 'xs' must be a sequence, not set$"):
        api_conv.vec_i64({1, 2})
    with pytest.raises(TypeError, match=r"^vec_i64\(\) argument 'xs' must be a sequence, not generator$"):
        api_conv.vec_i64(x for x in [1])
    with pytest.raises(OverflowError,
                       match=r"^vec_i64\(\) argument 'xs': item 1: Python int too large to convert to i64$"):
        api_conv.vec_i64([0, 2**63])
    with pytest.raises(TypeError, match=r"^nested\(\) argument 'xs': item 2: item 1: expected int, got NoneType$"):
        api_conv.nested([[1], [], [2, None]])
    with pytest.raises(TypeError, match=r"^nested\(\) argument 'xs': item 0: expected a sequence, got int$"):
        api_conv.nested([1])
    with pytest.raises(TypeError, match=r"^vec_opt\(\) argument 'xs': item 1: expected float, got str$"):
        api_conv.vec_opt([None, "1.0"])
    with pytest.raises(TypeError, match=r"^deque\(\) argument 'xs' must be a sequence, not dict$"):
        api_conv.deque({})

    class BadIndex:
        def __index__(self):
            raise RuntimeError("no index")

    # An error raised by Python code keeps its own type and message.
    with pytest.raises(RuntimeError, match=r"^no index$"):
        api_conv.vec_i64([1, BadIndex()])


def test_vec_u8_is_bytes(api_conv):
    assert api_conv.vec_u8(b"abc") == b"abc"
    assert api_conv.vec_u8(b"") == b""
    assert api_conv.vec_u8([1, 2, 255]) == b"\x01\x02\xff"
    assert api_conv.vec_u8((0,)) == b"\x00"
    with pytest.raises(TypeError, match=r"^vec_u8\(\) argument 'xs' must be a sequence, not str \(a str is not taken as a sequence of characters\)$"):
        api_conv.vec_u8("abc")
    # Any sequence of ints: a bytearray too.
    assert api_conv.vec_u8(bytearray(b"abc")) == b"abc"
    with pytest.raises(OverflowError, match=r"^vec_u8\(\) argument 'xs': item 1: Python int too large to convert to u8$"):
        api_conv.vec_u8([1, 256])
    with pytest.raises(OverflowError, match=r"^vec_u8\(\) argument 'xs': item 0: can't convert negative int to unsigned$"):
        api_conv.vec_u8([-1])


def test_arrays(api_conv):
    assert api_conv.array3([1, 2, 3]) == [3, 2, 1]
    assert api_conv.array3((1, 2, 3)) == [3, 2, 1]
    assert api_conv.array_u8(b"abcd") == b"abcd"
    assert api_conv.array_u8([1, 2, 3, 4]) == b"\x01\x02\x03\x04"
    assert api_conv.array_str(["x", "y"]) == ["x", "y"]
    with pytest.raises(ValueError, match=r"^expected a sequence of length 3, got length 2$"):
        api_conv.array3([1, 2])
    with pytest.raises(ValueError, match=r"^expected a sequence of length 4, got length 3$"):
        api_conv.array_u8(b"abc")
    with pytest.raises(TypeError, match=r"^array3\(\) argument 'xs': item 2: expected int, got float$"):
        api_conv.array3([1, 2, 3.0])
    with pytest.raises(TypeError, match=r"^array_str\(\) argument 'xs': item 0: expected str, got bytes$"):
        api_conv.array_str([b"x", "y"])
    with pytest.raises(TypeError, match=r"^array3\(\) argument 'xs' must be a sequence, not str \(a str is not taken as a sequence of characters\)$"):
        api_conv.array3("abc")


def test_slices(api_conv):
    assert api_conv.slices() == [
        [1, 2, 3],
        ["a", "b"],
        b"xyz",
        [0.5, 1.5],
        [b"\x01\x02", b"\x03\x04"],
        [True, False],
    ]


# --- tuples ------------------------------------------------------------------------------------


def test_tuples(api_conv):
    assert api_conv.swap((1, "a")) == ("a", 1)
    assert api_conv.tuple1((True,)) == (True,)
    t = (-1, -2, -3, -4, 5, 6, 7, 8, 0.5, 1.25, True, "twelve")
    assert api_conv.tuple12(t) == t
    assert api_conv.pairs([("a", 1), ("b", 2)]) == [("a", 1), ("b", 2)]
    assert api_conv.pairs([]) == []


def test_tuple_errors(api_conv):
    with pytest.raises(TypeError, match=r"^swap\(\) argument 't' must be tuple, not list$"):
        api_conv.swap([1, "a"])
    with pytest.raises(ValueError, match=r"^expected a tuple of length 2, got length 3$"):
        api_conv.swap((1, "a", None))
    with pytest.raises(ValueError, match=r"^expected a tuple of length 1, got length 0$"):
        api_conv.tuple1(())
    with pytest.raises(TypeError, match=r"^swap\(\) argument 't': item 1: expected str, got int$"):
        api_conv.swap((1, 2))
    with pytest.raises(TypeError, match=r"^pairs\(\) argument 'xs': item 1: item 0: expected str, got int$"):
        api_conv.pairs([("a", 1), (2, 2)])
    with pytest.raises(OverflowError, match=r"^tuple12\(\) argument 't': item 0: Python int too large to convert to i8$"):
        api_conv.tuple12((128, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, True, ""))


# --- dicts and sets ------------------------------------------------------------------------------


def test_maps(api_conv):
    assert api_conv.hashmap({"a": 1, "b": -2}) == {"a": 2, "b": -4}
    assert api_conv.hashmap({}) == {}
    m, keys = api_conv.btreemap({3: ["c"], 1: [], 2: ["b", "bb"]})
    assert m == {1: [], 2: ["b", "bb"], 3: ["c"]} and keys == [1, 2, 3]
    assert list(m) == [1, 2, 3]  # the dict keeps the BTreeMap's order
    assert api_conv.map_ref() == {"one": 1, "two": 2}

    class MyDict(dict):
        pass

    assert api_conv.hashmap(MyDict(x=1)) == {"x": 2}


def test_map_errors(api_conv):
    with pytest.raises(TypeError, match=r"^hashmap\(\) argument 'm' must be dict, not list$"):
        api_conv.hashmap([("a", 1)])
    with pytest.raises(TypeError, match=r"^hashmap\(\) argument 'm': value for key 'a': expected int, got str$"):
        api_conv.hashmap({"a": "x"})
    with pytest.raises(TypeError, match=r"^hashmap\(\) argument 'm': key 1: expected str, got int$"):
        api_conv.hashmap({1: 2})
    with pytest.raises(TypeError,
                       match=r"^vec_of_maps\(\) argument 'xs': item 1: value for key 'k': expected int, got NoneType$"):
        api_conv.vec_of_maps([{}, {"k": None}])
    with pytest.raises(TypeError, match=r"^btreemap\(\) argument 'm': value for key 2: item 1: expected str, got int$"):
        api_conv.btreemap({2: ["a", 1]})


def test_raw_dict_keys(api_conv):
    # HPyDict_Keys has ID 257: on PyPy 7.3.18+ it sits one slot later than in
    # hpy 0.9.0's context, and hpy-sys reads it from there (hpy-sys/src/layout.rs).
    assert api_conv.raw_dict_keys({"a": 1, "b": 2}) == ["a", "b"]


def test_sets(api_conv):
    assert api_conv.hashset({1, 2}) == {2, 3}
    assert api_conv.hashset(frozenset([5])) == {6}
    assert api_conv.hashset(set()) == set()
    assert api_conv.btreeset_sorted({"b", "c", "a"}) == ["a", "b", "c"]
    out = api_conv.btreeset({"x", "y"})
    assert type(out) is set and out == {"x", "y"}
    assert api_conv.set_ref() == {"h", "e", "l", "o"}


def test_set_errors(api_conv):
    with pytest.raises(TypeError, match=r"^hashset\(\) argument 's' must be an iterable, not int$"):
        api_conv.hashset(1)
    with pytest.raises(TypeError, match=r"^hashset\(\) argument 's' must be an iterable, not str \(a str is not taken as a set of characters\)$"):
        api_conv.hashset("ab")
    with pytest.raises(TypeError, match=r"^hashset\(\) argument 's': element 'a': expected int, got str$"):
        api_conv.hashset({"a"})

def test_set_takes_any_iterable(api_conv):
    # (hashset adds 1 to each element)
    assert api_conv.hashset([1, 2, 2]) == {2, 3}
    assert api_conv.hashset(range(3)) == {1, 2, 3}
    assert api_conv.hashset(x for x in (4, 5)) == {5, 6}
    assert api_conv.hashset({7: "a"}) == {8}
    assert api_conv.btreeset_sorted(frozenset(["b", "a"])) == ["a", "b"]


# --- char, Cow ------------------------------------------------------------------------------------


def test_char(api_conv):
    assert api_conv.next_char("a") == "b"
    assert api_conv.next_char("\u00e9") == "\u00ea"
    assert api_conv.next_char("\U0001f600") == "\U0001f601"
    assert api_conv.chr(0) == "\x00"
    assert api_conv.chr(0x10FFFF) == "\U0010ffff"
    assert api_conv.chr(0xD800) is None  # not a Rust char
    with pytest.raises(TypeError, match=r"^expected a character, but string of length 2 found$"):
        api_conv.next_char("ab")
    with pytest.raises(TypeError, match=r"^expected a character, but string of length 0 found$"):
        api_conv.next_char("")
    with pytest.raises(TypeError, match=r"^next_char\(\) argument 'c' must be str, not int$"):
        api_conv.next_char(97)
    with pytest.raises(UnicodeEncodeError):
        api_conv.next_char("\ud800")


def test_cow(api_conv):
    assert api_conv.cow_str("abc") == (True, "abc")
    assert api_conv.cow_out(True) == "owned"
    assert api_conv.cow_out(False) == "borrowed"
    assert api_conv.cow_bytes(b"abc") == b"cba"
    with pytest.raises(TypeError, match=r"^cow_str\(\) argument 's' must be str, not bytes$"):
        api_conv.cow_str(b"abc")
    with pytest.raises(TypeError, match=r"^cow_bytes\(\) argument 'b' must be bytes, not str$"):
        api_conv.cow_bytes("abc")


# --- 128-bit integers ------------------------------------------------------------------------------


INT128 = [0, 1, -1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**64), 2**100 + 12345,
          -(2**100) - 7, 2**127 - 1, -(2**127)]


def test_i128(api_conv):
    for v in INT128:
        assert api_conv.echo_i128(v) == v
    assert api_conv.int128_constants() == (
        -(2**127), 2**127 - 1, 2**128 - 1, 2**64, -(2**64) - 1, 2**64 + 5,
    )
    assert api_conv.echo_i128(True) == 1

    class Index:
        def __index__(self):
            return -(2**90)

    assert api_conv.echo_i128(Index()) == -(2**90)
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to i128$"):
        api_conv.echo_i128(2**127)
    with pytest.raises(OverflowError, match=r"^Python int too small to convert to i128$"):
        api_conv.echo_i128(-(2**127) - 1)
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to i128$"):
        api_conv.echo_i128(2**1000)
    with pytest.raises(TypeError, match=r"^echo_i128\(\) argument 'x' must be int, not str$"):
        api_conv.echo_i128("1")
    with pytest.raises(TypeError, match=r"^echo_i128\(\) argument 'x' must be int, not float$"):
        api_conv.echo_i128(1.0)


def test_u128(api_conv):
    for v in [0, 1, 2**64 - 1, 2**64, 2**100, 2**128 - 1]:
        assert api_conv.echo_u128(v) == v
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to u128$"):
        api_conv.echo_u128(2**128)
    with pytest.raises(OverflowError, match=r"^can't convert negative int to unsigned$"):
        api_conv.echo_u128(-1)
    with pytest.raises(OverflowError, match=r"^can't convert negative int to unsigned$"):
        api_conv.echo_u128(-(2**100))
    with pytest.raises(TypeError, match=r"^echo_u128\(\) argument 'x' must be int, not NoneType$"):
        api_conv.echo_u128(None)


def test_i64_of_every_magnitude(api_conv):
    # Ints of one 30-bit digit and of several (CPython converts those by
    # other code), both signs, int subclasses (whose __index__ is not called,
    # as CPython does not call it for an int), and objects with __index__.
    class Sub(int):
        def __index__(self):
            raise AssertionError("__index__ of an int subclass is not called")

    class Index:
        def __init__(self, v):
            self.v = v

        def __index__(self):
            return self.v

    for k in range(63):
        for v in (2**k - 1, 2**k, 2**k + 1, -(2**k) - 1, -(2**k), -(2**k) + 1):
            assert api_conv.echo_i64(v) == v
            assert api_conv.echo_i64(Sub(v)) == v
            assert api_conv.echo_i64(Index(v)) == v
    for v in (2**63 - 1, -(2**63)):
        assert api_conv.echo_i64(v) == v
        assert api_conv.echo_i64(Sub(v)) == v
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to i64$"):
        api_conv.echo_i64(Sub(2**63))
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to i64$"):
        api_conv.echo_i64(Index(2**100))


def test_64_bit_overflow_names_the_type(api_conv):
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to i64$"):
        api_conv.echo_i64(2**63)
    with pytest.raises(OverflowError, match=r"^Python int too small to convert to i64$"):
        api_conv.echo_i64(-(2**63) - 1)
    with pytest.raises(OverflowError, match=r"^Python int too large to convert to u64$"):
        api_conv.echo_u64(2**64)
    with pytest.raises(OverflowError, match=r"^can't convert negative int to unsigned$"):
        api_conv.echo_u64(-1)


# --- paths ----------------------------------------------------------------------------------------


def test_paths(api_conv, tmp_path):
    assert api_conv.echo_path("a/b.txt") == "a/b.txt"
    assert api_conv.echo_path(pathlib.PurePosixPath("x/y")) == "x/y"
    assert api_conv.echo_path(tmp_path) == str(tmp_path)
    assert api_conv.path_parts("/usr/lib") == ["/", "usr", "lib"]
    assert api_conv.path_join("a", "b") == os.path.join("a", "b")
    assert api_conv.os_string("héllo") == ("héllo", len("héllo".encode()))

    class Fs:
        def __fspath__(self):
            return "from/fspath"

    assert api_conv.echo_path(Fs()) == "from/fspath"


@pytest.mark.skipif(not UNIX, reason="bytes paths and surrogateescape are Unix-only")
def test_paths_bytes_and_undecodable(api_conv):
    assert api_conv.echo_path(b"raw/bytes") == "raw/bytes"
    # undecodable bytes round-trip as lone surrogates, like os.fsdecode/os.fsencode
    assert api_conv.echo_path(b"bad\xff") == os.fsdecode(b"bad\xff") == "bad\udcff"
    assert api_conv.path_bytes("bad\udcff") == b"bad\xff"
    assert api_conv.path_bytes(b"bad\xff") == b"bad\xff"

    class FsBytes:
        def __fspath__(self):
            return b"b/ytes"

    assert api_conv.echo_path(FsBytes()) == "b/ytes"


def test_path_errors(api_conv):
    expected = "str, bytes or os.PathLike object" if UNIX else "str or os.PathLike object"
    with pytest.raises(TypeError, match=rf"^echo_path\(\) argument 'p' must be {expected}, not int$"):
        api_conv.echo_path(1)
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_conv.echo_path("a\0b")
    if UNIX:
        with pytest.raises(ValueError, match=r"^embedded null byte$"):
            api_conv.echo_path(b"a\0b")

    class Bad:
        def __fspath__(self):
            return 42

    what = "str or bytes" if UNIX else "str"
    with pytest.raises(TypeError, match=rf"^expected Bad.__fspath__\(\) to return {what}, not int$"):
        api_conv.echo_path(Bad())

    class Raises:
        def __fspath__(self):
            raise KeyError("inside")

    with pytest.raises(KeyError):
        api_conv.echo_path(Raises())


# --- debug mode on PyPy: a smoke test ---------------------------------------------------------------


@pytest.mark.skipif(not IS_PYPY, reason="CPython runs every test in debug mode already")
def test_pypy_debug_smoke(loader):
    mod = loader.load("api_conv", "debug")
    with leak_check("debug"):
        assert mod.vec_i64([1, 2]) == [2, 1]
        assert mod.hashmap({"a": 1}) == {"a": 2}
        assert mod.hashset({1}) == {2}
        assert mod.echo_i128(2**100) == 2**100
        with pytest.raises(TypeError):
            mod.vec_i64([1, "x"])
