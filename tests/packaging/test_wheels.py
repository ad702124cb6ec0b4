"""Wheels from `cargo hpy wheel`, installed by pip into fresh virtualenvs.

`examples/pof` as a universal wheel (CPython 3.11 and 3.14 with hpy-rs's
runtime, the `hpy-rs-runtime` wheel of `runtime/`, which pip installs as the
universal wheel requires; CPython 3.11 with the `hpy` package from PyPI
instead; PyPy 7.3.19 with its own pip, in a virtualenv of its own), as a CPython-ABI wheel per interpreter, and as one abi3
wheel (CPython 3.11 and 3.14): pip accepts each tag where it should, the
module imports and answers from where pip put it, `HPY=debug` works on an
installed universal wheel, `pip uninstall` leaves nothing behind, and from a
folder holding them all pip picks the best wheel for each interpreter.

Run by tools/test with the CPython venv (`HPY_CPYTHONS` names the other
CPythons, `HPY_PYPY` PyPy); a CPython the machine lacks is skipped by name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / os.environ.get("CARGO_TARGET_DIR", "target")
sys.path.insert(0, str(ROOT / "tools"))
from interpreters import cargo_hpy  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def backend_runs_the_built_cargo_hpy():
    """pip's builds from this checkout (`pip install examples/pof`, ...) run
    the cargo-hpy the tests run (the backend's `HPY_RS_CARGO_HPY`), not a
    release build of it of their own: that costs a minute and changes
    nothing they check. The sdist test unsets it: the sdist must build with
    the cargo-hpy it carries, which is the backend's default path."""
    before = os.environ.get("HPY_RS_CARGO_HPY")
    os.environ["HPY_RS_CARGO_HPY"] = cargo_hpy()[0]
    yield
    if before is None:
        del os.environ["HPY_RS_CARGO_HPY"]
    else:
        os.environ["HPY_RS_CARGO_HPY"] = before

# What every check runs: pof's functions and class, from the installed file.
CHECK = """
import sys, pof
assert pof.add_ints(40, 2) == 42 and pof.double("ab") == "abab"
assert repr(pof.Point(1, 2.5)) == "Point(1, 2.5)"
print(pof.__file__)
"""


def cpython(version: str) -> str | None:
    """The interpreter of CPython `version` from `HPY_CPYTHONS` (this one
    for its own version)."""
    if version == "%d.%d" % sys.version_info[:2]:
        return sys.executable
    for entry in os.environ.get("HPY_CPYTHONS", "").split():
        v, _, path = entry.partition("=")
        if v == version:
            return path
    return None


def need(version: str) -> str:
    python = cpython(version)
    if python is None:
        pytest.skip(f"CPython {version} is not on this machine (HPY_CPYTHONS)")
    return python


def run(*cmd, env=None, check=True) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def cargo_hpy_wheel(out: Path, *args: str) -> Path:
    lines = run("cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "wheel", "--quiet",
                "-p", "pof", "--out", out, *args).split()
    return Path(lines[-1])


@pytest.fixture(scope="session")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """pof's wheels: universal, abi3, and CPython-ABI for 3.11 (and 3.14 if
    the machine has it)."""
    out = tmp_path_factory.mktemp("wheels")
    built = {
        "universal": cargo_hpy_wheel(out),
        "abi3": cargo_hpy_wheel(out, "--abi", "abi3", "--python", sys.executable),
    }
    for version in ("3.11", "3.14"):
        python = cpython(version)
        if python:
            built[version] = cargo_hpy_wheel(out, "--abi", "cpython", "--python", python)
    return built


@pytest.fixture(scope="session")
def runtime_wheels(tmp_path_factory) -> Path:
    """A folder with hpy-rs's runtime as wheels (`cargo hpy wheel -p
    hpy-rs-runtime`, release: the build `tools/build-runtime` makes) for
    CPython 3.11 and 3.14 (where the machine has it)."""
    out = tmp_path_factory.mktemp("runtime")
    for version in ("3.11", "3.14"):
        python = cpython(version)
        if python:
            run("cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "wheel", "--quiet",
                "--release", "-p", "hpy-rs-runtime", "--python", python, "--out", out)
    return out


@pytest.fixture(scope="session")
def pip_wheel(tmp_path_factory) -> Path:
    """pip's own wheel (from PyPI, or pip's cache), for the venvs: Debian's
    CPythons keep ensurepip's wheels in another package."""
    out = tmp_path_factory.mktemp("pip")
    run(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:", "--no-deps",
        "pip", "-d", out)
    return next(out.glob("pip-*.whl"))


@pytest.fixture
def venv(pip_wheel, tmp_path):
    """`venv(python, name)`: a fresh virtualenv of `python` with pip; its
    interpreter."""
    def make(python: str, name: str = "venv") -> Path:
        path = tmp_path / name
        run(python, "-m", "venv", "--without-pip", path)
        vpy = path / "bin" / "python"
        run(vpy, pip_wheel / "pip", "install", "--quiet", "--no-index", pip_wheel)
        return vpy
    return make


@pytest.fixture(scope="session")
def hpy_wheel(tmp_path_factory) -> Path:
    """A folder with the hpy 0.9.0 wheel for CPython 3.11 and what it
    requires (setuptools), from PyPI or pip's cache."""
    out = tmp_path_factory.mktemp("hpy")
    run(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:",
        "hpy==0.9.0", "-d", out)
    return out


def site_packages(python: Path) -> Path:
    return Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())


