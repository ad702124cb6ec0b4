#!/usr/bin/env python3
"""Random calls: every function of every test module and example, called with
random argument lists from a pool of ordinary and hostile values.

    python3 tools/fuzz_calls.py [--calls N] [--pypy-calls N] [--seed S] [--jobs J] [--abi cpython|abi3]

Run it with any python3 (standard library only): it prepares the interpreters
with tools/setup-interpreters (cached), builds every module with
`cargo hpy build` (the dev profile, whose debug assertions make hpy-sys refuse
context calls with an exception pending) into target/fuzz-calls/, and runs the
calls in child processes of CPython (default 1,000,000 calls) and then PyPy
(default 250,000), in universal mode, from the very same files.

The pool is `tests/python/hostile.py`'s: values of every builtin type and
edge values, and subclasses whose `__len__`, `__index__`, `__hash__`,
`__eq__`, `__iter__`, `__getitem__`, `__fspath__` ... lie or raise. A call
takes a function at random and arguments at random: mostly as many as its
`__text_signature__` says (some by keyword; each half the time a value that
fits the parameter, so that the call gets past it), sometimes one fewer or more, a
keyword it does not have (a lone surrogate too), or parameters that size
loops (`n`, `capacity`, ...) from small counts, and exponents from small
integers (`hostile.SMALL_INT_PARAMS`: `pow(5, 2**63)` runs for hours in
CPython itself). The functions that abort,
sleep, change files or print on purpose are never called
(`hostile.NEVER_CALL`).

Calls are generated deterministically from the seed in chunks of CHUNK calls,
each in a new child process with its address space limited (RLIMIT_AS,
--memory-limit), so that sizes nobody can allocate fail fast with
MemoryError. Findings:

  unexpected   an exception that reveals a bug: SystemError (a Rust panic,
               an exception left set, an error returned without one) from a
               function that does not raise it on purpose, or an exception
               that is no Exception (SystemExit, ...); examples are printed
  crash        the child died (signal, abort, a fatal error); the chunk is
               replayed with every call logged, to report the one that crashed
  hang         a chunk took more than --timeout seconds
  RSS growth   the child's resident memory grew by more than --rss-limit MB
               between the end of a warm-up and the end of its chunk; on
               PyPy, whose RSS moves by tens of MB in a chunk of plain
               Python calls (measured: `len([1])` 200,000 times, JIT off,
               26 MB; a C HPy method's error path 141 MB, a Rust one's the
               same), the median over the chunks (a leak grows in every
               chunk) and, per chunk, the memory its GC holds (objects a
               leaked handle keeps alive)

With --valgrind the children run under valgrind's memcheck (CPython only,
with PYTHONMALLOC=malloc, no address-space limit: give it fewer calls), and
every invalid read or write, use of uninitialised memory or invalid free
whose stack passes through a `.hpy0.so` is a finding (the logs are kept in
target/fuzz-calls/valgrind/).

With --abi cpython the modules are built as plain CPython extensions for the
CPython venv (`cargo hpy build --abi cpython`, into target/fuzz-calls/cpython-abi/)
and imported as such; PyPy is skipped. --abi abi3 does the same with the
limited-API build (`<name>.abi3.so`, into target/fuzz-calls/abi3-abi/).

It prints the calls made, their outcomes and RSS figures per interpreter; the
exit status is 0 when there is no finding, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from interpreters import cargo_hpy, interpreter_env

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "fuzz-calls"
CHUNK = 10_000
WARMUP = 1_000

# module name -> cargo package (the test modules and the examples)
MODULES = {
    "smoke": "hpy-smoke-fixture",
    "pof": "pof",
    "features": "hpy-features-fixture",
    "api_object": "hpy-api-object-fixture",
    "api_builtins": "hpy-api-builtins-fixture",
    "api_errors": "hpy-api-errors-fixture",
    "api_conv": "hpy-api-conv-fixture",
    "multifile": "hpy-multifile-fixture",
    "classes": "hpy-classes-fixture",
    "hpyjson": "hpyjson",
    "pofpackage.foo": "pofpackage",
}

# ---------------------------------------------------------------------------
# The child: loads the modules, makes and runs the calls of one chunk

CHILD = r'''
import gc, importlib.util, json, os, random, resource, sys, warnings
sys.path.insert(0, HOSTILE_DIR)
import hostile as H

modules_dir, seed, chunk, n, verbose, memory_mb = sys.argv[1], *map(int, sys.argv[2:7])
only = sys.argv[7].split(",") if len(sys.argv) > 7 and sys.argv[7] else []
cpython_abi = sys.argv[8] in ("cpython", "abi3")
abi3 = sys.argv[8] == "abi3"
if memory_mb:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def load(name):
    if cpython_abi:  # a plain CPython extension: pkg/mod<EXT_SUFFIX>
        import sysconfig
        suffix = ".abi3.so" if abi3 else sysconfig.get_config_var("EXT_SUFFIX")
        path = os.path.join(modules_dir, *name.split(".")) + suffix
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    import hpy.universal
    path = os.path.join(modules_dir, *name.split(".")) + ".hpy0.so"  # pkg.mod: pkg/mod.hpy0.so
    spec = importlib.util.spec_from_file_location(name, path)
    return hpy.universal.load(name, path, spec, mode=hpy.universal.MODE_UNIVERSAL)

functions = []  # (module, name, function, parameters or None)
classes = []  # the classes of the modules, whose instances `instances` keeps
instances = {}  # class -> a few live instances (made by its calls)
MAX_INSTANCES = 8

def keep(cls, obj):
    """Keeps `obj`, an instance of `cls`, for calls of its methods."""
    kept = instances[cls]
    if len(kept) < MAX_INSTANCES:
        kept.append(obj)
    else:
        kept[hash(id(obj)) % MAX_INSTANCES] = obj

def some_instance(rng, cls):
    kept = instances[cls]
    if not kept:
        raise LookupError("no instance yet")  # counted as raised, not unexpected
    return rng.choice(kept)

def method_caller(cls, name):
    def call(*args, **kwargs):
        return getattr(some_instance(RNG[0], cls), name)(*args, **kwargs)
    return call

def attribute_user(cls, name):
    """Gets, sets (to any value) or deletes the attribute `name`."""
    def use(value=None, *more):
        obj = some_instance(RNG[0], cls)
        what = RNG[0].randrange(3)
        if what == 0:
            return getattr(obj, name)
        if what == 1:
            return setattr(obj, name, value)
        return delattr(obj, name)
    return use

def operators(cls):
    """Applies one of Python's operators and protocols to an instance and any
    value (both sides). Where Python's own cost grows without bound with the
    operand (`pow(n, 2**63)` of an int-based class; `v in o` of a sequence
    without __contains__, which Python walks item by item), the operand is
    kept small, as H.bounded keeps function arguments."""
    import copy, itertools, operator

    def small(v):
        return 3 if type(v) is int and abs(v) > H.SMALL_INT else v

    def contains(o, v):
        if not hasattr(type(o), "__contains__"):
            try:
                n = len(o)
            except Exception:
                n = 0
            if n > H.SMALL_INT:
                raise LookupError("`in` over a huge sequence: not tried")  # counted as raised
        return v in o

    ops = [
        repr, str, hash, bool, len, copy.copy, abs, operator.neg, operator.pos,
        operator.invert, operator.index, int, float, memoryview,
        lambda o, v: list(itertools.islice(iter(o), 100)),
        lambda o, v: next(o),
        lambda o, v: o == v, lambda o, v: v == o, lambda o, v: o != v,
        lambda o, v: o < v, lambda o, v: o <= v, lambda o, v: v > o,
        lambda o, v: o + v, lambda o, v: v + o, lambda o, v: o - v, lambda o, v: v - o,
        lambda o, v: o * v, lambda o, v: o @ v, lambda o, v: o / v, lambda o, v: o // v,
        lambda o, v: o % v, lambda o, v: divmod(o, v), lambda o, v: pow(o, small(v)),
        lambda o, v: pow(o, 2, v), lambda o, v: o << small(v), lambda o, v: o & v, lambda o, v: v | o,
        lambda o, v: operator.iadd(o, v), lambda o, v: operator.imul(o, v),
        lambda o, v: o[v], lambda o, v: operator.setitem(o, v, v),
        lambda o, v: operator.delitem(o, v), contains, lambda o, v: o(v),
        lambda o, v: o(), lambda o, v: getattr(o, "zzz"),
        lambda o, v: o.__enter__(), lambda o, v: o.__exit__(v, v, v),
        lambda o, v: memoryview(o).tobytes(),
        lambda o, v: isinstance(v, cls), lambda o, v: cls.__new__(cls),
    ]
    def apply(value=None, *more):
        obj = some_instance(RNG[0], cls)
        op = RNG[0].choice(ops)
        try:
            return op(obj, value)
        except TypeError as e:
            if "positional argument" in str(e) and op.__name__ != "<lambda>":
                return op(obj)  # a one-operand protocol
            raise
    return apply

RNG = [random.Random(0)]

for module_name in MODULE_NAMES:
    module = load(module_name)
    for name in sorted(dir(module)):
        f = getattr(module, name)
        if name.startswith("_") or not callable(f):
            continue
        if (module_name, name) in H.NEVER_CALL:
            continue
        if only and module_name not in only and f"{module_name}.{name}" not in only:
            continue
        if not isinstance(f, type):
            functions.append((module_name, name, f, H.parameters(f)))
            continue
        if getattr(f, "__module__", None) != module.__name__:
            continue  # an exception class of the module, say
        # A class: its constructor, each method and attribute, and its
        # operators, on instances its constructor made.
        classes.append(f)
        instances[f] = []
        functions.append((module_name, name, f, H.parameters(f)))
        for attr in sorted(vars(f)):
            if attr.startswith("_") or (module_name, f"{name}.{attr}") in H.NEVER_CALL:
                continue
            raw = vars(f)[attr]
            label = f"{name}.{attr}"
            if isinstance(raw, (staticmethod, classmethod)):
                params = H.parameters(getattr(f, attr))
                if isinstance(raw, classmethod) and params:
                    params = params[1:]  # the class, bound
                functions.append((module_name, label, getattr(f, attr), params))
            elif callable(raw):
                functions.append((module_name, label, method_caller(f, attr), H.parameters(raw)))
            else:
                functions.append((module_name, label, attribute_user(f, attr), None))
        functions.append((module_name, f"{name}.<operators>", operators(f), None))

BOGUS_KEYWORDS = ["zzz", "self", "kwargs", "\ud800", "a b", ""]

def make_call(rng, pool):
    module_name, name, f, params = rng.choice(functions)
    args, kwargs = [], {}
    if params is None:
        params = []
        count = rng.randrange(3)
    else:
        count = len(params) + rng.choice((0, 0, 0, 0, 0, 0, -1, 1, 2))
    for i in range(max(count, 0)):
        p = params[i] if i < len(params) else None
        if p is not None and rng.random() < 0.5:
            value = H.good(p)  # a good value, so the call gets past its other arguments
        elif p is not None and p.name in H.COUNT_PARAMS:
            value = rng.choice(H.COUNTS)
        else:
            value = H.bounded(module_name, name, p, rng.choice(pool)[1])
        if p is not None and (p.kind == p.KEYWORD_ONLY or
                              (p.kind == p.POSITIONAL_OR_KEYWORD and rng.random() < 0.3)):
            kwargs[p.name] = value
        else:
            args.append(value)
    if rng.random() < 0.03:
        kwargs[rng.choice(BOGUS_KEYWORDS)] = rng.choice(pool)[1]
    return module_name, name, f, args, kwargs

def describe(module_name, name, args, kwargs):
    def label(v):
        try:
            return type(v).__name__
        except BaseException:
            return "?"
    return f"{module_name}.{name}({', '.join(map(label, args))}" + \
        "".join(f", {ascii(k)}={label(v)}" for k, v in kwargs.items()) + ")"

def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)

def gc_kb():
    """PyPy: the memory its GC holds after a collection (RSS also counts the
    JIT's code and arenas the GC keeps); CPython: RSS."""
    if sys.implementation.name == "pypy":
        return int(gc.get_stats()._s.total_gc_memory) // 1024  # bytes (the public field is text)
    return rss_kb()

def main():
    rng = random.Random(seed * 1_000_003 + chunk)
    RNG[0] = rng
    for cls in classes:  # a first instance of each class, from good arguments
        params = H.parameters(cls) or []
        try:
            keep(cls, cls(*[H.good(p) for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]))
        except Exception:
            pass
    sys.unraisablehook = lambda *_: None
    warnings.simplefilter("ignore")
    counts = {"calls": 0, "returned": 0, "raised": 0, "unexpected": 0}
    kinds = {}
    examples = []
    rss_start = gc_start = None
    pool = H.pool()
    for i in range(n):
        if i % 500 == 0:
            pool = H.pool()  # functions may change what they are given
        if i == min(WARMUP, n // 2):
            gc.collect()
            rss_start, gc_start = rss_kb(), gc_kb()
        module_name, name, f, args, kwargs = make_call(rng, pool)
        if verbose:
            sys.stdout.write("call " + describe(module_name, name, args, kwargs) + "\n")
            sys.stdout.flush()
        counts["calls"] += 1
        try:
            result = f(*args, **kwargs)
            counts["returned"] += 1
            for cls in classes:
                if type(result) is cls:
                    keep(cls, result)
        except BaseException as e:
            counts["raised"] += 1
            kind = type(e).__name__
            kinds[kind] = kinds.get(kind, 0) + 1
            bad = H.unexpected(module_name, name, e) or (
                not isinstance(e, Exception) and (module_name, name) not in H.MAY_RAISE_ANYTHING)
            if bad:
                counts["unexpected"] += 1
                if len(examples) < 5:
                    try:
                        text = str(e)[:300]
                    except BaseException:
                        text = "?"
                    examples.append(describe(module_name, name, args, kwargs) + f": {kind}: {text}")
    del pool
    gc.collect()
    rss_end, gc_end = rss_kb(), gc_kb()
    result = {"counts": counts, "kinds": kinds, "examples": examples,
              "rss_start_kb": rss_start or rss_end, "rss_end_kb": rss_end,
              "gc_start_kb": gc_start or gc_end, "gc_end_kb": gc_end}
    sys.stdout.write("result " + json.dumps(result) + "\n")
    sys.stdout.flush()

main()
'''.replace("HOSTILE_DIR", repr(str(ROOT / "tests" / "python"))).replace(
    "MODULE_NAMES", repr(list(MODULES))).replace("WARMUP", str(WARMUP))


def log(message: str) -> None:
    print(f"fuzz_calls: {message}", file=sys.stderr, flush=True)


def build(out: Path, abi: list[str]) -> None:
    # One build of them all: cargo compiles the crates side by side.
    packages = [arg for package in MODULES.values() for arg in ("-p", package)]
    cmd = [*cargo_hpy(), "hpy", "build", "--quiet", *packages, "--out", str(out), *abi]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"fuzz_calls: `{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}")


class Child:
    """Runs one chunk in a new process of `python` and reports it."""

    def __init__(self, python: list[str], env: dict, seed: int, memory_mb: int, cwd: str,
                 only: str, modules: Path, abi: str) -> None:
        self.python, self.env, self.seed, self.memory_mb, self.cwd = python, env, seed, memory_mb, cwd
        self.only, self.modules, self.abi = only, modules, abi
        self.pypy = False  # set for PyPy's runs

    def run(self, chunk: int, n: int, timeout: float, verbose: bool = False):
        """The result dict, or ("crash"/"hang", detail, last call logged or None)."""
        args = [*self.python, "-c", CHILD, str(self.modules), str(self.seed), str(chunk), str(n),
                str(int(verbose)), str(self.memory_mb), self.only, self.abi]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, cwd=self.cwd,
                                errors="replace")
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return "hang", f"no answer after {timeout:.0f} s", last_call(out)
        for line in out.splitlines():
            if line.startswith("result "):
                return json.loads(line[len("result "):])
        return "crash", f"exit status {proc.returncode}: {err.strip()[-600:]}", last_call(out)


def last_call(out: str) -> str | None:
    calls = [line[len("call "):] for line in out.splitlines() if line.startswith("call ")]
    return calls[-1] if calls else None


VALGRIND_LOGS = OUT / "valgrind"
VALGRIND = ["valgrind", "--tool=memcheck", "--error-limit=no", "--num-callers=40", "--fullpath-after=",
            f"--log-file={VALGRIND_LOGS}/chunk-%p.log"]
ERROR_START = re.compile(r"^==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised"
                         r"|Syscall param|Mismatched free|Source and destination overlap)")


def valgrind_findings() -> tuple[int, int, list[str]]:
    """(errors in all, errors through a .hpy0.so, examples) from the logs."""
    total, ours, examples = 0, 0, []
    for log_file in sorted(VALGRIND_LOGS.glob("chunk-*.log")):
        block: list[str] = []
        for line in log_file.read_text(errors="replace").splitlines() + ["==0== "]:
            body = line.split("== ", 1)[-1] if line.startswith("==") else line
            if ERROR_START.match(line) or (block and not body.strip()):
                if block:
                    total += 1
                    if any(".hpy0.so" in b or str(ROOT) in b for b in block):
                        ours += 1
                        if len(examples) < 5:
                            examples.append(" | ".join(b.strip() for b in block[:8]))
                block = [line] if ERROR_START.match(line) else []
            elif block:
                block.append(line)
    return total, ours, examples


def fuzz(label: str, child: Child, total: int, args) -> tuple[list[str], dict]:
    """Runs `total` calls in chunks; returns the findings and the totals."""
    started = time.monotonic()
    chunks = [(i, min(CHUNK, total - i * CHUNK)) for i in range((total + CHUNK - 1) // CHUNK)]
    totals = {"calls": 0, "returned": 0, "raised": 0, "unexpected": 0, "crash": 0, "hang": 0}
    kinds: dict[str, int] = {}
    growth: list[int] = []
    heap: list[int] = []
    findings: list[str] = []

    def work(job):
        chunk, n = job
        return job, child.run(chunk, n, args.timeout)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for (chunk, n), result in pool.map(work, chunks):
            if isinstance(result, tuple):
                kind, detail, _ = result
                totals[kind] += 1
                log(f"{label} chunk {chunk}: {kind} ({detail}); replaying it with every call logged")
                replay = child.run(chunk, n, args.timeout, verbose=True)
                culprit = replay[2] if isinstance(replay, tuple) else None
                findings.append(f"{kind} in {label} chunk {chunk} (seed {args.seed}): {detail}; "
                                f"last call: {culprit or f'(the replay did not {kind})'}")
                continue
            for key, value in result["counts"].items():
                totals[key] += value
            for kind, value in result["kinds"].items():
                kinds[kind] = kinds.get(kind, 0) + value
            for example in result["examples"]:
                findings.append(f"unexpected exception in {label} chunk {chunk}: {example}")
            grew = result["rss_end_kb"] - result["rss_start_kb"]
            growth.append(grew)
            heap_grew = result["gc_end_kb"] - result["gc_start_kb"]
            heap.append(heap_grew)
            calls = n - min(WARMUP, n // 2)
            if not child.pypy and grew > args.rss_limit * 1024:
                findings.append(f"RSS growth in {label} chunk {chunk}: {grew / 1024:.1f} MB "
                                f"over {calls} calls")
            if child.pypy and heap_grew > args.rss_limit * 1024:
                findings.append(f"GC heap growth in {label} chunk {chunk}: {heap_grew / 1024:.1f} MB "
                                f"over {calls} calls")
    if child.pypy and growth and sorted(growth)[len(growth) // 2] > args.rss_limit * 1024:
        findings.append(f"RSS growth in {label}: {sorted(growth)[len(growth) // 2] / 1024:.1f} MB "
                        f"per chunk (median of {len(growth)})")
    totals["seconds"] = time.monotonic() - started
    totals["kinds"] = kinds
    totals["growth"] = sorted(growth)
    totals["heap"] = sorted(heap)
    return findings, totals


def report(label: str, totals: dict) -> None:
    print(f"{label}: {totals['calls']} calls in {totals['seconds']:.1f} s: "
          f"{totals['returned']} returned, {totals['raised']} raised, "
          f"{totals['unexpected']} unexpected, {totals['crash']} crashed chunks, "
          f"{totals['hang']} hung chunks")
    common = sorted(totals["kinds"].items(), key=lambda kv: -kv[1])
    print("  exceptions: " + ", ".join(f"{k} {v}" for k, v in common[:12])
          + (f", {len(common) - 12} more kinds" if len(common) > 12 else ""))
    growth = totals["growth"]
    if growth:
        heap = totals["heap"]
        print(f"  growth per chunk after warm-up (KB): RSS median {growth[len(growth) // 2]}, "
              f"max {growth[-1]}; GC heap median {heap[len(heap) // 2]}, max {heap[-1]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=float, default=1_000_000, help="calls on CPython (default 1,000,000)")
    ap.add_argument("--pypy-calls", type=float, default=250_000, help="calls on PyPy (default 250,000; 0: skip)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="child processes at a time")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per chunk before it is a hang")
    ap.add_argument("--memory-limit", type=int, default=4096, help="address space per child, MB (0: none)")
    ap.add_argument("--rss-limit", type=float, default=32, help="RSS growth per chunk that is a finding, MB")
    ap.add_argument("--no-build", action="store_true", help=f"use the modules already in {OUT}")
    ap.add_argument("--valgrind", action="store_true",
                    help="run the CPython children under valgrind's memcheck (PyPy is skipped)")
    ap.add_argument("--only", default="", metavar="NAMES",
                    help="call only these modules or functions (comma-separated: api_conv,pof.double)")
    ap.add_argument("--abi", choices=["universal", "cpython", "abi3"], default="universal",
                    help="the build to call: universal (default), cpython or abi3 (CPython only)")
    args = ap.parse_args()
    env = interpreter_env(who="fuzz_calls")
    modules = OUT / f"{args.abi}-abi" if args.abi != "universal" else OUT
    if not args.no_build:
        build(modules, ["--abi", args.abi, "--python", env["HPY_CPYTHON"]] if args.abi != "universal" else [])
    if args.abi != "universal":
        args.pypy_calls = 0
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "HPY")}
    base_env["RUST_BACKTRACE"] = "0"
    runs = [("CPython", [env["HPY_CPYTHON"]], base_env, int(args.calls))]
    if args.valgrind:
        VALGRIND_LOGS.mkdir(parents=True, exist_ok=True)
        for old in VALGRIND_LOGS.glob("chunk-*.log"):
            old.unlink()
        runs = [("CPython under memcheck", VALGRIND + [env["HPY_CPYTHON"]],
                 dict(base_env, PYTHONMALLOC="malloc"), int(args.calls))]
        args.memory_limit = 0
        args.rss_limit = float("inf")
    elif env.get("HPY_PYPY") and int(args.pypy_calls) > 0:
        pypy_env = dict(base_env, PYTHONPATH=env.get("HPY_PYPY_PYTHONPATH", ""))
        runs.append(("PyPy", [env["HPY_PYPY"]], pypy_env, int(args.pypy_calls)))
    elif int(args.pypy_calls) > 0:
        log("PyPy is not available: CPython only")
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fuzz-calls-") as cwd:  # for functions that touch files
        for label, python, child_env, total in runs:
            log(f"{label}: {total} calls, seed {args.seed}, {args.jobs} processes, modules in {modules}")
            child = Child(python, child_env, args.seed, args.memory_limit, cwd, args.only, modules,
                          args.abi)
            child.pypy = label == "PyPy"
            found, totals = fuzz(label, child, total, args)
            findings += found
            report(label, totals)
    if args.valgrind:
        errors, ours, examples = valgrind_findings()
        print(f"memcheck: {errors} error contexts reported in all, {ours} with a .hpy0.so (or a "
              f"source file of this project) on their stack; logs in {VALGRIND_LOGS}")
        findings += [f"memcheck: {e}" for e in examples]
        if ours > len(examples):
            findings.append(f"memcheck: {ours - len(examples)} more errors through a .hpy0.so")
    for finding in findings:
        print(f"  FINDING: {finding}")
    print("result: " + ("no findings" if not findings else f"{len(findings)} FINDINGS (see above)"))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
