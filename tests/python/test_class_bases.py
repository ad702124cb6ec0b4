"""Classes that extend builtin types and other classes (`tests/classes/src/bases.rs`).

Runs on CPython in universal, debug (LeakDetector around every test) and
trace mode, and on PyPy in universal mode, from one `classes.hpy0.so`.
"""

from __future__ import annotations

import gc
import sys
import weakref

import pytest
from conftest import RUNTIME

IS_PYPY = sys.implementation.name == "pypy"


def _collect():
    for _ in range(3):
        gc.collect()


def _drops(classes):
    _collect()
    names = ["quantity", "tag", "history", "parse_error", "shape", "rect", "square"]
    return dict(zip(names, classes.base_drops()))


# ---------------------------------------------------------------------------
# Builtin bases


def test_float_base(classes):
    q = classes.Quantity(2.5, "kg")
    assert type(q).__mro__ == (classes.Quantity, float, object)
    assert isinstance(q, float)
    assert q == 2.5 and q + 1 == 3.5 and float(q) == 2.5
    assert q.unit == "kg"
    assert q.describe() == "2.5 kg"
    q.set_unit("g")
    assert q.describe() == "2.5 g"
    q.unit = "lb"
    assert q.unit == "lb"
    assert classes.Quantity(1).unit == "m"  # the signature's default
    assert classes.Quantity(value=4.0, unit="s").describe() == "4 s"
    assert classes.metres(3.0).describe() == "3 m"  # made in Rust


def test_float_base_wrong_calls(classes):
    with pytest.raises(TypeError, match=r"argument 'value' must be float, not str"):
        classes.Quantity("x")
    with pytest.raises(TypeError, match=r"missing required argument 'value'|missing 1 required"):
        classes.Quantity()
    with pytest.raises(TypeError, match="not a type object"):
        classes.Quantity.__new__(int, 1.0)
    # A bare float is no Quantity
    with pytest.raises(TypeError):
        classes.Quantity.describe(1.0)


def test_float_base_without_new_holds_no_value(classes):
    # float.__new__ accepts the class (as for a Python subclass of float), but
    # skips its __new__: the instance has no struct, and says so.
    q = float.__new__(classes.Quantity, 1.5)
    assert q == 1.5
    with pytest.raises(TypeError, match="holds no value"):
        q.describe()
    with pytest.raises(TypeError, match="holds no value"):
        q.unit


def test_str_base(classes):
    t = classes.Tag("hello")
    assert isinstance(t, str) and t == "HELLO"
    assert t.lower() == "hello" and len(t) == 5
    assert (t.use_(), t.use_(), t.uses) == (1, 2, 2)
    assert t.note() == 'made from "hello"'
    assert {t: 1}["HELLO"] == 1


def test_list_base(classes):
    h = classes.History([1, 2, 3], name="h")
    # list.__init__ gets the constructor's arguments, as for a Python subclass
    assert h == [1, 2, 3] and isinstance(h, list)
    assert h.describe() == "h of 3"
    h.append(4)
    h.extend(range(10))
    assert h.describe() == "h of 14"
    assert h.name == "h"
    with pytest.raises(TypeError):
        classes.History(5)  # list.__init__(5): 'int' object is not iterable


def test_exception_base(classes):
    with pytest.raises(ValueError) as info:
        raise classes.ParseError("oops", 7)
    e = info.value
    assert isinstance(e, classes.ParseError) and isinstance(e, Exception)
    assert e.args == ("oops", 7)  # BaseException.__init__ saw the call's arguments
    assert str(e) == "('oops', 7)"
    assert e.line == 7
    assert e.source() == "oops at 7"
    assert e.__traceback__ is not None
    # Raised from Rust
    with pytest.raises(classes.ParseError) as info:
        classes.parse("ab!c")
    assert (info.value.line, info.value.source(), info.value.args) == (3, "ab!c", ("bang",))
    assert classes.parse("abc") == 3


def test_exception_with_context_and_cause(classes):
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise classes.ParseError("outer", 1) from inner
    except classes.ParseError as e:
        assert isinstance(e.__cause__, KeyError)
        assert e.line == 1


