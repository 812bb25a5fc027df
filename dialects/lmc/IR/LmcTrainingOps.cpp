//===- LmcTrainingOps.cpp - verifiers of collectives and adamw_rows -------===//

#include "dialects/lmc/IR/LmcOps.h"
#include "dialects/lmc/IR/LmcShapeRules.h"

using namespace mlir;
using namespace mlir::lmc;

static LogicalResult verifyRanks(Operation *op, int64_t ranks) {
  if (ranks < 2)
    return op->emitOpError("needs at least 2 ranks, got ") << ranks;
  return success();
}

// `shard` is one rank's part of `whole`: 1-D, ceil(n / ranks) elements of
// whole's element type; `whole` is statically shaped.
static LogicalResult verifyShardOf(Operation *op, int64_t ranks, ShapedType whole,
                                   ShapedType shard, StringRef wholeName,
                                   StringRef shardName) {
  if (failed(verifyRanks(op, ranks)))
    return failure();
  if (!whole.hasStaticShape())
    return op->emitOpError() << wholeName << " must be statically shaped, got "
                             << formatShape(whole.getShape());
  if (failed(verifySameElementType(op, "input and result", {whole, shard})))
    return failure();
  int64_t expected = (whole.getNumElements() + ranks - 1) / ranks;
  return verifyShapeCompatible(op, shardName, shard.getShape(), {expected});
}

LogicalResult AllReduceOp::verify() {
  if (failed(verifyRanks(*this, getRanks())))
    return failure();
  if (getInput().getType() != getType())
    return emitOpError("result type must equal the input type");
  return success();
}

LogicalResult ReduceScatterOp::verify() {
  return verifyShardOf(*this, getRanks(), getInput().getType(), getType(), "input", "result");
}

LogicalResult AllGatherOp::verify() {
  return verifyShardOf(*this, getRanks(), getType(), getInput().getType(), "result", "input");
}

LogicalResult ShardSliceOp::verify() {
  return verifyShardOf(*this, getRanks(), getInput().getType(), getType(), "input", "result");
}

LogicalResult AllGatherRowsOp::verify() {
  if (failed(verifyRanks(*this, getRanks())))
    return failure();
  ShapedType input = getInput().getType();
  if (input.getRank() < 1 || !input.isDynamicDim(0) ||
      llvm::any_of(input.getShape().drop_front(), ShapedType::isDynamic))
    return emitOpError("input dimension 0 must be dynamic (each rank's row count) and the "
                       "others static, got ")
           << formatShape(input.getShape());
  if (input != getType())
    return emitOpError("result type must equal the input type");
  return success();
}

LogicalResult RankOp::verify() { return verifyRanks(*this, getRanks()); }

LogicalResult AdamwRowsOp::verify() {
  int64_t ranks = getRanks(), tableRows = getTableRows();
  if (ranks < 1 || tableRows < 1)
    return emitOpError("ranks and table_rows must be positive");
  if (bool(getRank()) != (ranks > 1))
    return emitOpError(ranks > 1 ? "needs rank(...) with more than one rank"
                                 : "takes no rank(...) with one rank");
  ShapedType rows = getRows().getType();
  if (rows.getRank() < 1 || rows.isDynamicDim(rows.getRank() - 1))
    return emitOpError("rows must be [ids..., W] with a static W, got ")
           << formatShape(rows.getShape());
  int64_t width = rows.getDimSize(rows.getRank() - 1);
  SmallVector<int64_t> expected(getIds().getType().getShape());
  expected.push_back(width);
  if (failed(verifyShapeCompatible(*this, "rows", rows.getShape(), expected)))
    return failure();
  int64_t shard = (tableRows * width + ranks - 1) / ranks;
  for (Value state : {getM(), getV(), getNewM(), getNewV()})
    if (failed(verifyShapeCompatible(*this, "moments and their results",
                                     llvm::cast<ShapedType>(state.getType()).getShape(),
                                     {shard})))
      return failure();
  // The table: its shard flattened, or with one rank the table as stored.
  auto table = llvm::cast<ShapedType>(getTable().getType());
  bool flat = table.getRank() == 1 && table.getShape()[0] == shard;
  bool stored = ranks == 1 && table.getShape() == ArrayRef<int64_t>{tableRows, width};
  if (!flat && !stored)
  {
    InFlightDiagnostic diagnostic = emitOpError("table must be tensor<") << shard << "xf32>";
    if (ranks == 1)
      diagnostic << " or the stored table (tensor<" << tableRows << "x" << width << "xf32>)";
    return diagnostic << ", got " << getTable().getType();
  }
  if (getNewTable().getType() != getTable().getType())
    return emitOpError("new_table must have the table's type");
  if (getStep().getType().getShape() != ArrayRef<int64_t>{4})
    return emitOpError("step must be tensor<4xf32>");
  if (getApply().getType().getRank() != 0)
    return emitOpError("apply must be a scalar tensor<i1>");
  return success();
}
