//===- KernelEmitter.cpp - which emitter writes which kernel --------------===//

#include "compiler/cuda/KernelEmitter.h"

namespace mlir::lmc::cuda {

bool emitKernel(const ::lmc::rt::Plan &plan, const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                std::string &error) {
  switch (kernel.kind) {
  case ::lmc::rt::KernelKind::Attention:
    // Training's attention ops run on the CPU backend only so far.
    for (const ::lmc::rt::Instruction &op : kernel.body)
      if (op.opcode == ::lmc::rt::Opcode::AttentionGrad || op.results.size() > 1) {
        error = "kernel '" + kernel.name + "': " +
                (op.opcode == ::lmc::rt::Opcode::AttentionGrad
                     ? std::string("lmc.attention_grad")
                     : std::string("attention's log-sum-exp result")) +
                " has no CUDA form yet; compile training steps with --target=cpu";
        return false;
      }
    return emitAttentionKernel(kernel, out, error);
  case ::lmc::rt::KernelKind::Gemm: out = {}; return true; // cuBLASLt runs it
  default: return emitFusedKernel(plan, kernel, out, error);
  }
}

} // namespace mlir::lmc::cuda
