// EmulatedNccl.h - NCCL for emulated devices: the collectives of processes
// whose "device" memory is host memory (EmulatedDevice.h), carried over a
// Communicator (MPI under mpirun), so the CUDA backend's NCCL calls are
// tested without GPUs.
//
// It checks what NCCL would: the communicator's rank count and rank, that
// every rank was given the unique id rank 0 made, the data types and the
// reduction; like NCCL it queues the exchange on the stream, where it runs
// when the emulated stream's work does (EmulatedStreams.h). What it cannot
// tell: NCCL's transport and its timing.

#ifndef LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDNCCL_H
#define LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDNCCL_H

#include "collectives/Communicator.h"
#include "cuda/Nccl.h"

namespace lmc::testing {

/// The emulated NCCL, carried over `ranks` from now on.
const cuda::Nccl *emulatedNccl(rt::Communicator &ranks);

} // namespace lmc::testing

#endif // LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDNCCL_H
