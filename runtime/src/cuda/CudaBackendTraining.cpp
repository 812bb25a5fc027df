// CudaBackendTraining.cpp - the CUDA backend's side of training: joining
// the ranks over NCCL, running a step's collectives on the side stream with
// the waits their data needs, and handing updated parameters back to the
// host.

#include "cuda/CudaBackend.h"

namespace lmc::cuda {

bool CudaBackend::joinRanks(rt::Communicator *ranks, const Nccl *nccl, int count,
                            rt::Status &error) {
  int64_t compiledFor = plan.training ? plan.training->ranks : 0;
  if (!ranks || ranks->size() != compiledFor)
    return error.fail("the package trains over " + std::to_string(compiledFor) +
                      " ranks, a GPU each; this process runs " +
                      std::to_string(ranks ? ranks->size() : 1) + " (launch it with mpirun -np " +
                      std::to_string(compiledFor) + " lmc train, on hosts with " +
                      std::to_string(count) + " GPU(s) each)");
  if (!nccl && !(nccl = Nccl::get(error)))
    return false;
  if (!(collectives = DeviceCollectives::create(*driver, *nccl, *ranks, error)) ||
      !driver->check(driver->cuStreamCreate(&sideStream, CU_STREAM_NON_BLOCKING),
                     "cuStreamCreate", error))
    return false;
  inputsReady.assign(plan.steps.size(), nullptr);
  collectiveDone.assign(plan.steps.size(), nullptr);
  for (size_t s = 0; s < plan.steps.size(); ++s)
    if (plan.kernels[size_t(plan.steps[s].kernel)].kind == rt::KernelKind::Collective)
      for (CUevent *event : {&inputsReady[s], &collectiveDone[s]})
        if (!driver->check(driver->cuEventCreate(event, CU_EVENT_DISABLE_TIMING),
                           "cuEventCreate", error))
          return false;
  return true;
}

bool CudaBackend::pullParameters(const std::vector<cpu::Tensor> &parameters,
                                 rt::Status &error) const {
  std::lock_guard<std::mutex> lock(runMutex);
  if (!driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent", error))
    return false;
  for (size_t p = 0; p < deviceNewer.size() && p < parameters.size(); ++p)
    if (deviceNewer[p] &&
        !driver->check(driver->cuMemcpyDtoHAsync(parameters[p].data,
                                                 parameterCopies[p].pointer,
                                                 parameters[p].numBytes(), stream),
                       "copying back parameter '" + plan.parameters[p].name + "'", error))
      return false;
  if (!driver->check(driver->cuStreamSynchronize(stream), "copying back parameters", error))
    return false;
  deviceNewer.assign(deviceNewer.size(), false);
  return true;
}

bool CudaBackend::startCollective(size_t s, const StepFrame &frame,
                                  std::vector<CUdeviceptr> &addresses,
                                  std::vector<InFlight> &inFlight, rt::Status &error) const {
  const rt::Step &step = plan.steps[s];
  const rt::Kernel &kernel = plan.kernels[size_t(step.kernel)];
  std::vector<CUdeviceptr> pointers(frame.locals.size(), 0);
  for (size_t a = 0; a < step.operands.size(); ++a)
    pointers[a] = addresses[size_t(step.operands[a])];
  int result = step.results[0];
  pointers[size_t(kernel.yields[0])] = addresses[size_t(result)] =
      arena.pointer + CUdeviceptr(plan.values[size_t(result)].offset);
  std::string what = "collective '" + kernel.name + "'";
  if (!driver->check(driver->cuEventRecord(inputsReady[s], stream), what, error) ||
      !driver->check(driver->cuStreamWaitEvent(sideStream, inputsReady[s], 0), what, error) ||
      !collectives->run(kernel, frame.locals, frame.collective, pointers,
                        collectiveStaging.pointer + frame.stagingAt, sideStream, error) ||
      !driver->check(driver->cuEventRecord(collectiveDone[s], sideStream), what, error))
    return false;
  inFlight.push_back({s, spansOf(step.operands), spansOf(step.results)});
  return true;
}

bool CudaBackend::awaitCollectives(const rt::Step *step, std::vector<InFlight> &inFlight,
                                   rt::Status &error) const {
  std::vector<Span> reads, writes;
  if (step) {
    reads = spansOf(step->operands);
    writes = spansOf(step->results);
    for (int p : step->inPlace) // an update written over its parameter
      if (p >= 0)
        writes.push_back({p, 0, int64_t(parameterCopies[size_t(p)].bytes)});
  }
  auto overlap = [](const std::vector<Span> &some, const std::vector<Span> &others) {
    for (const Span &a : some)
      for (const Span &b : others)
        if (a.space == b.space && a.begin < b.end && b.begin < a.end)
          return true;
    return false;
  };
  for (size_t i = 0; i < inFlight.size();) {
    const InFlight &collective = inFlight[i];
    bool waits = !step || overlap(reads, collective.writes) ||
                 overlap(writes, collective.reads) || overlap(writes, collective.writes);
    if (!waits) {
      ++i;
      continue;
    }
    if (!driver->check(driver->cuStreamWaitEvent(stream, collectiveDone[collective.step], 0),
                       "waiting for a collective", error))
      return false;
    inFlight.erase(inFlight.begin() + std::ptrdiff_t(i));
  }
  return true;
}

std::vector<CudaBackend::Span> CudaBackend::spansOf(const std::vector<int> &values) const {
  std::vector<Span> spans;
  for (int v : values) {
    const rt::Value &value = plan.values[size_t(v)];
    if (value.kind == rt::ValueKind::Arena)
      spans.push_back({-1, value.offset, value.offset + plannedBytes[size_t(v)]});
    else if (value.kind == rt::ValueKind::Parameter)
      spans.push_back({value.index, 0, int64_t(parameterCopies[size_t(value.index)].bytes)});
  }
  return spans;
}

} // namespace lmc::cuda
