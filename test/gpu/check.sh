#!/usr/bin/env bash
# test/gpu/check.sh - lmc on a lent GPU, in one call (under 6 minutes).
#
#   make build && bash test/gpu/prepare.sh   (here: binaries + the libraries they need)
#   test/gpu/check.sh [--dry-run]            (there, from the repository root)
#
# 1. both examples on the CUDA and CPU backends, compared (fp16: relative L2
#    within 3e-3);
# 2. lmc's attention kernel against PyTorch SDPA on float32 copies: packed,
#    causal and padded, fresh random inputs, NaN-poisoned outputs;
# 3. lmc attention timed against PyTorch (flash, cuDNN, varlen flash) on the
#    shapes of the GPU anchors, and the 4-layer BERT-base-width encoder end to
#    end against PyTorch eager over packed tokens; a table is printed last.
# --dry-run runs every step that needs no GPU (CPU runs, emitted sources,
# script syntax) and prints the table's header: the script's own check.
set -euo pipefail
cd "$(dirname "$0")/../.."
dry=false
[[ "${1:-}" == "--dry-run" ]] && dry=true
build=${LMC_BUILD_DIR:-build}
bin=$build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Binaries built on Debian 12 carry the libraries the GPU machine lacks.
[[ -d $build/gpu-bundle/lib ]] && export LD_LIBRARY_PATH=$PWD/$build/gpu-bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LMC_CACHE_DIR=$work/cache
for tool in lmc lmc-emit-attention; do
  [[ -x $bin/$tool ]] || { echo "check.sh: $bin/$tool is missing (make build, then carry $build)" >&2; exit 1; }
done
table=$work/table.tsv
: > "$table"

echo "== 1. examples: CUDA vs CPU backend (fp16)"
python3 examples/make_bst_examples.py --count 256 --seed 3 > "$work/bst.jsonl"
python3 - "$work/text.jsonl" <<'PY'
import json, random, sys
random.seed(5)
with open(sys.argv[1], "w") as out:
    for _ in range(256):
        out.write(json.dumps({"tokens": [random.randrange(8000) for _ in range(random.randint(1, 300))]}) + "\n")
PY
for example in bst_ranker:bst text_encoder:text; do
  name=${example%%:*} inputs=$work/${example##*:}.jsonl
  $bin/lmc compile examples/$name.yaml --precision=fp16 --target=sm_90 -o "$work/$name.lmcpkg" 2> /dev/null
  $bin/lmc run "$work/$name.lmcpkg" --seed 1 --input "$inputs" --backend=cpu -o "$work/$name.cpu.jsonl"
  if $dry; then continue; fi
  $bin/lmc run "$work/$name.lmcpkg" --seed 1 --input "$inputs" --backend=cuda -o "$work/$name.cuda.jsonl"
  error=$(python3 test/gpu/compare_outputs.py "$work/$name.cuda.jsonl" "$work/$name.cpu.jsonl") \
    && verdict=ok || verdict=FAIL
  printf 'check\t%s cuda vs cpu\t%s\t%s\n' "$name" "$error" "$verdict" >> "$table"
done

echo "== 2-3. attention: correctness and timing against PyTorch"
$bin/lmc-emit-attention --dim 128 > "$work/attention.json"
python3 -m py_compile test/gpu/attention_check.py test/gpu/encoder_torch.py test/gpu/compare_outputs.py
if ! $dry; then
  python3 test/gpu/attention_check.py --tool "$bin/lmc-emit-attention" >> "$table" || true
fi

echo "== 3. end to end: 4-layer BERT-base-width encoder, 64-sequence mix, fp16"
python3 test/gpu/length_mix.py > "$work/mix.lengths"
python3 - "$work" <<'PY'
import json, random, sys
random.seed(1)
with open(sys.argv[1] + "/mix.lengths") as lengths, open(sys.argv[1] + "/mix.jsonl", "w") as out:
    for n in lengths:
        out.write(json.dumps({"tokens": [random.randrange(30522) for _ in range(int(n))]}) + "\n")
PY
$bin/lmc compile bench/specs/bert_base_encoder.yaml --precision=fp16 --target=sm_90 \
  --max-batch=64 --max-sequence=4096 --max-tokens=65536 -o "$work/bert.lmcpkg" 2> /dev/null
if ! $dry; then
  # The first run loads (and caches) the kernels; the second is timed.
  $bin/lmc run "$work/bert.lmcpkg" --seed 1 --input "$work/mix.jsonl" --backend=cuda \
    -o /dev/null 2> /dev/null
  lmc_s=$($bin/lmc run "$work/bert.lmcpkg" --seed 1 --input "$work/mix.jsonl" --backend=cuda \
    -o /dev/null 2>&1 | sed -nE 's/.* in ([0-9.]+) s:.*/\1/p')
  torch_ms=$(python3 test/gpu/encoder_torch.py < "$work/mix.lengths")
  printf 'e2e\tencoder 4x768, %s tokens\t%.2f\t%s\n' "$(paste -sd+ "$work/mix.lengths" | bc)" \
    "$(echo "$lmc_s * 1000" | bc -l)" "$torch_ms" >> "$table"
fi

echo
echo "| kind | case | lmc | PyTorch flash | PyTorch cuDNN / eager | verdict or best/lmc |"
echo "| --- | --- | --- | --- | --- | --- |"
sed -E 's/\t/ | /g; s/^/| /; s/$/ |/' "$table"
$dry && echo "(dry run: no GPU steps ran)"
! grep -q FAIL "$table"
