// OutputJson.cpp - writing outputs as JSON with nlohmann::json.

#include "io/OutputJson.h"

#include <nlohmann/json.hpp>

namespace lmc::rt {
namespace {

nlohmann::ordered_json nest(const cpu::Tensor &tensor, size_t dim, int64_t &next) {
  if (dim == tensor.shape.size()) {
    int64_t i = next++;
    if (isFloat(tensor.dtype))
      return cpu::realAt(tensor, i);
    return cpu::integerAt(tensor, i);
  }
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (int64_t j = 0; j < tensor.shape[dim]; ++j)
    array.push_back(nest(tensor, dim + 1, next));
  return array;
}

} // namespace

std::string outputsToJson(const Plan &plan, const ExampleOutputs &outputs) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (size_t o = 0; o < outputs.outputs.size(); ++o) {
    const cpu::Tensor &tensor = outputs.outputs[o];
    bool row = !tensor.shape.empty() && tensor.shape[0] == 1;
    int64_t next = 0;
    object[plan.outputs[o].name] = nest(tensor, row ? 1 : 0, next);
  }
  return object.dump();
}

} // namespace lmc::rt
