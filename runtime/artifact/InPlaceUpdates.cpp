// InPlaceUpdates.cpp - which optimizer results the backends compute in
// their parameter's storage (see markInPlaceUpdates in Plan.h).

#include "artifact/Plan.h"

namespace lmc::rt {

void markInPlaceUpdates(Plan &plan) {
  // The last step reading each value, and the outputs that return it.
  std::vector<int> lastReader(plan.values.size(), -1);
  std::vector<int> returnedBy(plan.values.size(), 0);
  for (size_t s = 0; s < plan.steps.size(); ++s)
    for (int operand : plan.steps[s].operands)
      lastReader[size_t(operand)] = int(s);
  for (const Output &output : plan.outputs)
    ++returnedBy[size_t(output.value)];

  for (size_t s = 0; s < plan.steps.size(); ++s) {
    Step &step = plan.steps[s];
    step.inPlace.assign(step.results.size(), -1);
    const Kernel &kernel = plan.kernels[size_t(step.kernel)];
    if (kernel.kind != KernelKind::Optimizer)
      continue;
    // lmc.adamw_rows: operands 0-2 (table, m, v) become results 0-2.
    const Instruction &update = kernel.body[0];
    for (size_t y = 0; y < kernel.yields.size(); ++y) {
      size_t r = size_t(kernel.yields[y]) - kernel.arguments.size();
      if (r >= 3 || size_t(update.operands[r]) >= step.operands.size())
        continue;
      int from = step.operands[size_t(update.operands[r])], result = step.results[y];
      const Value &source = plan.values[size_t(from)];
      if (source.kind != ValueKind::Parameter || lastReader[size_t(from)] != int(s) ||
          lastReader[size_t(result)] != -1 || returnedBy[size_t(result)] != 1)
        continue;
      for (Output &output : plan.outputs)
        if (output.value == result && output.updates == source.index) {
          step.inPlace[y] = source.index;
          output.inPlace = true;
        }
    }
  }
}

} // namespace lmc::rt
