#!/usr/bin/env python3
"""Class benchmark: what the everyday operations on an extension class cost.

    python3 bench/class_bench.py [--quick] [--no-pypy] [--no-callgrind] [--json FILE]

Run it with the system python3 (it needs only the standard library), from
any directory. Like bench/call_overhead.py, whose machinery it shares
(bench/_benchlib.py), it prepares the interpreters, builds the modules into
target/bench/, measures in worker processes (bench/class_bench_worker.py)
under CPython and PyPy, and prints one table per interpreter: rows are
implementations, columns operations, each cell `<instructions> ir / <time>
ns` per operation. At the end it prints, for CPython, the Rust rows'
instruction counts over the C HPy row's, and whether the target "Rust <=
1.00x the C HPy instructions on every row" holds. A full run takes about 3
to 4 minutes on a 2-core machine (--quick: 1.5).

Operations (columns), each a statement in timeit's loop with the objects in
local variables (see class_bench_worker.py):
  Point(1.0, 2.0)   allocation and initialisation (and the instance's death)
  p.norm()          a method without arguments, returning a float
  p.x               a number field (a data member where the implementation has one)
  p.r               a computed getter (= norm())
  p + q             nb_add, making a new Point
  len(obj)          a Bag's length
  for _ in obj      one whole loop over a Bag's 100 items (ints)

Implementations (rows); each module has a class Point (x, y: float;
Point(x=0.0, y=0.0), norm(), x and y readable (and writable but in the
frozen class), getter r, +)
and a class Bag (Bag(n=100): the ints 0..n, len(), iteration), and the same
iterator in each: it holds a copy of the items and an index.
  Rust #[hpy_class]          bench/classbench-rs, classes Point and Bag: not
                             frozen, so every access goes through the borrow
                             flag; iteration as a user writes it: __iter__
                             returns a BagIter whose
                             `__next__(&mut self) -> Option<i64>` yields the items
  Rust #[hpy_class(frozen)]  the same crate, classes FrozenPoint and FrozenBag
  C, HPy universal           bench/c/classbench_hpy.c, HPyType_Spec with
                             HPyType_HELPERS; HPyDef_MEMBER (HPyMember_DOUBLE)
                             for x and y, HPyDef_GET for r, slots tp_new (the
                             positional arguments parsed by hand, keywords by
                             HPyArg_ParseKeywords[Dict]), nb_add, sq_length;
                             HPy 0.9 has no tp_iter/tp_iternext, so __iter__
                             and __next__ are methods (HPyDef_METH) that the
                             module re-sets on their types on CPython (as the
                             SDK's rebind_dunders does), which makes CPython
                             install its slot_tp_iter/slot_tp_iternext; PyPy
                             finds them by name
  C, HPy CPython ABI         the same file built with HPY_ABI_CPYTHON against
                             CPython's headers and hpy's runtime sources (as
                             hpy's setuptools integration builds it): HPy's
                             own CPython target, types from PyType_FromSpec
                             (heap types), __iter__/__next__ through the
                             rebound methods (CPython only)
  C API                      bench/c/classbench_capi.c: static types, tp_new,
                             tp_members (T_DOUBLE), tp_getset, nb_add,
                             sq_length, real tp_iter/tp_iternext; built against
                             CPython's headers, and PyPy's for cpyext
  PyO3 0.30 #[pyclass]       bench/classbench-pyo3 (CPython only): pyo3 from
                             crates.io, its own workspace and Cargo.lock,
                             built here only (`cargo build --release --locked
                             --manifest-path bench/classbench-pyo3/Cargo.toml
                             --target-dir target/bench/pyo3`, PYO3_PYTHON =
                             the venv's CPython), never by tools/test
The HPy modules (one .hpy0.so each, the same file on both interpreters) are
loaded with hpy.universal.load in universal mode; everything is built with
optimisations (gcc -O3, cargo --release with the workspace's fat LTO).

Method
------
The same as call_overhead.py's, with one difference in how the processes
are cut:
* Instructions (`ir`): valgrind --tool=callgrind runs a worker that loads
  one row's module and, for each of its cells, makes WARMUP operations, then
  calls callgrind_ctl.zero(), makes N operations and calls
  callgrind_ctl.dump(<cell>) (bench/c/callgrind_ctl.c: callgrind's client
  requests, so each cell's N operations are counted in a profile of their
  own). Two runs of a row, with N1 and N2 operations per cell, differ only
  in N, so (Ir(N2) - Ir(N1)) / (N2 - N1) is one operation, INCLUDING one
  iteration of timeit's loop around it (row "timeit loop alone"). One
  process per row instead of one per cell makes 22 callgrind runs instead of
  130 (PyPy takes 6 s to start under valgrind); on CPython a cell counts
  what it counts in a process of its own (checked: the same to the
  instruction for most cells, within 0.6% for the others). The loop `for _ in obj` makes
  N/100 loops (after WARMUP/100), each of 100 items. Workers run with
  PYTHONHASHSEED=0; the counts repeat exactly. On PyPy, the cells that
  allocate (Point(), p + q, the loop) include garbage collections, and move
  by a few percent with N and with what ran before in the process.
* Time (`ns`): one worker per interpreter loads every module, warms every
  cell up, calibrates each cell's number of operations per sample, then
  takes the samples round-robin over all cells (interleaved); a cell is the
  median, per operation, timeit's loop included.
* Every cell is first checked once (values, types, NotImplemented for
  `p + 1`, the items of the loop); a module that fails to build or load, or a
  cell that answers wrongly, gets "n/a" with the reason.

Measured: the README's class table (section "Performance") holds the latest
full run, with where the Rust rows' extra instructions go; `git log -p
README.md` gives the earlier ones.

--quick takes fewer and shorter timing samples and shorter callgrind loops
(same method, noisier times); --no-callgrind skips the instruction counts;
--json FILE also writes every raw number (all samples, both callgrind totals).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchlib import (  # noqa: E402
    BENCH, OUT, ROOT, Benchmark, Interpreter, Row, Unavailable, build_all, build_c_api,
    build_c_hpy, build_c_hpy_cpython, build_cargo_module, build_cargo_module_cpython, build_error, check_rows, run,
    universal_module,
)
from call_overhead import settings_for  # noqa: E402

WORKER = BENCH / "class_bench_worker.py"

# column shape -> heading (the statements are in class_bench_worker.py)
COLUMNS = {
    "new": "Point(1.0, 2.0)",
    "norm": "p.norm()",
    "x": "p.x",
    "r": "p.r",
    "add": "p + q",
    "len": "len(obj)",
    "iter": "for _ in obj",
}
POINT_SHAPES = ("new", "norm", "x", "r", "add")
BAG_SHAPES = ("len", "iter")

# One operation of `for _ in obj` is a whole loop over 100 items: its callgrind
# runs make 100 times fewer.
COUNT_SCALE = {"iter": 100}

# Rows compared with the C HPy row in the ratio rows: row id -> ratio label.
RATIO_ROWS = {
    "rust": "Rust vs C HPy",
    "rust_frozen": "Rust frozen vs C HPy",
    "pyo3": "PyO3 vs C HPy",
    "rust_cpy": ("Rust CPython ABI vs C API", "c_api"),
    "rust_frozen_cpy": ("Rust frozen CPython ABI vs C API", "c_api"),
    "rust_cpy:hpy": ("Rust CPython ABI vs C HPy CPython ABI", "c_hpy_cpy"),
    "rust_frozen_cpy:hpy": ("Rust frozen CPython ABI vs C HPy CPython ABI", "c_hpy_cpy"),
}
# The targets: (Rust rows, the row they are divided by, the highest ratio).
TARGETS = (
    (("rust", "rust_frozen"), "c_hpy", 1.00),
    (("rust_cpy", "rust_frozen_cpy"), "c_api", 1.02),
    (("rust_abi3", "rust_frozen_abi3"), "c_api", None),  # what the limited API costs
)


def classes(point: str, bag: str | None) -> dict[str, str]:
    """{shape: class name} of a module with these Point and Bag classes."""
    funcs = {shape: point for shape in POINT_SHAPES}
    if bag:
        funcs.update({shape: bag for shape in BAG_SHAPES})
    return funcs


# ---------------------------------------------------------------------------
# Building the modules into target/bench/


def build_pyo3(interp: Interpreter) -> Path:
    """classbench_pyo3<EXT_SUFFIX> from bench/classbench-pyo3 (pyo3 from crates.io,
    its own workspace and Cargo.lock), for this CPython."""
    target = OUT / "pyo3"
    cmd = ["cargo", "build", "--quiet", "--release", "--locked",
           "--manifest-path", str(BENCH / "classbench-pyo3" / "Cargo.toml"),
           "--target-dir", str(target)]
    env = {**os.environ, "PYO3_PYTHON": interp.python}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable(f"build failed: {build_error(proc.stderr)}")
    out = OUT / f"classbench_pyo3{interp.info['ext_suffix']}"
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes((target / "release" / "libclassbench_pyo3.so").read_bytes())
    os.replace(tmp, out)
    return out


def build_universal_modules(env: dict[str, str]) -> dict[str, Path | Unavailable]:
    """Build the modules that every interpreter loads (the same file): row id -> path or why not."""
    return build_all({
        "rust": lambda: build_cargo_module("classbench-rs", "classbench_rs"),
        "c_hpy": lambda: build_c_hpy(env, "classbench_hpy", libs=("-lm",)),
    })


# ---------------------------------------------------------------------------
# Rows: build what each interpreter loads, and check it answers correctly


def make_rows(interp: Interpreter, universal: dict[str, Path | Unavailable],
              env: dict[str, str]) -> list[Row]:
    """The rows of one interpreter's table, built and checked (problems recorded)."""
    cpython = interp.key == "cpython"
    rows = [
        Row("loop", "timeit loop alone (`pass`)", "none", "-", {"loop": "-"}),
        Row("rust", "Rust #[hpy_class] (classbench_rs)", "hpy", "classbench_rs",
            classes("Point", "Bag")),
        Row("rust_frozen", "Rust #[hpy_class(frozen)] (classbench_rs)", "hpy", "classbench_rs",
            classes("FrozenPoint", "FrozenBag")),
        Row("c_hpy", "C, HPy universal (classbench_hpy)", "hpy", "classbench_hpy",
            classes("Point", "Bag")),
        Row("c_api", f"{'C API' if cpython else 'C API via cpyext'} (classbench_capi)", "capi",
            "classbench_capi", classes("Point", "Bag")),
    ]
    if cpython:
        rows.append(Row("pyo3", "PyO3 0.30 #[pyclass] (classbench_pyo3)", "capi",
                        "classbench_pyo3", classes("Point", "Bag")))
        # The same Rust source, built as a plain CPython extension.
        rows[3:3] = [
            Row("rust_cpy", "Rust #[hpy_class], CPython ABI", "capi", "classbench_rs",
                classes("Point", "Bag")),
            Row("rust_frozen_cpy", "Rust #[hpy_class(frozen)], CPython ABI", "capi",
                "classbench_rs", classes("FrozenPoint", "FrozenBag")),
            Row("rust_abi3", "Rust #[hpy_class], abi3", "capi", "classbench_rs",
                classes("Point", "Bag")),
            Row("rust_frozen_abi3", "Rust #[hpy_class(frozen)], abi3", "capi",
                "classbench_rs", classes("FrozenPoint", "FrozenBag")),
            # The C HPy source, built as HPy's own CPython ABI builds it.
            Row("c_hpy_cpy", "C, HPy CPython ABI (classbench_hpy)", "capi", "classbench_hpy",
                classes("Point", "Bag")),
        ]

    def module_file(row: Row) -> Path:
        if row.id == "pyo3":
            return build_pyo3(interp)
        if row.id == "c_hpy_cpy":
            return build_c_hpy_cpython(interp, env, "classbench_hpy", libs=("-lm",))
        if row.id.endswith("_cpy"):
            return build_cargo_module_cpython(interp, "classbench-rs", "classbench_rs")
        if row.id.endswith("_abi3"):
            return build_cargo_module_cpython(interp, "classbench-rs", "classbench_rs", abi="abi3")
        if row.kind == "capi":
            return build_c_api(interp, env, "classbench_capi", libs=("-lm",))
        return universal_module(universal, row.id.removesuffix("_frozen"))

    return check_rows(interp, rows, module_file)


