// GemmForm.cpp - the one reading of a gemm kernel's instructions.

#include "artifact/Plan.h"

namespace lmc::rt {

std::optional<GemmForm> gemmForm(const Kernel &kernel) {
  if (kernel.body.empty() || kernel.body.size() > 2 || kernel.body[0].opcode != Opcode::Matmul ||
      kernel.body[0].operands.size() != 2 || kernel.body[0].results.size() != 1)
    return std::nullopt;
  GemmForm form;
  form.matmul = &kernel.body[0];
  form.lhs = form.matmul->operands[0];
  form.rhs = form.matmul->operands[1];
  int product = int(kernel.arguments.size());
  form.result = product;
  if (kernel.body.size() == 1)
    return form;
  const Instruction &add = kernel.body[1];
  if (add.opcode != Opcode::Add || add.operands.size() != 2)
    return std::nullopt;
  int lhs = add.operands[0], rhs = add.operands[1];
  int bias = lhs == product ? rhs : rhs == product ? lhs : -1;
  if (bias < 0 || bias == product || localType(kernel, size_t(bias)).shape.size() != 1)
    return std::nullopt;
  form.bias = bias;
  form.result = product + 1;
  return form;
}

} // namespace lmc::rt
