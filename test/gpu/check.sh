#!/usr/bin/env bash
# test/gpu/check.sh - lmc on a lent GPU, in one call (well under 6 minutes).
#
#   make build && bash test/gpu/prepare.sh   (build machine: the bundle)
#   bash test/gpu/check.sh [--dry-run]       (GPU machine, carrying build/gpu-bundle)
#
# 1. both examples on the CUDA and CPU backends, compared (fp16: relative L2
#    within 3e-3), and 8 training steps of the ranking example on both
#    (losses within 3e-3); the collective kernels through NCCL (PyTorch's
#    libnccl) on the GPU as one rank;
# 2. lmc's attention kernel against PyTorch SDPA on float32 copies: packed,
#    causal and padded, fresh random inputs, NaN-poisoned outputs; its
#    backward (lmc.attention_grad) against torch autograd;
# 3. lmc attention timed against PyTorch (flash, cuDNN, varlen flash) on the
#    shapes of the GPU anchors, forward + backward against flash's (the
#    313 TFLOP/s anchor at 1x32x8192x128), and the 4-layer BERT-base-width
#    encoder end to end against PyTorch eager over packed tokens; a table is
#    printed last.
# --dry-run runs every step that needs no GPU (the CPU runs, the emitter,
# script syntax): the script's own check, on the build machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
dry=false
[[ "${1:-}" == "--dry-run" ]] && dry=true
bundle=$PWD/${LMC_GPU_BUNDLE:-build/gpu-bundle}
[[ -x $bundle/bin/lmc-gpu-run ]] || { echo "check.sh: no bundle at $bundle (run test/gpu/prepare.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LMC_CACHE_DIR=$work/cache
# The bundle's libraries for lmc's binaries only (Python keeps its own).
lmc() { LD_LIBRARY_PATH=$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$bundle/bin/$@"; }
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/lib exec %s/bin/lmc-emit-attention "$@"\n' "$bundle" "$bundle" \
  > "$work/emit-attention"
chmod +x "$work/emit-attention"
table=$work/table.tsv
: > "$table"

echo "== 1. examples: CUDA vs CPU backend (fp16)"
python3 examples/make_bst_examples.py --count 256 --seed 3 > "$work/bst_ranker.jsonl"
python3 - "$work/text_encoder.jsonl" <<'PY'
import json, random, sys
random.seed(5)
with open(sys.argv[1], "w") as out:
    for _ in range(256):
        out.write(json.dumps({"tokens": [random.randrange(8000) for _ in range(random.randint(1, 300))]}) + "\n")
PY
for name in bst_ranker text_encoder; do
  lmc lmc-gpu-run "$bundle/packages/$name.lmcpkg" --seed 1 --backend cpu \
    < "$work/$name.jsonl" > "$work/$name.cpu.jsonl"
  $dry && continue
  lmc lmc-gpu-run "$bundle/packages/$name.lmcpkg" --seed 1 --backend cuda \
    < "$work/$name.jsonl" > "$work/$name.cuda.jsonl"
  error=$(python3 test/gpu/compare_outputs.py "$work/$name.cuda.jsonl" "$work/$name.cpu.jsonl") \
    && verdict=ok || verdict=FAIL
  printf 'check\t%s cuda vs cpu\t%s\t\t\t%s\n' "$name" "$error" "$verdict" >> "$table"
done

echo "== 1b. training: the ranking example's steps on CUDA vs the CPU backend (fp16)"
if $dry; then
  lmc lmc-gpu-train "$bundle/packages/bst_ranker_train.lmcpkg" --data "$work/bst_ranker.jsonl" \
    --steps 2 --seed 1 --cpu-only > /dev/null
else
  summary=$(lmc lmc-gpu-train "$bundle/packages/bst_ranker_train.lmcpkg" \
    --data "$work/bst_ranker.jsonl" --steps 8 --seed 1 | tail -n 1) && verdict=ok || verdict=FAIL
  printf 'check\ttraining step cuda vs cpu\t%s\t\t\t%s\n' "${summary#lmc-gpu-train: }" "$verdict" >> "$table"
fi

echo "== 1c. collectives: the CUDA backend's NCCL calls, one rank on this GPU"
# The GPU machine's NCCL is PyTorch's wheel (nvidia-nccl-cu*), not on the
# linker's path.
nccl_lib=$(python3 -c 'import importlib.util as u; s = u.find_spec("nvidia.nccl"); print(list(s.submodule_search_locations)[0] + "/lib" if s else "")' 2> /dev/null || true)
if ! $dry; then
  summary=$(LD_LIBRARY_PATH=${nccl_lib:+$nccl_lib:}$bundle/lib "$bundle/bin/lmc-gpu-nccl" 2>&1) \
    && verdict=ok || verdict=FAIL
  printf 'check\tcollectives over NCCL (1 rank)\t%s\t\t\t%s\n' "${summary#lmc-gpu-nccl: }" "$verdict" >> "$table"
fi

echo "== 2-3. attention: correctness and timing against PyTorch"
"$work/emit-attention" --dim 128 > "$work/attention.json"
"$work/emit-attention" --dim 128 --backward > "$work/attention_grad.json"
python3 -m py_compile test/gpu/attention_check.py test/gpu/attention_grad_check.py \
  test/gpu/encoder_torch.py test/gpu/compare_outputs.py test/gpu/length_mix.py
$dry || python3 test/gpu/attention_check.py --tool "$work/emit-attention" >> "$table" || true
# A training step's attention: backward correctness, forward + backward time.
$dry || python3 test/gpu/attention_grad_check.py --tool "$work/emit-attention" >> "$table" || true

echo "== 3. end to end: 4-layer BERT-base-width encoder, the 64-sequence mix, fp16"
python3 test/gpu/length_mix.py > "$work/mix.lengths"
python3 - "$work" <<'PY'
import json, random, sys
random.seed(1)
with open(sys.argv[1] + "/mix.lengths") as lengths, open(sys.argv[1] + "/mix.jsonl", "w") as out:
    for n in lengths:
        out.write(json.dumps({"tokens": [random.randrange(30522) for _ in range(int(n))]}) + "\n")
PY
if $dry; then
  head -n 2 "$work/mix.jsonl" | lmc lmc-gpu-run "$bundle/packages/bert_base_encoder.lmcpkg" \
    --seed 1 --backend cpu > /dev/null
else
  # Median of 20 runs through the C API: packing, copies and kernels.
  lmc lmc-gpu-run "$bundle/packages/bert_base_encoder.lmcpkg" --seed 1 --backend cuda \
    --repeat 20 < "$work/mix.jsonl" > /dev/null 2> "$work/bert.log"
  lmc_ms=$(sed -nE 's/.* median ([0-9.]+) ms.*/\1/p' "$work/bert.log")
  tokens=$(sed -nE 's/.* ([0-9]+) tokens.*/\1/p' "$work/bert.log")
  torch_ms=$(python3 test/gpu/encoder_torch.py < "$work/mix.lengths")
  printf 'e2e\tencoder 4x768, %s tokens (ms)\t%s\t\t%s\t%s\n' "$tokens" "$lmc_ms" "$torch_ms" \
    "$(python3 -c "print(f'{$torch_ms / $lmc_ms:.2f}')")" >> "$table"
fi

echo
echo "| kind | case | lmc | PyTorch flash | PyTorch cuDNN / eager | verdict or best/lmc |"
echo "| --- | --- | --- | --- | --- | --- |"
sed -E 's/\t/ | /g; s/^/| /; s/$/ |/' "$table"
$dry && echo "(dry run: no GPU steps ran)"
! grep -q FAIL "$table"
