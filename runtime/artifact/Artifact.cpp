// Artifact.cpp - verifying and decoding a .lmcpkg into a Plan.
//
// Two layers of checks: the flatbuffers verifier (every offset inside the
// buffer, every vector within bounds), then lmc's own (versions, indices into
// the plan's tables, operands defined before use, attribute counts, sizes that
// fit). Anything the backends rely on is checked here, so corrupt input gives
// a message instead of a crash.

#include "artifact/Plan.h"

#include "artifact/OpTable.h"
#include "artifact/ShapeRules.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace lmc::rt {
namespace {

// Arenas and constants beyond this are corrupt, not large models.
constexpr int64_t kMaxBytes = kMaxElements;
constexpr size_t kMaxRank = 8;


/// Collects the first failure's message; every check returns false on it.
class Checker {
public:
  explicit Checker(std::string &error) : error(error) {}
  bool fail(const std::string &message) {
    error = message;
    return false;
  }
  std::string &error;
};

std::string str(const flatbuffers::String *s) { return s ? s->str() : ""; }

/// The elements of a vector of scalars. The verifier checks a vector's
/// length field, not that 8-byte elements are 8-byte aligned, so elements
/// are copied out byte-wise rather than loaded in place.
template <typename T, typename F>
std::vector<T> vec(const flatbuffers::Vector<F> *v) {
  std::vector<T> out;
  if (!v)
    return out;
  const uint8_t *bytes = reinterpret_cast<const uint8_t *>(v->Data());
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    F element;
    std::memcpy(&element, bytes + i * sizeof(F), sizeof(F));
    out.push_back(T(element));
  }
  return out;
}

bool decodeType(const fb::TensorType *in, TensorType &out, const std::string &where,
                Checker &check) {
  if (!in)
    return check.fail(where + " has no type");
  if (in->dtype() < DType::MIN || in->dtype() > DType::MAX)
    return check.fail(where + " has an unknown element type " +
                      std::to_string(int(in->dtype())));
  if (in->dtype() == DType::F64)
    return check.fail(where + " is f64, which the runtime does not run");
  out.dtype = in->dtype();
  out.shape = vec<int64_t>(in->shape());
  if (out.shape.size() > kMaxRank)
    return check.fail(where + " has rank " + std::to_string(out.shape.size()) +
                      ", more than " + std::to_string(kMaxRank));
  for (int64_t dim : out.shape)
    if (dim < -1 || dim > kMaxBytes)
      return check.fail(where + " has a dimension of " + std::to_string(dim));
  if (in->dim_names())
    for (const flatbuffers::String *name : *in->dim_names())
      out.dimNames.push_back(str(name));
  if (!out.dimNames.empty() && out.dimNames.size() != out.shape.size())
    return check.fail(where + " names " + std::to_string(out.dimNames.size()) +
                      " dimensions of " + std::to_string(out.shape.size()));
  return true;
}

bool isStatic(const TensorType &type, int64_t &elements) {
  elements = 1;
  for (int64_t dim : type.shape) {
    if (dim < 0)
      return false;
    if (dim && elements > kMaxBytes / dim)
      return false;
    elements *= dim;
  }
  return true;
}

