"""Worker of bench/json_bench.py: runs inside the interpreter being measured.

    <python> json_worker.py info
    <python> json_worker.py check SPEC_JSON
    <python> json_worker.py time SPEC_JSON
    <python> json_worker.py mem LIB_JSON DOC_PATH
    <python> json_worker.py count SPEC_JSON CTL_PATH N

SPEC_JSON is `{"libs": [LIB, ...], "docs": {id: path}, "settings": {...}}`,
LIB is `{"id", "kind": "hpy" | "ext" | "import", "name", "path"}`: an HPy
universal module loaded with `hpy.universal.load` (universal mode) from
`path`, a plain CPython extension loaded from `path`, or a
module imported by name (`path`, if given, is put first on sys.path).

* `info` prints the interpreter's name, version and extension suffix.
* `check` loads every library and checks, on every document, that `loads`
  gives what the stdlib's json gives (NaN-aware) and that
  `loads(dumps(doc))` gives the document back; prints `{lib id: problem or null}`.
* `time` times `loads(text)` and `dumps(doc)` of every (library, document)
  round-robin (interleaved samples); prints the samples as JSON
  (`{lib: {"loads"|"dumps": {doc: [seconds per call, ...]}}}`).
* `mem` reads one document (as str), resets the peak resident set, runs the
  library's `loads` MEM_COPIES times, keeping the results, and prints the
  resident set before and its peak after (KiB); see cmd_mem.
* `count` (run under callgrind) makes, for every (library, op, document),
  one call, then `zero()`, N calls and `dump("LIB OP DOC")` of
  bench/c/callgrind_ctl.c (an HPy universal module, from CTL_PATH), so that
  callgrind writes the instructions of each cell's N calls to a file of its
  own.

Every library gets the same input, the document as a `str`, and is called
with its default options: dumps output differs (ujson and hpyjson escape `/`
and non-ASCII by default, json escapes non-ASCII, orjson returns UTF-8 bytes).
Only the standard library is imported (besides the libraries measured, and
tools/json_same.py, the document equality shared with the fuzzer).
"""

import gc
import importlib
import importlib.util
import json
import math
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from json_same import same  # noqa: E402  (after the path it lives on)


