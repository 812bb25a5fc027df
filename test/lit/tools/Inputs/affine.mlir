// y = x W + 1 with W all ones: each output is the row sum plus one.
lmc.parameter @w : tensor<2x2xf32> initializer {kind = "ones"}
func.func @affine(%x: tensor<?x2xf32>) -> (tensor<?x2xf32> {lmc.output = "y"}) {
  %w = lmc.param_load @w : tensor<2x2xf32>
  %y = lmc.matmul %x, %w : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %one = lmc.constant dense<1.0> : tensor<f32>
  %z = lmc.add %y, %one : (tensor<?x2xf32>, tensor<f32>) -> tensor<?x2xf32>
  return %z : tensor<?x2xf32>
}
