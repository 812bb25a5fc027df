//===- ArtifactWriter.cpp - kernel IR to a .lmcpkg artifact ---------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/TrainingSettings.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "artifact/Envelope.h"
#include "artifact/Plan.h"
#include "artifact/OpTable.h"
#include "lmc/fingerprint.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

namespace mlir::lmc {
namespace {

namespace fb = ::lmc::fb;
using flatbuffers::Offset;

FailureOr<fb::DType> dtypeOf(Operation *op, Type type) {
  if (type.isF32()) return fb::DType::F32;
  if (type.isF16()) return fb::DType::F16;
  if (type.isBF16()) return fb::DType::BF16;
  if (type.isInteger(64)) return fb::DType::I64;
  if (type.isInteger(32)) return fb::DType::I32;
  if (type.isInteger(1)) return fb::DType::I1;
  return op->emitError("element type ") << type << " cannot be packaged for the runtime";
}

class Writer {
public:
  Writer(ModuleOp module, const CodeByKernel &code) : module(module), code(code) {}

  FailureOr<std::string> write(llvm::StringRef precision);

private:
  FailureOr<Offset<fb::TensorType>> typeOf(Operation *op, Type type,
                                           ArrayRef<std::string> dimNames = {});
  LogicalResult addParameters();
  LogicalResult addInputs(func::FuncOp function);
  FailureOr<int> addConstant(ConstantOp constant);
  LogicalResult addKernel(KernelOp kernel);
  FailureOr<Offset<fb::Instruction>> instruction(Operation *op,
                                                 llvm::DenseMap<Value, int> &locals);
  int addTable(llvm::StringRef name, std::vector<int64_t> fingerprints,
               std::vector<float> boundaries);
  int addValue(Value value, Offset<fb::TensorType> type, fb::ValueKind kind, int index,
               int64_t offset);

  Offset<flatbuffers::Vector<Offset<fb::Launch>>> launchesOf(const KernelCode &kernel);

