// WeightsTest.cpp - weights by name: safetensors round trip, f32 weights
// converted for an f16 model, and missing, extra or mis-shaped tensors
// rejected with their names.

#include "BackendTestSupport.h"

#include "session/Model.h"
#include "weights/Safetensors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

std::unique_ptr<rt::Model> load(mlir::lmc::Precision precision) {
  mlir::lmc::CompileOptions options;
  options.precision = precision;
  rt::Status status;
  return rt::Model::fromBytes(::lmc::testing::compileExample("text_encoder.yaml", options),
                              status);
}

using Weights = std::map<std::string, cpu::Tensor>;

Weights generated(const rt::Model &model) {
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  rt::Status status;
  EXPECT_TRUE(model.generateWeights(5, weights, status)) << status;
  return Weights(weights.begin(), weights.end());
}

TEST(Weights, SafetensorsRoundTrip) {
  auto model = load(mlir::lmc::Precision::FP32);
  ASSERT_TRUE(model);
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  rt::Status error;
  ASSERT_TRUE(model->generateWeights(5, weights, error));
  std::string path = ::testing::TempDir() + "/weights-roundtrip.safetensors";
  ASSERT_TRUE(rt::writeSafetensors(path, weights, error)) << error;
  Weights read;
  ASSERT_TRUE(rt::readSafetensors(path, read, error)) << error;
  ASSERT_EQ(read.size(), weights.size());
  for (const auto &[name, tensor] : weights) {
    ASSERT_EQ(read[name].shape, tensor.shape) << name;
    EXPECT_EQ(std::memcmp(read[name].data, tensor.data, tensor.numBytes()), 0) << name;
  }
  EXPECT_TRUE(model->loadWeights(path, error)) << error;
  std::remove(path.c_str());
}

TEST(Weights, FloatWeightsAreConvertedToTheModelsType) {
  auto f32 = load(mlir::lmc::Precision::FP32), f16 = load(mlir::lmc::Precision::FP16);
  ASSERT_TRUE(f32 && f16);
  rt::Status status;
  EXPECT_TRUE(f16->setWeights(generated(*f32), status)) << status;
}

TEST(Weights, MissingExtraAndMisshapedTensorsAreNamed) {
  auto model = load(mlir::lmc::Precision::FP32);
  ASSERT_TRUE(model);
  rt::Status status;

  Weights missing = generated(*model);
  missing.erase("encoder.layer1.ffn.w2");
  EXPECT_FALSE(model->setWeights(missing, status));
  EXPECT_EQ(status.message(), "the weights lack parameter 'encoder.layer1.ffn.w2'");

  Weights extra = generated(*model);
  extra["encoder.layer9.attn.wq"] = cpu::Tensor::owned(rt::DType::F32, {2, 2});
  EXPECT_FALSE(model->setWeights(extra, status));
  EXPECT_EQ(status.message(), "the weights hold 'encoder.layer9.attn.wq', which is not a parameter "
                              "of the model");

  Weights misshaped = generated(*model);
  misshaped["encoder.layer0.attn.bq"] = cpu::Tensor::owned(rt::DType::F32, {63});
  EXPECT_FALSE(model->setWeights(misshaped, status));
  EXPECT_EQ(status.message(), "the weights hold 'encoder.layer0.attn.bq' as [63] f32; the model "
                              "declares [64] f32");

  Weights integers = generated(*model);
  integers["encoder.layer0.attn.bq"] = cpu::Tensor::owned(rt::DType::I64, {64});
  EXPECT_FALSE(model->setWeights(integers, status));
  EXPECT_EQ(status.message(),
            "the weights hold 'encoder.layer0.attn.bq' as [64] i64; the model takes f32");
}

} // namespace
