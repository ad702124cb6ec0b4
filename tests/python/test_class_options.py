"""The class options `dict`, `weakref` and `unsendable` (`tests/classes/src/options.rs`).

Runs on CPython in universal, debug (LeakDetector around every test) and
trace mode, and on PyPy in universal mode, from one `classes.hpy0.so`.
"""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import pytest

IS_PYPY = sys.implementation.name == "pypy"


def _drops(classes):
    for _ in range(3):
        gc.collect()
    return dict(zip(["open", "weak", "local"], classes.option_drops()))


def test_dict(classes):
    o = classes.Open(3)
    assert type(o) is classes.Open and isinstance(o, classes.Open)
    o.extra = 5
    assert o.__dict__ == {"extra": 5} and vars(o) == {"extra": 5}
    del o.extra
    assert o.__dict__ == {}
    with pytest.raises(AttributeError):
        o.extra
    # The struct's properties and methods are unaffected.
    assert (o.n, o.double(), o.n) == (3, 6, 6)
    o.n = 10
    assert o.n == 10 and "n" not in o.__dict__
    assert classes.Open.__doc__.startswith("Instances have a `__dict__`")
    assert classes.Open.__module__ == "classes" and classes.Open.__name__ == "Open"


def test_weakref(classes):
    o = classes.Open(1)
    called = []
    r = weakref.ref(o, called.append)
    assert r() is o
    before = _drops(classes)["open"]
    del o
    assert _drops(classes)["open"] - before == 1  # (PyPy: after a collection)
    assert r() is None and called == [r]
    w = classes.Weak(2)
    values = weakref.WeakValueDictionary()
    values["w"] = w
    assert values["w"].n == 2
    del w
    gc.collect()
    assert "w" not in values


@pytest.mark.skipif(IS_PYPY, reason="PyPy's HPy objects always have a __dict__")
def test_without_dict_attributes_are_refused(classes):
    w = classes.Weak(2)
    with pytest.raises(AttributeError):
        w.x = 1
    with pytest.raises(AttributeError):
        w.__dict__


@pytest.mark.skipif(IS_PYPY, reason="PyPy's HPy objects can always be weakly referenced")
def test_without_weakref_weak_references_are_refused(classes):
    with pytest.raises(TypeError, match="cannot create weak reference"):
        weakref.ref(classes.Point(1, 2))


def test_cycles_through_fields_and_dicts_are_collected(classes):
    # The object is its own referent twice: through its Field and its dict.
    o = classes.Open()
    o.link(o)
    o.me = o
    r = weakref.ref(o)
    before = _drops(classes)["open"]
    del o
    assert _drops(classes)["open"] - before == 1
    assert r() is None


def test_dict_on_a_builtin_base(classes):
    m = classes.Measure(2.0, "kg")
    m.note = "x"
    assert (m, m.unit, m.note, m + 1) == (2.0, "kg", "x", 3.0)
    assert isinstance(m, float) and type(m) is classes.Measure


@pytest.mark.skipif(IS_PYPY, reason="Open needs dropping: Python subclasses are refused on PyPy 7.3")
def test_python_subclass_of_a_class_with_dict(classes):
    class Sub(classes.Open):
        def triple(self):
            return 3 * self.n

    s = Sub(4)
    s.tag = "t"
    assert (s.double(), s.triple(), s.__dict__) == (8, 24, {"tag": "t"})
    assert weakref.ref(s)() is s


def test_final_class_with_weakref_is_final(classes):
    with pytest.raises(TypeError, match="not an acceptable base type"):
        class Sub(classes.Weak):
            pass


def test_unsendable_in_its_own_thread(classes):
    local = classes.Local()
    assert (local.push(1), local.push(2), local.items()) == (1, 2, [1, 2])


def test_unsendable_used_in_another_thread_raises(classes):
    local = classes.Local()
    local.push(1)
    errors = []

    def worker():
        try:
            local.push(2)
        except RuntimeError as e:
            errors.append(str(e))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert errors == ["Local is unsendable, but is being used in another thread than the one that made it"]
    assert local.items() == [1]


def test_unsendable_dying_in_another_thread_is_leaked_not_dropped(classes, capfd):
    box = [classes.Local()]
    box[0].push(1)
    before = _drops(classes)["local"]

    def worker():
        box.pop()
        gc.collect()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert _drops(classes)["local"] == before
    err = capfd.readouterr().err
    assert "Local is unsendable, but it dies in another thread" in err
    # Dying in its own thread, it is dropped.
    local = classes.Local()
    del local
    assert _drops(classes)["local"] == before + 1
