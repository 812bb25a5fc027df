//===- EvalExamples.cpp - examples as the reference evaluator's inputs ----===//

#include "tools/lmc/EvalExamples.h"

#include "packer/Packer.h"

#include "llvm/Support/JSON.h"

namespace lmc::tools {
namespace {

using mlir::lmc::eval::EvalTensor;

std::optional<rt::DType> dtypeOf(mlir::Type type) {
  if (type.isF32()) return rt::DType::F32;
  if (type.isF16()) return rt::DType::F16;
  if (type.isBF16()) return rt::DType::BF16;
  if (type.isInteger(64)) return rt::DType::I64;
  if (type.isInteger(32)) return rt::DType::I32;
  return std::nullopt;
}

/// The runtime's view of the function's arguments: a plan with inputs only.
bool planOf(mlir::func::FuncOp function, rt::Plan &plan, std::string &error) {
  for (mlir::BlockArgument argument : function.getArguments()) {
    unsigned i = argument.getArgNumber();
    auto feature = function.getArgAttrOfType<mlir::StringAttr>(i, "lmc.feature");
    auto ingest = function.getArgAttrOfType<mlir::StringAttr>(i, "lmc.ingest");
    auto type = llvm::dyn_cast<mlir::RankedTensorType>(argument.getType());
    std::optional<rt::Ingest> kind =
        ingest ? rt::exampleIngestNamed(ingest.str()) : std::nullopt;
    std::optional<rt::DType> dtype = type ? dtypeOf(type.getElementType()) : std::nullopt;
    if (!feature || !kind || !dtype)
      return (error = "argument #" + std::to_string(i) +
                      " is not an example feature (it lacks lmc.feature and lmc.ingest, "
                      "or its type is not a tensor of f32, f16, bf16, i32 or i64); give "
                      "its tensors with --inputs"),
             false;
    rt::Value value;
    value.type.dtype = *dtype;
    for (int64_t d = 0; d < type.getRank(); ++d)
      value.type.shape.push_back(type.isDynamicDim(d) ? -1 : type.getDimSize(d));
    std::vector<double> defaults;
    if (auto given = function.getArgAttrOfType<mlir::DenseF64ArrayAttr>(i, "lmc.default"))
      defaults.assign(given.asArrayRef().begin(), given.asArrayRef().end());
    auto paired = function.getArgAttrOfType<mlir::StringAttr>(i, "lmc.paired_with");
    plan.inputs.push_back({feature.str(), *kind, int(plan.values.size()), std::move(defaults),
                           paired ? paired.str() : ""});
    plan.values.push_back(std::move(value));
  }
  return true;
}

EvalTensor toEvalTensor(const cpu::Tensor &tensor, mlir::Type elementType) {
  EvalTensor result = EvalTensor::zeros(tensor.shape, elementType);
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    if (result.isInteger())
      result.integers[size_t(i)] = cpu::integerAt(tensor, i);
    else
      result.reals[size_t(i)] = cpu::realAt(tensor, i);
  }
  return result;
}

llvm::json::Value nest(const EvalTensor &tensor, llvm::ArrayRef<int64_t> shape,
                       int64_t &next) {
  if (shape.empty()) {
    int64_t i = next++;
    if (tensor.isInteger())
      return tensor.integers[size_t(i)];
    return tensor.reals[size_t(i)];
  }
  llvm::json::Array array;
  for (int64_t j = 0; j < shape.front(); ++j)
    array.push_back(nest(tensor, shape.drop_front(), next));
  return array;
}

} // namespace

mlir::FailureOr<llvm::SmallVector<EvalTensor>>
examplesToEvalInputs(mlir::func::FuncOp function, const std::vector<rt::Example> &examples,
                     std::vector<int64_t> &tokens, std::string &error) {
  rt::Plan plan;
  if (!planOf(function, plan, error))
    return mlir::failure();
  // One batch, one row per example: the padded layout the function takes.
  rt::PackedBatch batch;
  for (size_t e = 0; e < examples.size(); ++e)
    batch.examples.push_back(e);
  rt::Status status;
  if (!rt::buildBatchInputs(plan, examples, rt::PackingOptions(), batch, status))
    return (error = status.message()), mlir::failure();
  llvm::SmallVector<EvalTensor> inputs;
  for (auto [argument, tensor] : llvm::zip(function.getArguments(), batch.inputs))
    inputs.push_back(toEvalTensor(
        tensor, llvm::cast<mlir::RankedTensorType>(argument.getType()).getElementType()));
  bool sequences = llvm::any_of(
      plan.inputs, [](const rt::Input &input) { return input.ingest == rt::Ingest::Lengths; });
  tokens.assign(examples.size(), sequences ? 0 : 1);
  for (size_t i = 0; i < plan.inputs.size(); ++i)
    if (plan.inputs[i].ingest == rt::Ingest::Lengths)
      for (size_t e = 0; e < examples.size(); ++e)
        tokens[e] = std::max(tokens[e], cpu::integerAt(batch.inputs[i], int64_t(e)));
  return inputs;
}

std::string exampleOutputsToJson(mlir::func::FuncOp function,
                                 llvm::ArrayRef<EvalTensor> outputs, int64_t row,
                                 int64_t tokens) {
  llvm::json::Object object;
  for (auto [i, output] : llvm::enumerate(outputs)) {
    auto name = function.getResultAttrOfType<mlir::StringAttr>(unsigned(i), "lmc.output");
    llvm::SmallVector<int64_t> shape(output.shape.begin() + 1, output.shape.end());
    int64_t rowSize = 1;
    for (int64_t extent : shape)
      rowSize *= extent;
    // A padded sequence ([batch, sequence, ...], the sequence dynamic in the
    // function's type) keeps the example's own tokens, as `lmc run` does.
    auto type = llvm::cast<mlir::ShapedType>(function.getResultTypes()[i]);
    if (type.getRank() >= 2 && type.isDynamicDim(1) && !shape.empty())
      shape[0] = std::min(shape[0], tokens);
    int64_t next = row * rowSize;
    object[name ? name.getValue() : ("#" + llvm::Twine(i)).str()] = nest(output, shape, next);
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(object));
  return text;
}

} // namespace lmc::tools
