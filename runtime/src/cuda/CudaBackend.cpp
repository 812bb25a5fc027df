// CudaBackend.cpp - device memory, launches, and the run of a plan.

#include "cuda/CudaBackend.h"

#include "cuda/HostShapes.h"

#include "artifact/OpSlots.h"

#include <algorithm>
#include <cstring>

namespace lmc::cuda {
namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;
/// Blocks of a grid-stride launch: enough to fill any GPU, few enough that
/// each block loops when the tensor is large.
constexpr int64_t kMaxBlocks = int64_t(1) << 20;

int64_t bytesOf(const HostValue &value, rt::DType dtype) {
  return value.numElements() * int64_t(rt::dtypeSize(dtype));
}

int64_t integerElement(const cpu::Tensor &tensor, int64_t i) {
  switch (tensor.dtype) {
  case rt::DType::I64: return tensor.as<int64_t>()[i];
  case rt::DType::I32: return tensor.as<int32_t>()[i];
  default: return tensor.as<uint8_t>()[i];
  }
}

using Tile = CudaBackend::Tile;
static_assert(sizeof(Tile) == 32, "LmcTile is 8 ints");

/// The query tiles of every sequence, the longest sequences first.
bool attentionTiles(const rt::Kernel &kernel, const std::vector<HostValue> &locals,
                    std::vector<Tile> &tiles, rt::Status &error) {
  const rt::Instruction &attention = kernel.body[0];
  const HostValue &q = locals[size_t(attention.operands[0])];
  const HostValue &k = locals[size_t(attention.operands[1])];
  bool gradient = attention.opcode == rt::Opcode::AttentionGrad;
  int cu = attention.operands[gradient ? ops::slot::attentionGradOperand::cuSeqlens
                                       : ops::slot::attentionOperand::cuSeqlens];
  int lengths = attention.operands[gradient ? ops::slot::attentionGradOperand::lengths
                                            : ops::slot::attentionOperand::lengths];
  struct Span { int64_t queryBase, keyBase, queries, keys; };
  std::vector<Span> spans;
  if (cu >= 0) {
    const HostValue &offsets = locals[size_t(cu)];
    if (!offsets.known)
      return error.fail("kernel '" + kernel.name + "': cu_seqlens is not known on the host");
    for (size_t s = 0; s + 1 < offsets.data.size(); ++s) {
      int64_t length = offsets.data[s + 1] - offsets.data[s];
      spans.push_back({offsets.data[s], offsets.data[s], length, length});
    }
  } else {
    int64_t batch = q.shape[0], sequence = q.shape[1], keySequence = k.shape[1];
    const HostValue *known = lengths >= 0 ? &locals[size_t(lengths)] : nullptr;
    if (known && !known->known)
      return error.fail("kernel '" + kernel.name + "': lengths are not known on the host");
    for (int64_t b = 0; b < batch; ++b) // every query row attends; keys are masked
      spans.push_back({b * sequence, b * keySequence, sequence,
                       known ? std::min(known->data[size_t(b)], keySequence) : keySequence});
  }
  int64_t blockQ = kernel.blockQ;
  // (keys, position): the most keys first, in list order among equals.
  std::vector<std::pair<int64_t, size_t>> order;
  tiles.clear();
  for (const Span &span : spans)
    for (int64_t start = 0; start < span.queries; start += blockQ) {
      tiles.push_back({int32_t(span.queryBase + start),
                       int32_t(std::min(blockQ, span.queries - start)), int32_t(span.keyBase),
                       int32_t(span.keys), int32_t(start), {0, 0, 0}});
      order.push_back({span.keys, order.size()});
    }
  std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<Tile> listed = std::move(tiles);
  tiles.clear();
  for (const auto &[keys, position] : order)
    tiles.push_back(listed[position]);
  return true;
}

/// True when `kernel` only reshapes and every result already lives where
/// the input it reshapes does (lmc-plan-memory placed it there): the
/// row-major bytes are the result, nothing needs to move.
bool movesNothing(const rt::Kernel &kernel, const std::vector<CUdeviceptr> &pointers) {
  if (kernel.kind != rt::KernelKind::Fused)
    return false;
  std::vector<int> source(kernel.numLocals());
  for (size_t a = 0; a < kernel.arguments.size(); ++a)
    source[a] = int(a);
  size_t local = kernel.arguments.size();
  for (const rt::Instruction &instruction : kernel.body) {
    if (instruction.opcode != rt::Opcode::Reshape)
      return false;
    source[local++] = source[size_t(instruction.operands[0])];
  }
  for (int yield : kernel.yields)
    if (pointers[size_t(yield)] != pointers[size_t(source[size_t(yield)])])
      return false;
  return true;
}

} // namespace

