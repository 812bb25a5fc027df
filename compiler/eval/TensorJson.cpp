//===- TensorJson.cpp - evaluator inputs and outputs as JSON --------------===//

#include "compiler/eval/TensorJson.h"

#include "compiler/eval/EvalOps.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cmath>

namespace mlir::lmc::eval {

FailureOr<SmallVector<EvalTensor>> parseInputs(llvm::StringRef text,
                                               func::FuncOp function,
                                               std::string &error) {
  llvm::Expected<llvm::json::Value> document = llvm::json::parse(text);
  if (!document) {
    error = "malformed JSON: " + llvm::toString(document.takeError());
    return failure();
  }
  const llvm::json::Object *root = document->getAsObject();
  const llvm::json::Array *inputs = root ? root->getArray("inputs") : nullptr;
  if (!inputs) {
    error = "expected an object with an \"inputs\" list";
    return failure();
  }
  if (inputs->size() != function.getNumArguments()) {
    error = "function '" + function.getSymName().str() + "' takes " +
            std::to_string(function.getNumArguments()) + " inputs, the file has " +
            std::to_string(inputs->size());
    return failure();
  }
  SmallVector<EvalTensor> tensors;
  for (auto [index, entry] : llvm::enumerate(*inputs)) {
    std::string where = "input #" + std::to_string(index);
    const llvm::json::Object *object = entry.getAsObject();
    const llvm::json::Array *shape = object ? object->getArray("shape") : nullptr;
    const llvm::json::Array *data = object ? object->getArray("data") : nullptr;
    if (!shape || !data) {
      error = where + ": expected {\"shape\": [...], \"data\": [...]}";
      return failure();
    }
    SmallVector<int64_t> dims;
    for (const llvm::json::Value &dim : *shape) {
      std::optional<int64_t> size = dim.getAsInteger();
      if (!size || *size < 0) {
        error = where + ": shape entries must be non-negative integers";
        return failure();
      }
      dims.push_back(*size);
    }
    Type element =
        llvm::cast<ShapedType>(function.getArgumentTypes()[index]).getElementType();
    EvalTensor tensor = EvalTensor::zeros(dims, element);
    if (int64_t(data->size()) != tensor.numElements()) {
      error = where + ": shape " + formatRuntimeShape(dims) + " holds " +
              std::to_string(tensor.numElements()) + " values, data has " +
              std::to_string(data->size());
      return failure();
    }
    for (auto [i, value] : llvm::enumerate(*data)) {
      if (tensor.isInteger()) {
        std::optional<int64_t> integer = value.getAsInteger();
        if (!integer) {
          error = where + ": value #" + std::to_string(i) + " is not an integer";
          return failure();
        }
        tensor.integers[i] = *integer;
      } else if (value.kind() == llvm::json::Value::Null) {
        tensor.reals[i] = NAN;
      } else if (std::optional<double> real = value.getAsNumber()) {
        tensor.reals[i] = *real;
      } else {
        error = where + ": value #" + std::to_string(i) + " is not a number";
        return failure();
      }
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

llvm::json::Value outputsToJson(func::FuncOp function,
                                ArrayRef<EvalTensor> outputs) {
  llvm::json::Array entries;
  for (auto [index, tensor] : llvm::enumerate(outputs)) {
    llvm::json::Object entry;
    auto name = function.getResultAttrOfType<StringAttr>(index, "lmc.output");
    entry["name"] = name ? name.getValue().str() : "result" + std::to_string(index);
    entry["shape"] = llvm::json::Array(tensor.shape);
    llvm::json::Array data;
    for (int64_t i = 0; i < tensor.numElements(); ++i) {
      if (tensor.isInteger())
        data.push_back(tensor.integers[size_t(i)]);
      else if (std::isnan(tensor.reals[size_t(i)]))
        data.push_back(nullptr);
      else
        data.push_back(tensor.reals[size_t(i)]);
    }
    entry["data"] = std::move(data);
    entries.push_back(std::move(entry));
  }
  return llvm::json::Object{{"outputs", std::move(entries)}};
}

} // namespace mlir::lmc::eval
