// HalfFloat.h - converting f16 and bf16 storage to and from f32.
//
// The CPU backend stores f16/bf16 tensors as 16-bit values (as the GPU does)
// and computes in f32; these loops are the load and store of every op that
// reads or writes such a tensor. f16 uses the F16C instructions when the CPU
// has them, a bit-exact software path otherwise. Both round to nearest even.

#ifndef LMC_RUNTIME_CPU_HALFFLOAT_H
#define LMC_RUNTIME_CPU_HALFFLOAT_H

#include <cstddef>
#include <cstdint>

namespace lmc::cpu {

void halfToFloat(const uint16_t *in, float *out, size_t count);
void floatToHalf(const float *in, uint16_t *out, size_t count);
void bfloatToFloat(const uint16_t *in, float *out, size_t count);
void floatToBfloat(const float *in, uint16_t *out, size_t count);

float halfToFloat(uint16_t value);
uint16_t floatToHalf(float value);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_HALFFLOAT_H
