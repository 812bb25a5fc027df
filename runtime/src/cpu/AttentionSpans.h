// AttentionSpans.h - the sequences an attention op's tiles walk, shared by
// lmc.attention and lmc.attention_grad on the CPU.

#ifndef LMC_RUNTIME_CPU_ATTENTIONSPANS_H
#define LMC_RUNTIME_CPU_ATTENTIONSPANS_H

#include "cpu/KernelContext.h"

namespace lmc::cpu {

/// Where a sequence's query and key rows start, and how many there are.
struct Span {
  int64_t queryBase, keyBase, queries, keys;
};

/// The spans of a packed batch (`cu` given) or a padded one (keys masked
/// past `lengths`, when given). Returns false after ctx.fail() on offsets
/// or lengths that do not fit the tensors.
bool attentionSpans(KernelContext &ctx, const Tensor &q, const Tensor &k, const Tensor *cu,
                    const Tensor *lengths, std::vector<Span> &spans);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_ATTENTIONSPANS_H
