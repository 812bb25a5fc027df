// emit_attention.cpp - `lmc-emit-attention`: the attention kernel lmc emits
// for one shape, as JSON, for test/gpu/attention_check.py (which launches it
// next to PyTorch's attention on the GPU).
//
//   lmc-emit-attention --dtype f16 --heads 16 --key-heads 16 --dim 128 \
//                      --block-q 128 --block-k 64 [--causal] [--padded]

#include "compiler/cuda/KernelEmitter.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char **argv) {
  namespace rt = lmc::rt;
  std::string dtypeName = "f16";
  int64_t heads = 16, keyHeads = -1, dim = 128;
  int blockQ = 128, blockK = 64;
  bool causal = false, padded = false;
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
  rt::Kernel kernel;
  kernel.name = "attention";
  kernel.kind = rt::KernelKind::Attention;
  kernel.blockQ = blockQ;
  kernel.blockK = blockK;
  std::vector<int64_t> lead = padded ? std::vector<int64_t>{-1, -1} : std::vector<int64_t>{-1};
  auto shape = [&](int64_t h) {
    std::vector<int64_t> s = lead;
    s.push_back(h);
    s.push_back(dim);
    return s;
  };
  kernel.arguments = {{dtype, shape(heads), {}}, {dtype, shape(keyHeads), {}},
                      {dtype, shape(keyHeads), {}}, {rt::DType::I32, {-1}, {}}};
  rt::Instruction attention;
  attention.opcode = rt::Opcode::Attention;
  attention.operands = padded ? std::vector<int>{0, 1, 2, -1, 3} : std::vector<int>{0, 1, 2, 3, -1};
  attention.results = {{dtype, shape(heads), {}}};
  attention.ints = {causal};
  attention.reals = {std::nan("")};
  kernel.body = {attention};
  kernel.yields = {4};
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
