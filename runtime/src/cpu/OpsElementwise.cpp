// OpsElementwise.cpp - arithmetic, unary math, compare, select and cast.
//
// Floats compute in f32 whatever their storage (f16/bf16 are converted on
// load and rounded on store); integers compute exactly in int64 with
// wrapping arithmetic, as the reference evaluator does.

#include "cpu/Broadcast.h"
#include "cpu/KernelContext.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lmc::cpu {
namespace {

using rt::Opcode;

template <Opcode Op> inline float apply(float a, float b) {
  if constexpr (Op == Opcode::Add) return a + b;
  if constexpr (Op == Opcode::Sub) return a - b;
  if constexpr (Op == Opcode::Mul) return a * b;
  if constexpr (Op == Opcode::Div) return a / b;
  if constexpr (Op == Opcode::Max) return std::max(a, b);
  if constexpr (Op == Opcode::Min) return std::min(a, b);
}

int64_t applyInteger(Opcode op, int64_t a, int64_t b) {
  switch (op) {
  case Opcode::Add: return int64_t(uint64_t(a) + uint64_t(b));
  case Opcode::Sub: return int64_t(uint64_t(a) - uint64_t(b));
  case Opcode::Mul: return int64_t(uint64_t(a) * uint64_t(b));
  case Opcode::Div: return b && !(a == INT64_MIN && b == -1) ? a / b : 0;
  case Opcode::Max: return std::max(a, b);
  default: return std::min(a, b);
  }
}

void storeInteger(Tensor &out, int64_t i, int64_t value) {
  switch (out.dtype) {
  case DType::I64: out.as<int64_t>()[i] = value; break;
  case DType::I32: out.as<int32_t>()[i] = int32_t(value); break;
  default: out.as<uint8_t>()[i] = value != 0; break;
  }
}

template <Opcode Op>
void binaryFloat(const Broadcast &shape, const float *a, const float *b, float *out,
                 int64_t count) {
  using Kind = Broadcast::Kind;
  Kind ka = shape.kinds[0], kb = shape.kinds[1];
  if (ka == Kind::Same && kb != Kind::General) {
    int64_t width = kb == Kind::Same ? count : shape.widths[1];
    parallelFor(count / width, width, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const float *x = a + row * width, *y = kb == Kind::Same ? b + row * width : b;
        float *z = out + row * width;
        for (int64_t j = 0; j < width; ++j)
          z[j] = apply<Op>(x[j], y[j]);
      }
    });
    return;
  }
  if (kb == Kind::Same && ka == Kind::Suffix) {
    int64_t width = shape.widths[0];
    parallelFor(count / width, width, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        for (int64_t j = 0; j < width; ++j)
          out[row * width + j] = apply<Op>(a[j], b[row * width + j]);
    });
    return;
  }
  parallelFor(count, 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = apply<Op>(a[shape.index(0, i)], b[shape.index(1, i)]);
  });
}

bool runBinary(KernelContext &ctx, const Operands &in, Tensor &result) {
  Opcode op = ctx.instruction->opcode;
  const Tensor &lhs = *in[0], &rhs = *in[1];
  if (lhs.dtype != rhs.dtype)
    return ctx.fail("operands " + describe(lhs) + " and " + describe(rhs) + " differ in type");
  std::optional<Broadcast> shape = broadcastShapes({&lhs, &rhs});
  if (!shape)
    return ctx.fail("operand shapes " + describe(lhs) + " and " + describe(rhs) +
                    " do not broadcast");
  if (!ctx.allocate(0, lhs.dtype, result))
    return false;
  int64_t count = result.numElements();
  if (count == 0)
    return true;
  if (!rt::isFloat(lhs.dtype)) {
    for (int64_t i = 0; i < count; ++i)
      storeInteger(result, i,
                   applyInteger(op, integerAt(lhs, shape->index(0, i)),
                                integerAt(rhs, shape->index(1, i))));
    return true;
  }
  FloatInput a(lhs), b(rhs);
  FloatOutput out(result);
  switch (op) {
  case Opcode::Add: binaryFloat<Opcode::Add>(*shape, a.data(), b.data(), out.data(), count); break;
  case Opcode::Sub: binaryFloat<Opcode::Sub>(*shape, a.data(), b.data(), out.data(), count); break;
  case Opcode::Mul: binaryFloat<Opcode::Mul>(*shape, a.data(), b.data(), out.data(), count); break;
  case Opcode::Div: binaryFloat<Opcode::Div>(*shape, a.data(), b.data(), out.data(), count); break;
  case Opcode::Max: binaryFloat<Opcode::Max>(*shape, a.data(), b.data(), out.data(), count); break;
  default: binaryFloat<Opcode::Min>(*shape, a.data(), b.data(), out.data(), count); break;
  }
  out.commit();
  return true;
}

