// Nvrtc.cpp - NVRTC compilation and ptxas resource reports.

#include "cuda/Nvrtc.h"

#include "io/AtomicFile.h"

#include <nvrtc.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace lmc::cuda {
namespace {

std::string firstLines(const std::string &text, int count) {
  std::istringstream in(text);
  std::string line, out;
  for (int i = 0; i < count && std::getline(in, line); ++i)
    out += (i ? "\n" : "") + line;
  return out;
}

} // namespace

bool compileCuda(const std::string &source, const std::string &name, const std::string &arch,
                 CompiledKernel &out, rt::Status &error) {
  nvrtcProgram program;
  if (nvrtcCreateProgram(&program, source.c_str(), (name + ".cu").c_str(), 0, nullptr,
                         nullptr) != NVRTC_SUCCESS)
    return error.fail(LMC_STATUS_INTERNAL, "NVRTC cannot create a program for '" + name + "'");
  std::unique_ptr<nvrtcProgram, void (*)(nvrtcProgram *)> owner(
      &program, [](nvrtcProgram *p) { nvrtcDestroyProgram(p); });
  std::string archOption = "--gpu-architecture=" + arch;
  std::string include = "-I" LMC_CUDA_INCLUDE_DIR;
  const char *options[] = {archOption.c_str(), include.c_str(), "--std=c++17",
                           "-default-device"};
  nvrtcResult compiled = nvrtcCompileProgram(program, 4, options);
  size_t logSize = 0;
  nvrtcGetProgramLogSize(program, &logSize);
  out.log.assign(logSize, '\0');
  if (logSize)
    nvrtcGetProgramLog(program, out.log.data());
  while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n'))
    out.log.pop_back();
  if (compiled != NVRTC_SUCCESS)
    return error.fail(LMC_STATUS_INTERNAL, "NVRTC cannot compile '" + name + "' for " + arch +
                                               ": " + nvrtcGetErrorString(compiled) + "\n" +
                                               firstLines(out.log, 10));
  size_t size = 0;
  nvrtcGetPTXSize(program, &size);
  out.ptx.assign(size, '\0');
  nvrtcGetPTX(program, out.ptx.data());
  if (!out.ptx.empty() && out.ptx.back() == '\0')
    out.ptx.pop_back();
  out.cubin.clear();
  if (arch.rfind("sm_", 0) == 0 && nvrtcGetCUBINSize(program, &size) == NVRTC_SUCCESS &&
      size > 0) {
    out.cubin.assign(size, '\0');
    nvrtcGetCUBIN(program, out.cubin.data());
  }
  return true;
}

bool ptxasResources(const std::string &ptx, const std::string &arch, std::string &report,
                    rt::Status &error) {
  std::string path = "/tmp/lmc-ptxas-" + std::to_string(::getpid()) + ".ptx";
  if (!rt::writeFileAtomically(path, ptx, error))
    return false;
  std::string command = LMC_CUDA_BIN_DIR "/ptxas -v --gpu-name " + arch + " " + path +
                        " -o /dev/null 2>&1";
  FILE *pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    std::remove(path.c_str());
    return error.fail(LMC_STATUS_UNAVAILABLE, "cannot run ptxas");
  }
  std::string output;
  char buffer[4096];
  while (size_t read = std::fread(buffer, 1, sizeof buffer, pipe))
    output.append(buffer, read);
  int status = ::pclose(pipe);
  std::remove(path.c_str());
  if (status != 0)
    return error.fail("ptxas failed for " + arch + ":\n" + firstLines(output, 10));
  // ptxas -v: "Compiling entry function 'k' for 'sm_90'", then
  // "N bytes stack frame, S bytes spill stores, L bytes spill loads" and
  // "Used R registers, ...".
  std::regex entry(R"(Compiling entry function '([^']+)')");
  std::regex spills(R"((\d+) bytes spill stores, (\d+) bytes spill loads)");
  std::regex registers(R"(Used (\d+) registers)");
  std::istringstream in(output);
  std::string line, function, stores, loads;
  report.clear();
  std::smatch match;
  while (std::getline(in, line)) {
    if (std::regex_search(line, match, entry)) {
      function = match[1];
    } else if (std::regex_search(line, match, spills)) {
      stores = match[1];
      loads = match[2];
    } else if (std::regex_search(line, match, registers)) {
      report += function + ": " + std::string(match[1]) + " registers, " + stores +
                " spill stores, " + loads + " spill loads\n";
    }
  }
  return true;
}

} // namespace lmc::cuda
