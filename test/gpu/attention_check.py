#!/usr/bin/env python3
"""lmc's emitted attention kernel next to PyTorch on one GPU.

Correctness: packed (varlen), causal and padded cases against
torch.nn.functional.scaled_dot_product_attention on float32 copies of fresh
random inputs; the output buffer is poisoned with NaN first, so a row the
kernel forgets to write fails. Timing: lmc against PyTorch's flash and cuDNN
SDPA backends and packed varlen flash attention
(aten._flash_attention_forward with cu_seqlens), median of many runs
(triton.testing.do_bench), in this one process. Prints TSV rows the shell
script turns into a table.

The kernel comes from `lmc-emit-attention` (the emitter lmc compile uses)
and is compiled and launched with CuPy, on PyTorch's tensors. The query
tiles are listed exactly as the runtime lists them (runtime/src/cuda/
CudaBackend.cpp, attentionTiles): every tile of every sequence, longest
sequences first.
"""
import argparse
import json
import math
import subprocess
import sys

import cupy
import numpy as np
import torch
import torch.nn.functional as F
from triton.testing import do_bench

from length_mix import length_mix

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}


def emit(tool, heads, dim, causal, padded, dtype, block_q, block_k):
    args = [tool, "--dtype", dtype, "--heads", str(heads), "--dim", str(dim),
            "--block-q", str(block_q), "--block-k", str(block_k)]
    args += ["--causal"] if causal else []
    args += ["--padded"] if padded else []
    return json.loads(subprocess.check_output(args))


class LmcAttention:
    def __init__(self, tool, heads, dim, causal, padded, dtype):
        block_k = 64 if dim > 64 else 128  # lmc-form-kernels' tile shape
        spec = emit(tool, heads, dim, causal, padded, dtype, 128, block_k)
        module = cupy.RawModule(code=spec["source"], backend="nvrtc",
                                options=("--std=c++17",))
        self.kernel = module.get_function(spec["entry"])
        self.threads = spec["threads"]
        self.shared = spec["shared_bytes"]
        self.block_q = spec["block_q"]
        self.heads = heads
        if self.shared > 48 * 1024:
            self.kernel.max_dynamic_shared_size_bytes = self.shared

    def tiles(self, spans):
        """spans: (query_base, key_base, queries, keys) per sequence."""
        listed = []
        for query_base, key_base, queries, keys in spans:
            for start in range(0, queries, self.block_q):
                listed.append((keys, [query_base + start, min(self.block_q, queries - start),
                                      key_base, keys, start, 0, 0, 0]))
        listed.sort(key=lambda item: -item[0])
        return torch.tensor([t for _, t in listed], dtype=torch.int32, device="cuda")

    def __call__(self, q, k, v, out, tiles, lse=None):
        """lse: where the log-sum-exp goes (f32 [rows, heads]); scratch if None."""
        rows = q.numel() // q.shape[-1] // self.heads
        if lse is None:
            lse = torch.empty(rows * self.heads, dtype=torch.float32, device="cuda")
        count = tiles.shape[0]
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.kernel((count, self.heads), (self.threads,),
                        (np.uint64(q.data_ptr()), np.uint64(k.data_ptr()),
                         np.uint64(v.data_ptr()), np.uint64(out.data_ptr()),
                         np.uint64(lse.data_ptr()), np.uint64(tiles.data_ptr()),
                         np.int32(count)),
                        shared_mem=self.shared)
        return out


def reference(q, k, v, causal):
    """q, k, v: [S, H, D] of one sequence -> [S, H, D] in float32."""
    out = F.scaled_dot_product_attention(q.float().transpose(0, 1)[None],
                                         k.float().transpose(0, 1)[None],
                                         v.float().transpose(0, 1)[None], is_causal=causal)
    return out[0].transpose(0, 1)


def relative_l2(a, b):
    return float((a.float() - b.float()).norm() / b.float().norm().clamp_min(1e-30))


def check_packed(tool, dtype, heads, dim, causal, lengths):
    lmc = LmcAttention(tool, heads, dim, causal, False, dtype)
    total = sum(lengths)
    q, k, v = (torch.randn(total, heads, dim, dtype=DTYPES[dtype], device="cuda") for _ in range(3))
    out = torch.full_like(q, float("nan"))
    starts = np.cumsum([0] + lengths)
    tiles = lmc.tiles([(int(starts[i]), int(starts[i]), n, n) for i, n in enumerate(lengths)])
    lmc(q, k, v, out, tiles)
    torch.cuda.synchronize()
    expected = torch.cat([reference(q[s:s + n], k[s:s + n], v[s:s + n], causal)
                          for s, n in zip(starts[:-1], lengths)])
    return relative_l2(out, expected)