def test_int_base_is_a_frozen_unit(classes):
    f = classes.Flags(5)  # int's own constructor
    assert f == 5 and isinstance(f, int) and type(f) is classes.Flags
    assert f.has(0) and not f.has(1) and f.has(2) and not f.has(200)
    assert f.count == 2
    assert repr(f) == "Flags(0b101)"
    assert classes.Flags("101", 2) == 5
    assert f + 1 == 6 and type(f + 1) is int
    big = classes.Flags(2**100 + 1)
    assert big.count == 2 and big == 2**100 + 1  # no payload: big ints stay whole
    assert classes.Flags(2**300) == 2**300
    with pytest.raises(AttributeError):
        f.count = 3


def test_tuple_base_with_new(classes):
    p = classes.Pair(1.5, 2.0)
    assert p == (1.5, 2.0) and type(p) is classes.Pair and len(p) == 2
    assert p.total() == 3.5
    assert p[0] == 1.5
    with pytest.raises(TypeError):
        classes.Pair(1.0)


def test_builtin_base_structs_are_dropped(classes):
    before = _drops(classes)
    q = classes.Quantity(1.0)
    t = classes.Tag("x")
    h = classes.History([1])
    try:
        raise classes.ParseError("x", 1)
    except ValueError:
        pass
    del q, t, h
    after = _drops(classes)
    for name in ("quantity", "tag", "history", "parse_error"):
        assert after[name] - before[name] == 1, name


@pytest.mark.skipif(IS_PYPY, reason="PyPy 7.3 makes Python subclasses of such classes without HPy storage: refused")
def test_python_subclass_of_a_builtin_based_class(classes):
    class Celsius(classes.Quantity):
        def __new__(cls, value):
            return super().__new__(cls, value, "C")

        def warmer(self, k):
            return type(self)(self + k)

    c = Celsius(20.0)
    assert c.describe() == "20 C"
    assert c.warmer(5).describe() == "25 C"
    c.extra = 1  # a Python subclass has a __dict__
    assert c.extra == 1
    before = _drops(classes)["quantity"]
    del c
    assert _drops(classes)["quantity"] - before == 1


@pytest.mark.skipif(IS_PYPY, reason="PyPy 7.3 makes Python subclasses of such classes without HPy storage: refused")
def test_python_subclass_with_del_drops_through_super(classes):
    seen = []

    class Logged(classes.Quantity):
        def __del__(self):
            seen.append(self.describe())
            super().__del__()  # drops the struct

    before = _drops(classes)["quantity"]
    x = Logged(2.0, "s")
    del x
    assert seen == ["2 s"]
    assert _drops(classes)["quantity"] - before == 1


@pytest.mark.skipif(not IS_PYPY, reason="PyPy only")
def test_python_subclass_of_a_builtin_based_class_is_refused_on_pypy(classes):
    with pytest.raises(TypeError, match="cannot be subclassed in Python on PyPy"):
        class Celsius(classes.Quantity):
            pass


# ---------------------------------------------------------------------------
# Classes that extend classes


def test_rust_subclass(classes):
    r = classes.Rect(2.0, 3.0)
    assert type(r).__mro__ == (classes.Rect, classes.Shape, object)
    assert isinstance(r, classes.Shape)
    assert r.area() == 6.0  # Rect's own
    assert r.describe() == "rect of area 6"  # Shape's, calling Rect's area
    assert r.name == "rect" and (r.w, r.h) == (2.0, 3.0)
    r.rename("R")  # Shape's &mut self on a Rect
    assert r.name == "R"
    r.w = 5.0
    assert r.area() == 15.0
    assert classes.Shape.area(r) == 0.0  # the base's method, explicitly


def test_two_levels_down(classes):
    s = classes.Square(3.0)
    assert type(s).__mro__ == (classes.Square, classes.Rect, classes.Shape, object)
    assert (s.area(), s.side, s.w, s.h, s.name) == (9.0, 3.0, 3.0, 3.0, "square")
    assert s.describe() == "square of area 9"
    u = classes.unit_square()
    assert type(u) is classes.Square and u.describe() == "unit of area 1"


def test_each_level_has_its_own_borrow_flag(classes):
    r = classes.Rect(1.0, 2.0)
    # While Rect's struct is borrowed mutably, Shape's is free ...
    assert r.scale_calling(2.0, lambda: r.name) == "rect"
    assert r.area() == 8.0
    # ... and Rect's is not.
    with pytest.raises(RuntimeError, match="Already mutably borrowed"):
        r.scale_calling(1.0, lambda: r.area())
    with pytest.raises(RuntimeError, match="Already mutably borrowed"):
        r.scale_calling(1.0, lambda: r.w)


