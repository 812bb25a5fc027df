// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss --lmc-autodiff --lmc-shard-state | FileCheck %s --check-prefix=ONE
// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss --lmc-autodiff '--lmc-shard-state=stage=0 ranks=2' | FileCheck %s --check-prefix=S0
// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss --lmc-autodiff '--lmc-shard-state=stage=1 ranks=2' | FileCheck %s --check-prefix=S1
// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss --lmc-autodiff '--lmc-shard-state=stage=2 ranks=2' | FileCheck %s --check-prefix=S2
// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss --lmc-autodiff '--lmc-shard-state=stage=3 ranks=2' | FileCheck %s --check-prefix=S3
// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss --lmc-autodiff '--lmc-shard-state=stage=1 ranks=2' --lmc-form-kernels | FileCheck %s --check-prefix=KERNELS

// A ranker with a dense layer and an embedding table, trained alone and
// over 2 ranks at each ZeRO stage.

// Tests that one rank gets the optimizer and no collective: moments of the
// whole flattened parameter, zeros at the start; the trainer's scalars as
// a new last argument; the finite check as an output; every parameter and
// moment's new value as an update; dense AdamW from primitive ops
// (sqrt(v) / sqrt(1 - b2^t) + eps) and the table's rows with adamw_rows.
// ONE: lmc.parameter @w : tensor<4x1xf32>
// ONE-NEXT: lmc.parameter @w.adam_m : tensor<4xf32> initializer {kind = "zeros"} {lmc.optimizer_state}
// ONE-NEXT: lmc.parameter @w.adam_v : tensor<4xf32> initializer {kind = "zeros"} {lmc.optimizer_state}
// ONE: lmc.parameter @emb.adam_m : tensor<40xf32>
// ONE-LABEL: func.func @ranker
// ONE-SAME: %[[STEP:[a-z0-9]+]]: tensor<4xf32> {lmc.optimizer_step}
// ONE-SAME: tensor<f32> {lmc.output = "finite"}, tensor<4x1xf32> {lmc.update = "w"}, tensor<4xf32> {lmc.update = "w.adam_m"}, tensor<4xf32> {lmc.update = "w.adam_v"}
// ONE-SAME: tensor<10x4xf32> {lmc.update = "emb"}, tensor<40xf32> {lmc.update = "emb.adam_m"}, tensor<40xf32> {lmc.update = "emb.adam_v"}
// ONE-NOT: lmc.all_
// ONE: %[[CHECK:.*]] = lmc.compare eq
// ONE: lmc.sqrt %{{.*}} : tensor<4xf32>
// ONE: lmc.select %[[CHECK]]
// ONE: lmc.adamw_rows %{{.*}}, %{{.*}}, %{{.*}}, %arg1, %{{.*}}, %[[STEP]], %[[CHECK]] ranks 1 table_rows 10
// ONE-NOT: rank(

// Tests that stage 0 sums gradients and every rank updates everything,
// the table's rows gathered from every rank.
// S0: lmc.parameter @w.adam_m : tensor<4xf32>
// S0: lmc.all_reduce %{{.*}} ranks 2 : (tensor<4x1xf32>) -> tensor<4x1xf32>
// S0: lmc.all_reduce %{{.*}} ranks 2 : (tensor<f32>) -> tensor<f32>
// S0: lmc.all_gather_rows %arg1 ranks 2
// S0: lmc.adamw_rows {{.*}} ranks 1 table_rows 10

// Tests that stage 1 keeps the moments of the rank's shard: gradients
// all-reduced then sliced, updated shards gathered.
// S1: lmc.parameter @w.adam_m : tensor<2xf32>
// S1: lmc.parameter @emb.adam_m : tensor<20xf32>
// S1: %[[G:.*]] = lmc.all_reduce %{{.*}} ranks 2 : (tensor<4x1xf32>) -> tensor<4x1xf32>
// S1-NEXT: lmc.shard_slice %[[G]] ranks 2 : (tensor<4x1xf32>) -> tensor<2xf32>
// S1: %[[W:.*]] = lmc.param_load @w : tensor<4x1xf32>
// S1-NEXT: lmc.shard_slice %[[W]] ranks 2 : (tensor<4x1xf32>) -> tensor<2xf32>
// S1: lmc.all_gather %{{.*}} ranks 2 : (tensor<2xf32>) -> tensor<4x1xf32>
// S1: %[[RANK:.*]] = lmc.rank ranks 2
// S1: lmc.adamw_rows {{.*}} rank(%[[RANK]]) ranks 2 table_rows 10
// S1: lmc.all_gather %{{.*}} ranks 2 : (tensor<20xf32>) -> tensor<10x4xf32>

