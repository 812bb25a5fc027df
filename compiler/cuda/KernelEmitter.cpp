//===- KernelEmitter.cpp - which emitter writes which kernel --------------===//

#include "compiler/cuda/KernelEmitter.h"

#include <sstream>

namespace mlir::lmc::cuda {

std::string floatLiteral(double value) {
  std::ostringstream out;
  out.precision(9);
  out << value << "f";
  std::string text = out.str();
  return text.find_first_of(".e") == std::string::npos ? text.insert(text.size() - 1, ".0") : text;
}

bool emitKernel(const ::lmc::rt::Plan &plan, const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                std::string &error) {
  switch (kernel.kind) {
  case ::lmc::rt::KernelKind::Attention:
    return kernel.body.size() == 1 && kernel.body[0].opcode == ::lmc::rt::Opcode::AttentionGrad
               ? emitAttentionGradKernel(kernel, out, error)
               : emitAttentionKernel(kernel, out, error);
  case ::lmc::rt::KernelKind::Gemm: out = {}; return true; // cuBLASLt runs it
  case ::lmc::rt::KernelKind::Collective: out = {}; return true; // the communicator runs it
  case ::lmc::rt::KernelKind::Optimizer: return emitOptimizerKernel(kernel, out, error);
  case ::lmc::rt::KernelKind::Fused: return emitFusedKernel(plan, kernel, out, error);
  }
  return false;
}

} // namespace mlir::lmc::cuda
