#!/usr/bin/env bash
# Usage: check_runtime_only.sh SOURCE_DIR BUILD_DIR C_COMPILER CXX_COMPILER
#
# Builds lmc's runtime with -DLMC_BUILD_COMPILER=OFF and checks that no
# compile or link command puts MLIR or LLVM on its include or library paths
# or links one of their libraries: applications embed the runtime, so it must
# stay free of the compiler's dependencies. The tools themselves (clang-19,
# llvm-ar-19) may be LLVM's; what they are given may not.
set -euo pipefail
source_dir=$1 build_dir=$2 c_compiler=$3 cxx_compiler=$4

rm -rf "$build_dir"
cmake -S "$source_dir" -B "$build_dir" -G Ninja -DLMC_BUILD_COMPILER=OFF -DLMC_BUILD_FUZZERS=OFF \
  -DCMAKE_C_COMPILER="$c_compiler" -DCMAKE_CXX_COMPILER="$cxx_compiler" > "$build_dir.configure.log"
cmake --build "$build_dir" > "$build_dir.build.log"

commands=$(ninja -C "$build_dir" -t commands)
test -n "$commands"
dependency='(-I|-isystem *|-L|-l|-Wl,-rpath,)[^ ]*(mlir|llvm)|[^ ]*lib(MLIR|LLVM)[^ ]*\.(a|so)'
if grep -oiE "$dependency" <<< "$commands"; then
  echo "FAIL: the runtime-only build names MLIR or LLVM on the lines above" >&2
  exit 1
fi
# The C application of examples/embed builds against the runtime alone.
test -x "$build_dir/bin/lmc-embed-example"
echo "runtime-only build: $(grep -c . <<< "$commands") compile and link commands, none names MLIR or LLVM; examples/embed built"
ctest --test-dir "$build_dir" --output-on-failure | tail -n 3
