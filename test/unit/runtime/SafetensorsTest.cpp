// Tests the safetensors reader's checks on bytes a damaged or hostile file
// could hold: shapes whose element count overflows, tensors that overlap or
// leave gaps or trailing bytes (the reference implementation refuses those
// too), and a clean file, which reads back. The streaming writer refuses a
// tensor whose bytes disagree with its header.

#include "weights/Safetensors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

using lmc::rt::parseSafetensors;

/// A safetensors file: the 8-byte little-endian header length, the JSON
/// header, then `data`.
std::string file(const std::string &header, const std::string &data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return bytes + header + data;
}

std::string parse(const std::string &bytes) {
  std::map<std::string, lmc::cpu::Tensor> tensors;
  ::lmc::rt::Status error;
  return parseSafetensors(bytes, "w", tensors, error) ? "ok " + std::to_string(tensors.size())
                                                      : error.message();
}

TEST(Safetensors, ReadsTensorsThatTileTheData) {
  EXPECT_EQ(parse(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}})",
                       std::string(12, '\1'))),
            "ok 2");
}

TEST(Safetensors, ReadsMisalignedTensorsAndKeepsTheFileUnchanged) {
  // The data starts 2 bytes past a 4-byte boundary of the (page-aligned)
  // mapping: the f32 tensor is misaligned there and is copied, the f16 one
  // is aligned and points into the mapping.
  std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("h":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}})";
  while ((8 + header.size()) % 4 != 2)
    header += ' ';
  float a = 1.5f;
  uint16_t h = 0x3c00; // 1.0 in f16
  std::string data(6, '\0');
  std::memcpy(&data[0], &a, 4);
  std::memcpy(&data[4], &h, 2);
  std::string path = ::testing::TempDir() + "/misaligned.safetensors";
  {
    std::FILE *out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    std::string bytes = file(header, data);
    std::fwrite(bytes.data(), 1, bytes.size(), out);
    std::fclose(out);
  }
  std::map<std::string, lmc::cpu::Tensor> tensors;
  ::lmc::rt::Status error;
  ASSERT_TRUE(lmc::rt::readSafetensors(path, tensors, error)) << error;
  float readA;
  std::memcpy(&readA, tensors["a"].data, 4);
  EXPECT_EQ(readA, 1.5f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tensors["a"].data) % 4, 0u);
  EXPECT_EQ(*tensors["h"].as<uint16_t>(), 0x3c00);
  // Writing a tensor (a training step updates parameters in place) changes
  // the process's copy only.
  *tensors["h"].as<uint16_t>() = 0x4000;
  std::map<std::string, lmc::cpu::Tensor> again;
  ASSERT_TRUE(lmc::rt::readSafetensors(path, again, error)) << error;
  EXPECT_EQ(*again["h"].as<uint16_t>(), 0x3c00);
  std::remove(path.c_str());
}

TEST(Safetensors, RefusesElementCountsThatOverflow) {
  // 2^40 x 2^40 wraps a 64-bit count to 0, which 0 bytes would match.
  EXPECT_EQ(parse(file(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],)"
                       R"("data_offsets":[0,0]}})",
                       "")),
            "w: tensor 'a' has an invalid shape (more than 2^40 elements)");
}

TEST(Safetensors, RefusesOverlapsGapsAndTrailingBytes) {
  EXPECT_EQ(parse(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                       std::string(8, '\1'))),
            "w: tensor 'b' starts at byte 4 of the data, not at 8 (it overlaps the tensor before "
            "it)");
  EXPECT_EQ(parse(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                       std::string(8, '\1'))),
            "w: tensor 'a' starts at byte 4 of the data, not at 0 (a gap)");
  EXPECT_EQ(parse(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                       std::string(6, '\1'))),
            "w holds 2 bytes after its last tensor");
}

TEST(Safetensors, StreamingWriterRefusesATensorOfTheWrongSize) {
  std::string path = ::testing::TempDir() + "/short-tensor.safetensors";
  std::remove(path.c_str());
  std::vector<lmc::rt::TensorHeader> headers = {{"a", lmc::rt::DType::F32, {2}},
                                                {"b", lmc::rt::DType::F32, {1}}};
  ::lmc::rt::Status error;
  // 'a' is two floats, the writer gives one: 'b' would be read shifted.
  EXPECT_FALSE(lmc::rt::writeSafetensors(
      path, headers,
      [](size_t, lmc::rt::OutputFile &out, lmc::rt::Status &failure) {
        float value = 1;
        return out.write(&value, sizeof value, failure);
      },
      error));
  EXPECT_EQ(error.message(),
            "cannot write '" + path +
                "': tensor 'a' ended at byte 4 of the data, not at 8 as its header says");
  // Nothing is left at the path.
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

} // namespace
