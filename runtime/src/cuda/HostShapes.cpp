// HostShapes.cpp - a kernel's value shapes through the ops' shape rules.

#include "cuda/HostShapes.h"

#include "artifact/OpTable.h"

namespace lmc::cuda {

bool inferKernelShapes(const rt::Kernel &kernel, std::vector<HostValue> &locals,
                       rt::Status &error) {
  for (size_t i = 0; i < kernel.body.size(); ++i) {
    const rt::Instruction &op = kernel.body[i];
    auto fail = [&](const std::string &why) {
      return error.fail("kernel '" + kernel.name + "' instruction #" + std::to_string(i) + " (" +
                        rt::opcodeName(op.opcode) + "): " + why);
    };
    if (ops::info(op.opcode).cpu == ops::CpuGroup::Collective)
      return fail("is a collective: DeviceCollectives plans it, not the kernel shapes");
    std::vector<const HostValue *> operands;
    std::vector<const rt::TensorType *> types;
    for (int operand : op.operands) {
      operands.push_back(operand >= 0 ? &locals[size_t(operand)] : nullptr);
      types.push_back(operand >= 0 ? &rt::localType(kernel, size_t(operand)) : nullptr);
    }
    std::vector<HostValue> results;
    std::string why;
    if (!ops::inferShapes(op, operands, types, results, why))
      return fail(why);
    for (size_t r = 0; r < results.size(); ++r) {
      if (!results[r].isStatic())
        return fail("the shape of result #" + std::to_string(r) +
                    " depends on values the host does not hold");
      locals.push_back(std::move(results[r]));
    }
  }
  return true;
}

} // namespace lmc::cuda
