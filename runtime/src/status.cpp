// status.cpp - heap-allocated failure descriptions behind lmc_status_t.

#include "lmc/status.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

struct lmc_status {
  lmc_status_code_t code;
  std::string message;
};

namespace {
// Returned when a status cannot be allocated; lmc_status_release skips it.
lmc_status outOfMemoryStatus{LMC_STATUS_OUT_OF_MEMORY,
                             "out of memory while reporting an error"};
} // namespace

namespace {
/// `code` as the integer a caller may have put in it: loading an enum that
/// holds no enumerator's value is undefined, reading its bytes is not.
int valueOf(const lmc_status_code_t &code) {
  int value = 0;
  static_assert(sizeof(value) == sizeof(code), "an int-sized enum");
  std::memcpy(&value, &code, sizeof value);
  return value;
}
} // namespace

extern "C" lmc_status_t lmc_status_create(lmc_status_code_t given,
                                          const char *format, ...) {
  // OK and values that name no code are reported as INTERNAL.
  int value = valueOf(given);
  lmc_status_code_t code = value > LMC_STATUS_OK && value <= LMC_STATUS_INTERNAL
                               ? lmc_status_code_t(value)
                               : LMC_STATUS_INTERNAL;
  va_list args;
  va_start(args, format);
  va_list measure;
  va_copy(measure, args);
  int length = std::vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  auto *status = new (std::nothrow) lmc_status{code, {}};
  if (!status) {
    va_end(args);
    return &outOfMemoryStatus;
  }
  if (length > 0) {
    status->message.resize(size_t(length));
    std::vsnprintf(status->message.data(), size_t(length) + 1, format, args);
  }
  va_end(args);
  return status;
}

extern "C" lmc_status_code_t lmc_status_code(lmc_status_t status) {
  return status ? status->code : LMC_STATUS_OK;
}

extern "C" const char *lmc_status_message(lmc_status_t status) {
  return status ? status->message.c_str() : "";
}

extern "C" const char *lmc_status_code_name(lmc_status_code_t code) {
  switch (valueOf(code)) {
  case LMC_STATUS_OK:
    return "OK";
  case LMC_STATUS_INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case LMC_STATUS_NOT_FOUND:
    return "NOT_FOUND";
  case LMC_STATUS_OUT_OF_MEMORY:
    return "OUT_OF_MEMORY";
  case LMC_STATUS_UNAVAILABLE:
    return "UNAVAILABLE";
  case LMC_STATUS_INTERNAL:
    return "INTERNAL";
  }
  return "UNKNOWN";
}

extern "C" void lmc_status_release(lmc_status_t status) {
  if (status != &outOfMemoryStatus)
    delete status;
}
