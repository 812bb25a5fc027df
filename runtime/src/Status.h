// Status.h - how the runtime reports a failure: the C API's code with the
// message.
//
// A runtime call that can fail returns false and fills its `Status &error`
// out-parameter. The code is set where the kind of failure is known (a file
// that does not exist, an allocation or memory limit, a missing driver), so
// the C API returns it as it is instead of guessing from the message; a
// caller that adds context keeps the code.

#ifndef LMC_RUNTIME_STATUS_H
#define LMC_RUNTIME_STATUS_H

#include "lmc/status.h"

#include <ostream>
#include <string>

namespace lmc::rt {

class Status {
public:
  bool ok() const { return statusCode == LMC_STATUS_OK; }
  lmc_status_code_t code() const { return statusCode; }
  const std::string &message() const { return text; }

  /// Records a failure; returns false, so `return error.fail(...)` ends a
  /// call that reports success as a bool.
  bool fail(lmc_status_code_t code, std::string message) {
    statusCode = code == LMC_STATUS_OK ? LMC_STATUS_INTERNAL : code;
    text = std::move(message);
    return false;
  }
  /// An input lmc cannot use: INVALID_ARGUMENT.
  bool fail(std::string message) { return fail(LMC_STATUS_INVALID_ARGUMENT, std::move(message)); }
  /// Puts `context` ("model.lmcpkg") in front of the message; returns false.
  bool addContext(const std::string &context) {
    text = context + ": " + text;
    return false;
  }

private:
  lmc_status_code_t statusCode = LMC_STATUS_OK;
  std::string text;
};

inline std::ostream &operator<<(std::ostream &out, const Status &status) {
  return out << status.message();
}

} // namespace lmc::rt

#endif // LMC_RUNTIME_STATUS_H
