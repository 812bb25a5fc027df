//===- LmcKernelOps.td - the kernel-level IR -------------------------------===//
//
// After --lmc-form-kernels a function is a sequence of lmc.kernel ops, each
// one launch on the GPU or one call on the CPU backend, with the ops it
// computes in its region.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_KERNEL_OPS_TD
#define LMC_KERNEL_OPS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Lmc_KernelKind : I32EnumAttr<"KernelKind", "what a kernel runs as", [
      I32EnumAttrCase<"fused", 0>, I32EnumAttrCase<"gemm", 1>,
      I32EnumAttrCase<"attention", 2>, I32EnumAttrCase<"collective", 3>,
      I32EnumAttrCase<"optimizer", 4>]> {
  let cppNamespace = "::mlir::lmc";
}

def Lmc_KernelOp : Lmc_Op<"kernel", [IsolatedFromAbove, SingleBlock,
    RecursiveMemoryEffects]> {
  let summary = "one kernel: the ops it computes, isolated from the rest";
  let description = [{
    The unit the backends launch. `fused` kernels hold a chain of
    elementwise, normalization, data-movement and feature-column ops
    generated as one kernel; `gemm` kernels hold one matmul (and the add of
    a bias vector to its result, which the library applies as an epilogue)
    and become a library call (cuBLASLt, a CPU BLAS); `attention` kernels hold one
    lmc.attention (or its gradient, lmc.attention_grad) and carry its tile shape (`block_q` query rows by
    `block_k` key rows per step of the online softmax); `collective` kernels
    hold one collective (`lmc.all_reduce`, `lmc.reduce_scatter`,
    `lmc.all_gather`, `lmc.all_gather_rows`) or one op that reads the
    executing rank (`lmc.shard_slice`, `lmc.rank`), which the runtime runs
    with its communicator; `optimizer` kernels hold one `lmc.adamw_rows`.

    ```mlir
    %y = lmc.kernel fused "k3" (%x, %g, %b) : (tensor<?x64xf16>, tensor<64xf16>, tensor<64xf16>) -> tensor<?x64xf16> {
    ^bb0(%a: tensor<?x64xf16>, %gamma: tensor<64xf16>, %beta: tensor<64xf16>):
      %n = lmc.layer_norm %a, %gamma, %beta epsilon 1.0e-12 : ...
      %o = lmc.gelu tanh %n : tensor<?x64xf16>
      lmc.yield %o : tensor<?x64xf16>
    }
    ```

    Verifier rules:
    * the region's arguments have the types of the inputs;
    * the yielded values have the types of the results;
    * a `gemm` kernel holds exactly one lmc.matmul, an `attention` kernel
      exactly one lmc.attention or lmc.attention_grad and positive `block_q`
      and `block_k`;
    * a `collective` kernel holds exactly one of the ops above, an
      `optimizer` kernel exactly one lmc.adamw_rows.
  }];
  let arguments = (ins Lmc_KernelKind:$kind, StrAttr:$name,
                       Variadic<AnyRankedTensor>:$inputs,
                       OptionalAttr<Lmc_I64Attr>:$block_q,
                       OptionalAttr<Lmc_I64Attr>:$block_k);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind $name `(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasVerifier = 1;
}

def Lmc_YieldOp : Lmc_Op<"yield", [Pure, Terminator, HasParent<"KernelOp">,
                                   ReturnLike]> {
  let summary = "the results of a kernel";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // LMC_KERNEL_OPS_TD
