// lmc_bench.cpp - Google Benchmark for the CPU backend: attention alone,
// whole packages over example files, and the packer alone over 10k to 1M
// examples.
//
//   build/bin/lmc-bench [--data DIR]
//       [--package P --weights W --examples NAME=PATH... [--packing-length N]
//        [--overlong error|truncate|alone]] [--threads N] [--benchmark_* flags]
//
// attention/{packed,padded} run one attention kernel on synthetic tensors
// of a short length mix (4 heads, 84% padding), and .../long on the long mix
// of the peer benchmark (8 sequences up to 4,096 tokens, 12 heads);
// counters: real tokens/s and GFLOP/s.
//
// model/NAME runs the package P with weights W over each --examples set
// (JSON Lines), warm, packing included, with the packing options given:
// bench/cpu_vs_peers.py times lmc this way. --threads sets the team of
// every benchmark (default: OMP_NUM_THREADS, else every processor).
//
// The encoder benchmarks need DIR as bench/encoder_vs_jax.py prepares it:
// encoder_packed.lmcpkg and encoder_padded.lmcpkg (the same spec compiled
// with and without packing), weights.safetensors, and the example sets
// mixed.jsonl (log-normal lengths, ~84% padding) and equal.jsonl (every
// sequence the same length). Counters: tokens/s counts real (unpadded)
// tokens, so packed and padded compare directly. When DIR also holds
// train.lmcpkg and train.jsonl (a training package and its examples, see
// bench/README.md), training_step/{in_place,copying} time its steps with the
// lazy table updates in place and copied.

#include "artifact/OpSlots.h"
#include "artifact/Plan.h"
#include "collectives/Communicator.h"
#include "cpu/CpuBackend.h"
#include "cpu/ThreadPool.h"
#include "io/ExampleJson.h"
#include "packer/Packer.h"
#include "session/Model.h"
#include "train/Trainer.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