/// A kernel's CUDA source, binaries and entry points: every value, table
/// and kind they name must exist, so a backend can index without checks.
bool decodeCode(const fb::Kernel *in, const std::string &where, size_t locals, const Plan &plan,
                Kernel &out, Checker &check) {
  out.source = str(in->source());
  if (in->binaries())
    for (const fb::Binary *binary : *in->binaries()) {
      if (!binary || !binary->data())
        return check.fail(where + " has a binary without data");
      out.binaries.push_back({str(binary->arch()), str(binary->format()),
                              std::string(binary->data()->begin(), binary->data()->end())});
      if (out.binaries.back().format != "ptx" && out.binaries.back().format != "cubin")
        return check.fail(where + " has a binary of format '" + out.binaries.back().format + "'");
    }
  if (!in->launches())
    return true;
  for (const fb::Launch *launch : *in->launches()) {
    if (!launch || launch->pattern() > LaunchPattern::MAX)
      return check.fail(where + " has a malformed launch");
    Launch decoded{str(launch->entry()), launch->pattern(), launch->value(), launch->threads(),
                   launch->per_block(), launch->shared_bytes(), {}};
    std::string at = where + " launch '" + decoded.entry + "'";
    if (decoded.entry.empty() || decoded.value < 0 || size_t(decoded.value) >= locals)
      return check.fail(at + " sizes its grid by value " + std::to_string(decoded.value));
    if (decoded.threads <= 0 || decoded.threads > 1024 || decoded.threads % 32 ||
        decoded.perBlock <= 0 || decoded.sharedBytes < 0 || decoded.sharedBytes > (1 << 20))
      return check.fail(at + " has " + std::to_string(decoded.threads) + " threads, " +
                        std::to_string(decoded.perBlock) + " per block, " +
                        std::to_string(decoded.sharedBytes) + " shared bytes");
    if (launch->args())
      for (const fb::LaunchArg *arg : *launch->args()) {
        if (!arg || arg->kind() > LaunchArgKind::MAX)
          return check.fail(at + " has a malformed argument");
        LaunchArg a{arg->kind(), arg->value(), arg->axis()};
        bool names = a.kind == LaunchArgKind::Pointer || a.kind == LaunchArgKind::Extent;
        bool tables = a.kind == LaunchArgKind::Table || a.kind == LaunchArgKind::TableSize;
        if ((names && (a.value < 0 || size_t(a.value) >= locals)) ||
            (tables && (a.value < 0 || size_t(a.value) >= plan.featureTables.size())))
          return check.fail(at + " names value or table " + std::to_string(a.value));
        if (a.kind == LaunchArgKind::Extent) {
          size_t rank = localType(out, size_t(a.value)).shape.size();
          if (a.axis < 0 || size_t(a.axis) >= rank)
            return check.fail(at + " reads axis " + std::to_string(a.axis) + " of value " +
                              std::to_string(a.value));
        }
        decoded.args.push_back(a);
      }
    out.launches.push_back(std::move(decoded));
  }
  return true;
}

bool isCollective(Opcode opcode) {
  return opcode >= Opcode::AllReduce && opcode <= Opcode::Rank;
}

