"""hpy-rs's PEP 517 build backend: `pip install .`, `pip wheel .` and
`pip install -e .` for a crate written with hpy-rs.

A thin shim over `cargo hpy wheel`, which builds the crate and writes the
wheel (tags, metadata, RECORD). In a crate's `pyproject.toml`:

    [build-system]
    requires = ["hpy-rs-build"]          # or, in the hpy-rs checkout:
    build-backend = "hpy_rs_build"       #   requires = []
                                         #   backend-path = ["<checkout>/python"]

Which build: `--abi` in the config settings (`pip install . -C abi=abi3`,
`universal`, `cpython`), else the environment variable `HPY_RS_ABI`, else
the fastest that works on the interpreter doing the build: a CPython-ABI
extension on CPython (for exactly that version), the universal module on
PyPy (and any other interpreter with HPy). The wheel's name, version,
summary and license are the crate's (`Cargo.toml`).

Where `cargo hpy` comes from: `HPY_RS_CARGO_HPY` (the path of a
`cargo-hpy` executable), else the hpy-rs checkout this backend sits in
(`cargo run -p cargo-hpy` there), else `cargo-hpy` on `PATH` (`cargo
install --path <checkout>/cargo-hpy`).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "build_wheel",
    "build_editable",
    "build_sdist",
    "get_requires_for_build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
]

_CHECKOUT = Path(__file__).resolve().parents[2]


def _cargo_hpy() -> list[str]:
    """The command that runs `cargo hpy` (up to the `hpy` argument)."""
    explicit = os.environ.get("HPY_RS_CARGO_HPY")
    if explicit:
        return [explicit, "hpy"]
    if (_CHECKOUT / "cargo-hpy" / "Cargo.toml").is_file():
        # The checkout, or the copy of it an sdist carries (hpy-rs/).
        return ["cargo", "run", "--quiet", "--release", "--manifest-path",
                str(_CHECKOUT / "cargo-hpy" / "Cargo.toml"), "--", "hpy"]
    found = shutil.which("cargo-hpy")
    if found:
        return [found, "hpy"]
    raise RuntimeError(
        "hpy_rs_build needs `cargo hpy`: install it with `cargo install --path <hpy-rs>/cargo-hpy`, "
        "or name the executable in HPY_RS_CARGO_HPY"
    )


def _abi(config_settings: dict | None) -> str:
    settings = config_settings or {}
    abi = settings.get("abi") or settings.get("--abi") or os.environ.get("HPY_RS_ABI")
    if not abi:
        abi = "cpython" if platform.python_implementation() == "CPython" else "universal"
    if abi not in ("universal", "cpython", "abi3"):
        raise ValueError(f"abi must be universal, cpython or abi3, not {abi!r}")
    return abi


def _wheel(wheel_directory: str, config_settings: dict | None, editable: bool) -> str:
    abi = _abi(config_settings)
    cmd = _cargo_hpy() + ["wheel", "--quiet", "--out", os.path.abspath(wheel_directory), "--abi", abi]
    if abi != "universal":
        cmd += ["--python", sys.executable]
    if not (config_settings or {}).get("debug"):
        cmd.append("--release")
    if editable:
        cmd.append("--editable")
    # cargo's progress and errors go to pip's log; the last line of the
    # output is the wheel.
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit status {out.returncode})")
    return Path(out.stdout.strip().splitlines()[-1]).name


def get_requires_for_build_wheel(config_settings=None):
    """Nothing from PyPI: cargo builds the crate."""
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 517: builds the crate in the current directory into a wheel."""
    return _wheel(wheel_directory, config_settings, editable=False)


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_sdist(sdist_directory, config_settings=None):
    """PEP 517: `cargo hpy sdist` (the crate and the hpy-rs SDK it needs)."""
    cmd = _cargo_hpy() + ["sdist", "--quiet", "--out", os.path.abspath(sdist_directory)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit status {out.returncode})")
    return Path(out.stdout.strip().splitlines()[-1]).name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: a wheel whose `.pth` puts the folder the modules are built
    into on `sys.path`: `cargo hpy build --out <that folder>` (or
    `pip install -e .` again) rebuilds them in place."""
    return _wheel(wheel_directory, config_settings, editable=True)
