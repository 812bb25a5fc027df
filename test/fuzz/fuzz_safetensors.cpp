// fuzz_safetensors.cpp - libFuzzer target for the safetensors reader.
//
// Input: a whole weights file. Every malformed header, shape, dtype or
// offset must give a message, never a crash or an allocation beyond the
// file (built with AddressSanitizer and UBSan).

#include "weights/Safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::map<std::string, lmc::cpu::Tensor> tensors;
  ::lmc::rt::Status error;
  lmc::rt::parseSafetensors(std::string(reinterpret_cast<const char *>(data), size), "fuzz",
                            tensors, error);
  return 0;
}
