"""The object protocol, numbers, calls, import, compile and eval of the safe layer
(tests/api-object), on every interpreter and mode.

Every wrapper has a success case and, where it can fail, a failure case checked
against CPython's exception type and message. Where PyPy's own message for an
interpreter-raised error differs, the type is checked and the message branches
on IS_PYPY.
"""

import collections
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import CHILD_LOADER, IS_PYPY, raises_as_python


def test_runtime_detected(api_object):
    assert api_object.runtime() == ("pypy" if IS_PYPY else "cpython")


def test_builtins_constant_is_the_dict_of_builtins(api_object):
    # HPy documents h_Builtins as "dict of builtins" (and it is one on both).
    b = api_object.builtins()
    assert isinstance(b, dict)
    assert b["len"] is len


# --- attributes -------------------------------------------------------------------


class Plain:
    pass


def test_getattr(api_object):
    assert api_object.getattr_s(5, "real") == 5
    assert api_object.getattr_h(5, "imag") == 0
    for f in (api_object.getattr_s, api_object.getattr_h):
        with pytest.raises(AttributeError, match=r"^'int' object has no attribute 'nope'$"):
            f(5, "nope")
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_object.getattr_s(5, "a\0b")
    msg = r"^expected str, got int object$" if IS_PYPY else r"^attribute name must be string, not 'int'$"
    with pytest.raises(TypeError, match=msg):
        api_object.getattr_h(5, 3)


def test_getattr_long_name(api_object):
    # Beyond the stack buffer of the C string.
    obj = Plain()
    name = "a" * 300
    setattr(obj, name, 1)
    assert api_object.getattr_s(obj, name) == 1
    assert api_object.hasattr_s(obj, name)


def test_hasattr(api_object):
    assert api_object.hasattr_s(5, "real") is True
    assert api_object.hasattr_h(5, "real") is True
    assert api_object.hasattr_s(5, "nope") is False
    assert api_object.hasattr_h(5, "nope") is False
    # Like HPy (and PyObject_HasAttr), errors count as "no".
    assert api_object.hasattr_h(5, 3) is False
    assert api_object.hasattr_s(5, "a\0b") is False

    class Raises:
        @property
        def boom(self):
            raise RuntimeError("boom")

    assert api_object.hasattr_s(Raises(), "boom") is False


def test_setattr_and_delattr(api_object):
    obj = Plain()
    assert api_object.setattr_s(obj, "x", 1) is None
    assert api_object.setattr_h(obj, "y", [2]) is None
    assert vars(obj) == {"x": 1, "y": [2]}
    assert api_object.delattr_s(obj, "x") is None
    assert api_object.delattr_h(obj, "y") is None
    assert vars(obj) == {}
    for f in (api_object.delattr_s, api_object.delattr_h):
        with raises_as_python(lambda: delattr(obj, "x")):
            f(obj, "x")
    for f in (api_object.setattr_s, api_object.setattr_h):
        with raises_as_python(lambda: setattr(5, "x", 1)):
            f(5, "x", 1)
    with pytest.raises(AttributeError) as e:
        api_object.delattr_s(5, "real")
    if not IS_PYPY:
        assert str(e.value) == "attribute 'real' of 'int' objects is not writable"
    with pytest.raises(TypeError) as e:
        api_object.setattr_h(obj, 7, 1)
    if not IS_PYPY:
        assert str(e.value) == "attribute name must be string, not 'int'"
    with pytest.raises(TypeError):
        api_object.delattr_h(obj, 7)
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_object.setattr_s(obj, "a\0b", 1)
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_object.delattr_s(obj, "a\0b")


# --- items --------------------------------------------------------------------------


def test_getitem(api_object):
    lst = [1, 2, 3]
    d = {"a": 1, 5: 2, 2**64 - 1: 3, "a\0b": 4}
    assert api_object.getitem_h(lst, 0) == 1
    assert api_object.getitem_i(lst, -1) == 3
    assert api_object.getitem_s(d, "a") == 1
    assert api_object.getitem_s(d, "a\0b") == 4  # through a str object
    assert api_object.getitem_i(d, 5) == 2  # an int key, not only indexes
    assert api_object.getitem_u64(d, 2**64 - 1) == 3  # beyond isize: an int object
    assert api_object.getitem_u64(lst, 1) == 2
    assert api_object.getitem_h(d, 5) == 2
    for f in (api_object.getitem_i, api_object.getitem_h):
        with pytest.raises(IndexError, match=r"^list index out of range$"):
            f(lst, 5)
    with pytest.raises(KeyError, match=r"^'zz'$"):
        api_object.getitem_s(d, "zz")
    with pytest.raises(KeyError, match=r"^7$"):
        api_object.getitem_i(d, 7)
    with pytest.raises(TypeError, match=r"^'int' object is not subscriptable" + ("" if IS_PYPY else "$")):
        api_object.getitem_h(5, 0)
    with pytest.raises(TypeError, match=r"^list indices must be integers or slices, not '?str'?$"):
        api_object.getitem_s(lst, "a")
    with pytest.raises(IndexError, match=r"^cannot fit 'int' into an index-sized integer$"):
        api_object.getitem_u64(lst, 2**64 - 1)
    with raises_as_python(lambda: d[[]]):  # CPython 3.14 names the dict key
        api_object.getitem_h(d, [])


