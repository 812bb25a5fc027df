// EmulatedDevice.h - a CUDA driver and cuBLASLt that run on the host, so the
// CUDA backend and the kernels lmc emits are tested without a GPU.
//
// "Device" memory is host memory, filled with 0xff bytes when allocated (a
// NaN in every float type) so an element no kernel writes shows up. A
// module is a kernel's CUDA C compiled as C++ with cuda_shim.h forced in
// front (the host compiler lmc was built with, -O1, into a shared library);
// a launch runs every block of the grid, each CUDA thread a fiber; warp
// collectives (shuffles, and the ldmatrix and mma.sync of the tensor-core
// attention, written out in cuda_shim.h from the PTX ISA's fragment
// layouts) meet the warp's other lanes, and __syncthreads the block's.
// Launches, copies and matmuls wait in their stream's queue until CUDA
// would have to have run them (EmulatedStreams.h). It reports
// kEmulatedDevices GPUs (all of them the host's memory, so ranks training
// on one host each take one) of compute capability 7.5 (attention in its
// plain form) or 8.0 (the tensor-core form; cp.async copies at once).
// cuBLASLt's matmul is a loop in f32 with the layouts, transposes and bias
// epilogue the backend asks for. What the emulator cannot tell: speed, the
// memory model within a kernel, and whether real PTX assembles (NVRTC and
// ptxas check that).

#ifndef LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDDEVICE_H
#define LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDDEVICE_H

#include "cuda/Driver.h"

namespace lmc::testing {

/// The emulated driver (one per process), reporting compute capability
/// `arch` / 10 (75 or 80) from now on.
const cuda::Driver *emulatedDriver(int arch = 75);

constexpr int kEmulatedDevices = 4;

/// How many modules the emulator compiled, and kernels it launched; the
/// GPU a backend last took (cuDeviceGet's ordinal).
struct EmulatorCounts {
  int modules = 0, launches = 0, device = -1;
};
EmulatorCounts emulatorCounts();

} // namespace lmc::testing

#endif // LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDDEVICE_H
