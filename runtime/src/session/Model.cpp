// Model.cpp - loading, weights, and running examples batch by batch.

#include "session/Model.h"

#include "artifact/Envelope.h"
#include "cpu/HalfFloat.h"
#include "io/AtomicFile.h"
#include "weights/Initializers.h"
#include "weights/Safetensors.h"

#include <cstdio>
#include <cstring>
#include <future>
#include <unistd.h>

namespace lmc::rt {
namespace {

/// `from` converted to the float type `dtype`.
cpu::Tensor convertFloat(const cpu::Tensor &from, DType dtype) {
  cpu::Tensor to = cpu::Tensor::owned(dtype, from.shape);
  std::vector<float> values(size_t(from.numElements()));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = float(cpu::realAt(from, int64_t(i)));
  if (dtype == DType::F32)
    std::memcpy(to.data, values.data(), values.size() * 4);
  else if (dtype == DType::F16)
    cpu::floatToHalf(values.data(), to.as<uint16_t>(), values.size());
  else
    cpu::floatToBfloat(values.data(), to.as<uint16_t>(), values.size());
  return to;
}

/// Rows [begin, begin + count) of `tensor` along dimension 0, as an owned
/// tensor; `trim` (>= 0) also cuts dimension 1 to that many entries.
cpu::Tensor rowsOf(const cpu::Tensor &tensor, int64_t begin, int64_t count, int64_t trim) {
  std::vector<int64_t> shape(tensor.shape);
  shape[0] = count;
  if (trim >= 0)
    shape[1] = trim;
  cpu::Tensor out = cpu::Tensor::owned(tensor.dtype, shape);
  int64_t rowBytes = int64_t(tensor.numBytes()) / std::max<int64_t>(tensor.shape[0], 1);
  if (trim < 0) {
    std::memcpy(out.data, tensor.as<uint8_t>() + begin * rowBytes, size_t(count * rowBytes));
    return out;
  }
  int64_t innerBytes = rowBytes / std::max<int64_t>(tensor.shape[1], 1);
  for (int64_t r = 0; r < count; ++r)
    std::memcpy(out.as<uint8_t>() + r * trim * innerBytes,
                tensor.as<uint8_t>() + (begin + r) * rowBytes, size_t(trim * innerBytes));
  return out;
}

} // namespace

std::unique_ptr<Model> Model::fromFile(const std::string &path, Status &status) {
  std::string bytes;
  if (!readFile(path, bytes, status))
    return nullptr;
  std::unique_ptr<Model> model = fromBytes(std::move(bytes), status);
  if (!model)
    status.addContext(path);
  return model;
}

std::unique_ptr<Model> Model::fromBytes(std::string bytes, Status &status) {
  std::unique_ptr<Model> model(new Model(std::move(bytes)));
  const uint8_t *payload = nullptr;
  size_t payloadSize = 0;
  std::string error;
  if (!unwrapArtifact(reinterpret_cast<const uint8_t *>(model->bytes.data()),
                      model->bytes.size(), payload, payloadSize, error) ||
      !loadPlan(payload, payloadSize, model->loaded, error)) {
    status.fail(error);
    return nullptr;
  }
  model->backend = std::make_unique<cpu::CpuBackend>(model->loaded);
  return model;
}

void Model::setBackend(std::unique_ptr<Backend> other) {
  backend = std::move(other);
  backend->setThreads(threads);
  if (communicator)
    backend->setCommunicator(*communicator);
}

void Model::setCommunicator(Communicator &ranks) {
  communicator = &ranks;
  backend->setCommunicator(ranks);
}

namespace {

/// This rank's shard of `whole` (f32), flattened, zero-padded.
cpu::Tensor shardOf(const cpu::Tensor &whole, int64_t shard, int rank) {
  cpu::Tensor part = cpu::Tensor::owned(DType::F32, {shard});
  int64_t begin = std::min(whole.numElements(), shard * rank);
  int64_t end = std::min(whole.numElements(), begin + shard);
  std::copy(whole.as<float>() + begin, whole.as<float>() + end, part.as<float>());
  return part;
}

} // namespace

bool Model::setWeights(std::map<std::string, cpu::Tensor> weights, Status &status) {
  std::vector<cpu::Tensor> values;
  Communicator &world = ranks();
  for (const Parameter &parameter : loaded.parameters) {
    if (parameter.optimizerState) {
      if (weights.count(parameter.name))
        return status.fail("the weights hold '" + parameter.name +
                           "', an optimizer moment (training starts it at zero; checkpoints "
                           "carry it)");
      values.push_back(cpu::Tensor::owned(parameter.type.dtype, parameter.type.shape));
      continue;
    }
    if (parameter.shardCount > 1 && parameter.shardCount != world.size())
      return status.fail("parameter '" + parameter.name + "' is stored in shards over " +
                         std::to_string(parameter.shardCount) + " ranks; this run has " +
                         std::to_string(world.size()) + " (launch it with mpirun -np " +
                         std::to_string(parameter.shardCount) + ")");
    auto found = weights.find(parameter.name);
    if (found == weights.end())
      return status.fail("the weights lack parameter '" + parameter.name + "'");
    cpu::Tensor &tensor = found->second;
    if (tensor.shape != parameter.type.shape)
      return status.fail("the weights hold '" + parameter.name + "' as " + cpu::describe(tensor) +
                         "; the model declares " + cpu::formatShape(parameter.type.shape) + " " +
                         dtypeName(parameter.type.dtype));
    if (tensor.dtype != parameter.type.dtype) {
      if (!isFloat(tensor.dtype) || !isFloat(parameter.type.dtype))
        return status.fail("the weights hold '" + parameter.name + "' as " +
                           cpu::describe(tensor) + "; the model takes " +
                           dtypeName(parameter.type.dtype));
      tensor = convertFloat(tensor, parameter.type.dtype);
    }
    if (parameter.shardCount > 1)
      tensor = shardOf(tensor, parameter.storedElements(), world.rank());
    values.push_back(std::move(tensor));
    weights.erase(found);
  }
  if (!weights.empty())
    return status.fail("the weights hold '" + weights.begin()->first +
                       "', which is not a parameter of the model");
  parameters = std::move(values);
  backend->parametersChanged();
  return true;
}

bool Model::wholeWeights(std::vector<std::pair<std::string, cpu::Tensor>> &weights,
                         Status &status) const {
  weights.clear();
  Communicator &world = ranks();
  if (!syncParameters(status))
    return false;
  for (size_t p = 0; p < loaded.parameters.size() && !parameters.empty(); ++p) {
    const Parameter &parameter = loaded.parameters[p];
    if (parameter.optimizerState)
      continue;
    if (parameter.shardCount == 1) {
      weights.emplace_back(parameter.name, parameters[p]);
      continue;
    }
    int64_t shard = parameter.storedElements();
    std::vector<float> joined(size_t(shard * world.size()));
    if (!world.allGather(parameters[p].as<float>(), joined.data(),
                         std::vector<int>(size_t(world.size()), int(shard)), status))
      return false;
    cpu::Tensor whole = cpu::Tensor::owned(DType::F32, parameter.type.shape);
    std::copy(joined.begin(), joined.begin() + whole.numElements(), whole.as<float>());
    weights.emplace_back(parameter.name, std::move(whole));
  }
  return true;
}

bool Model::loadWeights(const std::string &path, Status &status) {
  if (!fitsInMemory("loading its weights", status))
    return false;
  std::map<std::string, cpu::Tensor> weights;
  if (!readSafetensors(path, weights, status))
    return false;
  if (!setWeights(std::move(weights), status)) {
    status.addContext(path);
    return false;
  }
  return true;
}

namespace {

/// The next `count` values of `values` stored as `dtype` at `out`.
void generateInto(Initializer &values, DType dtype, int64_t count, void *out) {
  std::vector<double> chunk(static_cast<size_t>(count));
  values.next(count, chunk.data());
  std::vector<float> f32(chunk.begin(), chunk.end());
  switch (dtype) {
  case DType::F32: std::memcpy(out, f32.data(), f32.size() * sizeof(float)); break;
  case DType::F16: cpu::floatToHalf(f32.data(), static_cast<uint16_t *>(out), f32.size()); break;
  case DType::BF16: cpu::floatToBfloat(f32.data(), static_cast<uint16_t *>(out), f32.size()); break;
  case DType::I64:
    for (int64_t i = 0; i < count; ++i) static_cast<int64_t *>(out)[i] = int64_t(chunk[size_t(i)]);
    break;
  case DType::I32:
    for (int64_t i = 0; i < count; ++i) static_cast<int32_t *>(out)[i] = int32_t(chunk[size_t(i)]);
    break;
  default:
    for (int64_t i = 0; i < count; ++i) static_cast<uint8_t *>(out)[i] = chunk[size_t(i)] != 0;
    break;
  }
}

/// Values a piece at a time: a chunk's temporaries stay small however large
/// the parameter.
constexpr int64_t kChunk = int64_t(1) << 20;

} // namespace

bool Model::generateWeights(uint64_t seed,
                            std::vector<std::pair<std::string, cpu::Tensor>> &weights,
                            Status &status) const {
  weights.clear();
  if (!fitsInMemory("generating its weights", status))
    return false;
  for (const Parameter &parameter : loaded.parameters) {
    if (parameter.optimizerState)
      continue;
    Initializer values(parameter.name, seed, parameter.initializer, parameter.initializerFields,
                       parameter.type.shape);
    if (!values.known())
      return status.fail("parameter '" + parameter.name + "' has unknown initializer '" +
                         parameter.initializer + "'");
    cpu::Tensor tensor = cpu::Tensor::owned(parameter.type.dtype, parameter.type.shape);
    if (!tensor.data && values.size() > 0)
      return status.fail(LMC_STATUS_OUT_OF_MEMORY,
                         "out of memory for parameter '" + parameter.name + "'");
    size_t width = dtypeSize(parameter.type.dtype);
    for (int64_t done = 0; done < values.size(); done += kChunk)
      generateInto(values, parameter.type.dtype, std::min(kChunk, values.size() - done),
                   static_cast<uint8_t *>(tensor.data) + size_t(done) * width);
    weights.emplace_back(parameter.name, std::move(tensor));
  }
  return true;
}

bool Model::writeGeneratedWeights(uint64_t seed, const std::string &path,
                                  Status &status) const {
  std::vector<TensorHeader> headers;
  std::vector<const Parameter *> generated;
  for (const Parameter &parameter : loaded.parameters)
    if (!parameter.optimizerState) {
      headers.push_back({parameter.name, parameter.type.dtype, parameter.type.shape});
      generated.push_back(&parameter);
    }
  std::vector<uint8_t> buffer;
  return writeSafetensors(
      path, headers,
      [&](size_t i, OutputFile &out, Status &failure) {
        const Parameter &parameter = *generated[i];
        Initializer values(parameter.name, seed, parameter.initializer,
                           parameter.initializerFields, parameter.type.shape);
        if (!values.known())
          return failure.fail("parameter '" + parameter.name + "' has unknown initializer '" +
                              parameter.initializer + "'");
        size_t width = dtypeSize(parameter.type.dtype);
        for (int64_t done = 0; done < values.size(); done += kChunk) {
          int64_t count = std::min(kChunk, values.size() - done);
          buffer.resize(size_t(count) * width);
          generateInto(values, parameter.type.dtype, count, buffer.data());
          if (!out.write(buffer.data(), buffer.size(), failure))
            return false;
        }
        return true;
      },
      status);
}

namespace {

/// `bytes` in the largest binary unit that keeps it at least 1.
std::string describeBytes(double bytes) {
  const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024)
    return std::to_string(int64_t(bytes)) + " bytes";
  int unit = 0;
  for (bytes /= 1024; bytes >= 1024 && unit < 3; bytes /= 1024)
    ++unit;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", bytes, units[unit]);
  return text;
}

} // namespace

