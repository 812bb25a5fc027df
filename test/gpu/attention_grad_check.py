#!/usr/bin/env python3
"""lmc's attention backward (lmc.attention_grad) next to PyTorch on one GPU.

Correctness: packed sequences (several lengths, causal or not, grouped-query
heads) against torch autograd through scaled_dot_product_attention, all in
float32: lmc's two backward kernels get PyTorch's output and log-sum-exp and
a random output gradient; dQ, dK and dV are poisoned with NaN first.

Timing: a training step's attention, forward + backward, as lmc runs it
(the f16 tensor-core forward writing the log-sum-exp, then the f32 backward
kernels mixed precision keeps) against PyTorch's flash backend forward +
backward in f16, median of several runs (triton.testing.do_bench). FLOPs
count the backward as 2.5 forwards (FlashAttention-2's convention), halved
when causal. lmc's backward is a plain f32 kernel (no tensor cores), so the
large shape runs once; if the small one already takes over 2 s it is
skipped. Prints TSV rows the shell script turns into a table.
"""
import argparse
import json
import math
import subprocess
import sys
import time

import cupy
import numpy as np
import torch
import torch.nn.functional as F
from triton.testing import do_bench

from attention_check import LmcAttention, relative_l2


class LmcAttentionGrad:
    def __init__(self, tool, heads, key_heads, dim, causal):
        block_k = 64 if dim > 64 else 128
        spec = json.loads(subprocess.check_output(
            [tool, "--backward", "--heads", str(heads), "--key-heads", str(key_heads),
             "--dim", str(dim), "--block-q", "128", "--block-k", str(block_k)]
            + (["--causal"] if causal else [])))
        module = cupy.RawModule(code=spec["source"], backend="nvrtc", options=("--std=c++17",))
        self.dq = module.get_function(spec["dq"])
        self.dkdv = module.get_function(spec["dkdv"])
        self.threads = spec["threads"]
        self.block_q = spec["block_q"]
        self.heads, self.key_heads = heads, key_heads

    def tiles(self, lengths):
        """The forward's tile list (runtime/src/cuda/CudaBackend.cpp)."""
        starts = np.cumsum([0] + lengths)
        listed = []
        for start, n in zip(starts[:-1], lengths):
            for first in range(0, n, self.block_q):
                listed.append((n, [int(start) + first, min(self.block_q, n - first), int(start), n,
                                   first, 0, 0, 0]))
        listed.sort(key=lambda item: -item[0])
        return torch.tensor([t for _, t in listed], dtype=torch.int32, device="cuda")

    def __call__(self, q, k, v, out, lse, dout, dq, dk, dv, tiles):
        count = tiles.shape[0]
        pointer = lambda t: np.uint64(t.data_ptr())
        inputs = tuple(pointer(t) for t in (q, k, v, out, lse, dout))
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.dq((count, self.heads), (self.threads,),
                    inputs + (pointer(dq), pointer(tiles), np.int32(count)))
            self.dkdv((count, self.key_heads), (self.threads,),
                      inputs + (pointer(dk), pointer(dv), pointer(tiles), np.int32(count)))


def sequence_reference(q, k, v, dout, causal):
    """One sequence [S, H, D] (f32): output, log-sum-exp [S, H], dq, dk, dv."""
    group = q.shape[1] // k.shape[1]
    q, k, v = (x.detach().clone().requires_grad_() for x in (q, k, v))
    kr, vr = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
    qt, kt, vt = (x.transpose(0, 1) for x in (q, kr, vr))
    out = F.scaled_dot_product_attention(qt[None], kt[None], vt[None], is_causal=causal)[0]
    out.transpose(0, 1).backward(dout)
    scores = (qt @ kt.transpose(1, 2)) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[0]
        scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool, device="cuda").triu(1),
                                    float("-inf"))
    lse = torch.logsumexp(scores, dim=-1).transpose(0, 1)
    return out.transpose(0, 1).detach(), lse.detach(), q.grad, k.grad, v.grad