// Tests that stage 2 reduce-scatters each gradient right where the
// backward computes it.
// S2: %[[DW:.*]] = lmc.matmul {{.*}} transpose_lhs
// S2-NEXT: lmc.reduce_scatter %[[DW]] ranks 2 : (tensor<4x1xf32>) -> tensor<2xf32>
// S2-NOT: lmc.all_reduce %{{.*}} : (tensor<4x1xf32>)

// Tests that stage 3 stores each parameter as the rank's shard and gathers
// it before every op that reads it, forward and backward.
// S3: lmc.parameter @w : tensor<4x1xf32> {lmc.shards = 2 : i64}
// S3: %[[WS:.*]] = lmc.param_load @w : tensor<2xf32>
// S3: %[[W1:.*]] = lmc.all_gather %[[WS]] ranks 2 : (tensor<2xf32>) -> tensor<4x1xf32>
// S3-NEXT: lmc.matmul %{{.*}}, %[[W1]] :
// S3: %[[W2:.*]] = lmc.all_gather %[[WS]] ranks 2 : (tensor<2xf32>) -> tensor<4x1xf32>
// S3-NEXT: lmc.matmul %{{.*}}, %[[W2]] transpose_rhs
// S3: return {{.*}} : tensor<f32>, tensor<f32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>

// Tests that each collective becomes a kernel of its own.
// KERNELS: lmc.kernel collective "k{{[0-9]+}}"({{.*}}) : (tensor<1xf32>) -> tensor<1xf32> {
// KERNELS-NEXT: ^bb0
// KERNELS-NEXT: lmc.all_reduce
// KERNELS-NEXT: lmc.yield
module attributes {lmc.training = {loss = "binary_cross_entropy", label = "clicked", output = "ctr_logit"}} {
  lmc.parameter @w : tensor<4x1xf32>
  lmc.parameter @b : tensor<1xf32>
  lmc.parameter @emb : tensor<10x4xf32>
  func.func @ranker(%x: tensor<?x4xf32> {lmc.feature = "x", lmc.ingest = "value"},
                    %ids: tensor<?xi64> {lmc.feature = "ids", lmc.ingest = "value"})
      -> (tensor<?x1xf32> {lmc.output = "ctr_logit"}) {
    %w = lmc.param_load @w : tensor<4x1xf32>
    %b = lmc.param_load @b : tensor<1xf32>
    %e = lmc.param_load @emb : tensor<10x4xf32>
    %g = lmc.embedding %e[%ids] : (tensor<10x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
    %h = lmc.add %x, %g : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    %y = lmc.matmul %h, %w : (tensor<?x4xf32>, tensor<4x1xf32>) -> tensor<?x1xf32>
    %z = lmc.add %y, %b : (tensor<?x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
    return %z : tensor<?x1xf32>
  }
}

// -----

// Tests that master weights must be f32.
module attributes {lmc.training = {loss = "mean_squared_error", label = "y"}} {
  // expected-error @+1 {{the master weights of 'w' must be f32}}
  lmc.parameter @w : tensor<4x1xf16>
  func.func @regressor(%x: tensor<?x4xf16> {lmc.feature = "x", lmc.ingest = "value"})
      -> (tensor<?x1xf32> {lmc.output = "y"}) {
    %w = lmc.param_load @w : tensor<4x1xf16>
    %y = lmc.matmul %x, %w : (tensor<?x4xf16>, tensor<4x1xf16>) -> tensor<?x1xf16>
    %z = lmc.cast %y : tensor<?x1xf16> -> tensor<?x1xf32>
    return %z : tensor<?x1xf32>
  }
}