def leftovers(python: Path) -> list[str]:
    return sorted(p.name for p in site_packages(python).iterdir() if p.name.lower().startswith("pof"))


def install_check_uninstall(python: Path, wheel: Path, *pip_args, env=None) -> str:
    """Installs `wheel`, imports pof from outside the source tree, uninstalls;
    the installed module's file name."""
    run(python, "-m", "pip", "install", "--quiet", "--no-index", *pip_args, wheel)
    installed = Path(run(python, "-I", "-c", CHECK, env=env).strip())
    assert installed.parent == site_packages(python)
    assert leftovers(python)  # the module and its .dist-info
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof")
    assert leftovers(python) == []
    return installed.name


def platform_of(wheel: Path) -> str:
    return wheel.stem.rsplit("-", 1)[1]


def test_runtime_wheel(runtime_wheels):
    """hpy-rs's runtime: one wheel per CPython, the extension inside its
    package with the package's Python sources, for that version only."""
    wheel = next(runtime_wheels.glob("hpy_rs_runtime-0.1.0-cp311-cp311-manylinux_2_*_x86_64.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n for n in names if not n.startswith("hpy_rs_runtime-0.1.0.dist-info/")) == [
        "hpy_rs_runtime/__init__.py", "hpy_rs_runtime/_debug.py",
        "hpy_rs_runtime/_universal.cpython-311-x86_64-linux-gnu.so", "hpy_rs_runtime/debug.py",
        "hpy_rs_runtime/trace.py", "hpy_rs_runtime/universal.py"]
    metadata = zipfile.ZipFile(wheel).read("hpy_rs_runtime-0.1.0.dist-info/METADATA").decode()
    assert "Name: hpy-rs-runtime\n" in metadata and "Requires-Python: ==3.11.*\n" in metadata
    assert "Requires-Dist" not in metadata
    # Not an hpy-rs module: no universal or abi3 build of it.
    for abi in ("universal", "abi3"):
        proc = subprocess.run(["cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "wheel",
                               "-p", "hpy-rs-runtime", "--abi", abi], capture_output=True, text=True,
                              check=False, cwd=ROOT)
        assert proc.returncode != 0 and (
            f"hpy-rs-runtime is a CPython extension (package.metadata.hpy kind), built per CPython: "
            f"--abi cpython, not {abi}") in proc.stderr, proc.stderr


def test_wheel_names_and_contents(wheels):
    platform = platform_of(wheels["universal"])
    assert re.fullmatch(r"manylinux_2_\d+_x86_64", platform), platform
    assert wheels["universal"].name == f"pof-0.1.0-py3-none-{platform}.whl"
    assert wheels["abi3"].name == f"pof-0.1.0-cp310-abi3-{platform}.whl"
    assert wheels["3.11"].name == f"pof-0.1.0-cp311-cp311-{platform}.whl"
    names = zipfile.ZipFile(wheels["universal"]).namelist()
    assert sorted(names) == ["pof-0.1.0.dist-info/METADATA", "pof-0.1.0.dist-info/RECORD",
                             "pof-0.1.0.dist-info/WHEEL", "pof-stubs/__init__.pyi", "pof.hpy0.so", "pof.py"]
    metadata = zipfile.ZipFile(wheels["universal"]).read("pof-0.1.0.dist-info/METADATA").decode()
    assert 'Requires-Dist: hpy-rs-runtime; platform_python_implementation == "CPython"' in metadata
    assert "pkg_resources" not in zipfile.ZipFile(wheels["universal"]).read("pof.py").decode()


@pytest.mark.parametrize("version", ["3.11", "3.14"])
def test_universal_wheel_on_cpython(wheels, runtime_wheels, venv, version):
    """pip installs the runtime the universal wheel requires, which loads it
    (on 3.14 too, where the `hpy` package cannot), in universal and debug
    mode; uninstalling pof leaves the runtime."""
    python = venv(need(version))
    run(python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", runtime_wheels,
        wheels["universal"])
    assert run(python, "-m", "pip", "list", "--format=freeze").split() == [
        "hpy-rs-runtime==0.1.0", "pip==" + run(python, "-c", "import pip; print(pip.__version__)").strip(),
        "pof==0.1.0"]
    # Universal mode: no handle of pof's calls is tracked; debug mode
    # (HPY=debug): they are, and a leak detector around a call finds none.
    tracked = """
from hpy_rs_runtime import _debug
from hpy_rs_runtime.debug import LeakDetector
with LeakDetector():
    pof.add_ints(1, 2)
print('hpy' in sys.modules, 'hpy_rs_runtime._universal' in sys.modules, len(_debug.get_closed_handles()) > 0)
"""
    pof_file = str(site_packages(python) / "pof.hpy0.so")
    assert run(python, "-I", "-c", CHECK + tracked).split() == [pof_file, "False", "True", "False"]
    assert run(python, "-I", "-c", CHECK + tracked, env=dict(os.environ, HPY="debug")).split() == [
        pof_file, "False", "True", "True"]
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof")
    assert leftovers(python) == []


def test_universal_wheel_with_hpy_package(wheels, hpy_wheel, venv):
    """Where HPy's runtime is installed instead (CPython 3.11, `hpy==0.9.0`
    from PyPI, the universal wheel's dependency left out), the loader stub
    uses it."""
    python = venv(need("3.11"))
    run(python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", hpy_wheel, "hpy==0.9.0")
    run(python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", wheels["universal"])
    assert run(python, "-I", "-c", "import importlib.metadata as m; print(m.version('hpy'))").strip() == "0.9.0"
    assert Path(run(python, "-I", "-c", CHECK).strip()).name == "pof.hpy0.so"
    # HPy's debug mode on the installed module: a leak detector around calls.
    debug = run(python, "-I", "-c", CHECK + """
from hpy.debug import LeakDetector
with LeakDetector():
    pof.add_ints(1, 2)
print(pof.__name__, type(pof).__name__, 'hpy.universal' in sys.modules)
""", env=dict(os.environ, HPY="debug"))
    assert "pof module True" in debug
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof")
    assert leftovers(python) == []


def test_cpython_abi_wheel(wheels, venv):
    python = venv(need("3.11"))
    assert install_check_uninstall(python, wheels["3.11"]) == "pof.cpython-311-x86_64-linux-gnu.so"
    # No hpy package anywhere: a plain CPython extension.
    assert "hpy" not in run(python, "-m", "pip", "list", "--format=freeze")


@pytest.mark.parametrize("version", ["3.11", "3.14"])
def test_abi3_wheel(wheels, venv, version):
    python = venv(need(version))
    assert install_check_uninstall(python, wheels["abi3"]) == "pof.abi3.so"


def test_wrong_interpreter_is_refused(wheels, venv):
    python = venv(need("3.14"))
    proc = subprocess.run([python, "-m", "pip", "install", "--no-index", wheels["3.11"]],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "is not a supported wheel on this platform" in proc.stderr


def test_pip_picks_the_best_wheel(wheels, runtime_wheels, venv, tmp_path):
    """From one folder with every wheel: the CPython-ABI wheel where there is
    one for the interpreter, else abi3 (3.10+), never the universal one on
    CPython."""
    folder = tmp_path / "all"
    folder.mkdir()
    for w in wheels.values():
        shutil.copy(w, folder)
    for version, expected in (("3.11", "pof.cpython-311-x86_64-linux-gnu.so"),
                              ("3.14", "pof.cpython-314-x86_64-linux-gnu.so" if "3.14" in wheels else "pof.abi3.so"),
                              ("3.12", "pof.abi3.so")):
        if cpython(version) is None:
            continue
        python = venv(cpython(version), f"venv-{version}")
        got = install_check_uninstall(python, "pof", "--find-links", folder, "--find-links", runtime_wheels)
        assert got == expected, version


def pypy() -> str:
    python = os.environ.get("HPY_PYPY")
    if not python:
        pytest.skip("PyPy is not on this machine (HPY_PYPY)")
    return python


def test_universal_wheel_on_pypy(wheels, venv):
    """PyPy's own pip, in a fresh virtualenv: it refuses pof's CPython
    wheels, installs the universal one with nothing else (HPy is built in),
    which imports and answers from site-packages in universal and debug
    mode; uninstalling leaves nothing."""
    python = venv(pypy(), "venv-pypy")
    for other in ("abi3", "3.11"):
        proc = subprocess.run([python, "-m", "pip", "install", "--no-index", wheels[other]],
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and "is not a supported wheel on this platform" in proc.stderr, other
    before = run(python, "-m", "pip", "list", "--format=freeze").split()
    run(python, "-m", "pip", "install", "--quiet", "--no-index", wheels["universal"])
    assert sorted(set(run(python, "-m", "pip", "list", "--format=freeze").split()) - set(before)) == ["pof==0.1.0"]
    assert Path(run(python, "-I", "-c", CHECK).strip()) == site_packages(python) / "pof.hpy0.so"
    debug = run(python, "-I", "-c", CHECK + """
from hpy.debug import LeakDetector
with LeakDetector():
    pof.add_ints(1, 2)
print(type(pof).__name__, pof.add_ints.__module__)
""", env=dict(os.environ, HPY="debug"))
    assert debug.split()[1:] == ["module", "pof"], debug
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof")
    assert leftovers(python) == []


# ---------------------------------------------------------------------------
# The PEP 517 backend (python/hpy_rs_build; examples/pof loads it in place)


def test_pip_install_from_source(venv):
    """`pip install examples/pof`: a CPython-ABI extension for the
    interpreter doing the install (3.11, and 3.14 where the hpy package
    cannot go); uninstalled without leftovers."""
    for version in ("3.11", "3.14"):
        if cpython(version) is None:
            continue
        python = venv(cpython(version), f"venv-{version}")
        got = install_check_uninstall(python, ROOT / "examples" / "pof")
        assert got == "pof.cpython-%s-x86_64-linux-gnu.so" % version.replace(".", "")


def test_pip_install_from_source_on_pypy(venv):
    """`pip install examples/pof` with PyPy's pip: the universal module."""
    python = venv(pypy(), "venv-pypy")
    assert install_check_uninstall(python, ROOT / "examples" / "pof") == "pof.hpy0.so"


def test_pip_install_runtime_from_source(wheels, venv):
    """`pip install runtime`: hpy-rs's runtime built for the interpreter doing
    the install, which then satisfies the universal wheel's requirement."""
    python = venv(need("3.14"))
    run(python, "-m", "pip", "install", "--quiet", ROOT / "runtime")
    run(python, "-m", "pip", "install", "--quiet", "--no-index", wheels["universal"])
    assert Path(run(python, "-I", "-c", CHECK).strip()).name == "pof.hpy0.so"
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof", "hpy-rs-runtime")
    assert [p.name for p in site_packages(python).iterdir() if p.name.startswith(("pof", "hpy"))] == []


def test_pip_wheel_with_config_settings(venv, tmp_path):
    python = venv(need("3.11"))
    out = tmp_path / "out"
    for abi, prefix in (("abi3", "pof-0.1.0-cp310-abi3-manylinux_2_"),
                        ("universal", "pof-0.1.0-py3-none-manylinux_2_")):
        run(python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-C", f"abi={abi}", "-w", out,
            ROOT / "examples" / "pof")
        assert [p for p in out.iterdir() if p.name.startswith(prefix)], sorted(p.name for p in out.iterdir())


def test_editable_install(venv):
    """`pip install -e examples/pof`: the module is imported from the folder
    the build tool writes (`target/hpy-editable/pof`), so a rebuild there is
    what the next import sees; the install holds only a .pth."""
    python = venv(need("3.11"))
    run(python, "-m", "pip", "install", "--quiet", "-e", ROOT / "examples" / "pof")
    installed = Path(run(python, "-I", "-c", CHECK).strip())
    assert installed.parent.name == "pof" and installed.parent.parent.name == "hpy-editable"
    assert sorted(leftovers(python)) == ["pof-0.1.0.dist-info", "pof.pth"]
    # The one command that rebuilds in place.
    before = installed.stat().st_mtime_ns
    installed.unlink()
    run("cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "build", "--quiet", "-p", "pof",
        "--release", "--abi", "cpython", "--python", python, "--out", installed.parent)
    assert installed.is_file() and installed.stat().st_mtime_ns >= before
    assert Path(run(python, "-I", "-c", CHECK).strip()) == installed
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof")
    assert leftovers(python) == []


# ---------------------------------------------------------------------------
# cargo hpy new and develop


def test_new_project_installs_at_once_and_develop_reinstalls(venv, tmp_path):
    """`cargo hpy new my_ext`, then `pip install ./my_ext` and the project's
    own tests; `cargo hpy develop` in it rebuilds and reinstalls into the
    active virtualenv."""
    python = venv(need("3.11"))
    cli = [*cargo_hpy(), "hpy"]
    out = run(*cli, "new", tmp_path / "my_ext")
    assert "pip install" in out
    project = tmp_path / "my_ext"
    assert sorted(p.name for p in project.iterdir()) == [".gitignore", "Cargo.toml", "_backend",
                                                          "pyproject.toml", "src", "tests"]
    # The project's builds share this checkout's target directory: the SDK
    # crates it depends on (by path) are the very ones built there already.
    shared = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
    run(python, "-m", "pip", "install", "--quiet", project, env=shared)
    # The project's test, against the installed module (run from elsewhere).
    test = (project / "tests" / "test_my_ext.py").read_text()
    assert run(python, "-I", "-c", test + "\ntest_add(); test_counter(); print('ok')").strip() == "ok"
    # develop: change the source, rebuild and reinstall in one command.
    lib = project / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("a + b", "a + b + 1"))
    env = dict(shared, VIRTUAL_ENV=str(python.parent.parent))
    subprocess.run([str(c) for c in cli] + ["develop", "--quiet"], cwd=project, env=env,
                   check=True, capture_output=True)
    assert run(python, "-I", "-c", "import my_ext; print(my_ext.add(1, 2))").strip() == "4"
    # Without a virtualenv, develop says what it needs.
    env.pop("VIRTUAL_ENV")
    proc = subprocess.run([str(c) for c in cli] + ["develop"], cwd=project, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "active virtualenv" in proc.stderr
    # An existing folder or a name Python cannot import is refused.
    for bad, words in ((project, "already exists"), (tmp_path / "my-ext", "cannot name a Python module")):
        proc = subprocess.run([str(c) for c in cli] + ["new", str(bad)], capture_output=True,
                              text=True, check=False)
        assert proc.returncode != 0 and words in proc.stderr, proc.stderr


def test_auditwheel_agrees_with_the_platform_tag(wheels, venv):
    """`auditwheel show` (from PyPI) reports for each wheel the manylinux
    tag the wheel claims."""
    python = venv(sys.executable)
    run(python, "-m", "pip", "install", "--quiet", "auditwheel")
    auditwheel = python.parent / "auditwheel"
    for kind in ("universal", "abi3", "3.11"):
        report = " ".join(run(auditwheel, "show", wheels[kind]).split())
        claimed = platform_of(wheels[kind])
        assert f'is consistent with the following platform tag: "{claimed}"' in report, (kind, report)


# ---------------------------------------------------------------------------
# Type stubs, from the Rust signatures


GOOD = """
import pof
n: int = pof.add_ints(40, 2) + pof.add_ints_kw(a=1, b=2)
p = pof.Point(1.0, 2.5)
x: float = p.x + p.y
s: str = repr(p)
pof.do_nothing()
"""

BAD = """
import pof
pof.add_ints("forty", 2)
pof.add_ints_kw(a=1, c=2)
p = pof.Point(1.0)
s: str = p.x
"""


@pytest.fixture(scope="session")
def mypy_python(tmp_path_factory, pip_wheel) -> Path:
    """A venv with mypy (from PyPI) and pof's universal wheel installed."""
    path = tmp_path_factory.mktemp("mypy") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", path)
    python = path / "bin" / "python"
    run(python, pip_wheel / "pip", "install", "--quiet", "--no-index", pip_wheel)
    run(python, "-m", "pip", "install", "--quiet", "mypy")
    return python


def mypy(python: Path, folder: Path, code: str, mypypath: Path | None = None) -> subprocess.CompletedProcess:
    script = folder / "script.py"
    script.write_text(code)
    env = dict(os.environ, MYPYPATH=str(mypypath or ""))
    return subprocess.run([python, "-m", "mypy", "--strict", "--no-incremental", script],
                          capture_output=True, text=True, env=env, cwd=folder, check=False)


def test_wheels_ship_the_stub_and_mypy_uses_it(wheels, mypy_python, tmp_path):
    names = zipfile.ZipFile(wheels["abi3"]).namelist()
    assert "pof-stubs/__init__.pyi" in names
    stub = zipfile.ZipFile(wheels["abi3"]).read("pof-stubs/__init__.pyi").decode()
    assert "def add_ints(a: int, b: int, /) -> int: ..." in stub
    assert "def __new__(cls, x: float, y: float, /) -> Point: ..." in stub
    run(mypy_python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--force-reinstall",
        wheels["abi3"])
    good = mypy(mypy_python, tmp_path, GOOD)
    assert good.returncode == 0, good.stdout
    bad = mypy(mypy_python, tmp_path, BAD)
    assert bad.returncode == 1, bad.stdout
    out = bad.stdout
    assert 'Argument 1 to "add_ints" has incompatible type "str"; expected "int"' in out, out
    assert 'Unexpected keyword argument "c" for "add_ints_kw"' in out, out
    assert 'Too few arguments for "Point"' in out, out
    assert 'Incompatible types in assignment (expression has type "float", variable has type "str")' in out, out
    # Uninstalling takes the stub package too.
    run(mypy_python, "-m", "pip", "uninstall", "--yes", "--quiet", "pof")
    assert not [p for p in site_packages(mypy_python).iterdir() if p.name.startswith("pof")]


def test_the_classes_fixture_stub(mypy_python, tmp_path):
    """The stub `cargo hpy build` writes beside the classes fixture passes
    `mypy --strict` itself, and catches misuse of its classes."""
    out = tmp_path / "modules"
    run("cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "build", "--quiet",
        "-p", "hpy-classes-fixture", "--out", out)
    stub = (out / "classes.pyi").read_text()
    assert "class Flags(int):" in stub and "def __len__(self) -> int: ..." in stub
    good = mypy(mypy_python, tmp_path, """
import classes
b = classes.Bag(1, 2)
n: int = len(b) + b.count(1)
b.push(3)
c = classes.Counter()
k: int = c.increment()
v = classes.Vec2(1.0, 2.0) + classes.Vec2(0.5, 0.5)
x: float = v.x
""", mypypath=out)
    assert good.returncode == 0, good.stdout
    bad = mypy(mypy_python, tmp_path, """
import classes
classes.Bag().push("three")
classes.Counter().increment(1)
s: str = classes.Vec2(1.0, 2.0).x
""", mypypath=out)
    assert bad.returncode == 1, bad.stdout
    assert 'Argument 1 to "push" of "Bag" has incompatible type "str"; expected "int"' in bad.stdout, bad.stdout
    assert 'Too many arguments for "increment" of "Counter"' in bad.stdout, bad.stdout


# ---------------------------------------------------------------------------
# Source distributions


def test_python_m_build_makes_an_sdist_that_builds_on_its_own(venv, tmp_path):
    """`python -m build examples/hpyjson` (build from PyPI): an sdist, then a
    wheel built from that sdist alone, unpacked in a temporary folder (so
    the sdist carries all it needs: the crate, the hpy-rs crates, cargo-hpy
    and the backend); the wheel installs and works."""
    python = venv(need("3.11"))
    run(python, "-m", "pip", "install", "--quiet", "build")
    out = tmp_path / "dist"
    # (Its release builds without optimization, a third of the time: what
    # this checks is what the sdist holds, not the optimizer.)
    own = {k: v for k, v in os.environ.items() if k != "HPY_RS_CARGO_HPY"}
    own["CARGO_PROFILE_RELEASE_OPT_LEVEL"] = "0"
    run(python, "-m", "build", "--outdir", out, ROOT / "examples" / "hpyjson", env=own)
    sdist = out / "hpyjson-0.1.0.tar.gz"
    wheels = list(out.glob("hpyjson-0.1.0-cp311-cp311-manylinux_2_*_x86_64.whl"))
    assert sdist.is_file() and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    import tarfile
    names = tarfile.open(sdist).getnames()
    for expected in ("hpyjson-0.1.0/Cargo.toml", "hpyjson-0.1.0/Cargo.lock", "hpyjson-0.1.0/PKG-INFO",
                     "hpyjson-0.1.0/pyproject.toml", "hpyjson-0.1.0/src/lib.rs",
                     "hpyjson-0.1.0/hpy-rs/hpy/src/lib.rs", "hpyjson-0.1.0/hpy-rs/hpy-sys/src/autogen.rs",
                     "hpyjson-0.1.0/hpy-rs/cargo-hpy/src/main.rs",
                     "hpyjson-0.1.0/hpy-rs/python/hpy_rs_build/__init__.py"):
        assert expected in names, expected
    assert not [n for n in names if "/target/" in n or "__pycache__" in n]
    run(python, "-m", "pip", "install", "--quiet", "--no-index", wheels[0])
    check = "import hpyjson; print(hpyjson.loads(hpyjson.dumps({'a': [1, 2.5, None]})))"
    assert run(python, "-I", "-c", check).strip() == "{'a': [1, 2.5, None]}"


# ---------------------------------------------------------------------------
# Mixed Rust/Python packages


def test_mixed_rust_python_package(venv, tmp_path):
    """examples/pofpackage: the extension modules `pofpackage.foo` and
    `pofpackage.bar` (one crate) and, in `python/pofpackage/`, the package's
    Python code, data and `py.typed`, in one wheel (the package's own `__init__.py`, not an empty one); and
    editable, with the module built into the Python sources."""
    python = venv(need("3.11"))
    lines = run("cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "wheel", "--quiet",
                "-p", "pofpackage", "--abi", "cpython", "--python", python, "--out", tmp_path).split()
    wheel = Path(lines[-1])
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("pofpackage/__init__.py", "pofpackage/greetings.py", "pofpackage/greeting.txt",
                     "pofpackage/py.typed", "pofpackage/foo.pyi", "pofpackage/bar.pyi",
                     "pofpackage/foo.cpython-311-x86_64-linux-gnu.so",
                     "pofpackage/bar.cpython-311-x86_64-linux-gnu.so"):
        assert expected in names, (expected, sorted(names))
    assert b"from .greetings import greet" in zipfile.ZipFile(wheel).read("pofpackage/__init__.py")
    greet = "import pofpackage; print(pofpackage.greet('you')); print(pofpackage.__file__)"
    run(python, "-m", "pip", "install", "--quiet", "--no-index", wheel)
    out = run(python, "-I", "-c", greet + "; print(pofpackage.greet('you', loud=True))").splitlines()
    assert out[0] == "hello from pofpackage.foo, and hello to you"
    assert Path(out[1]).parent.parent == site_packages(python)
    assert out[2] == "HELLO FROM POFPACKAGE.FOO, AND HELLO TO YOU!"  # the second module
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pofpackage")
    assert not [p for p in site_packages(python).iterdir() if p.name.startswith("pofpackage")]
    # Editable: the package is imported from the Python sources, the
    # extension module built into them (ignored by git there).
    sources = ROOT / "examples" / "pofpackage" / "python" / "pofpackage"
    try:
        run(python, "-m", "pip", "install", "--quiet", "-e", ROOT / "examples" / "pofpackage")
        out = run(python, "-I", "-c", greet).splitlines()
        assert out == ["hello from pofpackage.foo, and hello to you", str(sources / "__init__.py")]
        assert (sources / "foo.cpython-311-x86_64-linux-gnu.so").is_file()
        run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "pofpackage")
    finally:
        for built in list(sources.glob("*.so")) + [sources / "foo.pyi", sources / "bar.pyi"]:
            built.unlink(missing_ok=True)
    if (ROOT / ".git").exists():  # the built files are ignored, the sources untouched
        status = run("git", "-C", ROOT, "status", "--porcelain", "--", sources)
        assert status == "", status


def test_one_command_builds_the_set_a_project_publishes(tmp_path):
    """`cargo hpy wheel --all`: the universal wheel and one CPython-ABI wheel
    per CPython found (on PATH here: 3.11 and 3.14 first); with `--abi
    abi3`, the universal and the abi3 wheel."""
    pythons = [need("3.11"), need("3.14")]
    path = os.pathsep.join([str(Path(p).parent) for p in pythons] + [os.environ["PATH"]])
    env = dict(os.environ, PATH=path)
    cmd = ["cargo", "run", "--quiet", "-p", "cargo-hpy", "--", "hpy", "wheel", "--quiet", "-p", "pof",
           "--all"]
    subprocess.run(cmd + ["--out", str(tmp_path / "all")], env=env, check=True, capture_output=True,
                   cwd=ROOT)
    tags = {w.name.split("-", 2)[2].rsplit("-", 1)[0] for w in (tmp_path / "all").iterdir()}
    assert {"py3-none", "cp311-cp311", "cp314-cp314"} <= tags, tags
    subprocess.run(cmd + ["--abi", "abi3", "--out", str(tmp_path / "abi3")], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    tags = {w.name.split("-", 2)[2].rsplit("-", 1)[0] for w in (tmp_path / "abi3").iterdir()}
    assert tags == {"py3-none", "cp310-abi3"}, tags
