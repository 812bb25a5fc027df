#!/usr/bin/env bash
# test/gpu/prepare.sh - on the build machine, after `make build`: the bundle
# test/gpu/check.sh needs on the GPU machine, which has no MLIR (so packages
# are compiled here) and may lack OpenBLAS: the two runtime-only binaries,
# the libraries they need that a newer distribution may not have (not glibc,
# libstdc++ or CUDA's, which it has in newer versions), and the packages
# compiled for sm_90. Carry build/gpu-bundle (it must stay under the
# device tool's 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${LMC_BUILD_DIR:-build}
bundle=$build/gpu-bundle
rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/packages"
cp "$build/bin/lmc-gpu-run" "$build/bin/lmc-gpu-train" "$build/bin/lmc-gpu-nccl" \
  "$build/bin/lmc-emit-attention" "$bundle/bin/"
for binary in "$bundle"/bin/*; do
  ldd "$binary" | awk '/=> \// {print $3}' | while read -r library; do
    case $(basename "$library") in
      libopenblas*|libgfortran*|libquadmath*|libgomp*|libz.so*) cp -L "$library" "$bundle/lib/" ;;
    esac
  done
done
compile() { "$build/bin/lmc" compile "$@" --precision=fp16 --target=sm_90 2> /dev/null; }
compile examples/bst_ranker.yaml -o "$bundle/packages/bst_ranker.lmcpkg"
compile examples/text_encoder.yaml -o "$bundle/packages/text_encoder.lmcpkg"
compile examples/bst_ranker.yaml --train --max-batch=64 --max-sequence=256 \
  -o "$bundle/packages/bst_ranker_train.lmcpkg"
compile bench/specs/bert_base_encoder.yaml --max-batch=64 --max-sequence=4096 \
  --max-tokens=65536 -o "$bundle/packages/bert_base_encoder.lmcpkg"
du -sh "$bundle"
