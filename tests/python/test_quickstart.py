"""The README's Quick start, run exactly as printed: its two files go into
a new folder `hello` next to this checkout (a link named `hpy-rs`), and its
shell lines run there, one after the other, in bash; what they print must end
with the README's expected output.

`cargo install` goes to a fresh CARGO_INSTALL_ROOT whose `bin` is on PATH
(what the README asks of ~/.cargo/bin); the builds share a target folder,
`target/quickstart`, so that later runs are quick. The commands run both
interpreters themselves (the setup's CPython and PyPy), whatever runs the
suite: so it runs once per `tools/test`, in the main run (CPython, the
universal ABI, HPy's runtime, no other version asked), and is skipped in the
runs for other versions, ABIs and runtimes, and on PyPy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CPYTHON_ABI, IS_PYPY, ROOT, RUNTIME, TARGET_DIR

MAIN_RUN = not IS_PYPY and not CPYTHON_ABI and RUNTIME == "hpy" and "HPY_RS_EXPECT_PYTHON" not in os.environ


def quick_start_blocks() -> list[tuple[str, str]]:
    """The (language, text) code blocks of the README's Quick start section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


@pytest.mark.skipif(not MAIN_RUN, reason="the Quick start runs its own interpreters: once, in the main run")
@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
def test_readme_quick_start_runs_verbatim(tmp_path):
    blocks = quick_start_blocks()
    files = [(lang, text) for lang, text in blocks if lang in ("toml", "rust")]
    commands = [text for lang, text in blocks if lang == "sh"]
    expected = [text for lang, text in blocks if lang == "text"]
    assert len(files) == 2 and len(commands) == 1 and len(expected) == 1, blocks

    (tmp_path / "hpy-rs").symlink_to(ROOT)
    project = tmp_path / "hello"
    for _, text in files:
        # each file says its own name on its first line: `# Cargo.toml`, `// src/lib.rs`
        name = text.splitlines()[0].lstrip("#/ ").strip()
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    cargo_root = tmp_path / "cargo-root"
    env = {k: v for k, v in os.environ.items() if k not in ("HPY", "PYTHONPATH", "PYTHONHOME",
                                                             "VIRTUAL_ENV")}
    # The commands run verbatim; the release builds they make (cargo-hpy's
    # `cargo install`, the extension's) are made without optimization, which
    # takes a third of the time (34 s against 93 s for cargo-hpy here) and
    # changes nothing the quick start shows (release code is what the fuzzers,
    # pip's builds and the benchmarks run).
    env.update(CARGO_INSTALL_ROOT=str(cargo_root), CARGO_TARGET_DIR=str(TARGET_DIR / "quickstart"),
               CARGO_PROFILE_RELEASE_OPT_LEVEL="0",
               PATH=f"{cargo_root / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", commands[0]], cwd=project, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    want = expected[0].strip().splitlines()
    got = proc.stdout.strip().splitlines()
    assert got[-len(want):] == want, proc.stdout
    assert (project / "dist" / "hello.hpy0.so").is_file()
