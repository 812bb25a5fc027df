//===- EvalExamples.h - examples as the reference evaluator's inputs ------===//
//
// `lmc eval --examples` reads the JSON lines `lmc run` reads, through the
// runtime's own example reader and packer: the examples become one padded
// batch in the function's argument order (each argument's lmc.feature and
// lmc.ingest say how), so the evaluator and the backends see the same
// tensors, missing features and defaults included. Outputs come back one JSON
// line per example, as `lmc run` writes them.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_TOOLS_LMC_EVALEXAMPLES_H
#define LMC_TOOLS_LMC_EVALEXAMPLES_H

#include "compiler/eval/EvalTensor.h"
#include "packer/Example.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace lmc::tools {

/// The padded batch of `examples` as `function`'s arguments, and each
/// example's token count (its longest sequence; 1 without sequences).
mlir::FailureOr<llvm::SmallVector<mlir::lmc::eval::EvalTensor>>
examplesToEvalInputs(mlir::func::FuncOp function,
                     const std::vector<rt::Example> &examples,
                     std::vector<int64_t> &tokens, std::string &error);

/// Example `row`'s outputs as one JSON object, {"<output>": value}: its row
/// of each result, a padded sequence cut to the example's `tokens`.
std::string exampleOutputsToJson(mlir::func::FuncOp function,
                                 llvm::ArrayRef<mlir::lmc::eval::EvalTensor> outputs,
                                 int64_t row, int64_t tokens);

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_EVALEXAMPLES_H
