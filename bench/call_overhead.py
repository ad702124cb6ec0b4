#!/usr/bin/env python3
"""Call-overhead benchmark: what one call from Python into an extension function costs.

    python3 bench/call_overhead.py [--quick] [--no-pypy] [--no-callgrind] [--json FILE]

Run it with the system python3 (it needs only the standard library), from
any directory; the options are explained at the end. It prepares the
interpreters with tools/setup-interpreters (cached), builds the modules into
target/bench/, measures in worker processes (bench/callbench_worker.py) under
CPython and PyPy, and prints one table per interpreter: rows are
implementations, columns the call shapes, and each cell reads
`<instructions> ir / <time> ns` per call. Progress goes to stderr, the report
to stdout. On a 2-core machine a run takes about 2.5 minutes (--quick: 1.2),
most of it PyPy under valgrind.

Call shapes (columns):
  noop()                   no arguments, returns None
  identity(x)              one argument, returned (HPy_Dup in HPy)
  add_ints(1, 2)           two positional ints, summed; parsed by hand
  add_ints_argparse(1, 2)  the same, parsed by HPyArg_Parse / PyArg_ParseTuple (C only)

Implementations (rows):
  Rust #[hpy_method]       module callbench_rs, cargo package bench/callbench-rs
                           (noop, identity, add_ints); "n/a (not built)" until
                           that package exists
  Rust, raw hpy-sys        the noop() of tests/smoke, a module written against
                           hpy-sys by hand: the floor for what the macros generate
  C, HPy universal         bench/c/callbench_hpy.c, one callbench_hpy.hpy0.so for
                           both interpreters (HPy_MODINIT, HPyDef_METH)
  C API                    bench/c/callbench_capi.c, built against CPython's
                           headers, and against PyPy's for cpyext
The HPy modules are loaded with hpy.universal.load in universal mode; every
module is built with optimisations (gcc -O3, cargo --release).

Method
------
* Instructions (`ir`): valgrind --tool=callgrind runs a child process that
  loads one module, makes WARMUP calls, then N calls, all in timeit's loop.
  Two runs, with N1 and N2 calls, differ only in N, so
  (Ir(N2) - Ir(N1)) / (N2 - N1) is the instruction count of one call,
  INCLUDING one iteration of the loop around it. Callgrind counts are
  repeatable: the same binary and the same input give the same count (the
  workers run with PYTHONHASHSEED=0). The row "timeit loop alone" is that loop
  with `pass` instead of a call. On PyPy the warm-up lets the JIT compile the
  loop first (identically in both runs); the garbage collections during the
  N calls are included, which makes cells that allocate depend somewhat on N
  (see below).
* Time (`ns`): one worker process per interpreter loads every module, warms
  every cell up, calibrates each cell's number of calls so that one sample
  lasts at least TARGET ms, then takes ROUNDS samples per cell, round-robin
  over all cells (interleaved). A cell reports the median of its samples,
  per call, with the loop's own overhead included (nothing is subtracted).
* Every function is first called once and its result checked; a module that
  cannot be built or loaded, or a function that answers wrongly, gets "n/a"
  with the reason instead of numbers.

Against the baseline of the HPy brief (docs/hpy-abi.md, Appendix B)
-------------------------------------------------------------------
The brief's counts include "the timeit loop's 84" instructions. The loop here
is timeit's own (`for _i in itertools.repeat(None, n): f(...)`, `f` and `x`
local variables) and costs 85 on CPython 3.11.7 (row "timeit loop alone"), so
the cells compare directly. Instructions per call measured with this script
(AMD EPYC, CPython 3.11.7 from pyenv with hpy 0.9.0, PyPy 7.3.19):

                            noop  identity  add_ints  argparse   the brief's
  CPython, C HPy universal   365       257       411       605   361  256  412  600
  CPython, C API             310       196       327       993   309  196  325  996
  PyPy, C HPy universal      183       213      1028      1222   177  216 1035 1223
  PyPy, C API via cpyext     300       365      1872      2275   304  328 1952 2368

On CPython every cell is within 5 instructions (1.5%) of the brief's. The
module's own code is a small part of a call (callgrind_annotate of noop: the
trampoline, ctx_CallRealFunctionFromTrampoline and HPy_Dup take 53 of the
365 instructions, CPython's eval loop 229), and the brief does not give its
exact harness or build flags, so such small differences say nothing about
HPy. The times of the C HPy row
on CPython (about 23 / 18 / 28 / 40 ns) are within 10% of the brief's
(24.1 / 18.7 / 27.2 / 38.0 ns). PyPy's HPy row is within 4%. PyPy's cpyext
row differs more (identity +11%, the add_ints cells -4%): cpyext cells that
allocate get costlier per call the longer the loop runs, as the garbage
collector's share grows (add_ints: 1807 with N1, N2 = 10k, 30k; 1872 with
100k, 300k, the default; 1928 with 300k, 900k), so they depend on N, and a
longer loop than this script can afford under valgrind would come closer to
the brief's. The identity difference is not the argument's doing (an int
instead of a plain object gives the same 365).

--quick takes fewer and shorter timing samples and shorter callgrind loops
(same method, noisier times); --no-callgrind skips the instruction counts;
--json FILE also writes every raw number (all samples, both callgrind totals).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from interpreters import interpreter_env  # noqa: E402
BENCH = ROOT / "bench"
WORKER = BENCH / "callbench_worker.py"
OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "bench"

# column shape -> heading
COLUMNS = {
    "noop": "noop()",
    "identity": "identity(x)",
    "add_ints": "add_ints(1, 2)",
    "add_ints_argparse": "add_ints_argparse(1, 2)",
}
ALL_C_FUNCS = {shape: shape for shape in COLUMNS}

# The Rust rows, compared with the C HPy row in the ratio rows: row id -> ratio label.
RATIO_ROWS = {"rust": "Rust vs C HPy", "smoke": "raw hpy-sys vs C HPy"}


class Unavailable(Exception):
    """Why a row or a cell has no numbers (its text is printed as `n/a (...)`)."""


@dataclass(frozen=True)
class Settings:
    """How long and how often each interpreter is measured."""

    rounds: int  # timing samples per cell
    target_s: float  # least duration of one timing sample
    timing_warmup: int  # calls per cell before timing (PyPy: the JIT compiles then)
    count_warmup: int  # calls before the counted loop, in each callgrind run
    # N1, N2 of the two callgrind runs; with the same number of digits, the
    # runs' command lines (and so their stack layouts) have the same length.
    count_n: tuple[int, int]


def settings_for(key: str, quick: bool) -> Settings:
    """The settings of interpreter `key` ("cpython" or "pypy")."""
    # Many short samples: a burst of load from elsewhere spoils few of them.
    rounds, target_s = (5, 0.01) if quick else (21, 0.03)
    if key == "pypy":
        # PyPy under valgrind takes 6 to 8 s per run, 4 of them for its startup.
        # Shorter loops would miss most of the garbage collector's work in
        # cpyext cells (see "Against the baseline" above).
        return Settings(rounds, target_s, timing_warmup=200_000, count_warmup=20_000,
                        count_n=(10_000, 30_000) if quick else (100_000, 300_000))
    return Settings(rounds, target_s, timing_warmup=10_000, count_warmup=1_000,
                    count_n=(10_000, 20_000) if quick else (100_000, 200_000))


@dataclass
class Row:
    """One implementation in one interpreter's table, and its measurements."""

    id: str
    label: str
    kind: str  # "hpy", "capi" or "none" (the bare loop); see callbench_worker.py
    module: str
    funcs: dict[str, str]  # shape -> function name
    path: Path | None = None
    problem: str | None = None  # why the whole row has no numbers
    cell_problems: dict[str, str] = field(default_factory=dict)
    timing: dict[str, dict] = field(default_factory=dict)  # shape -> worker samples
    ir_totals: dict[str, dict[int, int]] = field(default_factory=dict)  # shape -> {N: Ir}

    def module_args(self) -> list[str]:
        """KIND NAME PATH, as the worker takes them ("-" for what the bare loop lacks)."""
        return [self.kind, self.module, str(self.path) if self.path else "-"]

    def shapes(self) -> list[str]:
        """The shapes that are measured (those without a problem)."""
        if self.problem:
            return []
        return [s for s in self.funcs if s not in self.cell_problems]

    def ns(self, shape: str) -> float | None:
        """Median time per call, or None."""
        t = self.timing.get(shape)
        return statistics.median(t["ns_per_call"]) if t else None

    def ir(self, shape: str) -> float | None:
        """Instructions per call from the two callgrind runs, or None."""
        totals = self.ir_totals.get(shape, {})
        if len(totals) != 2:
            return None
        (n1, ir1), (n2, ir2) = sorted(totals.items())
        return (ir2 - ir1) / (n2 - n1)


