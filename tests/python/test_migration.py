"""examples/migration: one module, half PyO3 and half hpy-rs (issue 13's
incremental migration). PyO3 speaks CPython's C API, so the module is built
as a CPython-ABI extension for the interpreter running the tests (in either
mode of the suite); and as a universal module, which CPython's hpy package
loads (universal and debug mode), PyO3 reaching the interpreter through
HPy's hybrid ABI. CPython only.
"""

import gc
import os
import subprocess
import sys
import sysconfig

import pytest
from conftest import IS_PYPY, ROOT, TARGET_DIR, build_cpython_extension, cargo_hpy, leak_check

pytestmark = pytest.mark.skipif(IS_PYPY, reason="PyO3's half needs CPython's C API")


@pytest.fixture(scope="module")
def migration(tmp_path_factory):
    out = tmp_path_factory.mktemp("migration")
    build_cpython_extension("hpy-migration-example", out)
    path = out / ("migration" + sysconfig.get_config_var("EXT_SUFFIX"))
    import importlib.util

    spec = importlib.util.spec_from_file_location("migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_halves_are_in_one_module(migration):
    names = {n for n in dir(migration) if not n.startswith("_")}
    assert names == {"word_count", "Counter", "mean", "shout", "describe"}
    assert migration.__doc__ == "A module of two halves, PyO3 and hpy-rs."


def test_the_pyo3_half(migration):
    assert migration.word_count("one two  three") == 3
    assert migration.word_count.__module__ == "migration"
    c = migration.Counter()
    assert [c.bump(), c.bump()] == [1, 2]
    assert type(c).__module__ == "migration"
    with pytest.raises(TypeError):
        migration.word_count(5)


def test_the_hpy_half(migration):
    assert migration.mean([1, 2, 3.5]) == 6.5 / 3
    with pytest.raises(ValueError, match=r"^mean\(\) of an empty sequence$"):
        migration.mean([])
    with pytest.raises(TypeError, match=r"^mean\(\) argument 'xs'"):
        migration.mean("abc")


def test_objects_cross_between_the_halves(migration):
    # hpy-rs code calling PyO3 on a handle, and back.
    assert migration.shout("hey") == "HEY!"
    # Bound<PyAny> as an #[hpy_method]'s parameter and result.
    assert migration.describe(2.5) == "float"
    assert migration.describe(migration.Counter()) == "Counter"


def test_a_pyo3_error_is_the_python_exception(migration):
    # PyErr -> hpy::Error: the AttributeError PyO3 got, raised as it is.
    with pytest.raises(AttributeError, match=r"'int' object has no attribute 'upper'"):
        migration.shout(5)
    # ... and the interpreter is fine afterwards.
    assert migration.shout("ok") == "OK!"


def test_no_reference_is_leaked(migration):
    obj = "".join(["a", "b", "c"])  # made at run time: not interned, not immortal
    before = sys.getrefcount(obj)
    for _ in range(1000):
        migration.shout(obj)
        migration.describe(obj)
    gc.collect()
    assert sys.getrefcount(obj) == before


@pytest.fixture(scope="module")
def migration_universal(tmp_path_factory):
    """The same crate as a universal module (.hpy0.so), for CPython's hpy
    package: PyO3's half reaches CPython's C API through the hybrid ABI."""
    hpy_universal = pytest.importorskip("hpy.universal", reason="no hpy package on this CPython")
    out = tmp_path_factory.mktemp("migration-universal")
    # PyO3 is configured for the interpreter that loads it (PYO3_PYTHON), in
    # a target directory per version (another PYO3_PYTHON rebuilds PyO3).
    version = "%d.%d" % sys.version_info[:2]
    env = dict(os.environ, PYO3_PYTHON=sys.executable,
               CARGO_TARGET_DIR=str(TARGET_DIR / f"migration-universal-{version}"))
    subprocess.run(
        [*cargo_hpy(), "hpy", "build", "--quiet", "-p", "hpy-migration-example", "--out", str(out)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env,
    )
    return hpy_universal, out / "migration.hpy0.so"


@pytest.mark.parametrize("hpy_mode", ["universal", "debug"])
def test_the_universal_build_on_cpython(migration_universal, hpy_mode):
    import importlib.util

    hpy_universal, path = migration_universal
    spec = importlib.util.spec_from_file_location("migration", path)
    m = hpy_universal.load("migration", str(path), spec,
                           mode=getattr(hpy_universal, "MODE_" + hpy_mode.upper()))
    with leak_check(hpy_mode):  # debug mode: no handle leaked across the hybrid ABI
        assert m.word_count("a b c") == 3 and m.Counter().bump() == 1  # PyO3's half
        assert m.mean([1, 2]) == 1.5 and m.shout("hi") == "HI!"  # hpy-rs's half
        assert m.describe(m.Counter()) == "Counter"
        with pytest.raises(AttributeError, match=r"'int' object has no attribute 'upper'"):
            m.shout(5)
