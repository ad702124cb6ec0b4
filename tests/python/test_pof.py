"""The `pof` example (examples/pof): HPy's proof-of-concept module, in Rust.

Runs on CPython in universal, debug (LeakDetector around every test) and trace
mode, and on PyPy in universal mode, from one `pof.hpy0.so`; and imports it
through the loader stub that `cargo hpy build` writes, with `HPY=<mode>`.
"""

import os
import subprocess
import sys
import sysconfig

import pytest
from conftest import CPYTHON_ABI, IS_PYPY, MODULES_DIR, build_module, universal_only


def test_do_nothing(pof):
    assert pof.do_nothing() is None


def test_double(pof):
    assert pof.double(3) == 6
    assert pof.double(-1.5) == -3.0
    assert pof.double("ab") == "abab"
    assert pof.double([1]) == [1, 1]


def test_double_propagates_the_interpreters_error(pof):
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+"):
        pof.double(object())


def test_add_ints(pof):
    assert pof.add_ints(30, 12) == 42
    assert pof.add_ints(-2**63, 2**63 - 1) == -1


def test_add_ints_kw(pof):
    assert pof.add_ints_kw(1, 2) == 3
    assert pof.add_ints_kw(1, b=2) == 3
    assert pof.add_ints_kw(b=2, a=1) == 3


def test_docstrings_and_signatures(pof):
    assert pof.__doc__ == "HPy's proof-of-concept module, in Rust."
    assert pof.add_ints.__doc__ == "Add two integers."
    assert pof.double.__doc__ == "Return x + x, for any object that supports `+`."
    if not IS_PYPY:
        assert pof.add_ints.__text_signature__ == "(a, b, /)"
        assert pof.add_ints_kw.__text_signature__ == "(a, b)"
        assert pof.do_nothing.__text_signature__ == "()"


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda m: m.add_ints(1, 2, 3), TypeError, r"^add_ints\(\) takes exactly 2 arguments \(3 given\)$"),
        (lambda m: m.add_ints(1), TypeError, r"^add_ints\(\) takes exactly 2 arguments \(1 given\)$"),
        (lambda m: m.add_ints("a", 1), TypeError, r"^add_ints\(\) argument 'a' must be int, not str$"),
        (lambda m: m.add_ints(1, 2.0), TypeError, r"^add_ints\(\) argument 'b' must be int, not float$"),
        (lambda m: m.add_ints(2**63, 0), OverflowError, r"."),
        (lambda m: m.add_ints(2**62, 2**62), OverflowError, r"^add_ints\(\) result does not fit in 64 bits$"),
        (lambda m: m.add_ints_kw(1, 2, c=3), TypeError, r"^add_ints_kw\(\) got an unexpected keyword argument 'c'$"),
        (lambda m: m.add_ints_kw(1, a=2), TypeError, r"^add_ints_kw\(\) got multiple values for argument 'a'$"),
        (lambda m: m.add_ints_kw(1), TypeError, r"^add_ints_kw\(\) missing 1 required positional argument: 'b'$"),
        (lambda m: m.add_ints_kw(), TypeError,
         r"^add_ints_kw\(\) missing 2 required positional arguments: 'a' and 'b'$"),
        (lambda m: m.add_ints_kw(1, 2, 3), TypeError,
         r"^add_ints_kw\(\) takes 2 positional arguments but 3 were given$"),
        (lambda m: m.add_ints_kw(a="x", b=1), TypeError, r"^add_ints_kw\(\) argument 'a' must be int, not str$"),
    ],
)
def test_bad_input_raises_like_cpython(pof, call, exc, message):
    with pytest.raises(exc, match=message):
        call(pof)
    # ... and the module keeps working.
    assert pof.add_ints(1, 2) == 3


def test_interpreter_checks_the_calling_convention(pof):
    # These are checked by the interpreter itself (METH_NOARGS/O/FASTCALL), each
    # in its own words.
    with pytest.raises(TypeError, match="do_nothing"):
        pof.do_nothing(1)
    with pytest.raises(TypeError, match="double"):
        pof.double()
    with pytest.raises(TypeError, match="keyword"):
        pof.add_ints(a=1, b=2)


