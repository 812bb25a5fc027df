#!/usr/bin/env python3
"""lmc's CPU backend against the best CPU peers, on the same model, weights and examples.

The model is bench/specs/bert_base_encoder.yaml: 4 post-LayerNorm layers of
BERT-base width (768 wide, 12 heads of 64, FFN 3072, tanh GELU), mean pooled.
Two example sets:

  mixed  8 sequences, log-normal lengths up to 4,096 (5,200 real tokens; 84%
         of a padded batch would be padding)
  equal  16 sequences of 256 tokens (no padding)

Peers, each written as its users write it:
  PyTorch packed        linear layers over the packed [tokens, 768] rows,
                        attention per sequence with scaled_dot_product_attention
  PyTorch per sequence  the whole model on one [1, L] sequence at a time
  PyTorch padded        one [B, S] batch with a key-padding mask (SDPA)
  ONNX Runtime          the per-sequence model exported to ONNX, run per sequence
  JAX                   jax.jit per sequence (compiled once per length, untimed)

lmc runs the packed package warm through build/bin/lmc-bench (`model/...`,
packing included, packing length 4096, overlong sequences alone), in fp32,
fp16 and bf16 storage. Every peer's embeddings are checked against PyTorch
packed before timing. Rounds are interleaved (each round times every
entrant once) and the table reports medians.

    pip install torch onnxruntime jax numpy onnx
    python3 bench/cpu_vs_peers.py --build build [--rounds 5] [--threads N]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

from bench_data import read_safetensors, write_token_sets

LAYERS, HEADS, HEAD_DIM, FFN, VOCAB = 4, 12, 64, 3072, 30522
WIDTH = HEADS * HEAD_DIM
# The same list as kLongLengths in bench/lmc_bench.cpp.
SETS = {"mixed": [4096, 412, 236, 171, 98, 77, 61, 49], "equal": [256] * 16}
PACKING_LENGTH = 4096


def model_flops(lengths):
    """Multiply-adds x 2 of the encoder on these sequences, padding excluded."""
    per_token = LAYERS * (2 * 4 * WIDTH * WIDTH + 2 * 2 * WIDTH * FFN)
    attention = sum(LAYERS * 4 * n * n * WIDTH for n in lengths)
    return per_token * sum(lengths) + attention


# ---------------------------------------------------------------- PyTorch


def torch_model(weights, torch):
    """The encoder in PyTorch: functions over the same weight arrays."""
    F = torch.nn.functional
    w = {k: torch.from_numpy(v) for k, v in weights.items()}

    def p(i, name):
        return w[f"encoder.layer{i}.{name}"]

    def layer_norm(x, i, which):
        return F.layer_norm(x, (WIDTH,), p(i, f"{which}.gamma"), p(i, f"{which}.beta"), 1e-12)

    def projections(x, i):
        return [torch.addmm(p(i, f"attn.b{n}"), x, p(i, f"attn.w{n}")) for n in "qkv"]

    def finish(x, attention, i):
        x = layer_norm(x + torch.addmm(p(i, "attn.bo"), attention, p(i, "attn.wo")), i, "ln1")
        h = F.gelu(torch.addmm(p(i, "ffn.b1"), x, p(i, "ffn.w1")), approximate="tanh")
        return layer_norm(x + torch.addmm(p(i, "ffn.b2"), h, p(i, "ffn.w2")), i, "ln2")

    def heads(t, batch):  # [B*S, 768] -> [B, H, S, D]
        return t.view(batch, -1, HEADS, HEAD_DIM).transpose(1, 2)

    def packed(ids, offsets):
        """ids: [T]; offsets: cu_seqlens as a list. -> [N, 768]"""
        x = w["emb.tokens"][ids]
        for i in range(LAYERS):
            q, k, v = projections(x, i)
            outs = []
            for b in range(len(offsets) - 1):
                s = slice(offsets[b], offsets[b + 1])
                o = F.scaled_dot_product_attention(heads(q[s], 1), heads(k[s], 1), heads(v[s], 1))
                outs.append(o.transpose(1, 2).reshape(-1, WIDTH))
            x = finish(x, torch.cat(outs), i)
        return torch.stack([x[offsets[b]:offsets[b + 1]].mean(0)
                            for b in range(len(offsets) - 1)])

    def padded(ids, lengths):
        """ids: [B, S] (0 past each length); lengths: [B]. -> [B, 768]"""
        batch, seq = ids.shape
        keep = torch.arange(seq)[None, :] < lengths[:, None]
        mask = keep[:, None, None, :]
        x = w["emb.tokens"][ids].view(-1, WIDTH)
        for i in range(LAYERS):
            q, k, v = projections(x, i)
            o = F.scaled_dot_product_attention(heads(q, batch), heads(k, batch), heads(v, batch),
                                               attn_mask=mask)
            x = finish(x, o.transpose(1, 2).reshape(-1, WIDTH), i)
        x = x.view(batch, seq, WIDTH) * keep[..., None]
        return x.sum(1) / lengths[:, None]

    class PerSequence(torch.nn.Module):
        """One [1, L] sequence -> [1, 768]; what ONNX Runtime gets."""

        def forward(self, ids):
            x = w["emb.tokens"][ids[0]]
            for i in range(LAYERS):
                q, k, v = projections(x, i)
                o = F.scaled_dot_product_attention(heads(q, 1), heads(k, 1), heads(v, 1))
                x = finish(x, o.transpose(1, 2).reshape(-1, WIDTH), i)
            return x.mean(0, keepdim=True)

    return packed, padded, PerSequence()


# ---------------------------------------------------------------- JAX


def jax_model(weights):
    import jax
    import jax.numpy as jnp
    w = {k: jnp.asarray(v) for k, v in weights.items()}

    def layer_norm(x, gamma, beta):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + 1e-12) * gamma + beta

    def one(w, ids):
        x = w["emb.tokens"][ids]
        n = ids.shape[0]
        for i in range(LAYERS):
            p = lambda name: w[f"encoder.layer{i}.{name}"]
            q, k, v = ((x @ p(f"attn.w{c}") + p(f"attn.b{c}")).reshape(n, HEADS, HEAD_DIM)
                       for c in "qkv")
            scores = jnp.einsum("qhd,khd->hqk", q, k) / jnp.sqrt(float(HEAD_DIM))
            o = jnp.einsum("hqk,khd->qhd", jax.nn.softmax(scores, -1), v).reshape(n, WIDTH)
            x = layer_norm(x + o @ p("attn.wo") + p("attn.bo"), p("ln1.gamma"), p("ln1.beta"))
            h = jax.nn.gelu(x @ p("ffn.w1") + p("ffn.b1"), approximate=True)
            x = layer_norm(x + h @ p("ffn.w2") + p("ffn.b2"), p("ln2.gamma"), p("ln2.beta"))
        return x.mean(0)

    jitted = jax.jit(one)

    def run(sequences):
        outs = [jitted(w, jnp.asarray(s, jnp.int32)) for s in sequences]
        return np.stack([np.asarray(o.block_until_ready()) for o in outs])

    return run, jax.__version__


# ---------------------------------------------------------------- lmc


def lmc_bench(build, data, packages, weights, threads):
    """Warm lmc times (ms) per (precision, set), one lmc-bench process each."""
    times = {}
    for precision, package in packages.items():
        command = [os.path.join(build, "bin", "lmc-bench"), "--package", package,
                   "--weights", weights, "--packing-length", str(PACKING_LENGTH),
                   "--overlong", "alone", "--benchmark_filter=model/",
                   "--benchmark_min_time=1s", "--benchmark_format=json"]
        for name in SETS:
            command += ["--examples", f"{name}={data}/{name}.jsonl"]
        if threads:
            command += ["--threads", str(threads)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        for bench in json.loads(out)["benchmarks"]:
            times[(precision, bench["name"].split("/")[1])] = bench["real_time"]
    return times


def lmc_outputs(lmc, package, weights, examples, threads):
    command = [lmc, "run", package, "--weights", weights, "--input", examples,
               "--packing-length", str(PACKING_LENGTH), "--overlong", "alone",
               "--backend", "cpu"]
    if threads:
        command += ["--threads", str(threads)]
    start = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - start
    return np.array([json.loads(line)["embedding"] for line in out.splitlines()]), elapsed


def relative_l2(got, want):
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0,
                        help="threads for every entrant (default: every processor)")
    parser.add_argument("--skip", default="", help="comma-separated peers to leave out: "
                        "onnxruntime,jax")
    args = parser.parse_args()
    threads = args.threads or os.cpu_count()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    skip = set(filter(None, args.skip.split(",")))

    import torch
    torch.set_num_threads(threads)

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lmc = os.path.join(args.build, "bin", "lmc")
    data = os.path.join(args.build, "bench-data", "peers")
    os.makedirs(data, exist_ok=True)
    spec = os.path.join(root, "bench", "specs", "bert_base_encoder.yaml")
    packages = {}
    for precision in ("fp32", "fp16", "bf16"):
        packages[precision] = f"{data}/encoder_{precision}.lmcpkg"
        subprocess.run([lmc, "compile", spec, "--target=cpu", f"--precision={precision}",
                        f"--max-sequence={PACKING_LENGTH}", "-o", packages[precision]],
                       check=True, stderr=subprocess.DEVNULL)
    # One set of f32 weights; lmc converts them to each package's storage.
    weights = f"{data}/weights.safetensors"
    subprocess.run([lmc, "init-weights", packages["fp32"], "--seed", "1", "-o", weights],
                   check=True)
    w = read_safetensors(weights)

    sequences = write_token_sets(data, SETS, VOCAB)

    packed, padded, per_sequence = torch_model(w, torch)
    runners = {}
    for name, seqs in sequences.items():
        ids = torch.tensor([t for s in seqs for t in s])
        offsets = [0]
        for s in seqs:
            offsets.append(offsets[-1] + len(s))
        longest = max(len(s) for s in seqs)
        pad_ids = torch.zeros(len(seqs), longest, dtype=torch.long)
        for b, s in enumerate(seqs):
            pad_ids[b, :len(s)] = torch.tensor(s)
        lengths = torch.tensor([len(s) for s in seqs])
        one = [torch.tensor([s]) for s in seqs]
        runners[name] = {
            "PyTorch packed": lambda ids=ids, offsets=offsets: packed(ids, offsets).numpy(),
            "PyTorch per sequence":
                lambda one=one: torch.cat([per_sequence(x) for x in one]).numpy(),
            "PyTorch padded":
                lambda pad_ids=pad_ids, lengths=lengths: padded(pad_ids, lengths).numpy(),
        }
    versions = [f"torch {torch.__version__}"]

    if "onnxruntime" not in skip:
        import onnxruntime
        onnx_path = f"{data}/encoder.onnx"
        torch.onnx.export(per_sequence, (torch.tensor([sequences["equal"][0]]),), onnx_path,
                          dynamo=False, input_names=["ids"], output_names=["embedding"],
                          dynamic_axes={"ids": {1: "length"}})
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(onnx_path, options,
                                               providers=["CPUExecutionProvider"])
        for name, seqs in sequences.items():
            one = [np.array([s], np.int64) for s in seqs]
            runners[name]["ONNX Runtime per sequence"] = lambda one=one: np.concatenate(
                [session.run(None, {"ids": x})[0] for x in one])
        versions.append(f"onnxruntime {onnxruntime.__version__}")

    if "jax" not in skip:
        run_jax, jax_version = jax_model(w)
        for name, seqs in sequences.items():
            runners[name]["JAX per sequence"] = lambda seqs=seqs: run_jax(seqs)
        versions.append(f"jax {jax_version}")

    # Same weights, same examples: every entrant's embeddings must agree.
    errors, cold = {}, {}
    with torch.inference_mode():
        for name in SETS:
            want = runners[name]["PyTorch packed"]()
            for peer, runner in runners[name].items():
                errors[(peer, name)] = relative_l2(runner(), want)  # also warms up
            for precision in packages:
                got, cold[(precision, name)] = lmc_outputs(lmc, packages[precision], weights,
                                                           f"{data}/{name}.jsonl", args.threads)
                errors[(f"lmc {precision}", name)] = relative_l2(got, want)
    for key, error in sorted(errors.items()):
        print(f"{key[0]:>26} vs PyTorch packed, {key[1]}: relative L2 {error:.1e}",
              file=sys.stderr)
        limit = 2e-2 if "fp16" in key[0] or "bf16" in key[0] else 1e-4
        assert error < limit, f"{key[0]} disagrees with PyTorch on {key[1]}: {error:.2e}"

    times = {}
    with torch.inference_mode():
        for round_index in range(args.rounds):
            for (precision, name), ms in lmc_bench(args.build, data, packages, weights,
                                                   args.threads).items():
                times.setdefault((f"lmc {precision}", name), []).append(ms)
            for name in SETS:
                for peer, runner in runners[name].items():
                    start = time.perf_counter()
                    runner()
                    times.setdefault((peer, name), []).append(
                        (time.perf_counter() - start) * 1e3)
            print(f"round {round_index + 1} of {args.rounds} done", file=sys.stderr)
    median = {key: statistics.median(values) for key, values in times.items()}

    peers = [p for p in runners["mixed"]]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"Encoder: {LAYERS} layers, width {WIDTH}, {HEADS} heads of {HEAD_DIM}, FFN {FFN}, "
          f"GELU; same weights and examples; {cpu}, {threads} threads; "
          f"{', '.join(versions)}; medians of {args.rounds} interleaved rounds; lmc warm "
          f"(lmc-bench), packing length {PACKING_LENGTH}.\n")
    header = ["set", "real tokens", "lmc fp32 (ms)", "lmc fp16", "lmc bf16"] + \
        [f"{p} (ms)" for p in peers] + ["best peer / lmc fp32", "lmc useful GFLOP/s",
                                        "`lmc run` process (s)"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for name, lengths in SETS.items():
        lmc_ms = median[("lmc fp32", name)]
        best = min(median[(p, name)] for p in peers)
        row = [name, str(sum(lengths))]
        row += [f"{median[(f'lmc {p}', name)]:.0f}" for p in ("fp32", "fp16", "bf16")]
        row += [f"{median[(p, name)]:.0f}" for p in peers]
        row += [f"{best / lmc_ms:.2f}x", f"{model_flops(lengths) / lmc_ms / 1e6:.0f}",
                f"{cold[('fp32', name)]:.2f}"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
