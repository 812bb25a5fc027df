// AdamW.h - the optimizer of lmc's training steps, with PyTorch's
// torch.optim.AdamW update and, for embedding tables, lazy row updates.
//
// Dense: p -= lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
// Row-sparse (a table's gradient is rows of ids): duplicate ids are summed
// first, then only the rows the batch touched are updated, weight decay
// included, as torch.optim.SparseAdam and TensorFlow's LazyAdam do; ids
// outside the table are dropped (the forward read zeros for them).
//
// Under ZeRO sharding a rank updates, and keeps moments for, only its
// range of each parameter's elements.

#ifndef LMC_RUNTIME_TRAIN_ADAMW_H
#define LMC_RUNTIME_TRAIN_ADAMW_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace lmc::rt {

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01;
};

/// Rows of a table's gradient: row ids[i] gets values[i * width ...].
struct RowGradient {
  std::vector<int64_t> ids;
  std::vector<float> values;
};

class AdamW {
public:
  /// `owned[p]`: the elements [begin, end) of parameter p this rank
  /// updates (all of them without sharding).
  AdamW(AdamWSettings settings, std::vector<std::pair<int64_t, int64_t>> owned);

  /// Begins update number `step` (1-based): sets the bias corrections.
  void beginStep(int64_t step, double learningRate);
  /// Updates parameter p's owned elements: `value` and `gradient` point at
  /// its first owned element; the gradient is multiplied by `unscale`.
  void applyDense(size_t parameter, float *value, const float *gradient, float unscale);
  /// Updates the owned elements of the rows of `table` ([rows, width]) that
  /// `parts` touch.
  void applyRows(size_t parameter, float *table, int64_t rows, int64_t width,
                 const std::vector<RowGradient> &parts, float unscale);

  /// Bytes of moments this rank keeps.
  int64_t stateBytes() const;
  /// The elements of parameter p this rank updates.
  std::pair<int64_t, int64_t> ownedRange(size_t parameter) const { return owned[parameter]; }
  /// The moments of parameter p's owned elements (for checkpoints).
  std::vector<float> &firstMoment(size_t parameter) { return m[parameter]; }
  std::vector<float> &secondMoment(size_t parameter) { return v[parameter]; }

private:
  void update(float *value, float *m, float *v, const float *gradient, int64_t count,
              float unscale) const;

  AdamWSettings settings;
  std::vector<std::pair<int64_t, int64_t>> owned;
  std::vector<std::vector<float>> m, v;
  double learningRate = 0, correction1 = 1, correction2 = 1;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_ADAMW_H
