// gpu_train.cpp - `lmc-gpu-train`: the same training steps on the GPU and
// on the CPU, compared and timed: what test/gpu/check.sh runs on the GPU
// machine (no MLIR there for the `lmc` tool).
//
//   lmc-gpu-train train.lmcpkg --data examples.jsonl --steps N --seed S [--cpu-only]
//
// Prints each step's loss on both backends, then one line:
// "lmc-gpu-train: <N> steps: loss rel. diff <worst>, weights rel. L2 <e>,
// CPU <ms> ms/step, GPU <ms> ms/step"; exits 1 when the losses differ by
// more than 3e-3 relative.

#include "cuda/CudaBackend.h"
#include "io/ExampleJson.h"
#include "session/Model.h"
#include "train/Trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace {

namespace rt = lmc::rt;

int fail(const std::string &message) {
  std::fprintf(stderr, "lmc-gpu-train: %s\n", message.c_str());
  return 1;
}
int fail(const rt::Status &error) { return fail(error.message()); }

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return fail("usage: lmc-gpu-train train.lmcpkg --data examples.jsonl --steps N --seed S "
                "[--cpu-only]");
  std::string package = argv[1], data;
  int64_t steps = 10;
  uint64_t seed = 1;
  bool cpuOnly = false;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--data") && i + 1 < argc)
      data = argv[++i];
    else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc)
      steps = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--cpu-only"))
      cpuOnly = true;
    else
      return fail(std::string("unknown argument '") + argv[i] + "'");
  }
  rt::Status error;
  std::unique_ptr<rt::Model> onCpu = rt::Model::fromFile(package, error);
  std::unique_ptr<rt::Model> onGpu = rt::Model::fromFile(package, error);
  if (!onCpu || !onGpu)
    return fail(error.message());
  if (!cpuOnly) {
    std::unique_ptr<lmc::cuda::CudaBackend> gpu = lmc::cuda::CudaBackend::create(onGpu->plan(), error);
    if (!gpu)
      return fail(error);
    onGpu->setBackend(std::move(gpu));
  }
  for (rt::Model *model : {onCpu.get(), onGpu.get()}) {
    std::vector<std::pair<std::string, lmc::cpu::Tensor>> weights;
    if (!model->generateWeights(seed, weights, error) ||
        !model->setWeights({weights.begin(), weights.end()}, error))
      return fail(error.message());
  }
  std::ifstream in(data);
  std::vector<rt::Example> examples;
  if (!in || !rt::readExamplesJsonl(in, data, examples, error))
    return fail(in ? error.message() : "cannot read '" + data + "'");
  rt::PackingOptions packing;
  std::vector<rt::PackedBatch> batches;
  if (!rt::planBatches(onCpu->plan(), examples, packing, batches, error) || batches.empty())
    return fail(batches.empty() ? "no batches" : error.message());

  std::unique_ptr<rt::Communicator> alone = rt::singleRank();
  std::unique_ptr<rt::Trainer> cpuTrainer = rt::Trainer::create(*onCpu, *alone, error);
  std::unique_ptr<rt::Trainer> gpuTrainer = rt::Trainer::create(*onGpu, *alone, error);
  if (!cpuTrainer || !gpuTrainer)
    return fail(error);
  double worst = 0, cpuSeconds = 0, gpuSeconds = 0;
  for (int64_t step = 0; step < steps; ++step) {
    rt::PackedBatch &batch = batches[size_t(step) % batches.size()];
    if (!rt::buildBatchInputs(onCpu->plan(), examples, packing, batch, error))
      return fail(error);
    rt::StepReport cpuReport, gpuReport;
    auto start = std::chrono::steady_clock::now();
    if (!cpuTrainer->step(batch, cpuReport, error))
      return fail("CPU step: " + error.message());
    auto middle = std::chrono::steady_clock::now();
    if (!cpuOnly && !gpuTrainer->step(batch, gpuReport, error))
      return fail("GPU step: " + error.message());
    auto end = std::chrono::steady_clock::now();
    cpuSeconds += std::chrono::duration<double>(middle - start).count();
    gpuSeconds += std::chrono::duration<double>(end - middle).count();
    batch.inputs.clear();
    if (!cpuOnly)
      worst = std::max(worst, std::fabs(gpuReport.loss - cpuReport.loss) /
                                  std::max(std::fabs(cpuReport.loss), 1e-12));
    std::printf("step %lld: loss cpu %.6f gpu %.6f%s\n", (long long)(step + 1), cpuReport.loss,
                cpuOnly ? NAN : gpuReport.loss, gpuReport.skipped ? " (gpu skipped)" : "");
  }
  if (!onGpu->syncParameters(error))
    return fail("copying the GPU's weights back: " + error.message());
  double difference = 0, norm = 0;
  for (size_t p = 0; p < onCpu->plan().parameters.size(); ++p) {
    const lmc::cpu::Tensor &a = onGpu->parameterTensors()[p], &b = onCpu->parameterTensors()[p];
    for (int64_t i = 0; i < b.numElements(); ++i) {
      double x = lmc::cpu::realAt(a, i), y = lmc::cpu::realAt(b, i);
      difference += (x - y) * (x - y);
      norm += y * y;
    }
  }
  std::printf("lmc-gpu-train: %lld steps: loss rel. diff %.3g, weights rel. L2 %.3g, CPU "
              "%.2f ms/step, GPU %.2f ms/step\n",
              (long long)steps, worst, std::sqrt(difference / std::max(norm, 1e-30)),
              1e3 * cpuSeconds / double(steps), 1e3 * gpuSeconds / double(steps));
  return worst <= 3e-3 ? 0 : 1;
}
