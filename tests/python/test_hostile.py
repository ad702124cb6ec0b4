"""Hostile objects against every conversion and every function.

Subclasses of `bytes`, `bytearray`, `str`, `int`, `float`, `list`, `tuple`,
`dict` and `set` whose `__len__`, `__index__`, `__int__`, `__float__`,
`__hash__`, `__eq__`, `__iter__`, `__getitem__` or `__fspath__` lie, raise
or mutate (see `hostile.py`), given to the SDK's conversions (with the value
each must give) and to every function of every test module and example.

What must hold, on CPython (universal, debug with LeakDetector, trace) and
PyPy: the right value or a clean exception (CPython's for the same mistake,
or the one the hostile method raised), never a crash, an abort, a read past
a buffer, a wrong result, or a leak (handles: LeakDetector in debug mode;
objects: weak references).
"""

from __future__ import annotations

import gc
import inspect
import os
import sys
import warnings
import weakref

import pytest

import hostile as H

IS_PYPY = sys.implementation.name == "pypy"
MODULE_NAMES = ["smoke", "pof", "features", "api_object", "api_builtins", "api_errors", "api_conv",
                "multifile", "classes", "hpyjson"]


def collect():
    for _ in range(3):
        gc.collect()


# ---------------------------------------------------------------------------
# bytes views: the real contents, whatever __len__ says (PyPy's
# HPyBytes_GET_SIZE calls it)

HOSTILE_BYTES = [H.BytesLongLen, H.BytesHugeLen, H.BytesRaisingLen, H.BytesShortLen,
                 H.BytesRaisingEverything]


@pytest.mark.parametrize("cls", HOSTILE_BYTES, ids=lambda c: c.__name__)
def test_bytes_views_use_the_real_length(features, api_builtins, api_conv, hpyjson, cls):
    b = cls(b"a\0c")
    assert features.byte_sum(b) == 97 + 0 + 99
    assert features.reversed_bytes(b) == b"c\0a"
    assert api_builtins.as_bytes(b) == b"a\0c"
    assert api_builtins.bytes_len(b) == 3
    with pytest.raises(ValueError, match="embedded null byte"):
        api_builtins.bytes_as_c_str(b)
    assert api_builtins.bytes_as_c_str(cls(b"xyz")) == b"xyz"
    assert api_conv.vec_u8(b) == b"a\0c"
    assert api_conv.cow_bytes(b) == b"c\0a"
    assert api_conv.array_u8(cls(b"abcd")) == b"abcd"
    assert hpyjson.loads(cls(b'[1, "x"]')) == [1, "x"]
    assert hpyjson.dumps(cls(b"ab"), reject_bytes=False) == '"ab"'
    assert api_conv.path_bytes(cls(b"/tmp/x")) == b"/tmp/x"


def test_bytes_view_of_a_long_subclass_instance(features):
    # A length far beyond the real one: on PyPy this read 100000 bytes of heap.
    assert features.byte_sum(H.BytesLongLen(b"\x01" * 10)) == 10


# ---------------------------------------------------------------------------
# sizes from Python never size memory unchecked; impossible sizes raise
# MemoryError, never abort


@pytest.mark.parametrize("cls", [H.ListLongLen, H.ListShortLen, H.ListHugeLen, H.ListRaisingLen,
                                 H.TupleLongLen, H.TupleRaisingLen], ids=lambda c: c.__name__)
def test_lying_len_sequences(api_conv, cls):
    # The items, whatever __len__ says: a subclass is copied through
    # list(itertools.chain(x)), which asks no length (list(x) would pre-size
    # from the lie: MemoryError on CPython, a segfault on PyPy).
    items = cls((1, 2, 3))
    assert api_conv.vec_i64(items) == [3, 2, 1]
    assert api_conv.deque(items) == [2, 3, 1]
    assert api_conv.hashset(items) == {2, 3, 4}


def test_raising_iter(api_conv):
    with pytest.raises(H.Hostile):
        api_conv.vec_i64(H.ListRaisingIter([1]))
    with pytest.raises(H.Hostile):
        api_conv.vec_i64(H.SequenceRaising())
    # an overridden __iter__ is honoured, as PyO3's iteration honours it
    with pytest.raises(TypeError, match=r"item 0: expected int, got str"):
        api_conv.vec_i64(H.ListLyingIter([1, 2]))
    assert api_conv.vec_str(H.ListLyingIter([1, 2])) == ["NOT", "THE", "ITEMS"]
    assert api_conv.vec_i64(H.Sequence2()) == [2, 1]


def test_lying_len_sequence_protocol(api_conv):
    # __len__ says 10**12, __getitem__ gives two items: the two items.
    for _ in range(500):  # PyPy's own list(x) segfaults within a few hundred
        assert api_conv.vec_i64(H.SequenceLyingLen()) == [2, 1]
        assert api_conv.hashset(H.BytearrayLyingLen(b"ab")) == {98, 99}


