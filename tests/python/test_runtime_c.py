"""C extensions written against HPy 0.9's own headers (universal ABI), the
kind `hpy.devel` builds, loaded by whichever runtime the suite runs with
(HPy's, hpy-rs's on CPython, PyPy's): hpy-rs's runtime must load what HPy's
does, and not share its bugs.

The C sources are in `tests/c/`; each is compiled here with gcc against the
headers of the `hpy` package (`$HPY_INCLUDE_DIR`, which tools/test sets, or
`hpy.devel` of this interpreter). Each module runs in a child process, so
that a runtime's crash is a result, not the end of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CHILD_LOADER, IS_PYPY, ROOT, RUNTIME, universal_only

pytestmark = universal_only


def include_dir() -> str:
    """HPy 0.9's C headers (`hpy/devel/include`)."""
    explicit = os.environ.get("HPY_INCLUDE_DIR")
    if explicit:
        return explicit
    try:
        from hpy.devel import HPyDevel
    except ImportError:
        pytest.skip("no HPy headers: set HPY_INCLUDE_DIR (tools/test does) or install hpy==0.9.0")
    return str(HPyDevel().include_dir)


@pytest.fixture(scope="session")
def c_module(tmp_path_factory):
    """`c_module(name)`: tests/c/<name>.c built as `<name>.hpy0.so`; its path."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH")
    out = tmp_path_factory.mktemp("c-modules")

    def build(name: str) -> Path:
        path = out / f"{name}.hpy0.so"
        if not path.exists():
            subprocess.run(
                ["gcc", "-O1", "-fPIC", "-shared", "-Wall", "-Werror", "-DHPY_ABI_UNIVERSAL",
                 f"-I{include_dir()}", str(ROOT / "tests" / "c" / f"{name}.c"), "-o", str(path)],
                check=True, capture_output=True, text=True,
            )
        return path

    return build


def run_child(name: str, path: Path, mode: str, body: str) -> subprocess.CompletedProcess:
    script = CHILD_LOADER + f"m = load({name!r}, {str(path)!r}, {mode!r})\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=os.environ, timeout=120)


def test_subtype_of_a_callable_type_keeps_its_fields_and_its_call(c_module, mode):
    """A subtype with a struct of its own and no `HPy_tp_call`, of a type
    with one: its fields and the call function it inherits must not share
    memory. HPy 0.9's runtime keeps the call function after the base's
    struct, inside the subtype's fields: writing them overwrites it, and the
    call jumps to the number written (a segfault, asserted as the known
    bug). hpy-rs's runtime moves the field after the subtype's struct; PyPy
    keeps it apart too."""
    r = run_child("call_subtype", c_module("call_subtype"), mode, """
        print(m.Base()(), m.Sub().extra(), flush=True)
        s = m.Sub()
        print(s(), s.extra(), isinstance(s, m.Base), flush=True)
    """)
    if RUNTIME == "hpy" and not IS_PYPY:
        assert r.stdout == "42 4006\n" and r.returncode == -11, (r.returncode, r.stdout, r.stderr)
        return
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stdout.split() == ["42", "4006", "7", "4006", "True"]
