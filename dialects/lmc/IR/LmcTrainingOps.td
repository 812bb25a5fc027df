//===- LmcTrainingOps.td - collectives and the sparse optimizer ----------===//
//
// What --lmc-shard-state adds to a training step: collectives over the ranks
// that train one model together, and the row-sparse AdamW update of an
// embedding table. (The dense AdamW update is built from primitive ops.)
//
// ZeRO's partition: a tensor of n elements, flattened, is split into `ranks`
// shards of ceil(n / ranks) elements; rank r holds elements
// [r * shard, (r + 1) * shard), the last shard padded with zeros.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_TRAINING_OPS_TD
#define LMC_TRAINING_OPS_TD

include "dialects/lmc/IR/LmcDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Collectives read and write what other ranks see: they are never moved
// across one another, merged or dropped, so every rank makes the same calls
// in the same order.
class Lmc_CollectiveOp<string mnemonic, list<Trait> traits = []>
    : Lmc_Op<mnemonic, !listconcat(traits, [MemoryEffects<[MemRead, MemWrite]>])> {
  let arguments = (ins Lmc_FloatTensor:$input, Lmc_I64Attr:$ranks);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = "$input `ranks` $ranks attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Lmc_AllReduceOp : Lmc_CollectiveOp<"all_reduce"> {
  let summary = "sums a tensor over the ranks";
  let description = [{
    Every rank receives the element-wise sum of every rank's `input`.

    ```mlir
    %g = lmc.all_reduce %grad ranks 2 : (tensor<64xf32>) -> tensor<64xf32>
    ```

    Verifier rules:
    * `ranks` is at least 2;
    * the result type equals the input type.
  }];
}

def Lmc_ReduceScatterOp : Lmc_CollectiveOp<"reduce_scatter"> {
  let summary = "sums a tensor over the ranks; each rank keeps its shard";
  let description = [{
    Rank r receives shard r of the element-wise sum of every rank's
    (flattened) `input`.

    ```mlir
    %g = lmc.reduce_scatter %grad ranks 2 : (tensor<3x5xf32>) -> tensor<8xf32>
    ```

    Verifier rules:
    * `ranks` is at least 2;
    * the input is statically shaped;
    * the result is 1-D with `ceil(n / ranks)` elements of the input's type.
  }];
}

def Lmc_AllGatherOp : Lmc_CollectiveOp<"all_gather"> {
  let summary = "joins every rank's shard into the whole tensor";
  let description = [{
    The inverse of the partition: every rank receives the concatenation of
    the ranks' shards, without the padding, in the result's shape.

    ```mlir
    %w = lmc.all_gather %shard ranks 2 : (tensor<8xf32>) -> tensor<3x5xf32>
    ```

    Verifier rules:
    * `ranks` is at least 2;
    * the result is statically shaped;
    * the input is 1-D with `ceil(n / ranks)` elements of the result's type.
  }];
}

