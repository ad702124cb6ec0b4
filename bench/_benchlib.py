"""What the micro-benchmarks (call_overhead.py, class_bench.py) share: building
modules, checking them, timing and counting instructions in worker processes,
and printing one table per interpreter.

A benchmark is a `Benchmark` (its columns, its rows and how to build them)
handed to `run`, which parses the command line (--quick, --no-pypy,
--no-callgrind, --json FILE), measures and prints the report. Its worker
script takes the commands of bench/callbench_worker.py:

    <python> WORKER info
    <python> WORKER check KIND NAME PATH FUNCS_JSON
    <python> WORKER time SPEC_JSON
    <python> WORKER count KIND NAME PATH FUNC SHAPE WARMUP N

where a row's `funcs` maps each column (`shape`) to the name of what the
worker fetches from the module for it (a function, a class). A benchmark
with a `callgrind_ctl` counts all the cells of a row in one process per N:
its worker also takes

    <python> WORKER count-all KIND NAME PATH CTL_PATH SHAPE:FUNC:WARMUP:N...

and for each cell makes WARMUP calls, then `zero()`, N calls and
`dump(SHAPE)` of the module bench/c/callgrind_ctl.c (loaded from CTL_PATH),
so that callgrind writes each cell's count to a file of its own. The
instructions per call are still the difference of two runs that differ only
in N, divided by the difference of the Ns.

Standard library only (run with any python3 >= 3.10).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from interpreters import interpreter_env  # noqa: E402
BENCH = ROOT / "bench"
OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "bench"

# The running benchmark's name, which prefixes progress messages (set by `run`).
_name = "bench"


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


@dataclass
class Row:
    """One implementation in one interpreter's table, and its measurements."""

    id: str
    label: str
    kind: str  # "hpy", "hpyrs", "capi" or "none" (the bare loop); see callbench_worker.py
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
    worker: Path  # the worker script it runs
    info: dict = field(default_factory=dict)  # the worker's `info`
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """e.g. "CPython 3.11.7, HPy 0.9.0"."""
        return f"{self.info['implementation']} {self.info['version']}, HPy {self.info['hpy']}"


# Builds the modules that every interpreter loads: env -> {row id: path or why not}.
BuildUniversal = Callable[[dict[str, str]], dict[str, "Path | Unavailable"]]
# The rows of one interpreter, built and checked: (interp, universal, env) -> rows.
MakeRows = Callable[[Interpreter, dict[str, "Path | Unavailable"], dict[str, str]], list[Row]]


@dataclass
class Benchmark:
    """What `run` needs to know about one benchmark."""

    name: str  # prefixes progress messages, e.g. "call_overhead"
    doc: str  # the script's docstring; its first paragraph describes it in --help
    worker: Path
    columns: dict[str, str]  # shape -> heading
    # row id -> label of its ratio against the `base` row, or (label, row id of
    # another base); a key "<row id>:<anything>" gives one row a second ratio
    ratio_rows: dict[str, str | tuple[str, str]]
    settings_for: Callable[[str, bool], Settings]  # (interpreter key, quick) -> settings
    build_universal: BuildUniversal
    make_rows: MakeRows
    cells_line: str  # what a cell holds, printed before the tables
    base: str = "c_hpy"  # the row the ratios divide by
    # shape -> k: that shape's callgrind runs make N/k operations after
    # count_warmup/k (for operations k times costlier than a call).
    count_scale: dict[str, int] = field(default_factory=dict)
    # Lines printed after the tables (a conclusion), from the measured interpreters.
    conclusion: Callable[[list[Interpreter]], list[str]] | None = None
    # Builds callgrind_ctl.hpy0.so (env -> path): then each row's cells are
    # counted in one process per N (the worker's `count-all`), not one per cell.
    callgrind_ctl: Callable[[dict[str, str]], Path] | None = None