/// A collective or optimizer kernel is one instruction over its arguments,
/// yielding its results, with the shapes its backends rely on: a shard of
/// ceil(n / ranks) elements of a static n, a rank among `ranks`.
bool checkSingleOpKernel(const Kernel &kernel, const std::string &where, Checker &check) {
  if (kernel.body.size() != 1)
    return check.fail(where + " holds " + std::to_string(kernel.body.size()) +
                      " instructions; a collective or optimizer kernel holds one");
  const Instruction &op = kernel.body[0];
  bool collective = isCollective(op.opcode);
  if (collective != (kernel.kind == KernelKind::Collective) ||
      (!collective && op.opcode != Opcode::AdamwRows))
    return check.fail(where + " of its kind holds " + opcodeName(op.opcode));
  size_t arguments = kernel.arguments.size();
  for (size_t i = 0; i < op.operands.size(); ++i)
    if (op.operands[i] != (op.operands[i] < 0 ? -1 : int(i)))
      return check.fail(where + " does not pass its arguments in order");
  bool yieldsResults = kernel.yields.size() == op.results.size();
  for (size_t r = 0; r < kernel.yields.size(); ++r)
    yieldsResults &= kernel.yields[r] == int(arguments + r);
  if (!yieldsResults)
    return check.fail(where + " does not yield its instruction's results");
  // Collectives and adamw_rows keep their ranks in the same slot.
  static_assert(ops::slot::collective::ranks == ops::slot::adamwRows::ranks);
  int64_t ranks = op.ints[ops::slot::collective::ranks];
  if (ranks < 1 || ranks > 1 << 20)
    return check.fail(where + " runs over " + std::to_string(ranks) + " ranks");
  auto elements = [](const TensorType &type) {
    int64_t n = 1;
    for (int64_t dim : type.shape)
      n = dim < 0 ? -1 : n * dim;
    return n;
  };
  const TensorType &result = op.results[0];
  switch (op.opcode) {
  case Opcode::ReduceScatter: case Opcode::ShardSlice: case Opcode::AllGather: {
    const TensorType &whole = op.opcode == Opcode::AllGather ? result : kernel.arguments[0];
    const TensorType &shard = op.opcode == Opcode::AllGather ? kernel.arguments[0] : result;
    int64_t n = elements(whole);
    if (n < 0 || shard.shape.size() != 1 || shard.shape[0] != (n + ranks - 1) / ranks ||
        whole.dtype != DType::F32 || shard.dtype != DType::F32)
      return check.fail(where + " does not split f32 values into ceil(n / " +
                        std::to_string(ranks) + ") shards");
    break;
  }
  case Opcode::AllReduce:
    if (!isFloat(result.dtype) || result.dtype != kernel.arguments[0].dtype)
      return check.fail(where + " sums a non-float value");
    break;
  case Opcode::AllGatherRows:
    if (kernel.arguments[0].shape.empty() || kernel.arguments[0].dtype != result.dtype)
      return check.fail(where + " gathers rows of a scalar or changes their type");
    break;
  case Opcode::Rank:
    if (result.dtype != DType::I64 || !result.shape.empty())
      return check.fail(where + " returns the rank as something other than an i64 scalar");
    break;
  default: { // AdamwRows
    const TensorType &rows = kernel.arguments[4];
    int64_t shard = elements(kernel.arguments[0]);
    int64_t width = rows.shape.empty() ? 0 : rows.shape.back();
    int64_t tableRows = op.ints[ops::slot::adamwRows::tableRows];
    if (tableRows < 1 || width < 1 || tableRows > kMaxBytes / width || shard < 0 ||
        shard != (tableRows * width + ranks - 1) / ranks ||
        rows.shape.size() != kernel.arguments[3].shape.size() + 1 ||
        elements(kernel.arguments[5]) != 4 || (ranks > 1) != (op.operands[7] >= 0))
      return check.fail(where + " has an adamw_rows of inconsistent shapes");
    for (size_t i : {0, 1, 2, 4, 5})
      if (kernel.arguments[i].dtype != DType::F32)
        return check.fail(where + " updates non-f32 state");
    if (kernel.arguments[3].dtype != DType::I64 && kernel.arguments[3].dtype != DType::I32)
      return check.fail(where + " has ids that are not integers");
  }
  }
  return true;
}

/// The op's shape rule (ShapeRules.h) holds on the declared types of its
/// operands and results, so the backends can rely on it for what is static.
bool checkShapeRule(const Kernel &kernel, const Instruction &op, const std::string &where,
                    Checker &check) {
  std::vector<ops::ValueShape> shapes(op.operands.size());
  std::vector<const ops::ValueShape *> operands;
  std::vector<const TensorType *> types;
  for (size_t i = 0; i < op.operands.size(); ++i) {
    const TensorType *type = op.operands[i] < 0 ? nullptr : &localType(kernel, size_t(op.operands[i]));
    if (type)
      shapes[i].shape = type->shape;
    operands.push_back(type ? &shapes[i] : nullptr);
    types.push_back(type);
  }
  std::vector<ops::ValueShape> results;
  std::string why;
  return ops::inferShapes(op, operands, types, results, why) || check.fail(where + ": " + why);
}

