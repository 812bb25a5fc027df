#!/usr/bin/env python3
"""PyTorch eager over packed tokens: the same 4-layer BERT-base-width encoder
as bench/specs/bert_base_encoder.yaml (768 wide, 12 heads of 64, FFN 3072,
tanh GELU, post-LayerNorm, mean pooling), fp16, linear layers on [T, D] and
varlen flash attention with cu_seqlens. Prints the median milliseconds of
one forward over the lengths given (one per line on stdin)."""
import sys

import torch
import torch.nn.functional as F
from triton.testing import do_bench

WIDTH, HEADS, FFN, LAYERS, VOCAB = 768, 12, 3072, 4, 30522
lengths = [int(line) for line in sys.stdin if line.strip()]
tokens = sum(lengths)
device, dtype = "cuda", torch.float16
cu = torch.tensor([0] + list(torch.tensor(lengths).cumsum(0)), dtype=torch.int32, device=device)
longest = max(lengths)
ids = torch.randint(0, VOCAB, (tokens,), device=device)
segment = torch.repeat_interleave(torch.arange(len(lengths), device=device),
                                  torch.tensor(lengths, device=device))
table = torch.randn(VOCAB, WIDTH, device=device, dtype=dtype) * 0.02


def linear(rows, columns):
    return (torch.randn(columns, rows, device=device, dtype=dtype) * 0.02,
            torch.zeros(columns, device=device, dtype=dtype))


layers = [dict(qkv=linear(WIDTH, 3 * WIDTH), out=linear(WIDTH, WIDTH), up=linear(WIDTH, FFN),
               down=linear(FFN, WIDTH), ln1=(torch.ones(WIDTH, device=device, dtype=dtype),
                                              torch.zeros(WIDTH, device=device, dtype=dtype)),
               ln2=(torch.ones(WIDTH, device=device, dtype=dtype),
                    torch.zeros(WIDTH, device=device, dtype=dtype))) for _ in range(LAYERS)]


def forward():
    x = table[ids]
    for layer in layers:
        q, k, v = F.linear(x, *layer["qkv"]).view(tokens, 3, HEADS, WIDTH // HEADS).unbind(1)
        attended = torch.ops.aten._flash_attention_forward(q, k, v, cu, cu, longest, longest,
                                                           0.0, False, False)[0]
        x = F.layer_norm(x + F.linear(attended.reshape(tokens, WIDTH), *layer["out"]), (WIDTH,),
                         *layer["ln1"], eps=1e-12)
        hidden = F.gelu(F.linear(x, *layer["up"]), approximate="tanh")
        x = F.layer_norm(x + F.linear(hidden, *layer["down"]), (WIDTH,), *layer["ln2"], eps=1e-12)
    pooled = torch.zeros(len(lengths), WIDTH, device=device, dtype=torch.float32)
    pooled.index_add_(0, segment, x.float())
    return pooled / torch.tensor(lengths, device=device)[:, None]


with torch.no_grad():
    milliseconds = do_bench(forward, warmup=25, rep=300, return_mode="median")
    print(f"{milliseconds:.3f}")
