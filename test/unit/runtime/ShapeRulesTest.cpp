// ShapeRulesTest.cpp - the ops' shape rules on partly known shapes (the
// package verifier's case) and on exact ones (the backends' case).

#include "artifact/OpTable.h"
#include "artifact/ShapeRules.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

namespace ops = ::lmc::ops;
namespace rt = ::lmc::rt;
using rt::Opcode;
using Shape = std::vector<int64_t>;

constexpr int64_t kDynamic = -1;

/// Runs `op`'s rule over operands of these shapes (declared as the same
/// shapes unless `declared` says otherwise); returns the error or "".
struct RuleRun {
  std::vector<ops::ValueShape> results;
  std::string why;
  bool ok = false;
};

RuleRun infer(const rt::Instruction &op, const std::vector<ops::ValueShape> &operands,
              const std::vector<Shape> &declared = {}) {
  std::vector<rt::TensorType> types;
  for (size_t i = 0; i < operands.size(); ++i)
    types.push_back({rt::DType::F32, i < declared.size() ? declared[i] : operands[i].shape, {}});
  std::vector<const ops::ValueShape *> pointers;
  std::vector<const rt::TensorType *> typePointers;
  for (size_t i = 0; i < operands.size(); ++i) {
    pointers.push_back(&operands[i]);
    typePointers.push_back(&types[i]);
  }
  RuleRun run;
  run.ok = ops::inferShapes(op, pointers, typePointers, run.results, run.why);
  return run;
}

rt::Instruction instruction(Opcode opcode, std::vector<Shape> results,
                            std::vector<int64_t> ints = {}) {
  rt::Instruction op;
  op.opcode = opcode;
  for (Shape &shape : results)
    op.results.push_back({rt::DType::F32, std::move(shape), {}});
  op.ints = std::move(ints);
  op.ints.resize(std::max<size_t>(op.ints.size(), size_t(ops::info(opcode).ints)), 0);
  op.operands.assign(size_t(ops::info(opcode).minOperands), 0);
  return op;
}

ops::ValueShape shape(Shape dims) { return {std::move(dims), {}, false}; }
ops::ValueShape values(std::vector<int64_t> data) {
  return {{int64_t(data.size())}, data, true};
}

TEST(ShapeRules, BroadcastKeepsUnknownsAndChecksWhatIsKnown) {
  rt::Instruction add = instruction(Opcode::Add, {{kDynamic, 3, 4}});
  RuleRun run = infer(add, {shape({kDynamic, 1, 4}), shape({3, 1})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{kDynamic, 3, 4}));
  run = infer(instruction(Opcode::Add, {{2, 3}}), {shape({2, 3}), shape({4, 3})});
  EXPECT_FALSE(run.ok);
  EXPECT_NE(run.why.find("do not broadcast"), std::string::npos) << run.why;
}

TEST(ShapeRules, MatmulChecksTheContractingDimensionWhenKnown) {
  rt::Instruction matmul = instruction(Opcode::Matmul, {{kDynamic, 5}});
  RuleRun run = infer(matmul, {shape({kDynamic, 4}), shape({4, 5})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{kDynamic, 5}));
  EXPECT_TRUE(infer(matmul, {shape({kDynamic, kDynamic}), shape({4, 5})}).ok);
  EXPECT_FALSE(infer(matmul, {shape({2, 3}), shape({4, 5})}).ok);
  // transpose_rhs: [m, k] x [n, k]
  rt::Instruction transposed =
      instruction(Opcode::Matmul, {{2, 5}}, {0, 1});
  run = infer(transposed, {shape({2, 4}), shape({5, 4})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{2, 5}));
}

TEST(ShapeRules, AResultOtherThanDeclaredIsAnError) {
  RuleRun run = infer(instruction(Opcode::Matmul, {{2, 6}}), {shape({2, 4}), shape({4, 5})});
  EXPECT_FALSE(run.ok);
  EXPECT_NE(run.why.find("declares [2, 6]"), std::string::npos) << run.why;
}

TEST(ShapeRules, ReshapePassesSharedLeadingDimensionsAndInfersOne) {
  rt::Instruction reshape = instruction(Opcode::Reshape, {{kDynamic, 32}});
  // Verifying: the operand's batch is unknown, so is the result's.
  RuleRun run = infer(reshape, {shape({kDynamic, 8, 4})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{kDynamic, 32}));
  // Running: the batch of the operand at hand passes through.
  run = infer(reshape, {shape({5, 8, 4})}, {{kDynamic, 8, 4}});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{5, 32}));
  EXPECT_FALSE(infer(instruction(Opcode::Reshape, {{kDynamic, 7}}), {shape({5, 8, 4})},
                     {{kDynamic, 8, 4}})
                   .ok);
  RuleRun two = infer(instruction(Opcode::Reshape, {{kDynamic, kDynamic}}), {shape({6})});
  EXPECT_FALSE(two.ok);
  EXPECT_NE(two.why.find("two dimensions"), std::string::npos) << two.why;
}

