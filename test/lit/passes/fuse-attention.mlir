// RUN: lmc-opt %s --split-input-file --lmc-fuse-attention --verify-diagnostics | FileCheck %s

// Tests that the scale multiplied after Q K^T, with head-split transposes
// around the chain, becomes one attention over the untransposed operands.
// CHECK-LABEL: func.func @scale_after_product
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x2x8xf32>, %[[K:.*]]: tensor<?x4x2x8xf32>, %[[V:.*]]: tensor<?x4x2x8xf32>)
// CHECK: %[[A:.*]] = lmc.attention %[[Q]], %[[K]], %[[V]] scale 1.250000e-01 : (tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) -> tensor<?x4x2x8xf32>
// CHECK-NOT: lmc.softmax
// CHECK-NOT: lmc.matmul
func.func @scale_after_product(%q: tensor<?x4x2x8xf32>, %k: tensor<?x4x2x8xf32>, %v: tensor<?x4x2x8xf32>) -> tensor<?x2x4x8xf32> {
  %qt = lmc.transpose %q [0, 2, 1, 3] : tensor<?x4x2x8xf32> -> tensor<?x2x4x8xf32>
  %kt = lmc.transpose %k [0, 2, 1, 3] : tensor<?x4x2x8xf32> -> tensor<?x2x4x8xf32>
  %vt = lmc.transpose %v [0, 2, 1, 3] : tensor<?x4x2x8xf32> -> tensor<?x2x4x8xf32>
  %s = lmc.matmul %qt, %kt transpose_rhs : (tensor<?x2x4x8xf32>, tensor<?x2x4x8xf32>) -> tensor<?x2x4x4xf32>
  %c = lmc.constant dense<0.125> : tensor<f32>
  %scaled = lmc.mul %s, %c : (tensor<?x2x4x4xf32>, tensor<f32>) -> tensor<?x2x4x4xf32>
  %p = lmc.softmax %scaled axis 3 : tensor<?x2x4x4xf32>
  %o = lmc.matmul %p, %vt : (tensor<?x2x4x4xf32>, tensor<?x2x4x8xf32>) -> tensor<?x2x4x8xf32>
  return %o : tensor<?x2x4x8xf32>
}

// -----