@universal_only
@pytest.mark.parametrize("hpy_mode", ["universal", "debug", "trace"])
def test_import_through_the_loader_stub(hpy_mode):
    """`import pof` from the folder `cargo hpy build` wrote, honouring HPY=<mode>."""
    if IS_PYPY and hpy_mode == "trace":
        pytest.skip("trace mode is covered on CPython; PyPy runs universal and debug here")
    build_module("pof")
    build_module("features")  # reports the mode its functions are called in
    assert (MODULES_DIR / "pof.py").exists()
    code = "import pof, features; print(pof.add_ints(40, 2), pof.double('ab'), pof.__file__, features.context_name())"
    env = dict(os.environ, HPY=hpy_mode)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=MODULES_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(f"42 abab {MODULES_DIR / 'pof.hpy0.so'} HPy {hpy_mode.capitalize()}"), out


@universal_only
@pytest.mark.parametrize("mode", ["debug"])
def test_debug_mode_smoke(loader, mode):
    """Every pof function in debug mode, inside a LeakDetector, on every interpreter
    (PyPy runs only this in debug mode: it costs tens of microseconds per call there)."""
    pof = loader.load("pof", mode)
    from hpy.debug import LeakDetector

    with LeakDetector():
        assert pof.do_nothing() is None
        assert pof.double("ab") == "abab"
        assert pof.add_ints(40, 2) == 42
        assert pof.add_ints_kw(b=2, a=40) == 42
        with pytest.raises(TypeError):
            pof.add_ints("a", 1)
        with pytest.raises(TypeError):
            pof.add_ints_kw(1, 2, c=3)


def test_point(pof):
    # HPy's own proof-of-concept test: `repr(pof.Point(1, 2)) == 'Point(1, 2)'`
    p = pof.Point(1, 2)
    assert repr(p) == "Point(1, 2)"
    assert (p.x, p.y) == (1.0, 2.0)
    assert repr(pof.Point(0.5, -1234567.0)) == "Point(0.5, -1.23457e+06)"  # C's %g
    with pytest.raises(TypeError, match=r"^Point\.__new__\(\) missing 1 required positional argument: 'y'$"):
        pof.Point(1)


@pytest.mark.parametrize("hpy_mode", ["cpython"] if CPYTHON_ABI else ["universal", "debug"])
def test_pofpackage(tmp_path, hpy_mode):
    """HPy's proof-of-concept package module: `cargo hpy build -p pofpackage`
    lays out `pofpackage/foo.hpy0.so` with its loader and `__init__.py` (in a
    CPython-ABI build, `pofpackage/foo<EXT_SUFFIX>` and `__init__.py`), and
    the module's type stub with the package's `py.typed`; the same for
    `pofpackage.bar`, the library's second module, each with its own
    functions."""
    from conftest import ROOT, TARGET_DIR, cargo_hpy

    out = tmp_path / "site"
    abi = ["--abi", "cpython", "--python", sys.executable] if hpy_mode == "cpython" else []
    subprocess.run(
        [*cargo_hpy(), "hpy", "build", "--quiet", "-p", "pofpackage", "--out", str(out), *abi],
        cwd=ROOT, check=True, capture_output=True, text=True,
        env=dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR)),
    )
    if hpy_mode == "cpython":
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        expected = ["__init__.py", "bar" + suffix, "bar.pyi", "foo" + suffix, "foo.pyi", "py.typed"]
    else:
        expected = ["__init__.py", "bar.hpy0.so", "bar.py", "bar.pyi", "foo.hpy0.so", "foo.py", "foo.pyi",
                    "py.typed"]
    assert sorted(p.name for p in (out / "pofpackage").iterdir()) == expected
    code = ("import pofpackage.foo, pofpackage.bar; "
            "print(pofpackage.foo.__name__, pofpackage.foo.hello(), pofpackage.foo.hello.__module__); "
            "print(pofpackage.bar.__name__, pofpackage.bar.shout('hi'), sorted(vars(pofpackage.bar)), "
            "hasattr(pofpackage.foo, 'shout'))")
    res = subprocess.run([sys.executable, "-c", code], cwd=out, env=dict(os.environ, HPY=hpy_mode),
                         capture_output=True, text=True, check=True)
    foo, bar = res.stdout.splitlines()
    assert foo.split() == ["pofpackage.foo", "hello", "from", "pofpackage.foo", "pofpackage.foo"]
    assert bar.split(" ", 2)[:2] == ["pofpackage.bar", "HI!"]
    assert "'shout'" in bar and "'hello'" not in bar and bar.endswith(" False"), bar
    # Each module's stub has its own functions only.
    assert "def shout(" in (out / "pofpackage" / "bar.pyi").read_text()
    assert "def shout(" not in (out / "pofpackage" / "foo.pyi").read_text()
