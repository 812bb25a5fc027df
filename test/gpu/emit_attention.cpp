// emit_attention.cpp - `lmc-emit-attention`: the attention kernel lmc emits
// for one shape, as JSON, for test/gpu/attention_check.py and
// attention_grad_check.py (which launch it next to PyTorch's attention on
// the GPU). With --backward: the two kernels of lmc.attention_grad (packed),
// entries "<entry>_dq" and "<entry>_dkdv".
//
//   lmc-emit-attention --dtype f16 --heads 16 --key-heads 16 --dim 128 \
//                      --block-q 128 --block-k 64 [--causal] [--padded] [--backward]

#include "compiler/cuda/KernelEmitter.h"

#include "support/AttentionKernels.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <iostream>
#include <string>

namespace {

/// lmc.attention_grad over packed sequences: q, k, v, out, lse (f32),
/// grad_out, cu_seqlens -> dq, dk, dv.
int emitBackward(lmc::rt::DType dtype, int64_t heads, int64_t keyHeads, int64_t dim, int blockQ,
                 int blockK, bool causal) {
  lmc::rt::Kernel kernel =
      lmc::testing::attentionGradKernel(dtype, heads, keyHeads, dim, causal, blockQ, blockK);
  mlir::lmc::cuda::EmittedKernel code;
  std::string error;
  if (!mlir::lmc::cuda::emitAttentionGradKernel(kernel, code, error)) {
    std::cerr << "lmc-emit-attention: " << error << "\n";
    return 1;
  }
  nlohmann::json out = {{"source", code.source},
                        {"dq", code.launches[0].entry},
                        {"dkdv", code.launches[1].entry},
                        {"threads", code.launches[0].threads},
                        {"dq_shared_bytes", code.launches[0].sharedBytes},
                        {"dkdv_shared_bytes", code.launches[1].sharedBytes},
                        {"block_q", blockQ}};
  std::cout << out.dump() << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  namespace rt = lmc::rt;
  std::string dtypeName = "f16";
  int64_t heads = 16, keyHeads = -1, dim = 128;
  int blockQ = 128, blockK = 64;
  bool causal = false, padded = false, backward = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "lmc-emit-attention: " << flag << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (flag == "--dtype") dtypeName = next();
    else if (flag == "--heads") heads = std::stoll(next());
    else if (flag == "--key-heads") keyHeads = std::stoll(next());
    else if (flag == "--dim") dim = std::stoll(next());
    else if (flag == "--block-q") blockQ = std::stoi(next());
    else if (flag == "--block-k") blockK = std::stoi(next());
    else if (flag == "--causal") causal = true;
    else if (flag == "--padded") padded = true;
    else if (flag == "--backward") backward = true;
    else {
      std::cerr << "lmc-emit-attention: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (keyHeads < 0)
    keyHeads = heads;
  rt::DType dtype = dtypeName == "bf16" ? rt::DType::BF16
                    : dtypeName == "f32" ? rt::DType::F32
                                         : rt::DType::F16;
  if (backward)
    return emitBackward(dtype, heads, keyHeads, dim, blockQ, blockK, causal);
  rt::Kernel kernel =
      lmc::testing::attentionKernel(dtype, heads, keyHeads, dim, causal, padded, blockQ, blockK);
  mlir::lmc::cuda::EmittedKernel code;
  std::string error;
  if (!mlir::lmc::cuda::emitAttentionKernel(kernel, code, error)) {
    std::cerr << "lmc-emit-attention: " << error << "\n";
    return 1;
  }
  const rt::Launch &launch = code.launches[0];
  nlohmann::json out = {{"source", code.source},     {"entry", launch.entry},
                        {"threads", launch.threads}, {"shared_bytes", launch.sharedBytes},
                        {"block_q", blockQ},         {"block_k", blockK}};
  std::cout << out.dump() << "\n";
  return 0;
}
