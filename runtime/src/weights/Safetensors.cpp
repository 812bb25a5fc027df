// Safetensors.cpp - the safetensors reader and writer.

#include "weights/Safetensors.h"

#include "io/AtomicFile.h"
#include "io/MappedFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace lmc::rt {

bool dtypeFromSafetensors(const std::string &name, DType &dtype) {
  static const std::pair<const char *, DType> names[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
      {"I64", DType::I64}, {"I32", DType::I32}, {"BOOL", DType::I1}};
  for (const auto &[text, value] : names)
    if (name == text) {
      dtype = value;
      return true;
    }
  return false;
}

const char *safetensorsName(DType dtype) {
  switch (dtype) {
  case DType::F32: return "F32";
  case DType::F16: return "F16";
  case DType::BF16: return "BF16";
  case DType::F64: return "F64";
  case DType::I64: return "I64";
  case DType::I32: return "I32";
  case DType::I1: return "BOOL";
  }
  return "?";
}

bool readSafetensors(const std::string &path, std::map<std::string, cpu::Tensor> &tensors,
                     rt::Status &error) {
  std::shared_ptr<uint8_t[]> bytes;
  size_t size = 0;
  return mapFile(path, bytes, size, error) &&
         parseSafetensors(bytes.get(), size, bytes, "weights file '" + path + "'", tensors, error);
}

bool parseSafetensors(const std::string &bytes, const std::string &where,
                      std::map<std::string, cpu::Tensor> &tensors, rt::Status &error) {
  return parseSafetensors(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), nullptr,
                          where, tensors, error);
}

bool parseSafetensors(const uint8_t *bytes, size_t size, const std::shared_ptr<uint8_t[]> &owner,
                      const std::string &where, std::map<std::string, cpu::Tensor> &tensors,
                      rt::Status &error) {
  if (size < 8)
    return error.fail(where + " is too short for safetensors");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | bytes[i];
  if (headerSize > size - 8)
    return error.fail(where + " has a header larger than itself");
  nlohmann::json header = nlohmann::json::parse(bytes + 8, bytes + 8 + headerSize, nullptr,
                                                /*allow_exceptions=*/false);
  if (!header.is_object())
    return error.fail(where + " has a malformed JSON header");
  size_t dataStart = 8 + size_t(headerSize), dataSize = size - dataStart;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;
  for (const auto &[name, entry] : header.items()) {
    if (name == "__metadata__")
      continue;
    std::string at = where + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() ||
        !entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      return error.fail(at + " lacks dtype, shape or data_offsets");
    DType dtype;
    if (!dtypeFromSafetensors(entry["dtype"].get<std::string>(), dtype))
      return error.fail(at + " has dtype " + entry["dtype"].get<std::string>() +
                        ", which lmc does not read");
    std::vector<int64_t> shape;
    uint64_t elements = 1;
    constexpr uint64_t kMaxElements = uint64_t(1) << 40;
    for (const auto &dim : entry["shape"]) {
      // Checked before multiplying: a product past 2^64 would wrap.
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > kMaxElements ||
          (dim.get<uint64_t>() != 0 && elements > kMaxElements / dim.get<uint64_t>()))
        return error.fail(at + " has an invalid shape (more than 2^40 elements)");
      shape.push_back(dim.get<int64_t>());
      elements *= dim.get<uint64_t>();
    }
    const auto &offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      return error.fail(at + " has invalid data_offsets");
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (end < begin || end > dataSize)
      return error.fail(at + " lies outside the file");
    if (end - begin != elements * dtypeSize(dtype))
      return error.fail(at + " holds " + std::to_string(end - begin) + " bytes; its shape " +
                        cpu::formatShape(shape) + " needs " +
                        std::to_string(elements * dtypeSize(dtype)));
    spans.push_back({begin, end, name});
    const uint8_t *values = bytes + dataStart + begin;
    cpu::Tensor tensor;
    if (owner && reinterpret_cast<uintptr_t>(values) % dtypeSize(dtype) == 0) {
      tensor.dtype = dtype;
      tensor.shape = shape;
      tensor.storage = std::shared_ptr<uint8_t[]>(owner, const_cast<uint8_t *>(values));
      tensor.data = tensor.storage.get();
    } else {
      tensor = cpu::Tensor::owned(dtype, shape);
      if (!tensor.data)
        return error.fail(LMC_STATUS_OUT_OF_MEMORY, at + ": out of memory");
      std::memcpy(tensor.data, values, size_t(end - begin));
    }
    tensors[name] = std::move(tensor);
  }
  // As the reference implementation requires: the tensors tile the data
  // exactly, without overlapping and without bytes left over.
  std::sort(spans.begin(), spans.end());
  uint64_t next = 0;
  for (const auto &[begin, end, name] : spans) {
    if (begin != next)
      return error.fail(where + ": tensor '" + name + "' starts at byte " + std::to_string(begin) +
                        " of the data, not at " + std::to_string(next) +
                        (begin < next ? " (it overlaps the tensor before it)" : " (a gap)"));
    next = end;
  }
  if (next != dataSize)
    return error.fail(where + " holds " + std::to_string(dataSize - next) +
                      " bytes after its last tensor");
  return true;
}

bool writeSafetensors(const std::string &path, const std::vector<TensorHeader> &headers,
                      const TensorWriter &writeData, rt::Status &error) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}, {"producer", "lmc"}};
  uint64_t offset = 0;
  std::vector<uint64_t> ends;
  for (const TensorHeader &tensor : headers) {
    uint64_t bytes = uint64_t(cpu::Tensor::elementsOf(tensor.shape)) * dtypeSize(tensor.dtype);
    header[tensor.name] = {{"dtype", safetensorsName(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    ends.push_back(offset);
  }
  std::string text = header.dump();
  // Pad the header with spaces so the data starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i)
    prefix[size_t(i)] = char((uint64_t(text.size()) >> (8 * i)) & 0xff);
  OutputFile out;
  if (!out.open(path, error) || !out.reserve(prefix.size() + text.size() + offset, error) ||
      !out.write(prefix + text, error))
    return false;
  uint64_t dataStart = out.bytesWritten();
  for (size_t i = 0; i < headers.size(); ++i) {
    if (!writeData(i, out, error))
      return false;
    // A writer that wrote more or less than its header says would shift
    // every later tensor: the file would load, wrong.
    if (out.bytesWritten() - dataStart != ends[i])
      return error.fail("cannot write '" + path + "': tensor '" + headers[i].name +
                        "' ended at byte " + std::to_string(out.bytesWritten() - dataStart) +
                        " of the data, not at " + std::to_string(ends[i]) + " as its header says");
  }
  return out.commit(error);
}

bool writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, cpu::Tensor>> &tensors,
                      rt::Status &error) {
  std::vector<TensorHeader> headers;
  for (const auto &[name, tensor] : tensors)
    headers.push_back({name, tensor.dtype, tensor.shape});
  return writeSafetensors(
      path, headers,
      [&](size_t i, OutputFile &out, Status &failure) {
        return out.write(tensors[i].second.data, tensors[i].second.numBytes(), failure);
      },
      error);
}

} // namespace lmc::rt
