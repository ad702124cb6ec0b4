"""Shared pytest fixtures: build HPy modules once and load them in every HPy mode.

The same tests run on CPython (with `hpy==0.9.0` installed) and on PyPy (HPy
built in). Both expose `hpy.universal.load(name, path, spec, mode=...)`.

* Universal mode loads the module from the shared folder (`$HPY_RS_MODULES`,
  default `target/hpy-modules`), so every interpreter loads the very same file.
* Debug and trace mode load a copy in a temporary folder: one process that
  loads one path twice shares the `dlopen` handle and so the trampoline
  context, and the last load would win.
* In debug mode every test runs inside `hpy.debug.LeakDetector`: a handle
  leaked by the module fails the test.

Modules are built with the project's build command, `cargo hpy build`, which
also writes the loader stub `<name>.py`. When `HPY_RS_MODULES` is set
(`tools/test` does that for the second interpreter), the files there are used
as they are, so both interpreters load the very same files.

With `HPY_RS_ABI=cpython` the same suite runs against the CPython-ABI build
(`cargo hpy build --abi cpython --python <this interpreter>`): every module is
a plain CPython extension, `<name><EXT_SUFFIX>`, imported with no `hpy`
package, and `mode` is `"cpython"` (there is no debug or trace mode). The
modules go to `$HPY_RS_MODULES`, default `target/cpython-modules/3.N`.
`HPY_RS_ABI=abi3` does the same with the limited-API build (`--abi abi3`):
one `<name>.abi3.so` per module, default `target/abi3-modules`, which every
CPython from 3.10 on loads; the tests see `CPYTHON_ABI` true there too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from interpreters import cargo_hpy  # noqa: E402  (the tools' cargo-hpy, built once)
IS_PYPY = sys.implementation.name == "pypy"
PREBUILT = "HPY_RS_MODULES" in os.environ
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
# The target ABI of the modules under test: "universal" (`.hpy0.so`, loaded
# through `hpy.universal`), "cpython" (plain CPython extensions, one per
# version) or "abi3" (plain CPython extensions through the limited API).
ABI = os.environ.get("HPY_RS_ABI", "universal")
if ABI not in ("universal", "cpython", "abi3"):
    raise pytest.UsageError(f"HPY_RS_ABI must be universal, cpython or abi3, not {ABI!r}")
ABI3 = ABI == "abi3"
CPYTHON_ABI = ABI in ("cpython", "abi3")
if CPYTHON_ABI and IS_PYPY:
    raise pytest.UsageError(f"HPY_RS_ABI={ABI} is for CPython (PyPy loads universal modules)")
if ABI3 and sys.version_info < (3, 10):
    raise pytest.UsageError("HPY_RS_ABI=abi3 is for CPython 3.10 and newer")
if ABI3:
    _DEFAULT_DIR = TARGET_DIR / "abi3-modules"
elif CPYTHON_ABI:
    _DEFAULT_DIR = TARGET_DIR / "cpython-modules" / f"{sys.version_info[0]}.{sys.version_info[1]}"
else:
    _DEFAULT_DIR = TARGET_DIR / "hpy-modules"
MODULES_DIR = Path(os.environ.get("HPY_RS_MODULES", _DEFAULT_DIR)).resolve()

# The runtime that loads universal modules on CPython: HPy's own (the `hpy`
# package, the default) or hpy-rs's (`HPY_RS_RUNTIME=hpy-rs`: the `runtime/`
# crate, built for this interpreter by `tools/build-runtime` into
# `target/runtime/3.N`, or taken from `$HPY_RS_RUNTIME_PATH`), which then
# serves `import hpy.universal` in this process and in the tests' children.
RUNTIME = os.environ.get("HPY_RS_RUNTIME", "hpy")
if RUNTIME not in ("hpy", "hpy-rs"):
    raise pytest.UsageError(f"HPY_RS_RUNTIME must be hpy or hpy-rs, not {RUNTIME!r}")
if RUNTIME == "hpy-rs" and (IS_PYPY or CPYTHON_ABI):
    raise pytest.UsageError("HPY_RS_RUNTIME=hpy-rs is for universal modules on CPython")
if RUNTIME == "hpy-rs":
    _version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if "HPY_RS_RUNTIME_PATH" not in os.environ:
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "build-runtime"), sys.executable],
            check=True, stdout=subprocess.DEVNULL,
        )
        os.environ["HPY_RS_RUNTIME_PATH"] = str(TARGET_DIR / "runtime" / _version)
    sys.path.insert(0, os.environ["HPY_RS_RUNTIME_PATH"])
    # Children (loader stubs run by `python -c "import pof"`) find it too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [os.environ["HPY_RS_RUNTIME_PATH"], *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    import hpy_rs_runtime

    hpy_rs_runtime.install()



# Debug mode costs 26-55 microseconds per call on PyPy: the full suites run in
# debug mode on CPython only, and PyPy gets explicit debug smoke tests.
if CPYTHON_ABI:
    MODES = ["cpython"]
elif IS_PYPY:
    MODES = ["universal"]
else:
    MODES = ["universal", "debug", "trace"]

# HPY_RS_MODES=universal,trace runs the suite in those modes only.
if os.environ.get("HPY_RS_MODES"):
    _wanted = os.environ["HPY_RS_MODES"].split(",")
    MODES = [m for m in MODES if m in _wanted]
    if not MODES:
        raise pytest.UsageError(f"HPY_RS_MODES={os.environ['HPY_RS_MODES']} names no mode of this run")

universal_only = pytest.mark.skipif(
    CPYTHON_ABI, reason="about the universal ABI (hpy.universal, its modes, loader stubs)"
)
cpython_abi_only = pytest.mark.skipif(not CPYTHON_ABI, reason="about the CPython-ABI build")

# module name -> cargo package of the cdylib
MODULES = {
    "smoke": "hpy-smoke-fixture",  # raw layer (hpy-sys only)
    "pof": "pof",  # examples/pof
    "features": "hpy-features-fixture",  # every feature of the safe layer and macros
    "api_object": "hpy-api-object-fixture",  # object protocol, numbers, calls, import, eval
    "api_builtins": "hpy-api-builtins-fixture",  # str, bytes, list, tuple, dict, builders, ...
    "api_errors": "hpy-api-errors-fixture",  # errors, warnings, exception classes, globals
    "api_conv": "hpy-api-conv-fixture",  # conversions of collections and std types
    "multifile": "hpy-multifile-fixture",  # a module spread over several files
    "classes": "hpy-classes-fixture",  # #[hpy_class] and #[hpy_methods]
    "hpyjson": "hpyjson",  # examples/hpyjson
}
# Every module is built with the dev profile: debug assertions on, so that
# hpy-sys refuses context calls made with an exception pending (a test fails
# with SystemError naming the function).
RELEASE: set[str] = set()
_built: set[str] = set()


def build_cpython_extension(package: str, out: Path, abi: str = "cpython") -> None:
    """Builds the cargo package `package` as a plain CPython extension for
    the interpreter running the tests (`cargo hpy build --abi cpython`, or
    with `abi="abi3"` the limited-API build) into the folder `out`."""
    subprocess.run(
        [*cargo_hpy(), "hpy", "build", "--quiet", "-p", package, "--abi", abi,
         "--python", sys.executable, "--out", str(out)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )


def build_module(name: str) -> Path:
    """Builds module `name` with `cargo hpy build` (once per session) and returns its file."""
    if ABI3:
        path = MODULES_DIR / f"{name}.abi3.so"
        abi = ["--abi", "abi3", "--python", sys.executable]
    elif CPYTHON_ABI:
        path = MODULES_DIR / f"{name}{sysconfig.get_config_var('EXT_SUFFIX')}"
        abi = ["--abi", "cpython", "--python", sys.executable]
    else:
        path = MODULES_DIR / f"{name}.hpy0.so"
        abi = []
    if not PREBUILT and name not in _built:
        subprocess.run(
            [*cargo_hpy(), "hpy", "build", "--quiet", "-p", MODULES[name], "--out", str(MODULES_DIR)]
            + abi
            + (["--release"] if name in RELEASE else []),
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )
        _built.add(name)
    if not path.exists():
        pytest.fail(f"{path} does not exist: run tools/test, or unset HPY_RS_MODULES")
    return path


# What a child process runs to load a module as the suite does: `load(name,
# path, mode)`, for any mode (the tests that need a process of their own
# prepend it to their script).
CHILD_LOADER = r"""
import os as _os, sys as _sys
if _os.environ.get("HPY_RS_RUNTIME") == "hpy-rs":  # the parent's runtime
    _sys.path.insert(0, _os.environ["HPY_RS_RUNTIME_PATH"])
    import hpy_rs_runtime
    hpy_rs_runtime.install()