def test_setitem(api_object):
    lst = [1, 2, 3]
    d = {}
    api_object.setitem_i(lst, 0, "x")
    api_object.setitem_h(lst, -1, "z")
    api_object.setitem_u64(lst, 1, "y")
    assert lst == ["x", "y", "z"]
    api_object.setitem_s(d, "k", 1)
    api_object.setitem_s(d, "k\0nul", 2)
    api_object.setitem_h(d, (1, 2), 3)
    api_object.setitem_i(d, -5, 4)
    api_object.setitem_u64(d, 2**63, 5)
    assert d == {"k": 1, "k\0nul": 2, (1, 2): 3, -5: 4, 2**63: 5}
    msg = r"^list index out of range$" if IS_PYPY else r"^list assignment index out of range$"
    with pytest.raises(IndexError, match=msg):
        api_object.setitem_i(lst, 7, 0)
    with raises_as_python(lambda: d.__setitem__([], 0)):
        api_object.setitem_h(d, [], 0)
    for f, key in ((api_object.setitem_s, "a"), (api_object.setitem_i, 0), (api_object.setitem_h, 0)):
        with pytest.raises(TypeError, match=r"^'tuple' object does not support item assignment$"):
            f((1,), key, 0)


def test_setitem_dict_and_subclass(api_object):
    # An exact dict takes the CPython-ABI build's direct store; a subclass
    # keeps its own `__setitem__`; a key whose `__hash__` raises or whose
    # `__eq__` mutates the dict behaves as with `d[k] = v`.
    class Logged(dict):
        def __setitem__(self, key, value):
            super().__setitem__(key, ("logged", value))

    sub = Logged()
    api_object.setitem_h(sub, "k", 1)
    assert sub == {"k": ("logged", 1)}

    class BadHash:
        def __hash__(self):
            raise ZeroDivisionError("no hash")

    d = {}
    with pytest.raises(ZeroDivisionError, match=r"^no hash$"):
        api_object.setitem_h(d, BadHash(), 0)
    assert d == {}

    class Mutating:
        def __init__(self, target):
            self.target = target

        def __hash__(self):
            return 7

        def __eq__(self, other):
            self.target.clear()
            return False

    class RaisingEq:
        def __hash__(self):
            return 7

        def __eq__(self, other):
            raise KeyError("no eq")

    d = {RaisingEq(): 1}
    with pytest.raises(KeyError, match="no eq"):
        api_object.setitem_h(d, RaisingEq(), 2)  # equal hashes: `__eq__` runs
    assert list(d.values()) == [1]

    d = {}
    first, second = Mutating(d), Mutating(d)
    api_object.setitem_h(d, first, 1)
    api_object.setitem_h(d, second, 2)  # its `__eq__` empties the dict first
    assert list(d.values()) == [2] and next(iter(d)) is second


def test_delitem(api_object):
    lst = [1, 2, 3, 4]
    d = {"a": 1, "a\0b": 2, 3: 3, (1,): 4, 2**64 - 1: 5}
    api_object.delitem_i(lst, 0)
    api_object.delitem_h(lst, -1)
    api_object.delitem_u64(lst, 0)
    assert lst == [3]
    api_object.delitem_s(d, "a")
    api_object.delitem_s(d, "a\0b")
    api_object.delitem_i(d, 3)
    api_object.delitem_h(d, (1,))
    api_object.delitem_u64(d, 2**64 - 1)
    assert d == {}
    msg = r"^list index out of range$" if IS_PYPY else r"^list assignment index out of range$"
    with pytest.raises(IndexError, match=msg):
        api_object.delitem_i(lst, 10)
    with pytest.raises(KeyError, match=r"^'a'$"):
        api_object.delitem_s(d, "a")
    with pytest.raises(KeyError, match=r"^3$"):
        api_object.delitem_i(d, 3)
    with pytest.raises(TypeError, match=r"^'tuple' object do(es not|esn't) support item deletion$"):
        api_object.delitem_h((1,), 0)


def test_item_keys_from_literals(api_object):
    d = {}
    assert api_object.items_literals(["first"], d) == "first"
    assert d == {"k": 1}


def test_contains(api_object):
    assert api_object.contains([1, 2], 2) is True
    assert api_object.contains({"a": 1}, "b") is False
    with raises_as_python(lambda: 1 in 3):  # each interpreter in its own words
        api_object.contains(3, 1)


