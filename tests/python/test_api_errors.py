"""Errors, warnings, custom exception classes, globals and threads (`tests/api-errors`).

Each test runs on CPython in universal, debug (inside LeakDetector) and trace
mode, and on PyPy in universal mode.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
import warnings

import pytest

from conftest import IS_PYPY, leak_check, universal_only

MISSING = "/nonexistent-hpy-rs-dir/missing.txt"


# --- custom exception classes (HPyErr_NewException(WithDoc), globals) ---------------------


def test_custom_exception_class(api_errors):
    MyError = api_errors.MyError
    assert issubclass(MyError, ValueError)
    assert MyError.__module__ == "api_errors"
    assert MyError.__name__ == "MyError"
    assert MyError.__doc__ == "A custom error, subclass of ValueError."
    with pytest.raises(api_errors.MyError, match=r"^it failed$") as info:
        api_errors.raise_my_error("it failed")
    assert type(info.value) is MyError
    # `except ValueError` catches it too
    with pytest.raises(ValueError, match=r"^again$"):
        api_errors.raise_my_error("again")
    # the global holds the very class of the module
    assert api_errors.my_error_type() is MyError


def test_custom_exception_without_doc(api_errors):
    PlainError = api_errors.PlainError
    assert PlainError.__bases__ == (Exception,)
    assert PlainError.__module__ == "api_errors"
    with pytest.raises(PlainError, match=r"^plain$"):
        api_errors.raise_plain_error("plain")
    assert not issubclass(PlainError, ValueError)


def test_new_exception(api_errors):
    E = api_errors.new_exception("pkg.mod.E", None, None, None)
    assert E.__name__ == "E" and E.__module__ == "pkg.mod"
    assert E.__bases__ == (Exception,)
    F = api_errors.new_exception("m.F", KeyError, {"code": 42}, "Doc of F.")
    assert issubclass(F, KeyError) and F.code == 42 and F.__doc__ == "Doc of F."
    G = api_errors.new_exception("m.G", (F, E), None, None)
    assert issubclass(G, KeyError) and issubclass(G, E)
    with pytest.raises(G):
        raise G("x")


def test_new_exception_errors(api_errors):
    with pytest.raises(SystemError, match=r"^PyErr_NewException: name must be module.class$"):
        api_errors.new_exception("NoDot", None, None, None)
    with pytest.raises(TypeError, match=r"^expected dict, got list$"):
        api_errors.new_exception("m.E", None, [], None)
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_errors.new_exception("m.E\0", None, None, None)
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_errors.new_exception("m.E", None, None, "doc\0")
    with pytest.raises(TypeError):  # the interpreter's message for a bad base
        api_errors.new_exception("m.E", 42, None, None)


# --- raising with runtime types and values (HPyErr_SetString/SetObject) -------------------


def test_from_type(api_errors):
    with pytest.raises(KeyError) as info:
        api_errors.raise_from_type(KeyError, "k")
    assert info.value.args == ("k",)

    class Custom(Exception):
        pass

    with pytest.raises(Custom, match=r"^custom message$"):
        api_errors.raise_from_type(Custom, "custom message")
    # not an exception class: what `raise 1` says
    for bad in (int, 1, "x", None):
        with pytest.raises(TypeError, match=r"^exceptions must derive from BaseException$"):
            api_errors.raise_from_type(bad, "m")
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_errors.raise_from_type(KeyError, "a\0b")


def test_from_value(api_errors):
    exc = LookupError("the", "args")
    with pytest.raises(LookupError) as info:
        api_errors.raise_from_value(exc)
    assert info.value is exc
    with pytest.raises(TypeError, match=r"^exceptions must derive from BaseException$"):
        api_errors.raise_from_value(42)
    with pytest.raises(TypeError, match=r"^exceptions must derive from BaseException$"):
        api_errors.raise_from_value(ValueError)  # a class is not an instance


def test_set_object(api_errors):
    with pytest.raises(KeyError) as info:
        api_errors.raise_set_object(KeyError, "key")
    assert info.value.args == ("key",)
    instance = api_errors.MyError("mine")
    with pytest.raises(api_errors.MyError) as info:
        api_errors.raise_set_object(api_errors.MyError, instance)
    assert info.value is instance
    with pytest.raises(TypeError, match=r"^exceptions must derive from BaseException$"):
        api_errors.raise_set_object(str, "x")


def test_no_memory(api_errors):
    with pytest.raises(MemoryError):
        api_errors.raise_no_memory()


def test_lazy_error_with_a_bad_global(api_errors):
    with pytest.raises(SystemError,
                       match=r"^hpy::Global loaded before it was stored \(the exception type of: boom\)$"):
        api_errors.raise_never_stored()
    api_errors.stash(42)
    with pytest.raises(TypeError, match=r"^exceptions must derive from BaseException$"):
        api_errors.raise_stash_type("m")
    api_errors.stash(KeyError)
    with pytest.raises(KeyError):
        api_errors.raise_stash_type("m")
    api_errors.stash(None)


# --- errno (HPyErr_SetFromErrno*) ----------------------------------------------------------


def test_errno_with_filename(api_errors, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        api_errors.open_with_filename(MISSING)
    e = info.value
    assert str(e) == f"[Errno 2] No such file or directory: '{MISSING}'"
    assert e.errno == errno.ENOENT and e.filename == MISSING and e.filename2 is None
    assert e.strerror == "No such file or directory"
    f = tmp_path / "ok.txt"
    f.write_text("x")
    assert api_errors.open_with_filename(str(f)) is True
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_errors.open_with_filename("a\0b")


def test_errno_plain(api_errors):
    with pytest.raises(FileNotFoundError) as info:
        api_errors.open_errno(OSError, MISSING)
    assert str(info.value) == "[Errno 2] No such file or directory"
    assert info.value.filename is None
    # a custom class gets (errno, strerror) as its arguments
    with pytest.raises(api_errors.MyError) as info:
        api_errors.open_errno(api_errors.MyError, MISSING)
    assert info.value.args == (errno.ENOENT, "No such file or directory")
    with pytest.raises(TypeError, match=r"^exceptions must derive from BaseException$"):
        api_errors.open_errno(int, MISSING)


def test_errno_with_filename_objects(api_errors, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        api_errors.open_with_filename_object(MISSING)
    assert str(info.value) == f"[Errno 2] No such file or directory: '{MISSING}'"
    assert info.value.filename == MISSING

    dst = str(tmp_path / "dst")
    with pytest.raises(FileNotFoundError) as info:
        api_errors.rename(MISSING, dst)
    e = info.value
    assert str(e) == f"[Errno 2] No such file or directory: '{MISSING}' -> '{dst}'"
    assert e.filename == MISSING and e.filename2 == dst
    with pytest.raises(FileNotFoundError) as info:
        api_errors.rename(MISSING, None)
    assert info.value.filename == MISSING and info.value.filename2 is None
    src = tmp_path / "src"
    src.write_text("x")
    api_errors.rename(str(src), dst)
    assert os.path.exists(dst)


def test_io_error_conversion(api_errors, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^No such file or directory \(os error 2\)$"):
        api_errors.read_file(MISSING)
    with pytest.raises(IsADirectoryError):
        api_errors.read_file(str(tmp_path))
    f = tmp_path / "f.txt"
    f.write_text("content")
    assert api_errors.read_file(str(f)) == "content"


# --- the error state (HPyErr_Occurred, ExceptionMatches, Clear) ------------------------------


def test_error_state(api_errors):
    before, occurred, is_raised, attr, pair, key, exc_, lookup, after = api_errors.error_state(object())
    assert (before, occurred, is_raised) == (False, True, True)
    assert (attr, pair, key) == (True, True, False)
    assert (exc_, lookup) == (True, False)
    assert after is False


def test_raw_is_subtype(api_errors):
    assert api_errors.raw_is_subtype(KeyError, LookupError) is True
    # HPyType_IsSubtype has ID 254: on PyPy 7.3.18+ it sits one slot later than
    # in hpy 0.9.0's context, and hpy-sys reads it from there (hpy-sys/src/layout.rs).
    assert api_errors.raw_is_subtype(int, str) is False


def test_lazy_matches(api_errors):
    assert api_errors.lazy_matches() == [True, True, False, True, True, True, False, False, False]


def test_lazy_error_description(api_errors):
    assert api_errors.describe_lazy("value") == ("ValueError", "bad", "ValueError: bad")
    assert api_errors.describe_lazy("context") == (
        "TypeError",
        "key 'a': item 3: expected int, got str",
        "TypeError: key 'a': item 3: expected int, got str",
    )
    assert api_errors.describe_lazy("global") == (None, "mine", "<exception class in a hpy::Global>: mine")
    assert api_errors.describe_lazy("raised") == (None, None, "<exception raised in the interpreter>")


def test_error_context_and_argument(api_errors):
    with pytest.raises(TypeError, match=r"^f\(\) argument 'xs': item 0: item 3: expected int, got str$"):
        api_errors.contextual_error()


# --- globals (HPyGlobal_Store / HPyGlobal_Load) ---------------------------------------------


def test_global_survives_across_calls(api_errors):
    obj = object()
    api_errors.stash(obj)
    assert api_errors.unstash() is obj
    assert api_errors.unstash() is obj
    api_errors.stash([1, 2])
    assert api_errors.unstash() == [1, 2]
    assert api_errors.globals_set() == (True, False)
    api_errors.stash(None)


def test_global_keeps_the_object_alive(api_errors):
    class Marker:
        pass

    api_errors.stash(Marker())
    import gc

    gc.collect()
    assert type(api_errors.unstash()).__name__ == "Marker"
    api_errors.stash(None)


def test_global_stored_at_import(api_errors):
    assert api_errors.at_import() == ("stored", "at", "import")


def test_global_never_stored(api_errors):
    with pytest.raises(SystemError, match=r"^hpy::Global loaded before it was stored$"):
        api_errors.load_never()
    assert api_errors.try_load_never() is None


@universal_only
def test_globals_are_listed_in_the_module_definition(api_errors):
    # MY_ERROR, PLAIN_ERROR, AT_IMPORT, STASH, NEVER (all three spellings of the type)
    assert api_errors.n_listed_globals() == 5


# --- warnings (HPyErr_WarnEx) ----------------------------------------------------------------


def test_warn(api_errors):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_errors.warn(UserWarning, "be careful", 1)
        api_errors.warn(DeprecationWarning, "old", 1)
    assert [(w.category, str(w.message)) for w in caught] == [
        (UserWarning, "be careful"),
        (DeprecationWarning, "old"),
    ]
    # stack level 1: the line that called the extension function
    assert caught[0].filename == __file__


def test_warning_as_error_propagates(api_errors):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"^careful$"):
            api_errors.warn_then_return()
        with pytest.raises(RuntimeWarning, match=r"^rt$"):
            api_errors.warn(RuntimeWarning, "rt", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert api_errors.warn_then_return() == 42


@pytest.mark.parametrize("category", [ValueError, str, 5, Warning(), object])
def test_warn_category_must_be_a_warning_class(api_errors, category):
    # As warnings.warn: TypeError, and no warning of another class.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match=r"^category must be a Warning subclass, not '\w+'$"):
            api_errors.warn(category, "m", 1)
        with pytest.raises(TypeError) as expected:
            warnings.warn("m", category)
    assert caught == []
    assert str(expected.value).startswith("category must be a Warning subclass")


def test_warn_errors(api_errors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"^embedded null character$"):
            api_errors.warn(UserWarning, "a\0b", 1)


# --- unraisable errors (HPyErr_WriteUnraisable) ------------------------------------------------


@pytest.fixture
def unraisable_hook(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def test_write_unraisable(api_errors, unraisable_hook):
    obj = object()
    assert api_errors.unraisable(obj, "lost") is False  # nothing stays set
    assert len(unraisable_hook) == 1
    u = unraisable_hook[0]
    assert u.exc_type is RuntimeError and str(u.exc_value) == "lost"
    _check_unraisable_object(u, obj)


def _check_unraisable_object(u, obj):
    if IS_PYPY:
        # PyPy puts the object into the message instead of `.object`.
        assert u.object is None and u.err_msg == f"Exception ignored in: {obj!r}"
    else:
        assert u.object is obj


def test_write_unraisable_raised(api_errors, unraisable_hook):
    obj = object()
    assert api_errors.unraisable_raised(obj) is False
    assert len(unraisable_hook) == 1
    assert unraisable_hook[0].exc_type is AttributeError
    _check_unraisable_object(unraisable_hook[0], obj)


# --- threads (HPy_LeavePythonExecution / HPy_ReenterPythonExecution) ----------------------------


def _run_in_threads(func, n, secs):
    threads = [threading.Thread(target=func, args=(secs,)) for _ in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def test_allow_threads_runs_in_parallel(api_errors):
    n, secs = 4, 0.2
    # Holding the lock, the sleeps take turns: at least n * secs.
    assert _run_in_threads(api_errors.sleep_held, n, secs) >= n * secs * 0.95
    # Released, they overlap: well under n * secs (generous for a busy machine).
    assert _run_in_threads(api_errors.sleep_released, n, secs) < n * secs * 0.75


def test_allow_threads_values(api_errors):
    assert api_errors.sum_released([1, 2, 3, 2**40]) == 6 + 2**40
    assert api_errors.sum_released([]) == 0


def test_allow_threads_panic(api_errors):
    with pytest.raises(SystemError, match=r"^panic_released\(\) panicked: oops$"):
        api_errors.panic_released("oops")
    # the lock was taken back: Python (and other threads) still work
    assert _run_in_threads(api_errors.sleep_released, 2, 0.01) < 5


# --- debug mode on PyPy: a smoke test -------------------------------------------------------------


@pytest.mark.skipif(not IS_PYPY, reason="CPython runs every test in debug mode already")
def test_pypy_debug_smoke(loader):
    mod = loader.load("api_errors", "debug")
    with leak_check("debug"):
        mod.stash(object())
        assert mod.unstash() is not None
        with pytest.raises(mod.MyError):
            mod.raise_my_error("x")
