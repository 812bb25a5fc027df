#!/usr/bin/env python3
"""The 64-sequence length mix of the GPU anchors (TOOLCHAIN.md): log-normal
lengths around 400 (mean ~650), clamped to [16, 4096], from torch's CPU
generator seeded 0 -- 41,598 tokens. Prints one length per line. Without
torch (a dry run on the build machine) a stand-in mix of the same shape."""
import math


def length_mix():
    try:
        import torch
    except ImportError:
        import random
        rng = random.Random(0)
        return [int(min(4096, max(16, math.exp(rng.gauss(0, 1) * 0.9 + math.log(400)))))
                for _ in range(64)]
    g = torch.Generator().manual_seed(0)
    lengths = torch.clamp(torch.exp(torch.randn(64, generator=g) * 0.9 + math.log(400)), 16, 4096)
    return [int(x) for x in lengths.int()]


if __name__ == "__main__":
    print("\n".join(map(str, length_mix())))