bool decodeKernel(const fb::Kernel *in, size_t index, const Plan &plan,
                  Kernel &out, Checker &check) {
  std::string where = "kernel #" + std::to_string(index);
  if (!in)
    return check.fail(where + " is missing");
  out.name = str(in->name());
  where += " ('" + out.name + "')";
  if (in->kind() < KernelKind::MIN || in->kind() > KernelKind::MAX)
    return check.fail(where + " has an unknown kind");
  out.kind = in->kind();
  out.blockQ = in->block_q();
  out.blockK = in->block_k();
  if (out.kind == KernelKind::Attention &&
      (out.blockQ <= 0 || out.blockK <= 0 || out.blockQ > 4096 || out.blockK > 4096))
    return check.fail(where + " has tile shape " + std::to_string(out.blockQ) +
                      "x" + std::to_string(out.blockK));
  if (in->arguments())
    for (size_t i = 0; i < in->arguments()->size(); ++i) {
      out.arguments.emplace_back();
      if (!decodeType(in->arguments()->Get(flatbuffers::uoffset_t(i)),
                      out.arguments.back(),
                      where + " argument #" + std::to_string(i), check))
        return false;
    }
  size_t defined = out.arguments.size();
  if (in->body())
    for (size_t i = 0; i < in->body()->size(); ++i) {
      const fb::Instruction *instruction = in->body()->Get(flatbuffers::uoffset_t(i));
      std::string at = where + " instruction #" + std::to_string(i);
      if (!instruction)
        return check.fail(at + " is missing");
      if (instruction->opcode() > Opcode::MAX)
        return check.fail(at + " has unknown opcode " +
                          std::to_string(unsigned(instruction->opcode())));
      const ops::OpInfo &rule = ops::info(instruction->opcode());
      at += " (" + std::string(rule.name) + ")";
      Instruction decoded;
      decoded.opcode = instruction->opcode();
      decoded.operands = vec<int>(instruction->operands());
      decoded.ints = vec<int64_t>(instruction->ints());
      decoded.reals = vec<double>(instruction->reals());
      decoded.table = instruction->table();
      int count = int(decoded.operands.size());
      if (count < rule.minOperands || count > rule.maxOperands)
        return check.fail(at + " has " + std::to_string(count) + " operands");
      for (int j = 0; j < count; ++j) {
        int operand = decoded.operands[size_t(j)];
        bool optional = j < 32 && (rule.optionalOperands >> j & 1);
        if (operand == -1 && optional)
          continue;
        if (operand < 0 || size_t(operand) >= defined)
          return check.fail(at + " reads value " + std::to_string(operand) +
                            ", not defined before it");
      }
      if (int(decoded.ints.size()) < rule.ints || int(decoded.reals.size()) < rule.reals)
        return check.fail(at + " lacks attributes");
      if (rule.usesTable && (decoded.table < 0 || size_t(decoded.table) >= plan.featureTables.size()))
        return check.fail(at + " names feature table " + std::to_string(decoded.table));
      if (decoded.opcode == Opcode::Constant &&
          (decoded.ints[ops::slot::constant::index] < 0 ||
           size_t(decoded.ints[ops::slot::constant::index]) >= plan.constants.size()))
        return check.fail(at + " names constant " +
                          std::to_string(decoded.ints[ops::slot::constant::index]));
      size_t results = instruction->results() ? instruction->results()->size() : 0;
      if (int(results) < rule.minResults || int(results) > rule.maxResults)
        return check.fail(at + " has " + std::to_string(results) + " results");
      for (size_t r = 0; r < results; ++r) {
        decoded.results.emplace_back();
        if (!decodeType(instruction->results()->Get(flatbuffers::uoffset_t(r)),
                        decoded.results.back(),
                        at + " result #" + std::to_string(r), check))
          return false;
      }
      if (!checkShapeRule(out, decoded, at, check))
        return false;
      defined += results;
      out.body.push_back(std::move(decoded));
    }
  out.yields = vec<int>(in->yields());
  for (int value : out.yields)
    if (value < 0 || size_t(value) >= defined)
      return check.fail(where + " yields value " + std::to_string(value) +
                        ", which it does not define");
  if ((out.kind == KernelKind::Collective || out.kind == KernelKind::Optimizer) &&
      !checkSingleOpKernel(out, where, check))
    return false;
  if (out.kind == KernelKind::Gemm && !gemmForm(out))
    return check.fail(where + " is not a matmul with an optional rank-1 bias add");
  return decodeCode(in, where, defined, plan, out, check);
}

bool checkValueRef(int value, const Plan &plan, const std::string &where,
                   Checker &check) {
  if (value < 0 || size_t(value) >= plan.values.size())
    return check.fail(where + " names value " + std::to_string(value) + " of " +
                      std::to_string(plan.values.size()));
  return true;
}