def test_bytes_of_a_lying_sequence(api_object):
    assert api_object.bytes_(H.Sequence2()) == b"\x01\x02"
    # On PyPy Handle::bytes reads iterables itself, with no length hint; on
    # CPython it is PyObject_Bytes, which pre-sizes from the lie, as bytes(x)
    # does there: MemoryError.
    for _ in range(300):
        try:
            assert api_object.bytes_(H.SequenceLyingLen()) == b"\x01\x02"
        except MemoryError:
            assert not IS_PYPY


def test_tuple_types_read_the_real_items(api_conv):
    assert api_conv.swap(H.TupleLongLen((5, "five"))) == ("five", 5)
    assert api_conv.swap(H.TupleRaisingLen((5, "x"))) == ("x", 5)
    assert api_conv.swap(H.TupleRaisingEverything((5, "y"))) == ("y", 5)
    with pytest.raises(ValueError, match="expected a tuple of length 2, got length 3"):
        api_conv.swap(H.TupleLongLen((1, "a", 3)))


def test_maps_read_the_real_items(api_conv):
    assert api_conv.hashmap(H.DictLyingKeys(a=1, b=2)) == {"a": 2, "b": 4}
    assert api_conv.hashmap(H.DictRaisingGetitem(a=1)) == {"a": 2}
    # Overriding __iter__ too makes CPython's own dict copy go through keys()
    # (as dict(d) does): what that raises comes through.
    try:
        assert api_conv.hashmap(H.DictRaisingEverything(a=3)) == {"a": 6}
    except H.Hostile:
        pass
    assert api_conv.hashmap(H.DictMissing(a=4)) == {"a": 8}


def test_sets_of_hostile_iterables(api_conv):
    with pytest.raises(H.Hostile):
        api_conv.hashset(H.SetRaisingIter({1}))
    with pytest.raises(H.Hostile):
        api_conv.hashset(H.FrozensetRaisingEverything({1}))
    assert api_conv.hashset(H.SetLyingLen({1, 2})) == {2, 3}


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m["api_builtins"].new_tuple_n(1, 2**32 - 1),
        lambda m: m["api_builtins"].new_tuple_n(1, 2**61),
        lambda m: m["api_builtins"].build("list", 2**61),
        lambda m: m["api_builtins"].build("tuple", 2**61),
        lambda m: m["api_builtins"].builder_of_len("list", 2**62),
        lambda m: m["api_builtins"].tracker_of_capacity(2**61),
        lambda m: m["api_conv"].range_list(2**61),
        lambda m: m["features"].long_str(2**62),
        lambda m: m["api_object"].call_n(len, 2**61),
    ],
    ids=["new_tuple_n 2**32-1", "new_tuple_n 2**61", "list builder", "tuple builder",
         "builder_of_len", "tracker", "range_list", "long_str", "call_n"],
)
def test_impossible_sizes_raise_memory_error(features, api_builtins, api_conv, api_object, call):
    mods = {"features": features, "api_builtins": api_builtins, "api_conv": api_conv,
            "api_object": api_object}
    with pytest.raises((MemoryError, OverflowError)):
        call(mods)
    assert api_builtins.new_tuple_n(1, 3) == (1, 1, 1)  # the module still works


# ---------------------------------------------------------------------------
# numbers


@pytest.mark.parametrize("name", ["echo_i8", "echo_i16", "echo_i32", "echo_i64", "echo_u8", "echo_u16",
                                  "echo_u32", "echo_u64", "echo_isize", "echo_usize"])
def test_hostile_ints(features, name):
    f = getattr(features, name)
    assert f(H.Indexable()) == 3
    assert f(H.IntRaisingEverything(5)) == 5  # an int subclass is read as an int
    with pytest.raises(H.Hostile):
        f(H.IndexRaises())
    assert f(H.IntHugeIndex(5)) == 5  # an int subclass's value, not its __index__
    with pytest.raises(OverflowError):
        f(H.HugeIndexable())
    with pytest.raises(TypeError):
        f("5")


def test_hostile_floats(features, api_conv):
    assert features.echo_f64(H.FloatLike()) == 2.5
    assert features.echo_f64(H.FloatRaisingEverything(2.0)) == 2.0
    with pytest.raises(H.Hostile):
        features.echo_f64(H.FloatLikeRaises())
    assert features.echo_f64(H.IntLyingFloat(5)) in (5.0, 1.5)  # CPython reads the int, PyPy may ask __float__
    assert api_conv.echo_i128(H.Indexable()) == 3
    with pytest.raises(H.Hostile):
        api_conv.echo_u128(H.IndexRaises())


