// version.cpp - the runtime's version string, built from lmc/version.h.

#include "lmc/version.h"

#define LMC_STRINGIFY_(x) #x
#define LMC_STRINGIFY(x) LMC_STRINGIFY_(x)

extern "C" const char *lmc_version(void) {
  return LMC_STRINGIFY(LMC_VERSION_MAJOR) "." LMC_STRINGIFY(
      LMC_VERSION_MINOR) "." LMC_STRINGIFY(LMC_VERSION_PATCH);
}
