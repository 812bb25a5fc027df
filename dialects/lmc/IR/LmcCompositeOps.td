//===- LmcCompositeOps.td - normalization, activations, attention ---------===//

#ifndef LMC_COMPOSITE_OPS_TD
#define LMC_COMPOSITE_OPS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "dialects/lmc/IR/LmcEnums.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Lmc_LayerNormOp : Lmc_Op<"layer_norm", [Pure, Lmc_RowLocal, Lmc_LowPrecisionSafe]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `result = (x - mean(x)) * rsqrt(var(x) + epsilon) * gamma + beta`, with
    mean and (biased) variance taken over the last dimension. Statistics are
    computed in f32 whatever the storage type.

    ```mlir
    %y = lmc.layer_norm %x, %gamma, %beta epsilon 1.0e-05
        : (tensor<?x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    ```

    Verifier rules:
    * `input` has rank 1 or more;
    * `gamma` and `beta` have shape `[D]`, `D` the last dimension of `input`;
    * all operands and the result share one element type;
    * the result type equals the input type;
    * `epsilon` is positive.
  }];
  let arguments = (ins Lmc_FloatTensor:$input, Lmc_FloatTensor:$gamma,
                       Lmc_FloatTensor:$beta, F32Attr:$epsilon);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `epsilon` $epsilon attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lmc_RmsNormOp : Lmc_Op<"rms_norm", [Pure, Lmc_RowLocal, Lmc_LowPrecisionSafe]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `result = x * rsqrt(mean(x * x) + epsilon) * gamma` over the last
    dimension, statistics in f32.

    Verifier rules:
    * `input` has rank 1 or more;
    * `gamma` has shape `[D]`, `D` the last dimension of `input`;
    * all operands and the result share one element type;
    * the result type equals the input type;
    * `epsilon` is positive.
  }];
  let arguments = (ins Lmc_FloatTensor:$input, Lmc_FloatTensor:$gamma, F32Attr:$epsilon);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `epsilon` $epsilon attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lmc_GeluOp : Lmc_Op<"gelu", [Pure, SameOperandsAndResultType, Lmc_Elementwise,
                                  Lmc_LowPrecisionSafe]> {
  let summary = "Gaussian error linear unit, erf or tanh form";
  let description = [{
    * `erf`: `x * 0.5 * (1 + erf(x / sqrt(2)))`;
    * `tanh`: `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`.

    ```mlir
    %y = lmc.gelu tanh %x : tensor<?x1024xf32>
    ```

    Verifier rules:
    * the result type equals the input type (enforced by the declaration).
  }];
  let arguments = (ins Lmc_GeluApproximation:$approximation, Lmc_FloatTensor:$input);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = "$approximation $input attr-dict `:` type($result)";
}

