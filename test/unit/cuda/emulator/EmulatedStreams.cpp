// EmulatedStreams.cpp - queues per stream, run as late as CUDA allows, or
// eagerly up to a wait (see EmulatedStreams.h).

#include "EmulatedStreams.h"

#include <deque>
#include <set>

namespace lmc::testing::streams {
namespace {

struct Stream;

/// Where an event was last recorded: after `ticket` items of `stream`.
struct Event {
  Stream *stream = nullptr;
  uint64_t ticket = 0;
};

struct Item {
  std::function<CUresult()> work;
  Event waitsFor; // a wait for an event: its stream is set
};

struct Stream {
  std::deque<Item> queue;
  /// Work items queued and run so far, in order.
  uint64_t queued = 0, ran = 0;
  CUresult failure = CUDA_SUCCESS;
  bool eager = false;
};

Schedule schedule = Schedule::Lazy;

std::set<Stream *> &live() {
  static std::set<Stream *> streams;
  return streams;
}

bool done(const Event &event) {
  return !event.stream || !live().count(event.stream) || event.stream->ran >= event.ticket;
}

void runUntil(Stream &stream, uint64_t ticket);

/// Runs the front item of `stream`; a wait first runs what it waits for.
void runFront(Stream &stream) {
  Item item = std::move(stream.queue.front());
  stream.queue.pop_front();
  ++stream.ran;
  if (!done(item.waitsFor))
    runUntil(*item.waitsFor.stream, item.waitsFor.ticket);
  CUresult result = item.work ? item.work() : CUDA_SUCCESS;
  if (stream.failure == CUDA_SUCCESS)
    stream.failure = result;
}

/// Runs `stream`'s work until `ticket` items have run.
void runUntil(Stream &stream, uint64_t ticket) {
  while (stream.ran < ticket && !stream.queue.empty())
    runFront(stream);
}

/// An eager stream runs its work up to the first wait for work not done.
void advance(Stream &stream) {
  while (stream.eager && !stream.queue.empty() && done(stream.queue.front().waitsFor))
    runFront(stream);
}

CUresult push(CUstream handle, Item item) {
  Stream &stream = *reinterpret_cast<Stream *>(handle);
  stream.queue.push_back(std::move(item));
  ++stream.queued;
  advance(stream);
  return CUDA_SUCCESS;
}

} // namespace

void setSchedule(Schedule chosen) { schedule = chosen; }

CUresult enqueue(CUstream handle, std::function<CUresult()> work) {
  if (!handle)
    return work();
  return push(handle, {std::move(work), {}});
}

void drainAll() {
  for (Stream *stream : live())
    runUntil(*stream, stream->queued);
}

CUresult CUDAAPI create(CUstream *handle, unsigned) {
  auto *stream = new Stream;
  stream->eager = schedule == Schedule::LaterStreamsEager && !live().empty();
  live().insert(stream);
  *handle = reinterpret_cast<CUstream>(stream);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI destroy(CUstream handle) {
  Stream *stream = reinterpret_cast<Stream *>(handle);
  runUntil(*stream, stream->queued);
  live().erase(stream);
  delete stream;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI synchronize(CUstream handle) {
  if (!handle)
    return CUDA_SUCCESS;
  Stream &stream = *reinterpret_cast<Stream *>(handle);
  runUntil(stream, stream.queued);
  CUresult failure = stream.failure;
  stream.failure = CUDA_SUCCESS;
  return failure;
}

CUresult CUDAAPI createEvent(CUevent *event, unsigned) {
  *event = reinterpret_cast<CUevent>(new Event);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI destroyEvent(CUevent event) {
  delete reinterpret_cast<Event *>(event);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI record(CUevent handle, CUstream stream) {
  Event &event = *reinterpret_cast<Event *>(handle);
  event = Event();
  if (stream) {
    event.stream = reinterpret_cast<Stream *>(stream);
    event.ticket = event.stream->queued;
  }
  return CUDA_SUCCESS;
}

CUresult CUDAAPI waitEvent(CUstream stream, CUevent handle, unsigned) {
  // What the event marks is fixed now, as in CUDA: a later record does
  // not move this wait.
  Event event = *reinterpret_cast<Event *>(handle);
  if (!stream) {
    if (!done(event))
      runUntil(*event.stream, event.ticket);
    return CUDA_SUCCESS;
  }
  return push(stream, {nullptr, event});
}

} // namespace lmc::testing::streams
