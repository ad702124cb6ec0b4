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
  ..., hpy-rs runtime      (CPython) the same universal modules loaded through
                           hpy-rs's own runtime (runtime/, tools/build-runtime)
                           instead of the hpy package's
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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchlib import (  # noqa: E402
    BENCH, Benchmark, Interpreter, Row, Settings, Unavailable, build_all, build_c_api,
    build_c_hpy, build_cargo_module, build_cargo_module_cpython, build_runtime, check_rows, run,
    runtime_copy, universal_module,
)

WORKER = BENCH / "callbench_worker.py"

# column shape -> heading
COLUMNS = {
    "noop": "noop()",
    "identity": "identity(x)",
    "add_ints": "add_ints(1, 2)",
    "add_ints_argparse": "add_ints_argparse(1, 2)",
}
ALL_C_FUNCS = {shape: shape for shape in COLUMNS}

# The Rust rows, compared with the C HPy row in the ratio rows: row id -> ratio
# label (or (label, the row compared with)).
RATIO_ROWS = {
    "rust": "Rust vs C HPy",
    "smoke": "raw hpy-sys vs C HPy",
    "rust_cpy": ("Rust CPython ABI vs C API", "c_api"),
    "rust_abi3": ("Rust abi3 vs C API", "c_api"),
    "c_hpy_rt": ("C HPy: hpy-rs runtime vs HPy's", "c_hpy"),
    "rust_rt": ("Rust: hpy-rs runtime vs HPy's", "rust"),
}


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


# ---------------------------------------------------------------------------
# Building the modules into target/bench/


def build_rust() -> Path:
    """callbench_rs.hpy0.so from bench/callbench-rs, once that package exists."""
    if not (BENCH / "callbench-rs" / "Cargo.toml").is_file():
        raise Unavailable("not built")
    return build_cargo_module("callbench-rs", "callbench_rs")


def build_universal_modules(env: dict[str, str]) -> dict[str, Path | Unavailable]:
    """Build the modules that every interpreter loads (the same file): row id -> path or why not."""
    return build_all({
        "rust": build_rust,
        "smoke": lambda: build_cargo_module("hpy-smoke-fixture", "smoke"),
        "c_hpy": lambda: build_c_hpy(env, "callbench_hpy"),
    })


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
    if interp.key == "cpython":
        # The same Rust source, built as a plain CPython extension.
        rows.insert(2, Row("rust_cpy", "Rust #[hpy_method], CPython ABI", "capi", "callbench_rs",
                           {"noop": "noop", "identity": "identity", "add_ints": "add_ints"}))
        # ... and through the limited API (one .abi3.so for CPython 3.10+).
        rows.insert(3, Row("rust_abi3", "Rust #[hpy_method], abi3", "capi", "callbench_rs",
                           {"noop": "noop", "identity": "identity", "add_ints": "add_ints"}))
        # The universal modules again, through hpy-rs's runtime for CPython.
        rows.insert(4, Row("rust_rt", "Rust #[hpy_method], hpy-rs runtime", "hpyrs",
                           "callbench_rs",
                           {"noop": "noop", "identity": "identity", "add_ints": "add_ints"}))
        rows.insert(-1, Row("c_hpy_rt", "C, HPy universal, hpy-rs runtime", "hpyrs",
                            "callbench_hpy", ALL_C_FUNCS))

    def module_file(row: Row) -> Path:
        if row.id == "rust_cpy":
            return build_cargo_module_cpython(interp, "callbench-rs", "callbench_rs")
        if row.id == "rust_abi3":
            return build_cargo_module_cpython(interp, "callbench-rs", "callbench_rs", abi="abi3")
        if row.kind == "capi":
            return build_c_api(interp, env, "callbench_capi")
        if row.kind == "hpyrs":
            build_runtime(interp)
            return runtime_copy(universal_module(universal, row.id.removesuffix("_rt")))
        return universal_module(universal, row.id)

    return check_rows(interp, rows, module_file)


BENCHMARK = Benchmark(
    name="call_overhead",
    doc=__doc__,
    worker=WORKER,
    columns=COLUMNS,
    ratio_rows=RATIO_ROWS,
    settings_for=settings_for,
    build_universal=build_universal_modules,
    make_rows=make_rows,
    cells_line=("cells: instructions per call (ir) / median time per call (ns); both INCLUDE the "
                "timeit loop around the call (see the row \"timeit loop alone\"), nothing is "
                "subtracted"),
)


if __name__ == "__main__":
    run(BENCHMARK)
