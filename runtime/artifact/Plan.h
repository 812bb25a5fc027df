// Plan.h - a loaded, checked artifact: what the backends execute.
//
// loadPlan() turns the bytes of a .lmcpkg into these plain structs after the
// flatbuffers verifier and lmc's own checks (every index in range, every
// operand defined before use, sizes that fit) have passed, so a backend never
// reads the flatbuffer itself and never sees a dangling index.

#ifndef LMC_RUNTIME_ARTIFACT_PLAN_H
#define LMC_RUNTIME_ARTIFACT_PLAN_H

#include "lmcpkg_generated.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lmc::rt {

using fb::DType;
using fb::Ingest;
using fb::KernelKind;
using fb::LaunchArgKind;
using fb::LaunchPattern;
using fb::Opcode;
using fb::StepKind;
using fb::ValueKind;

/// The artifact version this runtime reads and the compiler writes.
constexpr uint32_t kFormatVersion = 6;

/// The most elements a tensor and the most bytes an arena may have (2^40):
/// the compiler refuses more, and so does the loader, whatever a damaged
/// package says.
constexpr int64_t kMaxElements = int64_t(1) << 40;
constexpr int64_t kMaxArenaBytes = int64_t(1) << 40;

/// Bytes per element; I1 is stored as one byte.
size_t dtypeSize(DType dtype);
const char *dtypeName(DType dtype);
bool isFloat(DType dtype);

struct TensorType {
  DType dtype = DType::F32;
  /// -1 for a dynamic dimension.
  std::vector<int64_t> shape;
  /// "batch", "tokens", "sequence" or "" per dimension.
  std::vector<std::string> dimNames;
};

struct Instruction {
  Opcode opcode = Opcode::Add;
  std::vector<int> operands;
  std::vector<TensorType> results;
  std::vector<int64_t> ints;
  std::vector<double> reals;
  int table = -1;
};

/// Emitted code of a kernel for one architecture.
struct Binary {
  std::string arch, format; // "sm_90"; "ptx" or "cubin"
  std::string data;
};

struct LaunchArg {
  LaunchArgKind kind = LaunchArgKind::Pointer;
  int value = -1, axis = -1;
};

/// One entry point of a kernel's CUDA source (see lmcpkg.fbs, Launch).
struct Launch {
  std::string entry;
  LaunchPattern pattern = LaunchPattern::Elements;
  int value = -1, threads = 0, perBlock = 0, sharedBytes = 0;
  std::vector<LaunchArg> args;
};

struct Kernel {
  std::string name;
  KernelKind kind = KernelKind::Fused;
  int blockQ = 0, blockK = 0;
  std::vector<TensorType> arguments;
  std::vector<Instruction> body;
  std::vector<int> yields;
  /// CUDA C, its compiled forms and entry points; empty for a CPU package.
  std::string source;
  std::vector<Binary> binaries;
  std::vector<Launch> launches;

  /// Arguments plus every instruction's results.
  size_t numLocals() const;
};

struct Value {
  TensorType type;
  ValueKind kind = ValueKind::Arena;
  int index = -1;
  int64_t offset = -1;
  /// How many ranks' rows the value may hold (lmc.all_gather_rows'
  /// result): its arena slot is that many times the budget's.
  int64_t rowsFromRanks = 1;
};

struct Step {
  StepKind kind = StepKind::Launch;
  int kernel = -1;
  std::vector<int> operands, results;
  /// Derived on load (markInPlaceUpdates): per result, the parameter the
  /// backends write it straight into, or -1.
  std::vector<int> inPlace;
  int inPlaceAt(size_t result) const {
    return result < inPlace.size() ? inPlace[result] : -1;
  }
};

struct Input {
  std::string feature;
  Ingest ingest = Ingest::Value;
  int value = -1;
  /// What a missing numeric feature takes, one value per element of an
  /// example; empty when the feature is required.
  std::vector<double> defaults;
  /// A Counts input's feature whose count must be the same in every
  /// example (weights and their ids); empty when unpaired.
  std::string pairedWith;
};

/// The name `lmc.ingest` gives an ingest kind in MLIR and `lmc inspect`
/// prints.
inline const char *ingestName(Ingest ingest) {
  switch (ingest) {
  case Ingest::Fingerprint: return "fingerprint";
  case Ingest::DecimalFingerprint: return "decimal_fingerprint";
  case Ingest::Value: return "value";
  case Ingest::Lengths: return "lengths";
  case Ingest::LossScale: return "loss_scale";
  case Ingest::OptimizerStep: return "optimizer_step";
  case Ingest::Counts: return "counts";
  }
  return "?";
}