def test_hostile_paths(api_conv):
    with pytest.raises(H.Hostile):
        api_conv.echo_path(H.FspathRaises())
    with pytest.raises(TypeError):
        api_conv.echo_path(H.FspathReturnsInt())
    with pytest.raises(ValueError, match="embedded null"):
        api_conv.echo_path(H.FspathWithNul())
    assert api_conv.echo_path(H.StrFspathLies("p")) == "p"  # a str is a path as it is


# ---------------------------------------------------------------------------
# containers changed by the conversion that reads them


def test_list_emptied_while_its_items_convert(api_conv):
    victim = [1, 2, 3, 4]

    class Clearing:
        def __index__(self):
            victim.clear()
            return 9

    victim[1] = Clearing()
    # The walk ends where the list does, as a list iterator would (vec_i64
    # returns the items reversed).
    assert api_conv.vec_i64(victim) == [9, 1]


def test_list_grown_while_its_items_convert(api_conv):
    victim = [1, 2]

    class Growing:
        def __index__(self):
            victim.extend(range(100))
            return 7

    victim[0] = Growing()
    assert api_conv.vec_i64(victim) == [2, 7]  # the length read first


def test_dict_changed_while_its_values_convert(api_conv):
    d = {"a": 1, "b": 2, "c": 3}

    class Deleting:
        def __index__(self):
            d.pop("c", None)
            return 5

    d["a"] = Deleting()
    try:
        out = api_conv.hashmap(d)
    except KeyError:
        pass  # the key went away: a clean exception
    else:
        assert out["a"] == 10


def test_dumps_default_changes_the_list(hpyjson):
    items = [object(), 1, 2]

    def default(o):
        items.clear()
        return "x"

    with pytest.raises(RuntimeError, match="list changed size during iteration"):
        hpyjson.dumps(items, default=default)


# ---------------------------------------------------------------------------
# sequences made from Rust values free their items (PyPy's list builders
# leaked every item of every returned Vec)


class Item:
    pass


SEQUENCE_RETURNING = {
    "Vec<Handle>": lambda m, a, b: m["api_conv"].vec_handles([a, b]),
    "Vec<Handle> from tuple": lambda m, a, b: m["api_conv"].vec_handles((a, b)),
    "Vec<Handle> from list subclass": lambda m, a, b: m["api_conv"].vec_handles(H.ListLongLen([a, b])),
    "VecDeque<Handle>": lambda m, a, b: m["api_conv"].deque_handles([a, b]),
    "[Handle; 2]": lambda m, a, b: m["api_conv"].array_handles([a, b]),
    "&[Handle]": lambda m, a, b: m["api_conv"].slice_handles([a, b]),
    "(Handle, Handle)": lambda m, a, b: m["api_conv"].pair_handles((a, b)),
    "Vec<Vec<Handle>>": lambda m, a, b: m["api_conv"].nested_handles([[a], [b]]),
    "Vec<Option<Handle>>": lambda m, a, b: m["api_conv"].optional_handles([a, None, b]),
    "BTreeMap<String, Handle>": lambda m, a, b: m["api_conv"].map_handles({"a": a, "b": b}),
    "new_list_from": lambda m, a, b: m["api_builtins"].list_from([a, b]),
    "new_tuple": lambda m, a, b: m["api_builtins"].new_tuple3(a, b, a),
    "new_tuple (heap)": lambda m, a, b: m["api_builtins"].new_tuple_n(a, 40),
    "ListBuilder": lambda m, a, b: m["api_builtins"].builder_sets("list", 3, b"\x00\x02", a, True),
    "TupleBuilder": lambda m, a, b: m["api_builtins"].builder_sets("tuple", 3, b"\x01", b, True),
    "ListBuilder cancelled": lambda m, a, b: m["api_builtins"].builder_sets("list", 3, b"\x00", a, False),
    "TupleBuilder cancelled": lambda m, a, b: m["api_builtins"].builder_sets("tuple", 3, b"\x00", a, False),
}


def _calls_returning_sequences(make, mods):
    """Calls `make` three times on two fresh items; returns weak references to them.

    The items live only in this frame, which is gone when the caller collects:
    PyPy may keep a dead local of a still-running frame alive through its
    stack roots, which made the check flaky when the test's own frame held them."""
    a, b = Item(), Item()
    refs = [weakref.ref(a), weakref.ref(b)]
    for _ in range(3):
        make(mods, a, b)
    return refs


@pytest.mark.parametrize("name", list(SEQUENCE_RETURNING))
def test_returned_sequences_free_their_items(api_conv, api_builtins, name):
    mods = {"api_conv": api_conv, "api_builtins": api_builtins}
    refs = _calls_returning_sequences(SEQUENCE_RETURNING[name], mods)
    collect()
    assert [r() for r in refs] == [None, None], f"{name} kept its items alive"


