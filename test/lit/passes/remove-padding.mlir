// RUN: lmc-opt %s --split-input-file --lmc-remove-padding | FileCheck %s
// RUN: lmc-opt %s --split-input-file --lmc-remove-padding=keep-outputs-packed | FileCheck %s --check-prefix=PACKED

// Tests that an encoder block under a pooling unpad runs on packed tokens:
// the unpad moves to the input, attention becomes packed over cu_seqlens.
// CHECK-LABEL: func.func @encoder_block
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[LEN:.*]]: tensor<?xi32>, %[[W:.*]]: tensor<8x8xf32>, %[[G:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[P:.*]], %[[CU:.*]] = lmc.unpad %[[X]], %[[LEN]] : (tensor<?x?x8xf32>, tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?xi32>)
// CHECK-NEXT: %[[H:.*]] = lmc.matmul %[[P]], %[[W]] : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: %[[HEADS:.*]] = lmc.reshape %[[H]] : tensor<?x8xf32> -> tensor<?x2x4xf32>
// CHECK-NEXT: %[[A:.*]] = lmc.attention %[[HEADS]], %[[HEADS]], %[[HEADS]] cu_seqlens(%[[CU]]) causal : (tensor<?x2x4xf32>, tensor<?x2x4xf32>, tensor<?x2x4xf32>, tensor<?xi32>) -> tensor<?x2x4xf32>
// CHECK-NEXT: %[[M:.*]] = lmc.reshape %[[A]] : tensor<?x2x4xf32> -> tensor<?x8xf32>
// CHECK-NEXT: %[[R:.*]] = lmc.add %[[P]], %[[M]] : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: %[[N:.*]] = lmc.layer_norm %[[R]], %[[G]], %[[G]]
// CHECK-NEXT: %[[POOLED:.*]] = lmc.segment_reduce mean %[[N]], %[[CU]]
// CHECK-NEXT: return %[[POOLED]]
func.func @encoder_block(%x: tensor<?x?x8xf32>, %len: tensor<?xi32>, %w: tensor<8x8xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  %h = lmc.matmul %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %heads = lmc.reshape %h : tensor<?x?x8xf32> -> tensor<?x?x2x4xf32>
  %a = lmc.attention %heads, %heads, %heads lengths(%len) causal : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?xi32>) -> tensor<?x?x2x4xf32>
  %m = lmc.reshape %a : tensor<?x?x2x4xf32> -> tensor<?x?x8xf32>
  %r = lmc.add %x, %m : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %n = lmc.layer_norm %r, %g, %g epsilon 1.0e-05 : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %p, %cu = lmc.unpad %n, %len : (tensor<?x?x8xf32>, tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?xi32>)
  %pooled = lmc.segment_reduce mean %p, %cu : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %pooled : tensor<?x8xf32>
}

// -----

// Tests that ids of a sequence feature are packed before their
// feature-column transform and embedding.
// CHECK-LABEL: func.func @sequence_ids
// CHECK-NEXT: %[[P:.*]], %[[CU:.*]] = lmc.unpad %arg0, %arg1 : (tensor<?x?xi64>, tensor<?xi32>) -> (tensor<?xi64>, tensor<?xi32>)
// CHECK-NEXT: lmc.fc.hash_bucket %[[P]] buckets 100 : tensor<?xi64> -> tensor<?xi64>
// CHECK-NEXT: lmc.embedding {{.*}} : (tensor<100x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
func.func @sequence_ids(%ids: tensor<?x?xi64>, %len: tensor<?xi32>, %table: tensor<100x4xf32>) -> tensor<?x4xf32> {
  %h = lmc.fc.hash_bucket %ids buckets 100 : tensor<?x?xi64> -> tensor<?x?xi64>
  %e = lmc.embedding %table[%h] : (tensor<100x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %p, %cu = lmc.unpad %e, %len : (tensor<?x?x4xf32>, tensor<?xi32>) -> (tensor<?x4xf32>, tensor<?xi32>)
  %first = lmc.segment_reduce first %p, %cu : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
  return %first : tensor<?x4xf32>
}

// -----

// Tests that attention over other lengths than the unpad's stays padded.
// CHECK-LABEL: func.func @attention_with_other_lengths
// CHECK: lmc.attention %arg0, %arg0, %arg0 lengths(%arg2)
// CHECK-NEXT: lmc.unpad %{{.*}}, %arg1
func.func @attention_with_other_lengths(%x: tensor<?x?x2x4xf32>, %len: tensor<?xi32>, %other: tensor<?xi32>) -> tensor<?x2x4xf32> {
  %a = lmc.attention %x, %x, %x lengths(%other) : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?xi32>) -> tensor<?x?x2x4xf32>
  %p, %cu = lmc.unpad %a, %len : (tensor<?x?x2x4xf32>, tensor<?xi32>) -> (tensor<?x2x4xf32>, tensor<?xi32>)
  return %p : tensor<?x2x4xf32>
}

