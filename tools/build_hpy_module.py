#!/usr/bin/env python3
"""Build a workspace cdylib and lay it out as a universal HPy module `<name>.hpy0.so`.

    python3 tools/build_hpy_module.py --package hpy-smoke-fixture --name smoke --out DIR [--release]

Runs `cargo build -p PACKAGE`, finds the cdylib that cargo reports, and copies
it to `DIR/<name>.hpy0.so`. The copy is replaced only when its content changed,
so several interpreters (and test sessions) load the very same file. Prints the
path of the module. Only the Python standard library is used, so any
interpreter (CPython or PyPy) can run it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cargo_cdylib(package: str, release: bool) -> Path:
    cmd = ["cargo", "build", "-p", package, "--message-format=json-render-diagnostics"]
    if release:
        cmd.append("--release")
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"build_hpy_module: `{' '.join(cmd)}` failed (exit {proc.returncode})")
    found = None
    for line in proc.stdout.splitlines():
        msg = json.loads(line)
        # Only the requested package is built as a cdylib (its dependencies are rlibs).
        if msg.get("reason") == "compiler-artifact" and "cdylib" in msg["target"]["kind"]:
            for f in msg["filenames"]:
                if f.endswith((".so", ".dylib", ".dll")):
                    found = Path(f)
    if found is None:
        sys.exit(f"build_hpy_module: package {package} produced no cdylib (is crate-type = [\"cdylib\"] set?)")
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install(src: Path, out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / f"{name}.hpy0.so"
    if dest.exists() and digest(dest) == digest(src):
        return dest
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)  # atomic: a loader never sees a half-written file
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", required=True, help="cargo package of the cdylib")
    ap.add_argument("--name", required=True, help="Python module name (the HPyInit_<name> symbol)")
    ap.add_argument("--out", required=True, type=Path, help="folder to put <name>.hpy0.so in")
    ap.add_argument("--release", action="store_true")
    ns = ap.parse_args()
    dest = install(cargo_cdylib(ns.package, ns.release), ns.out.resolve(), ns.name)
    print(dest)


if __name__ == "__main__":
    main()
