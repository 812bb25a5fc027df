/* lmc/status.h - how every lmc runtime call reports failure.
 *
 * A call that can fail returns an lmc_status_t. NULL means success; anything
 * else is a heap object describing the failure, owned by the caller, who must
 * release it with lmc_status_release (or return it to its own caller). */

#ifndef LMC_STATUS_H
#define LMC_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lmc_status_code_e {
  LMC_STATUS_OK = 0,
  LMC_STATUS_INVALID_ARGUMENT = 1, /* the caller passed a bad value */
  LMC_STATUS_NOT_FOUND = 2,        /* a named file, tensor or symbol is absent */
  LMC_STATUS_OUT_OF_MEMORY = 3,    /* host or device allocation failed */
  LMC_STATUS_UNAVAILABLE = 4,      /* a device or library is not present */
  LMC_STATUS_INTERNAL = 5,         /* a broken invariant inside lmc */
} lmc_status_code_t;

typedef struct lmc_status *lmc_status_t;

/* Creates a failure with a printf-style message. `code` must not be
 * LMC_STATUS_OK (it, and a value that names no code, is reported as
 * LMC_STATUS_INTERNAL). Returns a status the
 * caller owns; if even that allocation
 * fails, returns a static out-of-memory status that is safe to release. */
lmc_status_t lmc_status_create(lmc_status_code_t code, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The code of `status`; LMC_STATUS_OK for NULL. */
lmc_status_code_t lmc_status_code(lmc_status_t status);

/* The message of `status`, "" for NULL. Owned by `status`: valid until it is
 * released. */
const char *lmc_status_message(lmc_status_t status);

/* The name of a code, such as "INVALID_ARGUMENT". Static storage. */
const char *lmc_status_code_name(lmc_status_code_t code);

/* Releases `status`; NULL is accepted and ignored. */
void lmc_status_release(lmc_status_t status);

/* Returns the status of `expr` from the enclosing function when it failed. */
#define LMC_RETURN_IF_ERROR(expr)                                              \
  do {                                                                         \
    lmc_status_t lmc_status_ = (expr);                                         \
    if (lmc_status_)                                                           \
      return lmc_status_;                                                      \
  } while (0)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LMC_STATUS_H */
