// Broadcast.cpp - result shape and operand indexing under NumPy broadcasting.

#include "cpu/Broadcast.h"

#include <algorithm>

namespace lmc::cpu {

std::optional<Broadcast> broadcastShapes(const std::vector<const Tensor *> &operands) {
  Broadcast result;
  size_t rank = 0;
  for (const Tensor *operand : operands)
    rank = std::max(rank, operand->shape.size());
  result.shape.assign(rank, 1);
  for (const Tensor *operand : operands) {
    size_t offset = rank - operand->shape.size();
    for (size_t i = 0; i < operand->shape.size(); ++i) {
      int64_t dim = operand->shape[i], &out = result.shape[offset + i];
      if (dim != 1 && out != 1 && dim != out)
        return std::nullopt;
      if (dim != 1)
        out = dim;
    }
  }
  result.outputStrides = stridesOf(result.shape);
  for (const Tensor *operand : operands) {
    size_t offset = rank - operand->shape.size();
    // Leading 1s do not change the layout; what is left either equals the
    // result's trailing dimensions (Same or Suffix) or needs strides.
    size_t first = 0;
    while (first < operand->shape.size() && operand->shape[first] == 1)
      ++first;
    bool suffix = true;
    for (size_t d = first; d < operand->shape.size(); ++d)
      suffix &= operand->shape[d] == result.shape[offset + d];
    int64_t width = operand->numElements();
    Broadcast::Kind kind = !suffix ? Broadcast::Kind::General
                           : offset + first == 0 ? Broadcast::Kind::Same
                                                 : Broadcast::Kind::Suffix;
    result.kinds.push_back(kind);
    result.widths.push_back(std::max<int64_t>(width, 1));
    std::vector<int64_t> own = stridesOf(operand->shape), aligned(rank, 0);
    for (size_t i = 0; i < operand->shape.size(); ++i)
      aligned[offset + i] = operand->shape[i] == 1 ? 0 : own[i];
    result.strides.push_back(std::move(aligned));
  }
  return result;
}

} // namespace lmc::cpu
