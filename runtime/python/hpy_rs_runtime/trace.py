"""Trace mode's Python API (``hpy.trace``'s, and ``hpy.universal._trace``'s).

A module loaded in trace mode (``HPY=trace``, ``mode=MODE_TRACE``) gets a
context whose every function counts its calls and the time spent in it:

* ``get_call_counts()``: ``{"ctx_Add": calls, ...}`` for every context function;
* ``get_durations()``: ``{"ctx_Add": ticks, ...}`` (``get_frequency()`` ticks a
  second: nanoseconds);
* ``set_trace_functions(on_enter=None, on_exit=None)``: Python functions called
  with the context function's name before and after each call; an argument
  left out keeps the current function, ``None`` removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._universal import _trace_get_call_counts as get_call_counts
from ._universal import _trace_get_durations as get_durations
from ._universal import _trace_get_frequency as get_frequency
from ._universal import _trace_set_functions

__all__ = ["get_call_counts", "get_durations", "get_frequency", "set_trace_functions"]


def set_trace_functions(
    on_enter: Callable[[str], Any] | None = ..., on_exit: Callable[[str], Any] | None = ...  # type: ignore[assignment]
) -> None:
    """Sets the functions called before (``on_enter``) and after (``on_exit``)
    each context function, with its name; ``None`` removes one."""
    for name, f in (("on_enter", on_enter), ("on_exit", on_exit)):
        if f is not ... and f is not None and not callable(f):
            raise TypeError(f"{name} must be a callable or None, not {type(f).__name__}")
    _trace_set_functions(on_enter, on_exit)
