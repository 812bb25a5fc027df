/* lmc_cuda.h - running a model on an NVIDIA GPU.
 *
 * In library lmc_runtime_cuda (built when the CUDA toolkit is present); an
 * application that links it still starts on a machine without a GPU or a
 * CUDA driver: the driver is opened when lmc_model_use_cuda is called.
 *
 *   lmc_status_t status = lmc_model_use_cuda(model);
 *   if (status) {  // no GPU: stay on the CPU
 *     fprintf(stderr, "%s\n", lmc_status_message(status));
 *     lmc_status_release(status);
 *   }
 */

#ifndef LMC_CUDA_H
#define LMC_CUDA_H

#include "lmc/lmc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Moves `model` onto GPU 0: later lmc_model_run calls run there, with the
 * kernels the package carries (compiled for it, or recompiled for this GPU
 * through an on-disk cache). Fails with LMC_STATUS_UNAVAILABLE when there is
 * no CUDA driver or GPU, or when the package holds no CUDA code (compiled
 * with --target=cpu); the model then stays where it was. Not to be called
 * while the model runs. */
lmc_status_t lmc_model_use_cuda(lmc_model_t *model);

#ifdef __cplusplus
}
#endif

#endif /* LMC_CUDA_H */
