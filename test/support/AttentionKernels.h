// AttentionKernels.h - one attention kernel as lmc-form-kernels writes it,
// built by hand: for the CUDA emitter's tests and lmc-emit-attention, which
// emit attention for shapes no compiled model needs to have.

#ifndef LMC_TEST_SUPPORT_ATTENTIONKERNELS_H
#define LMC_TEST_SUPPORT_ATTENTIONKERNELS_H

#include "artifact/OpSlots.h"
#include "artifact/Plan.h"

#include <cmath>

namespace lmc::testing {

/// lmc.attention: arguments q, k, v (of `dtype`, [rows, heads, dim], or
/// [batch, sequence, heads, dim] when `padded`) and cu_seqlens (or, padded,
/// lengths); one result (local 4).
inline rt::Kernel attentionKernel(rt::DType dtype, int64_t heads, int64_t keyHeads, int64_t dim,
                                  bool causal, bool padded, int blockQ, int blockK) {
  std::vector<int64_t> lead = padded ? std::vector<int64_t>{-1, -1} : std::vector<int64_t>{-1};
  auto type = [&](int64_t h) {
    rt::TensorType t{dtype, lead, {}};
    t.shape.push_back(h);
    t.shape.push_back(dim);
    return t;
  };
  rt::Kernel kernel;
  kernel.name = "attention";
  kernel.kind = rt::KernelKind::Attention;
  kernel.blockQ = blockQ;
  kernel.blockK = blockK;
  kernel.arguments = {type(heads), type(keyHeads), type(keyHeads), {rt::DType::I32, {-1}, {}}};
  rt::Instruction attention;
  attention.opcode = rt::Opcode::Attention;
  // q, k, v, then the layout: lengths (padded) or cu_seqlens (packed).
  attention.operands = {0, 1, 2, -1, -1};
  attention.operands[padded ? ::lmc::ops::slot::attentionOperand::lengths
                            : ::lmc::ops::slot::attentionOperand::cuSeqlens] = 3;
  attention.results = {type(heads)};
  attention.ints = {causal};
  attention.reals = {std::nan("")};
  kernel.body = {attention};
  kernel.yields = {4};
  return kernel;
}

/// lmc.attention_grad over packed sequences: arguments q, k, v, out, lse
/// (f32), grad_out, cu_seqlens; results dq, dk, dv (locals 7, 8, 9), all
/// of `dtype` with dynamic rows.
inline rt::Kernel attentionGradKernel(rt::DType dtype, int64_t heads, int64_t keyHeads,
                                      int64_t dim, bool causal, int blockQ, int blockK) {
  rt::TensorType query{dtype, {-1, heads, dim}, {}}, key{dtype, {-1, keyHeads, dim}, {}};
  rt::Kernel kernel;
  kernel.name = "attention_grad";
  kernel.kind = rt::KernelKind::Attention;
  kernel.blockQ = blockQ;
  kernel.blockK = blockK;
  kernel.arguments = {query, key, key, query, {rt::DType::F32, {-1, heads}, {}}, query,
                      {rt::DType::I32, {-1}, {}}};
  rt::Instruction grad;
  grad.opcode = rt::Opcode::AttentionGrad;
  grad.operands = {0, 1, 2, 3, 4, 5, -1, -1};
  grad.operands[::lmc::ops::slot::attentionGradOperand::cuSeqlens] = 6;
  grad.results = {query, key, key};
  grad.ints = {causal};
  grad.reals = {std::nan("")};
  kernel.body = {grad};
  kernel.yields = {7, 8, 9};
  return kernel;
}

} // namespace lmc::testing

#endif // LMC_TEST_SUPPORT_ATTENTIONKERNELS_H
