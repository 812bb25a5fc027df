// Packer.cpp - first-fit-decreasing packing and input tensor assembly.

#include "packer/Packer.h"

#include "lmc/fingerprint.h"

#include <algorithm>
#include <numeric>
#include <cstring>
#include <map>
#include <set>

namespace lmc::rt {
namespace {

struct Row {
  int64_t used = 0;
  std::vector<size_t> examples;
};

/// The free tokens of each row of a first-fit packing, in a tree of maxima,
/// so the first row with room for an example is found in O(log rows)
/// rather than by scanning every open row. A row without room for another
/// example (full, or as many examples as a batch holds) has -1.
class RowTree {
public:
  explicit RowTree(size_t rows) {
    while (leaves < rows)
      leaves <<= 1;
    room.assign(2 * leaves, -1);
  }
  /// The first row with at least `tokens` free, or -1.
  int64_t firstWithRoom(int64_t tokens) const {
    if (room[1] < tokens)
      return -1;
    size_t node = 1;
    while (node < leaves)
      node = room[2 * node] >= tokens ? 2 * node : 2 * node + 1;
    return int64_t(node - leaves);
  }
  void set(size_t row, int64_t tokens) {
    size_t node = row + leaves;
    room[node] = tokens;
    for (node /= 2; node > 0; node /= 2)
      room[node] = std::max(room[2 * node], room[2 * node + 1]);
  }

private:
  size_t leaves = 1;
  std::vector<int64_t> room;
};

/// Writes `defaults` (a missing numeric feature's values) as `dtype` at `at`.
void fillDefaults(const std::vector<double> &defaults, DType dtype, cpu::Tensor &out, int64_t at) {
  for (size_t i = 0; i < defaults.size(); ++i) {
    if (dtype == DType::F32)
      out.as<float>()[at + int64_t(i)] = float(defaults[i]);
    else if (dtype == DType::I64)
      out.as<int64_t>()[at + int64_t(i)] = int64_t(defaults[i]);
    else
      out.as<int32_t>()[at + int64_t(i)] = int32_t(defaults[i]);
  }
}

/// The value an input of `ingest` takes from element `i` of `value`.
bool convert(const FeatureValue &value, size_t i, Ingest ingest, DType dtype,
             cpu::Tensor &out, int64_t at, std::string &problem) {
  using Kind = FeatureValue::Kind;
  switch (ingest) {
  case Ingest::Fingerprint:
    if (value.kind != Kind::Strings)
      return (problem = "takes strings (they are fingerprinted), not " +
                        std::string(value.kindName())),
             false;
    out.as<int64_t>()[at] = int64_t(
        lmc_fingerprint64(value.strings[i].data(), value.strings[i].size()));
    return true;
  case Ingest::DecimalFingerprint:
    if (value.kind != Kind::Integers)
      return (problem = "takes integers, not " + std::string(value.kindName())), false;
    out.as<int64_t>()[at] = int64_t(lmc_fingerprint64_of_int(value.integers[i]));
    return true;
  default:
    if (value.kind == Kind::Strings)
      return (problem = "takes numbers, not strings"), false;
    if (dtype == DType::F32) {
      out.as<float>()[at] = float(value.kind == Kind::Integers ? double(value.integers[i])
                                                               : value.reals[i]);
      return true;
    }
    if (value.kind != Kind::Integers)
      return (problem = "takes integers, not numbers"), false;
    if (dtype == DType::I64)
      out.as<int64_t>()[at] = value.integers[i];
    else
      out.as<int32_t>()[at] = int32_t(value.integers[i]);
    return true;
  }
}

class Assembler {
public:
  Assembler(const Plan &plan, const std::vector<Example> &examples,
            const std::map<std::string, int64_t> &sequences, int64_t packingLength,
            bool truncate)
      : plan(plan), examples(examples), sequences(sequences),
        packingLength(packingLength), truncate(truncate) {
    for (const Input &input : plan.inputs)
      if (input.ingest == Ingest::Counts)
        counted.insert(input.feature);
  }

