// OpsOptimizer.cpp - lmc.adamw_rows: the lazy AdamW update of the rows of
// an embedding table a training step touched, on the executing rank's
// shard of the flattened table and its moments.
//
// Rows of one id are summed first, so a row is updated once, as
// torch.optim.SparseAdam and TensorFlow's LazyAdam do; weight decay applies
// to touched rows only. The dense update (passes/ShardState.cpp builds it
// from primitive ops) uses the same formula.

#include "cpu/KernelContext.h"

#include <cmath>
#include <cstring>
#include <map>

namespace lmc::cpu {

bool runAdamwRows(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  const rt::Instruction &op = *ctx.instruction;
  const Tensor &table = *in[0], &m = *in[1], &v = *in[2], &ids = *in[3], &rows = *in[4],
               &step = *in[5], &apply = *in[6];
  int64_t shard = table.numElements(), width = rows.shape.empty() ? 0 : rows.shape.back();
  for (const Tensor *state : {&table, &m, &v, &rows, &step})
    if (state->dtype != DType::F32)
      return ctx.fail("updates f32 state, not " + describe(*state));
  if (m.numElements() != shard || v.numElements() != shard || width < 1 ||
      ids.numElements() * width != rows.numElements() || step.numElements() != 4)
    return ctx.fail("has operands of inconsistent sizes");
  // The results start as the state; a result the backend placed in its
  // parameter's storage (an in-place update) already is.
  for (size_t r = 0; r < 3; ++r) {
    if (!ctx.allocate(r, DType::F32, out[r]))
      return false;
    if (out[r].data != in[r]->data)
      std::memcpy(out[r].data, in[r]->data, size_t(shard) * sizeof(float));
  }
  if (!integerAt(apply, 0))
    return true; // a gradient was not finite: the step changes nothing
  int64_t rank = in[7] ? integerAt(*in[7], 0) : 0;
  int64_t tableElements = op.ints[ops::slot::adamwRows::tableRows] * width;
  int64_t begin = std::min(tableElements, rank * shard);
  int64_t end = std::min(tableElements, begin + shard);

  // Sum the rows of each id over the batch (and ranks) first.
  std::map<int64_t, std::vector<double>> summed;
  const float *values = rows.as<float>();
  for (int64_t i = 0; i < ids.numElements(); ++i) {
    int64_t id = integerAt(ids, i);
    if (id < 0 || id >= op.ints[ops::slot::adamwRows::tableRows] || (id + 1) * width <= begin || id * width >= end)
      continue; // outside the table (the forward read zeros) or the shard
    std::vector<double> &row = summed[id];
    row.resize(size_t(width), 0.0);
    for (int64_t d = 0; d < width; ++d)
      row[size_t(d)] += values[i * width + d];
  }
  const double b1 = op.reals[ops::slot::adamwRows::beta1], b2 = op.reals[ops::slot::adamwRows::beta2],
               epsilon = op.reals[ops::slot::adamwRows::epsilon];
  const float *s = step.as<float>();
  const double rate = s[0], stepSize = rate * s[1], rootCorrection2 = s[2], unscale = s[3];
  const double decay = 1 - rate * op.reals[ops::slot::adamwRows::weightDecay];
  float *p = out[0].as<float>(), *mo = out[1].as<float>(), *vo = out[2].as<float>();
  for (auto &[id, gradient] : summed)
    for (int64_t e = std::max(begin, id * width); e < std::min(end, (id + 1) * width); ++e) {
      size_t at = size_t(e - begin);
      double g = gradient[size_t(e - id * width)] * unscale;
      double first = b1 * mo[at] + (1 - b1) * g, second = b2 * vo[at] + (1 - b2) * g * g;
      mo[at] = float(first);
      vo[at] = float(second);
      p[at] = float(p[at] * decay - stepSize * first / (std::sqrt(second) * rootCorrection2 + epsilon));
    }
  return true;
}

} // namespace lmc::cpu
