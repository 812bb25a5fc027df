// Tensor.cpp - shapes, element access and owned storage of CPU tensors.

#include "cpu/Tensor.h"

#include "cpu/HalfFloat.h"

#include <cstring>
#include <new>

namespace lmc::cpu {

int64_t Tensor::elementsOf(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

Tensor Tensor::uninitialized(DType dtype, std::vector<int64_t> shape) {
  Tensor tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  size_t bytes = std::max<size_t>(tensor.numBytes(), 1);
  tensor.storage = std::shared_ptr<uint8_t[]>(new (std::nothrow) uint8_t[bytes]);
  tensor.data = tensor.storage.get();
  return tensor;
}

Tensor Tensor::owned(DType dtype, std::vector<int64_t> shape) {
  Tensor tensor = uninitialized(dtype, std::move(shape));
  if (tensor.data)
    std::memset(tensor.data, 0, tensor.numBytes());
  return tensor;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text + "]";
}

std::string describe(const Tensor &tensor) {
  return formatShape(tensor.shape) + " " + rt::dtypeName(tensor.dtype);
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

double realAt(const Tensor &tensor, int64_t i) {
  switch (tensor.dtype) {
  case DType::F32: return tensor.as<float>()[i];
  case DType::F64: return tensor.as<double>()[i];
  case DType::F16: return halfToFloat(tensor.as<uint16_t>()[i]);
  case DType::BF16: {
    float value;
    bfloatToFloat(tensor.as<uint16_t>() + i, &value, 1);
    return value;
  }
  default: return double(integerAt(tensor, i));
  }
}

int64_t integerAt(const Tensor &tensor, int64_t i) {
  switch (tensor.dtype) {
  case DType::I64: return tensor.as<int64_t>()[i];
  case DType::I32: return tensor.as<int32_t>()[i];
  case DType::I1: return tensor.as<uint8_t>()[i] != 0;
  default: return int64_t(realAt(tensor, i));
  }
}

} // namespace lmc::cpu