@dataclass
class Interpreter:
    """One interpreter under test, its rows and what went wrong."""

    key: str  # "cpython" or "pypy"
    python: str  # command that runs it
    settings: Settings
    info: dict = field(default_factory=dict)  # the worker's `info`
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """e.g. "CPython 3.11.7, HPy 0.9.0"."""
        return f"{self.info['implementation']} {self.info['version']}, HPy {self.info['hpy']}"


def log(message: str) -> None:
    """Progress, on stderr (stdout carries only the report)."""
    print(f"call_overhead: {message}", file=sys.stderr, flush=True)


def build_error(output: str) -> str:
    """The first error line of a compiler's output (else its last line)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines if re.search(r"\berror\b", line, re.IGNORECASE)),
                lines[-1] if lines else "no output")


def worker_error(stderr: str) -> str:
    """The last line of a worker's stderr (the exception), skipping valgrind's `==pid==` lines."""
    lines = [line.strip() for line in stderr.splitlines()
             if line.strip() and not line.startswith("==")]
    return lines[-1] if lines else "no output"


# ---------------------------------------------------------------------------
# Interpreters and worker processes


def bench_env(with_pypy: bool) -> dict[str, str]:
    """Run tools/setup-interpreters and return the variables of its env.sh.

    With PyPy it also asks for PyPy's C headers (--with-pypy-dev); if they
    cannot be had, it goes on without them (the C-API row of PyPy is then n/a).
    """
    def setup(*flags: str) -> dict[str, str] | None:
        return interpreter_env(*flags, who="call_overhead", required=False)

    values = setup("--with-pypy-dev" if with_pypy else "--no-pypy")
    if values is None and with_pypy:
        log("going on without PyPy's C headers")
        values = setup()
    if values is None:
        sys.exit("call_overhead: the interpreters could not be prepared")
    return values


def worker_env() -> dict[str, str]:
    """The environment of worker processes: ours, without the caller's Python
    settings, and with a fixed hash seed so that callgrind counts repeat."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONHASHSEED"] = "0"
    return env