def load(name, path, mode):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    if mode == "cpython":  # a plain CPython extension
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    import hpy.universal
    return hpy.universal.load(name, path, spec, mode=getattr(hpy.universal, "MODE_" + mode.upper()))
"""


class ModuleLoader:
    """Loads each (module, mode) once per session."""

    def __init__(self, tmp_root: Path) -> None:
        self.tmp_root = tmp_root
        self.cache: dict[tuple[str, str], object] = {}
        self.copied: set[tuple[str, str]] = set()

    def path(self, name: str, mode: str) -> Path:
        """The file to load `name` from in `mode` (a per-mode copy, made once).

        A copy is never rewritten in place: this process may have it loaded, and
        writing into a mapped library corrupts it. A new copy goes to a temporary
        name first and is renamed over (a new inode).
        """
        shared = build_module(name)
        if mode in ("universal", "cpython"):
            return shared
        copy_dir = self.tmp_root / mode
        copy_dir.mkdir(exist_ok=True)
        copy = copy_dir / shared.name
        if (name, mode) not in self.copied:
            tmp = copy_dir / f".{shared.name}.tmp"
            shutil.copyfile(shared, tmp)
            os.replace(tmp, copy)
            self.copied.add((name, mode))
        return copy

    def load_another_binary(self, name: str, mode: str):
        """The module `name` from another file than `load(name, mode)` gives
        (another binary, with its own statics): in another mode, or, for the
        CPython ABI, a copy of the file."""
        if mode != "cpython":
            return self.load(name, "trace" if mode == "universal" else "universal")
        key = (name, f"{mode}-copy")
        if key not in self.cache:
            shared = build_module(name)
            copy_dir = self.tmp_root / f"{mode}-copy"
            copy_dir.mkdir(exist_ok=True)
            copy = copy_dir / shared.name
            shutil.copyfile(shared, copy)
            spec = importlib.util.spec_from_file_location(name, str(copy))
            if mode == "cpython":
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            else:
                import hpy.universal

                module = hpy.universal.load(name, str(copy), spec, mode=hpy.universal.MODE_UNIVERSAL)
            self.cache[key] = module
        return self.cache[key]

    def made(self, module) -> bool:
        """Whether `module` is one this loader loaded (not a stand-in such as ujson)."""
        return any(m is module for m in self.cache.values())

    def load(self, name: str, mode: str):
        key = (name, mode)
        if key not in self.cache and mode == "cpython":
            # A plain extension module: the import system's own loader.
            path = str(build_module(name))
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self.cache[key] = module
        if key not in self.cache:
            import hpy.universal

            path = str(self.path(name, mode))
            spec = importlib.util.spec_from_file_location(name, path)
            mode_const = getattr(hpy.universal, f"MODE_{mode.upper()}")
            self.cache[key] = hpy.universal.load(name, path, spec, mode=mode_const)
        return self.cache[key]


@pytest.fixture(scope="session")
def loader(tmp_path_factory) -> ModuleLoader:
    return ModuleLoader(tmp_path_factory.mktemp("hpy-modes"))


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


@contextlib.contextmanager
def leak_check(mode: str):
    """Fails (HPyLeakError) if a handle opened inside is still open at the end, in debug mode."""
    if mode == "debug":
        from hpy.debug import LeakDetector

        with LeakDetector():
            yield
    else:
        yield


@contextlib.contextmanager
def raises_as_python(reference):
    """Expects the exception that `reference()`, the same mistake made in
    Python, raises on this interpreter: the same type and message. For the
    errors whose words CPython changes between versions (and PyPy words its
    own way), so that a test states "as the interpreter does" everywhere."""
    try:
        reference()
    except Exception as e:  # noqa: BLE001 - whatever the interpreter raises
        expected_type, expected_message = type(e), str(e)
    else:
        raise AssertionError(f"the reference {reference} raised nothing")
    with pytest.raises(expected_type) as info:
        yield info
    assert type(info.value) is expected_type
    assert str(info.value) == expected_message


def _module_fixture(name: str):
    @pytest.fixture
    def fixture(loader, mode):
        module = loader.load(name, mode)
        with leak_check(mode):
            yield module

    fixture.__name__ = name
    return fixture


smoke = _module_fixture("smoke")
pof = _module_fixture("pof")
features = _module_fixture("features")
api_object = _module_fixture("api_object")
api_builtins = _module_fixture("api_builtins")
api_errors = _module_fixture("api_errors")
api_conv = _module_fixture("api_conv")
multifile = _module_fixture("multifile")
classes = _module_fixture("classes")
hpyjson = _module_fixture("hpyjson")
