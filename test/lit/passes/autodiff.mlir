// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-autodiff | FileCheck %s

// Tests that a loss function becomes a step taking the loss scale and
// returning one dense gradient per parameter in module order (a parameter
// the loss does not reach gets zeros), with the backward after the forward.
// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[SCALE:.*]]: tensor<f32> {lmc.loss_scale})
// CHECK-SAME: -> (tensor<f32> {lmc.loss}, tensor<8x2xf32> {lmc.gradient = "w"}, tensor<2xf32> {lmc.gradient = "unused"})
// CHECK: %[[Y:.*]] = lmc.matmul %[[X]], %[[W:.*]] :
// CHECK: %[[T:.*]] = lmc.tanh %[[Y]]
// CHECK: %[[ONE:.*]] = lmc.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[SQ:.*]] = lmc.mul %[[T]], %[[T]]
// CHECK: lmc.sub %[[ONE]], %[[SQ]]
// CHECK: %[[DW:.*]] = lmc.matmul %[[X]], %{{.*}} transpose_lhs : (tensor<?x8xf32>, tensor<?x2xf32>) -> tensor<8x2xf32>
// CHECK: %[[ZERO:.*]] = lmc.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: return %{{.*}}, %[[DW]], %[[ZERO]]
module {
  lmc.parameter @w : tensor<8x2xf32>
  lmc.parameter @unused : tensor<2xf32>
  func.func @dense(%x: tensor<?x8xf32>) -> (tensor<f32> {lmc.loss}) {
    %w = lmc.param_load @w : tensor<8x2xf32>
    %u = lmc.param_load @unused : tensor<2xf32>
    %y = lmc.matmul %x, %w : (tensor<?x8xf32>, tensor<8x2xf32>) -> tensor<?x2xf32>
    %t = lmc.tanh %y : tensor<?x2xf32>
    %r = lmc.reduce_sum %t axis 1 : tensor<?x2xf32> -> tensor<?xf32>
    %l = lmc.reduce_sum %r axis 0 : tensor<?xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// Tests that a gathered table's gradient is row-sparse (ids and rows, never
// a dense table) and that attention keeps its log-sum-exp for one
// lmc.attention_grad.
// CHECK-LABEL: func.func @sparse_and_attention
// CHECK-SAME: -> (tensor<f32> {lmc.loss}, tensor<?xi64> {lmc.gradient = "table", lmc.sparse = "indices"}, tensor<?x8xf32> {lmc.gradient = "table", lmc.sparse = "rows"})
// CHECK: %[[O:.*]], %[[LSE:.*]] = lmc.attention %{{.*}} cu_seqlens(%{{.*}}) causal : {{.*}} -> (tensor<?x1x4xf32>, tensor<?x1xf32>)
// CHECK: lmc.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %[[O]], %[[LSE]], %{{.*}} cu_seqlens(%{{.*}}) causal
// CHECK-NOT: tensor<50x8xf32> {lmc.gradient
module {
  lmc.parameter @table : tensor<50x8xf32>
  func.func @sparse_and_attention(%ids: tensor<?xi64>, %cu: tensor<?xi32>) -> (tensor<f32> {lmc.loss}) {
    %table = lmc.param_load @table : tensor<50x8xf32>
    %x = lmc.embedding %table[%ids] : (tensor<50x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
    %h = lmc.reshape %x : tensor<?x8xf32> -> tensor<?x2x4xf32>
    %q = lmc.slice %h axis 1 start 0 limit 1 : tensor<?x2x4xf32> -> tensor<?x1x4xf32>
    %k = lmc.slice %h axis 1 start 1 limit 2 : tensor<?x2x4xf32> -> tensor<?x1x4xf32>
    %o = lmc.attention %q, %k, %k cu_seqlens(%cu) causal
        : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?xi32>) -> tensor<?x1x4xf32>
    %s = lmc.reduce_sum %o axis 2 : tensor<?x1x4xf32> -> tensor<?x1xf32>
    %r = lmc.reduce_sum %s axis 1 : tensor<?x1xf32> -> tensor<?xf32>
    %l = lmc.reduce_sum %r axis 0 : tensor<?xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

module {
  lmc.parameter @w : tensor<2xf32>
  // expected-error @+1 {{lmc-autodiff: the loss (result #0) must be a tensor<f32> scalar, got 'tensor<2xf32>'}}
  func.func @not_scalar() -> (tensor<2xf32> {lmc.loss}) {
    %w = lmc.param_load @w : tensor<2xf32>
    return %w : tensor<2xf32>
  }
}

// -----

module {
  // expected-error @+1 {{lmc-autodiff: the loss does not depend on any parameter}}
  func.func @constant_loss(%x: tensor<f32>) -> (tensor<f32> {lmc.loss}) {
    return %x : tensor<f32>
  }
}

// -----

module {
  lmc.parameter @w : tensor<2xf32>
  func.func @no_rule(%x: tensor<?x2xf32>) -> (tensor<f32> {lmc.loss}) {
    %w = lmc.param_load @w : tensor<2xf32>
    %y = lmc.mul %x, %w : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    // expected-error @+1 {{lmc-autodiff: no gradient rule for 'lmc.fc.numeric'}}
    %n = lmc.fc.numeric %y none : tensor<?x2xf32> -> tensor<?x2xf32>
    %r = lmc.reduce_sum %n axis 1 : tensor<?x2xf32> -> tensor<?xf32>
    %l = lmc.reduce_sum %r axis 0 : tensor<?xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

module {
  lmc.parameter @w : tensor<4x3xf32>
  func.func @computed_table(%ids: tensor<?xi64>) -> (tensor<f32> {lmc.loss}) {
    %w = lmc.param_load @w : tensor<4x3xf32>
    %t = lmc.tanh %w : tensor<4x3xf32>
    // expected-error @+1 {{the table must be a parameter read by lmc.param_load}}
    %x = lmc.embedding %t[%ids] : (tensor<4x3xf32>, tensor<?xi64>) -> tensor<?x3xf32>
    %r = lmc.reduce_sum %x axis 1 : tensor<?x3xf32> -> tensor<?xf32>
    %l = lmc.reduce_sum %r axis 0 : tensor<?xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

module {
  // expected-error @+1 {{lmc-autodiff: parameter @w is both gathered from (row-sparse gradient) and used whole (dense gradient); combining the two is not supported}}
  lmc.parameter @w : tensor<4x3xf32>
  func.func @tied(%ids: tensor<?xi64>, %h: tensor<?x3xf32>) -> (tensor<f32> {lmc.loss}) {
    %w = lmc.param_load @w : tensor<4x3xf32>
    %x = lmc.embedding %w[%ids] : (tensor<4x3xf32>, tensor<?xi64>) -> tensor<?x3xf32>
    %y = lmc.matmul %x, %w transpose_rhs : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<?x4xf32>
    %r = lmc.reduce_sum %y axis 1 : tensor<?x4xf32> -> tensor<?xf32>
    %l = lmc.reduce_sum %r axis 0 : tensor<?xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}
