"""This example's PEP 517 backend: hpy-rs's own (`python/hpy_rs_build`),
loaded from the checkout the example sits in, so that `pip install
examples/pof` works with nothing installed first. A project of its own says
`requires = ["hpy-rs-build"]` instead (see the README, "Packaging")."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))

from hpy_rs_build import *  # noqa: E402,F403  (the path first)
from hpy_rs_build import __all__  # noqa: E402