bool decodeSteps(const fb::Model &model, Plan &plan, Checker &check) {
  if (!model.plan())
    return check.fail("the artifact has no execution plan");
  std::vector<bool> ready(plan.values.size(), false);
  for (size_t v = 0; v < plan.values.size(); ++v)
    ready[v] = plan.values[v].kind != ValueKind::Arena;
  for (size_t i = 0; i < model.plan()->size(); ++i) {
    const fb::Step *in = model.plan()->Get(flatbuffers::uoffset_t(i));
    std::string where = "plan step #" + std::to_string(i);
    if (!in)
      return check.fail(where + " is missing");
    Step step;
    if (in->kind() < StepKind::MIN || in->kind() > StepKind::MAX)
      return check.fail(where + " has an unknown kind");
    step.kind = in->kind();
    step.kernel = in->kernel();
    if (step.kernel < 0 || size_t(step.kernel) >= plan.kernels.size())
      return check.fail(where + " launches kernel " + std::to_string(step.kernel));
    const Kernel &kernel = plan.kernels[size_t(step.kernel)];
    if ((step.kind == StepKind::Collective) != (kernel.kind == KernelKind::Collective) ||
        (step.kind == StepKind::Gemm) != (kernel.kind == KernelKind::Gemm))
      return check.fail(where + " runs kernel '" + kernel.name + "' as a step of another kind");
    step.operands = vec<int>(in->operands());
    step.results = vec<int>(in->results());
    if (step.operands.size() != kernel.arguments.size() ||
        step.results.size() != kernel.yields.size())
      return check.fail(where + " passes " + std::to_string(step.operands.size()) +
                        " operands and " + std::to_string(step.results.size()) +
                        " results to kernel '" + kernel.name + "', which takes " +
                        std::to_string(kernel.arguments.size()) + " and yields " +
                        std::to_string(kernel.yields.size()));
    for (int operand : step.operands) {
      if (!checkValueRef(operand, plan, where, check))
        return false;
      if (!ready[size_t(operand)])
        return check.fail(where + " reads value " + std::to_string(operand) +
                          " before any step writes it");
    }
    for (int result : step.results) {
      if (!checkValueRef(result, plan, where, check))
        return false;
      if (plan.values[size_t(result)].kind != ValueKind::Arena)
        return check.fail(where + " writes value " + std::to_string(result) +
                          ", which is not an arena value");
      ready[size_t(result)] = true;
      // lmc.all_gather_rows joins every rank's rows, each within the budget.
      if (kernel.kind == KernelKind::Collective &&
          kernel.body[0].opcode == Opcode::AllGatherRows)
        plan.values[size_t(result)].rowsFromRanks =
            kernel.body[0].ints[ops::slot::collective::ranks];
    }
    plan.steps.push_back(std::move(step));
  }
  return true;
}

