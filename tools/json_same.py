"""`same(a, b)`: the equality that the JSON harnesses (bench/json_worker.py
and tools/fuzz_hpyjson.py) check parsed documents with. Standard library
only; runs on CPython and PyPy."""

import math


def same(a, b):
    """NaN-aware structural equality (-0.0 differs from 0.0), without recursion."""
    stack = [(a, b)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, float) and isinstance(b, float):
            if math.isnan(a) or math.isnan(b):
                if not (math.isnan(a) and math.isnan(b)):
                    return False
            elif a != b or math.copysign(1, a) != math.copysign(1, b):
                return False
        elif type(a) is not type(b):
            return False
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b))
        elif isinstance(a, dict):
            if a.keys() != b.keys():
                return False
            stack.extend((a[k], b[k]) for k in a)
        elif a != b:
            return False
    return True
