//===- SequenceGradients.cpp - gradient rules of pad, unpad, pooling, bags ===//
//
// Packing moves tokens, so gradients move back the other way: unpad's
// gradient is a pad and pad's an unpad. A pooled row's gradient reaches its
// sequence's tokens by padding the batch, broadcasting the row over its
// positions and packing again.
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/GradientBuilder.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"


namespace mlir::lmc::autodiff {
namespace {

Type elementOf(Value value) { return typeOf(value).getElementType(); }

/// Repeats row i of `rows` ([N, ...]) for every token of sequence i of the
/// packed batch `packed` ([T, ...], sequences given by `cuSeqlens`).
Value spreadOverTokens(GradientBuilder &gb, Value rows, Value packed, Value cuSeqlens) {
  SmallVector<int64_t> paddedShape{shapeOf(rows)[0], ShapedType::kDynamic};
  llvm::append_range(paddedShape, shapeOf(packed).drop_front());
  auto pad = gb.builder.create<PadOp>(
      gb.loc(), RankedTensorType::get(paddedShape, elementOf(packed)),
      RankedTensorType::get({ShapedType::kDynamic}, gb.builder.getI32Type()), packed,
      cuSeqlens);
  Value spread = gb.broadcastLike(gb.expandDim(rows, 1), pad.getResult());
  return gb.builder
      .create<UnpadOp>(gb.loc(), typeOf(packed), typeOf(cuSeqlens), spread, pad.getLengths())
      .getPacked();
}

LogicalResult differentiateSegmentReduce(SegmentReduceOp op, Value dy, GradientBuilder &gb) {
  Value packed = op.getPacked(), cu = op.getCuSeqlens();
  Type element = elementOf(packed);
  Value zero = gb.scalar(0, element), one = gb.scalar(1, element);
  switch (op.getReduction()) {
  case SegmentReduction::sum:
    gb.accumulate(packed, spreadOverTokens(gb, dy, packed, cu));
    return success();
  case SegmentReduction::mean: {
    // Row i was divided by the length of sequence i: its tokens count.
    Value counts = gb.builder.create<SegmentReduceOp>(
        gb.loc(), typeOf(op.getResult()), SegmentReduction::sum,
        gb.broadcastLike(one, packed), cu);
    Value safe = gb.max(counts, one);
    gb.accumulate(packed, spreadOverTokens(gb, gb.div(dy, safe), packed, cu));
    return success();
  }
  case SegmentReduction::max: {
    Value maxima = spreadOverTokens(gb, op.getResult(), packed, cu);
    Value isMax = gb.compare(ComparePredicate::eq, packed, maxima);
    Value hits = gb.select(isMax, one, zero);
    Value counts = gb.builder.create<SegmentReduceOp>(gb.loc(), typeOf(op.getResult()),
                                                      SegmentReduction::sum, hits, cu);
    Value share = spreadOverTokens(gb, gb.div(dy, gb.max(counts, one)), packed, cu);
    gb.accumulate(packed, gb.select(isMax, share, zero));
    return success();
  }
  case SegmentReduction::first: {
    auto positions = gb.builder.create<PositionsOp>(
        gb.loc(), RankedTensorType::get({ShapedType::kDynamic}, gb.builder.getI64Type()), cu);
    SmallVector<int64_t> column(shapeOf(packed).size(), 1);
    column[0] = ShapedType::kDynamic;
    Value isFirst = gb.compare(
        ComparePredicate::eq,
        gb.reshape(positions, RankedTensorType::get(column, gb.builder.getI64Type())),
        gb.scalar(0, gb.builder.getI64Type()));
    gb.accumulate(packed, gb.select(isFirst, spreadOverTokens(gb, dy, packed, cu), zero));
    return success();
  }
  }
  llvm_unreachable("unknown segment reduction");
}

// Bag b's row is scale_b * sum_j w_bj * table[id_bj] over the ids inside the
// table (and, under mean and sqrtn, with a positive weight), scale_b being
// 1, 1 / sum(w) or 1 / sqrt(sum(w^2)): id_bj's row gets scale_b * w_bj * dy_b.
LogicalResult differentiateEmbeddingBag(FcEmbeddingBagOp op, Value dy, GradientBuilder &gb) {
  if (op.getMaxNorm())
    return op.emitError("lmc-autodiff: embedding_bag with max_norm has no "
                        "gradient rule (the clipping would need one)");
  if (op.getWeights() && gb.isActive(op.getWeights()))
    return op.emitError("lmc-autodiff: embedding_bag's weights must not depend "
                        "on parameters");
  Value ids = op.getIds(), table = op.getTable();
  Type element = elementOf(table), idType = elementOf(ids);
  Value zero = gb.scalar(0, element), one = gb.scalar(1, element);
  int64_t rows = shapeOf(table)[0];
  Value inTable = gb.select(gb.compare(ComparePredicate::ge, ids, gb.scalar(0, idType)),
                            gb.compare(ComparePredicate::lt, ids, gb.scalar(double(rows), idType)),
                            gb.scalar(0, gb.builder.getI1Type()));
  Value falseValue = gb.scalar(0, gb.builder.getI1Type());
  // Under mean and sqrtn the forward pass drops non-positive weights.
  if (op.getWeights() && op.getCombiner() != Combiner::sum)
    inTable = gb.select(inTable, gb.compare(ComparePredicate::gt, op.getWeights(), zero),
                        falseValue);
  Value weights = gb.select(inTable, op.getWeights() ? op.getWeights() : one, zero);
  Value coefficients = weights;
  if (op.getCombiner() != Combiner::sum) {
    bool mean = op.getCombiner() == Combiner::mean;
    Value total = gb.reduceSum(mean ? weights : gb.mul(weights, weights), 1,
                               /*keepDims=*/true);
    Value scale = mean ? gb.div(one, total) : gb.rsqrt(total);
    Value empty = gb.compare(ComparePredicate::eq, total, zero);
    coefficients = gb.mul(weights, gb.select(empty, zero, scale));
  }
  Value rowGradients = gb.mul(gb.expandDim(coefficients, 2), gb.expandDim(dy, 1));
  return gb.accumulateRows(op, table, ids, rowGradients);
}

} // namespace

std::optional<LogicalResult> differentiateSequenceOp(Operation *op,
                                                     ArrayRef<Value> resultGradients,
                                                     GradientBuilder &gb) {
  Value dy = resultGradients.empty() ? Value() : resultGradients.front();
  return OpRuleSwitch(op, gb.probing)
      .Case([&](UnpadOp unpad) -> std::optional<LogicalResult> {
        // The padded input's gradient is zero at its padding positions.
        // Its padded length is the longest sequence's, as the packer's
        // batches have it.
        auto pad = gb.builder.create<PadOp>(gb.loc(), typeOf(unpad.getInput()),
                                            typeOf(unpad.getLengths()), dy,
                                            unpad.getCuSeqlens());
        gb.accumulate(unpad.getInput(), pad.getResult());
        return success();
      })
      .Case([&](PadOp pad) -> std::optional<LogicalResult> {
        auto unpad = gb.builder.create<UnpadOp>(gb.loc(), typeOf(pad.getPacked()),
                                                typeOf(pad.getCuSeqlens()), dy,
                                                pad.getLengths());
        gb.accumulate(pad.getPacked(), unpad.getPacked());
        return success();
      })
      .Case([&](SegmentReduceOp reduce) { return differentiateSegmentReduce(reduce, dy, gb); })
      .Case([&](FcEmbeddingBagOp bag) { return differentiateEmbeddingBag(bag, dy, gb); })
      .Default();
}

} // namespace mlir::lmc::autodiff
