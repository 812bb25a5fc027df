// CpuFeatures.cpp - the processor's vector instructions, read once.

#include "cpu/CpuFeatures.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lmc::cpu {
namespace {

Isa detected() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return Isa::Avx2;
#endif
  return Isa::Baseline;
}

Isa fromEnvironment(Isa best) {
  const char *cap = std::getenv("LMC_CPU_ISA");
  if (!cap || std::strcmp(cap, "avx512") == 0)
    return best;
  if (std::strcmp(cap, "baseline") == 0)
    return Isa::Baseline;
  if (std::strcmp(cap, "avx2") == 0)
    return std::min(best, Isa::Avx2);
  // Read once per process, before any run: a warning, not a failed run.
  std::fprintf(stderr, "lmc: LMC_CPU_ISA=%s is not avx512, avx2 or baseline; using %s\n", cap,
               isaName(best));
  return best;
}

std::atomic<Isa> &cap() {
  static std::atomic<Isa> value{fromEnvironment(detected())};
  return value;
}

} // namespace

Isa cpuIsa() { return cap().load(std::memory_order_relaxed); }

const char *isaName(Isa isa) {
  switch (isa) {
  case Isa::Avx512:
    return "AVX-512";
  case Isa::Avx2:
    return "AVX2";
  case Isa::Baseline:
    return "baseline";
  }
  return "baseline";
}

IsaCap::IsaCap(Isa isa) : previous(cpuIsa()) { cap().store(std::min(previous, isa)); }

IsaCap::~IsaCap() { cap().store(previous); }

} // namespace lmc::cpu
