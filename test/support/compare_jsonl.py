#!/usr/bin/env python3
"""Compares two JSON-lines files of outputs number by number, with a tolerance.

    compare_jsonl.py actual.jsonl expected.jsonl --rtol 1e-5 --atol 1e-6

Each line is one JSON value: an object of outputs (`{"ctr_logit": [0.25]}`),
a list or a bare number (the embed example prints one number a line). The
two files must have the same number of lines and, line by line, the same
structure: the same keys, the same list lengths, equal strings, booleans and
nulls. Numbers a (actual) and e (expected) agree when

    |a - e| <= atol + rtol * |e|

(numpy's isclose, so a zero expectation needs --atol). The worst number, by
how far past its tolerance it is, is always reported with its line and path;
the exit code is 1 when any number or the structure disagrees, 2 when a file
cannot be read.

Tests compare computed floats this way, never by printed digits: the CPU's
BLAS picks its kernels by processor, so the last digits of a GEMM change
from machine to machine.
"""
import argparse
import json
import math
import sys


class Mismatch(Exception):
    pass


def read_lines(path):
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with stream:
            lines = [line for line in stream.read().split("\n") if line.strip()]
    except OSError as error:
        print(f"compare_jsonl: cannot read '{path}': {error.strerror}", file=sys.stderr)
        sys.exit(2)
    values = []
    for number, line in enumerate(lines, 1):
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as error:
            print(f"compare_jsonl: {path}:{number}: not valid JSON ({error.msg})", file=sys.stderr)
            sys.exit(2)
    return values


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Comparison:
    def __init__(self, rtol, atol):
        self.rtol, self.atol = rtol, atol
        self.compared = 0
        self.failures = 0
        # (excess over the tolerance, line, path, actual, expected)
        self.worst = None

    def number(self, line, path, actual, expected):
        self.compared += 1
        if math.isnan(expected) or math.isnan(actual):
            agrees = math.isnan(expected) and math.isnan(actual)
            excess = 0.0 if agrees else math.inf
        else:
            tolerance = self.atol + self.rtol * abs(expected)
            difference = abs(actual - expected)
            agrees = difference <= tolerance
            excess = difference / tolerance if tolerance > 0 else (0.0 if agrees else math.inf)
        if not agrees:
            self.failures += 1
        if self.worst is None or excess > self.worst[0]:
            self.worst = (excess, line, path, actual, expected)

    def value(self, line, path, actual, expected):
        if is_number(expected) and is_number(actual):
            return self.number(line, path, float(actual), float(expected))
        if isinstance(expected, dict) and isinstance(actual, dict):
            if sorted(actual) != sorted(expected):
                raise Mismatch(f"line {line}{path}: keys {sorted(actual)}, expected {sorted(expected)}")
            for key in expected:
                self.value(line, f"{path}.{key}", actual[key], expected[key])
            return
        if isinstance(expected, list) and isinstance(actual, list):
            if len(actual) != len(expected):
                raise Mismatch(f"line {line}{path}: {len(actual)} values, expected {len(expected)}")
            for i, (a, e) in enumerate(zip(actual, expected)):
                self.value(line, f"{path}[{i}]", a, e)
            return
        if actual != expected or type(actual) is not type(expected):
            raise Mismatch(f"line {line}{path}: {json.dumps(actual)}, expected {json.dumps(expected)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("actual", help="a JSON-lines file, or - for standard input")
    parser.add_argument("expected", help="a JSON-lines file")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default 0)")
    parser.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (default 0)")
    args = parser.parse_args()
    if args.rtol < 0 or args.atol < 0:
        parser.error("tolerances must not be negative")
    actual, expected = read_lines(args.actual), read_lines(args.expected)
    if len(actual) != len(expected):
        print(f"compare_jsonl: {len(actual)} lines, expected {len(expected)}")
        return 1
    comparison = Comparison(args.rtol, args.atol)
    try:
        for line, (a, e) in enumerate(zip(actual, expected), 1):
            comparison.value(line, "", a, e)
    except Mismatch as mismatch:
        print(f"compare_jsonl: {mismatch}")
        return 1
    summary = (f"{comparison.compared} numbers on {len(expected)} lines, "
               f"{comparison.failures} outside rtol {args.rtol:g} atol {args.atol:g}")
    if comparison.worst is not None:
        excess, line, path, a, e = comparison.worst
        summary += (f"; worst: line {line}{path} {a!r}, expected {e!r} "
                    f"({excess:.3g} of its tolerance)")
    print(f"compare_jsonl: {summary}")
    return 1 if comparison.failures else 0


if __name__ == "__main__":
    sys.exit(main())