// -----

// Tests that a value mixing sequence positions (a sum over S, broadcast
// back) is not packed: the unpad stays where it was.
// CHECK-LABEL: func.func @sum_over_positions
// CHECK: %[[S:.*]] = lmc.reduce_sum %arg0 axis 1 keep_dims
// CHECK-NEXT: %[[E:.*]] = lmc.exp %[[S]]
// CHECK-NEXT: %[[B:.*]] = lmc.add %[[E]], %arg0
// CHECK-NEXT: lmc.unpad %[[B]], %arg1
func.func @sum_over_positions(%x: tensor<?x?x4xf32>, %len: tensor<?xi32>) -> tensor<?x4xf32> {
  %s = lmc.reduce_sum %x axis 1 keep_dims : tensor<?x?x4xf32> -> tensor<?x1x4xf32>
  %e = lmc.exp %s : tensor<?x1x4xf32>
  %b = lmc.add %e, %x : (tensor<?x1x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %p, %cu = lmc.unpad %b, %len : (tensor<?x?x4xf32>, tensor<?xi32>) -> (tensor<?x4xf32>, tensor<?xi32>)
  return %p : tensor<?x4xf32>
}

// -----

// Tests that per-token outputs are computed packed and padded again at the
// return.
// CHECK-LABEL: func.func @token_states
// CHECK-NEXT: %[[P:.*]], %[[CU:.*]] = lmc.unpad %arg0, %arg1
// CHECK-NEXT: %[[A:.*]] = lmc.attention %[[P]], %[[P]], %[[P]] cu_seqlens(%[[CU]])
// CHECK-NEXT: %[[G:.*]] = lmc.gelu tanh %[[A]] : tensor<?x2x4xf32>
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = lmc.pad %[[G]], %[[CU]] : (tensor<?x2x4xf32>, tensor<?xi32>) -> (tensor<?x?x2x4xf32>, tensor<?xi32>)
// CHECK-NEXT: return %[[Y]]
func.func @token_states(%x: tensor<?x?x2x4xf32>, %len: tensor<?xi32>) -> (tensor<?x?x2x4xf32> {lmc.output = "states"}) {
  %a = lmc.attention %x, %x, %x lengths(%len) : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?xi32>) -> tensor<?x?x2x4xf32>
  %g = lmc.gelu tanh %a : tensor<?x?x2x4xf32>
  return %g : tensor<?x?x2x4xf32>
}

// -----

