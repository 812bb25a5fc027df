// Tests the folders directly: what they return, and what they rewrite in
// place, including constant materialization through the dialect.

#include "LmcTestContext.h"

namespace mlir::lmc::testing {
namespace {

using FoldTest = LmcTest;

// Folds `op` with no constant operands. Returns the replacement of its single
// result, the result itself when the op was updated in place, or null when
// nothing folded.
OpFoldResult foldSingleResult(Operation *op) {
  SmallVector<OpFoldResult> results;
  SmallVector<Attribute> constants(op->getNumOperands());
  if (failed(op->fold(constants, results)))
    return {};
  // An in-place fold succeeds without replacements.
  return results.empty() ? OpFoldResult(op->getResult(0)) : results.front();
}

TEST_F(FoldTest, CastThroughLosslessTypeFoldsToInput) {
  Block *body = startFunction({tensor({8}, builder.getF16Type())});
  Value x = body->getArgument(0);
  Value wide = builder.create<CastOp>(loc(), tensor({8}, builder.getF32Type()), x);
  auto back = builder.create<CastOp>(loc(), tensor({8}, builder.getF16Type()), wide);

  OpFoldResult folded = foldSingleResult(back);
  EXPECT_EQ(llvm::dyn_cast_if_present<Value>(folded), x);
}

TEST_F(FoldTest, CastThroughNarrowerTypeDoesNotFold) {
  Block *body = startFunction({tensor({8}, builder.getF32Type())});
  Value narrow = builder.create<CastOp>(
      loc(), tensor({8}, builder.getF16Type()), body->getArgument(0));
  auto back = builder.create<CastOp>(loc(), tensor({8}, builder.getF32Type()), narrow);

  EXPECT_TRUE(!foldSingleResult(back));
  EXPECT_EQ(back.getInput(), narrow);
}

TEST_F(FoldTest, TransposesComposeInPlace) {
  Type f32 = builder.getF32Type();
  Block *body = startFunction({tensor({2, 3, 4}, f32)});
  Value x = body->getArgument(0);
  Value first = builder.create<TransposeOp>(
      loc(), tensor({3, 2, 4}, f32), x, builder.getDenseI64ArrayAttr({1, 0, 2}));
  auto second = builder.create<TransposeOp>(
      loc(), tensor({4, 2, 3}, f32), first,
      builder.getDenseI64ArrayAttr({2, 1, 0}));

  OpFoldResult folded = foldSingleResult(second);
  EXPECT_EQ(llvm::dyn_cast_if_present<Value>(folded), second.getResult());
  EXPECT_EQ(second.getInput(), x);
  EXPECT_EQ(second.getPermutation(), ArrayRef<int64_t>({2, 0, 1}));
}

TEST_F(FoldTest, ReshapeOfConstantMaterializesAConstant) {
  Type i32 = builder.getI32Type();
  startFunction({});
  auto flat = DenseIntElementsAttr::get(tensor({6}, i32),
                                        ArrayRef<int32_t>{1, 2, 3, 4, 5, 6});
  Value constant = builder.create<ConstantOp>(loc(), flat);
  Value reshaped =
      builder.createOrFold<ReshapeOp>(loc(), tensor({2, 3}, i32), constant);

  auto materialized = reshaped.getDefiningOp<ConstantOp>();
  ASSERT_TRUE(materialized);
  auto values = llvm::cast<DenseIntElementsAttr>(materialized.getValue());
  EXPECT_EQ(values.getType(), tensor({2, 3}, i32));
  EXPECT_EQ(values.getValues<int32_t>()[4], 5);
}

TEST_F(FoldTest, UnpadOfPadGivesBackThePackedBatch) {
  Type f32 = builder.getF32Type();
  auto cuType = tensor({ShapedType::kDynamic}, builder.getI32Type());
  auto packedType = tensor({ShapedType::kDynamic, 64}, f32);
  Block *body = startFunction({packedType, cuType});
  Value packed = body->getArgument(0), cu = body->getArgument(1);
  auto pad = builder.create<PadOp>(
      loc(), tensor({ShapedType::kDynamic, ShapedType::kDynamic, 64}, f32),
      cuType, packed, cu);
  auto unpad = builder.create<UnpadOp>(loc(), packedType, cuType,
                                       pad.getResult(), pad.getLengths());

  SmallVector<OpFoldResult> results;
  ASSERT_TRUE(succeeded(unpad->fold({nullptr, nullptr}, results)));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(llvm::dyn_cast<Value>(results[0]), packed);
  EXPECT_EQ(llvm::dyn_cast<Value>(results[1]), cu);
}

TEST_F(FoldTest, DoubleNegationFoldsToInput) {
  Block *body = startFunction({tensor({4}, builder.getI64Type())});
  Value x = body->getArgument(0);
  Value once = builder.create<NegOp>(loc(), x);
  auto twice = builder.create<NegOp>(loc(), once);
  EXPECT_EQ(llvm::dyn_cast_if_present<Value>(foldSingleResult(twice)), x);
}

} // namespace
} // namespace mlir::lmc::testing
