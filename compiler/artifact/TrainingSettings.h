//===- TrainingSettings.h - lmc.training, read and checked ------*- C++ -*-===//
//
// The module attribute `lmc.training` (written by the frontend's training
// section, read by --lmc-attach-loss for the loss) also carries the
// optimizer settings a training package records. This reads them with their
// defaults and reports a field of the wrong type or out of range at the
// module.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_ARTIFACT_TRAININGSETTINGS_H
#define LMC_COMPILER_ARTIFACT_TRAININGSETTINGS_H

#include "artifact/Plan.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::lmc {

/// The settings of `module`'s lmc.training dictionary (AdamW: learning_rate
/// 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, weight_decay 0.01; schedule
/// constant; zero_stage 0; ranks 1 unless given).
FailureOr<::lmc::rt::Training> readTrainingSettings(ModuleOp module);

} // namespace mlir::lmc

#endif // LMC_COMPILER_ARTIFACT_TRAININGSETTINGS_H
