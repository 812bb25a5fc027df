// RUN: lmc-opt %s --split-input-file --lmc-mixed-precision=precision=f16 | FileCheck %s
// RUN: lmc-opt %s --split-input-file --lmc-mixed-precision=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: not lmc-opt %s --split-input-file --lmc-mixed-precision=precision=f8 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: precision must be f16 or bf16, got 'f8'

// Tests that hidden layers store f16 (parameters, matmul, bias, gelu) while
// the output layer, softmax and the signature stay f32, with one cast per
// crossing.
// CHECK-LABEL: lmc.parameter @hidden.kernel : tensor<4x8xf16>
// CHECK: lmc.parameter @hidden.bias : tensor<8xf16>
// CHECK: lmc.parameter @head.kernel : tensor<8x2xf32>
// CHECK: lmc.parameter @head.bias : tensor<2xf32>
// CHECK: func.func @mlp(%[[X:.*]]: tensor<?x4xf32>) -> tensor<?x2xf32>
// CHECK: %[[XH:.*]] = lmc.cast %[[X]] : tensor<?x4xf32> -> tensor<?x4xf16>
// CHECK: lmc.matmul %[[XH]], %{{.*}} : (tensor<?x4xf16>, tensor<4x8xf16>) -> tensor<?x8xf16>
// CHECK: %[[G:.*]] = lmc.gelu tanh %{{.*}} : tensor<?x8xf16>
// CHECK: %[[GF:.*]] = lmc.cast %[[G]] : tensor<?x8xf16> -> tensor<?x8xf32>
// CHECK: %[[L:.*]] = lmc.matmul %[[GF]], %{{.*}} : (tensor<?x8xf32>, tensor<8x2xf32>) -> tensor<?x2xf32>
// CHECK: %[[O:.*]] = lmc.add %[[L]], %{{.*}} : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK: return %[[O]]
// BF16-LABEL: lmc.parameter @hidden.kernel : tensor<4x8xbf16>
lmc.parameter @hidden.kernel : tensor<4x8xf32>
lmc.parameter @hidden.bias : tensor<8xf32>
lmc.parameter @head.kernel : tensor<8x2xf32>
lmc.parameter @head.bias : tensor<2xf32>
func.func @mlp(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w1 = lmc.param_load @hidden.kernel : tensor<4x8xf32>
  %b1 = lmc.param_load @hidden.bias : tensor<8xf32>
  %w2 = lmc.param_load @head.kernel : tensor<8x2xf32>
  %b2 = lmc.param_load @head.bias : tensor<2xf32>
  %h = lmc.matmul %x, %w1 : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  %hb = lmc.add %h, %b1 : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %g = lmc.gelu tanh %hb : tensor<?x8xf32>
  %l = lmc.matmul %g, %w2 : (tensor<?x8xf32>, tensor<8x2xf32>) -> tensor<?x2xf32>
  %o = lmc.add %l, %b2 : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %o : tensor<?x2xf32>
}

// -----

// Tests that softmax computes in f32 between f16 neighbours, and that a
// constant feeding an f16 op is converted, not cast.
// CHECK-LABEL: func.func @softmax_island
// CHECK-DAG: %[[C:.*]] = lmc.constant dense<5.000000e-01> : tensor<f16>
// CHECK-DAG: %[[XH:.*]] = lmc.cast %arg0 : tensor<?x8xf32> -> tensor<?x8xf16>
// CHECK-NOT: tensor<f32>
// CHECK: %[[S:.*]] = lmc.mul %[[XH]], %[[C]] : (tensor<?x8xf16>, tensor<f16>) -> tensor<?x8xf16>
// CHECK: %[[SF:.*]] = lmc.cast %[[S]] : tensor<?x8xf16> -> tensor<?x8xf32>
// CHECK: %[[P:.*]] = lmc.softmax %[[SF]] axis 1 : tensor<?x8xf32>
// CHECK: %[[PH:.*]] = lmc.cast %[[P]] : tensor<?x8xf32> -> tensor<?x8xf16>
// CHECK: lmc.mul %[[PH]], %[[XH]]
func.func @softmax_island(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %c = lmc.constant dense<0.5> : tensor<f32>
  %s = lmc.mul %x, %c : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %p = lmc.softmax %s axis 1 : tensor<?x8xf32>
  %y = lmc.mul %p, %x : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %z = lmc.neg %y : tensor<?x8xf32>
  %r = lmc.exp %z : tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

// Tests that attention and its backward compute in f16 (FlashAttention-2's
// types: f16 Q, K, V, O, dO and gradients) while the log-sum-exp the
// forward returns and the backward reads stays f32, uncast.
// CHECK-LABEL: func.func @attention_backward
// CHECK: %[[O:.*]], %[[LSE:.*]] = lmc.attention {{.*}} -> (tensor<?x2x16xf16>, tensor<?x2xf32>)
// CHECK-NOT: lmc.cast %[[LSE]]
// CHECK: lmc.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %[[O]], %[[LSE]], %{{.*}} cu_seqlens(%{{.*}}) causal : (tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?x2xf32>, tensor<?x2x16xf16>, tensor<?xi32>) -> (tensor<?x2x16xf16>, tensor<?x2x16xf16>, tensor<?x2x16xf16>)
// BF16-LABEL: func.func @attention_backward
// BF16: lmc.attention_grad {{.*}} : (tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2x16xbf16>, tensor<?x2xf32>, tensor<?x2x16xbf16>, tensor<?xi32>)
func.func @attention_backward(%q: tensor<?x2x16xf32>, %do: tensor<?x2x16xf32>, %cu: tensor<?xi32>) -> tensor<?x2x16xf32> {
  %o, %lse = lmc.attention %q, %q, %q cu_seqlens(%cu) causal : (tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>) -> (tensor<?x2x16xf32>, tensor<?x2xf32>)
  %g:3 = lmc.attention_grad %q, %q, %q, %o, %lse, %do cu_seqlens(%cu) causal : (tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x2xf32>, tensor<?x2x16xf32>, tensor<?xi32>) -> (tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>)
  %s = lmc.add %g#0, %g#1 : (tensor<?x2x16xf32>, tensor<?x2x16xf32>) -> tensor<?x2x16xf32>
  %t = lmc.add %s, %g#2 : (tensor<?x2x16xf32>, tensor<?x2x16xf32>) -> tensor<?x2x16xf32>
  return %t : tensor<?x2x16xf32>
}
