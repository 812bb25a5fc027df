#!/usr/bin/env python3
"""Writes a seed for fuzz_c_api: a package's payload, a safetensors file and
JSON Lines examples, each of the first two behind a uint32 LE length (the
layout fuzz_c_api.cpp reads).

    make_c_api_seed.py OUT PACKAGE.lmcpkg [WEIGHTS.safetensors] EXAMPLES.jsonl

Without weights the seed asks the fuzzer to generate them."""
import struct
import sys

ENVELOPE_BYTES = 24  # runtime/artifact/Envelope.h


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    out, package, examples = argv[1], argv[2], argv[-1]
    payload = open(package, "rb").read()[ENVELOPE_BYTES:]
    weights = open(argv[3], "rb").read() if len(argv) == 5 else b""
    with open(out, "wb") as seed:
        for part in (payload, weights):
            seed.write(struct.pack("<I", len(part)) + part)
        seed.write(open(examples, "rb").read())


if __name__ == "__main__":
    main(sys.argv)
