// fuzz_examples.cpp - libFuzzer target for the JSON Lines example reader
// and the packer behind it.
//
// Input: JSON Lines. Parsed examples are packed for a small fixed plan (a
// fingerprinted sequence with its lengths, a numeric feature, an integer
// feature of width 2): every malformed line or feature must give a message,
// never a crash (built with AddressSanitizer and UBSan).

#include "io/ExampleJson.h"
#include "packer/Packer.h"
#include "support/PlanInputs.h"

#include <sstream>

namespace {

lmc::rt::Plan makePlan() {
  using namespace lmc::rt;
  using lmc::testing::addInput;
  Plan plan;
  plan.budget = {4, 8, 16};
  addInput(plan, "history", Ingest::Fingerprint, DType::I64, {-1, -1});
  addInput(plan, "history", Ingest::Lengths, DType::I32, {-1});
  addInput(plan, "price", Ingest::Value, DType::F32, {-1, 1});
  addInput(plan, "ids", Ingest::DecimalFingerprint, DType::I64, {-1, 2});
  return plan;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const lmc::rt::Plan plan = makePlan();
  std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
  std::vector<lmc::rt::Example> examples;
  lmc::rt::Status error;
  if (!lmc::rt::readExamplesJsonl(in, "fuzz", examples, error))
    return 0;
  for (lmc::rt::OverlongPolicy policy :
       {lmc::rt::OverlongPolicy::Error, lmc::rt::OverlongPolicy::Truncate,
        lmc::rt::OverlongPolicy::Alone}) {
    std::vector<lmc::rt::PackedBatch> batches;
    lmc::rt::packExamples(plan, examples, {0, policy}, batches, error);
  }
  return 0;
}
