"""The API of HPy's ``hpy.universal``, served by hpy-rs's runtime.

``load(name, path, spec, debug=False, mode=-1)`` loads the universal binary
at ``path`` as the module ``name`` (``mode``, when positive, overrides
``debug``); ``_load_bootstrap`` is what loader stubs call: it honours the
``HPY`` environment variable (``HPY=debug``, or per module
``HPY=name:debug,other:trace``) and ``HPY_LOG``, and sets the module's
``__file__``, ``__loader__``, ``__name__``, ``__package__`` and ``__spec__``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from . import _debug
from . import trace as _trace
from ._universal import MODE_DEBUG, MODE_TRACE, MODE_UNIVERSAL, get_version, load

__all__ = ["MODE_DEBUG", "MODE_TRACE", "MODE_UNIVERSAL", "get_version", "load", "_load_bootstrap"]

_MODES = {"universal": MODE_UNIVERSAL, "debug": MODE_DEBUG, "trace": MODE_TRACE}


def _mode(value: str) -> int:
    mode = _MODES.get(value.strip().lower())
    if mode is None:
        raise ValueError(f"invalid HPy mode: {value}")
    return mode


def _mode_from_environ(module_name: str, env: Mapping[str, str]) -> int:
    """The mode ``HPY`` asks for ``module_name``: ``MODE`` for every module,
    or ``NAME:MODE{,NAME:MODE}`` per module (universal for the others)."""
    value = env.get("HPY")
    if value is None:
        return MODE_UNIVERSAL
    if ":" not in value:
        return _mode(value)
    for item in value.split(","):
        name, sep, mode = item.partition(":")
        if not sep:
            raise ValueError(f"invalid HPy mode: {value}")
        if name.strip() == module_name:
            return _mode(mode)
    return MODE_UNIVERSAL


def _load_bootstrap(
    name: str, ext_name: str, package: Any, file: str, loader: Any, spec: Any, env: Mapping[str, str]
) -> Any:
    """Load the universal binary ``file`` for a loader stub (HPy's protocol)."""
    mode = _mode_from_environ(name, env)
    if env.get("HPY_LOG") is not None:
        how = {MODE_DEBUG: " with a debug context", MODE_TRACE: " with a trace context"}.get(mode, "")
        sys.stdout.write(f"Loading {name!r} in HPy universal mode{how}\n")
    module = load(name, file, spec, mode=mode)
    module.__file__ = file
    module.__loader__ = loader
    module.__name__ = ext_name
    module.__package__ = package
    spec.origin = file
    module.__spec__ = spec
    return module
