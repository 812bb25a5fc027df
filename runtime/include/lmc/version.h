/* lmc/version.h - the version of the lmc runtime a binary links. */

#ifndef LMC_VERSION_H
#define LMC_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define LMC_VERSION_MAJOR 0
#define LMC_VERSION_MINOR 1
#define LMC_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the linked runtime, in static storage. Compare it
 * with the LMC_VERSION_* macros to detect a header/library mismatch. */
const char *lmc_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LMC_VERSION_H */