def test_len(api_object):
    assert api_object.length([1, 2]) == 2
    assert api_object.length("") == 0
    assert api_object.is_empty([]) is True
    assert api_object.is_empty("a") is False
    msg = r"^'int' has no length$" if IS_PYPY else r"^object of type 'int' has no len\(\)$"
    for f in (api_object.length, api_object.is_empty):
        with pytest.raises(TypeError, match=msg):
            f(5)

    class BadLen:
        def __len__(self):
            return -1

    with pytest.raises(ValueError, match=r"^__len__\(\) should return >= 0$"):
        api_object.length(BadLen())

    # Exact lists and tuples have their size read directly; a subclass's
    # __len__ is called, lie or raise as it will, as len() calls it.
    class LyingList(list):
        def __len__(self):
            return 7

    class RaisingTuple(tuple):
        def __len__(self):
            raise KeyError("len")

    for n in (0, 1, 1000):
        assert api_object.length(list(range(n))) == n
        assert api_object.length(tuple(range(n))) == n
    assert api_object.length(LyingList([1, 2])) == len(LyingList([1, 2])) == 7
    with pytest.raises(KeyError, match="len"):
        api_object.length(RaisingTuple((1,)))


# --- string forms, hash -----------------------------------------------------------------


class BadRepr:
    def __repr__(self):
        raise ValueError("no repr")

    def __str__(self):
        raise ValueError("no str")


def test_repr_str_ascii(api_object):
    assert api_object.repr("a") == "'a'"
    assert api_object.str_(1.5) == "1.5"
    assert api_object.ascii("é") == "'\\xe9'"
    with pytest.raises(ValueError, match=r"^no repr$"):
        api_object.repr(BadRepr())
    with pytest.raises(ValueError, match=r"^no str$"):
        api_object.str_(BadRepr())
    with pytest.raises(ValueError, match=r"^no repr$"):
        api_object.ascii(BadRepr())


def test_debug_format_of_handles(api_object):
    assert api_object.debug_fmt([1, "a"]) == "Handle([1, 'a'])"
    # repr fails: the type name is used, and no exception is left set.
    assert api_object.debug_fmt(BadRepr()) == "Handle(<BadRepr object>)"


def test_bytes(api_object):
    class WithBytes:
        def __bytes__(self):
            return b"bb"

    class BadBytes:
        def __bytes__(self):
            return "not bytes"

    assert api_object.bytes_(b"x") == b"x"
    assert api_object.bytes_(bytearray(b"ab")) == b"ab"
    assert api_object.bytes_(memoryview(b"mv")) == b"mv"
    assert api_object.bytes_(WithBytes()) == b"bb"
    # PyObject_Bytes semantics on every runtime: iterables of ints too.
    assert api_object.bytes_([65, 66]) == b"AB"
    assert api_object.bytes_((1, 2)) == b"\x01\x02"
    assert api_object.bytes_(iter([3])) == b"\x03"
    assert api_object.bytes_([]) == b""
    with pytest.raises(TypeError, match=r"^cannot convert 'str' object to bytes$"):
        api_object.bytes_("x")
    with pytest.raises(TypeError, match=r"^cannot convert 'int' object to bytes$"):
        api_object.bytes_(5)
    with pytest.raises(TypeError, match=r"^cannot convert 'bool' object to bytes$"):
        api_object.bytes_(True)
    with pytest.raises(TypeError, match=r"^'str' object cannot be interpreted as an integer$"):
        api_object.bytes_(["a"])
    with pytest.raises(ValueError, match=r"^bytes? must be in range\(0, 256\)$"):  # PyPy: "byte"
        api_object.bytes_([300])
    with pytest.raises(TypeError, match=r"__bytes__ returned non-bytes"):
        api_object.bytes_(BadBytes())


def test_hash(api_object):
    assert api_object.hash("abc") == hash("abc")
    assert api_object.hash(-1) == -2
    assert api_object.hash(2**70) == hash(2**70)
    with pytest.raises(TypeError, match=r"^unhashable type: 'list'$"):
        api_object.hash([])


# --- comparisons -----------------------------------------------------------------------

OPS = ["<", "<=", "==", "!=", ">", ">="]


def test_rich_compare(api_object):
    import operator

    pyops = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]
    for a, b in [(1, 2), (2, 2), ("b", "a")]:
        for op, pyop in zip(OPS, pyops):
            assert api_object.rich_compare(a, b, op) is pyop(a, b)
            assert api_object.compare(a, b, op) is pyop(a, b)
    for f in (api_object.rich_compare, api_object.compare):
        with pytest.raises(TypeError, match=r"^'<' not supported between instances of 'list' and 'int'$"):
            f([], 1, "<")


def test_rich_compare_returns_any_object(api_object):
    class Weird:
        def __lt__(self, other):
            return "weird"

        def __eq__(self, other):
            raise RuntimeError("eq fails")

    w = Weird()
    assert api_object.rich_compare(w, 1, "<") == "weird"
    assert api_object.compare(w, 1, "<") is True  # bool("weird")
    assert api_object.compare(w, w, "==") is True  # identity, without __eq__
    assert api_object.compare(w, w, "!=") is False
    with pytest.raises(RuntimeError, match=r"^eq fails$"):
        api_object.compare(w, 1, "==")


def test_comparison_shortcuts(api_object):
    # == != < <= > >=
    assert api_object.compare_all(1, 2) == "011100"
    assert api_object.compare_all(2, 2) == "100101"
    assert api_object.compare_all("b", "a") == "010011"
    with pytest.raises(TypeError, match=r"^'<' not supported between instances of 'list' and 'int'$"):
        api_object.compare_all([], 1)
    assert api_object.eq_five(5) is True
    assert api_object.eq_five(5.0) is True
    assert api_object.eq_five("5") is False


