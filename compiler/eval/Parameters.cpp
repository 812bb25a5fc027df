//===- Parameters.cpp - parameter values for the evaluator ----------------===//

#include "compiler/eval/Parameters.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <cstring>
#include <random>

namespace mlir::lmc::eval {

Parameters Parameters::fromSeed(uint64_t seed) {
  Parameters parameters;
  parameters.seed = seed;
  return parameters;
}

FailureOr<Parameters> Parameters::fromSafetensors(llvm::StringRef path,
                                                  std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer) {
    error = "cannot read weights file '" + path.str() +
            "': " + buffer.getError().message();
    return failure();
  }
  llvm::StringRef bytes = (*buffer)->getBuffer();
  uint64_t headerSize = 0;
  if (bytes.size() < 8) {
    error = "weights file '" + path.str() + "' is too short for safetensors";
    return failure();
  }
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | uint8_t(bytes[size_t(i)]);
  if (headerSize > bytes.size() - 8) {
    error = "weights file '" + path.str() + "' has a header larger than itself";
    return failure();
  }
  llvm::Expected<llvm::json::Value> header =
      llvm::json::parse(bytes.substr(8, headerSize));
  if (!header || !header->getAsObject()) {
    error = "weights file '" + path.str() + "' has a malformed header" +
            (header ? "" : ": " + llvm::toString(header.takeError()));
    return failure();
  }
  Parameters parameters;
  uint64_t dataStart = 8 + headerSize;
  for (const auto &[name, value] : *header->getAsObject()) {
    if (name == "__metadata__")
      continue;
    const llvm::json::Object *tensor = value.getAsObject();
    const llvm::json::Array *shape = tensor ? tensor->getArray("shape") : nullptr;
    const llvm::json::Array *offsets =
        tensor ? tensor->getArray("data_offsets") : nullptr;
    std::optional<llvm::StringRef> dtype =
        tensor ? tensor->getString("dtype") : std::nullopt;
    if (!shape || !offsets || offsets->size() != 2 || !dtype) {
      error = "weights file '" + path.str() + "': tensor '" + name.str() +
              "' lacks dtype, shape or data_offsets";
      return failure();
    }
    Entry entry;
    entry.dtype = dtype->str();
    for (const llvm::json::Value &dim : *shape)
      entry.shape.push_back(dim.getAsInteger().value_or(-1));
    entry.begin = dataStart + uint64_t((*offsets)[0].getAsInteger().value_or(0));
    entry.end = dataStart + uint64_t((*offsets)[1].getAsInteger().value_or(0));
    if (entry.end < entry.begin || entry.end > bytes.size()) {
      error = "weights file '" + path.str() + "': tensor '" + name.str() +
              "' lies outside the file";
      return failure();
    }
    parameters.entries[name.str()] = std::move(entry);
  }
  parameters.weights = std::move(*buffer);
  return parameters;
}

FailureOr<const EvalTensor *> Parameters::get(ParameterOp parameter) {
  auto found = cache.find(parameter.getSymName());
  if (found != cache.end())
    return &found->second;
  FailureOr<EvalTensor> value = weights ? read(parameter) : generate(parameter);
  if (failed(value))
    return failure();
  value->roundToElementType();
  return &cache.try_emplace(parameter.getSymName(), std::move(*value))
              .first->second;
}

// The safetensors dtype of each element type lmc uses.
static llvm::StringRef safetensorsDtype(Type type) {
  if (type.isF32())
    return "F32";
  if (type.isF16())
    return "F16";
  if (type.isBF16())
    return "BF16";
  if (type.isInteger(64))
    return "I64";
  if (type.isInteger(32))
    return "I32";
  if (type.isInteger(1))
    return "BOOL";
  return "";
}