def run_worker(interp: Interpreter, *args: str) -> str:
    """Run the worker under `interp`; return its stdout or raise Unavailable."""
    proc = subprocess.run([interp.python, str(WORKER), *args], env=worker_env(),
                          capture_output=True, text=True, check=False)
    if proc.returncode < 0:
        raise Unavailable(f"the worker crashed (signal {-proc.returncode})")
    if proc.returncode != 0:
        raise Unavailable(worker_error(proc.stderr))
    return proc.stdout


# ---------------------------------------------------------------------------
# Building the modules into target/bench/


def compile_c(out: Path, sources: list[Path], include_dirs: list[str],
              extra_flags: list[str]) -> Path:
    """Compile C sources into the shared library `out`; raise Unavailable on failure."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    cmd = ["gcc", "-O3", "-fPIC", "-shared", "-Wall", *extra_flags,
           *(f"-I{d}" for d in include_dirs), *map(str, sources), "-o", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise Unavailable("gcc not found") from None
    if proc.returncode != 0:
        raise Unavailable(f"build failed: {build_error(proc.stderr)}")
    os.replace(tmp, out)
    return out


def build_c_hpy(env: dict[str, str]) -> Path:
    """callbench_hpy.hpy0.so: HPy universal ABI, with hpy's argparse.c for HPyArg_Parse."""
    include = env["HPY_INCLUDE_DIR"]
    argparse_c = Path(include).parent / "src" / "runtime" / "argparse.c"
    # -z defs: a universal module must not need any symbol of the interpreter.
    return compile_c(OUT / "callbench_hpy.hpy0.so", [BENCH / "c" / "callbench_hpy.c", argparse_c],
                     [include], ["-DHPY_ABI_UNIVERSAL", "-Wl,-z,defs"])


def build_c_api(interp: Interpreter, include_dir: str) -> Path:
    """callbench_capi<EXT_SUFFIX> against the interpreter's own Python.h."""
    if not include_dir or not (Path(include_dir) / "Python.h").is_file():
        raise Unavailable(f"no Python.h for {interp.info['implementation']}"
                          + (f" in {include_dir}" if include_dir else ""))
    return compile_c(OUT / f"callbench_capi{interp.info['ext_suffix']}",
                     [BENCH / "c" / "callbench_capi.c"], [include_dir], [])


