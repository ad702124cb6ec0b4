"""hpy-rs's HPy 0.9 universal runtime for CPython.

It loads HPy universal binaries (``<name>.hpy0.so``: hpy-rs extensions and C
extensions built with ``hpy.devel --hpy-abi=universal`` alike) on CPython
3.9-3.14, where HPy's own runtime (the ``hpy`` package, last released as
0.9.0) has no wheels past 3.11 and crashes on every HPy type from 3.13.

* ``hpy_rs_runtime.universal`` has the API of ``hpy.universal``: ``load``,
  ``_load_bootstrap`` (what loader stubs call), ``get_version`` and the
  ``MODE_*`` constants. hpy-rs's own loader stubs use it on CPython.
* ``hpy_rs_runtime.install()`` makes ``import hpy.universal`` give it in this
  process, for loader stubs and tools written for HPy's runtime (HPy's own
  stubs, HPy's test suite). It never replaces anything on disk: with the
  ``hpy`` package installed, ``hpy.devel`` and the rest stay HPy's.
"""

from __future__ import annotations

import importlib.util
import sys
import types

__all__ = ["debug", "install", "trace", "universal"]

if sys.implementation.name != "cpython":
    raise ImportError(
        f"hpy_rs_runtime is a runtime for CPython; {sys.implementation.name} loads HPy "
        "universal binaries with its own (import hpy.universal)"
    )

from . import debug, trace, universal  # noqa: E402


def install() -> types.ModuleType:
    """Serve ``import hpy.universal`` from this runtime, in this process.

    Modules loaded before through HPy's own runtime keep working; modules
    loaded afterwards through ``hpy.universal`` use this one. When the
    ``hpy`` package is not installed, a bare ``hpy`` package stands in for
    it; ``hpy.debug`` (``LeakDetector``) and ``hpy.trace`` are HPy's where
    the package has them (they call this runtime's ``_debug`` and
    ``_trace``), this runtime's otherwise. Returns the runtime's module.
    """
    sys.modules["hpy.universal"] = universal
    hpy = sys.modules.get("hpy")
    if hpy is None:
        try:
            import hpy  # noqa: F811 (the real package, when installed)
        except ImportError:
            hpy = types.ModuleType("hpy", "stand-in for the hpy package: hpy_rs_runtime.install()")
            hpy.__path__ = []
            sys.modules["hpy"] = hpy
    hpy.universal = universal
    # hpy.debug and hpy.trace: HPy's where the hpy package has them (they run
    # on this runtime's `_debug` and `_trace`), else this runtime's.
    for name, module in (("debug", debug), ("trace", trace)):
        try:
            found = importlib.util.find_spec(f"hpy.{name}") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            setattr(hpy, name, module)
            sys.modules[f"hpy.{name}"] = module
    return universal