// Tests that a scale folded into Q before the product is found, and that
// head-major operands get transposes.
// CHECK-LABEL: func.func @scale_before_product
// CHECK: %[[QT:.*]] = lmc.transpose %arg0 [0, 2, 1, 3]
// CHECK: %[[A:.*]] = lmc.attention %[[QT]], %{{.*}}, %{{.*}} scale 2.500000e-01
// CHECK: %[[O:.*]] = lmc.transpose %[[A]] [0, 2, 1, 3] : tensor<2x4x2x8xf32> -> tensor<2x2x4x8xf32>
// CHECK: return %[[O]]
func.func @scale_before_product(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %c = lmc.constant dense<0.25> : tensor<f32>
  %qs = lmc.mul %c, %q : (tensor<f32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  %s = lmc.matmul %qs, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %s axis 3 : tensor<2x2x4x4xf32>
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that dividing by sqrt(D) becomes the reciprocal scale.
// CHECK-LABEL: func.func @divided_scale
// CHECK: lmc.attention {{.*}} scale 0.353553385
func.func @divided_scale(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %c = lmc.constant dense<2.828427> : tensor<f32>
  %scaled = lmc.div %s, %c : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %scaled axis 3 : tensor<2x2x4x4xf32>
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that a softmax written as exp, max, sub and sum is recognized.
// CHECK-LABEL: func.func @decomposed_softmax
// CHECK: lmc.attention {{.*}} scale 1.000000e+00
// CHECK-NOT: lmc.exp
// CHECK-NOT: lmc.reduce_sum
func.func @decomposed_softmax(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %m = lmc.reduce_max %s axis 3 keep_dims : tensor<2x2x4x4xf32> -> tensor<2x2x4x1xf32>
  %d = lmc.sub %s, %m : (tensor<2x2x4x4xf32>, tensor<2x2x4x1xf32>) -> tensor<2x2x4x4xf32>
  %e = lmc.exp %d : tensor<2x2x4x4xf32>
  %z = lmc.reduce_sum %e axis 3 keep_dims : tensor<2x2x4x4xf32> -> tensor<2x2x4x1xf32>
  %p = lmc.div %e, %z : (tensor<2x2x4x4xf32>, tensor<2x2x4x1xf32>) -> tensor<2x2x4x4xf32>
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that an additive lower-triangular mask becomes the causal flag.
// CHECK-LABEL: func.func @causal_mask
// CHECK: lmc.attention {{.*}} causal scale 1.000000e+00
func.func @causal_mask(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %mask = lmc.constant dense<[[0.0, -1.0e9, -1.0e9, -1.0e9], [0.0, 0.0, -1.0e9, -1.0e9], [0.0, 0.0, 0.0, -1.0e9], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %masked = lmc.add %s, %mask : (tensor<2x2x4x4xf32>, tensor<4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %masked axis 3 : tensor<2x2x4x4xf32>
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that an additive key-length mask built from lengths becomes lengths.
// CHECK-LABEL: func.func @key_length_mask
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<2xi32>
// CHECK: lmc.attention {{.*}} lengths(%[[LEN]]) scale 1.000000e+00
// CHECK-NOT: lmc.select
func.func @key_length_mask(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>, %len: tensor<2xi32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %iota = lmc.constant dense<[0, 1, 2, 3]> : tensor<4xi32>
  %l = lmc.reshape %len : tensor<2xi32> -> tensor<2x1x1x1xi32>
  %valid = lmc.compare lt, %iota, %l : (tensor<4xi32>, tensor<2x1x1x1xi32>) -> tensor<2x1x1x4xi1>
  %zero = lmc.constant dense<0.0> : tensor<f32>
  %neg = lmc.constant dense<-1.0e9> : tensor<f32>
  %bias = lmc.select %valid, %zero, %neg : (tensor<2x1x1x4xi1>, tensor<f32>, tensor<f32>) -> tensor<2x1x1x4xf32>
  %masked = lmc.add %s, %bias : (tensor<2x2x4x4xf32>, tensor<2x1x1x4xf32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %masked axis 3 : tensor<2x2x4x4xf32>
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that a key-length mask applied with select, together with a causal
// mask, becomes both flags.
// CHECK-LABEL: func.func @selected_key_length_and_causal
// CHECK: lmc.attention {{.*}} lengths(%arg3) causal scale 1.000000e+00
func.func @selected_key_length_and_causal(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>, %len: tensor<2xi64>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %mask = lmc.constant dense<[[[0.0, -1.0e9, -1.0e9, -1.0e9], [0.0, 0.0, -1.0e9, -1.0e9], [0.0, 0.0, 0.0, -1.0e9], [0.0, 0.0, 0.0, 0.0]]]> : tensor<1x4x4xf32>
  %causal = lmc.add %mask, %s : (tensor<1x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %iota = lmc.constant dense<[[[[0, 1, 2, 3]]]]> : tensor<1x1x1x4xi64>
  %l = lmc.reshape %len : tensor<2xi64> -> tensor<2x1x1x1xi64>
  %valid = lmc.compare lt, %iota, %l : (tensor<1x1x1x4xi64>, tensor<2x1x1x1xi64>) -> tensor<2x1x1x4xi1>
  %neg = lmc.constant dense<0xFF800000> : tensor<f32>
  %masked = lmc.select %valid, %causal, %neg : (tensor<2x1x1x4xi1>, tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %masked axis 3 : tensor<2x2x4x4xf32>
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that a softmax over the query axis is left alone, with a remark.
// CHECK-LABEL: func.func @softmax_over_queries
// CHECK-NOT: lmc.attention
func.func @softmax_over_queries(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %s axis 2 : tensor<2x2x4x4xf32>
  // expected-remark @+1 {{not fused into lmc.attention: softmax over axis 2, not the last (key) axis}}
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that scores used elsewhere keep the chain unfused, with a remark.
// CHECK-LABEL: func.func @scores_with_another_user
// CHECK-NOT: lmc.attention
func.func @scores_with_another_user(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> (tensor<2x2x4x8xf32>, tensor<2x2x4x4xf32>) {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %s axis 3 : tensor<2x2x4x4xf32>
  // expected-remark @+1 {{not fused into lmc.attention: the scores Q K^T have another user}}
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o, %s : tensor<2x2x4x8xf32>, tensor<2x2x4x4xf32>
}

// -----

// Tests that an arbitrary additive bias is not modelled, with a remark.
// CHECK-LABEL: func.func @arbitrary_bias
// CHECK-NOT: lmc.attention
func.func @arbitrary_bias(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>, %bias: tensor<2x2x4x4xf32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %b = lmc.add %s, %bias : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %b axis 3 : tensor<2x2x4x4xf32>
  // expected-remark @+1 {{not fused into lmc.attention: an additive bias that is neither a causal nor a key-length mask}}
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that a scale that is not a constant keeps the chain, with a remark.
// CHECK-LABEL: func.func @scale_from_an_argument
// CHECK-NOT: lmc.attention
func.func @scale_from_an_argument(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>, %c: tensor<f32>) -> tensor<2x2x4x8xf32> {
  %s = lmc.matmul %q, %k transpose_rhs : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x4xf32>
  %scaled = lmc.mul %s, %c : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %p = lmc.softmax %scaled axis 3 : tensor<2x2x4x4xf32>
  // expected-remark @+1 {{not fused into lmc.attention: the scores are not a product Q K^T of [B, H, S, D] operands, scaled by a constant}}
  %o = lmc.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}

// -----

// Tests that products without a softmax are left alone without a remark.
// CHECK-LABEL: func.func @plain_matmuls
// CHECK: lmc.matmul
// CHECK: lmc.matmul
func.func @plain_matmuls(%a: tensor<2x2x4x4xf32>, %b: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  %e = lmc.exp %a : tensor<2x2x4x4xf32>
  %o = lmc.matmul %e, %b : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  %p = lmc.matmul %a, %o : (tensor<2x2x4x4xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %p : tensor<2x2x4x8xf32>
}