def build_cargo_module(package: str, name: str) -> Path:
    """A universal module from a cargo package, built by the project's `cargo hpy build`."""
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "cargo-hpy", "--",
           "hpy", "build", "--quiet", "-p", package, "--name", name, "--out", str(OUT), "--release"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable(f"build failed: {build_error(proc.stderr)}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_rust() -> Path:
    """callbench_rs.hpy0.so from bench/callbench-rs, once that package exists."""
    if not (BENCH / "callbench-rs" / "Cargo.toml").is_file():
        raise Unavailable("not built")
    return build_cargo_module("callbench-rs", "callbench_rs")


def build_universal_modules(env: dict[str, str]) -> dict[str, Path | Unavailable]:
    """Build the modules that every interpreter loads (the same file): row id -> path or why not."""
    builds = {
        "rust": build_rust,
        "smoke": lambda: build_cargo_module("hpy-smoke-fixture", "smoke"),
        "c_hpy": lambda: build_c_hpy(env),
    }
    result: dict[str, Path | Unavailable] = {}
    for row_id, build in builds.items():
        log(f"building {row_id}")
        try:
            result[row_id] = build()
        except Unavailable as e:
            result[row_id] = e
    return result


# ---------------------------------------------------------------------------
# Rows: build what each interpreter loads, and check it answers correctly


def make_rows(interp: Interpreter, universal: dict[str, Path | Unavailable],
              env: dict[str, str]) -> list[Row]:
    """The rows of one interpreter's table, built and checked (problems recorded)."""
    capi = "C API" if interp.key == "cpython" else "C API via cpyext"
    rows = [
        Row("loop", "timeit loop alone (`pass`)", "none", "-", {"loop": "-"}),
        Row("rust", "Rust #[hpy_method] (callbench_rs)", "hpy", "callbench_rs",
            {"noop": "noop", "identity": "identity", "add_ints": "add_ints"}),
        Row("smoke", "Rust, raw hpy-sys (tests/smoke)", "hpy", "smoke", {"noop": "noop"}),
        Row("c_hpy", "C, HPy universal (callbench_hpy)", "hpy", "callbench_hpy", ALL_C_FUNCS),
        Row("c_api", f"{capi} (callbench_capi)", "capi", "callbench_capi", ALL_C_FUNCS),
    ]
    # CPython says where its headers are; PyPy's come from Debian's pypy3-dev.
    capi_include = (interp.info["include"] if interp.key == "cpython"
                    else env.get("HPY_PYPY_INCLUDE_DIR", ""))

    def module_file(row: Row) -> Path:
        if row.kind == "capi":
            return build_c_api(interp, capi_include)
        built = universal[row.id]
        if isinstance(built, Unavailable):
            raise built
        return built

    for row in rows:
        if row.kind == "none":
            continue
        try:
            row.path = module_file(row)
            row.cell_problems = check_functions(interp, row)
        except Unavailable as e:
            row.problem = str(e)
    return rows


def check_functions(interp: Interpreter, row: Row) -> dict[str, str]:
    """Load the row's module and call each function once: {shape: problem} of those that fail."""
    try:
        out = run_worker(interp, "check", *row.module_args(), json.dumps(row.funcs))
    except Unavailable as e:
        raise Unavailable(f"load failed: {e}") from None
    return {shape: problem for shape, problem in json.loads(out).items() if problem}


# ---------------------------------------------------------------------------
# Measuring


def measure_time(interp: Interpreter) -> None:
    """Time every measurable cell of `interp` in one worker process (interleaved)."""
    s = interp.settings
    impls = []
    for row in interp.rows:
        if row.shapes():
            kind, name, path = row.module_args()
            impls.append({"id": row.id, "kind": kind, "name": name, "path": path,
                          "funcs": {shape: row.funcs[shape] for shape in row.shapes()}})
    spec = {"settings": {"warmup": s.timing_warmup, "target_s": s.target_s, "rounds": s.rounds},
            "impls": impls}
    try:
        result = json.loads(run_worker(interp, "time", json.dumps(spec)))
    except Unavailable as e:
        interp.notes.append(f"timing failed: {e}")
        return
    for row in interp.rows:
        row.timing = result.get(row.id, {})


def count_instructions(interp: Interpreter, row: Row, shape: str, n: int) -> int:
    """Total instructions (callgrind's Ir) of a worker making n calls after the warm-up."""
    with tempfile.TemporaryDirectory(prefix="callbench-") as scratch:
        # --trace-children: $HPY_PYPY is a shell script that execs PyPy.
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=yes",
               f"--callgrind-out-file={scratch}/callgrind.out.%p",
               interp.python, str(WORKER), "count", *row.module_args(),
               row.funcs[shape], shape, str(interp.settings.count_warmup), str(n)]
        proc = subprocess.run(cmd, env=worker_env(), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise Unavailable(f"callgrind run failed: {worker_error(proc.stderr)}")
        profiles = list(Path(scratch).glob("callgrind.out.*"))
        if len(profiles) != 1:
            raise Unavailable(f"callgrind wrote {len(profiles)} profiles, expected 1")
        with profiles[0].open() as f:
            for line in f:
                if line.startswith("summary:"):
                    return int(line.split()[1])
        raise Unavailable(f"no summary line in {profiles[0].name}")


def measure_instructions(interps: list[Interpreter]) -> None:
    """Count the instructions of every measurable cell: two callgrind runs per
    cell, as many at a time as there are CPUs (the counts do not depend on load)."""
    jobs = [(interp, row, shape, n)
            for interp in sorted(interps, key=lambda i: i.key != "pypy")  # slowest first
            for row in interp.rows for shape in row.shapes()
            for n in interp.settings.count_n]
    log(f"callgrind: {len(jobs)} runs, {os.cpu_count()} at a time")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {pool.submit(count_instructions, *job): job for job in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            interp, row, shape, n = futures[future]
            try:
                row.ir_totals.setdefault(shape, {})[n] = future.result()
            except Unavailable as e:
                interp.notes.append(f"{row.label}, {shape}, N={n}: {e}")
            if done % 10 == 0 or done == len(jobs):
                log(f"callgrind: {done}/{len(jobs)} runs done")


# ---------------------------------------------------------------------------
# Report


def machine_facts(interps: list[Interpreter]) -> dict:
    """CPU, OS, tool and interpreter versions."""
    def tool_version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return "not found"
        return out.splitlines()[0].strip()

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "interpreters": {interp.key: interp.title for interp in interps},
        "gcc": tool_version(["gcc", "-dumpfullversion"]),
        "rustc": tool_version(["rustc", "--version"]),
        "valgrind": tool_version(["valgrind", "--version"]),
    }


def cell_text(row: Row, shape: str) -> str:
    """`<ir> ir / <ns> ns`, "-" where the row has no such function, "n/a" where it failed."""
    if shape not in row.funcs:
        return "-"
    if shape in row.cell_problems:
        return "n/a"
    parts = []
    ir, ns = row.ir(shape), row.ns(shape)
    if ir is not None:
        parts.append(f"{ir:.0f} ir")
    if ns is not None:
        parts.append(f"{ns:.1f} ns")
    return " / ".join(parts) or "n/a"


def ratio_text(row: Row, base: Row, shape: str) -> str:
    """`<ratio>x ir / <ratio>x ns` of row over base, "-" where either has no such cell."""
    if shape not in row.shapes() or shape not in base.shapes():
        return "-"
    parts = []
    for value, unit in ((Row.ir, "ir"), (Row.ns, "ns")):
        a, b = value(row, shape), value(base, shape)
        if a is not None and b:
            parts.append(f"{a / b:.2f}x {unit}")
    return " / ".join(parts) or "n/a"


def render_table(interp: Interpreter, counted: bool) -> str:
    """One interpreter's table, with its method line and notes (`counted`: callgrind ran)."""
    s = interp.settings
    rows = {row.id: row for row in interp.rows}
    # Each line is a list of cells, or a (label, text) pair for a row without
    # numbers, whose text spans the columns.
    lines: list[list[str] | tuple[str, str]] = [["", *COLUMNS.values()]]
    for row in interp.rows:
        if row.problem:
            lines.append((row.label, f"n/a ({row.problem})"))
        elif row.id == "loop":
            lines.append([row.label, cell_text(row, "loop"), "", "", ""])
        else:
            lines.append([row.label, *(cell_text(row, shape) for shape in COLUMNS)])
    base = rows["c_hpy"]
    for row_id, label in RATIO_ROWS.items():
        row = rows[row_id]
        if row.problem or base.problem:
            lines.append((label, f"n/a ({row.problem or base.problem})"))
        else:
            lines.append([label, *(ratio_text(row, base, shape) for shape in COLUMNS)])

    widths = [max(len(line[i]) for line in lines if isinstance(line, list))
              for i in range(len(COLUMNS) + 1)]
    widths[0] = max(len(line[0]) for line in lines)
    method = (f"time: median of {s.rounds} interleaved samples of >= {s.target_s * 1000:.0f} ms "
              f"each, after {s.timing_warmup} warm-up calls")
    if counted:
        method = (f"instructions: callgrind, N1={s.count_n[0]} and N2={s.count_n[1]} calls "
                  f"after {s.count_warmup} warm-up calls; {method}")
    out = [f"== {interp.title}", f"   {method}"]
    for line in lines:
        if isinstance(line, list):
            out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        else:
            out.append(f"{line[0].ljust(widths[0])}  {line[1]}")
    for row in interp.rows:
        for shape, problem in row.cell_problems.items():
            out.append(f"   note: {row.label}, {shape}: {problem}")
    out.extend(f"   note: {note}" for note in interp.notes)
    return "\n".join(out)


def report_json(interps: list[Interpreter], facts: dict, total_s: float) -> dict:
    """Every raw number, for --json."""
    def cell(row: Row, shape: str) -> dict:
        timing = row.timing.get(shape, {})
        return {
            "problem": row.cell_problems.get(shape),
            "ir_per_call": row.ir(shape),
            "ir_totals": {str(n): ir for n, ir in sorted(row.ir_totals.get(shape, {}).items())},
            "ns_per_call_median": row.ns(shape),
            "ns_per_call_samples": timing.get("ns_per_call", []),
            "calls_per_sample": timing.get("calls_per_sample"),
        }

    return {
        "machine": facts,
        "total_seconds": round(total_s, 1),
        "interpreters": {
            interp.key: {
                "title": interp.title,
                "info": interp.info,
                "settings": vars(interp.settings),
                "notes": interp.notes,
                "rows": {
                    row.id: {
                        "label": row.label,
                        "module": row.module,
                        "path": str(row.path) if row.path else None,
                        "problem": row.problem,
                        "cells": {shape: cell(row, shape) for shape in row.funcs},
                    }
                    for row in interp.rows
                },
            }
            for interp in interps
        },
    }


def duration(seconds: float) -> str:
    """e.g. "2 min 5 s" or "41 s"."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter timing samples and shorter callgrind loops")
    ap.add_argument("--no-pypy", action="store_true", help="measure CPython only")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the raw numbers to FILE")
    args = ap.parse_args()
    started = time.monotonic()

    env = bench_env(with_pypy=not args.no_pypy)
    interps = [Interpreter("cpython", env["HPY_CPYTHON"], settings_for("cpython", args.quick))]
    if env.get("HPY_PYPY"):
        interps.append(Interpreter("pypy", env["HPY_PYPY"], settings_for("pypy", args.quick)))
    for interp in interps:
        try:
            interp.info = json.loads(run_worker(interp, "info"))
        except Unavailable as e:
            sys.exit(f"call_overhead: {interp.python} does not run the worker: {e}")

    OUT.mkdir(parents=True, exist_ok=True)
    universal = build_universal_modules(env)
    for interp in interps:
        log(f"building and checking the modules for {interp.title}")
        interp.rows = make_rows(interp, universal, env)
    prepared = time.monotonic()
    load = os.getloadavg()[0]

    for interp in interps:
        log(f"timing on {interp.title}")
        measure_time(interp)
    timed = time.monotonic()

    no_counts = None
    if args.no_callgrind:
        no_counts = "--no-callgrind: no instruction counts"
    elif shutil.which("valgrind") is None:
        no_counts = "valgrind not found: no instruction counts"
    else:
        measure_instructions(interps)
    counted = time.monotonic()

    facts = machine_facts(interps)
    facts["load_average_before_timing"] = load
    print(f"machine: {facts['cpu']} ({facts['cpus']} CPUs), {facts['os']}; "
          + "; ".join(facts["interpreters"].values())
          + f"; gcc {facts['gcc']}; {facts['rustc']}; {facts['valgrind']}")
    print(f"load average when the timing started: {load:.2f} on {facts['cpus']} CPUs "
          "(other work on the machine makes the times, not the instruction counts, noisy)")
    print("cells: instructions per call (ir) / median time per call (ns); both INCLUDE the "
          "timeit loop around the call (see the row \"timeit loop alone\"), nothing is subtracted")
    if no_counts:
        print(no_counts)
    for interp in interps:
        print()
        print(render_table(interp, counted=no_counts is None))
    total = time.monotonic() - started
    print()
    print(f"total time: {duration(total)} (setup and builds {duration(prepared - started)}, "
          f"timing {duration(timed - prepared)}, callgrind {duration(counted - timed)})")
    if args.json:
        args.json.write_text(json.dumps(report_json(interps, facts, total), indent=2) + "\n")
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
