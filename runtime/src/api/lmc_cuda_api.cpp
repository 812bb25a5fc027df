// lmc_cuda_api.cpp - lmc/lmc_cuda.h over the CUDA backend.

#include "lmc/lmc_cuda.h"

#include "api/ApiGuard.h"
#include "api/ApiTypes.h"
#include "cuda/CudaBackend.h"

extern "C" lmc_status_t lmc_model_use_cuda(lmc_model_t *model) {
  return lmc::api::guarded([&]() -> lmc_status_t {
    if (!model)
      return lmc_status_create(LMC_STATUS_INVALID_ARGUMENT, "model must not be NULL");
    lmc::rt::Status error;
    std::unique_ptr<lmc::cuda::CudaBackend> backend =
        lmc::cuda::CudaBackend::create(model->model->plan(), error);
    // Whatever kept the GPU from being used (no driver, no device, no CUDA
    // code in the package), the model stays on the CPU: UNAVAILABLE.
    if (!backend)
      return lmc_status_create(LMC_STATUS_UNAVAILABLE, "%s", error.message().c_str());
    model->model->setBackend(std::move(backend));
    model->device = model->model->currentBackend().label();
    return nullptr;
  });
}
