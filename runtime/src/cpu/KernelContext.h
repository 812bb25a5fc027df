// KernelContext.h - what an op implementation of the CPU backend sees.
//
// The interpreter (Interpreter.cpp) runs a kernel's instructions in order;
// each op reads its operand tensors, asks the context for result storage
// (scratch, or the kernel's output buffer when the result is yielded) and
// reports failures through it. Result shapes come from the ops' shape
// rules; ops check the element types and the values they rely on, so a
// corrupt artifact fails with a message.

#ifndef LMC_RUNTIME_CPU_KERNELCONTEXT_H
#define LMC_RUNTIME_CPU_KERNELCONTEXT_H

#include "artifact/OpSlots.h"
#include "artifact/ShapeRules.h"
#include "collectives/Communicator.h"
#include "cpu/FeatureColumnKernels.h"
#include "cpu/Tensor.h"
#include "cpu/ThreadPool.h"

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmc::cpu {

class KernelContext {
public:
  using Allocator = std::function<Tensor(size_t result, DType, std::vector<int64_t>)>;

  KernelContext(const rt::Plan &plan, const rt::Kernel &kernel, int64_t memoryLimit,
                Allocator allocate)
      : plan(plan), kernel(kernel), memoryLimit(memoryLimit), allocator(std::move(allocate)) {}

  const rt::Plan &plan;
  const rt::Kernel &kernel;
  const rt::Instruction *instruction = nullptr;
  /// The declared types of the current instruction's operands (null for
  /// an absent optional operand).
  std::vector<const rt::TensorType *> operandTypes;
  /// Vocabulary tables of the plan's lmc.fc.vocab_lookup instructions,
  /// built once when the model is loaded.
  const std::unordered_map<const rt::Instruction *, VocabularyIndex> *vocabularies = nullptr;
  /// The ranks a collective kernel runs over.
  rt::Communicator *communicator = nullptr;

  /// The current instruction's result shapes, from its shape rule
  /// (artifact/ShapeRules.h) over the operands at hand. Only a shape that
  /// depends on other ranks' data (all_gather_rows) is completed by its op.
  std::vector<ops::ValueShape> resultShapes;

  /// Storage for result `result` of the current instruction, of the shape
  /// its rule gave, after checking that `dtype` is the declared one.
  /// Returns false (with the error set) on a mismatch.
  bool allocate(size_t result, DType dtype, Tensor &out);

  /// Records a failure of the current instruction (INVALID_ARGUMENT unless
  /// `code` says otherwise); the first one is kept. Returns false.
  bool fail(const std::string &message, lmc_status_code_t code = LMC_STATUS_INVALID_ARGUMENT);
  /// Records `failure` (a communicator's, say) with its code.
  bool fail(const rt::Status &failure) { return fail(failure.message(), failure.code()); }
  const rt::Status &error() const { return status; }

private:
  int64_t memoryLimit;
  Allocator allocator;
  rt::Status status;
};

/// An operand as f32 values: the tensor's own data when it is f32, the
/// copy the backend keeps of an f16/bf16 parameter (Tensor::widened), else
/// a copy converted here (on the team's threads).
class FloatInput {
public:
  explicit FloatInput(const Tensor &tensor);
  const float *data() const { return pointer; }

private:
  std::shared_ptr<uint8_t[]> converted;
  const float *pointer;
};

/// Writes `tensor`'s values as f32 into `to` (numElements() floats), on
/// the team's threads.
void widen(const Tensor &tensor, float *to);

/// A result computed in f32: writes into the tensor directly when it is
/// f32, else into a buffer (uninitialized: kernels write every element)
/// that commit() rounds into the tensor's type.
class FloatOutput {
public:
  explicit FloatOutput(Tensor &tensor);
  float *data() { return pointer; }
  void commit();

private:
  Tensor &tensor;
  std::shared_ptr<uint8_t[]> buffer;
  float *pointer;
};

// One function per op family; each returns false after ctx.fail().
using Operands = std::vector<const Tensor *>;
bool runElementwise(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runDataMovement(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runReduction(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runMatmul(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
/// A gemm kernel's matmul and the bias add after it, as one GEMM with the
/// bias as epilogue; `ctx.instruction` is the add (its result is stored).
bool runBiasMatmul(KernelContext &ctx, const rt::Instruction &matmul, const Tensor &lhs,
                   const Tensor &rhs, const Tensor &bias, Tensor &result);
bool runComposite(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runAttention(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runAttentionGrad(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runSequence(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runFeatureColumn(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runCollective(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);
bool runAdamwRows(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_KERNELCONTEXT_H