bool runUnary(KernelContext &ctx, const Tensor &input, Tensor &result) {
  Opcode op = ctx.instruction->opcode;
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  int64_t count = input.numElements();
  if (!rt::isFloat(input.dtype)) {
    if (op != Opcode::Neg)
      return ctx.fail("needs a float operand, not " + describe(input));
    for (int64_t i = 0; i < count; ++i)
      storeInteger(result, i, int64_t(0 - uint64_t(integerAt(input, i))));
    return true;
  }
  FloatInput x(input);
  FloatOutput out(result);
  const float *src = x.data();
  float *dst = out.data();
  parallelFor(count, 16, [&](int64_t begin, int64_t end) {
    switch (op) {
    case Opcode::Neg: for (int64_t i = begin; i < end; ++i) dst[i] = -src[i]; break;
    case Opcode::Exp: for (int64_t i = begin; i < end; ++i) dst[i] = std::exp(src[i]); break;
    case Opcode::Tanh: for (int64_t i = begin; i < end; ++i) dst[i] = std::tanh(src[i]); break;
    case Opcode::Rsqrt: for (int64_t i = begin; i < end; ++i) dst[i] = 1.0f / std::sqrt(src[i]); break;
    case Opcode::Log: for (int64_t i = begin; i < end; ++i) dst[i] = std::log(src[i]); break;
    case Opcode::Sqrt: for (int64_t i = begin; i < end; ++i) dst[i] = std::sqrt(src[i]); break;
    // x * sigmoid(x); exp(-x) overflowing to inf gives -0, its limit.
    case Opcode::Silu: for (int64_t i = begin; i < end; ++i) dst[i] = src[i] / (1.0f + std::exp(-src[i])); break;
    default: for (int64_t i = begin; i < end; ++i) dst[i] = std::erf(src[i]); break;
    }
  });
  out.commit();
  return true;
}

bool runCompare(KernelContext &ctx, const Operands &in, Tensor &result) {
  const Tensor &lhs = *in[0], &rhs = *in[1];
  std::optional<Broadcast> shape = broadcastShapes({&lhs, &rhs});
  if (!shape)
    return ctx.fail("operand shapes " + describe(lhs) + " and " + describe(rhs) +
                    " do not broadcast");
  if (!ctx.allocate(0, DType::I1, result))
    return false;
  int64_t predicate = ctx.instruction->ints[ops::slot::compare::predicate];
  bool integers = !rt::isFloat(lhs.dtype) && !rt::isFloat(rhs.dtype);
  for (int64_t i = 0; i < result.numElements(); ++i) {
    int order;
    bool unordered = false;
    if (integers) {
      int64_t a = integerAt(lhs, shape->index(0, i)), b = integerAt(rhs, shape->index(1, i));
      order = a < b ? -1 : a > b ? 1 : 0;
    } else {
      double a = realAt(lhs, shape->index(0, i)), b = realAt(rhs, shape->index(1, i));
      unordered = std::isnan(a) || std::isnan(b);
      order = a < b ? -1 : a > b ? 1 : 0;
    }
    bool value;
    switch (predicate) {
    case 0: value = !unordered && order == 0; break;
    case 1: value = unordered || order != 0; break;
    case 2: value = !unordered && order < 0; break;
    case 3: value = !unordered && order <= 0; break;
    case 4: value = !unordered && order > 0; break;
    case 5: value = !unordered && order >= 0; break;
    default: return ctx.fail("unknown predicate " + std::to_string(predicate));
    }
    result.as<uint8_t>()[i] = value;
  }
  return true;
}