bool decodeModel(const fb::Model &model, Plan &plan, Checker &check) {
  plan.formatVersion = model.format_version();
  if (plan.formatVersion != kFormatVersion)
    return check.fail("the artifact has format version " +
                      std::to_string(plan.formatVersion) + "; this runtime reads version " +
                      std::to_string(kFormatVersion) + " (recompile the model with this lmc)");
  plan.producer = str(model.producer());
  plan.name = str(model.name());
  plan.target = str(model.target());
  plan.precision = str(model.precision());
  plan.arenaBytes = model.arena_bytes();
  if (plan.arenaBytes < 0 || plan.arenaBytes > kMaxArenaBytes)
    return check.fail("the artifact's arena of " + std::to_string(plan.arenaBytes) +
                      " bytes is out of range");
  if (!model.budget() || model.budget()->batch() <= 0 ||
      model.budget()->sequence() <= 0 || model.budget()->tokens() <= 0)
    return check.fail("the artifact has no positive memory budget");
  plan.budget = {model.budget()->batch(), model.budget()->sequence(),
                 model.budget()->tokens()};
  if (const fb::Training *in = model.training()) {
    Training training;
    training.loss = in->loss() ? in->loss()->str() : "";
    training.label = in->label() ? in->label()->str() : "";
    training.learningRate = in->learning_rate();
    training.beta1 = in->beta1();
    training.beta2 = in->beta2();
    training.epsilon = in->epsilon();
    training.weightDecay = in->weight_decay();
    training.schedule = in->schedule() ? in->schedule()->str() : "";
    training.warmupSteps = in->warmup_steps();
    training.totalSteps = in->total_steps();
    training.zeroStage = in->zero_stage();
    training.ranks = in->ranks();
    bool schedule = training.schedule == "constant" || training.schedule == "linear_warmup" ||
                    training.schedule == "cosine";
    if (!(training.learningRate > 0) || !(training.beta1 >= 0 && training.beta1 < 1) ||
        !(training.beta2 >= 0 && training.beta2 < 1) || !(training.epsilon > 0) ||
        !(training.weightDecay >= 0) || !schedule || training.warmupSteps < 0 ||
        training.totalSteps < 0 || training.zeroStage < 0 || training.zeroStage > 3 ||
        training.ranks < 1)
      return check.fail("the artifact's training settings are out of range");
    plan.training = training;
  }

  if (model.feature_tables())
    for (const fb::FeatureTable *table : *model.feature_tables()) {
      if (!table)
        return check.fail("a feature table is missing");
      plan.featureTables.push_back({str(table->name()), vec<int64_t>(table->fingerprints()),
                                    vec<float>(table->boundaries())});
    }
  if (model.constants())
    for (size_t i = 0; i < model.constants()->size(); ++i) {
      const fb::Constant *in = model.constants()->Get(flatbuffers::uoffset_t(i));
      std::string where = "constant #" + std::to_string(i);
      Constant constant;
      if (!in || !decodeType(in->type(), constant.type, where, check))
        return in ? false : check.fail(where + " is missing");
      int64_t elements = 0;
      if (!isStatic(constant.type, elements))
        return check.fail(where + " has a dynamic shape");
      constant.data = vec<uint8_t>(in->data());
      if (constant.data.size() != size_t(elements) * dtypeSize(constant.type.dtype))
        return check.fail(where + " holds " + std::to_string(constant.data.size()) +
                          " bytes; its type needs " +
                          std::to_string(size_t(elements) * dtypeSize(constant.type.dtype)));
      plan.constants.push_back(std::move(constant));
    }
  if (model.parameters())
    for (size_t i = 0; i < model.parameters()->size(); ++i) {
      const fb::Parameter *in = model.parameters()->Get(flatbuffers::uoffset_t(i));
      std::string where = "parameter #" + std::to_string(i);
      if (!in)
        return check.fail(where + " is missing");
      Parameter parameter;
      parameter.name = str(in->name());
      where += " ('" + parameter.name + "')";
      if (!decodeType(in->type(), parameter.type, where, check))
        return false;
      int64_t elements = 0;
      if (!isStatic(parameter.type, elements))
        return check.fail(where + (std::count(parameter.type.shape.begin(),
                                              parameter.type.shape.end(), -1)
                                       ? " has a dynamic shape"
                                       : " has more than 2^40 elements"));
      if (const fb::Initializer *init = in->initializer()) {
        parameter.initializer = str(init->kind());
        auto names = init->field_names();
        std::vector<double> values = vec<double>(init->field_values());
        size_t n = names ? names->size() : 0;
        if (n != values.size())
          return check.fail(where + " has initializer fields without values");
        for (size_t f = 0; f < n; ++f)
          parameter.initializerFields.emplace_back(
              str(names->Get(flatbuffers::uoffset_t(f))), values[f]);
      }
      parameter.shardCount = in->shard_count();
      parameter.optimizerState = in->optimizer_state();
      if (parameter.shardCount < 1 || parameter.shardCount > 1 << 20 ||
          (parameter.shardCount > 1 && parameter.type.dtype != DType::F32))
        return check.fail(where + " has shard count " + std::to_string(parameter.shardCount));
      plan.parameters.push_back(std::move(parameter));
    }
  if (model.inputs())
    for (const fb::Input *in : *model.inputs()) {
      if (!in)
        return check.fail("a model input is missing");
      if (in->ingest() < Ingest::MIN || in->ingest() > Ingest::MAX)
        return check.fail("input '" + str(in->feature()) + "' has an unknown ingest kind");
      plan.inputs.push_back({str(in->feature()), in->ingest(), in->value(),
                             vec<double>(in->defaults()), str(in->paired_with())});
    }

  if (!model.values())
    return check.fail("the artifact has no value table");
  for (size_t i = 0; i < model.values()->size(); ++i) {
    const fb::Value *in = model.values()->Get(flatbuffers::uoffset_t(i));
    std::string where = "value #" + std::to_string(i);
    if (!in)
      return check.fail(where + " is missing");
    Value value;
    if (!decodeType(in->type(), value.type, where, check))
      return false;
    if (in->kind() < ValueKind::MIN || in->kind() > ValueKind::MAX)
      return check.fail(where + " has an unknown kind");
    value.kind = in->kind();
    value.index = in->index();
    value.offset = in->offset();
    size_t limit = value.kind == ValueKind::Input       ? plan.inputs.size()
                   : value.kind == ValueKind::Parameter ? plan.parameters.size()
                   : value.kind == ValueKind::Constant  ? plan.constants.size()
                                                        : 0;
    if (value.kind == ValueKind::Arena) {
      if (value.offset < 0 || value.offset > plan.arenaBytes || value.offset % 64)
        return check.fail(where + " lies at arena offset " + std::to_string(value.offset) +
                          " (arena of " + std::to_string(plan.arenaBytes) + " bytes)");
    } else if (value.index < 0 || size_t(value.index) >= limit) {
      return check.fail(where + " names entry " + std::to_string(value.index) +
                        " of a table of " + std::to_string(limit));
    }
    plan.values.push_back(std::move(value));
  }
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    int v = plan.inputs[i].value;
    if (!checkValueRef(v, plan, "input '" + plan.inputs[i].feature + "'", check))
      return false;
    if (plan.values[size_t(v)].kind != ValueKind::Input || plan.values[size_t(v)].index != int(i))
      return check.fail("input '" + plan.inputs[i].feature + "' and value " +
                        std::to_string(v) + " disagree");
    // The packer writes each ingest kind as its element types only.
    DType dtype = plan.values[size_t(v)].type.dtype;
    Ingest ingest = plan.inputs[i].ingest;
    bool fingerprint = ingest == Ingest::Fingerprint || ingest == Ingest::DecimalFingerprint;
    bool count = ingest == Ingest::Lengths || ingest == Ingest::Counts;
    if ((fingerprint && dtype != DType::I64) ||
        (count && dtype != DType::I32 && dtype != DType::I64))
      return check.fail("input '" + plan.inputs[i].feature + "' (" + ingestName(ingest) +
                        ") is " + dtypeName(dtype) + "; it must be " +
                        (fingerprint ? "i64" : "i32 or i64"));
    const std::vector<double> &defaults = plan.inputs[i].defaults;
    if (defaults.empty())
      continue;
    int64_t width = 1;
    const std::vector<int64_t> &shape = plan.values[size_t(v)].type.shape;
    for (size_t d = 1; d < shape.size(); ++d)
      width = shape[d] < 0 ? -1 : width * shape[d];
    if (plan.inputs[i].ingest != Ingest::Value || shape.empty() || width != int64_t(defaults.size()))
      return check.fail("input '" + plan.inputs[i].feature + "' has " +
                        std::to_string(defaults.size()) +
                        " defaults; only a value input of that many elements per example has");
  }

  if (!model.kernels())
    return check.fail("the artifact has no kernels");
  for (size_t i = 0; i < model.kernels()->size(); ++i) {
    plan.kernels.emplace_back();
    if (!decodeKernel(model.kernels()->Get(flatbuffers::uoffset_t(i)), i, plan,
                      plan.kernels.back(), check))
      return false;
  }
  if (!decodeSteps(model, plan, check))
    return false;

  if (model.outputs())
    for (const fb::Output *in : *model.outputs()) {
      if (!in)
        return check.fail("a model output is missing");
      Output output{str(in->name()), str(in->head()), in->value(), in->updates()};
      if (!checkValueRef(output.value, plan, "output '" + output.name + "'", check))
        return false;
      if (output.updates != -1) {
        // Written back over the parameter's storage: the same bytes.
        if (output.updates < 0 || size_t(output.updates) >= plan.parameters.size())
          return check.fail("output '" + output.name + "' updates parameter " +
                            std::to_string(output.updates));
        const Parameter &parameter = plan.parameters[size_t(output.updates)];
        const TensorType &type = plan.values[size_t(output.value)].type;
        int64_t elements = 0;
        if (type.dtype != parameter.type.dtype || !isStatic(type, elements) ||
            elements != parameter.storedElements())
          return check.fail("output '" + output.name + "' does not have the type of parameter '" +
                            parameter.name + "' as a rank stores it");
      }
      bool written = plan.values[size_t(output.value)].kind != ValueKind::Arena;
      for (const Step &step : plan.steps)
        for (int result : step.results)
          written |= result == output.value;
      if (!written)
        return check.fail("output '" + output.name + "' is a value no step writes");
      plan.outputs.push_back(std::move(output));
    }
  if (plan.outputs.empty())
    return check.fail("the artifact declares no outputs");
  return true;
}

} // namespace