# ---------------------------------------------------------------------------
# deep recursion inside the runtime: RecursionError, then the module works on
# (PyPy's HPy_Repr/RichCompare/Contains used to abort the next context call)


def test_deep_structures_raise_recursion_error(api_object):
    deep_a, deep_b = H.deep_list(20000), H.deep_list(20000)
    # As Python itself: RecursionError where it raises one (CPython 3.14
    # measures the C stack instead of counting, and gets through this depth).
    try:
        text = repr(deep_a)
    except RecursionError:
        text = None
    # the Debug form falls back to the type when repr fails
    assert api_object.debug_fmt(deep_a) == ("Handle(<list object>)" if text is None else f"Handle({text})")
    for call, reference in ((lambda: api_object.repr(deep_a), lambda: repr(deep_a)),
                            (lambda: api_object.ascii(deep_a), lambda: ascii(deep_a)),
                            (lambda: api_object.rich_compare(deep_a, deep_b, "=="), lambda: deep_a == deep_b),
                            (lambda: api_object.compare(deep_a, deep_b, "=="), lambda: deep_a == deep_b),
                            (lambda: api_object.contains([deep_a], deep_b), lambda: deep_b in [deep_a])):
        try:
            expected = reference()
        except RecursionError:
            with pytest.raises(RecursionError):
                call()
        else:
            assert call() == expected
        assert api_object.repr([1]) == "[1]"
        assert api_object.debug_fmt([2]) == "Handle([2])"


# ---------------------------------------------------------------------------
# keyword names, panics


def test_lone_surrogate_keyword_is_a_type_error(pof, features):
    with pytest.raises(TypeError, match=r"^add_ints_kw\(\) got an unexpected keyword argument"):
        pof.add_ints_kw(1, 2, **{"\ud800": 3})
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument"):
        features.kwargs(1, **{"x\udcff": 1})


@pytest.mark.parametrize("backtrace", ["0", "1"])
def test_panics_print_only_when_asked(features, capfd, monkeypatch, backtrace):
    monkeypatch.setenv("RUST_BACKTRACE", backtrace)
    capfd.readouterr()
    with pytest.raises(SystemError, match=r"^panic_with\(\) panicked: boom$"):
        features.panic_with("boom")
    err = capfd.readouterr().err
    if backtrace == "0":
        assert err == ""  # the message is in the exception
    else:
        assert "boom" in err


# ---------------------------------------------------------------------------
# every function of every module, with every hostile value in every position


def _good(param):
    return H.good(param)


def _calls(module_name, f):
    """(args, kwargs) for every parameter x pool value, the others good."""
    params = H.parameters(f)
    if params is None:  # a function that says nothing: any count of any values
        params = []
        for _, value in H.pool():
            yield [value], {}
            yield [value, value], {}
    # every argument good, then one too many
    yield [_good(p) for p in params if p.kind != inspect.Parameter.KEYWORD_ONLY], \
        {p.name: _good(p) for p in params if p.kind == inspect.Parameter.KEYWORD_ONLY}
    yield [_good(p) for p in params] + [1], {}
    for index, param in enumerate(params):
        values = [v for _, v in H.pool()]
        if param.name in H.COUNT_PARAMS:
            values = list(H.COUNTS)
        for value in values:
            args, kwargs = [], {}
            for j, p in enumerate(params):
                v = value if j == index else _good(p)
                if p.kind == inspect.Parameter.KEYWORD_ONLY:
                    kwargs[p.name] = v
                else:
                    args.append(v)
            yield args, kwargs


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("module_name", MODULE_NAMES)
def test_every_function_survives_hostile_arguments(loader, mode, module_name):
    from conftest import leak_check

    module = loader.load(module_name, mode)
    failures = []
    calls = 0
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda *_: None
    try:
        with leak_check(mode), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in sorted(dir(module)):
                f = getattr(module, name)
                if name.startswith("_") or not callable(f) or isinstance(f, type):
                    continue
                if (module_name, name) in H.NEVER_CALL:
                    continue
                for args, kwargs in _calls(module_name, f):
                    calls += 1
                    try:
                        f(*args, **kwargs)
                    except BaseException as e:  # noqa: BLE001 - every kind is checked below
                        if isinstance(e, KeyboardInterrupt):
                            raise
                        if H.unexpected(module_name, name, e):
                            failures.append(f"{name}{tuple(map(_label, args))}: {type(e).__name__}: {e}")
    finally:
        sys.unraisablehook = old_hook
    collect()
    assert calls > 0
    assert not failures, f"{len(failures)} of {calls} calls:\n" + "\n".join(failures[:30])


_LABELS = {}


def _label(v):
    try:
        return type(v).__name__
    except BaseException:  # noqa: BLE001
        return "?"
