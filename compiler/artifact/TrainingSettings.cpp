//===- TrainingSettings.cpp - lmc.training, read and checked --------------===//

#include "compiler/artifact/TrainingSettings.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::lmc {

FailureOr<::lmc::rt::Training> readTrainingSettings(ModuleOp module) {
  auto dictionary = module->getAttrOfType<DictionaryAttr>("lmc.training");
  if (!dictionary)
    return module.emitError("a training step needs the module's lmc.training settings");
  ::lmc::rt::Training settings;
  bool ok = true;
  auto fail = [&](StringRef field, StringRef rule) {
    module.emitError("lmc.training: '") << field << "' " << rule;
    ok = false;
  };
  auto text = [&](StringRef field, std::string &into) {
    if (Attribute value = dictionary.get(field)) {
      if (auto string = llvm::dyn_cast<StringAttr>(value))
        into = string.str();
      else
        fail(field, "must be a string");
    }
  };
  auto real = [&](StringRef field, double &into) {
    if (Attribute value = dictionary.get(field)) {
      if (auto number = llvm::dyn_cast<FloatAttr>(value))
        into = number.getValueAsDouble();
      else if (auto integer = llvm::dyn_cast<IntegerAttr>(value))
        into = double(integer.getInt());
      else
        fail(field, "must be a number");
    }
  };
  auto whole = [&](StringRef field, auto &into) {
    if (Attribute value = dictionary.get(field)) {
      if (auto integer = llvm::dyn_cast<IntegerAttr>(value))
        into = decltype(into + 0)(integer.getInt());
      else
        fail(field, "must be an integer");
    }
  };
  text("loss", settings.loss);
  text("label", settings.label);
  std::string optimizer = "adamw";
  text("optimizer", optimizer);
  real("learning_rate", settings.learningRate);
  real("beta1", settings.beta1);
  real("beta2", settings.beta2);
  real("epsilon", settings.epsilon);
  real("weight_decay", settings.weightDecay);
  text("schedule", settings.schedule);
  whole("warmup_steps", settings.warmupSteps);
  whole("total_steps", settings.totalSteps);
  whole("zero_stage", settings.zeroStage);
  whole("ranks", settings.ranks);
  if (!ok)
    return failure();
  if (optimizer != "adamw")
    fail("optimizer", "must be adamw, the one optimizer lmc has");
  if (!(settings.learningRate > 0))
    fail("learning_rate", "must be positive");
  if (!(settings.beta1 >= 0 && settings.beta1 < 1) || !(settings.beta2 >= 0 && settings.beta2 < 1))
    fail("beta1' and 'beta2", "must lie in [0, 1)");
  if (!(settings.epsilon > 0))
    fail("epsilon", "must be positive");
  if (!(settings.weightDecay >= 0))
    fail("weight_decay", "must not be negative");
  if (settings.schedule != "constant" && settings.schedule != "linear_warmup" &&
      settings.schedule != "cosine")
    fail("schedule", "must be constant, linear_warmup or cosine");
  if (settings.warmupSteps < 0 || settings.totalSteps < 0)
    fail("warmup_steps' and 'total_steps", "must not be negative");
  if (settings.schedule == "cosine" && settings.totalSteps <= settings.warmupSteps)
    fail("total_steps", "must exceed warmup_steps for the cosine schedule");
  if (settings.zeroStage < 0 || settings.zeroStage > 3)
    fail("zero_stage", "must be 0, 1, 2 or 3");
  if (settings.ranks < 1)
    fail("ranks", "must be at least 1");
  if (!ok)
    return failure();
  return settings;
}

} // namespace mlir::lmc
