//===- FormKernels.cpp - group ops into lmc.kernel ------------------------===//
//
// matmul => gemm kernel; attention => attention kernel with a tile shape;
// each run of other ops between them => one fused kernel.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_FORMKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;

namespace {

/// Rows of queries and keys per step of the online softmax.
std::pair<int64_t, int64_t> attentionTiles(AttentionOp attention) {
  auto query = attention.getQuery().getType();
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

/// Moves `group` (ops in block order) into one kernel placed where the last
/// of them was.
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
    auto [blockQ, blockK] = attentionTiles(llvm::cast<AttentionOp>(group.front()));
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
    for (Operation &op : block) {
      if (staysOutside(&op))
        continue;
      if (isa<MatmulOp, AttentionOp>(op)) {
        closeFused();
        groups.push_back({{&op}, isa<MatmulOp>(op) ? KernelKind::gemm
                                                   : KernelKind::attention});
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
