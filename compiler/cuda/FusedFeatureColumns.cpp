//===- FusedFeatureColumns.cpp - gather expressions of lmc.fc.* ops -------===//
//
// TensorFlow's feature-column semantics as device code, rule for rule the
// CPU kernels' (runtime/src/cpu/FeatureColumnKernels.cpp): NaN defaults and
// normalizers, bucket and vocabulary searches in tables the host uploads,
// hash buckets, identity ranges, FingerprintCat64 crosses, embedding bags
// with weights (non-positive ones pruned unless summing), combiners
// rounding as TensorFlow's and clip_by_norm's max_norm, indicators.
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/FusedEmitter.h"

namespace mlir::lmc::cuda::fused {

std::string FusedEmitter::computeFeatureColumn(const rt::Instruction &op, int v,
                                               const Index &index) {
  int x = op.operands[0];
  switch (op.opcode) {
  case Opcode::FcNumeric: {
    std::string in = valueAt(x, index);
    std::string value = variable("float", in);
    auto real = [&](size_t slot) { return literal(op.reals[slot]); };
    if (op.ints[slot::fcNumeric::hasDefault])
      line("if (" + value + " != " + value + ") " + value + " = " +
           real(slot::fcNumeric::defaultValue) + ";");
    switch (op.ints[slot::fcNumeric::normalizer]) {
    case 1:
      line(value + " = (" + value + " - " + real(slot::fcNumeric::mean) + ") / " +
           real(slot::fcNumeric::stddev) + ";");
      break;
    case 2:
      line(value + " = (" + value + " - " + real(slot::fcNumeric::min) + ") / (" +
           real(slot::fcNumeric::max) + " - " + real(slot::fcNumeric::min) + ");");
      break;
    case 3: line(value + " = log1pf(" + value + ");"); break;
    default: break;
    }
    return temp("float", rounded(type(v).dtype, value));
  }
  case Opcode::FcBucketize:
    return temp("i64", "lmc_bucket_of((const float *)" + table(op.table) + ", " +
                           tableSize(op.table) + ", " + valueAt(x, index) + ")");
  case Opcode::FcHashBucket:
    return temp("i64", "(i64)((u64)" + valueAt(x, index) + " % (u64)" +
                           literal(op.ints[slot::fcHashBucket::buckets]) + ")");
  case Opcode::FcVocabLookup: {
    std::string fingerprint = valueAt(x, index);
    std::string found = variable("i64", "lmc_vocab_find((const i64 *)" + table(op.table) + ", " +
                                            tableSize(op.table) + ", " + fingerprint + ")");
    std::string size = literal(int64_t(plan.featureTables[size_t(op.table)].fingerprints.size()));
    int64_t oovBuckets = op.ints[slot::fcVocabLookup::oovBuckets];
    std::string missing =
        oovBuckets > 0 ? size + " + (i64)((u64)" + fingerprint + " % (u64)" + literal(oovBuckets) + ")"
        : op.ints[slot::fcVocabLookup::hasDefault] ? literal(op.ints[slot::fcVocabLookup::defaultValue])
                                                   : "-1LL";
    line("if (" + found + " < 0) " + found + " = " + missing + ";");
    return found;
  }
  case Opcode::FcIdentity: {
    std::string id = valueAt(x, index);
    std::string fallback = op.ints[slot::fcIdentity::hasDefault]
                               ? literal(op.ints[slot::fcIdentity::defaultValue])
                               : "-1LL";
    return temp("i64", id + " >= 0 && " + id + " < " + literal(op.ints[slot::fcIdentity::buckets]) +
                           " ? " + id + " : " + fallback);
  }
  case Opcode::FcCross: {
    // Combination c of row b, the last input advancing fastest.
    std::string hash = variable("u64", "(u64)" + literal(op.ints[slot::fcCross::hashKey]));
    std::string rest = variable("i64", index.size() > 1 ? index[1] : "0");
    std::vector<std::string> picks(op.operands.size());
    for (size_t i = op.operands.size(); i-- > 0;) {
      int input = op.operands[i];
      std::string width = rank(input) > 1 ? extent(input, 1) : "1LL";
      picks[i] = temp("i64", rest + " % " + width);
      line(rest + " /= " + width + ";");
    }
    for (size_t i = 0; i < op.operands.size(); ++i) {
      int input = op.operands[i];
      Index at{index[0]};
      if (rank(input) > 1)
        at.push_back(picks[i]);
      line(hash + " = lmc_fingerprint_cat64(" + hash + ", (u64)" + valueAt(input, at) + ");");
    }
    int64_t crossBuckets = op.ints[slot::fcCross::buckets];
    std::string buckets = crossBuckets ? "(u64)" + literal(crossBuckets) : "0x7fffffffffffffffULL";
    return temp("i64", "(i64)(" + hash + " % " + buckets + ")");
  }
  case Opcode::FcEmbeddingBag: {
    int ids = op.operands[1], weights = op.operands.size() > 2 ? op.operands[2] : -1;
    if (!inMemory[size_t(x)])
      return failOp(op, "reads a table that is not in memory"), "0";
    std::string width = rank(ids) > 1 ? extent(ids, 1) : "1LL";
    std::string dim = extent(x, 1), rows = extent(x, 0);
    // Only what the combiner divides by is accumulated: fewer live values
    // keep the loop in registers.
    bool weighted = weights >= 0;
    int64_t combiner = op.ints[slot::fcEmbeddingBag::combiner]; // 0 sum, 1 mean, 2 sqrtn
    std::string acc = variable("float", "0.0f");
    std::string total = combiner == 0 ? "" : variable(weighted ? "float" : "i64", "0");
    open("for (i64 j = 0; j < " + width + "; ++j)");
    Index at{index[0]};
    if (rank(ids) > 1)
      at.push_back("j");
    std::string id = valueAt(ids, at);
    std::string weight = weighted ? valueAt(weights, at) : "1.0f";
    // TensorFlow prunes non-positive weights unless it sums.
    std::string kept = weighted && combiner != 0 ? " && " + weight + " > 0.0f" : "";
    open("if (" + id + " >= 0 && " + id + " < " + rows + kept + ")");
    std::string row = temp("i64", id + " * " + dim);
    std::string element = variable("float", "lmc_load(" + pointer(x) + ", " + row + " + " +
                                                index[1] + ")");
    if (op.ints[slot::fcEmbeddingBag::hasMaxNorm]) {
      // max_norm, clip_by_norm's: row * max_norm / max(norm, max_norm)
      std::string maxNorm = literal(op.reals[slot::fcEmbeddingBag::maxNorm]);
      std::string norm = variable("float", "0.0f");
      open("for (i64 d = 0; d < " + dim + "; ++d)");
      line("const float e = lmc_load(" + pointer(x) + ", " + row + " + d);");
      line(norm + " += e * e;");
      close();
      line(norm + " = sqrtf(" + norm + ");");
      // As std::max(norm, max_norm) on the CPU: a NaN norm stays NaN.
      line(element + " = " + element + " * " + maxNorm + " / (" + norm + " < " + maxNorm + " ? " +
           maxNorm + " : " + norm + ");");
    }
    line(acc + " += " + weight + " * " + element + ";");
    if (combiner != 0)
      line(total + " += " + (!weighted ? "1" : combiner == 1 ? weight : weight + " * " + weight) +
           ";");
    close();
    close();
    if (combiner != 0) {
      // Weighted: divided by the weights' sum or root sum of squares.
      // Unweighted (sparse_segment_mean / _sqrt_n): below 10 ids
      // multiplied by the reciprocal, from 10 on divided.
      std::string divisor = variable(
          "float", combiner == 1 ? "(float)" + total : "sqrtf((float)" + total + ")");
      open("if (" + total + " > 0)");
      if (weighted)
        line(acc + " = " + acc + " / " + divisor + ";");
      else
        line(acc + " = " + total + " < 10 ? " + acc + " * (1.0f / " + divisor + ") : " + acc +
             " / " + divisor + ";");
      close();
    }
    return temp("float", rounded(type(v).dtype, acc));
  }
  default: { // FcIndicator (ids, weights)
    int weights = op.operands.size() > 1 ? op.operands[1] : -1;
    std::string width = rank(x) > 1 ? extent(x, 1) : "1LL";
    std::string acc = variable("float", "0.0f");
    open("for (i64 j = 0; j < " + width + "; ++j)");
    Index at{index[0]};
    if (rank(x) > 1)
      at.push_back("j");
    std::string id = valueAt(x, at);
    open("if (" + id + " == " + index[1] + ")");
    line(acc + " += " + (weights >= 0 ? valueAt(weights, at) : "1.0f") + ";");
    close();
    close();
    return temp("float", rounded(type(v).dtype, acc));
  }
  }
}

} // namespace mlir::lmc::cuda::fused
