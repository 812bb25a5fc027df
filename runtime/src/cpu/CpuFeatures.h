// CpuFeatures.h - which vector instructions the CPU kernels use.
//
// Kernels that pay for it are compiled several times (AVX-512, AVX2+FMA,
// the x86-64 baseline) and pick a copy at run time by the processor's
// features (attention's tiles, GELU). LMC_CPU_ISA=avx2 or =baseline caps
// the choice (to compare the copies, or to check the AVX2 copy on an AVX-512
// machine; =avx512 is no cap, another value warns on stderr and is
// ignored); tests cap it with IsaCap.

#ifndef LMC_RUNTIME_CPU_CPUFEATURES_H
#define LMC_RUNTIME_CPU_CPUFEATURES_H

namespace lmc::cpu {

enum class Isa { Baseline, Avx2, Avx512 };

/// The best copy this processor runs, capped by LMC_CPU_ISA and IsaCap.
Isa cpuIsa();

/// "AVX-512", "AVX2" or "baseline", for messages and benchmark tables.
const char *isaName(Isa isa);

/// Caps cpuIsa() at `isa` until destroyed (process-wide: for tests).
class IsaCap {
public:
  explicit IsaCap(Isa isa);
  ~IsaCap();
  IsaCap(const IsaCap &) = delete;
  IsaCap &operator=(const IsaCap &) = delete;

private:
  Isa previous;
};

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_CPUFEATURES_H
