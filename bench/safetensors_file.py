"""Reads the f32 safetensors files `lmc init-weights` writes, for the benchmark scripts."""
import json
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