def load_lib(lib):
    if lib["kind"] == "hpy":
        import hpy.universal

        spec = importlib.util.spec_from_file_location(lib["name"], lib["path"])
        return hpy.universal.load(lib["name"], lib["path"], spec, mode=hpy.universal.MODE_UNIVERSAL)
    if lib["kind"] == "hpyrs":  # the same through hpy-rs's runtime ($HPY_RS_RUNTIME_PATH)
        import os

        sys.path.insert(0, os.environ["HPY_RS_RUNTIME_PATH"])
        from hpy_rs_runtime import universal

        spec = importlib.util.spec_from_file_location(lib["name"], lib["path"])
        return universal.load(lib["name"], lib["path"], spec)
    if lib["kind"] == "ext":  # a plain CPython extension from its file
        spec = importlib.util.spec_from_file_location(lib["name"], lib["path"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    if lib.get("path"):
        sys.path.insert(0, lib["path"])
    return importlib.import_module(lib["name"])


def read_docs(spec):
    texts = {}
    for doc_id, path in spec["docs"].items():
        with open(path, "rb") as f:
            texts[doc_id] = f.read().decode("utf-8")
    return texts


def cmd_info():
    import sysconfig

    impl = sys.implementation.name
    if impl == "pypy":
        version = "%d.%d.%d" % sys.pypy_version_info[:3]
        title = f"PyPy {version} (Python {'.'.join(map(str, sys.version_info[:3]))})"
    else:
        title = f"CPython {'.'.join(map(str, sys.version_info[:3]))}"
    print(json.dumps({"implementation": impl, "title": title,
                      "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX")}))


def cmd_check(spec):
    texts = read_docs(spec)
    expected = {doc_id: json.loads(text) for doc_id, text in texts.items()}
    result = {}
    for lib in spec["libs"]:
        try:
            mod = load_lib(lib)
            problem = None
            for doc_id, text in texts.items():
                doc = mod.loads(text)
                if not same(doc, expected[doc_id]):
                    problem = f"loads({doc_id}) differs from json.loads"
                    break
                if not same(json.loads(mod.dumps(doc)), expected[doc_id]):
                    problem = f"json.loads(dumps({doc_id})) differs from the document"
                    break
            version = getattr(mod, "__version__", None)
        except Exception as e:  # noqa: BLE001 - reported as the row's problem
            problem, version = f"{type(e).__name__}: {e}", None
        result[lib["id"]] = {"problem": problem, "version": version}
    print(json.dumps(result))


def cmd_time(spec):
    s = spec["settings"]
    texts = read_docs(spec)
    mods = {lib["id"]: load_lib(lib) for lib in spec["libs"]}
    docs = {doc_id: json.loads(text) for doc_id, text in texts.items()}
    # The parsed documents (inputs of dumps) are the benchmark's own baggage:
    # out of the cyclic GC's reach (CPython), so that a collection that
    # happens during a loads sample does not traverse them. Without this,
    # loads of citm_catalog.json took 14 ms instead of 5 (all libraries), and
    # which library paid for the collection was luck.
    if hasattr(gc, "freeze"):
        gc.collect()
        gc.freeze()
    cells = []  # (lib, op, doc, function, argument)
    for lib_id, mod in mods.items():
        for doc_id in texts:
            cells.append((lib_id, "loads", doc_id, mod.loads, texts[doc_id]))
            cells.append((lib_id, "dumps", doc_id, mod.dumps, docs[doc_id]))

    pypy = sys.implementation.name == "pypy"

    def sample(f, x, number):
        if not pypy:  # CPython: no cyclic-GC debt from the cell before (cheap here)
            gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            r = f(x)
        elapsed = time.perf_counter() - start
        del r
        return elapsed / number

    # Warm up (PyPy: the JIT compiles the loops) and calibrate the calls per sample.
    numbers = {}
    for lib_id, op, doc_id, f, x in cells:
        calls, spent = 0, 0.0
        while calls < s["warmup_calls"] or spent < s["warmup_s"]:
            spent += sample(f, x, 1)
            calls += 1
        per_call = sample(f, x, 1)
        numbers[(lib_id, op, doc_id)] = max(1, math.ceil(s["target_s"] / max(per_call, 1e-9)))

    out = {lib_id: {"loads": {}, "dumps": {}} for lib_id in mods}
    for _ in range(s["rounds"]):
        # on PyPy once per round, not per sample: a full collection of a heap
        # holding every parsed document costs seconds there
        gc.collect()
        for lib_id, op, doc_id, f, x in cells:
            t = sample(f, x, numbers[(lib_id, op, doc_id)])
            out[lib_id][op].setdefault(doc_id, []).append(t)
    print(json.dumps(out))


MEM_COPIES = 3


def rss_kib(field):
    """VmRSS or VmHWM (the peak) of this process, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def cmd_mem(lib, path):
    """Growth of the peak resident set during one loads of the document.

    ru_maxrss cannot be reset, and reading the document (bytes, then a str of
    up to 4 bytes per character) sets a peak that loads may stay under; so the
    peak is reset (`5` into /proc/self/clear_refs, Linux >= 4.0) after the
    document is read (and its bytes freed: gc.collect, malloc_trim), and read
    back as VmHWM. loads runs MEM_COPIES times, every result kept: PyPy's
    heap has slack (free memory left by startup and by reading the document)
    that a single loads can fill without growing the resident set at all, so
    the driver divides the growth by the copies.
    Where clear_refs is not possible,
    ru_maxrss is used instead (and "method" says so).
    """
    mod = load_lib(lib)
    mod.loads("[1]")
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    del raw
    gc.collect()
    gc.collect()
    try:  # give freed memory (the bytes read) back to the system, so that loads cannot reuse it unseen
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError, ImportError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        method = "VmHWM after clear_refs"
        before = rss_kib("VmRSS")
    except OSError:
        method = "ru_maxrss"
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    docs = [mod.loads(text) for _ in range(MEM_COPIES)]
    after = (rss_kib("VmHWM") if method.startswith("VmHWM")
             else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(json.dumps({"before_kib": before, "after_kib": after, "copies": MEM_COPIES, "method": method,
                      "items": len(docs[0])}))


def cmd_count(spec, ctl_path, n):
    import hpy.universal

    spec_ctl = importlib.util.spec_from_file_location("callgrind_ctl", ctl_path)
    ctl = hpy.universal.load("callgrind_ctl", ctl_path, spec_ctl, mode=hpy.universal.MODE_UNIVERSAL)
    texts = read_docs(spec)
    mods = {lib["id"]: load_lib(lib) for lib in spec["libs"]}
    docs = {doc_id: json.loads(text) for doc_id, text in texts.items()}
    gc.collect()
    gc.freeze()  # as cmd_time: the documents are out of the collector's reach
    for lib_id, mod in mods.items():
        for doc_id in texts:
            for op, f, x in (("loads", mod.loads, texts[doc_id]), ("dumps", mod.dumps, docs[doc_id])):
                gc.collect()
                r = f(x)  # the first call's one-time work (caches, imports) is not counted
                del r
                ctl.zero()
                for _ in range(n):
                    r = f(x)
                    del r
                ctl.dump(f"{lib_id} {op} {doc_id}")


def main():
    cmd = sys.argv[1]
    if cmd == "info":
        cmd_info()
    elif cmd == "check":
        cmd_check(json.loads(sys.argv[2]))
    elif cmd == "time":
        cmd_time(json.loads(sys.argv[2]))
    elif cmd == "mem":
        cmd_mem(json.loads(sys.argv[2]), sys.argv[3])
    elif cmd == "count":
        cmd_count(json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
