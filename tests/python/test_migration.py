"""examples/migration: one module, half PyO3 and half hpy-rs (issue 13's
incremental migration). PyO3 speaks CPython's C API, so the module is built
as a CPython-ABI extension for the interpreter running the tests (in either
mode of the suite); CPython only.
"""

import gc
import sys
import sysconfig

import pytest
from conftest import IS_PYPY, build_cpython_extension

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