def log(message: str) -> None:
    """Progress, on stderr (stdout carries only the report)."""
    print(f"{_name}: {message}", file=sys.stderr, flush=True)


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
        return interpreter_env(*flags, who=_name, required=False)

    values = setup("--with-pypy-dev" if with_pypy else "--no-pypy")
    if values is None and with_pypy:
        log("going on without PyPy's C headers")
        values = setup()
    if values is None:
        sys.exit(f"{_name}: the interpreters could not be prepared")
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
    proc = subprocess.run([interp.python, str(interp.worker), *args], env=worker_env(),
                          capture_output=True, text=True, check=False)
    if proc.returncode < 0:
        raise Unavailable(f"the worker crashed (signal {-proc.returncode})")
    if proc.returncode != 0:
        raise Unavailable(worker_error(proc.stderr))
    return proc.stdout


# ---------------------------------------------------------------------------
# Building the modules into target/bench/


def compile_c(out: Path, sources: list[Path], include_dirs: list[str],
              extra_flags: list[str], libs: tuple[str, ...] = ()) -> Path:
    """Compile C sources into the shared library `out` (linked with `libs`,
    e.g. "-lm", after the sources); raise Unavailable on failure."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    cmd = ["gcc", "-O3", "-fPIC", "-shared", "-Wall", *extra_flags,
           *(f"-I{d}" for d in include_dirs), *map(str, sources), "-o", str(tmp), *libs]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise Unavailable("gcc not found") from None
    if proc.returncode != 0:
        raise Unavailable(f"build failed: {build_error(proc.stderr)}")
    os.replace(tmp, out)
    return out


def build_c_hpy(env: dict[str, str], name: str, libs: tuple[str, ...] = ()) -> Path:
    """<name>.hpy0.so from bench/c/<name>.c: HPy universal ABI, with hpy's
    argparse.c for HPyArg_Parse."""
    include = env["HPY_INCLUDE_DIR"]
    argparse_c = Path(include).parent / "src" / "runtime" / "argparse.c"
    # -z defs: a universal module must not need any symbol of the interpreter.
    return compile_c(OUT / f"{name}.hpy0.so", [BENCH / "c" / f"{name}.c", argparse_c],
                     [include], ["-DHPY_ABI_UNIVERSAL", "-Wl,-z,defs"], libs)


def build_c_hpy_cpython(interp: Interpreter, env: dict[str, str], name: str,
                        libs: tuple[str, ...] = ()) -> Path:
    """<name><EXT_SUFFIX> from bench/c/<name>.c in HPy's CPython ABI (HPY_ABI_CPYTHON:
    hpy.h's inline functions over CPython's C API, and hpy's runtime sources, as
    hpy's setuptools integration builds it), for this CPython."""
    if interp.key != "cpython":
        raise Unavailable("CPython only")
    include = env["HPY_INCLUDE_DIR"]
    runtime = sorted((Path(include).parent / "src" / "runtime").glob("*.c"))
    out_dir = OUT / "hpy-cpython-abi"
    out_dir.mkdir(parents=True, exist_ok=True)
    return compile_c(out_dir / f"{name}{interp.info['ext_suffix']}",
                     [BENCH / "c" / f"{name}.c", *runtime], [include, interp.info["include"]],
                     ["-DHPY_ABI_CPYTHON"], libs)


def build_c_api(interp: Interpreter, env: dict[str, str], name: str,
                libs: tuple[str, ...] = ()) -> Path:
    """<name><EXT_SUFFIX> from bench/c/<name>.c, against the interpreter's own Python.h."""
    # CPython says where its headers are; PyPy's come from Debian's pypy3-dev.
    include_dir = (interp.info["include"] if interp.key == "cpython"
                   else env.get("HPY_PYPY_INCLUDE_DIR", ""))
    if not include_dir or not (Path(include_dir) / "Python.h").is_file():
        raise Unavailable(f"no Python.h for {interp.info['implementation']}"
                          + (f" in {include_dir}" if include_dir else ""))
    return compile_c(OUT / f"{name}{interp.info['ext_suffix']}",
                     [BENCH / "c" / f"{name}.c"], [include_dir], [], libs)


