"""Worker of bench/call_overhead.py: runs inside the interpreter being measured.

    <python> callbench_worker.py info
    <python> callbench_worker.py check KIND NAME PATH FUNCS_JSON
    <python> callbench_worker.py time SPEC_JSON
    <python> callbench_worker.py count KIND NAME PATH FUNC SHAPE WARMUP N

* `info` prints (as JSON) the interpreter's version, its HPy version, its
  extension-module suffix and the folder it expects its C headers in.
* `check` loads one module and calls each function of FUNCS_JSON
  (`{shape: function name}`) once; it prints `{shape: error or null}` as JSON.
  A module that cannot be loaded (or crashes the process) fails the command.
* `time` loads every module listed in SPEC_JSON and times all (module, shape)
  cells round-robin; it prints the samples as JSON. SPEC_JSON is
  `{"settings": {...}, "impls": [{"id", "kind", "name", "path", "funcs": {shape: func}}]}`
  with the settings of `time_cells` (for kind "none", name, path and func
  are ignored).
* `count` loads one module and calls one function N times (after WARMUP calls),
  for `valgrind --tool=callgrind`; it prints nothing. The driver runs it with
  two values of N and divides the difference of the instruction counts.

Every call runs in the loop of `timeit.Timer.timeit`:

    for _i in itertools.repeat(None, number):
        f(1, 2)

with `f` (and the argument `x`) in local variables, so a cell includes that
loop's own cost; the shape "loop" (statement `pass`, no call) measures the
loop alone. KIND is "hpy" (a universal module, loaded with
`hpy.universal.load`), "hpyrs" (the same through hpy-rs's runtime, from the
folder `$HPY_RS_RUNTIME_PATH`), "capi" (a C-API extension) or "none" (no module: the
"loop" shape only).

Only the standard library is imported, and `count` imports as little as
possible: on PyPy under valgrind every extra import of a module without a
cached .pyc costs seconds.
"""

import sys

# shape -> the statement timed (`f` is the function, `x` the argument).
SHAPES = {
    "loop": "pass",
    "noop": "f()",
    "identity": "f(x)",
    "add_ints": "f(1, 2)",
    "add_ints_argparse": "f(1, 2)",
}

# The argument of identity(x): a plain object, which no interpreter treats
# specially (unlike, say, small ints).
ARGUMENT = object()


def load_module(kind, name, path):
    """Load the module `name` from the file `path` (an absolute path); None for kind "none"."""
    if kind == "none":
        return None
    import importlib.machinery

    if kind == "hpy":
        import hpy.universal

        spec = importlib.machinery.ModuleSpec(name, None, origin=path)
        return hpy.universal.load(name, path, spec)
    if kind == "hpyrs":
        import os

        sys.path.insert(0, os.environ["HPY_RS_RUNTIME_PATH"])
        from hpy_rs_runtime import universal

        spec = importlib.machinery.ModuleSpec(name, None, origin=path)
        return universal.load(name, path, spec)
    if kind == "capi":
        loader = importlib.machinery.ExtensionFileLoader(name, path)
        spec = importlib.machinery.ModuleSpec(name, loader, origin=path)
        module = loader.create_module(spec)
        loader.exec_module(module)
        return module
    raise ValueError(f"unknown module kind {kind!r}")


def make_timer(func, shape):
    """A `timeit.Timer` calling `func` in the given shape, with `f` and `x` as locals."""
    import timeit

    # timeit runs `setup` inside its timing function, so these become locals.
    return timeit.Timer(SHAPES[shape], setup="f = _f; x = _x",
                        globals={"_f": func, "_x": ARGUMENT})


def check(func, shape):
    """Raise AssertionError unless `func` answers as the shape requires."""
    if shape == "noop":
        result, expected = func(), None
    elif shape == "identity":
        result, expected = func(ARGUMENT), ARGUMENT
    elif shape in ("add_ints", "add_ints_argparse"):
        result, expected = func(1, 2), 3
    else:  # the bare loop calls nothing
        return
    if not (result is expected or (type(result) is int and result == expected)):
        raise AssertionError(f"{shape}: returned {result!r}, expected {expected!r}")


def check_module(kind, name, path, funcs):
    """Check each function of a module; return {shape: error message or None}."""
    module = load_module(kind, name, path)
    errors = {}
    for shape, func_name in funcs.items():
        try:
            check(getattr(module, func_name) if module else None, shape)
            errors[shape] = None
        except Exception as e:
            errors[shape] = f"{type(e).__name__}: {e}"
    return errors


def time_cells(impls, settings):
    """Time every (implementation, shape) cell; return {impl id: {shape: sample dict}}.

    The driver lists only cells that passed `check`. Settings: `warmup`, the
    calls per cell before anything is measured (a JIT compiles the loops
    then); `target_s`, the least duration of one sample (the number of calls
    per sample is calibrated to reach it); `rounds`, the number of samples per
    cell. The samples are interleaved: each round times every cell once,
    starting one cell further along each round, so that drifts and bursts of
    load on the machine spread over all cells alike.
    """
    cells = []
    for impl in impls:
        module = load_module(impl["kind"], impl["name"], impl["path"])
        for shape, func_name in impl["funcs"].items():
            func = getattr(module, func_name) if module else None
            cells.append((impl["id"], shape, make_timer(func, shape)))

    for _, _, timer in cells:
        timer.timeit(settings["warmup"])
    numbers = []
    for _, _, timer in cells:
        number = 1000
        while timer.timeit(number) < settings["target_s"]:
            number *= 2
        numbers.append(number)

    samples = [[] for _ in cells]
    for r in range(settings["rounds"]):
        for k in range(len(cells)):
            i = (r + k) % len(cells)
            seconds = cells[i][2].timeit(numbers[i])
            samples[i].append(seconds * 1e9 / numbers[i])

    result = {}
    for (impl_id, shape, _), number, ns in zip(cells, numbers, samples):
        result.setdefault(impl_id, {})[shape] = {"calls_per_sample": number, "ns_per_call": ns}
    return result


def info():
    """The interpreter's facts, as a dict."""
    import platform
    import sysconfig

    import hpy.universal

    impl = platform.python_implementation()
    version = platform.python_version()
    if impl == "PyPy":
        version = "%d.%d.%d" % sys.pypy_version_info[:3] + f" (Python {version})"
    return {
        "implementation": impl,
        "version": version,
        "hpy": hpy.universal.get_version()[0],
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "include": sysconfig.get_paths()["include"],
    }


def main(argv):
    """Run one command (see the module docstring)."""
    command = argv[0] if argv else ""
    if command == "count" and len(argv) == 8:
        kind, name, path, func_name, shape, warmup, n = argv[1:]
        module = load_module(kind, name, path)
        func = getattr(module, func_name) if module else None
        timer = make_timer(func, shape)
        timer.timeit(int(warmup))
        timer.timeit(int(n))
        return
    import json  # not before: `count` runs under valgrind

    if command == "check" and len(argv) == 5:
        kind, name, path, funcs = argv[1], argv[2], argv[3], json.loads(argv[4])
        print(json.dumps(check_module(kind, name, path, funcs)))
    elif command == "time" and len(argv) == 2:
        spec = json.loads(argv[1])
        print(json.dumps(time_cells(spec["impls"], spec["settings"])))
    elif command == "info" and len(argv) == 1:
        print(json.dumps(info()))
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv[1:])
