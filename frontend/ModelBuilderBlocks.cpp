//===- ModelBuilderBlocks.cpp - model blocks over dense features ----------===//

#include "frontend/ModelBuilder.h"

#include "dialects/lmc/IR/LmcOps.h"

using namespace mlir;
using namespace mlir::lmc;

namespace lmc::frontend {

static constexpr int64_t kDynamic = ShapedType::kDynamic;

// Layer-norm epsilons: Keras' LayerNormalization default for the layer_norm
// block, BERT's inside the transformer encoder.
static constexpr float kLayerNormEpsilon = 1e-3f;
static constexpr float kEncoderLayerNormEpsilon = 1e-12f;

static ArrayRef<int64_t> shapeOf(Value value) {
  return llvm::cast<ShapedType>(value.getType()).getShape();
}

// Columns in name order, as TensorFlow's DenseFeatures and SequenceFeatures
// concatenate them.
static std::vector<Column> sortedByName(std::vector<Column> columns) {
  llvm::sort(columns, [](Column a, Column b) { return a->name < b->name; });
  return columns;
}

Value ModelBuilder::inputLayer(const std::vector<Column> &columns,
                               const SourceLocations &at) {
  if (llvm::is_contained(columns, nullptr))
    return Value();
  Location loc = at.of("", &context);
  if (columns.empty()) {
    error(loc) << "input_layer needs at least one column";
    return Value();
  }
  SmallVector<Value> features;
  for (Column column : sortedByName(columns)) {
    if (column->sequence) {
      error(at.of("columns", &context))
          << "column '" << column->name
          << "' is a sequence column; it belongs in a sequence_input";
      return Value();
    }
    Value feature = denseFeature(*column);
    if (!feature)
      return Value();
    features.push_back(feature);
  }
  return concat(std::vector<Value>(features.begin(), features.end()), at);
}

Sequence ModelBuilder::sequenceInput(const std::vector<Column> &columns,
                                     const SourceLocations &at) {
  if (llvm::is_contained(columns, nullptr))
    return {};
  Location loc = at.of("", &context);
  if (columns.empty()) {
    error(loc) << "sequence_input needs at least one column";
    return {};
  }
  SmallVector<Value> features;
  std::vector<Column> sorted = sortedByName(columns);
  for (Column column : sorted) {
    if (!column->sequence) {
      error(at.of("columns", &context))
          << "column '" << column->name
          << "' is not a sequence column; it belongs in an input_layer";
      return {};
    }
    Value feature = tokenFeature(*column);
    if (!feature)
      return {};
    features.push_back(feature);
  }
  Value values = features.front();
  if (features.size() > 1) {
    int64_t width = 0;
    for (Value feature : features)
      width = ShapedType::isDynamic(shapeOf(feature)[2]) || width == kDynamic
                  ? kDynamic
                  : width + shapeOf(feature)[2];
    values = builder.create<ConcatOp>(
        loc, tensorType({kDynamic, kDynamic, width}, builder.getF32Type()),
        features, builder.getI64IntegerAttr(2));
  }
  // The columns of one sequence input share lengths; the first one's feed
  // them. Every column's feature still gets its lengths input: it marks the
  // feature as a sequence for the runtime's packer.
  for (Column column : llvm::drop_begin(sorted))
    sequenceLengths(*column);
  return {values, sequenceLengths(*sorted.front())};
}

Value ModelBuilder::affine(Value input, int64_t units,
                           llvm::StringRef kernelName,
                           llvm::StringRef biasName, Location loc) {
  int64_t width = shapeOf(input).back();
  Value kernel = parameter(kernelName, {width, units},
                           initializer("glorot_uniform", {}), loc);
  Value bias = parameter(biasName, {units}, initializer("zeros", {}), loc);
  if (!kernel || !bias)
    return Value();
  SmallVector<int64_t> shape(shapeOf(input));
  shape.back() = units;
  auto type = tensorType(shape, builder.getF32Type());
  Value product = builder.create<MatmulOp>(loc, type, input, kernel,
                                           /*transpose_lhs=*/false,
                                           /*transpose_rhs=*/false);
  return builder.create<AddOp>(loc, type, product, bias);
}

// The width a block reads: the static last dimension of `input`.
static bool hasStaticWidth(Value input) {
  return !shapeOf(input).empty() && !ShapedType::isDynamic(shapeOf(input).back());
}

Value ModelBuilder::dense(Value input, int64_t units, Activation activation,
                          llvm::StringRef name, const SourceLocations &at) {
  if (!input)
    return Value();
  if (units < 1) {
    error(at.of("units", &context)) << "layer '" << name
                                    << "', field 'units': must be at least 1, got "
                                    << units;
    return Value();
  }
  if (!hasStaticWidth(input)) {
    error(at.of("input", &context)) << "layer '" << name
                                    << "': its input has no static width";
    return Value();
  }
  Location loc = at.of("", &context);
  Value output = affine(input, units, (name + ".kernel").str(),
                        (name + ".bias").str(), loc);
  return output ? activate(output, activation, loc) : Value();
}

Value ModelBuilder::mlp(Value input, const std::vector<int64_t> &units,
                        Activation activation, llvm::StringRef name,
                        const SourceLocations &at) {
  if (units.empty()) {
    error(at.of("units", &context))
        << "layer '" << name << "', field 'units': must list at least one size";
    return Value();
  }
  Value hidden = input;
  for (size_t i = 0; i < units.size() && hidden; ++i)
    hidden = dense(hidden, units[i], activation,
                   (name + ".dense" + llvm::Twine(i)).str(), at);
  return hidden;
}

Value ModelBuilder::activate(Value value, Activation activation, Location loc) {
  switch (activation) {
  case Activation::None:
    return value;
  case Activation::Relu: {
    auto zero = builder.create<ConstantOp>(
        loc, DenseElementsAttr::get(tensorType({}, builder.getF32Type()), 0.0f));
    return builder.create<MaxOp>(loc, value.getType(), value, zero);
  }
  case Activation::Gelu:
    return builder.create<GeluOp>(loc, GeluApproximation::erf, value);
  case Activation::GeluTanh:
    return builder.create<GeluOp>(loc, GeluApproximation::tanh, value);
  case Activation::Silu:
    return builder.create<SiluOp>(loc, value);
  }
  llvm_unreachable("unknown activation");
}

Value ModelBuilder::add(Value lhs, Value rhs, Location loc) {
  return builder.create<AddOp>(loc, lhs.getType(), lhs, rhs);
}

Value ModelBuilder::layerNormWith(Value input, llvm::StringRef name,
                                  float epsilon, Location loc) {
  int64_t width = shapeOf(input).back();
  Value gamma = parameter((name + ".gamma").str(), {width},
                          initializer("ones", {}), loc);
  Value beta = parameter((name + ".beta").str(), {width},
                         initializer("zeros", {}), loc);
  if (!gamma || !beta)
    return Value();
  return builder.create<LayerNormOp>(loc, input.getType(), input, gamma, beta,
                                     builder.getF32FloatAttr(epsilon));
}

Value ModelBuilder::layerNorm(Value input, llvm::StringRef name,
                              const SourceLocations &at) {
  if (!input)
    return Value();
  if (!hasStaticWidth(input)) {
    error(at.of("input", &context)) << "layer '" << name
                                    << "': its input has no static width";
    return Value();
  }
  return layerNormWith(input, name, kLayerNormEpsilon, at.of("", &context));
}

Sequence ModelBuilder::transformerEncoder(Sequence input,
                                          const TransformerOptions &options,
                                          llvm::StringRef name,
                                          const SourceLocations &at) {
  if (!input)
    return {};
  struct Field {
    llvm::StringRef name;
    int64_t value;
  } fields[] = {{"layers", options.layers},
                {"heads", options.heads},
                {"head_dim", options.headDim},
                {"ffn", options.ffn}};
  for (const Field &field : fields) {
    if (field.value < 1) {
      error(at.of(field.name, &context))
          << "layer '" << name << "', field '" << field.name
          << "': must be at least 1, got " << field.value;
      return {};
    }
  }
  Location loc = at.of("", &context);
  int64_t width = options.heads * options.headDim;
  Value x = input.values;
  if (shapeOf(x).back() != width)
    x = affine(x, width, (name + ".input.kernel").str(),
               (name + ".input.bias").str(), loc);
  auto heads = tensorType({kDynamic, kDynamic, options.heads, options.headDim},
                          builder.getF32Type());
  for (int64_t layer = 0; layer < options.layers && x; ++layer) {
    std::string prefix = (name + ".layer" + llvm::Twine(layer)).str();
    auto project = [&](llvm::StringRef what, Value from, int64_t units) {
      return affine(from, units, prefix + ".attn.w" + what.str(),
                    prefix + ".attn.b" + what.str(), loc);
    };
    Value q = project("q", x, width), k = project("k", x, width),
          v = project("v", x, width);
    if (!q || !k || !v)
      return {};
    Value attended = builder.create<AttentionOp>(
        loc, heads, /*lse=*/Type(), reshape(q, heads.getShape(), loc),
        reshape(k, heads.getShape(), loc), reshape(v, heads.getShape(), loc),
        input.lengths, /*cu_seqlens=*/Value(), options.causal,
        /*scale=*/FloatAttr())
        .getResult();
    Value merged = reshape(attended, {kDynamic, kDynamic, width}, loc);
    Value projected = project("o", merged, width);
    Value normed = layerNormWith(add(x, projected, loc), prefix + ".ln1",
                                 kEncoderLayerNormEpsilon, loc);
    Value up = affine(normed, options.ffn, prefix + ".ffn.w1",
                      prefix + ".ffn.b1", loc);
    Value down = affine(activate(up, options.activation, loc), width,
                        prefix + ".ffn.w2", prefix + ".ffn.b2", loc);
    x = layerNormWith(add(normed, down, loc), prefix + ".ln2",
                      kEncoderLayerNormEpsilon, loc);
  }
  return x ? Sequence{x, input.lengths} : Sequence{};
}

Value ModelBuilder::pool(Sequence input, Pooling mode,
                         const SourceLocations &at) {
  if (!input)
    return Value();
  Location loc = at.of("", &context);
  int64_t width = shapeOf(input.values).back();
  auto packedType = tensorType({kDynamic, width}, builder.getF32Type());
  auto cuType = tensorType({kDynamic}, builder.getI32Type());
  auto unpad = builder.create<UnpadOp>(loc, packedType, cuType, input.values,
                                       input.lengths);
  SegmentReduction reduction = mode == Pooling::Mean    ? SegmentReduction::mean
                               : mode == Pooling::First ? SegmentReduction::first
                                                        : SegmentReduction::max;
  return builder.create<SegmentReduceOp>(loc, packedType, reduction,
                                         unpad.getPacked(),
                                         unpad.getCuSeqlens());
}

Value ModelBuilder::concat(const std::vector<Value> &inputs,
                           const SourceLocations &at) {
  if (inputs.empty() || llvm::is_contained(inputs, Value()))
    return Value();
  if (inputs.size() == 1)
    return inputs.front();
  int64_t width = 0;
  for (Value input : inputs) {
    if (shapeOf(input).size() != 2) {
      error(at.of("inputs", &context))
          << "concat takes [batch, width] inputs, got one of rank "
          << shapeOf(input).size();
      return Value();
    }
    int64_t inputWidth = shapeOf(input)[1];
    width = ShapedType::isDynamic(inputWidth) || width == kDynamic
                ? kDynamic
                : width + inputWidth;
  }
  return builder.create<ConcatOp>(
      at.of("", &context), tensorType({kDynamic, width}, builder.getF32Type()),
      inputs, builder.getI64IntegerAttr(1));
}

Value ModelBuilder::head(llvm::StringRef kind, llvm::StringRef name,
                         Value input, int64_t units,
                         const SourceLocations &at) {
  Value result = dense(input, units, Activation::None, name, at);
  if (result) {
    output(name, result, at);
    outputs.back().head = kind.str();
  }
  return result;
}

Value ModelBuilder::logits(llvm::StringRef name, Value input, int64_t units,
                           const SourceLocations &at) {
  return head("logits", name, input, units, at);
}

Value ModelBuilder::regression(llvm::StringRef name, Value input,
                               int64_t units, const SourceLocations &at) {
  return head("regression", name, input, units, at);
}

void ModelBuilder::output(llvm::StringRef name, Value value,
                          const SourceLocations &at) {
  if (!value)
    return;
  for (const Output &existing : outputs)
    if (existing.name == name) {
      error(at.of("", &context)) << "output '" << name << "' is declared twice";
      return;
    }
  outputs.push_back({name.str(), value, ""});
}

} // namespace lmc::frontend
