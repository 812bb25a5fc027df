// EmulatedDevice.h - a CUDA driver and cuBLASLt that run on the host, so the
// CUDA backend and the kernels lmc emits are tested without a GPU.
//
// "Device" memory is host memory, filled with 0xff bytes when allocated (a
// NaN in every float type) so an element no kernel writes shows up. A
// module is a kernel's CUDA C compiled as C++ with cuda_shim.h forced in
// front (the host compiler lmc was built with, -O1, into a shared library);
// a launch runs every block of the grid, each CUDA thread a fiber, warp
// shuffles meeting the warp's other lanes. It reports compute capability
// 7.5, so attention runs its plain form: the tensor-core form is inline PTX
// and is checked on a GPU (test/gpu/check.sh). cuBLASLt's matmul is a loop
// in f32 with the layouts, transposes and bias epilogue the backend asks
// for.

#ifndef LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDDEVICE_H
#define LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDDEVICE_H

#include "cuda/Driver.h"

namespace lmc::testing {

/// The emulated driver (one per process).
const cuda::Driver *emulatedDriver();

/// How many modules the emulator compiled, and kernels it launched.
struct EmulatorCounts {
  int modules = 0, launches = 0;
};
EmulatorCounts emulatorCounts();

} // namespace lmc::testing

#endif // LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDDEVICE_H
