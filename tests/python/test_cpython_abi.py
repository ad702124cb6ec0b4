"""The first module of the native CPython target (docs/cpython-abi.md).

`tests/smoke`, built with `cargo hpy build --abi cpython` (`--cfg
hpy_abi="cpython"`), is a plain CPython extension: `PyInit_smoke`, imported by a plain
`import` with no `hpy` package anywhere, its trampolines calling the impl
functions directly with the handles as object pointers. CPython only (the
interpreter running the tests; PyPy has no such target).
"""

import re
import subprocess
import sys
import sysconfig

import pytest
from conftest import IS_PYPY, build_cpython_extension

pytestmark = pytest.mark.skipif(IS_PYPY, reason="the CPython-ABI target is for CPython")


@pytest.fixture(scope="module")
def smoke_extension(tmp_path_factory):
    """Builds tests/smoke as a CPython extension for this interpreter, with
    the build tool (`cargo hpy build --abi cpython --python ...`); the folder
    that holds it as `smoke<EXT_SUFFIX>`."""
    out = tmp_path_factory.mktemp("cpython-abi")
    build_cpython_extension("hpy-smoke-fixture", out)
    assert [p.name for p in out.iterdir()] == ["smoke" + sysconfig.get_config_var("EXT_SUFFIX")]
    return out


def run_python(folder, code):
    """`code` in a fresh interpreter whose path starts at `folder` and holds
    no `hpy` package (-I -S: no environment, no site-packages)."""
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(folder)!r})\n" + code],
        capture_output=True, text=True, check=True,
    ).stdout


def test_a_plain_import_without_the_hpy_package(smoke_extension):
    out = run_python(smoke_extension, """
import importlib.util
assert importlib.util.find_spec("hpy") is None, "the hpy package is visible"
import smoke
print(smoke.noop(), smoke.context_name(), smoke.__doc__, "hpy" in sys.modules)
""")
    assert out.split("\n")[0] == "None HPy CPython ABI Smoke-test fixture of hpy-sys. False"


def test_cpythons_own_calling_convention(smoke_extension):
    out = run_python(smoke_extension, """
import inspect, smoke
print(smoke.noop.__doc__)
print(inspect.signature(smoke.noop))
try:
    smoke.noop(1)
except TypeError as e:
    print(e)
""")
    doc, signature, error = out.splitlines()
    assert (doc, signature) == ("Return None.", "()")
    assert re.fullmatch(r"(smoke\.)?noop\(\) takes no arguments \(1 given\)", error), error


def test_exports_only_pyinit(smoke_extension):
    so = next(smoke_extension.iterdir())
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True,
                             text=True, check=True).stdout.split()
    assert "PyInit_smoke" in symbols
    assert not [s for s in symbols if "HPyInit" in s or "get_required_hpy" in s]