bool Model::fitsInMemory(const std::string &doing, Status &status) const {
  // Refused with the sizes rather than ended by an allocation failure: a
  // package, damaged or not, cannot make the host allocate what it lacks.
  double parameters = 0;
  for (const Parameter &parameter : loaded.parameters)
    parameters += double(cpu::Tensor::elementsOf(parameter.type.shape)) *
                  double(dtypeSize(parameter.type.dtype));
  double arena = double(loaded.arenaBytes);
  // A batch's input tensors, at most what the budget allows each.
  double inputs = 0;
  for (const Input &input : loaded.inputs)
    inputs += double(bytesUnder(loaded.values[size_t(input.value)].type, loaded.budget));
  double available = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
  bool limited = memoryLimit > 0 && (available <= 0 || double(memoryLimit) < available);
  if (limited)
    available = double(memoryLimit);
  if (available <= 0 || parameters + arena + inputs <= available)
    return true;
  std::string room = limited ? "its memory limit of " + describeBytes(available)
                             : "this host's " + describeBytes(available) + " of memory";
  return status.fail(LMC_STATUS_OUT_OF_MEMORY,
                     "the model needs " + describeBytes(parameters + arena + inputs) +
                         " (parameters " + describeBytes(parameters) + ", activation arena " +
                         describeBytes(arena) + ", batch inputs " + describeBytes(inputs) +
                         "), more than " + room + ", for " + doing);
}