/// The ingest kind of an example feature's `lmc.ingest` name (the trainer's
/// own inputs are not named this way).
inline std::optional<Ingest> exampleIngestNamed(const std::string &name) {
  for (Ingest ingest : {Ingest::Fingerprint, Ingest::DecimalFingerprint, Ingest::Value,
                        Ingest::Lengths, Ingest::Counts})
    if (name == ingestName(ingest))
      return ingest;
  return std::nullopt;
}

struct Output {
  std::string name, head;
  int value = -1;
  /// The parameter a training step's output is the new value of, or -1.
  int updates = -1;
  /// Derived on load: the update was computed in the parameter's storage
  /// (Step::inPlace), so nothing is left to write back on the device.
  bool inPlace = false;
};

struct Parameter {
  std::string name;
  TensorType type;
  std::string initializer;
  std::vector<std::pair<std::string, double>> initializerFields;
  /// ZeRO stage 3: a rank stores ceil(n / shardCount) elements of the
  /// flattened parameter, its shard; 1 = whole.
  int shardCount = 1;
  /// An optimizer moment: zeros at the start, not in weights files.
  bool optimizerState = false;
  /// Elements a rank stores.
  int64_t storedElements() const;
};

struct Constant {
  TensorType type;
  std::vector<uint8_t> data;
};

struct FeatureTable {
  std::string name;
  std::vector<int64_t> fingerprints;
  std::vector<float> boundaries;
};

struct Budget {
  int64_t batch = 0, sequence = 0, tokens = 0;
};

/// A training step's optimizer settings (see lmcpkg.fbs, Training).
struct Training {
  std::string loss, label;
  double learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01;
  std::string schedule = "constant";
  int64_t warmupSteps = 0, totalSteps = 0;
  int zeroStage = 0, ranks = 1;
};

struct Plan {
  uint32_t formatVersion = 0;
  std::string producer, name, target, precision;
  std::vector<Value> values;
  std::vector<Kernel> kernels;
  std::vector<Step> steps;
  std::vector<Input> inputs;
  std::vector<Output> outputs;
  std::vector<Parameter> parameters;
  std::vector<Constant> constants;
  std::vector<FeatureTable> featureTables;
  Budget budget;
  int64_t arenaBytes = 0;
  /// Set for a training step (`lmc compile --train`).
  std::optional<Training> training;
};

/// Verifies and decodes an artifact's payload (the flatbuffer inside its
/// envelope, see Envelope.h). On failure returns false and sets
/// `error` to a message naming what is wrong (never crashes on any input).
bool loadPlan(const uint8_t *data, size_t size, Plan &plan, std::string &error);

/// Sets Step::inPlace and Output::inPlace (loadPlan calls it): an optimizer
/// step's result may be computed in its parameter's storage when it is that
/// parameter's update, the step reads the parameter itself, and no later
/// step reads either. A lazy table update then costs the rows it touches,
/// not a copy of the table and its moments.
void markInPlaceUpdates(Plan &plan);

/// The bytes the memory plan budgeted for a value of `type` (PlanMemory's
/// rule: a dynamic leading pair is [batch, sequence], any other dynamic
/// dimension is tokens).
int64_t bytesUnder(const TensorType &type, const Budget &budget);
/// The bytes of `value`'s arena slot.
inline int64_t plannedBytes(const Value &value, const Budget &budget) {
  return bytesUnder(value.type, budget) * value.rowsFromRanks;
}

/// The type of kernel-local value `local` (an argument or an instruction's
/// result); an empty type when out of range.
const TensorType &localType(const Kernel &kernel, size_t local);

/// A gemm kernel's parts, as kernel-local values: the matmul (its first
/// instruction) of `lhs` and `rhs`, and the rank-1 `bias` an add after it
/// puts on every row (-1 when there is none; then the product is the
/// result). The compiler forms these (--lmc-form-kernels) and both
/// backends run them as one GEMM with a bias epilogue.
struct GemmForm {
  const Instruction *matmul = nullptr;
  int lhs = -1, rhs = -1, bias = -1, result = -1;
};

/// The form of a gemm kernel; std::nullopt when `kernel` is not a matmul
/// with an optional bias add (the loader refuses such a gemm kernel).
std::optional<GemmForm> gemmForm(const Kernel &kernel);

/// The instruction's name as written in the lmc dialect ("lmc.add").
const char *opcodeName(Opcode opcode);

} // namespace lmc::rt

#endif // LMC_RUNTIME_ARTIFACT_PLAN_H
