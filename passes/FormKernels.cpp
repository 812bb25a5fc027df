//===- FormKernels.cpp - group ops into lmc.kernel ------------------------===//
//
// matmul => gemm kernel (with the bias add that follows it, as the GEMM's
// epilogue); attention or its gradient => attention kernel with a tile
// shape; a collective, or an op that reads the executing rank => a
// collective kernel of its own; lmc.adamw_rows => an optimizer kernel;
// each run of other ops between them => one fused kernel.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "artifact/OpTable.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_FORMKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;

namespace {

/// Rows of queries and keys per step of the online softmax (the backward
/// walks the same tiles).
std::pair<int64_t, int64_t> attentionTiles(Operation *attention) {
  auto query = llvm::cast<RankedTensorType>(attention->getOperand(0).getType());
  int64_t headDim = query.getShape().back();
  auto [blockQ, blockK] = headDim <= 64    ? std::pair<int64_t, int64_t>(128, 128)
                          : headDim <= 128 ? std::pair<int64_t, int64_t>(128, 64)
                                           : std::pair<int64_t, int64_t>(64, 32);
  if (query.getElementType().isF32())
    blockK /= 2; // f32 tiles take twice the shared memory
  return {blockQ, blockK};
}

/// Ops that stay outside kernels, as kernel inputs.
bool staysOutside(Operation *op) {
  return isa<ConstantOp, ParamLoadOp, KernelOp, func::ReturnOp>(op);
}

/// The add of a bias vector to `matmul`'s result, when it is the next op
/// that forms kernels and the result's only use: GEMM libraries apply it as
/// an epilogue (cuBLASLt's BIAS, BLAS's beta = 1 over the broadcast bias),
/// saving a pass over the output.
AddOp biasAddOf(MatmulOp matmul) {
  Operation *next = matmul->getNextNode();
  while (next && staysOutside(next) && !isa<KernelOp, func::ReturnOp>(next))
    next = next->getNextNode();
  auto add = llvm::dyn_cast_or_null<AddOp>(next);
  Value result = matmul.getResult();
  if (!add || !result.hasOneUse())
    return nullptr;
  Value bias = add.getLhs() == result ? add.getRhs() : add.getLhs();
  auto biasType = llvm::cast<RankedTensorType>(bias.getType());
  auto resultType = llvm::cast<RankedTensorType>(result.getType());
  if (bias == result || biasType.getRank() != 1 ||
      biasType.getElementType() != resultType.getElementType() ||
      biasType.isDynamicDim(0) || biasType.getDimSize(0) != resultType.getShape().back() ||
      add.getType() != resultType)
    return nullptr;
  return add;
}

/// Moves `group` (ops in block order) into one kernel placed where the last
/// of them was.
/// The kind of kernel `op` runs alone in, from the op table's CUDA form
/// (runtime/artifact/Ops.def), which both backends follow; std::nullopt for
/// an op that joins a fused kernel.
std::optional<KernelKind> kernelOfItsOwn(Operation &op) {
  std::optional<::lmc::fb::Opcode> opcode = ::lmc::ops::opcodeNamed(op.getName().getStringRef());
  if (!opcode)
    return std::nullopt;
  switch (::lmc::ops::info(*opcode).cuda) {
  case ::lmc::ops::CudaForm::AttentionKernel: return KernelKind::attention;
  case ::lmc::ops::CudaForm::CollectiveKernel: return KernelKind::collective;
  case ::lmc::ops::CudaForm::OptimizerKernel: return KernelKind::optimizer;
  default: return std::nullopt;
  }
}

void outline(ArrayRef<Operation *> group, KernelKind kind, int64_t index) {
  llvm::SmallPtrSet<Operation *, 16> members(group.begin(), group.end());
  SetVector<Value> inputs, outputs;
  for (Operation *op : group) {
    for (Value operand : op->getOperands())
      if (!members.contains(operand.getDefiningOp()))
        inputs.insert(operand);
    for (Value result : op->getResults())
      for (Operation *user : result.getUsers())
        if (!members.contains(user))
          outputs.insert(result);
  }
  Operation *last = group.back();
  OpBuilder builder(last);
  auto kernel = builder.create<KernelOp>(
      last->getLoc(), ValueRange(outputs.getArrayRef()).getTypes(), kind,
      builder.getStringAttr("k" + std::to_string(index)), inputs.getArrayRef(),
      IntegerAttr(), IntegerAttr());
  if (kind == KernelKind::attention) {
    auto [blockQ, blockK] = attentionTiles(group.front());
    kernel.setBlockQAttr(builder.getI64IntegerAttr(blockQ));
    kernel.setBlockKAttr(builder.getI64IntegerAttr(blockK));
  }
  Block *body = builder.createBlock(&kernel.getBody());
  IRMapping mapping;
  for (Value input : inputs)
    mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
  for (Operation *op : group)
    builder.clone(*op, mapping);
  SmallVector<Value> yielded;
  for (Value output : outputs)
    yielded.push_back(mapping.lookup(output));
  builder.create<YieldOp>(last->getLoc(), yielded);
  for (auto [output, result] : llvm::zip(outputs, kernel.getResults())) {
    Value replaced = output;
    replaced.replaceUsesWithIf(result, [&](OpOperand &use) {
      return !members.contains(use.getOwner());
    });
  }
  for (Operation *op : llvm::reverse(group))
    op->erase();
}

struct FormKernelsPass
    : mlir::lmc::impl::FormKernelsPassBase<FormKernelsPass> {
  void runOnOperation() override {
    Block &block = getOperation().getBody().front();
    // Decide the groups on a snapshot, then outline them.
    SmallVector<std::pair<SmallVector<Operation *>, KernelKind>> groups;
    SmallVector<Operation *> fused;
    auto closeFused = [&]() {
      if (!fused.empty())
        groups.push_back({fused, KernelKind::fused});
      fused.clear();
    };
    llvm::SmallPtrSet<Operation *, 8> epilogues;
    for (Operation &op : block) {
      if (staysOutside(&op) || epilogues.contains(&op))
        continue;
      if (auto matmul = llvm::dyn_cast<MatmulOp>(op)) {
        closeFused();
        SmallVector<Operation *> gemm{&op};
        if (AddOp add = biasAddOf(matmul)) {
          gemm.push_back(add);
          epilogues.insert(add);
        }
        groups.push_back({gemm, KernelKind::gemm});
        continue;
      }
      if (std::optional<KernelKind> kind = kernelOfItsOwn(op)) {
        closeFused();
        groups.push_back({{&op}, *kind});
        continue;
      }
      fused.push_back(&op);
    }
    closeFused();
    for (auto [index, group] : llvm::enumerate(groups))
      outline(group.first, group.second, int64_t(index));
  }
};

} // namespace
