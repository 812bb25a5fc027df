// ApiThreads.cpp - lmc_model_run on one model from several threads at once,
// as lmc/lmc.h allows, for the ThreadSanitizer run of
// test/build/check_runtime_sanitizers.sh:
//
//   lmc-api-threads model.lmcpkg weights.safetensors examples.jsonl
//
// Every thread runs every example (and reads the model's device and outputs)
// a few times; each thread's outputs must equal the first run's, bit for bit.
// Exits 0 when they do.

#include "lmc/lmc.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Outputs = std::vector<std::vector<float>>;

bool runOnce(const lmc_model_t *model, const lmc_examples_t *examples, Outputs &outputs) {
  lmc_results_t *results = nullptr;
  lmc_status_t status = lmc_model_run(model, examples, nullptr, &results);
  if (status) {
    std::fprintf(stderr, "lmc-api-threads: %s\n", lmc_status_message(status));
    lmc_status_release(status);
    return false;
  }
  outputs.clear();
  for (size_t e = 0; e < lmc_results_example_count(results); ++e) {
    const float *values = nullptr;
    size_t count = 0;
    lmc_status_release(lmc_results_get(results, e, 0, &values, &count));
    outputs.emplace_back(values, values + count);
  }
  lmc_results_release(results);
  return !std::string(lmc_model_device(model)).empty() && lmc_model_output_count(model) > 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s model.lmcpkg weights.safetensors examples.jsonl\n", argv[0]);
    return 2;
  }
  lmc_model_t *model = nullptr;
  lmc_examples_t *examples = nullptr;
  lmc_status_t status = lmc_model_load(argv[1], &model);
  if (!status)
    status = lmc_model_load_weights(model, argv[2]);
  if (!status)
    status = lmc_examples_create(&examples);
  std::ifstream lines(argv[3]);
  for (std::string line; !status && std::getline(lines, line);)
    if (!line.empty())
      status = lmc_examples_add_json(examples, line.c_str());
  if (status) {
    std::fprintf(stderr, "lmc-api-threads: %s\n", lmc_status_message(status));
    return 1;
  }
  if (lmc_examples_count(examples) == 0) {
    std::fprintf(stderr, "lmc-api-threads: no examples in '%s'\n", argv[3]);
    return 1;
  }
  Outputs expected;
  if (!runOnce(model, examples, expected))
    return 1;
  constexpr int kThreads = 4, kRuns = 3;
  std::vector<int> agree(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRuns; ++r) {
        Outputs got;
        agree[size_t(t)] += runOnce(model, examples, got) && got == expected;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  int failures = 0;
  for (int t = 0; t < kThreads; ++t)
    failures += kRuns - agree[size_t(t)];
  lmc_examples_release(examples);
  lmc_model_release(model);
  std::printf("lmc-api-threads: %d threads x %d runs of %zu examples, %d differ from the first\n",
              kThreads, kRuns, expected.size(), failures);
  return failures ? 1 : 0;
}
