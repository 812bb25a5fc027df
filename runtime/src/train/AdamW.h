// AdamW.h - the optimizer of lmc's training steps, with PyTorch's
// torch.optim.AdamW update and, for embedding tables, lazy row updates.
//
// Dense: p -= lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
// Row-sparse (a table's gradient is rows of ids): duplicate ids are summed
// first, then only the rows the batch touched are updated, weight decay
// included, as torch.optim.SparseAdam and TensorFlow's LazyAdam do; ids
// outside the table are dropped (the forward read zeros for them).

#ifndef LMC_RUNTIME_TRAIN_ADAMW_H
#define LMC_RUNTIME_TRAIN_ADAMW_H

#include "artifact/Plan.h"
#include "cpu/Tensor.h"

#include <vector>

namespace lmc::rt {

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01;
};

/// Moments of one f32 parameter.
struct AdamWState {
  std::vector<float> m, v;
};

class AdamW {
public:
  AdamW(AdamWSettings settings, const std::vector<cpu::Tensor> &parameters);

  /// Begins update number `step` (1-based): sets the bias corrections.
  void beginStep(int64_t step, double learningRate);
  /// `gradient` (f32, the parameter's shape) times `unscale`.
  void applyDense(size_t parameter, cpu::Tensor &value, const cpu::Tensor &gradient,
                  float unscale);
  /// Rows `rows[i..., :]` for table rows `indices[i...]`, times `unscale`.
  void applyRows(size_t parameter, cpu::Tensor &table,
                 const std::vector<std::pair<const cpu::Tensor *, const cpu::Tensor *>> &parts,
                 float unscale);

  std::vector<AdamWState> &states() { return moments; }

private:
  void update(float *value, float *m, float *v, const float *gradient, int64_t count,
              float unscale) const;

  AdamWSettings settings;
  std::vector<AdamWState> moments;
  double learningRate = 0, correction1 = 1, correction2 = 1;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_ADAMW_H