def test_base_methods_check_the_type(classes):
    with pytest.raises(TypeError):
        classes.Rect.area(classes.Shape())
    with pytest.raises(TypeError):
        classes.Shape.describe(1)


def test_subclass_instances_as_base_arguments(classes):
    # A function that takes `&Shape` takes a Rect (checked by the type).
    r = classes.Rect(1.0, 1.0)
    assert classes.Shape.describe(r) == "rect of area 1"


def test_every_level_is_dropped(classes):
    before = _drops(classes)
    s = classes.Square(2.0)
    r = classes.Rect(1.0, 1.0)
    del s, r
    after = _drops(classes)
    assert after["square"] - before["square"] == 1
    assert after["rect"] - before["rect"] == 2
    assert after["shape"] - before["shape"] == 2


@pytest.mark.parametrize("where", ["base field", "own field"])
def test_cycles_through_any_level_are_collected(classes, where):
    before = _drops(classes)
    s = classes.Square(1.0)
    if where == "base field":
        s.link(s)
    else:
        s.note(s)
    del s
    after = _drops(classes)
    assert after["square"] - before["square"] == 1
    assert after["shape"] - before["shape"] == 1


def test_fields_of_the_base_keep_objects(classes):
    class Obj:
        pass

    r = classes.Rect(1.0, 1.0)
    o = Obj()
    ref = weakref.ref(o)
    r.link(o)
    del o
    _collect()
    assert r.linked() is ref()
    assert ref() is not None
    r.link(None)
    _collect()
    assert ref() is None


@pytest.mark.skipif(IS_PYPY, reason="Shape needs dropping: Python subclasses are refused on PyPy 7.3")
def test_python_subclass_of_a_rust_subclass(classes):
    class Big(classes.Rect):
        def area(self):
            return 2 * super().area()

    b = Big(1.0, 2.0)
    assert b.describe() == "rect of area 4"
    assert classes.Rect.area(b) == 2.0
    before = _drops(classes)
    del b
    after = _drops(classes)
    assert (after["rect"] - before["rect"], after["shape"] - before["shape"]) == (1, 1)


def test_the_call_slot_is_inherited_at_every_level(classes):
    assert classes.Shape("s")() == "s"
    assert classes.Shape("s")("!", times=2) == "s!!"
    # Rust subclasses, one and two levels down (each declares the slot again:
    # HPy keeps the call function after the struct of the declaring type).
    assert classes.Rect(1.0, 2.0)("?") == "rect?"
    assert classes.Square(3.0)(times=3, suffix="+") == "square+++"
    assert callable(classes.Rect(1.0, 1.0))
    with pytest.raises(TypeError, match=r"^Shape\.__call__\(\) takes from 0 to 1 positional arguments but 2 were given$"):
        classes.Rect(1.0, 1.0)("a", "b")
    with pytest.raises(TypeError, match=r"^Shape\.__call__\(\) got an unexpected keyword argument 'nope'$"):
        classes.Square(1.0)(nope=1)


@pytest.mark.skipif(IS_PYPY, reason="Shape needs dropping: Python subclasses are refused on PyPy 7.3")
def test_the_call_slot_in_a_python_subclass(classes, mode):
    class Big(classes.Rect):
        pass

    class Named(classes.Shape):
        def __call__(self, suffix=""):
            return "named:" + super().__call__(suffix)

    if mode in ("universal", "debug", "trace") and RUNTIME == "hpy" and not IS_PYPY:
        # HPy 0.9's CPython runtime writes no call function into the instances
        # of a Python subclass (its default is looked up on the subclass, which
        # has none): CPython then raises, as for any such object. The
        # CPython-ABI builds' runtime, and hpy-rs's universal runtime (the
        # same code), write the base's.
        with pytest.raises(TypeError, match="^'Big' object does not support vectorcall$"):
            Big(1.0, 2.0)("?")
        with pytest.raises(TypeError, match="^'Named' object does not support vectorcall$"):
            Named("n")("!")
        return
    assert Big(1.0, 2.0)("?") == "rect?"
    assert Named("n")("!") == "named:n!"  # overridden, reaching the base's through super()


def test_final_class_cannot_be_extended_in_python(classes):
    with pytest.raises(TypeError, match="not an acceptable base type"):
        class Sub(classes.Square):
            pass
