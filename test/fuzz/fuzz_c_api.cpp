// fuzz_c_api.cpp - libFuzzer target for the whole C API path a host
// program takes: lmc_model_load, weights (lmc_model_load_weights, or
// lmc_model_init_weights when the input carries none), examples as JSON and
// lmc_model_run, reading every result.
//
// Input (test/fuzz/make_c_api_seed.py writes seeds in this form):
//   uint32 LE  n, then n bytes: a package's payload (the flatbuffer; this
//              target wraps it in a valid envelope, so mutations reach the
//              verifier rather than stopping at the checksum)
//   uint32 LE  m, then m bytes: a safetensors file (m = 0: generate weights)
//   the rest:  examples, one JSON object per line (the first 8 are used)
// A length past the end takes what is left. The model gets a 64 MiB memory
// limit, so a package claiming huge parameters must be refused, not
// allocated. Every call must return a status, never crash (the target is
// built with AddressSanitizer and UBSan).

#include "artifact/Envelope.h"
#include "lmc/lmc.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

/// The next length-prefixed part of the input.
std::string takePart(const uint8_t *&data, size_t &size) {
  uint32_t length = 0;
  size_t prefix = size < sizeof length ? size : sizeof length;
  std::memcpy(&length, data, prefix);
  data += prefix;
  size -= prefix;
  size_t taken = length < size ? length : size;
  std::string part(reinterpret_cast<const char *>(data), taken);
  data += taken;
  size -= taken;
  return part;
}

const char *const kScratchNames[] = {"model.lmcpkg", "weights.safetensors"};

/// A private directory for the files the C API reads, made once and
/// removed when the fuzzer exits.
const std::string &scratchDirectory() {
  static const std::string directory = [] {
    const char *root = std::getenv("TMPDIR");
    std::string pattern = std::string(root && *root ? root : "/tmp") + "/lmc-fuzz-c-api-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      std::perror("fuzz_c_api: mkdtemp");
      std::abort();
    }
    return pattern;
  }();
  static const bool cleanup = std::atexit([] {
    for (const char *name : kScratchNames)
      std::remove((scratchDirectory() + "/" + name).c_str());
    ::rmdir(scratchDirectory().c_str());
  }) == 0;
  (void)cleanup;
  return directory;
}

std::string writeScratch(const char *name, const std::string &bytes) {
  std::string path = scratchDirectory() + "/" + name;
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file || std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
      std::fclose(file) != 0) {
    std::perror("fuzz_c_api: writing a scratch file");
    std::abort();
  }
  return path;
}

/// Releases `status` and tells whether the call succeeded.
bool succeeded(lmc_status_t status) {
  bool ok = status == nullptr;
  // Every failure carries a code that names one and a message.
  if (!ok && (lmc_status_code(status) == LMC_STATUS_OK || !lmc_status_message(status)))
    std::abort();
  lmc_status_release(status);
  return ok;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string payload = takePart(data, size);
  std::string weights = takePart(data, size);
  std::string examples(reinterpret_cast<const char *>(data), size);

  std::string package = writeScratch(
      kScratchNames[0],
      lmc::rt::wrapArtifact(reinterpret_cast<const uint8_t *>(payload.data()), payload.size()));
  lmc_model_t *model = nullptr;
  if (!succeeded(lmc_model_load(package.c_str(), &model)))
    return 0;
  bool ready = succeeded(lmc_model_set_memory_limit(model, int64_t(64) << 20));
  if (ready && weights.empty())
    ready = succeeded(lmc_model_init_weights(model, 1));
  else if (ready)
    ready = succeeded(
        lmc_model_load_weights(model, writeScratch(kScratchNames[1], weights).c_str()));

  lmc_examples_t *list = nullptr;
  if (ready && succeeded(lmc_examples_create(&list))) {
    size_t start = 0;
    for (int line = 0; line < 8 && start < examples.size(); ++line) {
      size_t end = examples.find('\n', start);
      if (end == std::string::npos)
        end = examples.size();
      // A line with a NUL in it reaches the C API as its prefix.
      succeeded(lmc_examples_add_json(list, examples.substr(start, end - start).c_str()));
      start = end + 1;
    }
    lmc_results_t *results = nullptr;
    lmc_run_options_t options = {int64_t(examples.size() % 3) * 16, LMC_OVERLONG_TRUNCATE};
    if (succeeded(lmc_model_run(model, list, &options, &results))) {
      for (size_t e = 0; e < lmc_results_example_count(results); ++e)
        for (size_t o = 0; o < lmc_model_output_count(model); ++o) {
          const float *values = nullptr;
          size_t count = 0;
          if (!succeeded(lmc_results_get(results, e, o, &values, &count)))
            std::abort(); // every example has every output
          volatile float sum = 0;
          for (size_t i = 0; i < count; ++i)
            sum = sum + values[i]; // ASan checks the reads
        }
      lmc_results_release(results);
    }
    lmc_examples_release(list);
  }
  lmc_model_release(model);
  return 0;
}