  ModuleOp module;
  const CodeByKernel &code;
  flatbuffers::FlatBufferBuilder builder{1 << 16};
  llvm::DenseMap<Value, int> values;
  llvm::StringMap<int> parameterIndex;
  std::vector<Offset<fb::Value>> valueTable;
  std::vector<Offset<fb::Kernel>> kernels;
  std::vector<Offset<fb::Step>> steps;
  std::vector<Offset<fb::Input>> inputs;
  std::vector<Offset<fb::Output>> outputs;
  std::vector<Offset<fb::Parameter>> parameters;
  std::vector<Offset<fb::Constant>> constants;
  std::vector<Offset<fb::FeatureTable>> tables;
};

FailureOr<Offset<fb::TensorType>> Writer::typeOf(Operation *op, Type type,
                                                 ArrayRef<std::string> dimNames) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return op->emitError("type ") << type << " cannot be packaged for the runtime";
  FailureOr<fb::DType> dtype = dtypeOf(op, tensor.getElementType());
  if (failed(dtype))
    return failure();
  std::vector<int64_t> shape;
  for (int64_t dim : tensor.getShape())
    shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  std::vector<Offset<flatbuffers::String>> names;
  if (!dimNames.empty())
    for (const std::string &name : dimNames)
      names.push_back(builder.CreateString(name));
  return fb::CreateTensorTypeDirect(builder, *dtype, &shape, names.empty() ? nullptr : &names);
}

int Writer::addValue(Value value, Offset<fb::TensorType> type, fb::ValueKind kind, int index,
                     int64_t offset) {
  int id = int(valueTable.size());
  valueTable.push_back(fb::CreateValue(builder, type, kind, index, offset));
  values[value] = id;
  return id;
}

int Writer::addTable(llvm::StringRef name, std::vector<int64_t> fingerprints,
                     std::vector<float> boundaries) {
  tables.push_back(fb::CreateFeatureTableDirect(builder, name.str().c_str(), &fingerprints,
                                                &boundaries));
  return int(tables.size() - 1);
}

LogicalResult Writer::addParameters() {
  for (ParameterOp parameter : module.getOps<ParameterOp>()) {
    // Refused here, where the spec can say which column asked for it,
    // rather than by the runtime.
    auto shaped = llvm::cast<ShapedType>(parameter.getType());
    if (shaped.hasStaticShape() && !llvm::is_contained(shaped.getShape(), 0)) {
      int64_t elements = 1;
      for (int64_t dim : shaped.getShape()) {
        if (elements > ::lmc::rt::kMaxElements / dim)
          return parameter.emitError("parameter '")
                 << parameter.getSymName() << "' of shape " << parameter.getType()
                 << " has more than 2^40 elements, the most a tensor may hold";
        elements *= dim;
      }
    }
    FailureOr<Offset<fb::TensorType>> type = typeOf(parameter, parameter.getType());
    if (failed(type))
      return failure();
    Offset<fb::Initializer> initializer;
    if (DictionaryAttr init = parameter.getInitializerAttr()) {
      std::string kind;
      if (auto kindAttr = init.getAs<StringAttr>("kind"))
        kind = kindAttr.str();
      std::vector<Offset<flatbuffers::String>> names;
      std::vector<double> fieldValues;
      for (NamedAttribute field : init)
        if (auto value = llvm::dyn_cast<FloatAttr>(field.getValue())) {
          names.push_back(builder.CreateString(field.getName().str()));
          fieldValues.push_back(value.getValueAsDouble());
        }
      initializer = fb::CreateInitializerDirect(builder, kind.c_str(), &names, &fieldValues);
    }
    parameterIndex[parameter.getSymName()] = int(parameters.size());
    auto shards = parameter->getAttrOfType<IntegerAttr>("lmc.shards");
    parameters.push_back(fb::CreateParameterDirect(
        builder, parameter.getSymName().str().c_str(), *type, initializer,
        shards ? int(shards.getInt()) : 1, parameter->hasAttr("lmc.optimizer_state")));
  }
  return success();
}

LogicalResult Writer::addInputs(func::FuncOp function) {
  llvm::StringSet<> sequences;
  for (unsigned i = 0; i < function.getNumArguments(); ++i)
    if (auto ingest = function.getArgAttrOfType<StringAttr>(i, "lmc.ingest"))
      if (ingest.getValue() == "lengths")
        if (auto feature = function.getArgAttrOfType<StringAttr>(i, "lmc.feature"))
          sequences.insert(feature.getValue());
  for (BlockArgument argument : function.getArguments()) {
    unsigned i = argument.getArgNumber();
    // A training step's inputs from the trainer.
    for (auto [attribute, kind] : {std::pair("lmc.loss_scale", fb::Ingest::LossScale),
                                   std::pair("lmc.optimizer_step", fb::Ingest::OptimizerStep)})
      if (function.getArgAttr(i, attribute)) {
        FailureOr<Offset<fb::TensorType>> type = typeOf(function, argument.getType());
        if (failed(type))
          return failure();
        int value = addValue(argument, *type, fb::ValueKind::Input, int(inputs.size()), -1);
        inputs.push_back(fb::CreateInputDirect(builder, StringRef(attribute).drop_front(4).str().c_str(),
                                               kind, value));
      }
    if (function.getArgAttr(i, "lmc.loss_scale") || function.getArgAttr(i, "lmc.optimizer_step"))
      continue;
    auto feature = function.getArgAttrOfType<StringAttr>(i, "lmc.feature");
    auto ingest = function.getArgAttrOfType<StringAttr>(i, "lmc.ingest");
    if (!feature || !ingest)
      return function.emitError("argument #")
             << i << " lacks {lmc.feature, lmc.ingest}: the runtime cannot feed it";
    std::optional<fb::Ingest> kind = ::lmc::rt::exampleIngestNamed(ingest.str());
    if (!kind)
      return function.emitError("argument #") << i << " has unknown ingest '"
                                              << ingest.getValue() << "'";
    auto tensor = llvm::cast<RankedTensorType>(argument.getType());
    std::vector<std::string> names;
    for (int64_t d = 0; d < tensor.getRank(); ++d)
      names.push_back(!tensor.isDynamicDim(d) ? ""
                      : d == 0               ? "batch"
                      : d == 1 && sequences.contains(feature.getValue()) ? "sequence"
                                                                         : "");
    FailureOr<Offset<fb::TensorType>> type = typeOf(function, tensor, names);
    if (failed(type))
      return failure();
    int value = addValue(argument, *type, fb::ValueKind::Input, int(inputs.size()), -1);
    std::vector<double> defaults;
    if (auto given = function.getArgAttrOfType<DenseF64ArrayAttr>(i, "lmc.default"))
      defaults.assign(given.asArrayRef().begin(), given.asArrayRef().end());
    auto paired = function.getArgAttrOfType<StringAttr>(i, "lmc.paired_with");
    inputs.push_back(fb::CreateInputDirect(builder, feature.str().c_str(), *kind, value,
                                           defaults.empty() ? nullptr : &defaults,
                                           paired ? paired.str().c_str() : nullptr));
  }
  return success();
}

FailureOr<int> Writer::addConstant(ConstantOp constant) {
  auto attr = llvm::cast<DenseElementsAttr>(constant.getValue());
  FailureOr<Offset<fb::TensorType>> type = typeOf(constant, attr.getType());
  if (failed(type))
    return failure();
  Type element = attr.getElementType();
  unsigned width = element.isInteger(1) ? 1 : element.getIntOrFloatBitWidth() / 8;
  std::vector<uint8_t> bytes;
  auto append = [&](uint64_t bits) {
    for (unsigned b = 0; b < width; ++b)
      bytes.push_back(uint8_t(bits >> (8 * b)));
  };
  if (llvm::isa<FloatType>(element))
    for (const APFloat &value : attr.getValues<APFloat>())
      append(value.bitcastToAPInt().getZExtValue());
  else
    for (const APInt &value : attr.getValues<APInt>())
      append(element.isInteger(1) ? value.getZExtValue() : uint64_t(value.getSExtValue()));
  constants.push_back(fb::CreateConstantDirect(builder, *type, &bytes));
  return int(constants.size() - 1);
}

FailureOr<Offset<fb::Instruction>> Writer::instruction(Operation *op,
                                                       llvm::DenseMap<Value, int> &locals) {
  std::vector<int> operands;
  std::vector<int64_t> ints;
  std::vector<double> reals;
  int table = -1;
  auto local = [&](Value value) { return value ? locals.lookup(value) : -1; };
  // The opcode by the op's name (Ops.def); the ops below carry attributes.
  std::optional<fb::Opcode> opcode = ::lmc::ops::opcodeNamed(op->getName().getStringRef());
  if (!opcode)
    return op->emitError("the runtime has no implementation of '")
           << op->getName() << "'";
  // Operands in ODS order, an absent optional one as -1: an op with several
  // optional operands records each group's size (operandSegmentSizes); one
  // with a single optional operand lacks exactly that one (Ops.def's
  // optionalOperands names it).
  auto properties = llvm::dyn_cast_or_null<DictionaryAttr>(op->getPropertiesAsAttribute());
  auto segments =
      properties ? properties.getAs<DenseI32ArrayAttr>("operandSegmentSizes") : nullptr;
  const ::lmc::ops::OpInfo &row = ::lmc::ops::info(*opcode);
  if (segments) {
    unsigned next = 0;
    for (int32_t size : segments.asArrayRef()) {
      if (size == 0)
        operands.push_back(-1);
      for (int32_t i = 0; i < size; ++i)
        operands.push_back(local(op->getOperand(next++)));
    }
  } else {
    for (Value operand : op->getOperands())
      operands.push_back(local(operand));
    if (row.maxOperands != ::lmc::ops::kVariadic && int(operands.size()) < row.maxOperands &&
        row.optionalOperands)
      operands.insert(operands.begin() + llvm::countr_zero(row.optionalOperands), -1);
  }
  // Attributes go to their named slots (artifact/OpSlots.h).
  namespace slot = ::lmc::ops::slot;
  ints.assign(size_t(row.ints), 0);
  reals.assign(size_t(row.reals), 0.0);
  LogicalResult encoded =
      llvm::TypeSwitch<Operation *, LogicalResult>(op)
          .Case([&](CompareOp compare) {
            ints[slot::compare::predicate] = int64_t(compare.getPredicate());
            return success();
          })
          .Case([&](MatmulOp matmul) {
            ints[slot::matmul::transposeLhs] = matmul.getTransposeLhs();
            ints[slot::matmul::transposeRhs] = matmul.getTransposeRhs();
            return success();
          })
          .Case([&](ReduceSumOp reduce) {
            ints[slot::reduce::axis] = reduce.getAxis();
            ints[slot::reduce::keepDims] = reduce.getKeepDims();
            return success();
          })
          .Case([&](ReduceMaxOp reduce) {
            ints[slot::reduce::axis] = reduce.getAxis();
            ints[slot::reduce::keepDims] = reduce.getKeepDims();
            return success();
          })
          .Case([&](SoftmaxOp softmax) {
            ints[slot::softmax::axis] = softmax.getAxis();
            return success();
          })
          .Case([&](TransposeOp transpose) {
            ints.assign(transpose.getPermutation().begin(), transpose.getPermutation().end());
            return success();
          })
          .Case([&](ConcatOp concat) {
            ints[slot::concat::axis] = concat.getAxis();
            return success();
          })
          .Case([&](SliceOp slice) {
            ints[slot::slice::axis] = slice.getAxis();
            ints[slot::slice::start] = slice.getStart();
            ints[slot::slice::limit] = slice.getLimit();
            return success();
          })
          .Case([&](ConstantOp constant) -> LogicalResult {
            FailureOr<int> index = addConstant(constant);
            if (failed(index))
              return failure();
            ints[slot::constant::index] = *index;
            return success();
          })
          .Case([&](LayerNormOp norm) {
            reals[slot::norm::epsilon] = norm.getEpsilon().convertToDouble();
            return success();
          })
          .Case([&](RmsNormOp norm) {
            reals[slot::norm::epsilon] = norm.getEpsilon().convertToDouble();
            return success();
          })
          .Case([&](GeluOp gelu) {
            ints[slot::gelu::tanh] = gelu.getApproximation() == GeluApproximation::tanh;
            return success();
          })
          .Case([&](AttentionOp attention) {
            ints[slot::attention::causal] = attention.getCausal();
            reals[slot::attention::scale] =
                attention.getScale() ? double(attention.getScale()->convertToFloat())
                                     : std::numeric_limits<double>::quiet_NaN();
            return success();
          })
          .Case([&](AttentionGradOp grad) {
            ints[slot::attention::causal] = grad.getCausal();
            reals[slot::attention::scale] = grad.getScale()
                                                ? double(grad.getScale()->convertToFloat())
                                                : std::numeric_limits<double>::quiet_NaN();
            return success();
          })
          .Case([&](AllReduceOp op) {
            ints[slot::collective::ranks] = op.getRanks();
            return success();
          })
          .Case([&](ReduceScatterOp op) {
            ints[slot::collective::ranks] = op.getRanks();
            return success();
          })
          .Case([&](AllGatherOp op) {
            ints[slot::collective::ranks] = op.getRanks();
            return success();
          })
          .Case([&](AllGatherRowsOp op) {
            ints[slot::collective::ranks] = op.getRanks();
            return success();
          })
          .Case([&](ShardSliceOp op) {
            ints[slot::collective::ranks] = op.getRanks();
            return success();
          })
          .Case([&](RankOp op) {
            ints[slot::collective::ranks] = op.getRanks();
            return success();
          })
          .Case([&](AdamwRowsOp op) {
            ints[slot::adamwRows::ranks] = op.getRanks();
            ints[slot::adamwRows::tableRows] = op.getTableRows();
            reals[slot::adamwRows::beta1] = op.getBeta1().convertToDouble();
            reals[slot::adamwRows::beta2] = op.getBeta2().convertToDouble();
            reals[slot::adamwRows::epsilon] = op.getEpsilon().convertToDouble();
            reals[slot::adamwRows::weightDecay] = op.getWeightDecay().convertToDouble();
            return success();
          })
          .Case([&](SegmentReduceOp reduce) {
            ints[slot::segmentReduce::reduction] = int64_t(reduce.getReduction());
            return success();
          })
          .Case([&](FcNumericOp numeric) {
            ints[slot::fcNumeric::normalizer] = int64_t(numeric.getNormalizer());
            ints[slot::fcNumeric::hasDefault] = numeric.getDefaultValue().has_value();
            auto orElse = [](std::optional<APFloat> value, double fallback) {
              return value ? value->convertToDouble() : fallback;
            };
            reals[slot::fcNumeric::mean] = orElse(numeric.getMean(), 0.0);
            reals[slot::fcNumeric::stddev] = orElse(numeric.getStd(), 1.0);
            reals[slot::fcNumeric::min] = orElse(numeric.getMin(), 0.0);
            reals[slot::fcNumeric::max] = orElse(numeric.getMax(), 1.0);
            reals[slot::fcNumeric::defaultValue] = orElse(numeric.getDefaultValue(), 0.0);
            return success();
          })
          .Case([&](FcBucketizeOp bucketize) {
            ArrayRef<float> boundaries = bucketize.getBoundaries();
            table = addTable("bucketize", {}, {boundaries.begin(), boundaries.end()});
            return success();
          })
          .Case([&](FcHashBucketOp hash) {
            ints[slot::fcHashBucket::buckets] = hash.getNumBuckets();
            return success();
          })
          .Case([&](FcVocabLookupOp lookup) {
            auto vocabulary = llvm::to_vector(lookup.getVocabulary().getValues<int64_t>());
            table = addTable("vocabulary", {vocabulary.begin(), vocabulary.end()}, {});
            ints[slot::fcVocabLookup::oovBuckets] = lookup.getNumOovBuckets().value_or(0);
            ints[slot::fcVocabLookup::hasDefault] = lookup.getDefaultValue().has_value();
            ints[slot::fcVocabLookup::defaultValue] = lookup.getDefaultValue().value_or(0);
            return success();
          })
          .Case([&](FcIdentityOp identity) {
            ints[slot::fcIdentity::buckets] = identity.getNumBuckets();
            ints[slot::fcIdentity::hasDefault] = identity.getDefaultValue().has_value();
            ints[slot::fcIdentity::defaultValue] = identity.getDefaultValue().value_or(0);
            return success();
          })
          .Case([&](FcCrossOp cross) {
            ints[slot::fcCross::buckets] = cross.getNumBuckets();
            ints[slot::fcCross::hashKey] = cross.getHashKey() ? int64_t(*cross.getHashKey())
                                                              : int64_t(LMC_DEFAULT_CROSS_HASH_KEY);
            return success();
          })
          .Case([&](FcEmbeddingBagOp bag) {
            ints[slot::fcEmbeddingBag::combiner] = int64_t(bag.getCombiner());
            ints[slot::fcEmbeddingBag::hasMaxNorm] = bag.getMaxNorm().has_value();
            reals[slot::fcEmbeddingBag::maxNorm] =
                bag.getMaxNorm() ? double(bag.getMaxNorm()->convertToFloat()) : 0.0;
            return success();
          })
          .Case([&](FcIndicatorOp indicator) {
            ints[slot::fcIndicator::buckets] = indicator.getNumBuckets();
            return success();
          })
          .Default([](Operation *) { return success(); });
  if (failed(encoded))
    return failure();
  std::vector<Offset<fb::TensorType>> results;
  for (Value result : op->getResults()) {
    FailureOr<Offset<fb::TensorType>> type = typeOf(op, result.getType());
    if (failed(type))
      return failure();
    results.push_back(*type);
    locals[result] = int(locals.size());
  }
  return fb::CreateInstructionDirect(builder, *opcode, &operands, &results, &ints, &reals,
                                     table);
}

Offset<flatbuffers::Vector<Offset<fb::Launch>>> Writer::launchesOf(const KernelCode &kernel) {
  std::vector<Offset<fb::Launch>> launches;
  for (const ::lmc::rt::Launch &launch : kernel.launches) {
    std::vector<Offset<fb::LaunchArg>> argOffsets;
    for (const ::lmc::rt::LaunchArg &arg : launch.args)
      argOffsets.push_back(fb::CreateLaunchArg(builder, arg.kind, arg.value, arg.axis));
    launches.push_back(fb::CreateLaunchDirect(builder, launch.entry.c_str(), launch.pattern,
                                              launch.value, launch.threads, launch.perBlock,
                                              launch.sharedBytes, &argOffsets));
  }
  return builder.CreateVector(launches);
}

LogicalResult Writer::addKernel(KernelOp kernel) {
  llvm::DenseMap<Value, int> locals;
  std::vector<Offset<fb::TensorType>> arguments;
  Block &body = kernel.getBody().front();
  for (BlockArgument argument : body.getArguments()) {
    FailureOr<Offset<fb::TensorType>> type = typeOf(kernel, argument.getType());
    if (failed(type))
      return failure();
    arguments.push_back(*type);
    locals[argument] = int(locals.size());
  }
  std::vector<Offset<fb::Instruction>> instructions;
  std::vector<int> yields;
  for (Operation &op : body) {
    if (auto yield = llvm::dyn_cast<YieldOp>(op)) {
      for (Value value : yield.getOperands())
        yields.push_back(locals.lookup(value));
      continue;
    }
    FailureOr<Offset<fb::Instruction>> encoded = instruction(&op, locals);
    if (failed(encoded))
      return failure();
    instructions.push_back(*encoded);
  }
  fb::KernelKind kind = kernel.getKind() == KernelKind::gemm         ? fb::KernelKind::Gemm
                        : kernel.getKind() == KernelKind::attention  ? fb::KernelKind::Attention
                        : kernel.getKind() == KernelKind::collective ? fb::KernelKind::Collective
                        : kernel.getKind() == KernelKind::optimizer  ? fb::KernelKind::Optimizer
                                                                    : fb::KernelKind::Fused;
  int index = int(kernels.size());
  Offset<flatbuffers::String> source;
  std::vector<Offset<fb::Binary>> binaries;
  Offset<flatbuffers::Vector<Offset<fb::Launch>>> launches;
  if (auto found = code.find(kernel.getName().str()); found != code.end()) {
    source = builder.CreateString(found->second.source);
    for (const ::lmc::rt::Binary &binary : found->second.binaries) {
      auto data = builder.CreateVector(reinterpret_cast<const uint8_t *>(binary.data.data()),
                                       binary.data.size());
      binaries.push_back(fb::CreateBinary(builder, builder.CreateString(binary.arch),
                                          builder.CreateString(binary.format), data));
    }
    launches = launchesOf(found->second);
  }
  auto name = builder.CreateString(kernel.getName().str());
  auto argumentVector = builder.CreateVector(arguments);
  auto bodyVector = builder.CreateVector(instructions);
  auto yieldVector = builder.CreateVector(yields);
  auto binaryVector = builder.CreateVector(binaries);
  kernels.push_back(fb::CreateKernel(builder, name, kind, int(kernel.getBlockQ().value_or(0)),
                                     int(kernel.getBlockK().value_or(0)), argumentVector,
                                     bodyVector, yieldVector, source, binaryVector, launches));

  auto offsets = kernel->getAttrOfType<DenseI64ArrayAttr>("lmc.offsets");
  if (!offsets || offsets.size() != int64_t(kernel->getNumResults()))
    return kernel.emitError("has no memory plan (run --lmc-plan-memory first)");
  std::vector<int> operandIds, resultIds;
  for (Value operand : kernel->getOperands()) {
    auto found = values.find(operand);
    if (found == values.end())
      return kernel.emitError("reads a value the artifact cannot hold");
    operandIds.push_back(found->second);
  }
  for (auto [result, offset] : llvm::zip(kernel->getResults(), offsets.asArrayRef())) {
    FailureOr<Offset<fb::TensorType>> type = typeOf(kernel, result.getType());
    if (failed(type))
      return failure();
    resultIds.push_back(addValue(result, *type, fb::ValueKind::Arena, -1, offset));
  }
  fb::StepKind step = kind == fb::KernelKind::Gemm         ? fb::StepKind::Gemm
                      : kind == fb::KernelKind::Collective ? fb::StepKind::Collective
                                                           : fb::StepKind::Launch;
  steps.push_back(fb::CreateStepDirect(builder, step, index, &operandIds, &resultIds));
  return success();
}

FailureOr<std::string> Writer::write(llvm::StringRef precision) {
  auto functions = llvm::to_vector(module.getOps<func::FuncOp>());
  if (functions.size() != 1)
    return module.emitError("an artifact holds one model function; the module has ")
           << functions.size();
  func::FuncOp function = functions.front();
  if (failed(addParameters()) || failed(addInputs(function)))
    return failure();
  for (Operation &op : function.getBody().front()) {
    LogicalResult placed =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](ParamLoadOp load) -> LogicalResult {
              auto found = parameterIndex.find(load.getName());
              FailureOr<Offset<fb::TensorType>> type = typeOf(load, load.getType());
              if (found == parameterIndex.end() || failed(type))
                return failure();
              addValue(load.getResult(), *type, fb::ValueKind::Parameter, found->second, -1);
              return success();
            })
            .Case([&](ConstantOp constant) -> LogicalResult {
              FailureOr<int> index = addConstant(constant);
              if (failed(index))
                return failure();
              FailureOr<Offset<fb::TensorType>> type = typeOf(constant, constant.getType());
              if (failed(type))
                return failure();
              addValue(constant.getResult(), *type, fb::ValueKind::Constant, *index, -1);
              return success();
            })
            .Case([&](KernelOp kernel) { return addKernel(kernel); })
            .Case([&](func::ReturnOp ret) -> LogicalResult {
              for (auto [i, operand] : llvm::enumerate(ret.getOperands())) {
                auto name = function.getResultAttrOfType<StringAttr>(unsigned(i), "lmc.output");
                auto head = function.getResultAttrOfType<StringAttr>(unsigned(i), "lmc.head");
                auto found = values.find(operand);
                if (found == values.end())
                  return ret.emitError("result #") << i << " is not computed by a kernel";
                std::string outputName = name ? name.str() : "output" + std::to_string(i);
                std::string headName = head ? head.str() : "";
                // A training step's gradients: "gradient:<parameter>", with
                // ":indices" / ":rows" for the parts of a row-sparse one.
                if (auto parameter =
                        function.getResultAttrOfType<StringAttr>(unsigned(i), "lmc.gradient")) {
                  auto part = function.getResultAttrOfType<StringAttr>(unsigned(i), "lmc.sparse");
                  outputName = "gradient:" + parameter.str() + (part ? ":" + part.str() : "");
                  headName = part ? "gradient_" + part.str() : "gradient";
                }
                // --lmc-shard-state's new values of parameters and moments.
                int updates = -1;
                if (auto parameter =
                        function.getResultAttrOfType<StringAttr>(unsigned(i), "lmc.update")) {
                  auto index = parameterIndex.find(parameter.getValue());
                  if (index == parameterIndex.end())
                    return ret.emitError("result #") << i << " updates unknown parameter '"
                                                     << parameter.getValue() << "'";
                  updates = index->second;
                  outputName = "update:" + parameter.str();
                  headName = "update";
                }
                outputs.push_back(fb::CreateOutputDirect(builder, outputName.c_str(),
                                                         headName.c_str(), found->second,
                                                         updates));
              }
              return success();
            })
            .Default([](Operation *other) {
              return other->emitError("'")
                     << other->getName()
                     << "' outside a kernel cannot be packaged (compile to kernel IR first)";
            });
    if (failed(placed))
      return failure();
  }
  auto arena = function->getAttrOfType<IntegerAttr>("lmc.arena_bytes");
  auto budget = function->getAttrOfType<DenseI64ArrayAttr>("lmc.budget");
  if (!arena || !budget || budget.size() != 3)
    return function.emitError("has no memory plan (run --lmc-plan-memory first)");
  if (arena.getInt() > ::lmc::rt::kMaxArenaBytes)
    return function.emitError("the memory plan needs an arena of ")
           << arena.getInt() << " bytes for batches of " << budget[0] << " examples and "
           << budget[2] << " tokens, more than the 2^40 the runtime takes: lower --max-batch, "
           << "--max-sequence or --max-tokens";
  auto target = module->getAttrOfType<StringAttr>("lmc.target");
  // A training step (it takes --lmc-autodiff's loss scale) records how it
  // is trained.
  Offset<fb::Training> training;
  if (llvm::any_of(function.getArguments(), [&](BlockArgument argument) {
        return function.getArgAttr(argument.getArgNumber(), "lmc.loss_scale");
      })) {
    FailureOr<::lmc::rt::Training> settings = readTrainingSettings(module);
    if (failed(settings))
      return failure();
    training = fb::CreateTrainingDirect(
        builder, settings->loss.c_str(), settings->label.c_str(), settings->learningRate,
        settings->beta1, settings->beta2, settings->epsilon, settings->weightDecay,
        settings->schedule.c_str(), settings->warmupSteps, settings->totalSteps,
        settings->zeroStage, settings->ranks);
  }
  auto model = fb::CreateModelDirect(
      builder, ::lmc::rt::kFormatVersion, "lmc", function.getSymName().str().c_str(),
      target ? target.str().c_str() : "cpu", precision.str().c_str(), &valueTable, &kernels,
      &steps, &inputs, &outputs, &parameters, &constants, &tables,
      fb::CreateBudget(builder, budget[0], budget[1], budget[2]), arena.getInt(), training);
  fb::FinishModelBuffer(builder, model);
  return ::lmc::rt::wrapArtifact(builder.GetBufferPointer(), builder.GetSize());
}

} // namespace

FailureOr<std::string> writeArtifact(ModuleOp module, llvm::StringRef precision,
                                     const CodeByKernel &code) {
  return Writer(module, code).write(precision);
}

} // namespace mlir::lmc
