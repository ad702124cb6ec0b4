"""The runtime's PEP 517 backend: hpy-rs's own (`python/hpy_rs_build`),
loaded from the checkout the runtime sits in, so that `pip install ./runtime`
works with nothing installed first (as the examples' backends do)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from hpy_rs_build import *  # noqa: E402,F403  (the path first)
from hpy_rs_build import __all__  # noqa: E402
