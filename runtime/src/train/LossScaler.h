// LossScaler.h - dynamic loss scaling with torch.amp.GradScaler's defaults.
//
// The training step multiplies its loss by the scale before the backward
// pass (its loss_scale input), so small f16 gradients do not flush to zero.
// A step whose gradients hold an inf or NaN is skipped and the scale
// halves; after 2000 clean steps in a row it doubles. Starts at 2^16.
// Disabled (scale 1, never changed) for f32 and bf16 steps, as GradScaler
// is only needed for f16; non-finite steps are still skipped.

#ifndef LMC_RUNTIME_TRAIN_LOSSSCALER_H
#define LMC_RUNTIME_TRAIN_LOSSSCALER_H

#include <cstdint>

namespace lmc::rt {

class LossScaler {
public:
  explicit LossScaler(bool dynamic) : dynamic(dynamic), current(dynamic ? 65536.0 : 1.0) {}

  double scale() const { return current; }
  /// Records a step's outcome: `finite` when every gradient was finite.
  void update(bool finite);

  /// For checkpoints.
  int64_t cleanSteps() const { return clean; }
  void restore(double scale, int64_t cleanSteps) {
    if (!dynamic)
      return;
    current = scale;
    clean = cleanSteps;
  }

  static constexpr double kGrowth = 2.0, kBackoff = 0.5;
  static constexpr int64_t kGrowthInterval = 2000;

private:
  bool dynamic;
  double current;
  int64_t clean = 0;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_LOSSSCALER_H
