// lmc_api.cpp - the C API over rt::Model.

#include "lmc/lmc.h"

#include "api/ApiGuard.h"
#include "api/ApiTypes.h"
#include "io/ExampleJson.h"

#include <cstring>
#include <new>

namespace {

lmc_status_t invalid(const char *what) {
  return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT, "%s", what);
}

/// The runtime's status as the C API's: its code and message as they are.
lmc_status_t toC(const lmc::rt::Status &status) {
  return status.ok() ? nullptr
                     : lmc_status_create(status.code(), "%s", status.message().c_str());
}

lmc_status_t lastExample(lmc_examples_t *examples, const char *feature,
                         lmc::rt::FeatureValue *&value) {
  if (!examples || !feature)
    return invalid("examples and feature must not be NULL");
  if (examples->examples.empty())
    return invalid("call lmc_examples_add before setting features");
  value = &examples->examples.back().features[feature];
  *value = lmc::rt::FeatureValue();
  return nullptr;
}

} // namespace

extern "C" {

lmc_status_t lmc_model_load(const char *path, lmc_model_t **model) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model || !path)
      return invalid("path and model must not be NULL");
    *model = nullptr;
    lmc::rt::Status status;
    std::unique_ptr<lmc::rt::Model> loaded = lmc::rt::Model::fromFile(path, status);
    if (!loaded)
      return toC(status);
    std::string device = loaded->currentBackend().label();
    *model = new (std::nothrow) lmc_model{std::move(loaded), std::move(device)};
    return *model ? nullptr : lmc_status_create(LMC_STATUS_OUT_OF_MEMORY, "out of memory");
  });
}

lmc_status_t lmc_model_load_weights(lmc_model_t *model, const char *path) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model || !path)
      return invalid("model and path must not be NULL");
    lmc::rt::Status status;
    model->model->loadWeights(path, status);
    return toC(status);
  });
}

lmc_status_t lmc_model_init_weights(lmc_model_t *model, uint64_t seed) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model)
      return invalid("model must not be NULL");
    std::vector<std::pair<std::string, lmc::cpu::Tensor>> weights;
    lmc::rt::Status status;
    if (model->model->generateWeights(seed, weights, status))
      model->model->setWeights({weights.begin(), weights.end()}, status);
    return toC(status);
  });
}

lmc_status_t lmc_model_set_memory_limit(lmc_model_t *model, int64_t bytes) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model)
      return invalid("model must not be NULL");
    if (bytes <= 0)
      return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT,
                               "the memory limit must be positive, not %lld", (long long)bytes);
    model->model->setMemoryLimit(bytes);
    return nullptr;
  });
}

lmc_status_t lmc_model_set_threads(lmc_model_t *model, int threads) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model)
      return invalid("model must not be NULL");
    if (threads < 0 || threads > 1024)
      return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT,
                               "threads must be 0 (the default) to 1024, not %d", threads);
    model->model->setThreads(threads);
    return nullptr;
  });
}

const char *lmc_model_device(const lmc_model_t *model) {
  return model ? model->device.c_str() : "";
}

size_t lmc_model_output_count(const lmc_model_t *model) {
  return model ? model->model->plan().outputs.size() : 0;
}

const char *lmc_model_output_name(const lmc_model_t *model, size_t output) {
  if (!model || output >= model->model->plan().outputs.size())
    return nullptr;
  return model->model->plan().outputs[output].name.c_str();
}

void lmc_model_release(lmc_model_t *model) { delete model; }

lmc_status_t lmc_examples_create(lmc_examples_t **examples) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!examples)
      return invalid("examples must not be NULL");
    *examples = new (std::nothrow) lmc_examples();
    return *examples ? nullptr : lmc_status_create(LMC_STATUS_OUT_OF_MEMORY, "out of memory");
  });
}

lmc_status_t lmc_examples_add_json(lmc_examples_t *examples, const char *json) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!examples || !json)
      return invalid("examples and json must not be NULL");
    lmc::rt::Example example;
    lmc::rt::Status error;
    if (!lmc::rt::parseExample(json, "example " + std::to_string(examples->examples.size()),
                               example, error))
      return toC(error);
    examples->examples.push_back(std::move(example));
    return nullptr;
  });
}

lmc_status_t lmc_examples_add(lmc_examples_t *examples) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!examples)
      return invalid("examples must not be NULL");
    examples->examples.emplace_back();
    examples->examples.back().origin = "example " + std::to_string(examples->examples.size() - 1);
    return nullptr;
  });
}

