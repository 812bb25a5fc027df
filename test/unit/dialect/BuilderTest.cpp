// Tests building lmc ops through their C++ builders, as the frontend will,
// and verifying the result.

#include "LmcTestContext.h"

#include "mlir/IR/Verifier.h"

namespace mlir::lmc::testing {
namespace {

using BuilderTest = LmcTest;

TEST_F(BuilderTest, BuildsAVerifiedPackedAttentionBlock) {
  Type f16 = builder.getF16Type();
  auto tokens = tensor({ShapedType::kDynamic, 256}, f16);
  auto cuSeqlens = tensor({ShapedType::kDynamic}, builder.getI32Type());
  auto weightType = tensor({256, 256}, f16);

  builder.setInsertionPointToEnd(module->getBody());
  builder.create<ParameterOp>(loc(), "encoder.wq", weightType);
  Block *body = startFunction({tokens, cuSeqlens});
  Value x = body->getArgument(0), cu = body->getArgument(1);

  Value wq = builder.create<ParamLoadOp>(loc(), weightType, "encoder.wq");
  Value q = builder.create<MatmulOp>(loc(), tokens, x, wq,
                                     /*transpose_lhs=*/false,
                                     /*transpose_rhs=*/true);
  auto heads = tensor({ShapedType::kDynamic, 4, 64}, f16);
  Value qHeads = builder.create<ReshapeOp>(loc(), heads, q);
  auto attention = builder.create<AttentionOp>(
      loc(), heads, /*lse=*/Type(), qHeads, qHeads, qHeads, /*lengths=*/Value(), cu,
      /*causal=*/true, /*scale=*/nullptr);
  builder.create<func::ReturnOp>(loc());

  EXPECT_TRUE(attention.isPacked());
  EXPECT_TRUE(succeeded(verify(*module))) << diagnostics;
  EXPECT_TRUE(diagnostics.empty());
}

TEST_F(BuilderTest, VerifierRejectsAMismatchedContraction) {
  Type f32 = builder.getF32Type();
  Block *body = startFunction({tensor({4, 64}, f32), tensor({32, 16}, f32)});
  builder.create<MatmulOp>(loc(), tensor({4, 16}, f32), body->getArgument(0),
                           body->getArgument(1), false, false);
  builder.create<func::ReturnOp>(loc());

  EXPECT_TRUE(failed(verify(*module)));
  EXPECT_NE(diagnostics.find("contraction dimensions 64 and 32 are not compatible"),
            std::string::npos)
      << diagnostics;
}

TEST_F(BuilderTest, ParamLoadMustNameAParameter) {
  startFunction({});
  builder.create<ParamLoadOp>(loc(), tensor({4}, builder.getF32Type()),
                              "missing");
  builder.create<func::ReturnOp>(loc());

  EXPECT_TRUE(failed(verify(*module)));
  EXPECT_NE(diagnostics.find("@missing does not name an lmc.parameter"),
            std::string::npos)
      << diagnostics;
}

TEST_F(BuilderTest, FeatureColumnsFollowTensorFlowRules) {
  Type i64 = builder.getI64Type();
  auto column = tensor({ShapedType::kDynamic, 1}, i64);
  Block *body = startFunction({tensor({ShapedType::kDynamic, 1},
                                      builder.getF32Type()),
                               column});
  Value age = body->getArgument(0), country = body->getArgument(1);

  auto buckets = builder.create<FcBucketizeOp>(
      loc(), column, age, builder.getDenseF32ArrayAttr({18.0f, 25.0f}));
  auto vocabulary = DenseIntElementsAttr::get(
      tensor({3}, i64), ArrayRef<int64_t>{-3135242802568536781LL, 7, 11});
  auto lookup = builder.create<FcVocabLookupOp>(
      loc(), column, country, vocabulary,
      /*num_oov_buckets=*/builder.getI64IntegerAttr(2),
      /*default_value=*/nullptr);
  EXPECT_TRUE(succeeded(buckets.verify()));
  EXPECT_TRUE(succeeded(lookup.verify()));
  EXPECT_EQ(lookup.getNumOovBuckets(), 2);

  // TensorFlow refuses unsorted boundaries and a one-bucket hash column.
  auto unsorted = builder.create<FcBucketizeOp>(
      loc(), column, age, builder.getDenseF32ArrayAttr({25.0f, 18.0f}));
  auto oneBucket = builder.create<FcHashBucketOp>(
      loc(), column, country, builder.getI64IntegerAttr(1));
  EXPECT_TRUE(failed(unsorted.verify()));
  EXPECT_TRUE(failed(oneBucket.verify()));
  EXPECT_NE(diagnostics.find("strictly increasing"), std::string::npos);
  EXPECT_NE(diagnostics.find("num_buckets must be greater than 1, got 1"),
            std::string::npos);
}

TEST_F(BuilderTest, NegativeAttributesReachTheVerifierSigned) {
  Type f32 = builder.getF32Type();
  Block *body = startFunction({tensor({4, 8}, f32)});
  auto reduce = builder.create<ReduceSumOp>(loc(), tensor({4}, f32),
                                            body->getArgument(0),
                                            /*axis=*/-1, /*keep_dims=*/false);
  EXPECT_EQ(reduce.getAxis(), -1);
  EXPECT_TRUE(failed(reduce.verify()));
  EXPECT_NE(diagnostics.find("axis -1 is out of range [0, 2)"),
            std::string::npos)
      << diagnostics;
}

} // namespace
} // namespace mlir::lmc::testing