  bool build(PackedBatch &batch, rt::Status &error) {
    for (const Input &input : plan.inputs) {
      batch.inputs.emplace_back();
      if (!buildInput(input, batch, batch.inputs.back(), error))
        return false;
    }
    return true;
  }

private:
  size_t tokensOf(const FeatureValue &value, const std::string &feature) const {
    size_t tokens = value.size() / size_t(sequences.at(feature));
    return truncate ? std::min<size_t>(tokens, size_t(packingLength)) : tokens;
  }

  bool buildInput(const Input &input, const PackedBatch &batch, cpu::Tensor &tensor,
                  rt::Status &error) {
    const TensorType &type = plan.values[size_t(input.value)].type;
    if (input.ingest == Ingest::LossScale) {
      if (!type.shape.empty() || type.dtype != DType::F32)
        return error.fail("the loss scale input must be an f32 scalar");
      tensor = cpu::Tensor::owned(DType::F32, {});
      tensor.as<float>()[0] = 1.0f; // unscaled unless a trainer sets it
      return true;
    }
    if (input.ingest == Ingest::OptimizerStep) {
      if (type.shape != std::vector<int64_t>{4} || type.dtype != DType::F32)
        return error.fail("the optimizer step input must be f32 [4]");
      // Learning rate 0 (the weights stay) unless a trainer sets it.
      tensor = cpu::Tensor::owned(DType::F32, {4});
      std::fill(tensor.as<float>() + 1, tensor.as<float>() + 4, 1.0f);
      return true;
    }
    int64_t rows = int64_t(batch.examples.size());
    // A missing sequence is an empty one, as TensorFlow parses it.
    bool ofSequence = sequences.count(input.feature);
    bool sequence = ofSequence && input.ingest != Ingest::Lengths;
    std::vector<int64_t> shape(type.shape);
    if (shape.empty())
      return error.fail("input '" + input.feature +
                        "' is a scalar; the packer needs a batch dimension");
    shape[0] = rows;
    int64_t width = 1;
    // A sequence's tokens each hold `perToken` values ([batch, sequence, k...]).
    int64_t perToken = 1;
    if (sequence) {
      if (shape.size() < 2)
        return error.fail("sequence input '" + input.feature + "' must be [batch, sequence, ...]");
      // Every sequence of the batch is padded to its longest example's tokens,
      // so sequences a model concatenates token by token line up.
      perToken = sequences.at(input.feature);
      int64_t longest = 0;
      for (size_t e : batch.examples)
        for (const auto &[feature, values] : sequences) {
          auto found = examples[e].features.find(feature);
          if (found != examples[e].features.end())
            longest = std::max<int64_t>(longest, int64_t(tokensOf(found->second, feature)));
        }
      shape[1] = longest;
      width = longest * perToken;
    } else {
      for (size_t d = 1; d < shape.size(); ++d) {
        if (shape[d] < 0)
          return error.fail("input '" + input.feature +
                            "' has a dynamic dimension the packer cannot fill");
        width *= shape[d];
      }
    }
    tensor = cpu::Tensor::owned(type.dtype, shape);
    if (!tensor.data)
      return error.fail(LMC_STATUS_OUT_OF_MEMORY,
                        "out of memory for input '" + input.feature + "'");
    for (int64_t r = 0; r < rows; ++r) {
      const Example &example = examples[batch.examples[size_t(r)]];
      auto found = example.features.find(input.feature);
      static const FeatureValue kEmpty;
      const FeatureValue &value = found == example.features.end() ? kEmpty : found->second;
      if (input.ingest == Ingest::Lengths || input.ingest == Ingest::Counts) {
        int64_t length = input.ingest == Ingest::Lengths ? int64_t(tokensOf(value, input.feature))
                                                         : int64_t(value.size());
        if (!input.pairedWith.empty()) {
          auto paired = example.features.find(input.pairedWith);
          size_t ids = paired == example.features.end() ? 0 : paired->second.size();
          if (ids != value.size())
            return error.fail(example.origin + ": feature '" + input.feature + "' has " +
                              std::to_string(value.size()) + " weights for the " +
                              std::to_string(ids) + " values of '" + input.pairedWith +
                              "'; a weighted column needs one weight per value");
        }
        if (type.dtype == DType::I32)
          tensor.as<int32_t>()[r] = int32_t(length);
        else
          tensor.as<int64_t>()[r] = length;
        continue;
      }
      size_t count = sequence ? tokensOf(value, input.feature) * size_t(perToken) : value.size();
      // A counted (categorical) feature holds up to its width of values, the
      // rest zeros the model masks; a missing one holds none.
      bool counts = counted.count(input.feature);
      if (found == example.features.end() && !ofSequence && !counts) {
        if (input.defaults.empty())
          return error.fail(example.origin + ": missing feature '" + input.feature +
                            "' (its column has no default_value)");
        fillDefaults(input.defaults, type.dtype, tensor, r * width);
        continue;
      }
      if (!sequence && (counts ? int64_t(count) > width : int64_t(count) != width))
        return error.fail(example.origin + ": feature '" + input.feature + "' has " +
                          std::to_string(count) + " values; the model takes " +
                          (counts ? "at most " : "") + std::to_string(width));
      if (counts)
        std::memset(tensor.as<uint8_t>() + size_t(r * width) * rt::dtypeSize(type.dtype), 0,
                    size_t(width) * rt::dtypeSize(type.dtype));
      for (size_t i = 0; i < count; ++i) {
        std::string problem;
        if (!convert(value, i, input.ingest, type.dtype, tensor, r * width + int64_t(i), problem))
          return error.fail(example.origin + ": feature '" + input.feature + "' " + problem);
      }
    }
    return true;
  }