std::unique_ptr<CudaBackend> CudaBackend::create(const rt::Plan &plan, rt::Status &error,
                                                 const Driver *driver, rt::Communicator *ranks,
                                                 const Nccl *nccl) {
  std::unique_ptr<CudaBackend> backend(new CudaBackend(plan));
  backend->driver = driver;
  if (!backend->initialize(ranks, nccl, error))
    return nullptr;
  if (ranks)
    backend->setCommunicator(*ranks);
  return backend;
}

bool CudaBackend::initialize(rt::Communicator *ranks, const Nccl *nccl, rt::Status &error) {
  if (!driver && !(driver = Driver::get(error)))
    return false;
  bool hasCode = false;
  for (const rt::Kernel &kernel : plan.kernels)
    hasCode |= !kernel.launches.empty();
  if (!hasCode && !plan.kernels.empty() && plan.target == "cpu")
    return error.fail("the package was compiled for the CPU (--target=cpu): it holds no CUDA "
                      "code; recompile with --target=cuda or sm_XX");
  int count = 0, ordinal = 0, major = 0, minor = 0;
  char name[256] = {};
  if (!driver->check(driver->cuDeviceGetCount(&count), "cuDeviceGetCount", error))
    return false;
  if (count == 0)
    return error.fail(LMC_STATUS_UNAVAILABLE, "the CUDA driver sees no GPU");
  bool collective = std::any_of(plan.kernels.begin(), plan.kernels.end(), [](const auto &kernel) {
    return kernel.kind == rt::KernelKind::Collective;
  });
  if (collective && ranks && ranks->size() > 1 &&
      !chooseRankDevice(*ranks, count, ordinal, error))
    return false;
  if (!driver->check(driver->cuDeviceGet(&device, ordinal), "cuDeviceGet", error) ||
      !driver->check(driver->cuDeviceGetAttribute(
                         &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                     "cuDeviceGetAttribute", error) ||
      !driver->check(driver->cuDeviceGetAttribute(
                         &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
                     "cuDeviceGetAttribute", error) ||
      !driver->check(driver->cuDeviceGetName(name, sizeof name - 1, device), "cuDeviceGetName",
                     error) ||
      !driver->check(driver->cuDriverGetVersion(&driverVersion), "cuDriverGetVersion", error) ||
      !driver->check(driver->cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain",
                     error) ||
      !driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent", error) ||
      !driver->check(driver->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate",
                     error) ||
      !driver->check(driver->cublasLtCreate(&blas), "cublasLtCreate", error))
    return false;
  arch = major * 10 + minor;
  deviceName = name;
  if (collective && !joinRanks(ranks, nccl, count, error))
    return false;

  std::string cacheDir = defaultCacheDir();
  for (const rt::Kernel &kernel : plan.kernels) {
    modules.push_back(nullptr);
    functions.emplace_back();
    sources.push_back(ModuleSource::Cubin);
    if (kernel.launches.empty())
      continue;
    if (!loadModule(*driver, kernel, arch, driverVersion, cacheDir, modules.back(),
                    sources.back(), error))
      return false;
    for (const rt::Launch &launch : kernel.launches) {
      CUfunction function = nullptr;
      std::string what = "kernel '" + kernel.name + "' entry '" + launch.entry + "'";
      if (!driver->check(driver->cuModuleGetFunction(&function, modules.back(), launch.entry.c_str()),
                         what, error))
        return false;
      // Attention tiles take more than the default 48 KiB of shared memory.
      if (launch.sharedBytes > 48 * 1024 && arch >= 80 &&
          !driver->check(driver->cuFuncSetAttribute(
                             function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                             launch.sharedBytes),
                         what + ": shared memory", error))
        return false;
      functions.back().push_back(function);
    }
  }
  // Constants and feature tables live on the device for the backend's life.
  for (const rt::Constant &constant : plan.constants) {
    constants.emplace_back();
    if (!reserve(constants.back(), constant.data.size(), "a constant", error) ||
        !upload(constants.back().pointer, constant.data.data(), constant.data.size(), error))
      return false;
  }
  for (const rt::FeatureTable &table : plan.featureTables) {
    std::string bytes;
    if (!table.fingerprints.empty()) { // sorted (fingerprint, index); ties keep the first index
      std::vector<std::pair<int64_t, int64_t>> pairs;
      for (size_t i = 0; i < table.fingerprints.size(); ++i)
        pairs.push_back({table.fingerprints[i], int64_t(i)});
      std::sort(pairs.begin(), pairs.end()); // equal fingerprints: the first index first
      bytes.assign(reinterpret_cast<const char *>(pairs.data()), pairs.size() * 16);
      tableSizes.push_back(int64_t(pairs.size()));
    } else {
      bytes.assign(reinterpret_cast<const char *>(table.boundaries.data()),
                   table.boundaries.size() * sizeof(float));
      tableSizes.push_back(int64_t(table.boundaries.size()));
    }
    tables.emplace_back();
    if (!reserve(tables.back(), bytes.size(), "a feature table", error) ||
        !upload(tables.back().pointer, bytes.data(), bytes.size(), error))
      return false;
  }
  for (const rt::Value &value : plan.values)
    plannedBytes.push_back(rt::plannedBytes(value, plan.budget));
  if (!reserve(arena, size_t(plan.arenaBytes), "the arena", error) ||
      !reserve(workspace, kWorkspaceBytes, "the cuBLASLt workspace", error))
    return false;
  gemm = std::make_unique<GemmRunner>(*driver, blas, workspace.pointer, workspace.bytes);
  return driver->check(driver->cuStreamSynchronize(stream), "uploading constants", error);
}

CudaBackend::~CudaBackend() {
  if (!driver)
    return;
  // The destructor may run on a thread that never ran the model.
  if (context)
    driver->cuCtxSetCurrent(context);
  if (stream)
    driver->cuStreamSynchronize(stream);
  if (sideStream) {
    driver->cuStreamSynchronize(sideStream);
    driver->cuStreamDestroy(sideStream);
  }
  for (std::vector<CUevent> *events : {&inputsReady, &collectiveDone})
    for (CUevent event : *events)
      if (event)
        driver->cuEventDestroy(event);
  collectives.reset(); // before its GPU's context goes
  for (Buffer *buffer : {&arena, &scratch, &inputBuffer, &workspace, &collectiveStaging})
    if (buffer->pointer)
      driver->cuMemFree(buffer->pointer);
  for (std::vector<Buffer> *group : {&constants, &tables, &parameterCopies})
    for (Buffer &buffer : *group)
      if (buffer.pointer)
        driver->cuMemFree(buffer.pointer);
  for (CUmodule module : modules)
    if (module)
      driver->cuModuleUnload(module);
  if (blas)
    driver->cublasLtDestroy(blas);
  if (stream)
    driver->cuStreamDestroy(stream);
  if (context)
    driver->cuDevicePrimaryCtxRelease(device);
}

std::string CudaBackend::label() const {
  return "the GPU (" + deviceName + ", sm_" + std::to_string(arch) + ")";
}

bool CudaBackend::reserve(Buffer &buffer, size_t bytes, const char *what, rt::Status &error) const {
  if (bytes <= buffer.bytes)
    return true;
  if (int64_t(bytes) > memoryLimit)
    return error.fail(LMC_STATUS_OUT_OF_MEMORY, std::string(what) + " needs " +
                                                    std::to_string(bytes) +
                                                    " bytes, more than the memory limit of " +
                                                    std::to_string(memoryLimit));
  // Work queued on either stream may still use the old buffer.
  if (buffer.pointer) {
    if (!driver->check(driver->cuStreamSynchronize(stream), "cuStreamSynchronize", error) ||
        (sideStream && !driver->check(driver->cuStreamSynchronize(sideStream),
                                      "cuStreamSynchronize", error)))
      return false;
    driver->cuMemFree(buffer.pointer);
    buffer = {};
  }
  if (!driver->check(driver->cuMemAlloc(&buffer.pointer, std::max<size_t>(bytes, 1)),
                     std::string("allocating ") + what + " (" + std::to_string(bytes) + " bytes)",
                     error))
    return false;
  buffer.bytes = bytes;
  return true;
}

bool CudaBackend::upload(CUdeviceptr to, const void *from, size_t bytes, rt::Status &error) const {
  return bytes == 0 ||
         driver->check(driver->cuMemcpyHtoDAsync(to, from, bytes, stream), "cuMemcpyHtoD", error);
}

bool CudaBackend::launch(const rt::Kernel &kernel, size_t entry,
                         const std::vector<HostValue> &locals,
                         const std::vector<CUdeviceptr> &pointers, CUdeviceptr tiles, int tileCount,
                         CUdeviceptr rowScratch, rt::Status &error) const {
  const rt::Launch &spec = kernel.launches[entry];
  size_t kernelIndex = size_t(&kernel - plan.kernels.data());
  // Argument storage: every parameter is a pointer or an int64 (int32 for
  // the tile count), kept alive until cuLaunchKernel returns.
  std::vector<CUdeviceptr> addressArgs;
  std::vector<int64_t> integerArgs;
  addressArgs.reserve(spec.args.size());
  integerArgs.reserve(spec.args.size());
  int32_t count = tileCount;
  std::vector<void *> params;
  for (const rt::LaunchArg &arg : spec.args) {
    switch (arg.kind) {
    case rt::LaunchArgKind::Pointer:
      addressArgs.push_back(pointers[size_t(arg.value)]);
      params.push_back(&addressArgs.back());
      break;
    case rt::LaunchArgKind::Extent:
      integerArgs.push_back(locals[size_t(arg.value)].shape[size_t(arg.axis)]);
      params.push_back(&integerArgs.back());
      break;
    case rt::LaunchArgKind::Table:
      addressArgs.push_back(tables[size_t(arg.value)].pointer);
      params.push_back(&addressArgs.back());
      break;
    case rt::LaunchArgKind::TableSize:
      integerArgs.push_back(tableSizes[size_t(arg.value)]);
      params.push_back(&integerArgs.back());
      break;
    case rt::LaunchArgKind::Tiles:
      addressArgs.push_back(tiles);
      params.push_back(&addressArgs.back());
      break;
    case rt::LaunchArgKind::TileCount: params.push_back(&count); break;
    case rt::LaunchArgKind::RowScratch:
      addressArgs.push_back(rowScratch);
      params.push_back(&addressArgs.back());
      break;
    }
  }
  unsigned gridX = 1, gridY = 1;
  const HostValue &sized = locals[size_t(spec.value)];
  if (spec.pattern == rt::LaunchPattern::AttentionTiles) {
    const std::vector<int64_t> &q = sized.shape;
    gridX = unsigned(tileCount);
    gridY = unsigned(q.size() >= 2 ? q[q.size() - 2] : 1);
  } else {
    int64_t work = sized.numElements();
    if (spec.pattern == rt::LaunchPattern::Rows)
      work = sized.shape.empty() || sized.shape.back() == 0 ? 0 : work / sized.shape.back();
    gridX = unsigned(std::min(kMaxBlocks, (work + spec.perBlock - 1) / spec.perBlock));
  }
  if (gridX == 0 || gridY == 0)
    return true;
  // Below sm_80 an attention kernel is its plain form, which needs none.
  unsigned shared =
      kernel.kind == rt::KernelKind::Attention && arch < 80 ? 0 : unsigned(spec.sharedBytes);
  return driver->check(driver->cuLaunchKernel(functions[kernelIndex][entry], gridX, gridY, 1,
                                              unsigned(spec.threads), 1, 1, shared, stream,
                                              params.data(), nullptr),
                       "kernel '" + kernel.name + "' entry '" + spec.entry + "'", error);
}

bool CudaBackend::planStep(const rt::Step &step, std::vector<HostValue> &shapes, StepFrame &frame,
                           rt::Status &error) const {
  const rt::Kernel &kernel = plan.kernels[size_t(step.kernel)];
  for (int operand : step.operands)
    frame.locals.push_back(shapes[size_t(operand)]);
  if (kernel.kind == rt::KernelKind::Collective
          ? !collectives->plan(kernel, frame.locals, frame.collective, error)
          : !inferKernelShapes(kernel, frame.locals, error))
    return false;
  for (size_t y = 0; y < kernel.yields.size(); ++y) {
    int result = step.results[y];
    const HostValue &value = frame.locals[size_t(kernel.yields[y])];
    int64_t bytes = bytesOf(value, plan.values[size_t(result)].type.dtype);
    if (bytes > plannedBytes[size_t(result)])
      return error.fail("kernel '" + kernel.name + "' yields " + std::to_string(bytes) +
                        " bytes where the memory plan has " +
                        std::to_string(plannedBytes[size_t(result)]) +
                        ": the batch exceeds the package's budget (--max-batch, --max-sequence, "
                        "--max-tokens)");
    shapes[size_t(result)] = value;
  }
  // Row scratch: an optimizer's chain of duplicate ids (an int per id), an
  // attention's f32 per (row, head).
  if (kernel.kind == rt::KernelKind::Optimizer) {
    const HostValue &ids = frame.locals[size_t(kernel.body[0].operands[3])];
    frame.rowScratchBytes = deviceAligned(size_t(ids.numElements()) * sizeof(int32_t));
    return true;
  }
  if (kernel.kind != rt::KernelKind::Attention)
    return true;
  const HostValue &q = frame.locals[size_t(kernel.body[0].operands[0])];
  frame.rowScratchBytes = deviceAligned(
      size_t(q.numElements() / std::max<int64_t>(q.shape.back(), 1)) * sizeof(float));
  return attentionTiles(kernel, frame.locals, frame.tiles, error);
}

bool CudaBackend::launchStep(const rt::Step &step, const StepFrame &frame,
                             std::vector<CUdeviceptr> &addresses, CUdeviceptr tiles,
                             rt::Status &error) const {
  const rt::Kernel &kernel = plan.kernels[size_t(step.kernel)];
  std::vector<CUdeviceptr> pointers(frame.locals.size(), 0);
  for (size_t a = 0; a < step.operands.size(); ++a)
    pointers[a] = addresses[size_t(step.operands[a])];
  // A result computed in place lives in its parameter's device copy.
  size_t inPlace = 0;
  for (size_t y = 0; y < kernel.yields.size(); ++y) {
    int p = step.inPlaceAt(y);
    inPlace += p >= 0;
    pointers[size_t(kernel.yields[y])] = addresses[size_t(step.results[y])] =
        p >= 0 ? parameterCopies[size_t(p)].pointer
               : arena.pointer + CUdeviceptr(plan.values[size_t(step.results[y])].offset);
  }
  if (kernel.kind == rt::KernelKind::Gemm)
    return gemm->run(kernel, frame.locals, pointers, stream, error);
  if (movesNothing(kernel, pointers))
    return true;
  // Scratch (reserved for the largest step before any launch): the kernel's
  // row scratch (attention and optimizer kernels), then every value an entry
  // point writes that is not a result.
  size_t offset = frame.rowScratchBytes;
  for (const rt::Launch &spec : kernel.launches)
    if (!pointers[size_t(spec.value)]) {
      pointers[size_t(spec.value)] = scratch.pointer + offset;
      offset += scratchBytesOf(kernel, frame, spec.value);
    }
  // An optimizer kernel's first entry copies the state into its results:
  // nothing to do when all of them are computed in place.
  size_t first = kernel.kind == rt::KernelKind::Optimizer && inPlace == kernel.yields.size();
  for (size_t entry = first; entry < kernel.launches.size(); ++entry)
    if (!launch(kernel, entry, frame.locals, pointers, tiles, int(frame.tiles.size()),
                scratch.pointer, error))
      return false;
  return true;
}

size_t CudaBackend::scratchBytesOf(const rt::Kernel &kernel, const StepFrame &frame, int value) {
  return deviceAligned(size_t(bytesOf(frame.locals[size_t(value)],
                                rt::localType(kernel, size_t(value)).dtype)));
}

size_t CudaBackend::scratchBytes(const rt::Step &step, const StepFrame &frame) const {
  const rt::Kernel &kernel = plan.kernels[size_t(step.kernel)];
  if (kernel.kind == rt::KernelKind::Collective)
    return 0; // its staging is its own
  size_t bytes = frame.rowScratchBytes;
  std::vector<bool> placed(frame.locals.size(), false);
  for (size_t a = 0; a < step.operands.size(); ++a)
    placed[a] = true;
  for (int yield : kernel.yields)
    placed[size_t(yield)] = true;
  for (const rt::Launch &spec : kernel.launches)
    if (!placed[size_t(spec.value)]) {
      placed[size_t(spec.value)] = true;
      bytes += scratchBytesOf(kernel, frame, spec.value);
    }
  return bytes;
}

bool CudaBackend::run(const std::vector<cpu::Tensor> &inputs,
                      const std::vector<cpu::Tensor> &parameters, std::vector<cpu::Tensor> &outputs,
                      rt::Status &error) const {
  std::lock_guard<std::mutex> lock(runMutex);
  if (inputs.size() != plan.inputs.size() || parameters.size() != plan.parameters.size())
    return error.fail("the plan takes " + std::to_string(plan.inputs.size()) + " inputs and " +
                      std::to_string(plan.parameters.size()) + " parameters");
  if (!driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent", error))
    return false;
  // Parameters: copied once, and again when the host tensors change.
  parameterCopies.resize(parameters.size());
  parameterSources.resize(parameters.size(), nullptr);
  deviceNewer.resize(parameters.size(), false);
  for (size_t p = 0; p < parameters.size(); ++p) {
    if (parameterSources[p] == parameters[p].data)
      continue;
    deviceNewer[p] = false;
    if (!reserve(parameterCopies[p], parameters[p].numBytes(), "a parameter", error) ||
        !upload(parameterCopies[p].pointer, parameters[p].data, parameters[p].numBytes(), error))
      return false;
    parameterSources[p] = parameters[p].data;
  }

  // On the host first: every value's shape, the attention tile lists and
  // the scratch the largest step needs -- so the inputs and tiles go over in
  // one copy and nothing below waits for the device until the outputs.
  std::vector<HostValue> shapes(plan.values.size());
  std::vector<CUdeviceptr> addresses(plan.values.size(), 0);
  std::vector<size_t> inputAt(plan.values.size(), 0);
  std::string staging;
  for (size_t v = 0; v < plan.values.size(); ++v) {
    const rt::Value &value = plan.values[v];
    HostValue &shape = shapes[v];
    if (value.kind == rt::ValueKind::Input) {
      const cpu::Tensor &input = inputs[size_t(value.index)];
      if (input.dtype != value.type.dtype || input.shape.size() != value.type.shape.size())
        return error.fail("input '" + plan.inputs[size_t(value.index)].feature + "' is " +
                          cpu::describe(input) + "; the model takes another type");
      shape.shape = input.shape;
      if (!rt::isFloat(input.dtype)) { // lengths and ids: the host keeps them for shapes
        shape.known = true;
        for (int64_t i = 0; i < input.numElements(); ++i)
          shape.data.push_back(integerElement(input, i));
      }
      inputAt[v] = staging.size();
      staging.append(static_cast<const char *>(input.data), input.numBytes());
      staging.resize(deviceAligned(staging.size()));
    } else if (value.kind == rt::ValueKind::Parameter) {
      shape.shape = parameters[size_t(value.index)].shape;
      addresses[v] = parameterCopies[size_t(value.index)].pointer;
    } else if (value.kind == rt::ValueKind::Constant) {
      shape.shape = plan.constants[size_t(value.index)].type.shape;
      addresses[v] = constants[size_t(value.index)].pointer;
    }
  }
  std::vector<StepFrame> frames(plan.steps.size());
  std::vector<size_t> tilesAt(plan.steps.size(), 0);
  size_t scratchNeeded = 0, stagingNeeded = 0;
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    if (!planStep(plan.steps[s], shapes, frames[s], error))
      return false;
    frames[s].stagingAt = stagingNeeded;
    stagingNeeded += frames[s].collective.stagingBytes;
    tilesAt[s] = staging.size();
    staging.append(reinterpret_cast<const char *>(frames[s].tiles.data()),
                   frames[s].tiles.size() * sizeof(Tile));
    staging.resize(deviceAligned(staging.size()));
    scratchNeeded = std::max(scratchNeeded, scratchBytes(plan.steps[s], frames[s]));
  }
  if (!reserve(inputBuffer, staging.size(), "the inputs", error) ||
      !reserve(scratch, scratchNeeded, "kernel scratch", error) ||
      !reserve(collectiveStaging, stagingNeeded, "the collectives' staging", error) ||
      !upload(inputBuffer.pointer, staging.data(), staging.size(), error))
    return false;
  for (size_t v = 0; v < plan.values.size(); ++v)
    if (plan.values[v].kind == rt::ValueKind::Input)
      addresses[v] = inputBuffer.pointer + inputAt[v];

  std::vector<InFlight> inFlight;
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const rt::Step &step = plan.steps[s];
    bool ok = plan.kernels[size_t(step.kernel)].kind == rt::KernelKind::Collective
                  ? startCollective(s, frames[s], addresses, inFlight, error)
                  : awaitCollectives(&step, inFlight, error) &&
                        launchStep(step, frames[s], addresses, inputBuffer.pointer + tilesAt[s],
                                   error);
    if (!ok)
      return false;
  }
  if (!awaitCollectives(nullptr, inFlight, error))
    return false;
  outputs.clear();
  for (const rt::Output &output : plan.outputs) {
    if (int p = output.updates; p >= 0) {
      // A training step's new parameter: over the device copy, after every
      // kernel; the host tensor gets it when asked (pullParameters).
      if (!output.inPlace &&
          !driver->check(driver->cuMemcpyDtoDAsync(parameterCopies[size_t(p)].pointer,
                                                   addresses[size_t(output.value)],
                                                   parameters[size_t(p)].numBytes(), stream),
                         "updating parameter '" + output.name + "'", error))
        return false;
      deviceNewer[size_t(p)] = true;
      outputs.emplace_back();
      continue;
    }
    const HostValue &shape = shapes[size_t(output.value)];
    cpu::Tensor host =
        cpu::Tensor::uninitialized(plan.values[size_t(output.value)].type.dtype, shape.shape);
    if (!host.data && host.numBytes())
      return error.fail(LMC_STATUS_OUT_OF_MEMORY,
                        "out of host memory for output '" + output.name + "'");
    if (host.numBytes() &&
        !driver->check(driver->cuMemcpyDtoHAsync(host.data, addresses[size_t(output.value)],
                                                 host.numBytes(), stream),
                       "copying output '" + output.name + "'", error))
      return false;
    outputs.push_back(std::move(host));
  }
  return driver->check(driver->cuStreamSynchronize(stream), "running the plan", error);
}

} // namespace lmc::cuda
