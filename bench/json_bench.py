#!/usr/bin/env python3
"""JSON benchmark: hpyjson against json, ujson and orjson on CPython, and against
PyPy's json and ujson (through PyPy's C-API emulation, cpyext) on PyPy.

    python3 bench/json_bench.py [--quick] [--no-pypy] [--json FILE]

Run it with the system python3 (standard library only), from any directory.
It prepares the interpreters with `tools/setup-interpreters --with-pypy-dev`
(cached), and into target/bench/:

* builds `hpyjson.hpy0.so` once with `cargo hpy build -p hpyjson --release`:
  the very same file is loaded on both interpreters (universal mode); and,
  for CPython, the same source as a plain CPython extension
  (`cargo hpy build -p hpyjson --release --abi cpython`);
* installs ujson and orjson into the cached CPython venv with pip, if missing;
* builds ujson for PyPy from its sdist (the version installed in the CPython
  venv, fetched with `pip download --no-binary :all:`) with gcc/g++ against
  PyPy's headers (HPY_PYPY_INCLUDE_DIR), into `ujson<PyPy's EXT_SUFFIX>`;
  libstdc++ is linked statically, as PyPy runs on its own libc;
* generates `json_generated.json`, a deterministic ~10 MB document (a list
  of twitter-like records with ints, 64-bit ids, floats, nulls, bools, nested
  objects, ASCII, accented, CJK and emoji text, URLs).

Documents: twitter.json and citm_catalog.json from ../shared/data/json-bench,
and the generated one. Every library gets the document as a `str` for
`loads`, and the parsed document for `dumps`, with its default options (so
ujson and hpyjson escape `/` and non-ASCII, json escapes non-ASCII, orjson
returns UTF-8 bytes unescaped).

Method: before timing, a worker (bench/json_worker.py) checks each library:
`loads` must equal the stdlib's `json.loads` and `loads(dumps(doc))` the
document; a library that fails gets n/a with the reason. One worker per
interpreter then warms every cell up (PyPy's JIT), calibrates the calls per
sample (>= 50 ms), and takes 11 samples per cell round-robin (interleaved),
with a gc.collect() before each sample on CPython and before each round on
PyPy (where a full collection costs seconds); a cell is the median time per
call, in ms. The parsed documents (the input of dumps) are frozen out of
CPython's cyclic GC (gc.freeze), so that loads samples do not pay for
traversing them. On PyPy, hpyjson and json are timed in a worker without
ujson: loaded next to them, cpyext slows PyPy's GC for every library in the
process; ujson's cells come from a second worker that runs it next to the
others. Ratio rows divide hpyjson's time by the other library's (below 1:
hpyjson is faster).

Peak memory: one child process per (interpreter, library): it imports the
library, reads the generated document into a str, resets the peak resident
set (`/proc/self/clear_refs`; ru_maxrss cannot be reset, and reading the
document sets a peak of its own that loads may stay under), runs `loads`
3 times keeping every result, and reads the peak (VmHWM); the cell is
(peak - resident set before) / 3, in MB: one parsed document plus the
parser's transient memory, C allocations included (which tracemalloc would
miss). Three copies, not one: PyPy's heap has free slack after startup and
the read that a single parse fills unseen. Without clear_refs it falls back
to ru_maxrss (a note says so).

--quick takes fewer, shorter samples; --no-pypy measures CPython only;
--json FILE also writes every raw number.

--callgrind counts instructions instead of timing (CPython only; twitter and
citm, the 10 MB document being too slow under valgrind): the CPython rows,
checked as above, each cell's calls counted by callgrind in one worker per N
(`count`: one call, then callgrind_ctl's zero(), N calls, dump(cell), see
bench/c/callgrind_ctl.c), N = COUNT_N[0] and COUNT_N[1]; a cell is the
difference of its two counts over the difference of the Ns (what the
process does besides the cell's calls cancels), in millions of instructions
per call. Unlike the times, these repeat (to within 0.03% in three runs)
and do not depend on the machine's load: changes of a few tenths of a
percent show in them that the times' noise hides (measured: two copies of
one build differ by up to 10% in time), which makes them the measure to
work with while optimising; the times stay the measure of the targets.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from interpreters import interpreter_env  # noqa: E402
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import _benchlib  # noqa: E402  (hpy-rs's runtime, callgrind_ctl and its dumps)
WORKER = BENCH / "json_worker.py"
OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "bench"
DATA = ROOT.parent / "shared" / "data" / "json-bench"
GENERATED = OUT / "json_generated.json"
GENERATED_SIZE = 10 * 1024 * 1024

# The calls per cell of the two callgrind runs of --callgrind.
COUNT_N = (1, 3)

# The ratio rows of the tables: (hpyjson's row, the other library's, label).
RATIO_ROWS = {"cpython": [("hpyjson_cpy", "ujson", "hpyjson CPython ABI vs ujson"),
                          ("hpyjson_cpy", "orjson", "hpyjson CPython ABI vs orjson"),
                          ("hpyjson_abi3", "hpyjson_cpy", "hpyjson abi3 vs CPython ABI"),
                          ("hpyjson_rt", "hpyjson", "universal: hpy-rs runtime vs HPy's"),
                          ("hpyjson", "ujson", "hpyjson universal vs ujson"),
                          ("hpyjson", "orjson", "hpyjson universal vs orjson"),
                          ("hpyjson", "json", "hpyjson universal vs json")],
              "pypy": [("hpyjson", "ujson", "hpyjson vs ujson-cpyext"),
                       ("hpyjson", "json", "hpyjson vs PyPy json")]}

DOCS = {"twitter": DATA / "twitter.json", "citm": DATA / "citm_catalog.json", "generated": GENERATED}
DOC_LABELS = {"twitter": "twitter.json", "citm": "citm_catalog.json", "generated": "generated 10 MB"}


class Unavailable(Exception):
    """Why a row has no numbers."""


def log(message: str) -> None:
    print(f"json_bench: {message}", file=sys.stderr, flush=True)


def bench_env(with_pypy: bool) -> dict[str, str]:
    return interpreter_env("--with-pypy-dev" if with_pypy else "--no-pypy", who="json_bench")


def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONHASHSEED"] = "0"
    return env


def run_worker(python: str, *args: str, timeout: float = 3600) -> str:
    proc = subprocess.run([python, str(WORKER), *args], env=worker_env(), capture_output=True,
                          text=True, check=False, timeout=timeout)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        why = f"signal {-proc.returncode}" if proc.returncode < 0 else (lines[-1] if lines else "no output")
        raise Unavailable(f"worker failed: {why}")
    return proc.stdout


# ---------------------------------------------------------------------------
# Preparation


def generate_document() -> None:
    """A deterministic ~10 MB list of twitter-like records (written once)."""
    if GENERATED.is_file() and GENERATED.stat().st_size >= GENERATED_SIZE:
        return
    rng = random.Random(20240601)
    words = ("the of and to in is you that it he was for on are as with his they at be this have "
             "from or one had by word but not what all were we when your can said there use an each "
             "café naïve über señor façade 日本語 テスト 中文 한국어 données Москва 😀 🎉 ✓").split()
    langs = ["en", "ja", "fr", "de", "es", "ru", "zh", "ko"]
    records, size, i = [], 2, 0
    while size < GENERATED_SIZE:
        uid = rng.randrange(10**8, 10**10)
        rec = {
            "id": 505874924095815681 + i,
            "id_str": str(505874924095815681 + i),
            "created_at": f"Sun Aug {rng.randrange(1, 32):02d} {rng.randrange(24):02d}:"
                          f"{rng.randrange(60):02d}:{rng.randrange(60):02d} +0000 2014",
            "text": " ".join(rng.choice(words) for _ in range(rng.randrange(5, 30))),
            "truncated": rng.random() < 0.1,
            "in_reply_to_status_id": rng.choice([None, rng.randrange(10**17, 10**18)]),
            "user": {
                "id": uid, "id_str": str(uid), "name": rng.choice(words).title() + " " + rng.choice(words),
                "screen_name": "user_%d" % rng.randrange(10**6),
                "description": " ".join(rng.choice(words) for _ in range(rng.randrange(0, 15))),
                "url": rng.choice([None, "http://t.co/%x" % rng.randrange(16**8)]),
                "followers_count": rng.randrange(10**6), "friends_count": rng.randrange(10**4),
                "verified": rng.random() < 0.05, "lang": rng.choice(langs),
                "profile_background_color": "%06X" % rng.randrange(16**6),
            },
            "coordinates": rng.choice([None, [round(rng.uniform(-180, 180), 6), round(rng.uniform(-90, 90), 6)]]),
            "retweet_count": rng.randrange(1000), "favorite_count": rng.randrange(1000),
            "score": rng.random() * 100, "ratio": rng.choice([0.0, -0.5, 1e-7, 3.14159, 2.5e10]),
            "entities": {
                "hashtags": [{"text": rng.choice(words), "indices": [rng.randrange(140), rng.randrange(140)]}
                             for _ in range(rng.randrange(3))],
                "urls": [{"url": "http://t.co/%x" % rng.randrange(16**8),
                          "expanded_url": "https://example.com/%s/%d" % (rng.choice(words), rng.randrange(10**5))}
                         for _ in range(rng.randrange(3))],
                "user_mentions": [],
            },
            "favorited": False, "retweeted": rng.random() < 0.3, "lang": rng.choice(langs),
        }
        text = json.dumps(rec, ensure_ascii=False)
        records.append(text)
        size += len(text.encode()) + 1
        i += 1
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = GENERATED.with_suffix(".tmp")
    tmp.write_text("[" + ",".join(records) + "]")
    os.replace(tmp, GENERATED)


def build_hpyjson() -> Path:
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "cargo-hpy", "--",
           "hpy", "build", "--quiet", "-p", "hpyjson", "--out", str(OUT), "--release"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if "error" in line.lower()] or proc.stderr.splitlines()
        raise Unavailable(f"build failed: {lines[0] if lines else 'no output'}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_hpyjson_cpython(python: str, abi: str = "cpython") -> Path:
    """hpyjson<EXT_SUFFIX>: the same crate as a plain CPython extension (the CPython-ABI build),
    or with `abi="abi3"` hpyjson.abi3.so (the limited-API build)."""
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "cargo-hpy", "--",
           "hpy", "build", "--quiet", "-p", "hpyjson", "--out", str(OUT / f"{abi}-abi"), "--release",
           "--abi", abi, "--python", python]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if "error" in line.lower()] or proc.stderr.splitlines()
        raise Unavailable(f"build failed: {lines[0] if lines else 'no output'}")
    return Path(proc.stdout.strip().splitlines()[-1])


def ensure_cpython_packages(python: str) -> None:
    """ujson and orjson in the cached CPython venv (pip install, once)."""
    missing = [p for p in ("ujson", "orjson")
               if subprocess.run([python, "-c", f"import {p}"], capture_output=True).returncode != 0]
    if missing:
        log(f"pip install {' '.join(missing)} into the CPython venv")
        subprocess.run([python, "-m", "pip", "install", "--quiet", *missing], check=False)


def build_ujson_for_pypy(cpython: str, include_dir: str, ext_suffix: str) -> Path:
    """ujson, from its sdist (same version as on CPython), built against PyPy's headers."""
    if not include_dir or not (Path(include_dir) / "Python.h").is_file():
        raise Unavailable("no PyPy headers (tools/setup-interpreters --with-pypy-dev)")
    proc = subprocess.run([cpython, "-c", "import ujson; print(ujson.__version__)"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable("ujson is not installed on CPython (its version picks the sdist)")
    version = proc.stdout.strip()
    dest = OUT / "pypy-ext" / f"ujson-{version}"
    target = dest / f"ujson{ext_suffix}"
    if target.is_file():
        return dest
    src_root = OUT / "ujson-src"
    src = src_root / f"ujson-{version}"
    if not src.is_dir():
        src_root.mkdir(parents=True, exist_ok=True)
        log(f"pip download ujson=={version} (sdist)")
        subprocess.run([cpython, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        f"ujson=={version}", "-d", str(src_root)], check=False)
        tarballs = sorted(src_root.glob(f"ujson-{version}.tar.gz"))
        if not tarballs:
            raise Unavailable(f"pip download of the ujson {version} sdist failed")
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(src_root, filter="data") if sys.version_info >= (3, 12) else tar.extractall(src_root)
    dconv = src / "src" / "ujson" / "deps" / "double-conversion" / "double-conversion"
    includes = [f"-I{src / 'src' / 'ujson'}", f"-I{dconv}", f"-I{include_dir}"]
    objdir = OUT / "pypy-ext" / f"obj-{version}"
    objdir.mkdir(parents=True, exist_ok=True)
    objects = []
    log(f"building ujson {version} for PyPy (cpyext)")
    jobs = []
    for f in sorted(dconv.glob("*.cc")) + [src / "src" / "ujson" / "dconv_wrapper.cc"]:
        obj = objdir / (f.name + ".o")
        jobs.append(["g++", "-O3", "-fPIC", *includes, "-c", str(f), "-o", str(obj)])
        objects.append(obj)
    for name in ("ujson.c", "encode.c", "decode.c"):
        obj = objdir / (name + ".o")
        jobs.append(["gcc", "-O3", "-fPIC", "-D_GNU_SOURCE", f'-DUJSON_VERSION="{version}"', *includes,
                     "-c", str(src / "src" / "ujson" / name), "-o", str(obj)])
        objects.append(obj)
    procs = []
    for cmd in jobs:
        procs.append((cmd, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        if len(procs) >= (os.cpu_count() or 1):
            _wait_build(procs.pop(0))
    for p in procs:
        _wait_build(p)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / f".ujson.{os.getpid()}.tmp"
    link = ["g++", "-shared", "-static-libstdc++", "-static-libgcc", *map(str, objects), "-lm", "-o", str(tmp)]
    _wait_build((link, subprocess.Popen(link, stderr=subprocess.PIPE, text=True)))
    os.replace(tmp, target)
    return dest


def _wait_build(item) -> None:
    cmd, proc = item
    _, err = proc.communicate()
    if proc.returncode != 0:
        lines = [line for line in err.splitlines() if "error" in line] or err.splitlines()
        raise Unavailable(f"`{cmd[0]} ... {Path(cmd[-3]).name}` failed: {lines[0] if lines else ''}")


# ---------------------------------------------------------------------------
# Measurement


class Interp:
    def __init__(self, key: str, python: str, info: dict) -> None:
        self.key, self.python, self.info = key, python, info
        self.libs: list[dict] = []  # {"id", "label", "kind", "name", "path", "problem", "version"}
        self.times: dict = {}
        self.mem: dict[str, float | str] = {}
        self.notes: list[str] = []


def libraries(interp: Interp, hpyjson: Path | Unavailable, env: dict[str, str]) -> list[dict]:
    def lib(lib_id, label, kind, name, path=None, problem=None):
        return {"id": lib_id, "label": label, "kind": kind, "name": name,
                "path": str(path) if path else None, "problem": problem}

    hpy_problem = str(hpyjson) if isinstance(hpyjson, Unavailable) else None
    hpy_path = None if hpy_problem else hpyjson
    if interp.key == "cpython":
        try:
            native, native_problem = build_hpyjson_cpython(interp.python), None
        except Unavailable as e:
            native, native_problem = None, str(e)
        try:
            abi3, abi3_problem = build_hpyjson_cpython(interp.python, abi="abi3"), None
        except Unavailable as e:
            abi3, abi3_problem = None, str(e)
        # The universal file again, through hpy-rs's runtime (a copy: one file
        # loaded through two runtimes in one process shares one context).
        rt_path, rt_problem = None, hpy_problem
        if hpy_path is not None:
            try:
                _benchlib.build_runtime(interp)
                rt_path = _benchlib.runtime_copy(Path(hpy_path))
            except (Unavailable, _benchlib.Unavailable) as e:
                rt_problem = str(e)
        return [lib("hpyjson_cpy", "hpyjson (CPython ABI)", "ext", "hpyjson", native, native_problem),
                lib("hpyjson_abi3", "hpyjson (abi3)", "ext", "hpyjson", abi3, abi3_problem),
                lib("hpyjson", "hpyjson (HPy universal)", "hpy", "hpyjson", hpy_path, hpy_problem),
                lib("hpyjson_rt", "hpyjson (universal, hpy-rs runtime)", "hpyrs", "hpyjson", rt_path,
                    rt_problem),
                lib("json", "json (stdlib)", "import", "json"),
                lib("ujson", "ujson", "import", "ujson"),
                lib("orjson", "orjson", "import", "orjson")]
    try:
        ujson_dir, problem = build_ujson_for_pypy(env["HPY_CPYTHON"], env.get("HPY_PYPY_INCLUDE_DIR", ""),
                                                  interp.info["ext_suffix"]), None
    except Unavailable as e:
        ujson_dir, problem = None, str(e)
    ujson = lib("ujson", "ujson via cpyext", "import", "ujson", ujson_dir, problem)
    ujson["own_process"] = True  # see measure_time
    return [lib("hpyjson", "hpyjson (the same .so)", "hpy", "hpyjson", hpy_path, hpy_problem),
            lib("json", "json (PyPy builtin)", "import", "json"),
            ujson]


def check(interp: Interp, docs: dict[str, str]) -> None:
    for lib in interp.libs:
        if lib["problem"]:
            continue
        spec = {"libs": [lib], "docs": docs}
        try:
            result = json.loads(run_worker(interp.python, "check", json.dumps(spec)))[lib["id"]]
            lib["problem"], lib["version"] = result["problem"], result["version"]
        except Unavailable as e:
            lib["problem"] = str(e)


def measure_time(interp: Interp, docs: dict[str, str], settings: dict) -> None:
    """One worker for the libraries of an interpreter (interleaved samples).

    A library marked `own_process` (ujson through cpyext on PyPy) is left out
    of that worker: an extension loaded through cpyext slows PyPy's garbage
    collector for everything else in the process (measured: hpyjson's loads
    1.6x-2.1x as long, PyPy's json's up to 1.5x). It is timed in a second
    worker next to all the others, as in the first version of this script
    (alone in a process it measured slower still: twitter 30-45 ms instead of
    19-23), and only its own cells are kept from there."""
    libs = [lib for lib in interp.libs if not lib["problem"]]
    plain = [lib for lib in libs if not lib.get("own_process")]
    runs = [(plain, plain)] + [(libs, [lib]) for lib in libs if lib.get("own_process")]
    for run, keep in runs:
        if not run:
            continue
        spec = {"libs": run, "docs": docs, "settings": settings}
        try:
            times = json.loads(run_worker(interp.python, "time", json.dumps(spec)))
            interp.times.update({lib["id"]: times[lib["id"]] for lib in keep})
        except Unavailable as e:
            interp.notes.append(f"timing failed ({', '.join(lib['id'] for lib in keep)}): {e}")
    if len(runs) > 1:
        others = ", ".join(lib["label"] for _, keep in runs[1:] for lib in keep)
        interp.notes.append(f"timed in a second worker (cpyext slows PyPy's GC for every library "
                            f"in its process): {others}")


def measure_memory(interp: Interp) -> None:
    for lib in interp.libs:
        if lib["problem"]:
            continue
        try:
            r = json.loads(run_worker(interp.python, "mem", json.dumps(lib), str(GENERATED)))
            interp.mem[lib["id"]] = (r["after_kib"] - r["before_kib"]) / 1024 / r["copies"]
            if r["method"] == "ru_maxrss" and "ru_maxrss" not in " ".join(interp.notes):
                interp.notes.append("peak memory from ru_maxrss (no /proc/self/clear_refs): may be too low")
        except Unavailable as e:
            interp.mem[lib["id"]] = f"n/a ({e})"


def count_instructions(interp: Interp, docs: dict[str, str], ctl: Path) -> dict[tuple[str, str, str], float]:
    """{(lib, op, doc): instructions per call} of the checked libraries of
    `interp`: two callgrind runs of the worker's `count` (N = COUNT_N), side
    by side."""
    libs = [lib for lib in interp.libs if not lib["problem"]]
    spec = json.dumps({"libs": libs, "docs": docs})

    def run(n: int) -> dict[str, int]:
        with tempfile.TemporaryDirectory(prefix="json-bench-") as scratch:
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/callgrind.out.%p",
                   interp.python, str(WORKER), "count", spec, str(ctl), str(n)]
            proc = subprocess.run(cmd, env=worker_env(), capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                lines = [line for line in proc.stderr.splitlines() if line.strip()]
                raise Unavailable(f"callgrind run failed: {lines[-1] if lines else proc.returncode}")
            return _benchlib.read_dumps(Path(scratch))

    log(f"callgrind: 2 runs of {len(libs)} libraries on {interp.info['title']}, side by side")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        low, high = pool.map(run, COUNT_N)
    per_call = {}
    for cell, total in high.items():
        if cell in low:
            lib_id, op, doc = cell.split()
            per_call[(lib_id, op, doc)] = (total - low[cell]) / (COUNT_N[1] - COUNT_N[0])
    return per_call


# ---------------------------------------------------------------------------
# Report


def render_instructions(interp: Interp, counts: dict[tuple[str, str, str], float], docs: list[str]) -> str:
    """The table of --callgrind: millions of instructions per call, and the ratios."""
    columns = [(op, doc) for doc in docs for op in ("loads", "dumps")]
    header = ["", *(f"{op} {DOC_LABELS[doc]}" for op, doc in columns)]
    rows = [header]
    for lib in interp.libs:
        label = lib["label"] + (f" {lib['version']}" if lib.get("version") and lib["id"] != "json" else "")
        if lib["problem"]:
            rows.append([label, f"n/a ({lib['problem']})"])
            continue
        rows.append([label, *(f"{counts[(lib['id'], op, doc)] / 1e6:.3f} M" if (lib["id"], op, doc) in counts
                              else "n/a" for op, doc in columns)])
    for mine, other, label in RATIO_ROWS["cpython"]:
        cells = []
        for op, doc in columns:
            a, b = counts.get((mine, op, doc)), counts.get((other, op, doc))
            cells.append(f"{a / b:.2f}x" if a and b else "n/a")
        rows.append([label, *cells])
    full = [row for row in rows if len(row) == len(header)]
    widths = [max(len(row[i]) for row in full) for i in range(len(header))]
    out = [f"instructions per call (callgrind, millions: the counts of {COUNT_N[1]} and of {COUNT_N[0]} "
           f"calls per cell, their difference / {COUNT_N[1] - COUNT_N[0]}); ratios: hpyjson's count / "
           f"the other's (< 1: fewer)", f"== {interp.info['title']}"]
    for row in rows:
        if len(row) == len(header):
            out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
                       .rstrip())
        else:
            out.append(f"{row[0].ljust(widths[0])}  {row[1]}")
    return "\n".join(out)


def median_ms(interp: Interp, lib_id: str, op: str, doc: str) -> float | None:
    samples = interp.times.get(lib_id, {}).get(op, {}).get(doc)
    return statistics.median(samples) * 1000 if samples else None


def render(interps: list[Interp], settings: dict) -> str:
    columns = [(op, doc) for doc in DOCS for op in ("loads", "dumps")]
    header = ["", *(f"{op} {DOC_LABELS[doc]}" for op, doc in columns), "MB per loads 10 MB"]
    lines: list = [header]
    ratio_rows = RATIO_ROWS
    for interp in interps:
        lines.append(f"== {interp.info['title']}")
        for lib in interp.libs:
            label = lib["label"] + (f" {lib['version']}" if lib.get("version") and lib["id"] != "json" else "")
            if lib["problem"]:
                lines.append([label, f"n/a ({lib['problem']})"])
                continue
            cells = []
            for op, doc in columns:
                ms = median_ms(interp, lib["id"], op, doc)
                cells.append(f"{ms:.2f} ms" if ms is not None else "n/a")
            mem = interp.mem.get(lib["id"])
            cells.append(f"{mem:.1f}" if isinstance(mem, float) else (mem or "n/a"))
            lines.append([label, *cells])
        libs = {lib["id"]: lib for lib in interp.libs}
        for mine, other, label in ratio_rows[interp.key]:
            if libs[mine]["problem"] or libs[other]["problem"]:
                lines.append([label, "n/a"])
                continue
            cells = []
            for op, doc in columns:
                a, b = median_ms(interp, mine, op, doc), median_ms(interp, other, op, doc)
                cells.append(f"{a / b:.2f}x" if a and b else "n/a")
            ma, mb = interp.mem.get(mine), interp.mem.get(other)
            cells.append(f"{ma / mb:.2f}x" if isinstance(ma, float) and isinstance(mb, float) and mb > 0 else "n/a")
            lines.append([label, *cells])
    table_rows = [line for line in lines if isinstance(line, list) and len(line) == len(header)]
    widths = [max(len(row[i]) for row in table_rows) for i in range(len(header))]
    widths[0] = max(widths[0], *(len(line[0]) for line in lines if isinstance(line, list)))
    out = [f"time: median of {settings['rounds']} interleaved samples of >= {settings['target_s'] * 1000:.0f} ms "
           f"per cell, ms per call; ratios: hpyjson's time (or memory) / the other's (< 1: hpyjson "
           f"is faster or smaller)"]
    for line in lines:
        if isinstance(line, str):
            out.append(line)
        elif len(line) == len(header):
            out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths)))
                       .rstrip())
        else:
            out.append(f"{line[0].ljust(widths[0])}  {line[1]}")
    for interp in interps:
        out.extend(f"note ({interp.info['title']}): {n}" for n in interp.notes)
    return "\n".join(out)


