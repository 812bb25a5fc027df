// LossScaler.cpp - GradScaler's update rule (see LossScaler.h).

#include "train/LossScaler.h"

namespace lmc::rt {

void LossScaler::update(bool finite) {
  if (!dynamic)
    return;
  if (!finite) {
    current *= kBackoff;
    clean = 0;
    return;
  }
  if (++clean == kGrowthInterval) {
    current *= kGrowth;
    clean = 0;
  }
}

} // namespace lmc::rt