def check(tool, heads, key_heads, dim, causal, lengths):
    lmc = LmcAttentionGrad(tool, heads, key_heads, dim, causal)
    total = sum(lengths)
    q = torch.randn(total, heads, dim, device="cuda")
    k, v = (torch.randn(total, key_heads, dim, device="cuda") for _ in range(2))
    dout = torch.randn(total, heads, dim, device="cuda")
    starts = np.cumsum([0] + lengths)
    parts = [sequence_reference(q[s:s + n], k[s:s + n], v[s:s + n], dout[s:s + n], causal)
             for s, n in zip(starts[:-1], lengths)]
    out, lse, dq_ref, dk_ref, dv_ref = (torch.cat([p[i] for p in parts]) for i in range(5))
    dq, dk, dv = (torch.full_like(x, float("nan")) for x in (q, k, v))
    lmc(q, k, v, out.contiguous(), lse.contiguous(), dout, dq, dk, dv, lmc.tiles(lengths))
    torch.cuda.synchronize()
    return max(relative_l2(dq, dq_ref), relative_l2(dk, dk_ref), relative_l2(dv, dv_ref))


def time_step(tool, heads, sequence, dim, causal, once):
    """One sequence: lmc forward (f16) + backward (f32) against flash (f16)."""
    forward = LmcAttention(tool, heads, dim, causal, False, "f16")
    backward = LmcAttentionGrad(tool, heads, heads, dim, causal)
    q, k, v = (torch.randn(sequence, heads, dim, dtype=torch.float16, device="cuda")
               for _ in range(3))
    out = torch.empty_like(q)
    # About the log-sum-exp of unit-variance scores, so P stays finite.
    lse = torch.full((sequence, heads), math.log(sequence) + 0.5, device="cuda")
    q32, k32, v32, dout = (torch.randn(sequence, heads, dim, device="cuda") for _ in range(4))
    out32 = torch.randn_like(q32)
    dq, dk, dv = (torch.empty_like(x) for x in (q32, k32, v32))
    forward_tiles = forward.tiles([(0, 0, sequence, sequence)])
    backward_tiles = backward.tiles([sequence])

    def lmc_step():
        forward(q, k, v, out, forward_tiles)
        backward(q32, k32, v32, out32, lse, dout, dq, dk, dv, backward_tiles)

    if once:
        lmc_step()
        torch.cuda.synchronize()
        start = time.perf_counter()
        lmc_step()
        torch.cuda.synchronize()
        lmc_ms = (time.perf_counter() - start) * 1e3
    else:
        lmc_ms = do_bench(lmc_step, warmup=3, rep=50, return_mode="median")
    qt, kt, vt = (x.view(1, sequence, heads, dim).transpose(1, 2).detach().requires_grad_()
                  for x in (q, k, v))
    grad = torch.randn(1, heads, sequence, dim, dtype=torch.float16, device="cuda")

    def torch_step():
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
            F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal).backward(grad)

    torch_ms = do_bench(torch_step, warmup=10, rep=100, return_mode="median")
    flops = 3.5 * 4 * sequence * sequence * heads * dim * (0.5 if causal else 1.0)
    return lmc_ms, torch_ms, flops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, help="path to lmc-emit-attention")
    args = parser.parse_args()
    torch.manual_seed(0)
    failures = 0
    lengths = [1, 7, 128, 129, 300]
    for name, heads, key_heads, dim, causal in [("d64", 8, 8, 64, False),
                                                ("d128 causal", 8, 8, 128, True),
                                                ("d64 causal GQA 8/2", 8, 2, 64, True)]:
        error = check(args.tool, heads, key_heads, dim, causal, lengths)
        ok = error < 1e-4
        failures += not ok
        print(f"check\tattention backward f32 {name}\t{error:.2e}\t\t\t{'ok' if ok else 'FAIL'}")
    small_ms = None
    for heads, sequence, dim, causal in [(32, 2048, 128, False), (32, 8192, 128, False),
                                         (32, 8192, 128, True)]:
        large = sequence > 2048
        if large and small_ms is not None and small_ms > 2000:
            print(f"train-attn\t1,{heads},{sequence},{dim}{' causal' if causal else ''} fwd+bwd"
                  f"\tskipped: {small_ms:.0f} ms at S=2048\t\t\t")
            continue
        lmc_ms, torch_ms, flops = time_step(args.tool, heads, sequence, dim, causal, once=large)
        if not large:
            small_ms = lmc_ms
        print(f"train-attn\t1,{heads},{sequence},{dim}{' causal' if causal else ''} fwd+bwd "
              f"(TFLOP/s)\t{flops / lmc_ms / 1e9:.0f}\t{flops / torch_ms / 1e9:.0f}\t\t"
              f"{torch_ms / lmc_ms:.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
