//===- Target.cpp - what a model is compiled for --------------------------===//

#include "compiler/Target.h"

#include "mlir/IR/Builders.h"

namespace mlir::lmc {

FailureOr<Target> parseTarget(llvm::StringRef text, std::string &error) {
  Target target;
  target.name = text.str();
  if (text == "cpu" || text == "cuda")
    return target;
  llvm::StringRef digits = text;
  if (digits.consume_front("sm_") && !digits.getAsInteger(10, target.architecture) &&
      target.architecture >= 75 && target.architecture <= 121)
    return target;
  error = "'" + text.str() + "' is not one of cpu, cuda, sm_75 .. sm_121";
  return failure();
}

LogicalResult applyTarget(ModuleOp module, const Target &target,
                          Precision precision) {
  if (precision == Precision::BF16 && target.architecture != 0 &&
      target.architecture < 80)
    return module.emitError("bf16 needs sm_80 or newer (bf16 tensor cores); "
                            "the target is ")
           << target.name;
  module->setAttr("lmc.target", Builder(module.getContext()).getStringAttr(target.name));
  return success();
}

} // namespace mlir::lmc
