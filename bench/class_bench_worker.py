"""Worker of bench/class_bench.py: runs inside the interpreter being measured.

    <python> class_bench_worker.py info
    <python> class_bench_worker.py check KIND NAME PATH CLASSES_JSON
    <python> class_bench_worker.py time SPEC_JSON
    <python> class_bench_worker.py count KIND NAME PATH CLASS SHAPE WARMUP N
    <python> class_bench_worker.py count-all KIND NAME PATH CTL_PATH SHAPE:CLASS:WARMUP:N...

The commands are those of callbench_worker.py (whose module loading, `info`
and timing loop it reuses, unchanged), with a class of the module in the place of a
function: CLASSES_JSON is `{shape: class name}` (a Point class for the Point
shapes, a Bag class for `len` and `iter`), and `check` makes an instance and
checks what the shape's operation answers. `count-all` counts all of a
module's cells in one process under callgrind: for each SHAPE:CLASS:WARMUP:N,
WARMUP operations, then `callgrind_ctl.zero()` (the module bench/c/
callgrind_ctl.c, loaded from CTL_PATH), N operations and
`callgrind_ctl.dump(SHAPE)`, which writes the count of those N to a profile
file of its own.

Every operation runs in the loop of `timeit.Timer.timeit`, with the class and
the instances in local variables made before the loop:

    shape  statement            locals
    loop   pass                 -
    new    P(1.0, 2.0)          P = Point
    norm   p.norm()             p = Point(1.0, 2.0)
    x      p.x                  p
    r      p.r                  p
    add    p + q                p, q = Point(3.0, 4.0)
    len    len(b)               b = Bag()           (100 items)
    iter   for _ in b: pass     b                   (one whole loop of 100 items)

so a cell includes that loop's own cost; the shape "loop" measures the loop
alone. Only the standard library is imported (see callbench_worker.py).
"""

import sys

import callbench_worker
from callbench_worker import info, time_cells

# shape -> (statement, setup); `_cls` is the class.
SHAPES = {
    "loop": ("pass", ""),
    "new": ("P(1.0, 2.0)", "P = _cls"),
    "norm": ("p.norm()", "p = _cls(1.0, 2.0)"),
    "x": ("p.x", "p = _cls(1.0, 2.0)"),
    "r": ("p.r", "p = _cls(1.0, 2.0)"),
    "add": ("p + q", "p = _cls(1.0, 2.0); q = _cls(3.0, 4.0)"),
    "len": ("len(b)", "b = _cls()"),
    "iter": ("for _ in b: pass", "b = _cls()"),
}

# The number of items of a Bag().
BAG_SIZE = 100


# (kind, name, path) -> the module loaded from there.
_loaded = {}
_load_module = callbench_worker.load_module


def load_module(kind, name, path):
    """callbench_worker.load_module, once per module: the Rust rows share one
    module, and loading it a second time would make its classes anew (the
    first copy's instances would then fail its own type checks)."""
    key = (kind, name, path)
    if key not in _loaded:
        _loaded[key] = _load_module(kind, name, path)
    return _loaded[key]


def make_timer(cls, shape):
    """A `timeit.Timer` running the shape's statement, with its locals made by `setup`."""
    import timeit

    stmt, setup = SHAPES[shape]
    # timeit runs `setup` inside its timing function, so these become locals.
    return timeit.Timer(stmt, setup=setup or "pass", globals={"_cls": cls})


# callbench_worker.time_cells looks these two up in its own module: point
# them at this worker's.
callbench_worker.load_module = load_module
callbench_worker.make_timer = make_timer


def expect(what, result, expected):
    """Raise AssertionError unless result == expected."""
    if result != expected:
        raise AssertionError(f"{what}: got {result!r}, expected {expected!r}")


def check(cls, shape):
    """Raise AssertionError unless `cls` answers as the shape requires."""
    if shape == "loop":
        return
    if shape in ("len", "iter"):
        if shape == "len":
            expect("len(Bag())", len(cls()), BAG_SIZE)
        else:
            expect("list(Bag())", list(cls()), list(range(BAG_SIZE)))
            expect("list(Bag(3))", list(cls(3)), [0, 1, 2])
        return
    p = cls(1.0, 2.0)
    if shape == "new":
        expect("type(Point(1.0, 2.0))", type(p), cls)
        expect("Point(1.0, 2.0) coordinates", (p.x, p.y), (1.0, 2.0))
        expect("Point() coordinates", (cls().x, cls().y), (0.0, 0.0))
        expect("Point(y=5.0) coordinates", (cls(y=5.0).x, cls(y=5.0).y), (0.0, 5.0))
    elif shape == "norm":
        expect("Point(3.0, 4.0).norm()", cls(3.0, 4.0).norm(), 5.0)
    elif shape == "x":
        expect("Point(1.0, 2.0).x", p.x, 1.0)
        expect("Point(1.0, 2.0).y", p.y, 2.0)
    elif shape == "r":
        expect("Point(3.0, 4.0).r", cls(3.0, 4.0).r, 5.0)
    elif shape == "add":
        s = p + cls(3.0, 4.0)
        expect("type(p + q)", type(s), cls)
        expect("p + q", (s.x, s.y), (4.0, 6.0))
        try:
            p + 1
        except TypeError:
            pass
        else:
            raise AssertionError("Point + 1 did not raise TypeError")
    else:
        raise ValueError(f"unknown shape {shape!r}")


def check_module(kind, name, path, classes):
    """Check each shape's class of a module; return {shape: error message or None}."""
    module = load_module(kind, name, path)
    errors = {}
    for shape, cls_name in classes.items():
        try:
            check(getattr(module, cls_name) if module else None, shape)
            errors[shape] = None
        except Exception as e:
            errors[shape] = f"{type(e).__name__}: {e}"
    return errors


def main(argv):
    """Run one command (see the module docstring)."""
    command = argv[0] if argv else ""
    if command == "count" and len(argv) == 8:
        kind, name, path, cls_name, shape, warmup, n = argv[1:]
        module = load_module(kind, name, path)
        timer = make_timer(getattr(module, cls_name) if module else None, shape)
        timer.timeit(int(warmup))
        timer.timeit(int(n))
        return
    if command == "count-all" and len(argv) >= 5:
        kind, name, path, ctl_path = argv[1:5]
        module = load_module(kind, name, path)
        ctl = load_module("hpy", "callgrind_ctl", ctl_path)
        for cell in argv[5:]:
            shape, cls_name, warmup, n = cell.split(":")
            timer = make_timer(getattr(module, cls_name) if module else None, shape)
            timer.timeit(int(warmup))
            ctl.zero()
            timer.timeit(int(n))
            ctl.dump(shape)
        return
    import json  # not before: `count` runs under valgrind

    if command == "check" and len(argv) == 5:
        kind, name, path, classes = argv[1], argv[2], argv[3], json.loads(argv[4])
        print(json.dumps(check_module(kind, name, path, classes)))
    elif command == "time" and len(argv) == 2:
        spec = json.loads(argv[1])
        print(json.dumps(time_cells(spec["impls"], spec["settings"])))
    elif command == "info" and len(argv) == 1:
        print(json.dumps(info()))
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv[1:])
