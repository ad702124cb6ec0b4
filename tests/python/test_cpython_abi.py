"""The first module of the native CPython target (docs/cpython-abi.md).

`tests/smoke`, built with `cargo hpy build --abi cpython` (`--cfg
hpy_abi="cpython"`), is a plain CPython extension: `PyInit_smoke`, imported by a plain
`import` with no `hpy` package anywhere, its trampolines calling the impl
functions directly with the handles as object pointers. CPython only (the
interpreter running the tests; PyPy has no such target).
"""

import os
import re
import subprocess
import sys
import sysconfig

import pytest
from conftest import IS_PYPY, ROOT, build_cpython_extension, cargo_hpy

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


# ---------------------------------------------------------------------------
# The abi3 build: one file, CPython's limited API, every CPython from 3.10

abi3_only = pytest.mark.skipif(sys.version_info < (3, 10),
                               reason="the abi3 build is for CPython 3.10 and newer")


def other_cpythons():
    """The CPythons from 3.10 on that tools/setup-interpreters prepared
    (`HPY_CPYTHONS`, "3.N=path ..."; tools/test exports it), this one first."""
    found = [sys.executable]
    for entry in os.environ.get("HPY_CPYTHONS", "").split():
        version, _, path = entry.partition("=")
        v = tuple(map(int, version.split(".")))
        if v >= (3, 10) and v != sys.version_info[:2] and path not in found:
            found.append(path)
    return found


@pytest.fixture(scope="module")
def smoke_abi3(tmp_path_factory):
    """tests/smoke built by `cargo hpy build --abi abi3`: the folder holding
    `smoke.abi3.so`."""
    out = tmp_path_factory.mktemp("abi3")
    build_cpython_extension("hpy-smoke-fixture", out, abi="abi3")
    assert [p.name for p in out.iterdir()] == ["smoke.abi3.so"]
    return out


@abi3_only
def test_abi3_one_file_loads_on_every_cpython(smoke_abi3):
    code = (f"import sys; sys.path.insert(0, {str(smoke_abi3)!r})\n"
            "import smoke\n"
            "print(sys.version_info[:2], smoke.noop(), smoke.context_name(), smoke.__file__)")
    seen = []
    for python in other_cpythons():
        out = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
        assert out[2:] == ["None", "HPy", "CPython", "ABI", str(smoke_abi3 / "smoke.abi3.so")], out
        seen.append(" ".join(out[:2]))
    assert len(set(seen)) == len(seen)  # one interpreter per version


def undefined_symbols(so):
    out = subprocess.run(["nm", "-D", "--undefined-only", str(so)], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


# Functions outside CPython 3.10's limited API that the per-version build
# calls (each has a limited form in the abi3 build: docs/cpython-abi.md).
NOT_IN_LIMITED_310 = {
    "PyObject_Vectorcall", "PyObject_VectorcallMethod", "PyVectorcall_Call",
    "PyContextVar_New", "PyContextVar_Get", "PyContextVar_Set",
    "PyObject_CallFinalizerFromDealloc", "PyUnicode_AsUTF8",
}


@abi3_only
def test_abi3_calls_only_the_limited_api(tmp_path):
    """The abi3 build of a module that calls, compares, imports, ... needs none
    of the functions its per-version build uses from outside the limited API
    (which pyo3-ffi's abi3 feature does not even declare)."""
    per_dir, abi3_dir = tmp_path / "per-version", tmp_path / "abi3"
    build_cpython_extension("hpy-api-object-fixture", per_dir)
    build_cpython_extension("hpy-api-object-fixture", abi3_dir, abi="abi3")
    per_version = undefined_symbols(next(per_dir.glob("*.so")))
    abi3 = undefined_symbols(abi3_dir / "api_object.abi3.so")
    assert per_version & NOT_IN_LIMITED_310, "the per-version build no longer shows the difference"
    assert not abi3 & NOT_IN_LIMITED_310
    assert "PyType_GetSlot" in abi3  # type slots are read through the limited API


def test_abi3_refuses_an_older_cpython(tmp_path):
    older = [entry.partition("=")[2] for entry in os.environ.get("HPY_CPYTHONS", "").split()
             if entry.startswith("3.9=")]
    python = sys.executable if sys.version_info < (3, 10) else (older[0] if older else None)
    if python is None:
        pytest.skip("no CPython 3.9 here (HPY_CPYTHONS)")
    proc = subprocess.run(
        [*cargo_hpy(), "hpy", "build", "--quiet", "-p", "hpy-smoke-fixture", "--abi", "abi3",
         "--python", python, "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode != 0
    assert "--abi abi3 builds for CPython 3.10 and newer" in proc.stderr
    assert list(tmp_path.iterdir()) == []