def Lmc_AllGatherRowsOp : Lmc_Op<"all_gather_rows",
    [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "concatenates every rank's rows";
  let description = [{
    Every rank receives the ranks' `input`s joined along dimension 0 in rank
    order; each rank may hold a different number of rows. A row-sparse
    gradient's ids and rows travel this way. The memory plan reserves
    `ranks` times the rows the input may have.

    ```mlir
    %ids = lmc.all_gather_rows %mine ranks 2 : (tensor<?xi64>) -> tensor<?xi64>
    ```

    Verifier rules:
    * `ranks` is at least 2;
    * the input's dimension 0 is dynamic and the others static; the result
      has the input's type.
  }];
  let arguments = (ins Lmc_NumericTensor:$input, Lmc_I64Attr:$ranks);
  let results = (outs Lmc_NumericTensor:$result);
  let assemblyFormat = "$input `ranks` $ranks attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Lmc_ShardSliceOp : Lmc_Op<"shard_slice", [MemoryEffects<[MemRead]>]> {
  let summary = "this rank's shard of a tensor every rank holds";
  let description = [{
    No communication: the executing rank takes its shard of its own
    (flattened) `input`, zero-padded.

    ```mlir
    %mine = lmc.shard_slice %w ranks 2 : (tensor<3x5xf32>) -> tensor<8xf32>
    ```

    Verifier rules: those of `lmc.reduce_scatter`.
  }];
  let arguments = (ins Lmc_FloatTensor:$input, Lmc_I64Attr:$ranks);
  let results = (outs Lmc_FloatTensor:$result);
  let assemblyFormat = "$input `ranks` $ranks attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Lmc_RankOp : Lmc_Op<"rank", [MemoryEffects<[MemRead]>]> {
  let summary = "the executing rank";
  let description = [{
    ```mlir
    %r = lmc.rank ranks 2 : tensor<i64>
    ```

    Verifier rules:
    * `ranks` is at least 2.
  }];
  let arguments = (ins Lmc_I64Attr:$ranks);
  let results = (outs 0DTensorOf<[I64]>:$result);
  let assemblyFormat = "`ranks` $ranks attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lmc_AdamwRowsOp : Lmc_Op<"adamw_rows", [Pure]> {
  let summary = "AdamW on the rows of an embedding table a step touched";
  let description = [{
    The lazy (row-sparse) AdamW update of a `[table_rows, W]` table, on the
    executing rank's shard of it (all of it with one rank): `table`, `m` and
    `v` are that shard of the flattened table and of its two moments. With
    one rank the table may also be given as it is stored, `[table_rows, W]`
    (the runtime then updates it in place, touching only the rows a step
    read, rather than copying the table).
    `rows[i..., :]` is the gradient of table row `ids[i...]`, times the
    loss scale.
    Rows of one id are summed first; then only the elements of touched rows
    that lie in the shard are updated, with PyTorch's AdamW formula and
    weight decay. Ids outside the table are dropped (the forward read zeros
    for them).

    `step` holds the trainer's `[learning_rate, 1 / (1 - beta1^t),
    1 / sqrt(1 - beta2^t), 1 / loss_scale]` (see `lmc.optimizer_step`);
    nothing changes unless `apply` is true (the step's gradients are all
    finite). `rank` is the executing rank, absent with one rank.

    ```mlir
    %t, %m2, %v2 = lmc.adamw_rows %table, %m, %v, %ids, %rows, %step, %apply
        rank(%r) ranks 2 table_rows 100 beta1 0.9 beta2 0.999 epsilon 1.0e-08 weight_decay 0.01
        : (tensor<400xf32>, tensor<400xf32>, tensor<400xf32>, tensor<?xi64>, tensor<?x8xf32>,
           tensor<4xf32>, tensor<i1>, tensor<i64>) -> (tensor<400xf32>, tensor<400xf32>, tensor<400xf32>)
    ```

    Verifier rules:
    * `m`, `v` and their results are 1-D f32 of
      `ceil(table_rows * W / ranks)` elements; `table` and its result are
      one static f32 type of that many elements (1-D, or with one rank
      `[table_rows, W]`);
    * `rows` is f32 of `ids`' shape and a static `W`: `[ids..., W]`;
    * `step` is `tensor<4xf32>`, `apply` `tensor<i1>`;
    * `rank` is given exactly when `ranks` is above 1.
  }];
  let arguments = (ins F32Tensor:$table, F32Tensor:$m, F32Tensor:$v,
                       Lmc_IndexTensor:$ids, F32Tensor:$rows, F32Tensor:$step,
                       Lmc_BoolTensor:$apply, Optional<0DTensorOf<[I64]>>:$rank,
                       Lmc_I64Attr:$ranks, Lmc_I64Attr:$table_rows, F64Attr:$beta1,
                       F64Attr:$beta2, F64Attr:$epsilon, F64Attr:$weight_decay);
  let results = (outs F32Tensor:$new_table, F32Tensor:$new_m, F32Tensor:$new_v);
  let assemblyFormat = [{
    $table `,` $m `,` $v `,` $ids `,` $rows `,` $step `,` $apply (`rank` `(` $rank^ `)`)?
    `ranks` $ranks `table_rows` $table_rows `beta1` $beta1 `beta2` $beta2
    `epsilon` $epsilon `weight_decay` $weight_decay
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // LMC_TRAINING_OPS_TD
