// RUN: lmc-opt %s --split-input-file --lmc-form-kernels | FileCheck %s

// Tests that a matmul is a gemm kernel that takes the bias add after it as
// its epilogue, the ops between matmuls one fused kernel, attention a kernel
// with its tile shape, and that parameters stay outside as kernel inputs.
// CHECK-LABEL: func.func @block
// CHECK: %[[W:.*]] = lmc.param_load @w
// CHECK: %[[B:.*]] = lmc.param_load @b
// CHECK: %[[H:.*]] = lmc.kernel gemm "k0"(%arg0, %[[W]], %[[B]])
// CHECK: %[[P:.*]] = lmc.matmul
// CHECK: %[[S:.*]] = lmc.add %[[P]]
// CHECK: lmc.yield %[[S]]
// CHECK: %[[F:.*]]:2 = lmc.kernel fused "k1"(%[[H]], %arg1)
// CHECK-SAME: -> (tensor<?x4x16xf16>, tensor<?xi32>)
// CHECK-NOT: lmc.add
// CHECK: lmc.gelu
// CHECK: lmc.reshape
// CHECK: lmc.unpad
// CHECK: lmc.yield
// CHECK: %[[A:.*]] = lmc.kernel attention "k2"(%[[F]]#0, %[[F]]#1) {block_k = 128 : i64, block_q = 128 : i64}
// CHECK: %[[O:.*]] = lmc.kernel fused "k3"(%[[A]], %[[F]]#1)
// CHECK: return %[[O]]
lmc.parameter @w : tensor<64x64xf16>
lmc.parameter @b : tensor<64xf16>
func.func @block(%x: tensor<?x?x64xf16>, %len: tensor<?xi32>) -> tensor<?x64xf16> {
  %w = lmc.param_load @w : tensor<64x64xf16>
  %b = lmc.param_load @b : tensor<64xf16>
  %h = lmc.matmul %x, %w : (tensor<?x?x64xf16>, tensor<64x64xf16>) -> tensor<?x?x64xf16>
  %hb = lmc.add %h, %b : (tensor<?x?x64xf16>, tensor<64xf16>) -> tensor<?x?x64xf16>
  %g = lmc.gelu tanh %hb : tensor<?x?x64xf16>
  %heads = lmc.reshape %g : tensor<?x?x64xf16> -> tensor<?x?x4x16xf16>
  %p, %cu = lmc.unpad %heads, %len : (tensor<?x?x4x16xf16>, tensor<?xi32>) -> (tensor<?x4x16xf16>, tensor<?xi32>)
  %a = lmc.attention %p, %p, %p cu_seqlens(%cu) : (tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16>
  %m = lmc.reshape %a : tensor<?x4x16xf16> -> tensor<?x64xf16>
  %o = lmc.segment_reduce first %m, %cu : (tensor<?x64xf16>, tensor<?xi32>) -> tensor<?x64xf16>
  return %o : tensor<?x64xf16>
}

// -----

// Tests the tile shapes: head dim 128 in f16 takes 128 x 64, in f32 128 x 32.
// CHECK-LABEL: func.func @tiles
// CHECK: lmc.kernel attention "k0"{{.*}} {block_k = 64 : i64, block_q = 128 : i64}
// CHECK: lmc.kernel attention "k1"{{.*}} {block_k = 32 : i64, block_q = 128 : i64}
func.func @tiles(%h: tensor<?x2x128xf16>, %f: tensor<?x2x128xf32>, %cu: tensor<?xi32>) -> (tensor<?x2x128xf16>, tensor<?x2x128xf32>) {
  %a = lmc.attention %h, %h, %h cu_seqlens(%cu) : (tensor<?x2x128xf16>, tensor<?x2x128xf16>, tensor<?x2x128xf16>, tensor<?xi32>) -> tensor<?x2x128xf16>
  %b = lmc.attention %f, %f, %f cu_seqlens(%cu) : (tensor<?x2x128xf32>, tensor<?x2x128xf32>, tensor<?x2x128xf32>, tensor<?xi32>) -> tensor<?x2x128xf32>
  return %a, %b : tensor<?x2x128xf16>, tensor<?x2x128xf32>
}

// -----

// Tests that an add stays out of the gemm kernel when it is not a bias:
// another user of the product, a bias of another width, or an add of two
// products.
// CHECK-LABEL: func.func @not_bias
// CHECK: lmc.kernel gemm "k0"
// CHECK-NOT: lmc.add
// CHECK: lmc.yield
// CHECK: lmc.kernel fused "k1"
// CHECK: lmc.add
// CHECK: lmc.kernel gemm "k2"
// CHECK-NOT: lmc.add
// CHECK: lmc.yield
// CHECK: lmc.kernel fused "k3"
// CHECK: lmc.add
func.func @not_bias(%x: tensor<?x8xf32>, %w: tensor<8x8xf32>, %b: tensor<1xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %h = lmc.matmul %x, %w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %hb = lmc.add %h, %h : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %g = lmc.matmul %hb, %w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %gb = lmc.add %g, %b : (tensor<?x8xf32>, tensor<1xf32>) -> tensor<?x8xf32>
  return %gb, %hb : tensor<?x8xf32>, tensor<?x8xf32>
}
