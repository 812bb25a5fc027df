// Status.h - how the runtime's session layer reports a failure: the C API's
// code with the message.
//
// Model's calls take a Status out-parameter where other runtime functions
// take a string: the code says what kind of failure it is (a file that does
// not exist, more memory than the limit allows, a bad input), so the C API
// returns it as it is instead of guessing from the message.

#ifndef LMC_RUNTIME_SESSION_STATUS_H
#define LMC_RUNTIME_SESSION_STATUS_H

#include "lmc/status.h"

#include <ostream>
#include <string>

namespace lmc::rt {

class Status {
public:
  bool ok() const { return statusCode == LMC_STATUS_OK; }
  lmc_status_code_t code() const { return statusCode; }
  const std::string &message() const { return text; }

  /// Records a failure; returns false, so `return status.fail(...)` ends a
  /// call that reports success as a bool.
  bool fail(lmc_status_code_t code, std::string message) {
    statusCode = code == LMC_STATUS_OK ? LMC_STATUS_INTERNAL : code;
    text = std::move(message);
    return false;
  }
  /// An input the caller gave that lmc cannot use.
  bool fail(std::string message) { return fail(LMC_STATUS_INVALID_ARGUMENT, std::move(message)); }
  /// Puts `context` ("model.lmcpkg") in front of the message.
  void addContext(const std::string &context) { text = context + ": " + text; }

private:
  lmc_status_code_t statusCode = LMC_STATUS_OK;
  std::string text;
};

inline std::ostream &operator<<(std::ostream &out, const Status &status) {
  return out << status.message();
}

} // namespace lmc::rt

#endif // LMC_RUNTIME_SESSION_STATUS_H
