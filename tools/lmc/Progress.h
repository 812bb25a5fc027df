//===- Progress.h - a progress line on stderr for long runs ---------------===//
//
// `lmc run` reports examples/s, tokens/s and, when the input's size is
// known, how far it is and the time left, on one line of stderr rewritten in
// place: once a run has taken two seconds, at most twice a second, and only
// when stderr is a terminal unless asked for.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_TOOLS_LMC_PROGRESS_H
#define LMC_TOOLS_LMC_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace lmc::tools {

class Progress {
public:
  /// `forced`: report even when stderr is not a terminal.
  Progress(std::string command, bool forced);
  /// `done` of `total` input bytes (total 0: unknown).
  void update(uint64_t examples, int64_t tokens, uint64_t done, uint64_t total);
  /// Ends the line before the summary, if one was shown.
  void finish();

private:
  std::string command;
  bool enabled;
  bool shown = false;
  std::chrono::steady_clock::time_point start, last;
};

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_PROGRESS_H