def Lmc_EmbeddingOp : Lmc_Op<"embedding", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "gathers rows of a table";
  let description = [{
    `result[i..., :] = table[ids[i...], :]`. Ids outside `[0, V)` give a row
    of zeros.

    ```mlir
    %e = lmc.embedding %table[%ids] : (tensor<30522x256xf32>, tensor<?x?xi64>) -> tensor<?x?x256xf32>
    ```

    Verifier rules:
    * `table` has rank 2, `[V, D]`;
    * the result has the table's element type and shape `ids.shape + [D]`,
      up to compatible dimensions.
  }];
  let arguments = (ins Lmc_FloatTensor:$table, Lmc_IndexTensor:$ids);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Lmc_AttentionOp : Lmc_Op<"attention", [Pure, AttrSizedOperandSegments,
                                            Lmc_LowPrecisionSafe]> {
  let summary = "scaled dot-product attention over padded or packed batches";
  let description = [{
    `result = softmax(scale * Q K^T + mask) V` per sequence and head, where
    the mask hides padding, other sequences of a packed batch, and (with
    `causal`) later positions. `scale` defaults to `1 / sqrt(D)`.

    Two forms:
    * **padded**: `Q [B, S, H, D]`, `K [B, Sk, Hk, D]`, `V [B, Sk, Hk, Dv]`,
      optional `lengths [B]`: keys at or past a sequence's length are masked
      out, for every query row, as a key-padding mask does (query rows past
      the length still attend the sequence's real keys; a sequence of length
      0 gives zero rows);
    * **packed**: `Q [T, H, D]`, `K [T, Hk, D]`, `V [T, Hk, Dv]` and
      `cu_seqlens [N + 1]`; a token attends only within its own sequence.

    `Hk` may divide `H` (grouped-query attention: query head `h` reads key
    head `h / (H / Hk)`). The result is `Q`'s shape with `Dv` last.

    ```mlir
    %o = lmc.attention %q, %k, %v lengths(%len) causal
        : (tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?xi32>)
        -> tensor<?x?x4x64xf16>
    %p = lmc.attention %q, %k, %v cu_seqlens(%cu)
        : (tensor<?x4x64xf16>, tensor<?x4x64xf16>, tensor<?x4x64xf16>, tensor<?xi32>)
        -> tensor<?x4x64xf16>
    ```

    The optional second result is the log-sum-exp of every query row's
    scaled, masked scores (`[B, S, H]` or `[T, H]`, f32; `-inf` for a row
    that sees no key): what the backward pass recomputes the probabilities
    from without storing them.

    Verifier rules:
    * `query` has rank 4 (padded) or 3 (packed), and `key`, `value` the same
      rank;
    * the packed form has a non-empty `cu_seqlens` and no `lengths`; the
      padded form has no `cu_seqlens`;
    * query, key, value and result share one element type;
    * query and key have compatible head dimensions `D`;
    * key and value have compatible batch, sequence (or token) and head-count
      dimensions;
    * the padded form's query and key have compatible batch dimensions, and
      `lengths` has size `B`; the packed form's query and key have compatible
      token counts;
    * the key head count divides the query head count when both are static;
    * `scale`, when given, is positive;
    * the result shape is compatible with the query shape with `Dv` last;
    * `lse`, when present, is f32 and has the query shape without `D`.
  }];
  let arguments = (ins Lmc_FloatTensor:$query, Lmc_FloatTensor:$key,
                       Lmc_FloatTensor:$value,
                       Optional<Lmc_LengthsTensor>:$lengths,
                       Optional<Lmc_CuSeqlensTensor>:$cu_seqlens,
                       UnitAttr:$causal, OptionalAttr<F32Attr>:$scale);
  let results = (outs Lmc_FloatTensor:$result, Optional<F32Tensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`lengths` `(` $lengths^ `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `)`)? (`causal` $causal^)? (`scale` $scale^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True for the packed form (`[T, H, D]` with `cu_seqlens`).
    bool isPacked() { return getQuery().getType().getRank() == 3; }
  }];
}

def Lmc_AttentionGradOp : Lmc_Op<"attention_grad", [Pure, AttrSizedOperandSegments,
                                                     Lmc_LowPrecisionSafe]> {
  let summary = "gradients of lmc.attention from its output and log-sum-exp";
  let description = [{
    Given the operands of an `lmc.attention` (same form, mask, `causal` and
    `scale`), its output `out`, the `lse` it returned and the gradient of the
    output `grad_out`, returns the gradients of query, key and value. The
    probabilities are recomputed tile by tile as `exp(scale * Q K^T - lse)`
    (FlashAttention-2's backward), so no `[S, S]` matrix is kept; with
    grouped-query attention a key head's gradient sums over the query heads
    that read it.

    ```mlir
    %dq, %dk, %dv = lmc.attention_grad %q, %k, %v, %o, %lse, %do cu_seqlens(%cu) causal
        : (tensor<?x4x64xf32>, tensor<?x4x64xf32>, tensor<?x4x64xf32>,
           tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4x64xf32>, tensor<?xi32>)
        -> (tensor<?x4x64xf32>, tensor<?x4x64xf32>, tensor<?x4x64xf32>)
    ```

    Verifier rules:
    * query, key, value, lengths, cu_seqlens and scale follow
      `lmc.attention`'s rules;
    * `out` and `grad_out` have the attention result's shape, and `lse` the
      query shape without `D` in f32;
    * the gradients have the types of query, key and value.
  }];
  let arguments = (ins Lmc_FloatTensor:$query, Lmc_FloatTensor:$key,
                       Lmc_FloatTensor:$value, Lmc_FloatTensor:$out,
                       F32Tensor:$lse, Lmc_FloatTensor:$grad_out,
                       Optional<Lmc_LengthsTensor>:$lengths,
                       Optional<Lmc_CuSeqlensTensor>:$cu_seqlens,
                       UnitAttr:$causal, OptionalAttr<F32Attr>:$scale);
  let results = (outs Lmc_FloatTensor:$grad_query, Lmc_FloatTensor:$grad_key,
                      Lmc_FloatTensor:$grad_value);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $out `,` $lse `,` $grad_out
    (`lengths` `(` $lengths^ `)`)? (`cu_seqlens` `(` $cu_seqlens^ `)`)?
    (`causal` $causal^)? (`scale` $scale^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isPacked() { return getQuery().getType().getRank() == 3; }
  }];
}

#endif // LMC_COMPOSITE_OPS_TD
