#!/usr/bin/env python3
"""Fuzz hpyjson.loads from Python: random bytes and mutations of JSON snippets.

    python3 tools/fuzz_hpyjson.py [--count N] [--seed S] [--jobs J] [--abi cpython|abi3]
                                  [--module FILE | --import NAME]

Run it with any python3 (standard library only): it prepares the interpreters
with tools/setup-interpreters (cached), builds `hpyjson.hpy0.so` with
`cargo hpy build -p hpyjson --release` into target/fuzz/ and runs the loop
in child processes of the cached CPython (with hpy 0.9.0), in universal mode.
With --abi cpython (or abi3) it builds the same crate as a plain CPython
extension instead (`--abi cpython --python <that CPython>`, into
target/fuzz/cpython-abi/) and imports that: the CPython-ABI build's own
fast paths (its strings made in place, its dict inserts) get fuzzed too.

Inputs (--count, default 1,000,000) are generated cheaply and
deterministically from the seed, in chunks of CHUNK inputs: each chunk has
its own random generator (seed, chunk number), so any chunk can be replayed.
The corpus is every JSONTestSuite case (`../shared/data/JSONTestSuite/test_parsing`,
y_, n_ and i_) plus a few slices of `../shared/data/json-bench/twitter.json`,
and a built-in list of snippets when that folder is absent. Each input is one of

* a corpus entry mutated 1 to 4 times (flip/insert/delete/duplicate bytes,
  splice in another entry or a nasty token such as `\\ud800`, `1e999`,
  `[[[[`, a lone UTF-8 lead byte, truncate);
* random bytes (0 to 64);
* a random string over JSON's own alphabet (brackets, digits, quotes, escapes).

Two thirds are passed as bytes, one third as str (decoded with
`surrogatepass`/latin-1 where needed), so both input paths run.

Outcomes per input:

  accepted        loads returned a value
  rejected        loads raised hpyjson.JSONDecodeError (or RecursionError)
  unexpected      loads raised anything else (e.g. SystemError from a Rust
                  panic, TypeError, MemoryError): a FINDING
  crash           the child process died (signal, abort): a FINDING; the
                  chunk is replayed with every input logged, to report the one
                  that crashed
  hang            a chunk took more than --timeout seconds: a FINDING
  disagreements   differential check of `loads(x, strict=True)` against the
                  stdlib `json` on valid UTF-8, made RFC 8259-strict (its
                  NaN/Infinity extension turned off with `parse_constant`):
                  one accepts and the other rejects, or both accept and the
                  values differ (NaN-aware). Input that is not valid UTF-8
                  must be rejected (UTF-8-encoded surrogates excepted:
                  implementation-defined). Reported with examples.
  ujson differences
                  differential check of `loads(x)` (ujson's grammar) against
                  ujson 6.1 (from PyPI, installed in the venv by
                  tools/setup-interpreters) on every input: the same value
                  (NaN-aware, types exact), or the same exception type and
                  message. Reported with examples.

The exit status is 0 when there is no finding, no disagreement and no ujson
difference, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from interpreters import cargo_hpy, interpreter_env

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "fuzz"
CHUNK = 20_000

# ---------------------------------------------------------------------------
# The child: generation and the loop (runs inside the CPython with hpy)

CHILD = r'''
import importlib, importlib.util, json, random, sys
import ujson
sys.path.insert(0, TOOLS_DIR)
from json_same import same

def load_module(spec):
    kind, name, path = spec
    if kind == "import":
        return importlib.import_module(name)
    if kind == "capi":
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    import hpy.universal
    return hpy.universal.load(name, path, importlib.util.spec_from_file_location(name, path),
                              mode=hpy.universal.MODE_UNIVERSAL)

TOKENS = [b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b"\\u", b"\\ud800", b"\\udc00",
          b"\\ud83d\\ude00", b"\\u0000", b"\\uD834", b"\\x", b"0", b"-", b"+", b".", b"e", b"E", b"1e999",
          b"-0", b"1.5e-400", b"18446744073709551616", b"-9223372036854775809", b"9" * 30, b"NaN",
          b"Infinity", b"-Infinity", b"null", b"true", b"false", b"nul", b"tru", b" ", b"\t", b"\n",
          b"\x00", b"\x7f", b"\x80", b"\xc3", b"\xc3\xa9", b"\xe2\x82", b"\xed\xa0\x80", b"\xf0\x9f\x98\x80",
          b"\xf4\x90\x80\x80", b"\xff", b"\xef\xbb\xbf", b"[[[[[[[[", b"]]]]]]]]", b'{"a":', b'"\\/"',
          b"[" * 200, b'{"":' * 50, b"1" * 400]
ALPHABET = b'[]{},:"\\ 0123456789-+.eEtrufalsnNIy/bfnrtu\n'

def make_inputs(corpus, seed, chunk, n):
    rng = random.Random(seed * 1_000_003 + chunk)
    randrange, choice, random_ = rng.randrange, rng.choice, rng.random
    inputs = []
    for _ in range(n):
        r = random_()
        if r < 0.75:
            data = bytearray(choice(corpus))
            for _ in range(randrange(1, 5)):
                size = len(data)
                op = randrange(8)
                pos = randrange(size + 1)
                if op == 0 and size:
                    data[randrange(size)] = randrange(256)
                elif op == 1:
                    data[pos:pos] = bytes((randrange(256),))
                elif op == 2 and size:
                    del data[pos:pos + randrange(1, 9)]
                elif op == 3 and size:
                    start = randrange(size)
                    data[pos:pos] = data[start:start + randrange(1, 33)]
                elif op == 4:
                    other = choice(corpus)
                    start = randrange(len(other) + 1)
                    data[pos:pos] = other[start:start + randrange(1, 65)]
                elif op == 5 or op == 6:
                    data[pos:pos] = choice(TOKENS)
                else:
                    del data[pos:]
            data = bytes(data)
        elif r < 0.87:
            data = rng.randbytes(randrange(65))
        else:
            data = bytes(choice(ALPHABET) for _ in range(randrange(1, 40)))
        if random_() < 0.33:
            try:
                data = data.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                data = data.decode("latin-1")
        inputs.append(data)
    return inputs

def _reject_constant(name):
    """`parse_constant` for json.loads: NaN and Infinity are not JSON."""
    raise json.JSONDecodeError(f"{name} is not allowed", name, 0)

def outcome(loads, data):
    """("ok", value) or (exception type name, message)."""
    try:
        return "ok", loads(data)
    except Exception as e:
        return type(e).__name__, str(e)

def run_chunk(mod, has_strict, corpus, seed, chunk, n, verbose):
    loads = mod.loads

    def strict_loads(data):
        return loads(data, strict=True) if has_strict else loads(data)

    def jloads(text):
        return json.loads(text, parse_constant=_reject_constant)

    expected = (mod.JSONDecodeError, RecursionError)
    counts = {"accepted": 0, "rejected": 0, "unexpected": 0, "disagreements": 0,
              "ujson differences": 0}
    examples = []
    per_kind = {}

    def example(kind, data, detail):
        if per_kind.get(kind, 0) < 3:
            per_kind[kind] = per_kind.get(kind, 0) + 1
            examples.append([kind, ascii(data)[:200], detail[:200]])

    for i, data in enumerate(make_inputs(corpus, seed, chunk, n)):
        if verbose:
            sys.stdout.write("input " + ascii(data) + "\n")
            sys.stdout.flush()
        ours, theirs = outcome(loads, data), outcome(ujson.loads, data)
        if ours[0] != theirs[0] or not (same(ours[1], theirs[1]) if ours[0] == "ok"
                                        else ours[1] == theirs[1]):
            counts["ujson differences"] += 1
            example("ujson differs", data, f"hpyjson {ascii(ours)[:95]}, ujson {ascii(theirs)[:95]}")
        try:
            value = strict_loads(data)
            ok = True
        except expected:
            ok = False
        except BaseException as e:
            counts["unexpected"] += 1
            example("unexpected exception", data, f"{type(e).__name__}: {e}")
            continue
        counts["accepted" if ok else "rejected"] += 1
        # differential check against json, on valid UTF-8 (json.loads(bytes) guesses UTF-16/32)
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                try:  # UTF-8-encoded surrogates (ED A0 80): implementation-defined (i_ cases)
                    data.decode("utf-8", "surrogatepass")
                except UnicodeDecodeError:
                    if ok:
                        counts["disagreements"] += 1
                        example("invalid UTF-8 accepted", data, ascii(value))
                continue
        else:
            text = data
        try:
            jvalue = jloads(text)
            jok = True
        except json.JSONDecodeError:
            jok = False
        except (ValueError, RecursionError):  # e.g. the int digits limit: no verdict
            continue
        if ok and jok:
            if same(value, jvalue):
                continue
            why = "values differ"
        elif ok == jok:
            continue
        elif ok:
            why = "hpyjson accepts, json rejects"
        else:
            why = "json accepts, hpyjson rejects"
        counts["disagreements"] += 1
        example(why, data, ascii(value if ok else jvalue))
    return counts, examples

def main():
    spec, corpus_file, seed = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    mod = load_module(spec)
    with open(corpus_file, "rb") as f:
        corpus = [bytes.fromhex(line.strip().decode()) for line in f if line.strip()]
    for line in sys.stdin:  # one job per line: "chunk n verbose"
        chunk, n, verbose = map(int, line.split())
        counts, examples = run_chunk(mod, spec[0] != "import", corpus, seed, chunk, n, verbose)
        sys.stdout.write("result " + json.dumps([chunk, counts, examples]) + "\n")
        sys.stdout.flush()

main()
'''.replace("TOOLS_DIR", repr(str(Path(__file__).resolve().parent)))

FALLBACK_CORPUS = [b'{"a": [1, 2.5, -3e10, true, false, null], "b": "x\\u00e9\\ud83d\\ude00"}',
                   b"[]", b"{}", b'"\\"\\\\\\/\\b\\f\\n\\r\\t"', b"[1e308, 5e-324, -0.0]",
                   b'[18446744073709551616, {"k": {"k": [[]]}}]']


def log(message: str) -> None:
    print(f"fuzz_hpyjson: {message}", file=sys.stderr, flush=True)


def cpython() -> str:
    # CPython only (env.sh keeps naming a PyPy made by an earlier run)
    return interpreter_env("--no-pypy", who="fuzz_hpyjson")["HPY_CPYTHON"]


def build(abi: str = "universal", python: str = "") -> str:
    out = OUT if abi == "universal" else OUT / f"{abi}-abi"
    cmd = [*cargo_hpy(), "hpy", "build", "--quiet", "-p", "hpyjson", "--out", str(out), "--release"]
    if abi != "universal":
        cmd += ["--abi", abi, "--python", python]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"fuzz_hpyjson: `{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1]


def write_corpus() -> tuple[Path, int]:
    corpus = []
    suite = DATA / "JSONTestSuite" / "test_parsing"
    if suite.is_dir():
        for f in sorted(suite.glob("*.json")):
            data = f.read_bytes()
            corpus.append(data[:2000])  # the 100,000-bracket cases: their head is enough
    twitter = DATA / "json-bench" / "twitter.json"
    if twitter.is_file():
        data = twitter.read_bytes()
        rng = random.Random(0)
        for _ in range(50):
            start = rng.randrange(len(data) - 300)
            corpus.append(data[start:start + rng.randrange(20, 300)])
    if not corpus:
        log(f"{suite} not found: using the built-in snippets only")
    corpus += FALLBACK_CORPUS
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "corpus.hex"
    path.write_text("".join(c.hex() + "\n" for c in corpus))
    return path, len(corpus)


class Child:
    """A child process that runs chunks (one at a time) and reports each."""

    def __init__(self, python: str, spec: list, corpus: Path, seed: int) -> None:
        self.args = [python, "-c", CHILD, json.dumps(spec), str(corpus), str(seed)]
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    def run(self, chunk: int, n: int, timeout: float, verbose: bool = False):
        """(counts, examples), or ("crash"/"hang", detail, last input logged or None)."""
        proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)
        try:
            out, err = proc.communicate(f"{chunk} {n} {int(verbose)}\n", timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return "hang", f"no answer after {timeout:.0f} s", last_input(out)
        for line in out.splitlines():
            if line.startswith("result "):
                _, counts, examples = json.loads(line[len("result "):])
                return counts, examples
        return "crash", f"exit status {proc.returncode}: {err.strip()[-400:]}", last_input(out)


def last_input(out: str) -> str | None:
    inputs = [line[len("input "):] for line in out.splitlines() if line.startswith("input ")]
    return inputs[-1] if inputs else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=float, default=1e6, help="number of inputs (default 1e6)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="child processes at a time")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per chunk before it is a hang")
    ap.add_argument("--python", help="the CPython with hpy to run (default: the cached venv's)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--module", help="an hpyjson.hpy0.so to load instead of building one")
    src.add_argument("--import", dest="import_name", metavar="NAME",
                     help="fuzz an importable module instead (e.g. ujson, for comparison)")
    ap.add_argument("--abi", choices=["universal", "cpython", "abi3"], default="universal",
                    help="the build of hpyjson to fuzz: universal (default), cpython or abi3")
    args = ap.parse_args()
    started = time.monotonic()
    count = int(args.count)

    python = args.python or cpython()
    if args.import_name:
        spec = ["import", args.import_name, ""]
    elif args.abi != "universal":
        spec = ["capi", "hpyjson",
                str(Path(args.module).resolve()) if args.module else build(args.abi, python)]
    else:
        spec = ["hpy", "hpyjson", str(Path(args.module).resolve()) if args.module else build()]
    corpus, corpus_size = write_corpus()
    log(f"{spec[2] or spec[1]}: {count} inputs, seed {args.seed}, corpus of {corpus_size} entries, "
        f"{args.jobs} processes")

    chunks = [(i, min(CHUNK, count - i * CHUNK)) for i in range((count + CHUNK - 1) // CHUNK)]
    child = Child(python, spec, corpus, args.seed)
    totals = {"accepted": 0, "rejected": 0, "unexpected": 0, "disagreements": 0,
              "ujson differences": 0, "crash": 0, "hang": 0}
    examples: list = []
    findings: list[str] = []
    tried = 0
    built = time.monotonic()

    def work(job):
        chunk, n = job
        return job, child.run(chunk, n, args.timeout)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done, ((chunk, n), result) in enumerate(pool.map(work, chunks), 1):
            if result[0] in ("crash", "hang"):
                kind, detail, _ = result
                totals[kind] += 1
                log(f"chunk {chunk}: {kind} ({detail}); replaying it with every input logged")
                replay = child.run(chunk, n, args.timeout, verbose=True)
                culprit = replay[2] if replay[0] in ("crash", "hang") else None
                findings.append(f"{kind} in chunk {chunk} (seed {args.seed}): {detail}; last input: "
                                + (culprit[:2000] if culprit else f"(the replay did not {kind})"))
                continue
            counts, chunk_examples = result
            tried += n
            for key, value in counts.items():
                totals[key] += value
            for ex in chunk_examples:
                if sum(e[0] == ex[0] for e in examples) < 5:
                    examples.append(ex)
            if done % 10 == 0 or done == len(chunks):
                log(f"{tried} inputs done ({time.monotonic() - built:.0f} s)")

    elapsed = time.monotonic() - started
    print(f"module: {spec[2] or spec[1]}")
    print(f"inputs tried: {tried} of {count} (seed {args.seed}, {len(chunks)} chunks of <= {CHUNK})")
    for key in ("accepted", "rejected", "unexpected", "disagreements", "ujson differences"):
        print(f"  {key:18} {totals[key]}")
    print(f"  {'crashed chunks':18} {totals['crash']}")
    print(f"  {'hung chunks':18} {totals['hang']}")
    for kind, data, detail in examples:
        print(f"  example ({kind}): input {data} -> {detail}")
    for finding in findings:
        print(f"  FINDING: {finding}")
    rate = tried / max(elapsed, 1e-9)
    print(f"time: {elapsed:.1f} s in all ({rate:,.0f} inputs/s including the build and setup)")
    bad = (totals["unexpected"] + totals["crash"] + totals["hang"] + totals["disagreements"]
           + totals["ujson differences"])
    print("result: " + ("no findings" if not bad else "FINDINGS (see above)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
