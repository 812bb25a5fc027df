#!/usr/bin/env python3
"""Compares two `lmc run` output files (JSON lines): relative L2 error of
every output over all examples. Exits 1 above --tolerance."""
import argparse
import json
import math
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("actual")
parser.add_argument("expected")
parser.add_argument("--tolerance", type=float, default=3e-3)
args = parser.parse_args()


def flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from flatten(item)
    else:
        yield float(value)


difference, norm = {}, {}
with open(args.actual) as actual, open(args.expected) as expected:
    for line_a, line_e in zip(actual, expected, strict=True):
        a, e = json.loads(line_a), json.loads(line_e)
        for name in e:
            for x, y in zip(flatten(a[name]), flatten(e[name]), strict=True):
                difference[name] = difference.get(name, 0.0) + (x - y) ** 2
                norm[name] = norm.get(name, 0.0) + y * y
worst = max(math.sqrt(difference[n] / max(norm[n], 1e-30)) for n in norm)
print(f"{worst:.2e}")
sys.exit(0 if worst <= args.tolerance else 1)
