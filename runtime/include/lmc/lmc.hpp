// lmc/lmc.hpp - a thin C++17 layer over the C API (lmc/lmc.h): RAII owners
// for the handles and lmc::Error exceptions instead of statuses. Header-only;
// link lmc_runtime as for the C API.
//
//   lmc::Model model("model.lmcpkg");
//   model.loadWeights("w.safetensors");
//   lmc::Examples examples;
//   examples.addJson(R"({"country": "US", "history": ["a", "b"]})");
//   lmc::Results results = model.run(examples);
//   std::vector<float> logit = results.get(0, 0);
//
// Threads: as in the C API, Model::run may be called from several threads at
// once; Examples and Results are used by one thread at a time.

#ifndef LMC_LMC_HPP
#define LMC_LMC_HPP

#include "lmc/lmc.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lmc {

/// A failed call: the status's code and message.
class Error : public std::runtime_error {
public:
  Error(lmc_status_code_t code, const std::string &message)
      : std::runtime_error(message), code_(code) {}
  lmc_status_code_t code() const { return code_; }

private:
  lmc_status_code_t code_;
};

namespace detail {
/// Throws the status's failure (after releasing it); returns on NULL.
inline void check(lmc_status_t status) {
  if (!status)
    return;
  Error error(lmc_status_code(status), lmc_status_message(status));
  lmc_status_release(status);
  throw error;
}

/// Owns one handle; movable, not copyable.
template <typename T, void (*Release)(T *)> class Handle {
public:
  Handle() = default;
  explicit Handle(T *handle) : handle_(handle) {}
  Handle(Handle &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Handle &operator=(Handle &&other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() { Release(handle_); }
  T *get() const { return handle_; }

protected:
  T *handle_ = nullptr;
};
} // namespace detail

class Examples : public detail::Handle<lmc_examples_t, lmc_examples_release> {
public:
  Examples() { detail::check(lmc_examples_create(&handle_)); }
  /// Appends one example given as a JSON object of features.
  void addJson(const std::string &json) { detail::check(lmc_examples_add_json(handle_, json.c_str())); }
  /// Appends an empty example; the setters fill the last one.
  void add() { detail::check(lmc_examples_add(handle_)); }
  void setStrings(const std::string &feature, const std::vector<std::string> &values) {
    std::vector<const char *> pointers;
    for (const std::string &value : values)
      pointers.push_back(value.c_str());
    detail::check(lmc_examples_set_strings(handle_, feature.c_str(), pointers.data(),
                                           pointers.size()));
  }
  void setInts(const std::string &feature, const std::vector<int64_t> &values) {
    detail::check(lmc_examples_set_ints(handle_, feature.c_str(), values.data(), values.size()));
  }
  void setFloats(const std::string &feature, const std::vector<float> &values) {
    detail::check(lmc_examples_set_floats(handle_, feature.c_str(), values.data(), values.size()));
  }
  size_t size() const { return lmc_examples_count(handle_); }
};

class Results : public detail::Handle<lmc_results_t, lmc_results_release> {
public:
  using Handle::Handle;
  size_t size() const { return lmc_results_example_count(handle_); }
  /// Output `output` of example `example` (a copy of the f32 values).
  std::vector<float> get(size_t example, size_t output) const {
    const float *values = nullptr;
    size_t count = 0;
    detail::check(lmc_results_get(handle_, example, output, &values, &count));
    return std::vector<float>(values, values + count);
  }
  size_t batches() const { return lmc_results_batch_count(handle_); }
  int64_t tokens() const { return lmc_results_token_count(handle_); }
};

class Model : public detail::Handle<lmc_model_t, lmc_model_release> {
public:
  explicit Model(const std::string &path) { detail::check(lmc_model_load(path.c_str(), &handle_)); }
  void loadWeights(const std::string &path) {
    detail::check(lmc_model_load_weights(handle_, path.c_str()));
  }
  void initWeights(uint64_t seed) { detail::check(lmc_model_init_weights(handle_, seed)); }
  /// See lmc_model_set_threads (0: OMP_NUM_THREADS, else every processor).
  void setThreads(int threads) { detail::check(lmc_model_set_threads(handle_, threads)); }
  std::vector<std::string> outputNames() const {
    std::vector<std::string> names;
    for (size_t i = 0; i < lmc_model_output_count(handle_); ++i)
      names.emplace_back(lmc_model_output_name(handle_, i));
    return names;
  }
  Results run(const Examples &examples, int64_t packingLength = 0,
              lmc_overlong_t overlong = LMC_OVERLONG_ERROR) const {
    lmc_run_options_t options{packingLength, overlong};
    lmc_results_t *results = nullptr;
    detail::check(lmc_model_run(handle_, examples.get(), &options, &results));
    return Results(results);
  }
};

} // namespace lmc

#endif // LMC_LMC_HPP
