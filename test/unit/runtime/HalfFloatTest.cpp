// HalfFloatTest.cpp - f16 and bf16 conversion: known values, rounding to
// nearest even, and the F16C path agreeing with the software path.

#include "cpu/HalfFloat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

using namespace lmc::cpu;

TEST(HalfFloat, KnownValues) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7C00); // rounds to infinity
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -26)), 0x0000); // below half of it
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00); // tie, to even
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02); // tie, to even
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_EQ(halfToFloat(uint16_t(0x3555)), 0.333251953125f);
}

TEST(HalfFloat, VectorPathMatchesScalarPathForEveryHalf) {
  std::vector<uint16_t> halves(65536);
  for (size_t i = 0; i < halves.size(); ++i)
    halves[i] = uint16_t(i);
  std::vector<float> floats(halves.size());
  halfToFloat(halves.data(), floats.data(), halves.size());
  std::vector<uint16_t> back(halves.size());
  floatToHalf(floats.data(), back.data(), floats.size());
  for (size_t i = 0; i < halves.size(); ++i) {
    float scalar = halfToFloat(halves[i]);
    if (std::isnan(scalar)) {
      EXPECT_TRUE(std::isnan(floats[i])) << i;
      continue;
    }
    EXPECT_EQ(floats[i], scalar) << i;
    EXPECT_EQ(back[i], halves[i]) << i; // every half survives the round trip
  }
  // Values between halves round the same way on both paths.
  std::vector<float> between;
  for (float x = -70000.0f; x < 70000.0f; x += 0.37f)
    between.push_back(x);
  std::vector<uint16_t> rounded(between.size());
  floatToHalf(between.data(), rounded.data(), between.size());
  for (size_t i = 0; i < between.size(); ++i)
    ASSERT_EQ(rounded[i], floatToHalf(between[i])) << between[i];
}

TEST(HalfFloat, BfloatRoundsToNearestEven) {
  float values[] = {1.0f, 1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8), -3.5f};
  uint16_t out[4];
  floatToBfloat(values, out, 4);
  EXPECT_EQ(out[0], 0x3F80);
  EXPECT_EQ(out[1], 0x3F80); // tie, to even
  EXPECT_EQ(out[2], 0x3F82); // tie, to even
  EXPECT_EQ(out[3], 0xC060);
  float back[4];
  bfloatToFloat(out, back, 4);
  EXPECT_EQ(back[3], -3.5f);
}

} // namespace
