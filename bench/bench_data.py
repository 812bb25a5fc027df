"""What the benchmark scripts share: the weights `lmc init-weights` writes and token example sets."""
import json
import random
import struct

import numpy as np


def read_safetensors(path):
    """{name: float32 array} of a safetensors file holding F32 tensors only."""
    with open(path, "rb") as f:
        data = f.read()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        assert entry["dtype"] == "F32", f"{name} is {entry['dtype']}"
        tensors[name] = np.frombuffer(data[8 + size + begin:8 + size + end],
                                      dtype=np.float32).reshape(entry["shape"]).copy()
    return tensors


def write_token_sets(data, sets, vocab, seed=1):
    """Random token sequences of each set's lengths, written to DATA/NAME.jsonl
    as {"tokens": [...]} lines; returns {name: sequences}."""
    rng = random.Random(seed)
    sequences = {}
    for name, lengths in sets.items():
        sequences[name] = [[rng.randrange(vocab) for _ in range(n)] for n in lengths]
        with open(f"{data}/{name}.jsonl", "w") as f:
            for s in sequences[name]:
                f.write(json.dumps({"tokens": s}) + "\n")
    return sequences