def test_compare_op_raw_values(api_object):
    assert [api_object.compare_op_roundtrip(i) for i in range(6)] == OPS
    assert api_object.compare_op_roundtrip(-1) is None
    assert api_object.compare_op_roundtrip(6) is None


# --- truth, identity, types --------------------------------------------------------------


def test_truth_and_identity(api_object):
    assert api_object.is_true([0]) is True
    assert api_object.is_true("") is False

    class BadBool:
        def __bool__(self):
            raise ValueError("no bool")

    with pytest.raises(ValueError, match=r"^no bool$"):
        api_object.is_true(BadBool())
    obj = object()
    assert api_object.is_(obj, obj) is True
    assert api_object.is_(obj, object()) is False
    assert api_object.type_(1) is int
    assert api_object.type_(Plain()) is Plain


def test_isinstance(api_object):
    assert api_object.is_type(int) is True
    assert api_object.is_type(1) is False
    assert api_object.is_instance(True, int) is True
    assert api_object.is_instance(1, str) is False
    assert api_object.is_instance(Plain(), object) is True
    with pytest.raises(TypeError, match=r"^isinstance\(\) arg 2 must be a type, a tuple of types, or a union$"):
        api_object.is_instance(1, 5)


def test_issubclass(api_object):
    class A:
        pass

    class B(A):
        pass

    cases = [(bool, int), (int, bool), (int, str), (str, str), (B, A), (A, B), (object, int), (int, object), (type, object)]
    for a, b in cases:
        assert api_object.is_subclass(a, b) is issubclass(a, b), (a, b)
    with pytest.raises(TypeError, match=r"^issubclass\(\) arg 1 must be a class$"):
        api_object.is_subclass(5, int)
    with pytest.raises(TypeError, match=r"^issubclass\(\) arg 2 must be a class, a tuple of classes, or a union$"):
        api_object.is_subclass(int, 5)


def test_type_names(api_object):
    class Meta(type):
        pass

    class K(metaclass=Meta):
        pass

    assert api_object.type_object_name(int) == "int"
    assert api_object.type_object_name(K) == "K"
    assert api_object.type_object_name(Meta) == "Meta"
    assert api_object.type_object_name(collections.OrderedDict) == "OrderedDict"
    assert api_object.type_object_name(type(None)) == "NoneType"
    with pytest.raises(TypeError, match=r"^expected type, got int$"):
        api_object.type_object_name(5)
    assert api_object.type_name(1) == "int"
    assert api_object.type_name(K()) == "K"
    assert api_object.type_name(collections.OrderedDict()) == "OrderedDict"


def test_callable_and_number_checks(api_object):
    class Idx:
        def __index__(self):
            return 1

    assert api_object.is_callable(len) is True
    assert api_object.is_callable(Plain) is True
    assert api_object.is_callable(1) is False
    for x in (1, 1.5, True, 1j, Idx()):
        assert api_object.is_number(x) is True, x
    for x in ("1", [], None):
        assert api_object.is_number(x) is False, x


def test_dump_prints_to_stderr(api_object, mode, capfd):
    assert api_object.dump([1, 2]) is None
    err = capfd.readouterr().err
    assert "object repr     : [1, 2]" in err
    assert "list" in err


# --- numbers ------------------------------------------------------------------------------

BINARY = {
    "add": (7, 2, 9, "+"),
    "sub": (7, 2, 5, "-"),
    "mul": (7, 2, 14, None),
    "matmul": None,
    "floordiv": (7, 2, 3, "//"),
    "truediv": (7, 2, 3.5, "/"),
    "mod": (7, 2, 1, "%"),
    "divmod": (7, 2, (3, 1), "divmod()"),
    "pow": (7, 2, 49, "** or pow()"),
    "lshift": (7, 2, 28, "<<"),
    "rshift": (7, 2, 1, ">>"),
    "and_": (7, 2, 2, "&"),
    "xor": (7, 2, 5, "^"),
    "or_": (7, 2, 7, "|"),
}


@pytest.mark.parametrize(
    "op, inplace", [(op, False) for op in sorted(BINARY)] + [(op, True) for op in sorted(BINARY) if op != "divmod"]
)
def test_binary_operators(api_object, op, inplace):
    name = "i" + op.rstrip("_") if inplace else op
    if op == "matmul":
        class M:
            def __matmul__(self, other):
                return "mm"

            def __imatmul__(self, other):
                return "imm"

        assert api_object.binop("imatmul" if inplace else "matmul", M(), 1) == ("imm" if inplace else "mm")
        symbol = "@=" if inplace else "@"
        with pytest.raises(TypeError, match=rf"^unsupported operand type\(s\) for {symbol}: 'int' and 'int'$"):
            api_object.binop("imatmul" if inplace else "matmul", 7, 2)
        return
    a, b, expected, symbol = BINARY[op]
    assert api_object.binop(name, a, b) == expected
    if symbol is None:
        return
    if inplace and op != "pow":
        symbol += "="
    if inplace and op == "pow" and not IS_PYPY:
        # CPython in its own words: "**=", or "** or pow()" before 3.10.
        with raises_as_python(lambda: __import__("operator").ipow(a, "s")):
            api_object.binop(name, a, "s")
        return
    if inplace and op == "pow":
        symbol = "** or pow()"  # PyPy's HPy says so (its operator.ipow says "**=")
    if IS_PYPY and op == "divmod":
        symbol = "divmod"
    with pytest.raises(TypeError, match=rf"^unsupported operand type\(s\) for {__import__('re').escape(symbol)}: 'int' and 'str'$"):
        api_object.binop(name, a, "s")


