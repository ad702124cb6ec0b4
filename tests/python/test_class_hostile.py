"""Hostile use of classes: re-entrant callbacks into the same object,
subclasses that override dunders, objects resurrected in `__del__`.

Whatever Python does, no two live `&mut` (or a `&mut` and a `&`) reach one
struct, nothing crashes and nothing leaks (debug mode's LeakDetector runs
around every test).
"""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

IS_PYPY = sys.implementation.name == "pypy"


def _collect():
    for _ in range(3):
        gc.collect()


# ---------------------------------------------------------------------------
# Re-entrancy from __eq__


class EqCallsBack:
    """Its `__eq__` runs `action` (while the caller holds the bag)."""

    def __init__(self, action, result=False):
        self.action, self.result, self.calls = action, result, 0

    def __eq__(self, other):
        self.calls += 1
        self.action()
        return self.result

    __hash__ = None


def test_mutating_from_eq_while_borrowed_raises(classes):
    bag = classes.Bag(1, 2, 3)
    evil = EqCallsBack(lambda: bag.push(9))
    with pytest.raises(RuntimeError, match="Already borrowed"):
        bag.count(evil)  # count holds &self; push needs &mut self
    assert bag.items() == [1, 2, 3] and bag.version == 0


def test_reading_from_eq_while_borrowed_is_fine(classes):
    bag = classes.Bag(1, 2, 3)
    lengths = []
    evil = EqCallsBack(lambda: lengths.append((len(bag), bag.items())), result=True)
    assert bag.count(evil) == 3  # shared borrows nest
    assert lengths == [(3, [1, 2, 3])] * 3


def test_reading_from_eq_while_borrowed_mutably_raises(classes):
    bag = classes.Bag(1, 2, 3)
    evil = EqCallsBack(lambda: len(bag))
    with pytest.raises(RuntimeError, match="Already mutably borrowed"):
        bag.remove(evil)  # remove holds &mut self
    assert bag.items() == [1, 2, 3]


def test_eq_that_raises_or_releases(classes):
    bag = classes.Bag(1, 2, 3)

    def boom():
        raise KeyError("from __eq__")

    with pytest.raises(KeyError, match="from __eq__"):
        bag.remove(EqCallsBack(boom))
    # The borrow was given back on the way out.
    bag.push(4)
    assert bag.remove(4) and bag.items() == [1, 2, 3]


def test_eq_that_mutates_another_bag(classes):
    a, b = classes.Bag(1, 2), classes.Bag()
    evil = EqCallsBack(lambda: b.push(7), result=True)
    assert a.remove(evil)  # a is borrowed, b is free
    assert a.items() == [2] and b.items() == [7]


def test_merge_with_itself_is_refused(classes):
    bag = classes.Bag(1, 2)
    with pytest.raises(RuntimeError, match="Already mutably borrowed"):
        bag.merge(bag)  # &mut self and &Bag to one struct
    assert bag.items() == [1, 2]
    other = classes.Bag(3)
    bag.merge(other)
    assert bag.items() == [1, 2, 3]


def test_deep_reentrancy(classes):
    bag = classes.Bag(*range(5))
    depth = []

    def recurse():
        depth.append(1)
        if len(depth) < 50:
            bag.count(EqCallsBack(recurse))

    bag.count(EqCallsBack(recurse))
    assert len(depth) >= 50  # 50 nested shared borrows, and more calls
    bag.push(5)  # every borrow was given back
    assert len(bag) == 6


# ---------------------------------------------------------------------------
# Python subclasses that override dunders


def test_subclass_overrides_dunders(classes):
    V = classes.Vec2

    class Loud(V):
        def __add__(self, other):
            return ("loud", super().__add__(other))

        def __radd__(self, other):
            return "radd"

        def __repr__(self):
            return "Loud!"

        def __eq__(self, other):
            return True

        def __hash__(self):
            return 42

        def __neg__(self):
            return "negated"

    a, b = Loud(1, 2), V(3, 4)
    assert a + b == ("loud", V(4, 6))
    # A subclass's reflected operator goes first (Python's rule).
    assert b + a == "radd"
    assert repr(a) == "Loud!" and -a == "negated"
    assert a == "anything" and hash(a) == 42
    assert {a: 1}[Loud(9, 9)] == 1
    # The base's own slots still work on it.
    assert V.__add__(a, b) == V(4, 6) and abs(a) == abs(V(1, 2))


