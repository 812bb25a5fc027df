// fuzz_artifact.cpp - libFuzzer target for the package loader and whatever
// runs after it.
//
// Input: a package's payload (a file with the LMCPKG envelope has it
// stripped without checking the CRC, so real packages seed the corpus). A
// payload that loads is given weights and two random examples, under a
// 64 MiB memory limit: loading, weight generation (which must refuse what
// exceeds the limit), packing and every CPU kernel must
// reject bad plans with a message, never crash or read out of bounds
// (the target is built with AddressSanitizer and UBSan).

#include "artifact/Envelope.h"
#include "artifact/Plan.h"
#include "session/Model.h"
#include "support/RandomExamples.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= lmc::rt::kEnvelopeBytes && std::memcmp(data, "LMCPKG\r\n", 8) == 0) {
    data += lmc::rt::kEnvelopeBytes;
    size -= lmc::rt::kEnvelopeBytes;
  }
  // Flatbuffers reads aligned scalars: give the payload an aligned copy.
  std::string payload(reinterpret_cast<const char *>(data), size);
  lmc::rt::Status status;
  std::unique_ptr<lmc::rt::Model> model = lmc::rt::Model::fromBytes(
      lmc::rt::wrapArtifact(reinterpret_cast<const uint8_t *>(payload.data()), size), status);
  if (!model)
    return 0;
  // Whatever sizes the package claims, the model refuses (rather than
  // allocates) more than this for its parameters and arena.
  model->setMemoryLimit(int64_t(64) << 20);
  std::vector<std::pair<std::string, lmc::cpu::Tensor>> weights;
  if (!model->generateWeights(1, weights, status) ||
      !model->setWeights({weights.begin(), weights.end()}, status))
    return 0;
  std::vector<lmc::rt::ExampleOutputs> outputs;
  lmc::rt::RunStatistics statistics;
  model->run(lmc::testing::randomExamples(model->plan(), 2, 3, size), {}, outputs, statistics,
             status);
  return 0;
}