def test_inplace_operators_mutate_mutable_objects(api_object):
    lst = [1]
    assert api_object.binop("iadd", lst, [2]) is lst
    assert lst == [1, 2]
    s = {1}
    assert api_object.binop("ior", s, {2}) is s
    assert s == {1, 2}
    t = (1,)
    r = api_object.binop("iadd", t, (2,))
    assert r == (1, 2) and t == (1,)


def test_division_errors(api_object):
    # The interpreter's own words (CPython 3.11 says "integer modulo by zero"
    # for 1 % 0, 3.10 "integer division or modulo by zero"; PyPy its own).
    def itruediv():
        x = 1
        x /= 0

    for op, reference in [
        ("truediv", lambda: 1 / 0),
        ("floordiv", lambda: 1 // 0),
        ("mod", lambda: 1 % 0),
        ("divmod", lambda: divmod(1, 0)),
        ("itruediv", itruediv),
        ("lshift", lambda: 1 << -1),
    ]:
        with raises_as_python(reference):
            api_object.binop(op, 1, -1 if op == "lshift" else 0)


def test_pow_with_modulo(api_object):
    assert api_object.pow_mod(2, 10, 7) == 2
    assert api_object.pow_mod(2, 10, None) == 1024
    with pytest.raises(ValueError, match=r"^pow\(\) 3rd argument cannot be 0$"):
        api_object.pow_mod(2, 3, 0)
    with pytest.raises(TypeError, match=r"^pow\(\) 3rd argument not allowed unless all arguments are integers$"):
        api_object.pow_mod(2.0, 3, 5)


def test_rust_operand(api_object):
    assert api_object.add_one(41) == 42
    assert api_object.add_one(0.5) == 1.5
    msg = r"^unsupported operand type\(s\) for \+: 'str' and 'int'$" if IS_PYPY else r'^can only concatenate str \(not "int"\) to str$'
    with pytest.raises(TypeError, match=msg):
        api_object.add_one("a")


@pytest.mark.parametrize(
    "op, symbol, x, expected",
    [("neg", "-", -7, 7), ("pos", "+", -7, -7), ("abs", "abs()", -7, 7), ("invert", "~", 6, -7)],
)
def test_unary_operators(api_object, op, symbol, x, expected):
    assert api_object.unop(op, x) == expected
    if IS_PYPY:
        with pytest.raises(TypeError, match=r"^unsupported operand type for unary .*: 'str'$"):
            api_object.unop(op, "a")
    else:
        prefix = "bad operand type for " + (symbol if op == "abs" else "unary " + symbol)
        with pytest.raises(TypeError, match="^" + __import__("re").escape(prefix) + ": 'str'$"):
            api_object.unop(op, "a")


def test_number_conversions(api_object):
    assert api_object.unop("index", True) == 1 and type(api_object.unop("index", True)) is int
    assert api_object.unop("int", 2.5) == 2
    assert api_object.unop("int", "12") == 12
    assert api_object.unop("float", -7) == -7.0
    assert api_object.unop("float", "1.5") == 1.5
    with pytest.raises(TypeError, match=r"^'float' object cannot be interpreted as an integer$"):
        api_object.unop("index", 2.5)
    with pytest.raises(ValueError, match=r"^invalid literal for int\(\) with base 10: 'x'$"):
        api_object.unop("int", "x")
    with pytest.raises(ValueError, match=r"^could not convert string to float: 'x'$"):
        api_object.unop("float", "x")
    with pytest.raises(TypeError, match=r"^int\(\) argument must be a string, a bytes-like object or a (real )?number, not 'list'$"):
        api_object.unop("int", [])
    with pytest.raises(TypeError, match=r"^float\(\) argument must be a string or a (real )?number, not 'list'$"):
        api_object.unop("float", [])


class Idx:
    def __index__(self):
        return 7


def test_mask_conversions(api_object):
    for f, bits in ((api_object.to_u64_mask, 64), (api_object.to_u32_mask, 32)):
        for v in (0, 5, -1, 2**64 + 5, 2**63, -(2**63), 2**100 + 3):
            assert f(v) == v % 2**bits, (f, v)
        assert f(Idx()) == 7
        msg = r"^expected integer, got float object$" if IS_PYPY else r"^'float' object cannot be interpreted as an integer$"
        with pytest.raises(TypeError, match=msg):
            f(1.5)


def test_int32_conversions(api_object):
    for v in (0, 5, -1, 2**31 - 1, -(2**31), True):
        assert api_object.to_i32(v) == v
    assert api_object.to_i32(Idx()) == 7
    for v in (2**31, -(2**31) - 1, 2**32):
        with pytest.raises(OverflowError, match=r"^Python int too large to convert to C int32_t$"):
            api_object.to_i32(v)
    with pytest.raises(OverflowError):  # beyond 64 bits: the runtime's own message
        api_object.to_i32(2**70)
    with pytest.raises(TypeError):
        api_object.to_i32(1.5)

    for v in (0, 5, 2**31, 2**32 - 1, True):
        assert api_object.to_u32(v) == v
    for v in (2**32, 2**63):
        with pytest.raises(OverflowError, match=r"^Python int too large to convert to C uint32_t$"):
            api_object.to_u32(v)
    # hpy 0.9.0 on CPython reports these as "too large": the SDK raises the real error.
    msg = r"^cannot convert negative integer to unsigned int$" if IS_PYPY else r"^can't convert negative int to unsigned$"
    with pytest.raises(OverflowError, match=msg):
        api_object.to_u32(-1)
    msg = r"^expected integer, got float object$" if IS_PYPY else r"^an integer is required$"
    with pytest.raises(TypeError, match=msg):
        api_object.to_u32(1.5)


def test_void_ptr(api_object):
    for v in (0, 4096, 2**63, 2**64 - 1):
        assert api_object.to_void_ptr(v) == v
    assert api_object.to_void_ptr(-1) == 2**64 - 1
    assert api_object.to_void_ptr(-5) == 2**64 - 5
    with pytest.raises(OverflowError):
        api_object.to_void_ptr(2**64)
    with pytest.raises(TypeError):
        api_object.to_void_ptr(1.5)


def test_int_to_f64(api_object):
    assert api_object.int_to_f64(3) == 3.0
    assert api_object.int_to_f64(-(2**53)) == -(2.0**53)
    assert api_object.int_to_f64(2**1023) == 2.0**1023
    with pytest.raises(OverflowError, match=r"^int too large to convert to float$"):
        api_object.int_to_f64(2**1024)
    for v in (1.5, "a", Idx()):
        with pytest.raises(TypeError, match=r"^an integer is required$"):
            api_object.int_to_f64(v)


@pytest.mark.parametrize(
    "ty, lo, hi",
    [
        ("i8", -(2**7), 2**7 - 1),
        ("i16", -(2**15), 2**15 - 1),
        ("i32", -(2**31), 2**31 - 1),
        ("i64", -(2**63), 2**63 - 1),
        ("isize", -(2**63), 2**63 - 1),
        ("u8", 0, 2**8 - 1),
        ("u16", 0, 2**16 - 1),
        ("u32", 0, 2**32 - 1),
        ("u64", 0, 2**64 - 1),
        ("usize", 0, 2**64 - 1),
    ],
)
def test_new_int(api_object, ty, lo, hi):
    f = getattr(api_object, "new_int_" + ty)
    for v in (lo, hi, 0, 1):
        r = f(v)
        assert r == v and type(r) is int


# --- calls --------------------------------------------------------------------------------


def record(*args, **kwargs):
    return (args, kwargs)


def boom(*args, **kwargs):
    raise KeyError("boom")


def test_positional_calls(api_object):
    assert api_object.call0(record) == ((), {})
    assert api_object.call1(record, 1) == ((1,), {})
    assert api_object.call2(record, 1, 2) == ((1, 2), {})
    x = [3]
    args, _ = api_object.call_mixed(record, x)
    assert args == (1, "two", x, None) and args[2] is x
    assert api_object.call0(Plain).__class__ is Plain
    assert api_object.call1(len, "abc") == 3


def test_calls_beyond_the_inline_buffer(api_object):
    for n in (0, 11, 12, 13, 40):
        assert api_object.call_n(record, n) == (tuple(range(n)), {})
    for n, m in ((3, 2), (6, 6), (10, 10), (0, 30)):
        assert api_object.call_n_kw(record, n, m) == (tuple(range(n)), {f"k{i}": i for i in range(m)})


def test_keyword_calls(api_object):
    assert api_object.call_kw(record, 1, "x", 2) == ((1,), {"x": 2})
    assert api_object.call_kw(record, 1, "x\0y", 2) == ((1,), {"x\0y": 2})
    assert api_object.call_kw_only(record, "x", 1) == ((), {"x": 1, "z": 3})

    def kwonly(a, *, x):
        return (a, x)

    assert api_object.call_kw(kwonly, 1, "x", 2) == (1, 2)
    with pytest.raises(TypeError, match=r"kwonly\(\) got an unexpected keyword argument 'y'$"):
        api_object.call_kw(kwonly, 1, "y", 2)
    msg = r"^len\(\) got an unexpected keyword argument 'x'$" if IS_PYPY else r"^len\(\) takes no keyword arguments$"
    with pytest.raises(TypeError, match=msg):
        api_object.call_kw(len, [1], "x", 2)


def test_calling_a_non_callable(api_object):
    calls = [
        lambda: api_object.call0(5),
        lambda: api_object.call1(5, 1),
        lambda: api_object.call2(5, 1, 2),
        lambda: api_object.call_n(5, 20),
        lambda: api_object.call_kw(5, 1, "x", 2),
        lambda: api_object.call_tuple_dict(5, (), None),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"^'int' object is not callable$"):
            call()


def test_exceptions_raised_by_the_callee(api_object):
    calls = [
        lambda: api_object.call0(boom),
        lambda: api_object.call2(boom, 1, 2),
        lambda: api_object.call_n(boom, 20),
        lambda: api_object.call_kw(boom, 1, "x", 2),
        lambda: api_object.call_tuple_dict(boom, (1,), {"a": 1}),
    ]
    for call in calls:
        with pytest.raises(KeyError, match=r"^'boom'$"):
            call()


class Obj:
    notcallable = 5

    def m(self, *args, **kwargs):
        return (self, args, kwargs)

    def bad(self):
        raise IndexError("bad")


def test_method_calls(api_object):
    o = Obj()
    assert api_object.call_method0("abc", "upper") == "ABC"
    assert api_object.call_method1("a,b", "split", ",") == ["a", "b"]
    lst = [1]
    assert api_object.call_method1(lst, "append", 2) is None and lst == [1, 2]
    assert api_object.call_method1(5, "__add__", 1) == 6
    assert api_object.call_method0(o, "m") == (o, (), {})
    assert api_object.call_method_h(o, "m", 1, 2) == (o, (1, 2), {})
    assert api_object.call_method_kw(o, "m", 1, "k", 2) == (o, (1,), {"k": 2})
    assert api_object.call_method_kw("a b c", "split", " ", "maxsplit", 1) == ["a", "b c"]
    # a class: the function is called unbound, like Python's Obj.m(o)
    assert api_object.call_method1(Obj, "m", o) == (o, (), {})


def test_owned_handle_names(api_object):
    class Named:
        def __getitem__(self, key):
            raise KeyError(key)

        def name(self):
            return Named.name

    assert api_object.owned_names(Named(), "name") is Named.name
    with pytest.raises(AttributeError):
        api_object.owned_names(Named(), "nope")


def test_method_call_errors(api_object):
    o = Obj()
    with pytest.raises(AttributeError, match=r"^'str' object has no attribute 'nope'$"):
        api_object.call_method0("abc", "nope")
    with pytest.raises(AttributeError, match=r"^'Obj' object has no attribute 'nope'$"):
        api_object.call_method_h(o, "nope", 1, 2)
    with pytest.raises(IndexError, match=r"^bad$"):
        api_object.call_method0(o, "bad")
    with pytest.raises(TypeError, match=r"^'int' object is not callable$"):
        api_object.call_method0(o, "notcallable")
    with pytest.raises(TypeError, match=r"^attribute name must be string, not 'int'$"):
        api_object.call_method_h(o, 5, 1, 2)
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_object.call_method0("abc", "a\0b")
    msg = r"^str.upper\(\) takes 1 positional argument but 2 were given$" if IS_PYPY else r"^str.upper\(\) takes no arguments \(1 given\)$"
    with pytest.raises(TypeError, match=msg):
        api_object.call_method1("abc", "upper", 1)


def test_call_tuple_dict(api_object):
    assert api_object.call_tuple_dict(record, (1, 2), {"a": 3}) == ((1, 2), {"a": 3})
    assert api_object.call_tuple_dict(record, (), None) == ((), {})
    with pytest.raises(TypeError, match=r"^HPy_CallTupleDict requires args to be a tuple or null handle$"):
        api_object.call_tuple_dict(record, [1], None)
    with pytest.raises(TypeError, match=r"^HPy_CallTupleDict requires kw to be a dict or null handle$"):
        api_object.call_tuple_dict(record, (1,), [1])


def test_reentrant_calls(api_object):
    # A call whose callee calls back into the extension.
    assert api_object.call1(lambda f: api_object.call0(f), lambda: 42) == 42


# --- import, compile, eval ---------------------------------------------------------------


def test_import_module(api_object):
    import os.path

    assert api_object.import_module("os.path") is os.path
    assert api_object.import_module("collections") is collections
    with pytest.raises(ModuleNotFoundError, match=r"^No module named 'nope_nope'$"):
        api_object.import_module("nope_nope")
    with pytest.raises(ValueError, match=r"^Empty module name$"):
        api_object.import_module("")
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_object.import_module("a\0b")


def test_compile(api_object):
    code = api_object.compile("1 + 2", "f.py", "eval")
    assert type(code) is type(test_compile.__code__)
    assert code.co_filename == "f.py"
    assert eval(code) == 3
    assert eval(api_object.compile("x = 1", "<s>", "exec"), {}) is None
    assert api_object.compile("1" * 300, "long.py", "eval") is not None
    with pytest.raises(SyntaxError) as e:
        api_object.compile("1 +", "bad.py", "eval")
    assert e.value.filename == "bad.py" and e.value.lineno == 1
    with pytest.raises(SyntaxError):
        api_object.compile("x = 1", "f.py", "eval")
    with pytest.raises(IndentationError):
        api_object.compile("  x", "f.py", "exec")
    with pytest.raises(SyntaxError, match=r"^source code string cannot contain null bytes$"):
        api_object.compile("a\0", "f.py", "eval")
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_object.compile("1", "f\0.py", "eval")


def test_compile_does_not_inherit_future_flags(api_object):
    # Called from code compiled with `from __future__ import annotations`: the
    # flag must not leak into the compiled code (annotations stay objects).
    g = {"m": api_object}
    exec(
        "from __future__ import annotations\n"
        "code = m.compile('def f(x: int): pass\\nr = f.__annotations__', '<s>', 'exec')\n",
        g,
    )
    ns = {}
    exec(g["code"], ns)
    assert ns["r"] == {"x": int}


def test_eval_code(api_object):
    g = {}
    assert api_object.run("1 + 2", "eval", g) == 3
    assert api_object.run("x = 5\ny = x * 2", "exec", g) is None
    assert g["x"] == 5 and g["y"] == 10
    assert api_object.run("x + y", "eval", g) == 15
    assert api_object.run("x", "single", g) is None
    code = compile("a + b", "c", "eval")
    assert api_object.eval_code(code, {"a": 1}, {"b": 2}) == 3
    assert api_object.eval_code(code, {"a": 1}, collections.ChainMap({"b": 10})) == 11

    def fn():
        return 42

    assert api_object.eval_code(fn.__code__, {}, {}) == 42


def test_eval_code_sees_the_builtins(api_object):
    # As exec(): fresh globals get the current builtins under __builtins__
    # (CPython 3.9 alone would give the code a namespace with only None).
    g = {}
    assert api_object.eval_code(compile("len([1, 2])", "c", "eval"), g, g) == 2
    assert "__builtins__" in g
    assert api_object.run("isinstance(TypeError(), Exception)", "eval", {}) is True
    # Builtins of the caller's choosing are kept, and used as the
    # interpreter's own eval uses them (PyPy keeps its builtin module).
    mine = {"len": lambda x: "mine"}
    code = compile("len([1])", "c", "eval")
    g = {"__builtins__": mine}
    assert api_object.eval_code(code, g, g) == eval(code, {"__builtins__": mine})
    assert g["__builtins__"] is mine


class LyingGlobals(dict):
    def __contains__(self, key):
        return True

    def __setitem__(self, key, value):
        raise RuntimeError("no writes")


class RaisingGlobals(dict):
    def __contains__(self, key):
        raise RuntimeError("no lookups")


@pytest.mark.parametrize("cls", [LyingGlobals, RaisingGlobals])
def test_eval_code_reads_globals_as_exec_does(api_object, cls):
    # exec reads and writes the dict itself: overridden __contains__ and
    # __setitem__ neither lie to it nor stop it.
    # (PyPy consults the subclass while it runs the code: the same there.)
    code = compile("len([1, 2])", "c", "eval")

    def outcome(f):
        try:
            return ("value", f())
        except Exception as e:  # noqa: BLE001 - compared with the interpreter's own
            return (type(e), str(e))

    g, g2 = cls(), cls()
    assert outcome(lambda: api_object.eval_code(code, g, g)) == outcome(lambda: eval(code, g2))
    if not IS_PYPY:
        assert outcome(lambda: eval(code, cls())) == ("value", 2)
        assert dict.__contains__(g, "__builtins__") and dict.__contains__(g2, "__builtins__")


def test_eval_code_errors(api_object):
    g = {}
    with pytest.raises(ZeroDivisionError, match=r"^division by zero$"):
        api_object.run("1/0", "eval", g)
    with pytest.raises(NameError, match=r"^name 'undefined_name' is not defined$"):
        api_object.run("undefined_name", "eval", g)
    with pytest.raises(TypeError, match=r"^globals must be a dict, not list$"):
        api_object.run("1", "eval", [])
    code = compile("a", "c", "eval")
    with pytest.raises(TypeError, match=r"^globals must be a dict, not int$"):
        api_object.eval_code(code, 5, {})
    # Not a code object: HPy would crash; the SDK raises.
    for bad in (5, "1+1", test_eval_code_errors):
        with pytest.raises(TypeError, match=rf"^expected code, got {type(bad).__name__}$"):
            api_object.eval_code(bad, {}, {})

    class FakeCode:
        pass

    FakeCode.__name__ = "code"
    FakeCode.__module__ = "builtins"
    with pytest.raises(TypeError, match=r"^expected code, got code$"):
        api_object.eval_code(FakeCode(), {}, {})
    with pytest.raises(TypeError):
        api_object.eval_code(code, {}, 5)  # locals: not a mapping


# --- fatal error -------------------------------------------------------------------------


def test_fatal_error_aborts_the_process(loader, mode):
    path = loader.path("api_object", mode)
    script = CHILD_LOADER + textwrap.dedent(
        f"""
        m = load("api_object", {str(path)!r}, {mode!r})
        print("loaded", flush=True)
        m.fatal_error("the sky is falling\\0not this")
        print("survived", flush=True)
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ, timeout=120)
    assert r.stdout == "loaded\n"
    assert r.returncode == -6, (r.returncode, r.stderr)
    assert "the sky is falling" in r.stderr
    assert "not this" not in r.stderr