int64_t Parameter::storedElements() const {
  int64_t elements = 1;
  for (int64_t dim : type.shape)
    elements *= dim;
  return (elements + shardCount - 1) / shardCount;
}

/// The bytes the memory plan budgeted for `type` (PlanMemory's rule: a
/// dynamic leading pair is [batch, sequence], any other dynamic dimension
/// is tokens).
int64_t bytesUnder(const TensorType &type, const Budget &budget) {
  const std::vector<int64_t> &shape = type.shape;
  bool pair = shape.size() >= 2 && shape[0] < 0 && shape[1] < 0;
  // In double: a damaged package's dimensions may overflow int64.
  double bytes = double(dtypeSize(type.dtype));
  for (size_t d = 0; d < shape.size(); ++d)
    bytes *= double(shape[d] >= 0 ? shape[d]
                    : pair && d == 0 ? budget.batch
                    : pair && d == 1 ? budget.sequence
                                     : budget.tokens);
  return bytes < 0x1p62 ? int64_t(bytes) : int64_t(1) << 62;
}

size_t Kernel::numLocals() const {
  size_t count = arguments.size();
  for (const Instruction &instruction : body)
    count += instruction.results.size();
  return count;
}

const TensorType &localType(const Kernel &kernel, size_t local) {
  if (local < kernel.arguments.size())
    return kernel.arguments[local];
  local -= kernel.arguments.size();
  for (const Instruction &instruction : kernel.body) {
    if (local < instruction.results.size())
      return instruction.results[local];
    local -= instruction.results.size();
  }
  static const TensorType none;
  return none;
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: return 2;
  case DType::F64: case DType::I64: return 8;
  case DType::I1: return 1;
  }
  return 1;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::F64: return "f64";
  case DType::I64: return "i64";
  case DType::I32: return "i32";
  case DType::I1: return "i1";
  }
  return "?";
}

bool isFloat(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 ||
         dtype == DType::F64;
}

const char *opcodeName(Opcode opcode) {
  return opcode <= Opcode::MAX ? ops::info(opcode).name : "?";
}

bool loadPlan(const uint8_t *data, size_t size, Plan &plan, std::string &error) {
  plan = Plan();
  if (size < 8 || !fb::ModelBufferHasIdentifier(data))
    return (error = "not an lmc artifact (no LMCP identifier)"), false;
  flatbuffers::Verifier verifier(data, size, /*max_depth=*/64,
                                 /*max_tables=*/10'000'000);
  if (!fb::VerifyModelBuffer(verifier))
    return (error = "the artifact is corrupt or truncated (flatbuffers "
                    "verification failed)"),
           false;
  Checker check(error);
  if (!decodeModel(*fb::GetModel(data), plan, check)) {
    plan = Plan();
    return false;
  }
  markInPlaceUpdates(plan);
  return true;
}

} // namespace lmc::rt
