// EmulatedStreams.h - the emulated device's streams and events.
//
// Work queued on a stream runs as late as CUDA allows, so that a missing
// synchronization shows up as a wrong value in a test: when the stream is
// synchronized, when work on another stream that waits for an event
// recorded on it must run, or before memory is freed. That exposes a
// stream reading what another has not written yet only in one direction
// (the first stream runs ahead of the second), so the schedule can also
// make every stream created while another one is live run eagerly, up to
// its first wait for work not done yet. Work on the null stream runs at
// once. A failure inside queued work is kept and returned by the stream's
// next synchronize, as CUDA's asynchronous errors are. The emulator is
// single-threaded: one test drives it at a time.

#ifndef LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDSTREAMS_H
#define LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDSTREAMS_H

#include <cuda.h>

#include <functional>

namespace lmc::testing::streams {

enum class Schedule { Lazy, LaterStreamsEager };
/// How streams created from now on run (Lazy until set).
void setSchedule(Schedule schedule);

/// Queues `work` on `stream`; the null stream runs it now.
CUresult enqueue(CUstream stream, std::function<CUresult()> work);
/// Runs everything queued on every stream.
void drainAll();

CUresult CUDAAPI create(CUstream *stream, unsigned flags);
CUresult CUDAAPI destroy(CUstream stream);
CUresult CUDAAPI synchronize(CUstream stream);
CUresult CUDAAPI createEvent(CUevent *event, unsigned flags);
CUresult CUDAAPI destroyEvent(CUevent event);
CUresult CUDAAPI record(CUevent event, CUstream stream);
CUresult CUDAAPI waitEvent(CUstream stream, CUevent event, unsigned flags);

} // namespace lmc::testing::streams

#endif // LMC_TEST_UNIT_CUDA_EMULATOR_EMULATEDSTREAMS_H