lmc_status_t lmc_examples_set_strings(lmc_examples_t *examples, const char *feature,
                                      const char *const *values, size_t count) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    lmc::rt::FeatureValue *value = nullptr;
    LMC_RETURN_IF_ERROR(lastExample(examples, feature, value));
    value->kind = lmc::rt::FeatureValue::Kind::Strings;
    for (size_t i = 0; i < count; ++i)
      value->strings.emplace_back(values[i] ? values[i] : "");
    return nullptr;
  });
}

lmc_status_t lmc_examples_set_ints(lmc_examples_t *examples, const char *feature,
                                   const int64_t *values, size_t count) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    lmc::rt::FeatureValue *value = nullptr;
    LMC_RETURN_IF_ERROR(lastExample(examples, feature, value));
    value->kind = lmc::rt::FeatureValue::Kind::Integers;
    value->integers.assign(values, values + count);
    return nullptr;
  });
}

lmc_status_t lmc_examples_set_floats(lmc_examples_t *examples, const char *feature,
                                     const float *values, size_t count) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    lmc::rt::FeatureValue *value = nullptr;
    LMC_RETURN_IF_ERROR(lastExample(examples, feature, value));
    value->kind = lmc::rt::FeatureValue::Kind::Reals;
    value->reals.assign(values, values + count);
    return nullptr;
  });
}

size_t lmc_examples_count(const lmc_examples_t *examples) {
  return examples ? examples->examples.size() : 0;
}

void lmc_examples_release(lmc_examples_t *examples) { delete examples; }

lmc_status_t lmc_model_run(const lmc_model_t *model, const lmc_examples_t *examples,
                           const lmc_run_options_t *options, lmc_results_t **results) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model || !examples || !results)
      return invalid("model, examples and results must not be NULL");
    *results = nullptr;
    lmc::rt::PackingOptions packing;
    if (options) {
      // The caller's enum may hold any integer: read it as one.
      int overlong = 0;
      static_assert(sizeof(overlong) == sizeof(options->overlong), "an int-sized enum");
      std::memcpy(&overlong, &options->overlong, sizeof overlong);
      if (options->packing_length < 0)
        return invalid("lmc_run_options_t.packing_length must not be negative");
      if (overlong < LMC_OVERLONG_ERROR || overlong > LMC_OVERLONG_ALONE)
        return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT,
                                 "lmc_run_options_t.overlong is %d; use LMC_OVERLONG_ERROR, "
                                 "LMC_OVERLONG_TRUNCATE or LMC_OVERLONG_ALONE",
                                 overlong);
      packing.packingLength = options->packing_length;
      packing.overlong = lmc::rt::OverlongPolicy(overlong);
    }
    std::vector<lmc::rt::ExampleOutputs> outputs;
    // Owned until handed over, so an exception cannot leak it.
    std::unique_ptr<lmc_results> out(new (std::nothrow) lmc_results());
    if (!out)
      return lmc_status_create(LMC_STATUS_OUT_OF_MEMORY, "out of memory");
    lmc::rt::Status status;
    if (!model->model->run(examples->examples, packing, outputs, out->statistics, status))
      return toC(status);
    for (const lmc::rt::ExampleOutputs &example : outputs) {
      out->values.emplace_back();
      for (const lmc::cpu::Tensor &tensor : example.outputs) {
        std::vector<float> values(size_t(tensor.numElements()));
        for (size_t i = 0; i < values.size(); ++i)
          values[i] = float(lmc::cpu::realAt(tensor, int64_t(i)));
        out->values.back().push_back(std::move(values));
      }
    }
    *results = out.release();
    return nullptr;
  });
}

size_t lmc_results_example_count(const lmc_results_t *results) {
  return results ? results->values.size() : 0;
}

lmc_status_t lmc_results_get(const lmc_results_t *results, size_t example, size_t output,
                             const float **values, size_t *count) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!results || !values || !count)
      return invalid("results, values and count must not be NULL");
    if (example >= results->values.size() || output >= results->values[example].size())
      return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT,
                               "no output %zu of example %zu (%zu examples)", output, example,
                               results->values.size());
    *values = results->values[example][output].data();
    *count = results->values[example][output].size();
    return nullptr;
  });
}

size_t lmc_results_batch_count(const lmc_results_t *results) {
  return results ? results->statistics.batches : 0;
}

int64_t lmc_results_token_count(const lmc_results_t *results) {
  return results ? results->statistics.tokens : 0;
}

void lmc_results_release(lmc_results_t *results) { delete results; }

} // extern "C"
