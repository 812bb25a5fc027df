#!/usr/bin/env bash
# Usage: check_runtime_sanitizers.sh SOURCE_DIR BUILD_ROOT C_COMPILER CXX_COMPILER LMC
#
# Builds the runtime alone (-DLMC_BUILD_COMPILER=OFF) twice, under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer,
# and runs what an embedding application does: the runtime's unit tests
# (ASan/UBSan), the C program of examples/embed and lmc-api-threads (several
# threads running one model through the C API) on a package and weights
# that LMC (the main build's lmc) makes. Any report fails the test.
set -euo pipefail
source_dir=$1 build_root=$2 c_compiler=$3 cxx_compiler=$4 lmc=$5

rm -rf "$build_root"
mkdir -p "$build_root"
"$lmc" compile "$source_dir/examples/bst_ranker.yaml" --target=cpu -o "$build_root/bst.lmcpkg" 2> /dev/null
"$lmc" init-weights "$build_root/bst.lmcpkg" --seed 7 -o "$build_root/w.safetensors"
examples=$source_dir/test/lit/runtime/Inputs/bst-examples.jsonl

build() { # NAME FLAGS TARGETS...
  local name=$1 flags=$2
  shift 2
  cmake -S "$source_dir" -B "$build_root/$name" -G Ninja -DLMC_BUILD_COMPILER=OFF \
    -DLMC_BUILD_FUZZERS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$c_compiler" -DCMAKE_CXX_COMPILER="$cxx_compiler" \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
    > "$build_root/$name.configure.log"
  cmake --build "$build_root/$name" --target "$@" > "$build_root/$name.build.log"
}

# halt_on_error and no recovery: the first report fails the run.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Two threads in every team, whatever the machine: the team's fork and join
# are annotated for TSan (runtime/src/cpu/ThreadPool.cpp), so lmc's parallel
# loops are checked too. OpenBLAS is not instrumented (its GEMMs are unseen).
export OMP_NUM_THREADS=2

asan_flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
build asan "$asan_flags" lmc-runtime-tests lmc-embed-example lmc-api-threads
"$build_root/asan/bin/lmc-runtime-tests" --gtest_brief=1 > "$build_root/asan.tests.log" 2>&1 ||
  { tail -n 40 "$build_root/asan.tests.log"; exit 1; }
"$build_root/asan/bin/lmc-embed-example" "$build_root/bst.lmcpkg" "$build_root/w.safetensors" \
  < "$examples" > /dev/null
"$build_root/asan/bin/lmc-api-threads" "$build_root/bst.lmcpkg" "$build_root/w.safetensors" "$examples"

build tsan "-fsanitize=thread -fno-omit-frame-pointer" lmc-api-threads
"$build_root/tsan/bin/lmc-api-threads" "$build_root/bst.lmcpkg" "$build_root/w.safetensors" "$examples"
echo "ASan+UBSan: runtime tests, embed example and concurrent C API runs clean; TSan: concurrent C API runs clean"