def test_subclass_dunders_that_lie_or_raise(classes):
    V = classes.Vec2

    class Liar(V):
        def __eq__(self, other):
            raise ValueError("no comparing")

        def __bool__(self):
            return "yes"  # not a bool

        def __hash__(self):
            return "h"  # not an int

    x = Liar(1, 1)
    with pytest.raises(ValueError, match="no comparing"):
        x == V(1, 1)
    with pytest.raises(TypeError):
        bool(x)
    with pytest.raises(TypeError):
        hash(x)
    assert x + V(1, 1) == V(2, 2)


# ---------------------------------------------------------------------------
# Resurrection in __del__


def _token(classes):
    return classes.make_token(7), "id", 7


def _counter(classes):
    counter = classes.Counter()
    counter.increment()
    return counter, "count", 1


@pytest.mark.skipif(IS_PYPY, reason="PyPy does not call a __del__ added to an existing class (it warns)")
@pytest.mark.parametrize("make", [_token, _counter], ids=["plain", "with Drop"])
def test_del_assigned_to_the_class_later_runs(classes, make):
    # Assigning __del__ to a (heap) class sets its tp_finalize: the instances
    # of a class with no fields (the lean tp_deallocs, with or without a
    # Drop to run) must look at the type as it is now. (An abi3 build kept
    # the slot from the class's creation, and never called it.)
    calls = []
    obj, attr, value = make(classes)
    cls = type(obj)
    dropped = classes.counters_dropped()
    cls.__del__ = lambda self: calls.append(getattr(self, attr))
    try:
        del obj
        _collect()
        assert calls == [value]
    finally:
        del cls.__del__
    make(classes)
    _collect()
    assert calls == [value]
    # The struct was dropped, once each (a Counter counts its drops).
    expected = 2 if make is _counter else 0
    assert classes.counters_dropped() == dropped + expected


@pytest.mark.skipif(IS_PYPY, reason="PyPy 7.3 aborts on __del__ of a Python subclass of an HPy type: refused")
def test_resurrected_in_del(classes):
    saved = []

    class Phoenix(classes.Counter):
        def __del__(self):
            saved.append(self)  # resurrects

    before = classes.counters_dropped()
    p = Phoenix()
    p.increment()
    del p
    _collect()
    assert len(saved) == 1
    # The struct survived the resurrection: it is dropped only when the
    # object finally dies (and __del__ is not called again).
    assert classes.counters_dropped() == before
    assert saved[0].increment() == 2 and saved[0].history() == [1, 2]
    saved.clear()
    _collect()
    assert classes.counters_dropped() == before + 1


@pytest.mark.skipif(IS_PYPY, reason="PyPy 7.3 aborts on __del__ of a Python subclass of an HPy type: refused")
def test_resurrected_from_a_cycle_keeps_its_fields(classes):
    saved = []

    class Holder:
        pass

    class Keeper(classes.Node):
        def __del__(self):
            saved.append(self)

    k = Keeper()
    h = Holder()
    h.keeper = k
    k.value = h  # a cycle through a Field
    r = weakref.ref(k)
    del k, h
    _collect()
    assert len(saved) == 1 and r() is None  # (the collector cleared the weakref first)
    assert saved[0].value.keeper is saved[0]  # the Field still holds its object
    saved[0].value = None  # break the cycle
    saved.clear()
    _collect()


@pytest.mark.skipif(IS_PYPY, reason="Python subclasses of builtin-based classes are refused on PyPy 7.3")
def test_resurrected_builtin_based_instance(classes):
    saved = []

    class Keep(classes.Quantity):
        def __del__(self):
            saved.append(self)  # no super().__del__(): the struct stays

    before = classes.base_drops()[0]
    k = Keep(1.0, "kg")
    del k
    _collect()
    assert saved[0].describe() == "1 kg"
    saved[0].__del__  # still there, callable by hand
    classes.Quantity.__del__(saved[0])  # drops the struct ...
    with pytest.raises(TypeError, match="holds no value"):
        saved[0].describe()  # ... after which it says so, no crash
    assert classes.base_drops()[0] == before + 1
    saved.clear()
    _collect()
    assert classes.base_drops()[0] == before + 1  # dropped once
