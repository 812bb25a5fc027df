//===- TensorJson.h - evaluator inputs and outputs as JSON ------*- C++ -*-===//
//
//   {"inputs": [{"shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}, ...]}
//
// One entry per function argument, in order; `data` is row-major. Integers
// are JSON integers (all 64 bits), floats JSON numbers, and `null` is NaN
// (a missing numeric value). Outputs are written the same way under
// "outputs", each with the `name` from its `lmc.output` attribute.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_EVAL_TENSORJSON_H
#define LMC_COMPILER_EVAL_TENSORJSON_H

#include "compiler/eval/EvalTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::lmc::eval {

/// Reads the inputs of `function` from `text`; fails with `error` set.
FailureOr<SmallVector<EvalTensor>> parseInputs(llvm::StringRef text,
                                               func::FuncOp function,
                                               std::string &error);

/// The results of `function` as a JSON document.
llvm::json::Value outputsToJson(func::FuncOp function,
                                ArrayRef<EvalTensor> outputs);

} // namespace mlir::lmc::eval

#endif // LMC_COMPILER_EVAL_TENSORJSON_H