def prepare(with_pypy: bool) -> tuple[dict[str, str], Path | Unavailable]:
    """The interpreters' variables (tools/setup-interpreters), ujson and
    orjson on CPython, and the universal hpyjson (or why it is missing)."""
    env = bench_env(with_pypy=with_pypy)
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_cpython_packages(env["HPY_CPYTHON"])
    log("building hpyjson (cargo hpy build --release)")
    try:
        return env, build_hpyjson()
    except Unavailable as e:
        log(f"hpyjson: {e}")
        return env, e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    ap.add_argument("--no-pypy", action="store_true", help="measure CPython only")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the raw numbers to FILE")
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions per call (CPython, twitter and citm) instead of timing")
    args = ap.parse_args()
    if args.callgrind:
        callgrind_main()
        return
    started = time.monotonic()
    settings = ({"rounds": 5, "target_s": 0.02, "warmup_calls": 2, "warmup_s": 0.1} if args.quick else
                {"rounds": 11, "target_s": 0.05, "warmup_calls": 3, "warmup_s": 0.5})

    for doc, path in DOCS.items():
        if doc != "generated" and not path.is_file():
            sys.exit(f"json_bench: {path} not found (the shared data folder ../shared/data)")
    env, hpyjson = prepare(with_pypy=not args.no_pypy)
    generate_document()
    docs = {doc: str(path) for doc, path in DOCS.items()}

    interps = []
    pythons = [("cpython", env["HPY_CPYTHON"])]
    if not args.no_pypy and env.get("HPY_PYPY"):
        pythons.append(("pypy", env["HPY_PYPY"]))
    for key, python in pythons:
        interp = Interp(key, python, json.loads(run_worker(python, "info")))
        interp.libs = libraries(interp, hpyjson, env)
        log(f"checking the libraries on {interp.info['title']}")
        check(interp, docs)
        interps.append(interp)
    prepared = time.monotonic()
    load = os.getloadavg()[0]
    for interp in interps:
        log(f"timing on {interp.info['title']}")
        measure_time(interp, docs, settings)
    timed = time.monotonic()
    for interp in interps:
        log(f"peak memory on {interp.info['title']}")
        measure_memory(interp)
    measured = time.monotonic()

    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    sizes = ", ".join(f"{DOC_LABELS[d]} {Path(p).stat().st_size / 1e6:.2f} MB" for d, p in docs.items())
    print(f"machine: {cpu} ({os.cpu_count()} CPUs), {platform.system()} {platform.release()}; "
          f"load average when the timing started: {load:.2f}")
    print(f"documents: {sizes}")
    print(render(interps, settings))
    total = time.monotonic() - started
    print(f"total time: {total:.0f} s (setup and builds {prepared - started:.0f} s, timing {timed - prepared:.0f} s, "
          f"memory {measured - timed:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": {"cpu": cpu, "cpus": os.cpu_count(), "load": load},
            "settings": settings, "documents": docs, "total_seconds": round(total, 1),
            "interpreters": {i.key: {"info": i.info, "libs": i.libs, "times_s": i.times, "peak_mb": i.mem,
                                     "notes": i.notes} for i in interps},
        }, indent=2) + "\n")
        log(f"wrote {args.json}")


def callgrind_main() -> None:
    """--callgrind: the CPython rows, checked, and their instruction counts."""
    started = time.monotonic()
    if shutil.which("valgrind") is None:
        sys.exit("json_bench: --callgrind needs valgrind")
    docs = {doc: str(DOCS[doc]) for doc in ("twitter", "citm")}
    for path in docs.values():
        if not Path(path).is_file():
            sys.exit(f"json_bench: {path} not found (the shared data folder ../shared/data)")
    env, hpyjson = prepare(with_pypy=False)
    try:
        ctl = _benchlib.build_c_hpy(env, "callgrind_ctl")
    except _benchlib.Unavailable as e:
        sys.exit(f"json_bench: callgrind_ctl: {e}")
    python = env["HPY_CPYTHON"]
    interp = Interp("cpython", python, json.loads(run_worker(python, "info")))
    interp.libs = libraries(interp, hpyjson, env)
    log(f"checking the libraries on {interp.info['title']}")
    check(interp, docs)
    try:
        counts = count_instructions(interp, docs, ctl)
    except Unavailable as e:
        sys.exit(f"json_bench: {e}")
    print(render_instructions(interp, counts, list(docs)))
    print(f"total time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