def build_cargo_module(package: str, name: str) -> Path:
    """A universal module from a cargo package, built by the project's `cargo hpy build`."""
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "cargo-hpy", "--",
           "hpy", "build", "--quiet", "-p", package, "--name", name, "--out", str(OUT), "--release"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable(f"build failed: {build_error(proc.stderr)}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_cargo_module_cpython(interp: Interpreter, package: str, name: str,
                               abi: str = "cpython") -> Path:
    """The same cargo package as a plain CPython extension for `interp` (the
    CPython-ABI build: `cargo hpy build --abi cpython --python ...`), or with
    `abi="abi3"` the limited-API build (`<name>.abi3.so`)."""
    if interp.key != "cpython":
        raise Unavailable("CPython only")
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "cargo-hpy", "--",
           "hpy", "build", "--quiet", "-p", package, "--name", name, "--out", str(OUT / f"{abi}-abi"),
           "--release", "--abi", abi, "--python", interp.python]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable(f"build failed: {build_error(proc.stderr)}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_all(builds: dict[str, Callable[[], Path]]) -> dict[str, Path | Unavailable]:
    """Run each build in turn: row id -> the module's path, or why not."""
    result: dict[str, Path | Unavailable] = {}
    for row_id, build in builds.items():
        log(f"building {row_id}")
        try:
            result[row_id] = build()
        except Unavailable as e:
            result[row_id] = e
    return result


# ---------------------------------------------------------------------------
# Rows: check that each answers correctly


def build_runtime(interp: Interpreter) -> Path:
    """hpy-rs's universal runtime for CPython (`runtime/`, tools/build-runtime,
    release) for `interp`: the folder to put on `sys.path`, also given to the
    workers as `HPY_RS_RUNTIME_PATH` (their kind "hpyrs")."""
    if interp.key != "cpython":
        raise Unavailable("hpy-rs's runtime is for CPython")
    cmd = [sys.executable, str(ROOT / "tools" / "build-runtime"), interp.python]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable(f"tools/build-runtime failed: {proc.stderr.strip()[-300:]}")
    path = Path(proc.stdout.split()[1])
    os.environ["HPY_RS_RUNTIME_PATH"] = str(path)
    return path


def runtime_copy(module: Path) -> Path:
    """A copy of the universal module `module` for hpy-rs's runtime: one
    process that loads one file through two runtimes shares its `dlopen`
    handle, and the second runtime's context would replace the first's."""
    copy = OUT / "hpy-rs-runtime" / module.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    if not copy.exists() or copy.read_bytes() != module.read_bytes():
        tmp = copy.with_suffix(".tmp")
        shutil.copyfile(module, tmp)
        tmp.replace(copy)
    return copy


def universal_module(universal: dict[str, Path | Unavailable], row_id: str) -> Path:
    """The module file that `build_all` made for the row `row_id`; raise Unavailable if none."""
    built = universal[row_id]
    if isinstance(built, Unavailable):
        raise built
    return built


def check_rows(interp: Interpreter, rows: list[Row],
               module_file: Callable[[Row], Path]) -> list[Row]:
    """Give each row (but the bare loop) its module file and check it (problems recorded)."""
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


def count_instructions(interp: Interpreter, row: Row, shape: str, n: int, warmup: int) -> int:
    """Total instructions (callgrind's Ir) of a worker making n calls after `warmup` calls."""
    with tempfile.TemporaryDirectory(prefix="callbench-") as scratch:
        # --trace-children: $HPY_PYPY is a shell script that execs PyPy.
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=yes",
               f"--callgrind-out-file={scratch}/callgrind.out.%p",
               interp.python, str(interp.worker), "count", *row.module_args(),
               row.funcs[shape], shape, str(warmup), str(n)]
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


# The line of a profile that `callgrind_ctl.dump(name)` wrote which names it.
DUMP_DESC = "desc: Trigger: Client Request: "


def read_dumps(scratch: Path) -> dict[str, int]:
    """{name: instructions} of the profiles that `callgrind_ctl.dump(name)`
    made callgrind write into `scratch` (`callgrind.out.<pid>.<n>`; not the
    one of the process's exit)."""
    counts: dict[str, int] = {}
    for profile in scratch.glob("callgrind.out.*.*"):
        name = total = None
        with profile.open() as f:
            for line in f:
                if line.startswith(DUMP_DESC):
                    name = line[len(DUMP_DESC):].strip()
                elif line.startswith("summary:"):
                    total = int(line.split()[1])
        if name is not None and total is not None:
            counts[name] = total
    return counts


