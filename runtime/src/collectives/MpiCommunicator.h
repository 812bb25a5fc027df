// MpiCommunicator.h - collectives over MPI between CPU processes (Open MPI
// from Debian), for trainers launched by mpirun. Library lmc_runtime_mpi.

#ifndef LMC_RUNTIME_TRAIN_MPICOMMUNICATOR_H
#define LMC_RUNTIME_TRAIN_MPICOMMUNICATOR_H

#include "Status.h"
#include "collectives/Communicator.h"

namespace lmc::rt {

/// True when this process was started by mpirun (Open MPI's environment).
bool launchedByMpirun();

/// Initializes MPI (once per process; finalized at exit) and returns the
/// world communicator; null with `error` set when MPI fails to start.
std::unique_ptr<Communicator> mpiWorld(rt::Status &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_MPICOMMUNICATOR_H