namespace {

namespace rt = lmc::rt;
namespace cpu = lmc::cpu;

/// The length mix of TOOLCHAIN's GPU anchor, scaled to a CPU: 32 sequences
/// drawn log-normal around 48 tokens (Python's random.Random(13), clipped to
/// [8, 512]); the longest is 430, so padding to it wastes 84% of the tokens.
/// bench/encoder_vs_jax.py uses the same list.
const std::vector<int64_t> kMixedLengths = {12, 390, 23, 21, 76, 51, 25, 210, 430, 43, 58,
                                            31, 33, 69, 8,   42, 16, 21, 64,  13,  26, 20,
                                            171, 63, 15, 22, 91, 13, 67, 19, 32, 8};

/// The long mix of the CPU peer benchmark (bench/cpu_vs_peers.py): 8
/// sequences, log-normal up to 4,096 tokens, 5,200 real tokens (84% padding
/// when padded to the longest).
const std::vector<int64_t> kLongLengths = {4096, 412, 236, 171, 98, 77, 61, 49};

/// A plan of one attention kernel: packed (q, k, v [T, H, D] + cu_seqlens)
/// or padded (q, k, v [B, S, H, D] + lengths).
rt::Plan attentionPlan(bool packed, int64_t heads, int64_t dim) {
  rt::Plan plan;
  plan.budget = {1, 1, 1};
  auto addInput = [&](const char *name, rt::DType dtype, std::vector<int64_t> shape) {
    rt::Value value;
    value.kind = rt::ValueKind::Input;
    value.index = int(plan.inputs.size());
    value.type = {dtype, std::move(shape), {}};
    plan.inputs.push_back({name, rt::Ingest::Value, int(plan.values.size()), {}});
    plan.values.push_back(value);
  };
  std::vector<int64_t> qkv = packed ? std::vector<int64_t>{-1, heads, dim}
                                    : std::vector<int64_t>{-1, -1, heads, dim};
  for (const char *name : {"q", "k", "v"})
    addInput(name, rt::DType::F32, qkv);
  addInput(packed ? "cu_seqlens" : "lengths", rt::DType::I32, {-1});
  rt::Kernel kernel;
  kernel.name = "attention";
  kernel.kind = rt::KernelKind::Attention;
  kernel.blockQ = 128;
  kernel.blockK = 64;
  for (const rt::Value &value : plan.values)
    kernel.arguments.push_back(value.type);
  rt::Instruction attention;
  attention.opcode = rt::Opcode::Attention;
  attention.operands = {0, 1, 2, -1, -1};
  attention.operands[packed ? lmc::ops::slot::attentionOperand::cuSeqlens
                            : lmc::ops::slot::attentionOperand::lengths] = 3;
  attention.results = {{rt::DType::F32, qkv, {}}};
  attention.ints = {0};
  attention.reals = {std::nan("")};
  kernel.body.push_back(attention);
  kernel.yields = {4};
  plan.kernels.push_back(kernel);
  rt::Value output;
  output.type = attention.results[0];
  output.offset = 0;
  plan.values.push_back(output);
  plan.steps.push_back({rt::StepKind::Launch, 0, {0, 1, 2, 3}, {4}});
  plan.outputs.push_back({"out", "", 4});
  return plan;
}

/// One attention kernel over `lengths`, `heads` heads of 64; counters:
/// real tokens/s and GFLOP/s (the 4 L^2 D multiply-adds per head and
/// sequence that Q K^T and P V need).
void attention(benchmark::State &state, bool packed, const std::vector<int64_t> &lengths,
               int64_t heads) {
  const int64_t dim = 64;
  int64_t batch = int64_t(lengths.size()), longest = 0, tokens = 0;
  double flops = 0;
  for (int64_t length : lengths) {
    longest = std::max(longest, length);
    tokens += length;
    flops += 4.0 * double(length) * double(length) * double(dim * heads);
  }
  rt::Plan plan = attentionPlan(packed, heads, dim);
  cpu::CpuBackend backend(plan);
  std::vector<int64_t> shape = packed ? std::vector<int64_t>{tokens, heads, dim}
                                      : std::vector<int64_t>{batch, longest, heads, dim};
  std::vector<cpu::Tensor> inputs;
  std::mt19937 engine(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int i = 0; i < 3; ++i) {
    inputs.push_back(cpu::Tensor::owned(rt::DType::F32, shape));
    for (int64_t e = 0; e < inputs.back().numElements(); ++e)
      inputs.back().as<float>()[e] = uniform(engine);
  }
  cpu::Tensor index = cpu::Tensor::owned(rt::DType::I32, {packed ? batch + 1 : batch});
  for (int64_t b = 0, offset = 0; b < batch; ++b) {
    if (packed) {
      index.as<int32_t>()[b] = int32_t(offset);
      offset += lengths[size_t(b)];
      index.as<int32_t>()[b + 1] = int32_t(offset);
    } else {
      index.as<int32_t>()[b] = int32_t(lengths[size_t(b)]);
    }
  }
  inputs.push_back(index);
  std::vector<cpu::Tensor> outputs;
  rt::Status error;
  for (auto _ : state)
    if (!backend.run(inputs, {}, outputs, error))
      state.SkipWithError(error.message().c_str());
  state.counters["tokens/s"] =
      benchmark::Counter(double(tokens), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["padding"] = 1.0 - double(tokens) / double(batch * longest);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// What --package runs: a package, its weights and how to pack.
struct ModelRun {
  std::string package, weights;
  rt::PackingOptions packing;
  int threads = 0;
};

/// Whole runs of a package over the examples at `examplesPath`, packing
/// included (Model::run), warm: the package is loaded once.
void modelRun(benchmark::State &state, ModelRun how, std::string examplesPath) {
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromFile(how.package, status);
  if (model)
    model->setThreads(how.threads);
  if (!model || !model->loadWeights(how.weights, status)) {
    state.SkipWithError(status.message().c_str());
    return;
  }
  std::vector<rt::Example> examples;
  std::ifstream in(examplesPath);
  rt::Status error;
  if (!rt::readExamplesJsonl(in, examplesPath, examples, error)) {
    state.SkipWithError(error.message().c_str());
    return;
  }
  std::vector<rt::ExampleOutputs> outputs;
  rt::RunStatistics statistics;
  for (auto _ : state)
    if (!model->run(examples, how.packing, outputs, statistics, status))
      state.SkipWithError(status.message().c_str());
  state.counters["tokens/s"] = benchmark::Counter(double(statistics.tokens),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

/// Training steps of `package` (lmc compile --train) on the CPU backend,
/// cycling through the packed batches of `examplesPath`. With `inPlace`
/// false the plan's in-place marks are cleared (Step::inPlace), so each
/// lazy table update copies the table and its moments, as before the
/// runtime updated them in place.
void trainingStep(benchmark::State &state, std::string package, std::string examplesPath,
                  bool inPlace) {
  rt::Plan copying; // outlives the backend made from it
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromFile(package, status);
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  if (!model || !model->generateWeights(1, weights, status) ||
      !model->setWeights({weights.begin(), weights.end()}, status)) {
    state.SkipWithError(status.message().c_str());
    return;
  }
  std::vector<rt::Example> examples;
  std::ifstream in(examplesPath);
  rt::Status error;
  if (!rt::readExamplesJsonl(in, examplesPath, examples, error)) {
    state.SkipWithError(error.message().c_str());
    return;
  }
  if (!inPlace) {
    copying = model->plan();
    for (rt::Step &step : copying.steps)
      step.inPlace.assign(step.inPlace.size(), -1);
    for (rt::Output &output : copying.outputs)
      output.inPlace = false;
    model->setBackend(std::make_unique<cpu::CpuBackend>(copying));
  }
  std::unique_ptr<rt::Communicator> alone = rt::singleRank();
  std::unique_ptr<rt::Trainer> trainer = rt::Trainer::create(*model, *alone, error);
  std::vector<rt::PackedBatch> batches;
  rt::PackingOptions options;
  options.packingLength = 512;
  if (!trainer || !rt::packExamples(model->plan(), examples, options, batches, error)) {
    state.SkipWithError(error.message().c_str());
    return;
  }
  size_t next = 0;
  int64_t tokens = 0;
  for (auto _ : state) {
    rt::StepReport report;
    if (!trainer->step(batches[next++ % batches.size()], report, error))
      state.SkipWithError(error.message().c_str());
    tokens += report.tokens;
  }
  state.counters["tokens/s"] = benchmark::Counter(double(tokens), benchmark::Counter::kIsRate);
}

/// First-fit-decreasing packing alone (planBatches) of `state.range(0)`
/// examples of one sequence feature, lengths uniform in [0, 20), into rows
/// of 64 tokens: its time should grow as n log n.
void packing(benchmark::State &state) {
  rt::Plan plan;
  plan.budget = {256, 64, 1 << 14};
  for (rt::Ingest ingest : {rt::Ingest::Fingerprint, rt::Ingest::Lengths}) {
    rt::Value value;
    value.kind = rt::ValueKind::Input;
    value.index = int(plan.inputs.size());
    value.type = {ingest == rt::Ingest::Lengths ? rt::DType::I32 : rt::DType::I64,
                  ingest == rt::Ingest::Lengths ? std::vector<int64_t>{-1}
                                                : std::vector<int64_t>{-1, -1},
                  {}};
    plan.inputs.push_back({"q", ingest, int(plan.values.size()), {}});
    plan.values.push_back(value);
  }
  std::mt19937 engine(1);
  std::vector<rt::Example> examples(size_t(state.range(0)));
  for (rt::Example &example : examples) {
    rt::FeatureValue &tokens = example.features["q"];
    tokens.kind = rt::FeatureValue::Kind::Strings;
    tokens.strings.assign(engine() % 20, "t");
  }
  std::vector<rt::PackedBatch> batches;
  rt::Status error;
  for (auto _ : state)
    if (!rt::planBatches(plan, examples, rt::PackingOptions(), batches, error))
      state.SkipWithError(error.message().c_str());
  state.counters["examples/s"] =
      benchmark::Counter(double(examples.size()), benchmark::Counter::kIsIterationInvariantRate);
}

} // namespace

int usage(const std::string &message) {
  std::fprintf(stderr,
               "lmc-bench: %s\n"
               "usage: lmc-bench [--data DIR] [--package P --weights W --examples NAME=PATH... "
               "[--packing-length N] [--overlong error|truncate|alone]] [--threads N] "
               "[--benchmark_* flags]\n",
               message.c_str());
  return 2;
}

int main(int argc, char **argv) {
  std::string data;
  ModelRun how;
  std::vector<std::pair<std::string, std::string>> exampleSets;
  std::vector<char *> rest;
  for (int i = 0; i < argc; ++i) {
    std::string flag = argv[i];
    bool valued = i + 1 < argc;
    if (flag == "--data" && valued) {
      data = argv[++i];
    } else if (flag == "--package" && valued) {
      how.package = argv[++i];
    } else if (flag == "--weights" && valued) {
      how.weights = argv[++i];
    } else if (flag == "--examples" && valued) {
      std::string set = argv[++i];
      size_t equals = set.find('=');
      if (equals == std::string::npos || equals == 0)
        return usage("--examples takes NAME=PATH, not '" + set + "'");
      exampleSets.emplace_back(set.substr(0, equals), set.substr(equals + 1));
    } else if ((flag == "--packing-length" || flag == "--threads") && valued) {
      char *end = nullptr;
      long value = std::strtol(argv[++i], &end, 10);
      if (*end || value < 0 || value > (1 << 30))
        return usage(flag + " takes a count, not '" + argv[i] + "'");
      if (flag == "--threads")
        how.threads = int(value);
      else
        how.packing.packingLength = value;
    } else if (flag == "--overlong" && valued) {
      std::string policy = argv[++i];
      if (policy == "error")
        how.packing.overlong = rt::OverlongPolicy::Error;
      else if (policy == "truncate")
        how.packing.overlong = rt::OverlongPolicy::Truncate;
      else if (policy == "alone")
        how.packing.overlong = rt::OverlongPolicy::Alone;
      else
        return usage("--overlong is error, truncate or alone, not '" + policy + "'");
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (how.package.empty() != how.weights.empty() || how.package.empty() != exampleSets.empty())
    return usage("--package, --weights and --examples go together");
  int count = int(rest.size());
  benchmark::Initialize(&count, rest.data());
  lmc::cpu::TeamSize team(how.threads);
  for (bool packed : {true, false}) {
    std::string layout = packed ? "packed" : "padded";
    benchmark::RegisterBenchmark(("attention/" + layout).c_str(), attention, packed, kMixedLengths,
                                 int64_t(4))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("attention/" + layout + "/long").c_str(), attention, packed,
                                 kLongLengths, int64_t(12))
        ->Unit(benchmark::kMillisecond);
  }
  for (const auto &[name, path] : exampleSets)
    benchmark::RegisterBenchmark(("model/" + name).c_str(), modelRun, how, path)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
  benchmark::RegisterBenchmark("packing", packing)
      ->Arg(10000)
      ->Arg(100000)
      ->Arg(1000000)
      ->Unit(benchmark::kMillisecond);
  if (!data.empty())
    for (const char *mix : {"mixed", "equal"})
      for (const char *layout : {"packed", "padded"})
        benchmark::RegisterBenchmark(
            (std::string("encoder/") + layout + "/" + mix).c_str(), modelRun,
            ModelRun{data + "/encoder_" + layout + ".lmcpkg", data + "/weights.safetensors",
                     rt::PackingOptions{512, rt::OverlongPolicy::Error}, how.threads},
            data + "/" + mix + ".jsonl")
            ->Unit(benchmark::kMillisecond)
            ->MinTime(1.0);
  if (!data.empty() && std::ifstream(data + "/train.lmcpkg").good())
    for (bool inPlace : {true, false})
      benchmark::RegisterBenchmark(
          inPlace ? "training_step/in_place" : "training_step/copying", trainingStep,
          data + "/train.lmcpkg", data + "/train.jsonl", inPlace)
          ->Unit(benchmark::kMillisecond)
          ->MinTime(2.0);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