bool Model::slice(const PackedBatch &batch, const std::vector<cpu::Tensor> &outputs,
                  std::vector<ExampleOutputs> &results, rt::Status &error) const {
  int64_t count = int64_t(batch.examples.size());
  for (size_t o = 0; o < outputs.size(); ++o) {
    const cpu::Tensor &tensor = outputs[o];
    const TensorType &type = loaded.values[size_t(loaded.outputs[o].value)].type;
    bool padded = type.shape.size() >= 2 && type.shape[1] < 0;
    bool packed = !tensor.shape.empty() && tensor.shape[0] == batch.cuSeqlens.back() &&
                  tensor.shape[0] != count;
    if (tensor.shape.empty() || (!packed && tensor.shape[0] != count))
      return error.fail("output '" + loaded.outputs[o].name + "' is " + cpu::describe(tensor) +
                        ", not one row per example of the batch of " + std::to_string(count));
    for (int64_t r = 0; r < count; ++r) {
      ExampleOutputs &slot = results[batch.examples[size_t(r)]];
      if (packed)
        slot.outputs[o] = rowsOf(tensor, batch.cuSeqlens[size_t(r)], batch.lengths[size_t(r)], -1);
      else
        slot.outputs[o] = rowsOf(tensor, r, 1, padded ? std::min(batch.lengths[size_t(r)],
                                                                 tensor.shape[1])
                                                      : -1);
    }
  }
  return true;
}