  const Plan &plan;
  const std::vector<Example> &examples;
  const std::map<std::string, int64_t> &sequences;
  int64_t packingLength;
  bool truncate;
  /// The features with a Counts input.
  std::set<std::string> counted;
};

} // namespace

namespace {

/// The requested packing length, or by default the planned sequence
/// length, never more than the tokens a batch holds (a row is one batch at
/// most).
int64_t packingLengthOf(const Plan &plan, const PackingOptions &options) {
  return options.packingLength ? options.packingLength
                               : std::min(plan.budget.sequence, plan.budget.tokens);
}

/// The features whose lengths the plan takes, the sequences, each with the
/// values one token holds: 1 for ids, k for a sequence of [k] numbers (its
/// input is [batch, sequence, k]), which arrive as one flat list.
std::map<std::string, int64_t> sequenceFeatures(const Plan &plan) {
  std::map<std::string, int64_t> sequences;
  for (const Input &input : plan.inputs)
    if (input.ingest == Ingest::Lengths)
      sequences.emplace(input.feature, 1);
  for (const Input &input : plan.inputs) {
    auto found = sequences.find(input.feature);
    const std::vector<int64_t> &shape = plan.values[size_t(input.value)].type.shape;
    if (found == sequences.end() || input.ingest == Ingest::Lengths || shape.size() < 3)
      continue;
    int64_t perToken = 1;
    for (size_t d = 2; d < shape.size(); ++d)
      perToken *= std::max<int64_t>(shape[d], 1);
    found->second = perToken;
  }
  return sequences;
}

} // namespace

bool planBatches(const Plan &plan, const std::vector<Example> &examples,
                 const PackingOptions &options, std::vector<PackedBatch> &batches,
                 rt::Status &error) {
  batches.clear();
  int64_t packingLength = packingLengthOf(plan, options);
  if (packingLength <= 0)
    return error.fail("the packing length must be positive");
  if (packingLength > plan.budget.tokens)
    return error.fail("the packing length " + std::to_string(packingLength) + " is more than the " +
                      std::to_string(plan.budget.tokens) +
                      " tokens a batch of this package holds (compile with --max-tokens=" +
                      std::to_string(packingLength) + " or more)");
  std::map<std::string, int64_t> sequences = sequenceFeatures(plan);
  // Each example's token count: its longest sequence feature.
  std::vector<int64_t> lengths(examples.size(), sequences.empty() ? 1 : 0);
  for (size_t e = 0; e < examples.size(); ++e) {
    for (const auto &[feature, perToken] : sequences) {
      auto found = examples[e].features.find(feature);
      if (found == examples[e].features.end())
        continue; // a missing sequence is empty
      if (found->second.size() % size_t(perToken))
        return error.fail(examples[e].origin + ": sequence '" + feature + "' has " +
                          std::to_string(found->second.size()) + " values, not a multiple of the " +
                          std::to_string(perToken) + " each token holds");
      int64_t length = int64_t(found->second.size()) / perToken;
      if (length > packingLength && options.overlong == OverlongPolicy::Error)
        return error.fail(examples[e].origin + ": sequence '" + feature + "' has " +
                          std::to_string(length) + " tokens, more than the packing length " +
                          std::to_string(packingLength) +
                          " (lmc run --overlong=truncate or =alone, or LMC_OVERLONG_TRUNCATE or "
                          "_ALONE, runs it)");
      if (options.overlong == OverlongPolicy::Truncate)
        length = std::min(length, packingLength);
      // A row of its own still has to fit the batch the package was
      // planned for; past that, attention's cost grows without bound.
      if (length > plan.budget.tokens)
        return error.fail(examples[e].origin + ": sequence '" + feature + "' has " +
                          std::to_string(length) + " tokens, more than the " +
                          std::to_string(plan.budget.tokens) +
                          " a batch of this package holds (compile with a larger --max-tokens, "
                          "or truncate it: lmc run --overlong=truncate)");
      lengths[e] = std::max(lengths[e], length);
    }
  }

  // First fit, longest first.
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return lengths[a] != lengths[b] ? lengths[a] > lengths[b] : a < b;
  });
  std::vector<Row> rows;
  int64_t maxPerRow = plan.budget.batch;
  RowTree room(examples.size());
  for (size_t e : order) {
    int64_t home = lengths[e] <= packingLength ? room.firstWithRoom(lengths[e]) : -1;
    if (home < 0) {
      home = int64_t(rows.size());
      rows.emplace_back();
    }
    Row &row = rows[size_t(home)];
    row.used += lengths[e];
    row.examples.push_back(e);
    room.set(size_t(home), int64_t(row.examples.size()) < maxPerRow ? packingLength - row.used : -1);
  }

  // Consecutive rows form a batch while examples and tokens fit the budget.
  PackedBatch batch;
  int64_t tokens = 0;
  auto flush = [&]() {
    if (batch.examples.empty())
      return;
    batch.cuSeqlens.assign(1, 0);
    for (int64_t length : batch.lengths) {
      batch.cuSeqlens.push_back(batch.cuSeqlens.back() + int32_t(length));
      for (int64_t t = 0; t < length; ++t)
        batch.positions.push_back(int32_t(t));
    }
    batches.push_back(std::move(batch));
    batch = PackedBatch();
    tokens = 0;
  };
  for (const Row &row : rows) {
    if (int64_t(batch.examples.size() + row.examples.size()) > plan.budget.batch ||
        tokens + row.used > plan.budget.tokens)
      flush();
    for (size_t e : row.examples) {
      batch.examples.push_back(e);
      batch.lengths.push_back(lengths[e]);
    }
    batch.rows += 1;
    tokens += row.used;
  }
  flush();
  return true;
}

bool buildBatchInputs(const Plan &plan, const std::vector<Example> &examples,
                      const PackingOptions &options, PackedBatch &batch, rt::Status &error) {
  std::map<std::string, int64_t> sequences = sequenceFeatures(plan);
  Assembler assembler(plan, examples, sequences, packingLengthOf(plan, options),
                      options.overlong == OverlongPolicy::Truncate);
  batch.inputs.clear();
  return assembler.build(batch, error);
}

bool packExamples(const Plan &plan, const std::vector<Example> &examples,
                  const PackingOptions &options, std::vector<PackedBatch> &batches,
                  rt::Status &error) {
  if (!planBatches(plan, examples, options, batches, error))
    return false;
  for (PackedBatch &batch : batches)
    if (!buildBatchInputs(plan, examples, options, batch, error))
      return false;
  return true;
}

} // namespace lmc::rt
