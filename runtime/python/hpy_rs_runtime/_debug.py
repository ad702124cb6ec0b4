"""Debug mode's low-level Python API (``hpy.universal._debug``'s).

The handles of modules loaded in debug mode (``HPY=debug``,
``mode=MODE_DEBUG``) are tracked: ``new_generation()`` starts a generation,
``get_open_handles(generation)`` lists the handles of that generation or a
later one that are still open (``hpy.debug.LeakDetector`` is built on the
two), ``get_closed_handles()`` the closed ones still remembered (the last
``get_closed_handles_queue_max_size()``, 1024 by default), whose use is
reported: by ``set_on_invalid_handle``'s function, or as a fatal error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._universal import (
    _debug_closed_handles,
    _debug_closed_max,
    _debug_force_close,
    _debug_handle_info,
    _debug_new_generation,
    _debug_open_handles,
    _debug_protected_max,
    _debug_set_on_invalid_builder_handle,
    _debug_set_on_invalid_handle,
    _debug_set_stack_trace_limit,
)

__all__ = [
    "DebugHandle", "get_closed_handles", "get_closed_handles_queue_max_size", "get_open_handles",
    "get_protected_raw_data_max_size", "new_generation", "set_closed_handles_queue_max_size",
    "set_handle_stack_trace_limit", "set_on_invalid_builder_handle", "set_on_invalid_handle",
    "set_protected_raw_data_max_size",
]


class DebugHandle:
    """A debug-mode handle as ``get_open_handles`` and ``get_closed_handles``
    report it: ``id`` (the handle's address: two reports of one handle
    compare equal), and, read when asked (a closed handle's record is reused
    by a later handle, as in HPy), ``obj`` (the object, None once closed),
    ``is_closed`` and ``generation``."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:  # noqa: A002
        self.id = id

    @property
    def obj(self) -> Any:
        return _debug_handle_info(self.id)[0]

    @property
    def is_closed(self) -> bool:
        return _debug_handle_info(self.id)[1]

    @property
    def generation(self) -> int:
        return _debug_handle_info(self.id)[2]

    @property
    def raw_data_size(self) -> int:
        """The size of the raw data kept for the handle (its text's copy,
        with the NUL), -1 for none."""
        return _debug_handle_info(self.id)[3]

    @property
    def allocation_stacktrace(self) -> str | None:
        """Where the handle was opened (innermost frame first, from the
        code that called the context function), if
        ``set_handle_stack_trace_limit`` asked for it before; else None."""
        return _debug_handle_info(self.id)[4]

    def _force_close(self) -> None:
        """Closes the handle if it is open (tests that leak on purpose)."""
        _debug_force_close(self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DebugHandle):
            return NotImplemented
        return other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        # HPy's shape: the handle, then where it was opened or how to know.
        obj, closed, _, _, stack = _debug_handle_info(self.id)
        if stack is None:
            trace = ("To get the stack trace of where it was allocated use:\n"
                     "hpy.debug.set_handle_stack_trace_limit")
        else:
            trace = "Allocation stacktrace:\n" + stack
        if closed:
            return f"<DebugHandle 0x{self.id:x} CLOSED>\n{trace}"
        return f"<DebugHandle 0x{self.id:x} for {obj!r}>\n{trace}"


def new_generation() -> int:
    """Starts a new generation of handles and returns it."""
    return _debug_new_generation()


def get_open_handles(generation: int) -> list[DebugHandle]:
    """The handles opened in `generation` or later that are still open."""
    return [DebugHandle(i) for i in _debug_open_handles(generation)]


def get_closed_handles(generation: int | None = None) -> list[DebugHandle]:
    """The closed handles still remembered (of `generation` or later)."""
    handles = [DebugHandle(i) for i in _debug_closed_handles()]
    if generation is not None:
        handles = [h for h in handles if h.generation >= generation]
    return handles


def get_closed_handles_queue_max_size() -> int:
    """How many closed handles are remembered."""
    return _debug_closed_max(None)


def set_closed_handles_queue_max_size(size: int) -> None:
    """Sets how many closed handles are remembered."""
    _debug_closed_max(size)


def set_on_invalid_handle(f: Callable[[], Any] | None) -> None:
    """The function called (with no arguments) when a closed handle is used
    or closed again; None: a fatal error, which names the handle."""
    _debug_set_on_invalid_handle(f)


def get_protected_raw_data_max_size() -> int:
    """How many bytes of closed handles' raw data are kept (unreadable, so
    that a use after close faults); beyond, it is freed."""
    return _debug_protected_max(None)


def set_protected_raw_data_max_size(size: int) -> None:
    """Sets that limit (10 MiB by default)."""
    _debug_protected_max(size)


def set_on_invalid_builder_handle(f: Callable[[], Any] | None) -> None:
    """The function called (with no arguments) when a list or tuple builder
    is used after it was built or cancelled; None: a fatal error."""
    _debug_set_on_invalid_builder_handle(f)


def set_handle_stack_trace_limit(limit: int | None) -> None:
    """From now on, each new handle records the native stack it was opened
    from, and shows up to ``limit`` frames of it (``allocation_stacktrace``,
    the leak report, a use after close); None stops recording."""
    _debug_set_stack_trace_limit(limit)
