"""Debug mode's Python API (``hpy.debug``'s): ``LeakDetector``.

    from hpy_rs_runtime.debug import LeakDetector
    with LeakDetector():
        mod.f()          # a module loaded in debug mode (HPY=debug)

raises ``HPyLeakError`` naming the handles opened inside the block and
still open at its end.
"""

from __future__ import annotations

from typing import Any

from . import _debug

__all__ = [
    "HPyDebugError", "HPyLeakError", "LeakDetector", "disable_handle_stack_traces",
    "set_handle_stack_trace_limit",
]


class HPyDebugError(Exception):
    """An error debug mode found."""


class HPyLeakError(HPyDebugError):
    """Handles left open (``leaks``: their ``DebugHandle``s)."""

    def __init__(self, leaks: list[Any]) -> None:
        super().__init__()
        self.leaks = leaks

    def __str__(self) -> str:
        n = len(self.leaks)
        lines = [f"{n} unclosed handle{'s' if n != 1 else ''}:"]
        lines += [f"    {h!r}" for h in self.leaks]
        return "\n".join(lines)


class LeakDetector:
    """Finds the debug-mode handles opened between ``start()`` and
    ``stop()`` (or in a ``with`` block) and still open at the end."""

    def __init__(self) -> None:
        self.generation: int | None = None

    def start(self) -> None:
        if self.generation is not None:
            raise ValueError("LeakDetector already started")
        self.generation = _debug.new_generation()

    def stop(self) -> None:
        if self.generation is None:
            raise ValueError("LeakDetector not started yet")
        leaks = _debug.get_open_handles(self.generation)
        if leaks:
            raise HPyLeakError(leaks)

    def __enter__(self) -> LeakDetector:
        self.start()
        return self

    def __exit__(self, etype: Any, evalue: Any, tb: Any) -> None:
        self.stop()


def set_handle_stack_trace_limit(limit: int | None) -> None:
    """From now on, each new handle records the native stack it was opened
    from; a leak report shows up to ``limit`` frames of it."""
    _debug.set_handle_stack_trace_limit(limit)


def disable_handle_stack_traces() -> None:
    """New handles record no stack (the default)."""
    _debug.set_handle_stack_trace_limit(None)
