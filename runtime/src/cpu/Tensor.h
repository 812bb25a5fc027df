// Tensor.h - the CPU backend's view of a value: element type, shape, bytes.

#ifndef LMC_RUNTIME_CPU_TENSOR_H
#define LMC_RUNTIME_CPU_TENSOR_H

#include "artifact/Plan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lmc::cpu {

using rt::DType;

/// A row-major tensor. `data` points into the arena, a parameter, a
/// constant, an input, or `storage` when the tensor owns its bytes.
struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  void *data = nullptr;
  std::shared_ptr<uint8_t[]> storage;
  /// An f16/bf16 tensor's values as f32, when someone keeps them: the CPU
  /// backend converts each such parameter of a serving plan once, not in
  /// every kernel that reads it (FloatInput reads this). Null otherwise.
  const float *widened = nullptr;

  int64_t numElements() const { return elementsOf(shape); }
  static int64_t elementsOf(const std::vector<int64_t> &shape);
  size_t numBytes() const { return size_t(numElements()) * rt::dtypeSize(dtype); }
  int64_t rank() const { return int64_t(shape.size()); }
  template <typename T> T *as() const { return static_cast<T *>(data); }

  /// A tensor owning zeroed storage of `shape`; `data` is null when the
  /// allocation fails.
  static Tensor owned(DType dtype, std::vector<int64_t> shape);
  /// The same without zeroing, for results every element of which is
  /// written before it is read.
  static Tensor uninitialized(DType dtype, std::vector<int64_t> shape);
};

/// "[3, 4] f32"
std::string describe(const Tensor &tensor);
std::string formatShape(const std::vector<int64_t> &shape);

/// Row-major strides.
std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape);

/// Element `i` of a tensor of any type, as a double or an int64.
double realAt(const Tensor &tensor, int64_t i);
int64_t integerAt(const Tensor &tensor, int64_t i);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_TENSOR_H