FailureOr<EvalTensor> Parameters::read(ParameterOp parameter) {
  auto type = llvm::cast<RankedTensorType>(parameter.getType());
  auto found = entries.find(parameter.getSymName());
  if (found == entries.end())
    return parameter.emitError("the weights file has no tensor '")
           << parameter.getSymName() << "'";
  const Entry &entry = found->second;
  llvm::StringRef expected = safetensorsDtype(type.getElementType());
  if (entry.dtype != expected || ArrayRef<int64_t>(entry.shape) != type.getShape())
    return parameter.emitError("the weights file holds '")
           << parameter.getSymName() << "' as " << entry.dtype << " "
           << formatShape(entry.shape) << ", the model declares " << type;
  EvalTensor tensor = EvalTensor::zeros(type.getShape(), type.getElementType());
  size_t count = size_t(tensor.numElements());
  size_t width = expected == "BOOL" ? 1 : expected.ends_with("16") ? 2
                                           : expected.ends_with("32") ? 4 : 8;
  if (entry.end - entry.begin != count * width)
    return parameter.emitError("the weights file holds ")
           << (entry.end - entry.begin) << " bytes for '"
           << parameter.getSymName() << "', its shape needs " << count * width;
  const char *data = weights->getBufferStart() + entry.begin;
  for (size_t i = 0; i < count; ++i) {
    const char *element = data + i * width;
    uint64_t raw = 0;
    std::memcpy(&raw, element, width); // safetensors is little-endian
    if (expected == "F32") {
      float value;
      std::memcpy(&value, element, 4);
      tensor.reals[i] = value;
    } else if (expected == "F16" || expected == "BF16") {
      llvm::APFloat value(expected == "F16" ? llvm::APFloat::IEEEhalf()
                                            : llvm::APFloat::BFloat(),
                          llvm::APInt(16, raw));
      tensor.reals[i] = value.convertToFloat();
    } else if (expected == "I32") {
      tensor.integers[i] = int32_t(uint32_t(raw));
    } else {
      tensor.integers[i] = int64_t(raw);
    }
  }
  return tensor;
}

// A double in [0, 1) from 53 random bits.
static double uniform01(std::mt19937_64 &engine) {
  return double(engine() >> 11) * 0x1.0p-53;
}

// Box-Muller, written out so the values are the same on every platform
// (std::normal_distribution's algorithm is implementation-defined).
static double standardNormal(std::mt19937_64 &engine) {
  double u1 = 1.0 - uniform01(engine), u2 = uniform01(engine);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// FNV-1a: a stable hash of the parameter's name for its generator's seed.
static uint64_t hashName(llvm::StringRef name) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : name)
    hash = (hash ^ uint8_t(c)) * 0x100000001b3ULL;
  return hash;
}

FailureOr<EvalTensor> Parameters::generate(ParameterOp parameter) {
  auto type = llvm::cast<RankedTensorType>(parameter.getType());
  EvalTensor tensor = EvalTensor::zeros(type.getShape(), type.getElementType());
  std::mt19937_64 engine(seed ^ hashName(parameter.getSymName()));
  DictionaryAttr init = parameter.getInitializerAttr();
  llvm::StringRef kind = "truncated_normal";
  auto field = [&](llvm::StringRef name, double fallback) {
    auto value = init ? init.getAs<FloatAttr>(name) : FloatAttr();
    return value ? value.getValueAsDouble() : fallback;
  };
  if (init)
    kind = init.getAs<StringAttr>("kind").getValue();
  double mean = field("mean", 0.0), stddev = field("stddev", 0.02);
  ArrayRef<int64_t> shape = type.getShape();
  int64_t fanOut = shape.empty() ? 1 : shape.back();
  int64_t fanIn = std::max<int64_t>(1, tensor.numElements() / std::max<int64_t>(1, fanOut));
  double limit = std::sqrt(6.0 / double(fanIn + fanOut));
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    double value = 0;
    if (kind == "ones") {
      value = 1;
    } else if (kind == "normal") {
      value = mean + stddev * standardNormal(engine);
    } else if (kind == "truncated_normal") {
      double z;
      do
        z = standardNormal(engine);
      while (std::abs(z) > 2);
      value = mean + stddev * z;
    } else if (kind == "uniform") {
      double min = field("min", 0), max = field("max", 1);
      value = min + (max - min) * uniform01(engine);
    } else if (kind == "glorot_uniform") {
      value = -limit + 2 * limit * uniform01(engine);
    }
    if (tensor.isInteger())
      tensor.integers[size_t(i)] = int64_t(value);
    else
      tensor.reals[size_t(i)] = value;
  }
  return tensor;
}

} // namespace mlir::lmc::eval