bool runSelect(KernelContext &ctx, const Operands &in, Tensor &result) {
  const Tensor &condition = *in[0], &onTrue = *in[1], &onFalse = *in[2];
  if (condition.dtype != DType::I1 || onTrue.dtype != onFalse.dtype)
    return ctx.fail("operands " + describe(condition) + ", " + describe(onTrue) + ", " +
                    describe(onFalse) + " do not fit a select");
  std::optional<Broadcast> shape = broadcastShapes({&condition, &onTrue, &onFalse});
  if (!shape)
    return ctx.fail("operand shapes do not broadcast");
  if (!ctx.allocate(0, onTrue.dtype, result))
    return false;
  size_t width = rt::dtypeSize(result.dtype);
  auto *out = result.as<uint8_t>();
  parallelFor(result.numElements(), 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      bool pick = condition.as<uint8_t>()[shape->index(0, i)] != 0;
      const Tensor &from = pick ? onTrue : onFalse;
      std::memcpy(out + size_t(i) * width,
                  from.as<uint8_t>() + size_t(shape->index(pick ? 1 : 2, i)) * width, width);
    }
  });
  return true;
}

// Copies `input` to every position of `like`'s shape it broadcasts to.
bool runBroadcastLike(KernelContext &ctx, const Operands &in, Tensor &result) {
  const Tensor &input = *in[0], &like = *in[1];
  std::optional<Broadcast> shape = broadcastShapes({&input, &like});
  if (!shape || shape->shape != like.shape)
    return ctx.fail(describe(input) + " does not broadcast to the shape of " + describe(like));
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  size_t width = rt::dtypeSize(result.dtype);
  auto *out = result.as<uint8_t>();
  parallelFor(result.numElements(), 2, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      std::memcpy(out + size_t(i) * width,
                  input.as<uint8_t>() + size_t(shape->index(0, i)) * width, width);
  });
  return true;
}

bool runCast(KernelContext &ctx, const Tensor &input, Tensor &result) {
  DType target = ctx.instruction->results[0].dtype;
  if (!ctx.allocate(0, target, result))
    return false;
  int64_t count = input.numElements();
  if (rt::isFloat(target)) {
    if (rt::isFloat(input.dtype)) {
      FloatInput x(input);
      FloatOutput out(result);
      std::memcpy(out.data(), x.data(), size_t(count) * sizeof(float));
      out.commit();
      return true;
    }
    FloatOutput out(result);
    for (int64_t i = 0; i < count; ++i)
      out.data()[i] = float(integerAt(input, i));
    out.commit();
    return true;
  }
  for (int64_t i = 0; i < count; ++i) {
    int64_t value;
    if (target == DType::I1)
      value = realAt(input, i) != 0;
    else if (rt::isFloat(input.dtype)) {
      double real = std::trunc(realAt(input, i));
      // Out-of-range and NaN conversions are undefined in C++; saturate.
      value = std::isnan(real) ? 0 : real >= 0x1p63 ? INT64_MAX : real < -0x1p63 ? INT64_MIN : int64_t(real);
    } else
      value = integerAt(input, i);
    storeInteger(result, i, value);
  }
  return true;
}

} // namespace

bool runElementwise(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::Add: case Opcode::Sub: case Opcode::Mul:
  case Opcode::Div: case Opcode::Max: case Opcode::Min:
    return runBinary(ctx, in, out[0]);
  case Opcode::Neg: case Opcode::Exp: case Opcode::Tanh:
  case Opcode::Rsqrt: case Opcode::Erf: case Opcode::Log: case Opcode::Sqrt: case Opcode::Silu:
    return runUnary(ctx, *in[0], out[0]);
  case Opcode::BroadcastLike: return runBroadcastLike(ctx, in, out[0]);
  case Opcode::Compare: return runCompare(ctx, in, out[0]);
  case Opcode::Select: return runSelect(ctx, in, out[0]);
  case Opcode::Cast: return runCast(ctx, *in[0], out[0]);
  default: return ctx.fail("is not an elementwise op");
  }
}

} // namespace lmc::cpu
