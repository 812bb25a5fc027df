#!/usr/bin/env python3
"""Compares two safetensors files of f32 tensors with the same names.

    compare_safetensors.py a.safetensors b.safetensors --max-relative 1e-6

Prints the relative L2 difference over all tensors together, ||a - b|| /
||b||, and the worst tensor's; exits 1 when the names or shapes differ or
the overall difference exceeds --max-relative. Tensors whose names match
--ignore (a regular expression) are left out of the comparison.
"""
import argparse
import array
import json
import math
import re
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            sys.exit(f"{path}: tensor '{name}' is {entry['dtype']}, not F32")
        begin, end = entry["data_offsets"]
        values = array.array("f")
        values.frombytes(data[begin:end])
        tensors[name] = (entry["shape"], values)
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("actual")
    parser.add_argument("expected")
    parser.add_argument("--max-relative", type=float, required=True)
    parser.add_argument("--ignore", default=None)
    args = parser.parse_args()
    actual, expected = load(args.actual), load(args.expected)
    if sorted(actual) != sorted(expected):
        sys.exit("the files hold different tensors")
    error = norm = 0.0
    worst, worst_name = 0.0, ""
    compared = 0
    for name, (shape, values) in expected.items():
        if args.ignore and re.search(args.ignore, name):
            continue
        compared += 1
        other_shape, other = actual[name]
        if other_shape != shape:
            sys.exit(f"'{name}' has shape {other_shape}, expected {shape}")
        e = sum((a - b) ** 2 for a, b in zip(other, values))
        n = sum(b * b for b in values)
        error += e
        norm += n
        relative = math.sqrt(e / n) if n else math.sqrt(e)
        if relative > worst:
            worst, worst_name = relative, name
    overall = math.sqrt(error / norm) if norm else math.sqrt(error)
    print(f"relative L2 {overall:.3g} over {compared} tensors (worst {worst:.3g}: {worst_name})")
    sys.exit(0 if overall <= args.max_relative else 1)


if __name__ == "__main__":
    main()
