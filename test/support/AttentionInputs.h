// AttentionInputs.h - the sequence index an attention kernel of
// AttentionKernels.h takes, from a list of sequence lengths.

#ifndef LMC_TEST_SUPPORT_ATTENTIONINPUTS_H
#define LMC_TEST_SUPPORT_ATTENTIONINPUTS_H

#include "cpu/Tensor.h"

#include <vector>

namespace lmc::testing {

/// cu_seqlens ([n + 1] offsets) for packed sequences, or the key lengths
/// ([n]) of a padded batch.
inline cpu::Tensor attentionIndex(const std::vector<int32_t> &lengths, bool padded) {
  int64_t batch = int64_t(lengths.size());
  cpu::Tensor index = cpu::Tensor::owned(rt::DType::I32, {padded ? batch : batch + 1});
  for (int64_t b = 0, offset = 0; b < batch; ++b) {
    if (padded) {
      index.as<int32_t>()[b] = lengths[size_t(b)];
    } else {
      index.as<int32_t>()[b] = int32_t(offset);
      offset += lengths[size_t(b)];
      index.as<int32_t>()[b + 1] = int32_t(offset);
    }
  }
  return index;
}

} // namespace lmc::testing

#endif // LMC_TEST_SUPPORT_ATTENTIONINPUTS_H
