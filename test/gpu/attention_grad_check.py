#!/usr/bin/env python3
"""lmc's attention backward (lmc.attention_grad) next to PyTorch on one GPU.

Correctness: packed sequences (several lengths, causal or not, grouped-query
heads) against torch autograd through scaled_dot_product_attention in
float32 on the same (rounded) inputs: lmc's two backward kernels (dQ, then
dK and dV) get PyTorch's output and log-sum-exp and a random output
gradient; dQ, dK and dV are poisoned with NaN first. In f16 the kernels run
on tensor cores (what a mixed-precision training step runs), in f32 they are
the plain kernels.

Timing: a training step's attention, forward + backward, as lmc runs it in
f16 (the tensor-core forward writing the log-sum-exp, then the tensor-core
backward reading it) against PyTorch's flash backend forward + backward in
f16, median of several runs (triton.testing.do_bench). FLOPs count the
backward as 2.5 forwards (FlashAttention-2's convention, although lmc's
backward computes S and dP twice), halved when causal. Prints TSV rows the
shell script turns into a table.
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

from attention_check import DTYPES, LmcAttention, relative_l2


class LmcAttentionGrad:
    def __init__(self, tool, heads, key_heads, dim, causal, dtype):
        block_k = 64 if dim > 64 else 128  # lmc-form-kernels' tile shape
        spec = json.loads(subprocess.check_output(
            [tool, "--backward", "--dtype", dtype, "--heads", str(heads),
             "--key-heads", str(key_heads), "--dim", str(dim), "--block-q", "128",
             "--block-k", str(block_k)] + (["--causal"] if causal else [])))
        module = cupy.RawModule(code=spec["source"], backend="nvrtc", options=("--std=c++17",))
        self.dq = module.get_function(spec["dq"])
        self.dkdv = module.get_function(spec["dkdv"])
        self.dq_shared, self.dkdv_shared = spec["dq_shared_bytes"], spec["dkdv_shared_bytes"]
        for function, shared in ((self.dq, self.dq_shared), (self.dkdv, self.dkdv_shared)):
            if shared > 48 * 1024:
                function.max_dynamic_shared_size_bytes = shared
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
        # rowsum(dO * O), from the dQ kernel to the dK/dV kernel (the
        # runtime's RowScratch).
        row_dots = torch.empty(q.shape[0] * self.heads, dtype=torch.float32, device="cuda")
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.dq((count, self.heads), (self.threads,),
                    inputs + (pointer(dq), pointer(row_dots), pointer(tiles), np.int32(count)),
                    shared_mem=self.dq_shared)
            self.dkdv((count, self.key_heads), (self.threads,),
                      inputs + (pointer(dk), pointer(dv), pointer(row_dots), pointer(tiles),
                                np.int32(count)),
                      shared_mem=self.dkdv_shared)


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


def check(tool, dtype, heads, key_heads, dim, causal, lengths):
    lmc = LmcAttentionGrad(tool, heads, key_heads, dim, causal, dtype)
    element = DTYPES.get(dtype, torch.float32)
    total = sum(lengths)
    # Inputs rounded to the kernels' type; the reference runs on f32 copies.
    q = torch.randn(total, heads, dim, device="cuda").to(element)
    k, v = (torch.randn(total, key_heads, dim, device="cuda").to(element) for _ in range(2))
    dout = torch.randn(total, heads, dim, device="cuda").to(element)
    starts = np.cumsum([0] + lengths)
    parts = [sequence_reference(*(x[s:s + n].float() for x in (q, k, v, dout)), causal)
             for s, n in zip(starts[:-1], lengths)]
    out, lse, dq_ref, dk_ref, dv_ref = (torch.cat([p[i] for p in parts]) for i in range(5))
    dq, dk, dv = (torch.full_like(x, float("nan")) for x in (q, k, v))
    lmc(q, k, v, out.to(element).contiguous(), lse.contiguous(), dout, dq, dk, dv,
        lmc.tiles(lengths))
    torch.cuda.synchronize()
    return max(relative_l2(dq.float(), dq_ref), relative_l2(dk.float(), dk_ref),
               relative_l2(dv.float(), dv_ref))


def time_step(tool, heads, sequence, dim, causal):
    """One sequence: lmc forward + backward (f16) against flash's (f16)."""
    forward = LmcAttention(tool, heads, dim, causal, False, "f16")
    backward = LmcAttentionGrad(tool, heads, heads, dim, causal, "f16")
    q, k, v, dout = (torch.randn(sequence, heads, dim, dtype=torch.float16, device="cuda")
                     for _ in range(4))
    out = torch.empty_like(q)
    lse = torch.empty(sequence, heads, dtype=torch.float32, device="cuda")
    dq, dk, dv = (torch.empty_like(x) for x in (q, k, v))
    forward_tiles = forward.tiles([(0, 0, sequence, sequence)])
    backward_tiles = backward.tiles([sequence])

    def lmc_step():
        forward(q, k, v, out, forward_tiles, lse)
        backward(q, k, v, out, lse, dout, dq, dk, dv, backward_tiles)

    lmc_ms = do_bench(lmc_step, warmup=3, rep=100, return_mode="median")
    qt, kt, vt = (x.view(1, sequence, heads, dim).transpose(1, 2).detach().requires_grad_()
                  for x in (q, k, v))
    grad = dout.view(1, sequence, heads, dim).transpose(1, 2).contiguous()

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
    # f32 (plain kernels) within 1e-4; f16 (tensor cores, P and dS rounded
    # to f16 before their products) within 2e-3.
    for dtype, bound, name, heads, key_heads, dim, causal in [
            ("f32", 1e-4, "d64", 8, 8, 64, False),
            ("f16", 2e-3, "d64", 8, 8, 64, False),
            ("f16", 2e-3, "d128 causal", 8, 8, 128, True),
            ("f16", 2e-3, "d64 causal GQA 8/2", 8, 2, 64, True),
            ("bf16", 2e-2, "d128 causal GQA 8/4", 8, 4, 128, True)]:
        error = check(args.tool, dtype, heads, key_heads, dim, causal, lengths)
        ok = error < bound
        failures += not ok
        print(f"check\tattention backward {dtype} {name}\t{error:.2e}\t\t\t{'ok' if ok else 'FAIL'}")
    for heads, sequence, dim, causal in [(32, 2048, 128, False), (32, 8192, 128, False),
                                         (32, 8192, 128, True)]:
        lmc_ms, torch_ms, flops = time_step(args.tool, heads, sequence, dim, causal)
        print(f"train-attn\t1,{heads},{sequence},{dim}{' causal' if causal else ''} fwd+bwd "
              f"(TFLOP/s)\t{flops / lmc_ms / 1e9:.0f}\t{flops / torch_ms / 1e9:.0f}\t\t"
              f"{torch_ms / lmc_ms:.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
