// PlanInputs.h - declaring a plan's inputs by hand, for tests and fuzzers
// of the packer that need no compiled package.

#ifndef LMC_TEST_SUPPORT_PLANINPUTS_H
#define LMC_TEST_SUPPORT_PLANINPUTS_H

#include "artifact/Plan.h"

namespace lmc::testing {

/// Appends an input of `feature` with its ingest, element type and shape
/// (-1 for dynamic dimensions), and the value that holds it.
inline void addInput(rt::Plan &plan, const char *feature, rt::Ingest ingest, rt::DType dtype,
                     std::vector<int64_t> shape) {
  rt::Value value;
  value.kind = rt::ValueKind::Input;
  value.index = int(plan.inputs.size());
  value.type.dtype = dtype;
  value.type.shape = std::move(shape);
  plan.inputs.push_back({feature, ingest, int(plan.values.size()), {}, {}});
  plan.values.push_back(value);
}

} // namespace lmc::testing

#endif // LMC_TEST_SUPPORT_PLANINPUTS_H
