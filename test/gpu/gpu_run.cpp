// gpu_run.cpp - `lmc-gpu-run`: runs a package on JSON Lines examples through
// the C API, on the GPU or the CPU, and times it: what test/gpu/check.sh
// runs on the GPU machine, which has no MLIR for the `lmc` tool.
//
//   lmc-gpu-run model.lmcpkg --seed 1 [--backend cpu|cuda] [--repeat N]
//       < examples.jsonl > outputs.jsonl
//
// Outputs are one JSON object per example, {"<output>": [values]}; stderr
// gets "lmc-gpu-run: <device>: <examples> examples, <tokens> tokens,
// median <ms> ms over <N> runs".

#include "lmc/lmc.h"
#include "lmc/lmc_cuda.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

int fail(lmc_status_t status) {
  std::fprintf(stderr, "lmc-gpu-run: %s\n", lmc_status_message(status));
  lmc_status_release(status);
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lmc-gpu-run model.lmcpkg --seed N [--backend cpu|cuda] "
                         "[--repeat N] < examples.jsonl\n");
    return 2;
  }
  const char *path = argv[1];
  uint64_t seed = 1;
  bool cuda = true;
  int repeat = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--backend")) cuda = !std::strcmp(argv[i + 1], "cuda");
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "lmc-gpu-run: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  lmc_model_t *model = nullptr;
  if (lmc_status_t status = lmc_model_load(path, &model))
    return fail(status);
  if (lmc_status_t status = lmc_model_init_weights(model, seed))
    return fail(status);
  if (cuda)
    if (lmc_status_t status = lmc_model_use_cuda(model))
      return fail(status);
  lmc_examples_t *examples = nullptr;
  if (lmc_status_t status = lmc_examples_create(&examples))
    return fail(status);
  std::string line;
  while (std::getline(std::cin, line))
    if (!line.empty())
      if (lmc_status_t status = lmc_examples_add_json(examples, line.c_str()))
        return fail(status);

  std::vector<double> milliseconds;
  lmc_results_t *results = nullptr;
  for (int r = 0; r < repeat; ++r) {
    lmc_results_release(results);
    results = nullptr;
    auto start = std::chrono::steady_clock::now();
    if (lmc_status_t status = lmc_model_run(model, examples, nullptr, &results))
      return fail(status);
    milliseconds.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  for (size_t e = 0; e < lmc_results_example_count(results); ++e) {
    std::printf("{");
    for (size_t o = 0; o < lmc_model_output_count(model); ++o) {
      const float *values = nullptr;
      size_t count = 0;
      if (lmc_status_t status = lmc_results_get(results, e, o, &values, &count))
        return fail(status);
      std::printf("%s\"%s\": [", o ? ", " : "", lmc_model_output_name(model, o));
      for (size_t i = 0; i < count; ++i)
        std::printf("%s%.9g", i ? ", " : "", double(values[i]));
      std::printf("]");
    }
    std::printf("}\n");
  }
  std::vector<double> sorted = milliseconds;
  std::sort(sorted.begin(), sorted.end());
  std::fprintf(stderr,
               "lmc-gpu-run: %s: %zu examples, %lld tokens, median %.3f ms over %d runs "
               "(first %.3f ms)\n",
               lmc_model_device(model), lmc_results_example_count(results),
               (long long)lmc_results_token_count(results), sorted[sorted.size() / 2], repeat,
               milliseconds.front());
  lmc_results_release(results);
  lmc_examples_release(examples);
  lmc_model_release(model);
  return 0;
}
