#!/usr/bin/env bash
# test/gpu/prepare.sh - gathers, beside the binaries check.sh runs, the
# shared libraries they need that the GPU machine (Ubuntu 24.04, no MLIR,
# no OpenBLAS known) may lack: everything ldd resolves except glibc and the
# CUDA libraries, which the GPU machine has in newer versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${LMC_BUILD_DIR:-build}
bundle=$build/gpu-bundle/lib
rm -rf "$bundle" && mkdir -p "$bundle"
for binary in "$build/bin/lmc" "$build/bin/lmc-emit-attention"; do
  ldd "$binary" | awk '/=> \// {print $3}' | while read -r library; do
    case $(basename "$library") in
      libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libcuda*|libnvrtc*|libcublas*) ;;
      *) cp -L "$library" "$bundle/" ;;
    esac
  done
done
du -sh "$build/gpu-bundle"
