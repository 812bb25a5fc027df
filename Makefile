# The two commands of the README. Each does its whole set-up on a fresh
# Debian 12 machine: installs the Debian packages it needs (only the missing
# ones), configures with CMake + Ninja, builds, then runs.

BUILD_DIR ?= build
DEMO_DIR := $(BUILD_DIR)/demo
PACKAGES := cmake ninja-build python3 zlib1g-dev libfarmhash-dev clang-19 lld-19 \
            llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools libgtest-dev \
            libbenchmark-dev flatbuffers-compiler libflatbuffers-dev libopenblas-openmp-dev \
            nlohmann-json3-dev libclang-rt-19-dev libopenmpi-dev openmpi-bin
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Release \
               -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
               -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
               -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir

.PHONY: demo test deps build

# The ranking example end to end: compile to a package (with CUDA code when
# the toolkit is installed), generate weights, run 2048 variable-length
# examples -- on the GPU when there is one, else on the CPU -- and print
# outputs and throughput.
demo: build
	@mkdir -p $(DEMO_DIR)
	$(BUILD_DIR)/bin/lmc compile examples/bst_ranker.yaml --max-batch=512 \
	  -o $(DEMO_DIR)/bst_ranker.lmcpkg 2> /dev/null
	$(BUILD_DIR)/bin/lmc inspect $(DEMO_DIR)/bst_ranker.lmcpkg | sed -n '1,2p'
	$(BUILD_DIR)/bin/lmc init-weights $(DEMO_DIR)/bst_ranker.lmcpkg --seed 1 \
	  -o $(DEMO_DIR)/weights.safetensors
	python3 examples/make_bst_examples.py --count 2048 --seed 1 > $(DEMO_DIR)/examples.jsonl
	$(BUILD_DIR)/bin/lmc run $(DEMO_DIR)/bst_ranker.lmcpkg --weights $(DEMO_DIR)/weights.safetensors \
	  --input $(DEMO_DIR)/examples.jsonl -o $(DEMO_DIR)/outputs.jsonl
	@echo "first outputs ($(DEMO_DIR)/outputs.jsonl):"
	@head -n 5 $(DEMO_DIR)/outputs.jsonl

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

build: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)

deps:
	@missing=""; \
	for package in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi
