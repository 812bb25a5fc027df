// RUN: lmc-opt %s --split-input-file --verify-diagnostics --lmc-attach-loss | FileCheck %s

// Tests that binary cross-entropy is written in its stable form on the
// named output, with the label as a new last argument, and that the
// function then returns only the mean loss.
// CHECK-LABEL: func.func @ranker
// CHECK-SAME: %[[CLICKED:[a-z0-9]+]]: tensor<?x1xf32> {lmc.feature = "clicked", lmc.ingest = "value"}
// CHECK-SAME: -> (tensor<f32> {lmc.loss, lmc.output = "loss"})
// CHECK: %[[Z:.*]] = lmc.add
// CHECK: %[[NZ:.*]] = lmc.neg %[[Z]]
// CHECK: %[[ABS:.*]] = lmc.max %[[Z]], %[[NZ]]
// CHECK: lmc.exp
// CHECK: lmc.log
// CHECK: lmc.mul %[[Z]], %[[CLICKED]]
// CHECK: %[[SUM:.*]] = lmc.reduce_sum %{{.*}} axis 0 : tensor<1xf32> -> tensor<f32>
// CHECK: %[[COUNT:.*]] = lmc.reduce_sum %{{.*}} axis 0 : tensor<1xf32> -> tensor<f32>
// CHECK: %[[MEAN:.*]] = lmc.div %[[SUM]], %[[COUNT]]
// CHECK: return %[[MEAN]] : tensor<f32>
module attributes {lmc.training = {loss = "binary_cross_entropy", label = "clicked", output = "ctr_logit"}} {
  lmc.parameter @w : tensor<4x1xf32>
  lmc.parameter @b : tensor<1xf32>
  func.func @ranker(%x: tensor<?x4xf32> {lmc.feature = "x", lmc.ingest = "value"})
      -> (tensor<?x1xf32> {lmc.output = "ctr_logit"}, tensor<?x4xf32> {lmc.output = "features"}) {
    %w = lmc.param_load @w : tensor<4x1xf32>
    %b = lmc.param_load @b : tensor<1xf32>
    %y = lmc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x1xf32>) -> tensor<?x1xf32>
    %z = lmc.add %y, %b : (tensor<?x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
    return %z, %x : tensor<?x1xf32>, tensor<?x4xf32>
  }
}

// -----

// Tests that softmax cross-entropy takes class ids and picks the label's
// logit with a one-hot row.
// CHECK-LABEL: func.func @classifier
// CHECK-SAME: %[[LABEL:[a-z0-9]+]]: tensor<?x1xi64> {lmc.feature = "class", lmc.ingest = "value"}
// CHECK: lmc.reduce_max %{{.*}} axis 1 keep_dims
// CHECK: lmc.fc.indicator %[[LABEL]] buckets 3
module attributes {lmc.training = {loss = "softmax_cross_entropy", label = "class"}} {
  func.func @classifier(%x: tensor<?x3xf32>) -> (tensor<?x3xf32> {lmc.output = "logits"}) {
    return %x : tensor<?x3xf32>
  }
}

// -----

// CHECK-LABEL: func.func @regressor
// CHECK: %[[E:.*]] = lmc.sub
// CHECK: lmc.mul %[[E]], %[[E]]
module attributes {lmc.training = {loss = "mean_squared_error", label = "target"}} {
  func.func @regressor(%x: tensor<?x2xf32>) -> (tensor<?x2xf32> {lmc.output = "value"}) {
    return %x : tensor<?x2xf32>
  }
}

// -----

// expected-error @+1 {{lmc.training: unknown loss 'hinge' (binary_cross_entropy, softmax_cross_entropy, mean_squared_error)}}
module attributes {lmc.training = {loss = "hinge", label = "y"}} {
  func.func @f(%x: tensor<?x2xf32>) -> (tensor<?x2xf32> {lmc.output = "value"}) {
    return %x : tensor<?x2xf32>
  }
}

// -----

// expected-error @+1 {{lmc.training: no model output named 'score'}}
module attributes {lmc.training = {loss = "mean_squared_error", label = "y", output = "score"}} {
  func.func @f(%x: tensor<?x2xf32>) -> (tensor<?x2xf32> {lmc.output = "value"}) {
    return %x : tensor<?x2xf32>
  }
}

// -----

module attributes {lmc.training = {loss = "mean_squared_error", label = "y"}} {
  // expected-error @+1 {{lmc.training: the loss reads a [batch, units] f32 output, got 'tensor<?x?x2xf32>'}}
  func.func @f(%x: tensor<?x?x2xf32>) -> (tensor<?x?x2xf32> {lmc.output = "value"}) {
    return %x : tensor<?x?x2xf32>
  }
}

// -----

// expected-error @+1 {{lmc-attach-loss: the module has no lmc.training attribute (a spec's training section declares one)}}
module {
}
