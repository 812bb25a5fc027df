// A model of 10 parameter elements (a 4x2 weight and 2 biases) with a
// training section: small enough to state ZeRO's per-rank bytes exactly.
module attributes {lmc.training = {loss = "mean_squared_error", label = "y"}} {
  lmc.parameter @w : tensor<4x2xf32>
  lmc.parameter @b : tensor<2xf32>
  func.func @tiny(%x: tensor<?x4xf32> {lmc.feature = "x", lmc.ingest = "value"})
      -> (tensor<?x2xf32> {lmc.output = "y_hat"}) {
    %w = lmc.param_load @w : tensor<4x2xf32>
    %b = lmc.param_load @b : tensor<2xf32>
    %h = lmc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    %y = lmc.add %h, %b : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    return %y : tensor<?x2xf32>
  }
}