def count_row(interp: Interpreter, row: Row, cells: list[tuple[str, int, int]],
              ctl: Path) -> dict[str, int]:
    """Instructions (callgrind's Ir) of each cell (shape, n, warmup) of a row, counted
    in one worker process: {shape: Ir of its n calls}."""
    with tempfile.TemporaryDirectory(prefix="callbench-") as scratch:
        # --trace-children: $HPY_PYPY is a shell script that execs PyPy.
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=yes",
               f"--callgrind-out-file={scratch}/callgrind.out.%p",
               interp.python, str(interp.worker), "count-all", *row.module_args(), str(ctl),
               *(f"{shape}:{row.funcs[shape]}:{warmup}:{n}" for shape, n, warmup in cells)]
        proc = subprocess.run(cmd, env=worker_env(), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise Unavailable(f"callgrind run failed: {worker_error(proc.stderr)}")
        counts = read_dumps(Path(scratch))
        missing = [shape for shape, _, _ in cells if shape not in counts]
        if missing:
            raise Unavailable(f"callgrind wrote no count for {', '.join(missing)}")
        return counts


def measure_instructions(interps: list[Interpreter], count_scale: dict[str, int],
                         ctl: Path | None = None) -> None:
    """Count the instructions of every measurable cell: two callgrind runs per
    cell (with `ctl`: per row, each counting all its cells), as many at a time
    as there are CPUs (the counts do not depend on load)."""
    def cell(interp: Interpreter, shape: str, n: int) -> tuple[str, int, int]:
        k = count_scale.get(shape, 1)
        return shape, n // k, interp.settings.count_warmup // k

    ordered = sorted(interps, key=lambda i: i.key != "pypy")  # slowest first
    if ctl is None:
        jobs = [(count_instructions, (interp, row, *cell(interp, shape, n)), interp, row)
                for interp in ordered for row in interp.rows for shape in row.shapes()
                for n in interp.settings.count_n]
    else:
        jobs = [(count_row, (interp, row, [cell(interp, shape, n) for shape in row.shapes()],
                             ctl), interp, row)
                for interp in ordered for row in interp.rows if row.shapes()
                for n in interp.settings.count_n]
    log(f"callgrind: {len(jobs)} runs, {os.cpu_count()} at a time")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {pool.submit(func, *args): (args, interp, row)
                   for func, args, interp, row in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            args, interp, row = futures[future]
            try:
                result = future.result()
                if ctl is None:
                    _, _, shape, n, _ = args
                    row.ir_totals.setdefault(shape, {})[n] = result
                else:
                    for shape, n, _ in args[2]:
                        row.ir_totals.setdefault(shape, {})[n] = result[shape]
            except Unavailable as e:
                if ctl is None:
                    interp.notes.append(f"{row.label}, {args[2]}, N={args[3]}: {e}")
                else:
                    interp.notes.append(f"{row.label}: {e}")
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


def render_table(bench: Benchmark, interp: Interpreter, counted: bool,
                 per_row: bool = False) -> str:
    """One interpreter's table, with its method line and notes (`counted`: callgrind
    ran; `per_row`: it counted each row's cells in one process)."""
    s = interp.settings
    columns = bench.columns
    rows = {row.id: row for row in interp.rows}
    # Each line is a list of cells, or a (label, text) pair for a row without
    # numbers, whose text spans the columns.
    lines: list[list[str] | tuple[str, str]] = [["", *columns.values()]]
    for row in interp.rows:
        if row.problem:
            lines.append((row.label, f"n/a ({row.problem})"))
        elif row.id == "loop":
            lines.append([row.label, cell_text(row, "loop"), *[""] * (len(columns) - 1)])
        else:
            lines.append([row.label, *(cell_text(row, shape) for shape in columns)])
    for key, ratio in bench.ratio_rows.items():
        row_id = key.split(":", 1)[0]
        label, base_id = (ratio, bench.base) if isinstance(ratio, str) else ratio
        row, base = rows.get(row_id), rows.get(base_id)
        if row is None or base is None:
            continue
        if row.problem or base.problem:
            lines.append((label, f"n/a ({row.problem or base.problem})"))
        else:
            lines.append([label, *(ratio_text(row, base, shape) for shape in columns)])

    widths = [max(len(line[i]) for line in lines if isinstance(line, list))
              for i in range(len(columns) + 1)]
    widths[0] = max(len(line[0]) for line in lines)
    method = (f"time: median of {s.rounds} interleaved samples of >= {s.target_s * 1000:.0f} ms "
              f"each, after {s.timing_warmup} warm-up calls")
    if counted:
        method = (f"instructions: callgrind, N1={s.count_n[0]} and N2={s.count_n[1]} calls "
                  f"after {s.count_warmup} warm-up calls; {method}")
    out = [f"== {interp.title}", f"   {method}"]
    if counted and per_row:
        out.append("   (callgrind: one process per row and N, each cell counted between "
                   "callgrind_ctl's zero() and dump())")
    if counted:
        for shape, k in bench.count_scale.items():
            out.append(f"   ({columns[shape]}: callgrind with N1/{k}, N2/{k} and "
                       f"{s.count_warmup // k} warm-up operations)")
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


def run(bench: Benchmark) -> None:
    """The benchmark's main: parse the command line, build, measure, print the report."""
    global _name
    _name = bench.name
    ap = argparse.ArgumentParser(description=bench.doc.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter timing samples and shorter callgrind loops")
    ap.add_argument("--no-pypy", action="store_true", help="measure CPython only")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the raw numbers to FILE")
    args = ap.parse_args()
    started = time.monotonic()

    env = bench_env(with_pypy=not args.no_pypy)
    interps = [Interpreter("cpython", env["HPY_CPYTHON"],
                           bench.settings_for("cpython", args.quick), bench.worker)]
    if not args.no_pypy and env.get("HPY_PYPY"):
        interps.append(Interpreter("pypy", env["HPY_PYPY"],
                                   bench.settings_for("pypy", args.quick), bench.worker))
    for interp in interps:
        try:
            interp.info = json.loads(run_worker(interp, "info"))
        except Unavailable as e:
            sys.exit(f"{bench.name}: {interp.python} does not run the worker: {e}")

    OUT.mkdir(parents=True, exist_ok=True)
    universal = bench.build_universal(env)
    for interp in interps:
        log(f"building and checking the modules for {interp.title}")
        interp.rows = bench.make_rows(interp, universal, env)
    prepared = time.monotonic()
    load = os.getloadavg()[0]

    for interp in interps:
        log(f"timing on {interp.title}")
        measure_time(interp)
    timed = time.monotonic()

    no_counts = None
    ctl = None
    if args.no_callgrind:
        no_counts = "--no-callgrind: no instruction counts"
    elif shutil.which("valgrind") is None:
        no_counts = "valgrind not found: no instruction counts"
    else:
        if bench.callgrind_ctl:
            try:
                ctl = bench.callgrind_ctl(env)
            except Unavailable as e:
                log(f"callgrind_ctl: {e}; counting one cell per process instead")
        measure_instructions(interps, bench.count_scale, ctl)
    counted = time.monotonic()

    facts = machine_facts(interps)
    facts["load_average_before_timing"] = load
    print(f"machine: {facts['cpu']} ({facts['cpus']} CPUs), {facts['os']}; "
          + "; ".join(facts["interpreters"].values())
          + f"; gcc {facts['gcc']}; {facts['rustc']}; {facts['valgrind']}")
    print(f"load average when the timing started: {load:.2f} on {facts['cpus']} CPUs "
          "(other work on the machine makes the times, not the instruction counts, noisy)")
    print(bench.cells_line)
    if no_counts:
        print(no_counts)
    for interp in interps:
        print()
        print(render_table(bench, interp, counted=no_counts is None, per_row=ctl is not None))
    if bench.conclusion:
        lines = bench.conclusion(interps)
        if lines:
            print()
            print("\n".join(lines))
    total = time.monotonic() - started
    print()
    print(f"total time: {duration(total)} (setup and builds {duration(prepared - started)}, "
          f"timing {duration(timed - prepared)}, callgrind {duration(counted - timed)})")
    if args.json:
        args.json.write_text(json.dumps(report_json(interps, facts, total), indent=2) + "\n")
        log(f"wrote {args.json}")
