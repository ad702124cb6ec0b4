"""The interpreters the project installs, for the Python tools and benchmarks.

    from interpreters import interpreter_env
    env = interpreter_env()          # {"HPY_CPYTHON": ..., "HPY_PYPY": ..., ...}

It runs `tools/setup-interpreters --print-env` (which installs them on first
use, then answers from its cache) and reads the variables of the env file it
names. Standard library only, so that any python3 can run the tools.
"""

from __future__ import annotations

import functools
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def interpreter_env(*options: str, who: str = "hpy-rs", required: bool = True) -> dict[str, str] | None:
    """The variables of the env file (`HPY_CPYTHON`, `HPY_PYPY`, ...);
    `options` go to `setup-interpreters` (e.g. `--with-pypy-dev`). If the
    setup fails, exits (or, when not `required`, says so and returns None)."""
    cmd = [str(ROOT / "tools" / "setup-interpreters"), "--print-env", *options]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        message = f"{who}: `{' '.join(cmd)}` failed (exit {proc.returncode}); see above"
        if required:
            sys.exit(message)
        print(message, file=sys.stderr, flush=True)
        return None
    values = {}
    for line in Path(proc.stdout.strip()).read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export":
            name, _, value = words[1].partition("=")
            values[name] = value
    return values


@functools.cache
def cargo_hpy() -> list[str]:
    """The command that runs `cargo-hpy` (the `hpy` subcommand follows):
    `$HPY_RS_TEST_CARGO_HPY`, a cargo-hpy executable (tools/test builds one
    and names it, so that its steps running side by side do not queue on
    cargo's lock just to start it), else this checkout's, built once (in
    the usual target directory even where the caller sets another
    `CARGO_TARGET_DIR` for its own build: `cargo run` would build cargo-hpy
    again there)."""
    explicit = os.environ.get("HPY_RS_TEST_CARGO_HPY")
    if explicit:
        return [explicit]
    subprocess.run(["cargo", "build", "--quiet", "-p", "cargo-hpy"], cwd=ROOT, check=True)
    return [str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "debug" / "cargo-hpy")]