def check_padded(tool, dtype, heads, dim, lengths, padded_length):
    lmc = LmcAttention(tool, heads, dim, False, True, dtype)
    batch = len(lengths)
    q, k, v = (torch.randn(batch, padded_length, heads, dim, dtype=DTYPES[dtype], device="cuda")
               for _ in range(3))
    out = torch.full_like(q, float("nan"))
    tiles = lmc.tiles([(b * padded_length, b * padded_length, padded_length, n)
                       for b, n in enumerate(lengths)])
    lmc(q, k, v, out, tiles)
    torch.cuda.synchronize()
    mask = torch.zeros(batch, 1, 1, padded_length, dtype=torch.bool, device="cuda")
    for b, n in enumerate(lengths):
        mask[b, :, :, :n] = True
    expected = F.scaled_dot_product_attention(q.float().transpose(1, 2), k.float().transpose(1, 2),
                                              v.float().transpose(1, 2), attn_mask=mask)
    # A sequence without keys: PyTorch gives NaN rows, lmc (and its CPU
    # backend) zeros.
    return relative_l2(out, torch.nan_to_num(expected.transpose(1, 2), nan=0.0))


def attention_flops(lengths, heads, dim, causal):
    flops = sum(4 * n * n * heads * dim for n in lengths)
    return flops / 2 if causal else flops


def time_dense(tool, batch, heads, sequence, dim, causal):
    lmc = LmcAttention(tool, heads, dim, causal, False, "f16")
    q, k, v = (torch.randn(batch * sequence, heads, dim, dtype=torch.float16, device="cuda")
               for _ in range(3))
    out = torch.empty_like(q)
    tiles = lmc.tiles([(b * sequence, b * sequence, sequence, sequence) for b in range(batch)])
    lmc_ms = do_bench(lambda: lmc(q, k, v, out, tiles), warmup=25, rep=200, return_mode="median")
    qt, kt, vt = (x.view(batch, sequence, heads, dim).transpose(1, 2) for x in (q, k, v))
    times = {}
    backends = {"flash": torch.nn.attention.SDPBackend.FLASH_ATTENTION,
                "cudnn": torch.nn.attention.SDPBackend.CUDNN_ATTENTION}
    for name, backend in backends.items():
        try:
            with torch.nn.attention.sdpa_kernel(backend):
                times[name] = do_bench(lambda: F.scaled_dot_product_attention(
                    qt, kt, vt, is_causal=causal), warmup=25, rep=200, return_mode="median")
        except RuntimeError:
            times[name] = float("nan")
    flops = attention_flops([sequence] * batch, heads, dim, causal)
    return lmc_ms, times, flops


def time_varlen(tool, lengths, heads, dim):
    lmc = LmcAttention(tool, heads, dim, False, False, "f16")
    total = sum(lengths)
    q, k, v = (torch.randn(total, heads, dim, dtype=torch.float16, device="cuda") for _ in range(3))
    out = torch.empty_like(q)
    starts = np.cumsum([0] + lengths)
    tiles = lmc.tiles([(int(starts[i]), int(starts[i]), n, n) for i, n in enumerate(lengths)])
    cu = torch.tensor(starts, dtype=torch.int32, device="cuda")
    longest = max(lengths)
    lmc_ms = do_bench(lambda: lmc(q, k, v, out, tiles), warmup=25, rep=200, return_mode="median")
    torch_ms = do_bench(lambda: torch.ops.aten._flash_attention_forward(
        q, k, v, cu, cu, longest, longest, 0.0, False, False), warmup=25, rep=200, return_mode="median")
    return lmc_ms, torch_ms, attention_flops(lengths, heads, dim, False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, help="path to lmc-emit-attention")
    args = parser.parse_args()
    torch.manual_seed(0)
    failures = 0
    mix = length_mix()
    short = [1, 7, 128, 129, 300, 64, 513]
    cases = [("packed f16 d128", lambda: check_packed(args.tool, "f16", 16, 128, False, short)),
             ("packed f16 d64 causal", lambda: check_packed(args.tool, "f16", 12, 64, True, short)),
             ("packed bf16 d128 causal", lambda: check_packed(args.tool, "bf16", 8, 128, True, short)),
             ("padded f16 d64", lambda: check_padded(args.tool, "f16", 8, 64, [5, 200, 256, 0], 256))]
    for name, run in cases:
        error = run()
        ok = error < 3e-3
        failures += not ok
        print(f"check\t{name}\t{error:.2e}\t{'ok' if ok else 'FAIL'}")
    for batch, heads, sequence, dim, causal in [(16, 16, 512, 64, False), (4, 16, 2048, 128, False),
                                                (4, 16, 2048, 128, True), (1, 32, 8192, 128, False),
                                                (1, 32, 8192, 128, True), (8, 16, 2048, 64, False)]:
        lmc_ms, times, flops = time_dense(args.tool, batch, heads, sequence, dim, causal)
        best = min(t for t in times.values() if not math.isnan(t))
        print(f"time\t{batch},{heads},{sequence},{dim}{' causal' if causal else ''}\t"
              f"{flops / lmc_ms / 1e9:.0f}\t{flops / times['flash'] / 1e9:.0f}\t"
              f"{flops / times['cudnn'] / 1e9:.0f}\t{best / lmc_ms:.2f}")
    lmc_ms, torch_ms, flops = time_varlen(args.tool, mix, 16, 128)
    print(f"varlen\t64 seqs mean {sum(mix) / 64:.0f} max {max(mix)}\t{lmc_ms:.3f}\t{torch_ms:.3f}\t"
          f"{flops / lmc_ms / 1e9:.0f}\t{torch_ms / lmc_ms:.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
