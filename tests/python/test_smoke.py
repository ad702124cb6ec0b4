"""End-to-end smoke test of the raw layer: a cdylib written against hpy-sys only.

Runs on CPython (universal, debug and trace mode) and PyPy (universal mode,
plus debug and trace smoke tests), loading one `smoke.hpy0.so`.
"""

import os
import re
import sys

import pytest
from conftest import CPYTHON_ABI, IS_PYPY, MODULES_DIR, RUNTIME, universal_only

BACKEND = "PyPy backend" if IS_PYPY else "CPython backend"
CONTEXT_NAMES = {
    "universal": "HPy Universal ABI",
    "debug": "HPy Debug Mode ABI",
    "trace": "HPy Trace Mode ABI",
    "cpython": "HPy CPython ABI",
}


def test_noop_returns_none(smoke):
    for _ in range(1000):
        assert smoke.noop() is None


def test_method_runs_in_the_requested_mode(smoke, mode):
    name = smoke.context_name()
    assert name.startswith(CONTEXT_NAMES[mode]), name
    if mode == "universal" or IS_PYPY:
        assert BACKEND in name


def test_noargs_method_rejects_arguments(smoke):
    # The interpreter checks NOARGS itself, each in its own words.
    message = r"noop\(\) takes no arguments$" if IS_PYPY else r"noop\(\) takes no arguments \(1 given\)$"
    with pytest.raises(TypeError, match=message):
        smoke.noop(1)


def test_docstring(smoke):
    assert smoke.noop.__doc__ == "Return None."
    if not IS_PYPY:
        assert smoke.noop.__text_signature__ == "()"


@universal_only
def test_universal_module_is_the_shared_file(loader):
    assert loader.path("smoke", "universal") == MODULES_DIR / "smoke.hpy0.so"


@universal_only
@pytest.mark.parametrize("mode", ["debug"])
def test_debug_mode_detects_a_leaked_handle(loader, mode):
    """Proves that the debug-mode leak check around every test is really in effect."""
    smoke = loader.load("smoke", mode)
    from hpy.debug import HPyLeakError, LeakDetector

    with pytest.raises(HPyLeakError, match="1 unclosed handle"):
        with LeakDetector():
            smoke.leak_one_handle()


@universal_only
@pytest.mark.skipif(IS_PYPY, reason="PyPy's debug mode records no allocation stack traces")
@pytest.mark.parametrize("mode", ["debug"])
def test_debug_mode_shows_where_a_leaked_handle_was_opened(loader, mode):
    """With `set_handle_stack_trace_limit`, the leak report says where the
    handle was opened: through hpy-rs's runtime by function, file and line
    (the module's debug information), innermost first, from the code that
    called the context function; through HPy's by library (glibc's
    `backtrace_symbols`). Without it, how to ask."""
    smoke = loader.load("smoke", mode)
    from hpy.debug import HPyLeakError, LeakDetector, disable_handle_stack_traces, set_handle_stack_trace_limit

    with pytest.raises(HPyLeakError) as without:
        with LeakDetector():
            smoke.leak_one_handle()
    assert "To get the stack trace of where it was allocated use:" in str(without.value)
    set_handle_stack_trace_limit(4)
    try:
        with pytest.raises(HPyLeakError) as leak:
            with LeakDetector():
                smoke.leak_one_handle()
    finally:
        disable_handle_stack_traces()
    message = str(leak.value)
    assert "Allocation stacktrace:" in message, message
    trace = message.split("Allocation stacktrace:\n", 1)[1].splitlines()
    if RUNTIME == "hpy-rs":
        assert len(trace) == 4, message
        # `HPy_Dup`, hpy-sys's inline wrapper in the module, then the impl.
        assert re.fullmatch(r"  HPy_Dup at .*hpy-sys/src/autogen\.rs:\d+:\d+", trace[0]), message
        assert re.fullmatch(r"  leak_one_handle_impl at .*tests/smoke/src/lib\.rs:\d+:\d+", trace[1]), message
        # The leaked handle carries the trace the report shows.
        assert leak.value.leaks[0].allocation_stacktrace.splitlines() == trace
    else:
        assert "smoke.hpy0.so" in message, message


@universal_only
@pytest.mark.parametrize("mode", ["debug", "trace"])
def test_other_modes_smoke(loader, mode):
    """Debug and trace mode on every interpreter (on CPython they also run all tests above)."""
    smoke = loader.load("smoke", mode)
    assert smoke.noop() is None
    assert smoke.context_name().startswith(CONTEXT_NAMES[mode])


@universal_only
@pytest.mark.parametrize("mode", ["trace"])
def test_trace_mode_counts_context_calls(loader, mode):
    smoke = loader.load("smoke", mode)
    from hpy import trace

    before = trace.get_call_counts()["ctx_Dup"]
    for _ in range(10):
        smoke.noop()
    assert trace.get_call_counts()["ctx_Dup"] - before == 10


def test_interpreter_is_the_expected_one():
    if IS_PYPY:
        assert sys.pypy_version_info[:3] == (7, 3, 19)
        import hpy.universal

        assert hpy.universal.get_version()[0].startswith("0.9")
    else:
        # The README's test command runs the suite on CPython 3.11 (the main
        # venv), and on other versions with HPY_RS_EXPECT_PYTHON saying which.
        expected = os.environ.get("HPY_RS_EXPECT_PYTHON", "3.11")
        assert "%d.%d" % sys.version_info[:2] == expected
        if not CPYTHON_ABI:  # a CPython-ABI build needs no hpy package
            import hpy.universal

            assert hpy.universal.get_version()[0] == "0.9.0"


@universal_only
def test_exports_exactly_the_four_module_symbols(loader):
    import shutil
    import subprocess

    if shutil.which("nm") is None:
        pytest.skip("nm (binutils) is not installed")
    path = loader.path("smoke", "universal")
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], capture_output=True, text=True, check=True)
    symbols = sorted(line.split()[-1] for line in out.stdout.splitlines() if line.strip())
    assert symbols == [
        "HPyInitGlobalContext_smoke",
        "HPyInit_smoke",
        "get_required_hpy_major_version_smoke",
        "get_required_hpy_minor_version_smoke",
    ]


def test_links_no_libpython(loader):
    import shutil
    import subprocess

    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    out = subprocess.run(["ldd", str(loader.path("smoke", "universal"))], capture_output=True, text=True, check=True)
    assert "libpython" not in out.stdout
    assert "libpypy" not in out.stdout
