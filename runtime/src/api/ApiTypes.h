// ApiTypes.h - what the C API's opaque handles hold (lmc_api.cpp, and
// lmc_cuda_api.cpp in the CUDA library).

#ifndef LMC_RUNTIME_API_APITYPES_H
#define LMC_RUNTIME_API_APITYPES_H

#include "session/Model.h"

#include <memory>
#include <string>
#include <vector>

struct lmc_model {
  std::unique_ptr<lmc::rt::Model> model;
  /// lmc_model_device's answer, set when the backend is chosen (load,
  /// lmc_model_use_cuda), so reading it writes nothing.
  std::string device;
};

struct lmc_examples {
  std::vector<lmc::rt::Example> examples;
};

struct lmc_results {
  /// Per example, per output: f32 values.
  std::vector<std::vector<std::vector<float>>> values;
  lmc::rt::RunStatistics statistics;
};

#endif // LMC_RUNTIME_API_APITYPES_H
