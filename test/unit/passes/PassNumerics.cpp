// PassNumerics.cpp - what the pass numerics tests share.

#include "PassNumerics.h"

#include "frontend/SpecLoader.h"

#include "mlir/Parser/Parser.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <random>

namespace mlir::lmc::testing {

OwningOpRef<ModuleOp> loadExample(llvm::StringRef name, MLIRContext &context) {
  llvm::SourceMgr sourceMgr;
  auto buffer = llvm::MemoryBuffer::getFile(LMC_SOURCE_DIR "/examples/" + name);
  if (!buffer)
    return nullptr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  if (name.ends_with(".mlir"))
    return parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  return ::lmc::frontend::loadModelSpec(sourceMgr, context);
}

SmallVector<eval::EvalTensor> randomInputs(func::FuncOp function, uint64_t seed,
                                           ArrayRef<int64_t> lengths,
                                           int64_t batch, int64_t sequence) {
  std::mt19937_64 engine(seed);
  SmallVector<eval::EvalTensor> inputs;
  for (auto [index, type] : llvm::enumerate(function.getArgumentTypes())) {
    auto shaped = llvm::cast<RankedTensorType>(type);
    SmallVector<int64_t> shape;
    for (auto [d, dim] : llvm::enumerate(shaped.getShape()))
      shape.push_back(ShapedType::isDynamic(dim) ? (d == 0 ? batch : sequence) : dim);
    auto tensor = eval::EvalTensor::zeros(shape, shaped.getElementType());
    auto ingest = function.getArgAttrOfType<StringAttr>(index, "lmc.ingest");
    if (ingest && ingest.getValue() == "lengths") {
      tensor.integers.assign(lengths.begin(), lengths.end());
    } else {
      bool untaggedLengths = !ingest && shape.size() == 1;
      for (int64_t &value : tensor.integers)
        value = untaggedLengths ? int64_t(engine() % 4) + 1 : int64_t(engine() % 1000);
      for (double &value : tensor.reals)
        value = (double(engine() % 1000) + 1) / 1000.0 * (engine() % 2 ? 1 : -1);
    }
    inputs.push_back(std::move(tensor));
  }
  return inputs;
}

double relativeL2(const eval::EvalTensor &actual, const eval::EvalTensor &expected) {
  double error = 0, norm = 0;
  for (size_t i = 0; i < expected.reals.size(); ++i) {
    error += std::pow(actual.reals[i] - expected.reals[i], 2);
    norm += std::pow(expected.reals[i], 2);
  }
  return std::sqrt(error / std::max(norm, 1e-300));
}

double worstOutputError(func::FuncOp expected, func::FuncOp actual,
                        ArrayRef<eval::EvalTensor> inputs, uint64_t seed) {
  auto parameters = eval::Parameters::fromSeed(seed);
  auto want = eval::evaluate(expected, inputs, parameters);
  // A separate store: the retyped graph may declare parameters in another
  // type; the same seed gives the same values, rounded to that type.
  auto lowParameters = eval::Parameters::fromSeed(seed);
  auto got = eval::evaluate(actual, inputs, lowParameters);
  if (failed(want) || failed(got) || want->size() != got->size())
    return -1;
  double worst = 0;
  for (size_t r = 0; r < want->size(); ++r) {
    if ((*want)[r].shape != (*got)[r].shape)
      return -1;
    worst = std::max(worst, relativeL2((*got)[r], (*want)[r]));
  }
  return worst;
}

} // namespace mlir::lmc::testing
