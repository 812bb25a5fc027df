//===- Parameters.cpp - parameter values for the evaluator ----------------===//

#include "compiler/eval/Parameters.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/JSON.h"
#include "weights/Initializers.h"

#include <cmath>
#include <cstring>

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

void Parameters::set(llvm::StringRef name, EvalTensor value) {
  cache.insert_or_assign(name, std::move(value));
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

FailureOr<EvalTensor> Parameters::generate(ParameterOp parameter) {
  auto type = llvm::cast<RankedTensorType>(parameter.getType());
  EvalTensor tensor = EvalTensor::zeros(type.getShape(), type.getElementType());
  std::string kind;
  std::vector<std::pair<std::string, double>> fields;
  if (DictionaryAttr init = parameter.getInitializerAttr()) {
    if (auto kindAttr = init.getAs<StringAttr>("kind"))
      kind = kindAttr.str();
    for (NamedAttribute field : init)
      if (auto value = llvm::dyn_cast<FloatAttr>(field.getValue()))
        fields.emplace_back(field.getName().str(), value.getValueAsDouble());
  }
  std::vector<double> values;
  if (!::lmc::rt::initialize(parameter.getSymName().str(), seed, kind, fields,
                             std::vector<int64_t>(type.getShape().begin(),
                                                  type.getShape().end()),
                             values))
    return parameter.emitError("unknown initializer '") << kind << "'";
  for (size_t i = 0; i < values.size(); ++i) {
    if (tensor.isInteger())
      tensor.integers[i] = int64_t(values[i]);
    else
      tensor.reals[i] = values[i];
  }
  return tensor;
}

} // namespace mlir::lmc::eval