TEST(ShapeRules, UnpadCountsTokensFromKnownLengths) {
  rt::Instruction unpad = instruction(Opcode::Unpad, {{kDynamic, 8}, {kDynamic}});
  RuleRun run = infer(unpad, {shape({3, 4, 8}), values({2, 0, 3})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{5, 8}));
  EXPECT_EQ(run.results[1].shape, (Shape{4}));
  EXPECT_EQ(run.results[1].data, (std::vector<int64_t>{0, 2, 2, 5}));
  run = infer(unpad, {shape({3, 4, 8}), shape({3})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{kDynamic, 8}));
  run = infer(unpad, {shape({3, 4, 8}), values({2, 5, 3})});
  EXPECT_FALSE(run.ok);
  EXPECT_NE(run.why.find("a length of 5"), std::string::npos) << run.why;
}

TEST(ShapeRules, PadTakesTheDeclaredLengthOrTheLongestSequence) {
  RuleRun run = infer(instruction(Opcode::Pad, {{kDynamic, kDynamic, 8}, {kDynamic}}),
                      {shape({5, 8}), values({0, 2, 2, 5})});
  ASSERT_TRUE(run.ok) << run.why;
  EXPECT_EQ(run.results[0].shape, (Shape{3, 3, 8}));
  EXPECT_EQ(run.results[1].data, (std::vector<int64_t>{2, 0, 3}));
  run = infer(instruction(Opcode::Pad, {{kDynamic, 2, 8}, {kDynamic}}),
              {shape({5, 8}), values({0, 2, 2, 5})});
  EXPECT_FALSE(run.ok);
  EXPECT_NE(run.why.find("padded length 2"), std::string::npos) << run.why;
}

TEST(ShapeRules, OffsetsThatDecreaseOrOverflowAreErrors) {
  rt::Instruction pad = instruction(Opcode::Pad, {{kDynamic, kDynamic, 8}, {kDynamic}});
  EXPECT_FALSE(infer(pad, {shape({5, 8}), values({0, 4, 2, 5})}).ok);
  EXPECT_FALSE(infer(pad, {shape({5, 8}), values({INT64_MIN, INT64_MAX})}).ok);
  EXPECT_FALSE(infer(pad, {shape({5, 8}), values({0, 2, 4})}).ok); // ends before row 5
  EXPECT_FALSE(infer(instruction(Opcode::Positions, {{kDynamic}}), {values({0, 3, 1})}).ok);
  // A product beyond int64 is unknown, never wrapped around.
  rt::Instruction reshape = instruction(Opcode::Reshape, {{kDynamic}});
  RuleRun huge = infer(reshape, {shape({int64_t(1) << 40, int64_t(1) << 40})});
  ASSERT_TRUE(huge.ok) << huge.why;
  EXPECT_EQ(huge.results[0].shape, (Shape{kDynamic}));
}

TEST(ShapeRules, AttributesOutOfRangeAreErrors) {
  EXPECT_FALSE(infer(instruction(Opcode::Transpose, {{2, 3}}, {0, 0}), {shape({3, 2})}).ok);
  EXPECT_FALSE(infer(instruction(Opcode::Transpose, {{2, 3}}, {1}), {shape({3, 2})}).ok);
  // slice's ints: axis, start, limit
  EXPECT_FALSE(infer(instruction(Opcode::Slice, {{2, 3}}, {1, 1, 4}), {shape({2, 3})}).ok);
  EXPECT_TRUE(infer(instruction(Opcode::Slice, {{2, 2}}, {1, 1, 3}), {shape({2, 3})}).ok);
  // reduce's ints: axis, keep_dims
  EXPECT_FALSE(infer(instruction(Opcode::ReduceSum, {{2}}, {2, 0}), {shape({2, 3})}).ok);
  EXPECT_FALSE(infer(instruction(Opcode::Concat, {{4, 3}}, {2}), {shape({2, 3})}).ok);
}

TEST(ShapeRules, EveryOpcodeHasARule) {
  for (const ops::OpInfo &row : ops::kOps) {
    rt::Instruction op = instruction(row.opcode, {});
    op.results.assign(size_t(row.minResults), {rt::DType::F32, {kDynamic, kDynamic}, {}});
    op.ints.assign(size_t(std::max(row.ints, 2)), 1);
    std::vector<ops::ValueShape> operands(op.operands.size(), shape({kDynamic, kDynamic}));
    RuleRun run = infer(op, operands);
    EXPECT_EQ(run.why.find("has no shape rule"), std::string::npos) << row.name;
  }
}

} // namespace