// Tests that padded pooling written op by op becomes segment_reduce over
// packed tokens: a masked sum over S (its lengths taken from the mask) and a
// first-token slice (its lengths taken from the attention before it).
// CHECK-LABEL: func.func @padded_pooling
// CHECK-NEXT: %[[P:.*]], %[[CU:.*]] = lmc.unpad %arg0, %arg1
// CHECK-NEXT: %[[A:.*]] = lmc.attention %[[P]], %[[P]], %[[P]] cu_seqlens(%[[CU]])
// CHECK-NEXT: %[[H:.*]] = lmc.reshape %[[A]] : tensor<?x2x4xf32> -> tensor<?x8xf32>
// CHECK: %[[S:.*]] = lmc.segment_reduce sum %[[H]], %[[CU]]
// CHECK: %[[F:.*]] = lmc.segment_reduce first %[[H]], %[[CU]]
// CHECK-NEXT: %[[F1:.*]] = lmc.reshape %[[F]] : tensor<?x8xf32> -> tensor<?x1x8xf32>
// CHECK-NEXT: return %[[S]], %[[F1]]
func.func @padded_pooling(%x: tensor<?x5x2x4xf32>, %len: tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?x1x8xf32>) {
  %a = lmc.attention %x, %x, %x lengths(%len) : (tensor<?x5x2x4xf32>, tensor<?x5x2x4xf32>, tensor<?x5x2x4xf32>, tensor<?xi32>) -> tensor<?x5x2x4xf32>
  %h = lmc.reshape %a : tensor<?x5x2x4xf32> -> tensor<?x5x8xf32>
  %iota = lmc.constant dense<[[0], [1], [2], [3], [4]]> : tensor<5x1xi32>
  %l = lmc.reshape %len : tensor<?xi32> -> tensor<?x1x1xi32>
  %valid = lmc.compare lt, %iota, %l : (tensor<5x1xi32>, tensor<?x1x1xi32>) -> tensor<?x5x1xi1>
  %zero = lmc.constant dense<0.0> : tensor<f32>
  %m = lmc.select %valid, %h, %zero : (tensor<?x5x1xi1>, tensor<?x5x8xf32>, tensor<f32>) -> tensor<?x5x8xf32>
  %s = lmc.reduce_sum %m axis 1 : tensor<?x5x8xf32> -> tensor<?x8xf32>
  %f = lmc.slice %h axis 1 start 0 limit 1 : tensor<?x5x8xf32> -> tensor<?x1x8xf32>
  return %s, %f : tensor<?x8xf32>, tensor<?x1x8xf32>
}

// -----

// Tests that with keep-outputs-packed a per-token output is returned packed,
// followed by its cu_seqlens.
// PACKED-LABEL: func.func @token_states_packed
// PACKED-SAME: -> (tensor<?x2x4xf32> {lmc.output = "states"}, tensor<?xi32> {lmc.output = "states.cu_seqlens"})
// PACKED-NEXT: %[[P:.*]], %[[CU:.*]] = lmc.unpad %arg0, %arg1
// PACKED-NEXT: %[[A:.*]] = lmc.attention %[[P]], %[[P]], %[[P]] cu_seqlens(%[[CU]])
// PACKED-NEXT: return %[[A]], %[[CU]]
func.func @token_states_packed(%x: tensor<?x?x2x4xf32>, %len: tensor<?xi32>) -> (tensor<?x?x2x4xf32> {lmc.output = "states"}) {
  %a = lmc.attention %x, %x, %x lengths(%len) : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?xi32>) -> tensor<?x?x2x4xf32>
  return %a : tensor<?x?x2x4xf32>
}

// -----

// Tests that a padded output without padded attention has no known lengths
// and is left as it is.
// PACKED-LABEL: func.func @no_lengths_packed
// PACKED-NEXT: lmc.gelu
// PACKED-NEXT: return
func.func @no_lengths_packed(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %g = lmc.gelu tanh %x : tensor<?x?x4xf32>
  return %g : tensor<?x?x4xf32>
}

// -----

// Tests that every elementwise op is computed on packed tokens, log, sqrt
// and silu among them (the ops carry the Elementwise trait; the pass keeps
// no list of its own).
// CHECK-LABEL: func.func @unary_elementwise
// CHECK-NEXT: %[[P:.*]], %[[CU:.*]] = lmc.unpad %arg0, %arg1 : (tensor<?x?x4xf32>, tensor<?xi32>) -> (tensor<?x4xf32>, tensor<?xi32>)
// CHECK-NEXT: %[[L:.*]] = lmc.log %[[P]] : tensor<?x4xf32>
// CHECK-NEXT: %[[S:.*]] = lmc.sqrt %[[L]] : tensor<?x4xf32>
// CHECK-NEXT: %[[A:.*]] = lmc.silu %[[S]] : tensor<?x4xf32>
// CHECK-NEXT: lmc.segment_reduce sum %[[A]], %[[CU]]
func.func @unary_elementwise(%x: tensor<?x?x4xf32>, %len: tensor<?xi32>) -> tensor<?x4xf32> {
  %l = lmc.log %x : tensor<?x?x4xf32>
  %s = lmc.sqrt %l : tensor<?x?x4xf32>
  %a = lmc.silu %s : tensor<?x?x4xf32>
  %p, %cu = lmc.unpad %a, %len : (tensor<?x?x4xf32>, tensor<?xi32>) -> (tensor<?x4xf32>, tensor<?xi32>)
  %sum = lmc.segment_reduce sum %p, %cu : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
  return %sum : tensor<?x4xf32>
}