# ---------------------------------------------------------------------------
# Report


def conclusion(interps: list[Interpreter]) -> list[str]:
    """The Rust rows over their reference on CPython, per column, and whether
    each target holds: the universal rows <= 1.00x the C HPy instructions, the
    CPython-ABI rows <= 1.02x the C API's, in every cell."""
    interp = next((i for i in interps if i.key == "cpython"), None)
    if interp is None:
        return []
    rows = {row.id: row for row in interp.rows}
    out: list[str] = []
    for rust_rows, base_id, limit in TARGETS:
        present = [r for r in rust_rows if r in rows]
        if not present or base_id not in rows:
            continue
        base = rows[base_id]
        label_width = max(len(rows[r].label) for r in present)
        widths = [max(len(h), 5) for h in COLUMNS.values()]
        out += [f"Rust / {base.label}, instructions per operation, {interp.title}:",
                "  ".join([" " * label_width,
                           *(h.ljust(w) for h, w in zip(COLUMNS.values(), widths))]).rstrip()]
        over: list[str] = []  # "row: columns" above the limit
        unknown = False
        for row_id in present:
            row = rows[row_id]
            cells, above = [], []
            for shape, w in zip(COLUMNS, widths):
                a = row.ir(shape) if shape in row.shapes() else None
                b = base.ir(shape) if shape in base.shapes() else None
                if a is None or not b:
                    cells.append("-".ljust(w))
                    unknown = unknown or shape in row.funcs
                    continue
                cells.append(f"{a / b:.2f}x".ljust(w))
                if limit is not None and round(a / b, 2) > limit:
                    above.append(COLUMNS[shape])
            out.append("  ".join([row.label.ljust(label_width), *cells]).rstrip())
            if above:
                over.append(f"{row.label} in {len(above)} of {len(COLUMNS)} columns "
                            f"({', '.join(above)})")
        if limit is None:
            out.append("(no target: what one binary for every CPython from 3.10 costs)")
            continue
        target = f"target \"<= {limit:.2f}x the instructions of {base.label} in every cell\""
        if over:
            out.append(f"{target}: NOT MET on CPython: above {limit:.2f}x for " + "; for ".join(over))
        elif unknown:
            out.append(f"{target}: not decided (cells without instruction counts)")
        else:
            out.append(f"{target}: MET on CPython")
    return out


BENCHMARK = Benchmark(
    name="class_bench",
    doc=__doc__,
    worker=WORKER,
    columns=COLUMNS,
    ratio_rows=RATIO_ROWS,
    settings_for=settings_for,
    build_universal=build_universal_modules,
    make_rows=make_rows,
    cells_line=("cells: instructions per operation (ir) / median time per operation (ns); both "
                "INCLUDE the timeit loop around the operation (see the row \"timeit loop "
                "alone\"), nothing is subtracted; an operation of `for _ in obj` is a whole loop "
                "over its 100 items"),
    count_scale=COUNT_SCALE,
    conclusion=conclusion,
    callgrind_ctl=lambda env: build_c_hpy(env, "callgrind_ctl"),
)


if __name__ == "__main__":
    run(BENCHMARK)