bool Model::runBatch(const PackedBatch &batch, std::vector<cpu::Tensor> &outputs,
                     Status &status) {
  if (!hasWeights() && !loaded.parameters.empty())
    return status.fail("the model has no weights yet");
  // The backend writes a training step's updates over the parameters.
  return backend->run(batch.inputs, parameters, outputs, status);
}

bool Model::run(const std::vector<Example> &examples, const PackingOptions &options,
                std::vector<ExampleOutputs> &results, RunStatistics &statistics,
                Status &status) const {
  if (!hasWeights() && !loaded.parameters.empty())
    return status.fail("the model has no weights yet");
  if (!fitsInMemory("running it", status))
    return false;
  std::vector<PackedBatch> batches;
  if (!planBatches(loaded, examples, options, batches, status))
    return false;
  results.assign(examples.size(), ExampleOutputs());
  for (ExampleOutputs &slot : results)
    slot.outputs.resize(loaded.outputs.size());
  statistics = RunStatistics();
  if (batches.empty())
    return true;
  if (!buildBatchInputs(loaded, examples, options, batches[0], status))
    return false;
  // While a GPU runs one batch, a host thread builds the next one's inputs
  // (fingerprints, tensors). The CPU backend has the cores busy itself.
  bool overlap = !backend->runsOnHost();
  for (size_t b = 0; b < batches.size(); ++b) {
    bool hasNext = b + 1 < batches.size();
    Status nextError;
    std::future<bool> next;
    if (overlap && hasNext)
      next = std::async(std::launch::async, [&, b] {
        return buildBatchInputs(loaded, examples, options, batches[b + 1], nextError);
      });
    PackedBatch &batch = batches[b];
    std::vector<cpu::Tensor> outputs;
    bool ran = backend->run(batch.inputs, parameters, outputs, status) &&
               slice(batch, outputs, results, status);
    bool built = !hasNext || (overlap ? next.get()
                                      : ran && buildBatchInputs(loaded, examples, options,
                                                                batches[b + 1], nextError));
    if (!ran)
      return false;
    if (!built)
      return (status = nextError), false;
    batch.inputs.clear(); // this batch's tensors are done with
    statistics.batches += 1;
    statistics.rows += size_t(batch.rows);
    statistics.tokens += batch.cuSeqlens.back();
  }
  return true;
}

} // namespace lmc::rt
