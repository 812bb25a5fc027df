// ModelBuilderTraining.cpp - the training section: how the model trains,
// written as the module's lmc.training dictionary (read by
// --lmc-attach-loss and recorded in training packages).

#include "frontend/ModelBuilder.h"

namespace lmc::frontend {

using namespace mlir;

namespace {

const char *lossName(Loss loss) {
  switch (loss) {
  case Loss::BinaryCrossEntropy: return "binary_cross_entropy";
  case Loss::SoftmaxCrossEntropy: return "softmax_cross_entropy";
  case Loss::MeanSquaredError: return "mean_squared_error";
  }
  return "";
}

const char *scheduleName(LearningRateSchedule schedule) {
  switch (schedule) {
  case LearningRateSchedule::Constant: return "constant";
  case LearningRateSchedule::LinearWarmup: return "linear_warmup";
  case LearningRateSchedule::Cosine: return "cosine";
  }
  return "";
}

const char *precisionName(TrainingPrecision precision) {
  switch (precision) {
  case TrainingPrecision::FP32: return "fp32";
  case TrainingPrecision::FP16: return "fp16";
  case TrainingPrecision::BF16: return "bf16";
  }
  return "";
}

} // namespace

void ModelBuilder::train(const TrainingOptions &options, const SourceLocations &at) {
  auto check = [&](bool ok, llvm::StringRef field, llvm::StringRef rule) {
    if (!ok)
      error(at.of(field, &context)) << "training, field '" << field << "': " << rule;
    return ok;
  };
  bool ok = check(!options.label.empty(), "label", "names the example key of the label");
  ok &= check(options.learningRate > 0, "learning_rate", "must be positive");
  ok &= check(options.beta1 >= 0 && options.beta1 < 1, "beta1", "must lie in [0, 1)");
  ok &= check(options.beta2 >= 0 && options.beta2 < 1, "beta2", "must lie in [0, 1)");
  ok &= check(options.epsilon > 0, "epsilon", "must be positive");
  ok &= check(options.weightDecay >= 0, "weight_decay", "must not be negative");
  ok &= check(options.warmupSteps >= 0, "warmup_steps", "must not be negative");
  ok &= check(options.schedule != LearningRateSchedule::Cosine ||
                  options.totalSteps > options.warmupSteps,
              "total_steps", "must exceed warmup_steps for the cosine schedule");
  ok &= check(options.zeroStage >= 0 && options.zeroStage <= 3, "zero_stage",
              "must be 0, 1, 2 or 3");
  ok &= check(options.ranks >= 1, "ranks", "must be at least 1");
  if (!check(!training, "", "is declared twice") || !ok)
    return;
  training = options;
  trainingLoc = at.of("", &context);
}

/// The lmc.training dictionary, after checking that the trained output
/// exists; null after an error.
DictionaryAttr ModelBuilder::trainingAttribute() {
  const TrainingOptions &options = *training;
  bool found = options.output.empty() ? outputs.size() == 1 : false;
  for (const Output &output : outputs)
    found |= output.name == options.output;
  if (!found) {
    error(*trainingLoc) << "training: "
                        << (options.output.empty()
                                ? std::string("the model has several outputs; name the "
                                              "trained one with 'output'")
                                : "no model output named '" + options.output + "'");
    return nullptr;
  }
  NamedAttrList fields;
  fields.append("loss", builder.getStringAttr(lossName(options.loss)));
  fields.append("label", builder.getStringAttr(options.label));
  if (!options.output.empty())
    fields.append("output", builder.getStringAttr(options.output));
  fields.append("optimizer", builder.getStringAttr("adamw"));
  fields.append("learning_rate", builder.getF64FloatAttr(options.learningRate));
  fields.append("beta1", builder.getF64FloatAttr(options.beta1));
  fields.append("beta2", builder.getF64FloatAttr(options.beta2));
  fields.append("epsilon", builder.getF64FloatAttr(options.epsilon));
  fields.append("weight_decay", builder.getF64FloatAttr(options.weightDecay));
  fields.append("schedule", builder.getStringAttr(scheduleName(options.schedule)));
  fields.append("warmup_steps", builder.getI64IntegerAttr(options.warmupSteps));
  fields.append("total_steps", builder.getI64IntegerAttr(options.totalSteps));
  fields.append("precision", builder.getStringAttr(precisionName(options.precision)));
  fields.append("zero_stage", builder.getI64IntegerAttr(options.zeroStage));
  fields.append("ranks", builder.getI64IntegerAttr(options.ranks));
  return fields.getDictionary(&context);
}

} // namespace lmc::frontend
