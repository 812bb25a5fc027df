//===- LmcKernelOps.cpp - verifier of lmc.kernel ---------------------------===//

#include "dialects/lmc/IR/LmcOps.h"

using namespace mlir;
using namespace mlir::lmc;

LogicalResult KernelOp::verify() {
  Block &body = getBody().front();
  if (body.getArgumentTypes() != getInputs().getTypes())
    return emitOpError("region arguments must have the types of the inputs");
  auto yield = llvm::cast<YieldOp>(body.getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yielded values must have the types of the results");
  auto count = [&](auto opType) {
    using OpType = decltype(opType);
    return llvm::range_size(body.getOps<OpType>());
  };
  if (getKind() == KernelKind::gemm && count(MatmulOp()) != 1)
    return emitOpError("a gemm kernel holds exactly one lmc.matmul");
  if (getKind() == KernelKind::attention) {
    if (count(AttentionOp()) + count(AttentionGradOp()) != 1)
      return emitOpError("an attention kernel holds exactly one lmc.attention or "
                         "lmc.attention_grad");
    if (!getBlockQ() || !getBlockK() || *getBlockQ() < 1 || *getBlockK() < 1)
      return emitOpError("an attention kernel needs positive block_q and block_k");
  }
  if (getKind() == KernelKind::collective &&
      (count(AllReduceOp()) + count(ReduceScatterOp()) + count(AllGatherOp()) +
           count(AllGatherRowsOp()) + count(ShardSliceOp()) + count(RankOp()) !=
       1 ||
       body.getOperations().size() != 2))
    return emitOpError("a collective kernel holds exactly one collective, lmc.shard_slice or "
                       "lmc.rank");
  if (getKind() == KernelKind::optimizer &&
      (count(AdamwRowsOp()) != 1 || body.getOperations().size() != 2))
    return emitOpError("an optimizer kernel holds exactly one lmc.adamw_rows");
  return success();
}
