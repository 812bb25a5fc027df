/* lmc/lmc.h - the lmc runtime's C API: load a compiled model (.lmcpkg),
 * give it weights, and run raw examples through it.
 *
 *   lmc_model_t *model;
 *   LMC_RETURN_IF_ERROR(lmc_model_load("model.lmcpkg", &model));
 *   LMC_RETURN_IF_ERROR(lmc_model_load_weights(model, "w.safetensors"));
 *   lmc_examples_t *examples;
 *   lmc_examples_create(&examples);
 *   lmc_examples_add_json(examples, "{\"country\": \"US\", \"history\": [\"a\", \"b\"]}");
 *   lmc_results_t *results;
 *   LMC_RETURN_IF_ERROR(lmc_model_run(model, examples, NULL, &results));
 *   const float *values; size_t count;
 *   lmc_results_get(results, 0, 0, &values, &count);
 *
 * Every handle is opaque and owned by whoever received it from a *_create or
 * *_load call; release it with the matching *_release. Every call that can
 * fail returns an lmc_status_t (lmc/status.h): NULL on success, else a status
 * the caller owns. No call keeps a pointer to caller memory after it returns.
 *
 * Threads: lmc_model_run may be called on one model from several threads at
 * once. Loading weights must not overlap runs of the same model. An
 * lmc_examples_t or lmc_results_t is used by one thread at a time. */
#ifndef LMC_LMC_H
#define LMC_LMC_H

#include "lmc/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmc_model lmc_model_t;
typedef struct lmc_examples lmc_examples_t;
typedef struct lmc_results lmc_results_t;

/* ---- Models ------------------------------------------------------------ */

/* Loads and verifies the artifact at `path`. On success *model is a new
 * model the caller owns (lmc_model_release); on failure *model is NULL and
 * the status says why (a corrupt, truncated or wrong-version file included). */
lmc_status_t lmc_model_load(const char *path, lmc_model_t **model);

/* Reads the model's parameters from a safetensors file, by name. Every
 * parameter must be present with its shape; float tensors are converted to
 * the model's float types. A missing, extra or mis-shaped tensor fails,
 * naming it, and leaves the model's previous weights in place. */
lmc_status_t lmc_model_load_weights(lmc_model_t *model, const char *path);

/* Generates the parameters from the initializers recorded in the artifact,
 * with `seed` (the values `lmc init-weights --seed` writes). */
lmc_status_t lmc_model_init_weights(lmc_model_t *model, uint64_t seed);

/* Bounds the host memory the model's parameters, one batch's activation
 * arena and its inputs may take together to `bytes` (> 0). Without it the bound is the
 * host's physical memory, and on the CPU no single tensor or arena may
 * exceed 16 GiB. lmc_model_init_weights, lmc_model_load_weights and
 * lmc_model_run refuse a model beyond it with LMC_STATUS_OUT_OF_MEMORY and
 * the sizes, before allocating: a damaged or oversized package cannot
 * exhaust the host. Call it before loading weights, not during runs. */
lmc_status_t lmc_model_set_memory_limit(lmc_model_t *model, int64_t bytes);

/* The CPU threads lmc_model_run computes with: its GEMMs and its own
 * parallel loops share one team of this many threads. 0 (the default)
 * takes OMP_NUM_THREADS, else every processor the process may run on.
 * Negative counts and counts above 1024 are INVALID_ARGUMENT. The GPU
 * backend ignores it. */
lmc_status_t lmc_model_set_threads(lmc_model_t *model, int threads);

/* Where lmc_model_run computes: "the CPU" (the default), or "the GPU
 * (NVIDIA H200, sm_90)" after lmc_model_use_cuda (lmc/lmc_cuda.h). The
 * string is owned by the model, valid until the next call. */
const char *lmc_model_device(const lmc_model_t *model);

/* The model's outputs. Names are owned by the model. */
size_t lmc_model_output_count(const lmc_model_t *model);
const char *lmc_model_output_name(const lmc_model_t *model, size_t output);

/* Releases `model`; NULL is ignored. */
void lmc_model_release(lmc_model_t *model);

/* ---- Examples ---------------------------------------------------------- */

/* Creates an empty example list the caller owns (lmc_examples_release). */
lmc_status_t lmc_examples_create(lmc_examples_t **examples);

/* Appends one example given as a JSON object of features: each a string, a
 * number, or a flat array of one kind. */
lmc_status_t lmc_examples_add_json(lmc_examples_t *examples, const char *json);

/* Appends an empty example; the setters below fill the last one. */
lmc_status_t lmc_examples_add(lmc_examples_t *examples);
/* Sets `feature` of the last example (the values are copied). */
lmc_status_t lmc_examples_set_strings(lmc_examples_t *examples, const char *feature,
                                      const char *const *values, size_t count);
lmc_status_t lmc_examples_set_ints(lmc_examples_t *examples, const char *feature,
                                   const int64_t *values, size_t count);
lmc_status_t lmc_examples_set_floats(lmc_examples_t *examples, const char *feature,
                                     const float *values, size_t count);

size_t lmc_examples_count(const lmc_examples_t *examples);
void lmc_examples_release(lmc_examples_t *examples);

/* ---- Running ----------------------------------------------------------- */

typedef enum lmc_overlong_e {
  LMC_OVERLONG_ERROR = 0,    /* a sequence longer than the packing length fails the run */
  LMC_OVERLONG_TRUNCATE = 1, /* keep its first packing_length tokens */
  LMC_OVERLONG_ALONE = 2,    /* give it a row of its own */
} lmc_overlong_t;

typedef struct lmc_run_options {
  /* Tokens per packed row; 0 = the sequence length the model was planned for. */
  int64_t packing_length;
  lmc_overlong_t overlong;
} lmc_run_options_t;

/* Packs the examples into batches, runs them (on the CPU, or on the GPU
 * after lmc_model_use_cuda), and returns
 * outputs per example in input order. `options` may be NULL (defaults). On
 * success *results is new and owned by the caller (lmc_results_release). */
lmc_status_t lmc_model_run(const lmc_model_t *model, const lmc_examples_t *examples,
                           const lmc_run_options_t *options, lmc_results_t **results);

size_t lmc_results_example_count(const lmc_results_t *results);
/* Output `output` of example `example` as f32 values (row-major, padding
 * removed). *values is owned by `results` and valid until it is released. */
lmc_status_t lmc_results_get(const lmc_results_t *results, size_t example, size_t output,
                             const float **values, size_t *count);
/* Batches and real (unpadded) tokens the run executed. */
size_t lmc_results_batch_count(const lmc_results_t *results);
int64_t lmc_results_token_count(const lmc_results_t *results);
void lmc_results_release(lmc_results_t *results);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LMC_LMC_H */
