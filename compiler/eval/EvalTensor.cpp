//===- EvalTensor.cpp - a tensor value of the reference evaluator ---------===//

#include "compiler/eval/EvalTensor.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"

namespace mlir::lmc::eval {

EvalTensor EvalTensor::zeros(ArrayRef<int64_t> shape, Type elementType) {
  EvalTensor tensor;
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.elementType = elementType;
  size_t count = size_t(tensor.numElements());
  if (tensor.isInteger())
    tensor.integers.assign(count, 0);
  else
    tensor.reals.assign(count, 0.0);
  return tensor;
}

int64_t EvalTensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

void EvalTensor::roundToElementType() {
  auto floatType = llvm::dyn_cast<FloatType>(elementType);
  if (!floatType || floatType.isF64())
    return;
  const llvm::fltSemantics &semantics = floatType.getFloatSemantics();
  for (double &value : reals) {
    llvm::APFloat rounded(value);
    bool losesInfo;
    rounded.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    rounded.convert(llvm::APFloat::IEEEdouble(),
                    llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    value = rounded.convertToDouble();
  }
}

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[size_t(i)] = strides[size_t(i) + 1] * shape[size_t(i) + 1];
  return strides;
}

} // namespace mlir::lmc::eval
