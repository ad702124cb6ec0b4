#!/usr/bin/env python3
"""Memory over 100,000 calls of every sequence-returning function, on PyPy
(and CPython): does anything stay behind?

    python3 bench/rss_sequences.py [--calls N] [--python pypy|cpython|both] [--modules DIR]

Run it with any python3: it prepares the interpreters (tools/setup-interpreters,
cached), builds the test modules with `cargo hpy build` into
target/hpy-modules (unless --modules names a folder of built modules, e.g. an
older build to compare with), and runs one child process per interpreter.

For each function (a Vec, VecDeque, array, slice, tuple, map or set
conversion, a builder, `new_list_from`, `new_tuple`, `hpyjson.loads`), the
child makes 10,000 calls to warm up, collects garbage, reads its resident
set size (RSS) and, on PyPy, the memory its GC holds; makes --calls more
calls; collects again and reads both again. A pure-Python function that
returns a list of the same size is the noise reference. A leak shows as
growth that scales with the calls: PyPy's list builders, which the SDK used
to use for every returned sequence, kept about 70 bytes per item forever.

It prints a table of the growth per function (KB, and bytes per call) and
flags rows whose growth exceeds --limit bytes per call; the exit status is 1
if any row is flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from interpreters import interpreter_env  # noqa: E402
MODULES = {
    "api_conv": "hpy-api-conv-fixture",
    "api_builtins": "hpy-api-builtins-fixture",
    "hpyjson": "hpyjson",
}

CHILD = r'''
import gc, importlib.util, json, os, sys
import hpy.universal

modules_dir, calls = sys.argv[1], int(sys.argv[2])
PYPY = sys.implementation.name == "pypy"

def load(name):
    path = os.path.join(modules_dir, name + ".hpy0.so")
    spec = importlib.util.spec_from_file_location(name, path)
    return hpy.universal.load(name, path, spec, mode=hpy.universal.MODE_UNIVERSAL)

conv, builtins, hpyjson = load("api_conv"), load("api_builtins"), load("hpyjson")

class Item:
    pass

a, b = Item(), Item()
ints = list(range(20))
text = "[" + ",".join(['{"k": [1, 2.5, "x"]}'] * 10) + "]"

def python_list(xs):
    return list(reversed(xs))

CASES = [
    ("noise: a Python function returning a list of 20", lambda: python_list(ints)),
    ("Vec<i64> (20 items)", lambda: conv.vec_i64(ints)),
    ("Vec<String>", lambda: conv.vec_str(["a", "b", "c"])),
    ("Vec<Vec<i64>>", lambda: conv.nested([[1, 2], [3]])),
    ("Vec<Option<f64>>", lambda: conv.vec_opt([1.0, None, 2.0])),
    ("Vec<Handle>", lambda: conv.vec_handles([a, b, a])),
    ("VecDeque<i64>", lambda: conv.deque(ints)),
    ("VecDeque<Handle>", lambda: conv.deque_handles([a, b])),
    ("[i64; 3]", lambda: conv.array3([1, 2, 3])),
    ("[String; 2]", lambda: conv.array_str(["x", "y"])),
    ("[Handle; 2]", lambda: conv.array_handles([a, b])),
    ("&[Handle]", lambda: conv.slice_handles([a, b])),
    ("slices (&[f64], &[&str], ...)", lambda: conv.slices()),
    ("Vec<usize> (100 items)", lambda: conv.range_list(100)),
    ("(i64, String)", lambda: conv.swap((1, "x"))),
    ("12-tuple", lambda: conv.tuple12((1, 2, 3, 4, 5, 6, 7, 8, 9.0, 10.0, True, "twelve"))),
    ("Vec<(String, i64)>", lambda: conv.pairs([("a", 1), ("b", 2)])),
    ("HashMap<String, i64>", lambda: conv.hashmap({"a": 1, "b": 2})),
    ("BTreeMap<i64, Vec<String>>", lambda: conv.btreemap({1: ["a"], 2: ["b", "c"]})),
    ("BTreeMap<String, Handle>", lambda: conv.map_handles({"a": a, "b": b})),
    ("HashSet<i64>", lambda: conv.hashset({1, 2, 3})),
    ("BTreeSet<String>", lambda: conv.btreeset({"x", "y"})),
    ("Vec<Vec<Handle>>", lambda: conv.nested_handles([[a], [b]])),
    ("ListBuilder (10 items)", lambda: builtins.build("list", 10)),
    ("TupleBuilder (10 items)", lambda: builtins.build("tuple", 10)),
    ("new_list_from", lambda: builtins.list_from([a, b, a])),
    ("new_tuple (3)", lambda: builtins.new_tuple3(a, b, a)),
    ("new_tuple (40, heap)", lambda: builtins.new_tuple_n(a, 40)),
    ("list by appends (squares 20)", lambda: builtins.squares(20)),
    ("hpyjson.loads (10 dicts with lists)", lambda: hpyjson.loads(text)),
]

def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)

def heap_kb():
    if PYPY:
        return int(gc.get_stats()._s.total_gc_memory) // 1024  # bytes (the public field is text)
    return rss_kb()

def settle():
    for _ in range(3):
        gc.collect()

rows = []
for label, f in CASES:
    try:
        f()
    except AttributeError:  # an older build without this function
        rows.append([label, None, None])
        continue
    for _ in range(10_000):
        f()
    settle()
    rss0, heap0 = rss_kb(), heap_kb()
    for _ in range(calls):
        f()
    settle()
    rows.append([label, rss_kb() - rss0, heap_kb() - heap0])
print(json.dumps(rows))
'''


def build(out: Path) -> None:
    for package in MODULES.values():
        cmd = ["cargo", "run", "--quiet", "-p", "cargo-hpy", "--",
               "hpy", "build", "--quiet", "-p", package, "--out", str(out)]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=100_000, help="calls per function after warm-up")
    ap.add_argument("--python", choices=["pypy", "cpython", "both"], default="both")
    ap.add_argument("--modules", help="a folder of built modules (default: build into target/hpy-modules)")
    ap.add_argument("--limit", type=float, default=8.0, help="bytes per call of growth that is flagged")
    args = ap.parse_args()
    env = interpreter_env(who="rss_sequences")
    if args.modules:
        modules = Path(args.modules).resolve()
    else:
        modules = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "hpy-modules"
        build(modules)
    runs = []
    if args.python in ("cpython", "both"):
        runs.append(("CPython", env["HPY_CPYTHON"], {}))
    if args.python in ("pypy", "both"):
        if not env.get("HPY_PYPY"):
            sys.exit("rss_sequences: PyPy is not available")
        runs.append(("PyPy", env["HPY_PYPY"], {"PYTHONPATH": env.get("HPY_PYPY_PYTHONPATH", "")}))
    results = {}
    for label, python, extra in runs:
        child_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HPY")}
        child_env.update(extra)
        print(f"rss_sequences: {label}: {args.calls} calls per function ...", file=sys.stderr, flush=True)
        proc = subprocess.run([python, "-c", CHILD, str(modules), str(args.calls)],
                              capture_output=True, text=True, env=child_env, check=False)
        if proc.returncode != 0:
            sys.exit(f"rss_sequences: the {label} child failed:\n{proc.stderr[-2000:]}")
        results[label] = json.loads(proc.stdout.strip().splitlines()[-1])

    labels = [row[0] for row in next(iter(results.values()))]
    flagged = []
    head = f"{'growth over ' + format(args.calls, ',') + ' calls':44}"
    for label in results:
        head += f" | {label + ' RSS KB':>14} {'B/call':>7}" + (f" {'GC heap KB':>11}" if label == "PyPy" else "")
    print(head)
    print("-" * len(head))
    for i, name in enumerate(labels):
        line = f"{name:44}"
        for label, rows in results.items():
            _, rss, heap = rows[i]
            if rss is None:
                line += f" | {'n/a':>14} {'':>7}" + (f" {'':>11}" if label == "PyPy" else "")
                continue
            per_call = rss * 1024 / args.calls
            line += f" | {rss:>14} {per_call:>7.1f}" + (f" {heap:>11}" if label == "PyPy" else "")
            # A leak grows the live heap (PyPy) or RSS (CPython) per call.
            measure = heap if label == "PyPy" else rss
            if measure * 1024 / args.calls > args.limit and not name.startswith("noise"):
                flagged.append(f"{label}: {name}: {measure} KB over {args.calls} calls")
        print(line)
    for f in flagged:
        print(f"FLAGGED: {f}")
    print("result: " + ("no growth beyond noise" if not flagged else f"{len(flagged)} rows flagged"))
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
