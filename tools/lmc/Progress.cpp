//===- Progress.cpp - a progress line on stderr for long runs -------------===//

#include "tools/lmc/Progress.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

namespace lmc::tools {

Progress::Progress(std::string command, bool forced)
    : command(std::move(command)), enabled(forced || ::isatty(STDERR_FILENO)),
      start(std::chrono::steady_clock::now()), last(start) {}

void Progress::update(uint64_t examples, int64_t tokens, uint64_t done, uint64_t total) {
  if (!enabled)
    return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start).count();
  if (elapsed < 2 || std::chrono::duration<double>(now - last).count() < 0.5)
    return;
  last = now;
  llvm::errs() << "\r" << command << ": "
               << llvm::format("%llu examples, %.0f examples/s, %.0f tokens/s",
                               (unsigned long long)examples, double(examples) / elapsed,
                               double(tokens) / elapsed);
  if (total > 0 && done > 0 && done <= total)
    llvm::errs() << llvm::format(", %.0f%%, %.0f s left", 100.0 * double(done) / double(total),
                                 elapsed * double(total - done) / double(done));
  llvm::errs() << "   ";
  shown = true;
}

void Progress::finish() {
  if (shown)
    llvm::errs() << "\n";
  shown = false;
}

} // namespace lmc::tools
