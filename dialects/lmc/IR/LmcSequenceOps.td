//===- LmcSequenceOps.td - padded and packed variable-length batches ------===//

#ifndef LMC_SEQUENCE_OPS_TD
#define LMC_SEQUENCE_OPS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "dialects/lmc/IR/LmcEnums.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Lmc_UnpadOp : Lmc_Op<"unpad", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "packs the real tokens of a padded batch";
  let description = [{
    Copies the first `lengths[b]` positions of every sequence of a padded
    `[B, S, ...]` batch back to back into `[T, ...]` (`T = sum(lengths)`) and
    returns `cu_seqlens`, the running sum of `lengths` starting at 0.

    ```mlir
    %packed, %cu = lmc.unpad %x, %len
        : (tensor<?x?x256xf32>, tensor<?xi32>) -> (tensor<?x256xf32>, tensor<?xi32>)
    ```

    Verifier rules:
    * `input` has rank 2 or more;
    * `lengths` has size `B`, and `cu_seqlens` size `B + 1`, when known;
    * `cu_seqlens` is not empty;
    * `packed` has the input's element type and rank minus one, and the
      input's trailing dimensions.

    `unpad` of both results of one `pad` folds to that pad's operands.
  }];
  let arguments = (ins Lmc_Tensor:$input, Lmc_LengthsTensor:$lengths);
  let results = (outs Lmc_Tensor:$packed, Lmc_CuSeqlensTensor:$cu_seqlens);
  let assemblyFormat = [{
    $input `,` $lengths attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lmc_PadOp : Lmc_Op<"pad", [Pure, Lmc_LowPrecisionSafe]> {
  let summary = "spreads a packed batch into a zero-padded one";
  let description = [{
    The inverse of `unpad`: sequence `b` of the packed input fills positions
    `0 .. len(b) - 1` of row `b`, the rest is zero. The padded length `S` is
    the result's static dimension, or the longest sequence when it is
    dynamic. Also returns the per-sequence `lengths`.

    `pad(unpad(x))` is not folded: `unpad` drops whatever `x` held at padding
    positions, and `pad` writes zeros there.

    Verifier rules:
    * `packed` has rank 1 or more;
    * `cu_seqlens` is not empty;
    * `cu_seqlens` has size `B + 1`, and `lengths` size `B`, when known;
    * `result` has the packed element type, rank plus one, and the packed
      trailing dimensions;
    * a static `S` is positive.
  }];
  let arguments = (ins Lmc_Tensor:$packed, Lmc_CuSeqlensTensor:$cu_seqlens);
  let results = (outs Lmc_Tensor:$result, Lmc_LengthsTensor:$lengths);
  let assemblyFormat = [{
    $packed `,` $cu_seqlens attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lmc_SegmentReduceOp : Lmc_Op<"segment_reduce", [Pure]> {
  let summary = "reduces every sequence of a packed batch to one row";
  let description = [{
    `result[i] = reduce(packed[cu_seqlens[i] : cu_seqlens[i+1]])` with
    `sum`, `mean`, `max` or `first` (the sequence's first token, as a
    `[CLS]` pooler takes it). An empty sequence gives zeros.

    ```mlir
    %pooled = lmc.segment_reduce mean %h, %cu
        : (tensor<?x256xf32>, tensor<?xi32>) -> tensor<?x256xf32>
    ```

    Verifier rules:
    * `packed` has rank 1 or more;
    * `cu_seqlens` is not empty;
    * `mean` needs a float element type;
    * the result has the packed element type and shape `[N, ...]`, `N + 1`
      the size of `cu_seqlens`, up to compatible dimensions.
  }];
  let arguments = (ins Lmc_SegmentReduction:$reduction, Lmc_NumericTensor:$packed,
                       Lmc_CuSeqlensTensor:$cu_seqlens);
  let results = (outs Lmc_NumericTensor:$result);
  let assemblyFormat = [{
    $reduction $packed `,` $cu_seqlens attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lmc_PositionsOp : Lmc_Op<"positions", [Pure]> {
  let summary = "position of every token within its sequence";
  let description = [{
    For a packed batch, `result[t] = t - cu_seqlens[i]` where sequence `i`
    holds token `t`: `[0, 1, 2, 0, 1, ...]`.

    ```mlir
    %pos = lmc.positions %cu : tensor<?xi32> -> tensor<?xi64>
    ```

    Verifier rules:
    * `cu_seqlens` is not empty;
    * the result has rank 1 (enforced by the declaration).
  }];
  let arguments = (ins Lmc_CuSeqlensTensor:$cu_seqlens);
  let results = (outs 1DTensorOf<[I32, I64]>:$result);
  let assemblyFormat = "$cu_seqlens attr-dict `:` type($cu_seqlens) `->` type($result)";
  let hasVerifier = 1;
}

#endif // LMC_SEQUENCE_OPS_TD
