#!/usr/bin/env python3
"""lmc's CPU backend against JAX on the CPU: one encoder, one run, side by side.

Compiles bench/specs/encoder.yaml with lmc twice (packed, and --packing=false
for padded), generates weights with `lmc init-weights`, writes two example
sets (the log-normal length mix with 84% padding, and equal lengths), checks
that JAX and lmc compute the same embeddings from the same weights, then
times lmc (build/bin/lmc-bench, Google Benchmark) and the same encoder in JAX
(jax.jit on the CPU, padded with a key mask, as a JAX user writes it) and
prints a Markdown table of the ratios.

    python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax numpy
    /tmp/jaxenv/bin/python bench/encoder_vs_jax.py --build build
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from bench_data import read_safetensors, write_token_sets

# The same list as kMixedLengths in bench/lmc_bench.cpp.
MIXED = [12, 390, 23, 21, 76, 51, 25, 210, 430, 43, 58, 31, 33, 69, 8, 42, 16, 21, 64, 13,
         26, 20, 171, 63, 15, 22, 91, 13, 67, 19, 32, 8]
LAYERS, HEADS, HEAD_DIM, VOCAB = 2, 4, 64, 8000


def run(*command):
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + 1e-12) * gamma + beta


def encoder(w, ids, lengths):
    """Padded [B, S] ids -> mean-pooled [B, 256] embeddings."""
    batch, seq = ids.shape
    mask = jnp.arange(seq)[None, :] < lengths[:, None]
    x = w["emb.tokens"][ids]
    for i in range(LAYERS):
        p = lambda name: w[f"encoder.layer{i}.{name}"]
        heads = lambda t: t.reshape(batch, seq, HEADS, HEAD_DIM)
        q, k, v = (heads(x @ p(f"attn.w{n}") + p(f"attn.b{n}")) for n in "qkv")
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(float(HEAD_DIM))
        scores = jnp.where(mask[:, None, None, :], scores, -1e30)
        attention = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, -1), v)
        x = layer_norm(x + attention.reshape(batch, seq, -1) @ p("attn.wo") + p("attn.bo"),
                       p("ln1.gamma"), p("ln1.beta"))
        h = jax.nn.gelu(x @ p("ffn.w1") + p("ffn.b1"), approximate=True)
        x = layer_norm(x + h @ p("ffn.w2") + p("ffn.b2"), p("ln2.gamma"), p("ln2.beta"))
    summed = (x * mask[..., None]).sum(1)
    return summed / lengths[:, None].astype(x.dtype)


def padded(sequences):
    longest = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), longest), np.int32)
    for b, s in enumerate(sequences):
        ids[b, :len(s)] = s
    return jnp.asarray(ids), jnp.asarray([len(s) for s in sequences], jnp.int32)


def time_jax(function, weights, ids, lengths, repeats):
    function(weights, ids, lengths).block_until_ready()  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(weights, ids, lengths).block_until_ready()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lmc = os.path.join(args.build, "bin", "lmc")
    data = os.path.join(args.build, "bench-data")
    os.makedirs(data, exist_ok=True)
    spec = os.path.join(root, "bench", "specs", "encoder.yaml")
    run(lmc, "compile", spec, "--target=cpu", "-o", f"{data}/encoder_packed.lmcpkg")
    run(lmc, "compile", spec, "--target=cpu", "--packing=false", "-o",
        f"{data}/encoder_padded.lmcpkg")
    run(lmc, "init-weights", f"{data}/encoder_packed.lmcpkg", "--seed", "1", "-o",
        f"{data}/weights.safetensors")

    mean = round(sum(MIXED) / len(MIXED))
    sets = {"mixed": MIXED, "equal": [mean] * len(MIXED)}
    sequences = write_token_sets(data, sets, VOCAB)

    weights = {k: jnp.asarray(v) for k, v in read_safetensors(f"{data}/weights.safetensors").items()}
    jitted = jax.jit(encoder)

    # Same weights, same examples: the embeddings must agree.
    out = subprocess.run([lmc, "run", f"{data}/encoder_packed.lmcpkg", "--weights",
                          f"{data}/weights.safetensors", "--input", f"{data}/mixed.jsonl"],
                         check=True, capture_output=True, text=True).stdout
    got = np.array([json.loads(line)["embedding"] for line in out.splitlines()])
    want = np.asarray(jitted(weights, *padded(sequences["mixed"])))
    error = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    print(f"lmc vs JAX embeddings, mixed set: relative L2 {error:.2e}", file=sys.stderr)
    assert error < 1e-4, "lmc and JAX disagree"

    bench = subprocess.run([os.path.join(args.build, "bin", "lmc-bench"), "--data", data,
                            "--benchmark_filter=encoder", "--benchmark_format=json"],
                           check=True, capture_output=True, text=True).stdout
    # Names carry a "/min_time:..." suffix.
    lmc_ms = {"/".join(b["name"].split("/")[:3]): b["real_time"]
              for b in json.loads(bench)["benchmarks"]}

    print(f"Encoder: {LAYERS} layers, width {HEADS * HEAD_DIM}, {HEADS} heads of {HEAD_DIM}, "
          f"FFN 1024, fp32; {len(MIXED)} sequences; {os.cpu_count()} CPU cores; "
          f"jax {jax.__version__}; lmc-vs-JAX relative L2 {error:.1e}.\n")
    print("| lengths | real tokens | padding | JAX padded (ms) | lmc padded (ms) | lmc packed (ms) "
          "| lmc packed vs JAX |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, lengths in sets.items():
        tokens, padded_tokens = sum(lengths), len(lengths) * max(lengths)
        jax_ms = time_jax(jitted, weights, *padded(sequences[name]), args.repeats)
        packed, pad = lmc_ms[f"encoder/packed/{name}"], lmc_ms[f"encoder/padded/{name}"]
        print(f"| {name} | {tokens} | {1 - tokens / padded_tokens:.0%} | {jax_ms:.1f} | {pad:.1f} "
              f"| {packed:.1f} | {jax_ms / packed:.2f}x |")


if __name__ == "__main__":
    main()
