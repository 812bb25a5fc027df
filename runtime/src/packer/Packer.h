// Packer.h - from raw examples to packed batches the plan can run.
//
// Sequences are packed first-fit-decreasing into rows of `packingLength`
// tokens; consecutive rows form a batch while the batch stays within the
// plan's budget (examples and tokens). Each batch carries its examples'
// input tensors in the plan's input order -- strings fingerprinted, integers
// fingerprinted by their decimal text or passed as values, as each input's
// ingest tag says -- plus cu_seqlens and per-token positions.

#ifndef LMC_RUNTIME_PACKER_PACKER_H
#define LMC_RUNTIME_PACKER_PACKER_H

#include "Status.h"
#include "cpu/Tensor.h"
#include "packer/Example.h"

namespace lmc::rt {

/// What happens to a sequence longer than the packing length.
enum class OverlongPolicy {
  Error,    // the run fails, naming the example (the default)
  Truncate, // its first packingLength tokens are kept
  Alone,    // it gets a row (and a batch) of its own
};

struct PackingOptions {
  /// Tokens per row; 0 means the plan's budgeted sequence length.
  int64_t packingLength = 0;
  OverlongPolicy overlong = OverlongPolicy::Error;
};

struct PackedBatch {
  /// Indices into the examples, in the order they sit in the batch.
  std::vector<size_t> examples;
  /// Tokens of each example (its longest sequence feature; 1 without any).
  std::vector<int64_t> lengths;
  std::vector<int32_t> cuSeqlens;
  std::vector<int32_t> positions;
  int64_t rows = 0;
  /// One tensor per plan input.
  std::vector<cpu::Tensor> inputs;
};

/// The batches' layout -- examples, lengths, cu_seqlens, positions, rows --
/// without their input tensors.
bool planBatches(const Plan &plan, const std::vector<Example> &examples,
                 const PackingOptions &options, std::vector<PackedBatch> &batches,
                 rt::Status &error);

/// Fills `batch.inputs`: its examples as the plan's input tensors. Separate
/// from planBatches so the next batch can be built while one runs.
bool buildBatchInputs(const Plan &plan, const std::vector<Example> &examples,
                      const PackingOptions &options, PackedBatch &batch, rt::Status &error);

/// planBatches, then buildBatchInputs for every batch.
bool packExamples(const Plan &plan, const std::vector<Example> &examples,
                  const PackingOptions &options, std::vector<PackedBatch> &batches,
                  rt::Status &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_PACKER_PACKER_H
