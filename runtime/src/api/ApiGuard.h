// ApiGuard.h - the C API's boundary: no C++ exception crosses it.

#ifndef LMC_RUNTIME_API_APIGUARD_H
#define LMC_RUNTIME_API_APIGUARD_H

#include "lmc/status.h"

#include <exception>
#include <new>

namespace lmc::api {

/// Runs `body` (which returns a status) and turns an exception escaping it
/// into one: running out of memory is LMC_STATUS_OUT_OF_MEMORY, anything
/// else LMC_STATUS_INTERNAL with what the exception says. A C or C++ host
/// never sees an exception, and never terminates because of one.
template <typename Body>
lmc_status_t guarded(Body &&body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return lmc_status_create(LMC_STATUS_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception &exception) {
    return lmc_status_create(LMC_STATUS_INTERNAL, "internal error: %s", exception.what());
  } catch (...) {
    return lmc_status_create(LMC_STATUS_INTERNAL, "internal error: an unknown exception");
  }
}

} // namespace lmc::api

#endif // LMC_RUNTIME_API_APIGUARD_H
