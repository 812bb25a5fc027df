// Tests every verifier rule of the lmc dialect: one failing case per rule
// (each op's documentation lists its rules), then cases that must verify.
// RUN: lmc-opt %s --split-input-file --verify-diagnostics
// Tests that a parameter must have a static shape.
// expected-error @+1 {{must have a static shape}}
lmc.parameter @dynamic : tensor<?x4xf32>

// -----

// Tests that an initializer names a known kind.
// expected-error @+1 {{initializer kind 'xavier' is not one of zeros, ones, truncated_normal, normal, uniform, glorot_uniform}}
lmc.parameter @w : tensor<4xf32> initializer {kind = "xavier"}

// -----

// Tests that an initializer has a kind.
// expected-error @+1 {{initializer needs a string 'kind'}}
lmc.parameter @w : tensor<4xf32> initializer {stddev = 1.0 : f64}

// -----

// Tests that an initializer takes only its kind's fields.
// expected-error @+1 {{initializer 'zeros' takes no field 'stddev'}}
lmc.parameter @w : tensor<4xf32> initializer {kind = "zeros", stddev = 1.0 : f64}

// -----

// Tests that an initializer's fields are f64.
// expected-error @+1 {{initializer field 'stddev' must be an f64}}
lmc.parameter @w : tensor<4xf32> initializer {kind = "normal", stddev = 1.0 : f32}

// -----

// Tests that an initializer has the fields its kind needs.
// expected-error @+1 {{initializer 'uniform' needs the field 'max'}}
lmc.parameter @w : tensor<4xf32> initializer {kind = "uniform", min = 0.0 : f64}

// -----

// Tests that a normal initializer's stddev is positive.
// expected-error @+1 {{initializer stddev must be positive, got 0}}
lmc.parameter @w : tensor<4xf32> initializer {kind = "truncated_normal", stddev = 0.0 : f64}

// -----

// Tests that a uniform initializer's min is below its max.
// expected-error @+1 {{initializer min 1.000000e+00 must be less than max 1.000000e+00}}
lmc.parameter @w : tensor<4xf32> initializer {kind = "uniform", min = 1.0 : f64, max = 1.0 : f64}

// -----

// Tests that param_load must name an lmc.parameter.
func.func @not_a_parameter() {
  // expected-error @+1 {{@missing does not name an lmc.parameter}}
  %0 = lmc.param_load @missing : tensor<4xf32>
  return
}

// -----

// Tests that param_load must name an lmc.parameter, not another symbol.
func.func @names_a_function() {
  // expected-error @+1 {{@names_a_function does not name an lmc.parameter}}
  %0 = lmc.param_load @names_a_function : tensor<4xf32>
  return
}

// -----

// Tests that param_load's type must equal the parameter's.
lmc.parameter @w : tensor<4x4xf32>
func.func @wrong_type() {
  // expected-error @+1 {{result type 'tensor<4x4xf16>' does not match the parameter's type 'tensor<4x4xf32>'}}
  %0 = lmc.param_load @w : tensor<4x4xf16>
  return
}

// -----

// Tests that a constant's result type equals its value's type.
func.func @case1() {
  // expected-error @+1 {{failed to verify that all of {value, result} have same type}}
  %0 = "lmc.constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<f16>
  return
}

// -----

// Tests that matmul operands have rank 2 or more.
func.func @case2(%a: tensor<4xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{operands must have rank 2 or more, got 1 and 2}}
  %0 = lmc.matmul %a, %b : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that matmul's rhs has rank 2 or the rank of lhs.
func.func @case3(%a: tensor<2x3x4x5xf32>, %b: tensor<3x5x6xf32>) {
  // expected-error @+1 {{rhs must have rank 2 or the rank of lhs (4), got 3}}
  %0 = lmc.matmul %a, %b : (tensor<2x3x4x5xf32>, tensor<3x5x6xf32>) -> tensor<2x3x4x6xf32>
  return
}

// -----

// Tests that matmul batch dimensions are compatible.
func.func @case4(%a: tensor<2x4x5xf32>, %b: tensor<3x5x6xf32>) {
  // expected-error @+1 {{batch dimensions 2 and 3 are not compatible}}
  %0 = lmc.matmul %a, %b : (tensor<2x4x5xf32>, tensor<3x5x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

// Tests that matmul contraction dimensions are compatible.
func.func @case5(%a: tensor<?x4x5xf32>, %b: tensor<6x5xf32>) {
  // expected-error @+1 {{contraction dimensions 5 and 6 are not compatible}}
  %0 = lmc.matmul %a, %b : (tensor<?x4x5xf32>, tensor<6x5xf32>) -> tensor<?x4x5xf32>
  return
}

// -----

// Tests that matmul operands and result share one element type.
func.func @case6(%a: tensor<4x5xf32>, %b: tensor<5x6xf16>) {
  // expected-error @+1 {{operands and result must share one element type, got 'f32' and 'f16'}}
  %0 = lmc.matmul %a, %b : (tensor<4x5xf32>, tensor<5x6xf16>) -> tensor<4x6xf32>
  return
}

// -----

// Tests that matmul's result shape is [batch..., m, n].
func.func @case7(%a: tensor<?x4x5xf32>, %b: tensor<6x5xf32>) {
  // expected-error @+1 {{result shape ?x4x5 is not compatible with the expected ?x4x6}}
  %0 = lmc.matmul %a, %b transpose_rhs : (tensor<?x4x5xf32>, tensor<6x5xf32>) -> tensor<?x4x5xf32>
  return
}

// -----

// Tests that transpose_lhs swaps lhs's inner dimensions.
func.func @case8(%a: tensor<5x4xf32>, %b: tensor<4x6xf32>) {
  // expected-error @+1 {{contraction dimensions 5 and 4 are not compatible}}
  %0 = lmc.matmul %a, %b transpose_lhs : (tensor<5x4xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  return
}

// -----

// Tests that elementwise operands and result share one element type.
func.func @case9(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{operands and result must share one element type}}
  %0 = lmc.add %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

// Tests that elementwise operand shapes broadcast.
func.func @case10(%a: tensor<?x4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{operand shapes ?x4, 3 do not broadcast}}
  %0 = lmc.mul %a, %b : (tensor<?x4xf32>, tensor<3xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that an elementwise result is compatible with the broadcast shape.
func.func @case11(%a: tensor<2x1xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{result shape 2x1 is not compatible with the expected 2x3}}
  %0 = lmc.max %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x1xf32>
  return
}

// -----

// Tests that an elementwise result keeps the broadcast rank.
func.func @case12(%a: tensor<4xi64>, %b: tensor<i64>) {
  // expected-error @+1 {{result shape 1x4 is not compatible with the expected 4}}
  %0 = lmc.sub %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<1x4xi64>
  return
}

// -----

// Tests that elementwise ops take numeric tensors, not i1.
func.func @case13(%a: tensor<4xi1>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = lmc.div %a, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return
}

// -----

// Tests that a unary op's result type equals its operand type.
func.func @case14(%a: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "lmc.exp"(%a) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

// Tests that transcendental unary ops take floats.
func.func @case15(%a: tensor<4xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %0 = lmc.tanh %a : tensor<4xi32>
  return
}

// -----

// Tests that compare operands share one element type.
func.func @case16(%a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+1 {{operands must share one element type}}
  %0 = lmc.compare eq, %a, %b : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xi1>
  return
}

// -----

// Tests that compare produces i1.
func.func @case17(%a: tensor<4xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = lmc.compare eq, %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that compare operands broadcast.
func.func @case18(%a: tensor<4xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{operand shapes 4, 5 do not broadcast}}
  %0 = lmc.compare lt, %a, %b : (tensor<4xf32>, tensor<5xf32>) -> tensor<4xi1>
  return
}

// -----

// Tests that select's branches and result share one element type.
func.func @case19(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{on_true, on_false and result must share one element type}}
  %0 = lmc.select %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

// Tests that select's operands broadcast.
func.func @case20(%c: tensor<3xi1>, %a: tensor<4xf32>) {
  // expected-error @+1 {{operand shapes 3, 4, 4 do not broadcast}}
  %0 = lmc.select %c, %a, %a : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that select's result is compatible with the broadcast shape.
func.func @case21(%c: tensor<2x1xi1>, %a: tensor<4xf32>) {
  // expected-error @+1 {{result shape 4 is not compatible with the expected 2x4}}
  %0 = lmc.select %c, %a, %a : (tensor<2x1xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that a reduction axis is in range.
func.func @case22(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range [0, 2)}}
  %0 = lmc.reduce_sum %a axis 2 : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

// Tests that a reduction axis is not negative.
func.func @case23(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{axis -1 is out of range [0, 2)}}
  %0 = lmc.reduce_max %a axis -1 : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

// Tests that a reduction keeps the element type.
func.func @case24(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{input and result must share one element type}}
  %0 = lmc.reduce_sum %a axis 1 : tensor<4x8xf32> -> tensor<4xf16>
  return
}

// -----

// Tests that a reduction removes its axis.
func.func @case25(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 8 is not compatible with the expected 4}}
  %0 = lmc.reduce_sum %a axis 1 : tensor<4x8xf32> -> tensor<8xf32>
  return
}

// -----

// Tests that keep_dims keeps the axis with size 1.
func.func @case26(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 4 is not compatible with the expected 4x1}}
  %0 = lmc.reduce_max %a axis 1 keep_dims : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

// Tests that a softmax axis is in range.
func.func @case27(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range [0, 2)}}
  %0 = lmc.softmax %a axis 2 : tensor<4x8xf32>
  return
}

// -----

// Tests that a transpose permutation has one entry per dimension.
func.func @case28(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{permutation [1, 0, 2] is not a permutation of [0, 2)}}
  %0 = lmc.transpose %a [1, 0, 2] : tensor<4x8xf32> -> tensor<8x4xf32>
  return
}

// -----

// Tests that a transpose permutation names each dimension once.
func.func @case29(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{permutation [1, 1] is not a permutation of [0, 2)}}
  %0 = lmc.transpose %a [1, 1] : tensor<4x8xf32> -> tensor<8x8xf32>
  return
}

// -----

// Tests that a transpose keeps the element type.
func.func @case30(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{input and result must share one element type}}
  %0 = lmc.transpose %a [1, 0] : tensor<4x8xf32> -> tensor<8x4xf16>
  return
}

// -----

// Tests that a transpose result has the permuted shape.
func.func @case31(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 4x8 is not compatible with the expected 8x4}}
  %0 = lmc.transpose %a [1, 0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

// Tests that a reshape keeps the element type.
func.func @case32(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{input and result must share one element type}}
  %0 = lmc.reshape %a : tensor<4x8xf32> -> tensor<32xi32>
  return
}

// -----

// Tests that a reshape result has at most one dynamic dimension after the shared leading ones.
func.func @case33(%a: tensor<?x8xf32>) {
  // expected-error @+1 {{result 2x?x? may have at most one dynamic dimension after the 0 leading dimensions it shares with the input}}
  %0 = lmc.reshape %a : tensor<?x8xf32> -> tensor<2x?x?xf32>
  return
}

// -----

// Tests that a static reshape keeps the element count.
func.func @case34(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{result 3x8 cannot hold the elements of 4x8}}
  %0 = lmc.reshape %a : tensor<4x8xf32> -> tensor<3x8xf32>
  return
}

// -----

// Tests that after the shared leading dimensions, static reshapes keep the element count.
func.func @case35(%a: tensor<?x4x8xf32>) {
  // expected-error @+1 {{result ?x4x2x3 cannot hold the elements of ?x4x8}}
  %0 = lmc.reshape %a : tensor<?x4x8xf32> -> tensor<?x4x2x3xf32>
  return
}

// -----

// Tests that a reshape's static dimensions divide a static input's count.
func.func @case36(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{result ?x5 cannot hold the elements of 4x8}}
  %0 = lmc.reshape %a : tensor<4x8xf32> -> tensor<?x5xf32>
  return
}

// -----

// Tests that concat needs at least one input.
func.func @case37() {
  // expected-error @+1 {{needs at least one input}}
  %0 = "lmc.concat"() <{axis = 0 : i64}> : () -> tensor<4xf32>
  return
}

// -----

// Tests that concat inputs share one element type.
func.func @case38(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{inputs and result must share one element type}}
  %0 = lmc.concat %a, %b axis 0 : (tensor<4xf32>, tensor<4xf16>) -> tensor<8xf32>
  return
}

// -----

// Tests that concat inputs share the result's rank.
func.func @case39(%a: tensor<4xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{input #1 has rank 2, the result 1}}
  %0 = lmc.concat %a, %b axis 0 : (tensor<4xf32>, tensor<1x4xf32>) -> tensor<8xf32>
  return
}

// -----

// Tests that the concat axis is in range.
func.func @case40(%a: tensor<4xf32>) {
  // expected-error @+1 {{axis 1 is out of range [0, 1)}}
  %0 = lmc.concat %a, %a axis 1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
  return
}

// -----

// Tests that concat inputs agree outside the axis.
func.func @case41(%a: tensor<2x4xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{input #1 has size 3 at dimension 0, an earlier input 2}}
  %0 = lmc.concat %a, %b axis 1 : (tensor<2x4xf32>, tensor<3x5xf32>) -> tensor<2x9xf32>
  return
}

// -----

// Tests that the concat result's axis is the inputs' sum.
func.func @case42(%a: tensor<?x4xf32>, %b: tensor<?x5xf32>) {
  // expected-error @+1 {{result shape ?x10 is not compatible with the expected ?x9}}
  %0 = lmc.concat %a, %b axis 1 : (tensor<?x4xf32>, tensor<?x5xf32>) -> tensor<?x10xf32>
  return
}

// -----

// Tests that a slice axis is in range.
func.func @case43(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range [0, 2)}}
  %0 = lmc.slice %a axis 2 start 0 limit 1 : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

// Tests that a slice start is not negative.
func.func @case44(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{start -1 and limit 2 must satisfy 0 <= start < limit}}
  %0 = lmc.slice %a axis 1 start -1 limit 2 : tensor<4x8xf32> -> tensor<4x3xf32>
  return
}

// -----

// Tests that a slice is not empty.
func.func @case45(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{start 2 and limit 2 must satisfy 0 <= start < limit}}
  %0 = lmc.slice %a axis 1 start 2 limit 2 : tensor<4x8xf32> -> tensor<4x0xf32>
  return
}

// -----

// Tests that a slice limit is within a static axis.
func.func @case46(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{limit 9 exceeds the size 8 of axis 1}}
  %0 = lmc.slice %a axis 1 start 4 limit 9 : tensor<4x8xf32> -> tensor<4x5xf32>
  return
}

// -----

// Tests that a slice keeps the element type.
func.func @case47(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{input and result must share one element type}}
  %0 = lmc.slice %a axis 1 start 0 limit 4 : tensor<4x8xf32> -> tensor<4x4xf16>
  return
}

// -----

// Tests that a slice result has limit - start at its axis.
func.func @case48(%a: tensor<?x8xf32>) {
  // expected-error @+1 {{result shape ?x6 is not compatible with the expected ?x4}}
  %0 = lmc.slice %a axis 1 start 2 limit 6 : tensor<?x8xf32> -> tensor<?x6xf32>
  return
}

// -----

// Tests that a cast keeps the shape.
func.func @case49(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{requires the same shape for all operands and results}}
  %0 = lmc.cast %a : tensor<4x8xf32> -> tensor<8x4xf16>
  return
}

// -----

// Tests that layer_norm's input has rank 1 or more.
func.func @case50(%a: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank 1 or more}}
  %0 = lmc.layer_norm %a, %g, %g epsilon 1.0e-05 : (tensor<f32>, tensor<1xf32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

// Tests that layer_norm's gamma is [D].
func.func @case51(%a: tensor<?x64xf32>, %g: tensor<32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{gamma shape 32 is not compatible with the expected 64}}
  %0 = lmc.layer_norm %a, %g, %b epsilon 1.0e-05 : (tensor<?x64xf32>, tensor<32xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// Tests that layer_norm's beta is [D].
func.func @case52(%a: tensor<?x64xf32>, %g: tensor<64xf32>, %b: tensor<1x64xf32>) {
  // expected-error @+1 {{beta shape 1x64 is not compatible with the expected 64}}
  %0 = lmc.layer_norm %a, %g, %b epsilon 1.0e-05 : (tensor<?x64xf32>, tensor<64xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// Tests that layer_norm's operands share one element type.
func.func @case53(%a: tensor<?x64xf16>, %g: tensor<64xf32>) {
  // expected-error @+1 {{operands and result must share one element type, got 'f16' and 'f32'}}
  %0 = lmc.layer_norm %a, %g, %g epsilon 1.0e-05 : (tensor<?x64xf16>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x64xf16>
  return
}

// -----

// Tests that layer_norm's result type equals its input type.
func.func @case54(%a: tensor<?x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{result type 'tensor<4x64xf32>' must equal the input type 'tensor<?x64xf32>'}}
  %0 = lmc.layer_norm %a, %g, %g epsilon 1.0e-05 : (tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return
}

// -----

// Tests that layer_norm's epsilon is positive.
func.func @case55(%a: tensor<?x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{epsilon must be positive, got 0}}
  %0 = lmc.layer_norm %a, %g, %g epsilon 0.0 : (tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// Tests that rms_norm's input has rank 1 or more.
func.func @case56(%a: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank 1 or more}}
  %0 = lmc.rms_norm %a, %g epsilon 1.0e-06 : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

// Tests that rms_norm's gamma is [D].
func.func @case57(%a: tensor<?x64xf32>, %g: tensor<65xf32>) {
  // expected-error @+1 {{gamma shape 65 is not compatible with the expected 64}}
  %0 = lmc.rms_norm %a, %g epsilon 1.0e-06 : (tensor<?x64xf32>, tensor<65xf32>) -> tensor<?x64xf32>
  return
}

// -----

// Tests that rms_norm's operands share one element type.
func.func @case58(%a: tensor<?x64xbf16>, %g: tensor<64xf32>) {
  // expected-error @+1 {{operands and result must share one element type, got 'bf16' and 'f32'}}
  %0 = lmc.rms_norm %a, %g epsilon 1.0e-06 : (tensor<?x64xbf16>, tensor<64xf32>) -> tensor<?x64xbf16>
  return
}

// -----

// Tests that rms_norm's result type equals its input type.
func.func @case59(%a: tensor<?x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{must equal the input type}}
  %0 = lmc.rms_norm %a, %g epsilon 1.0e-06 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x32xf32>
  return
}

// -----

// Tests that rms_norm's epsilon is positive.
func.func @case60(%a: tensor<?x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{epsilon must be positive, got -1}}
  %0 = lmc.rms_norm %a, %g epsilon -1.0 : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// Tests that gelu's result type equals its input type.
func.func @case61(%a: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "lmc.gelu"(%a) <{approximation = 0 : i32}> : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

// Tests that gelu's approximation is erf or tanh.
func.func @case62(%a: tensor<4xf32>) {
  // expected-error @+1 {{approximation}}
  %0 = "lmc.gelu"(%a) <{approximation = 7 : i32}> : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that an embedding table has rank 2.
func.func @case63(%t: tensor<10xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{table must have rank 2 ([V, D]), got 1}}
  %0 = lmc.embedding %t[%i] : (tensor<10xf32>, tensor<?xi64>) -> tensor<?xf32>
  return
}

// -----

// Tests that an embedding keeps the table's element type.
func.func @case64(%t: tensor<10x4xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{table and result must share one element type}}
  %0 = lmc.embedding %t[%i] : (tensor<10x4xf32>, tensor<?xi64>) -> tensor<?x4xf16>
  return
}

// -----

// Tests that an embedding result is ids.shape + [D].
func.func @case65(%t: tensor<10x4xf32>, %i: tensor<?x3xi64>) {
  // expected-error @+1 {{result shape ?x4 is not compatible with the expected ?x3x4}}
  %0 = lmc.embedding %t[%i] : (tensor<10x4xf32>, tensor<?x3xi64>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that attention's query has rank 3 or 4.
func.func @case66(%q: tensor<?x64xf16>) {
  // expected-error @+1 {{query must have rank 4 (padded [B, S, H, D]) or 3 (packed [T, H, D]), got 2}}
  %0 = lmc.attention %q, %q, %q : (tensor<?x64xf16>, tensor<?x64xf16>, tensor<?x64xf16>) -> tensor<?x64xf16>
  return
}

// -----

// Tests that attention's key and value have the query's rank.
func.func @case67(%q: tensor<?x?x8x64xf16>, %k: tensor<?x8x64xf16>) {
  // expected-error @+1 {{key and value must have the query's rank 4, got 3 and 3}}
  %0 = lmc.attention %q, %k, %k : (tensor<?x?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that packed attention needs cu_seqlens.
func.func @case68(%q: tensor<?x8x64xf16>) {
  // expected-error @+1 {{the packed form needs cu_seqlens}}
  %0 = lmc.attention %q, %q, %q : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>) -> tensor<?x8x64xf16>
  return
}

// -----

// Tests that packed attention takes no lengths.
func.func @case69(%q: tensor<?x8x64xf16>, %l: tensor<?xi32>) {
  // expected-error @+1 {{the packed form takes cu_seqlens, not lengths}}
  %0 = lmc.attention %q, %q, %q lengths(%l) cu_seqlens(%l) : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x8x64xf16>
  return
}

// -----

// Tests that padded attention takes no cu_seqlens.
func.func @case70(%q: tensor<?x?x8x64xf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{the padded form takes lengths, not cu_seqlens}}
  %0 = lmc.attention %q, %q, %q cu_seqlens(%cu) : (tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?xi32>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that packed attention's cu_seqlens is not empty.
func.func @case71(%q: tensor<?x8x64xf16>, %cu: tensor<0xi32>) {
  // expected-error @+1 {{cu_seqlens must not be empty: it holds N + 1 offsets for N sequences}}
  %0 = lmc.attention %q, %q, %q cu_seqlens(%cu) : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<0xi32>) -> tensor<?x8x64xf16>
  return
}

// -----

// Tests that attention's operands share one element type.
func.func @case72(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf32>) {
  // expected-error @+1 {{query, key, value and result must share one element type}}
  %0 = lmc.attention %q, %k, %k : (tensor<?x?x8x64xf16>, tensor<?x?x8x64xf32>, tensor<?x?x8x64xf32>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that attention's query and key head dimensions agree.
func.func @case73(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x32xf16>) {
  // expected-error @+1 {{query head dimension 64 and key head dimension 32 are not compatible}}
  %0 = lmc.attention %q, %k, %k : (tensor<?x?x8x64xf16>, tensor<?x?x8x32xf16>, tensor<?x?x8x32xf16>) -> tensor<?x?x8x32xf16>
  return
}

// -----

// Tests that attention's key and value agree outside the head dimension.
func.func @case74(%q: tensor<?x?x8x64xf16>, %v: tensor<?x?x4x64xf16>) {
  // expected-error @+1 {{key shape ?x?x8x64 and value shape ?x?x4x64 differ outside the head dimension}}
  %0 = lmc.attention %q, %q, %v : (tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x4x64xf16>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that padded attention's query and key batch sizes agree.
func.func @case75(%q: tensor<2x?x8x64xf16>, %k: tensor<3x?x8x64xf16>) {
  // expected-error @+1 {{query and key batch sizes 2 and 3 are not compatible}}
  %0 = lmc.attention %q, %k, %k : (tensor<2x?x8x64xf16>, tensor<3x?x8x64xf16>, tensor<3x?x8x64xf16>) -> tensor<2x?x8x64xf16>
  return
}

// -----

// Tests that packed attention's query and key token counts agree.
func.func @case76(%q: tensor<10x8x64xf16>, %k: tensor<12x8x64xf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{query and key token counts 10 and 12 are not compatible}}
  %0 = lmc.attention %q, %k, %k cu_seqlens(%cu) : (tensor<10x8x64xf16>, tensor<12x8x64xf16>, tensor<12x8x64xf16>, tensor<?xi32>) -> tensor<10x8x64xf16>
  return
}

// -----

// Tests that attention's lengths has size B.
func.func @case77(%q: tensor<2x?x8x64xf16>, %l: tensor<3xi32>) {
  // expected-error @+1 {{lengths shape 3 is not compatible with the expected 2}}
  %0 = lmc.attention %q, %q, %q lengths(%l) : (tensor<2x?x8x64xf16>, tensor<2x?x8x64xf16>, tensor<2x?x8x64xf16>, tensor<3xi32>) -> tensor<2x?x8x64xf16>
  return
}

// -----

// Tests that attention's key head count divides the query head count.
func.func @case78(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x3x64xf16>) {
  // expected-error @+1 {{key head count 3 does not divide the query head count 8}}
  %0 = lmc.attention %q, %k, %k : (tensor<?x?x8x64xf16>, tensor<?x?x3x64xf16>, tensor<?x?x3x64xf16>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that attention's scale is positive.
func.func @case79(%q: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{scale must be positive, got 0}}
  %0 = lmc.attention %q, %q, %q scale 0.0 : (tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that attention's result is the query shape with Dv last.
func.func @case80(%q: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x32xf16>) {
  // expected-error @+1 {{result shape ?x?x8x64 is not compatible with the expected ?x?x8x32}}
  %0 = lmc.attention %q, %q, %v : (tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x32xf16>) -> tensor<?x?x8x64xf16>
  return
}

// -----

// Tests that cu_seqlens is a rank-1 i32 tensor.
func.func @case81(%q: tensor<?x8x64xf16>, %cu: tensor<?xi64>) {
  // expected-error @+1 {{operand #3 must be 1D tensor of 32-bit signless integer values}}
  %0 = lmc.attention %q, %q, %q cu_seqlens(%cu) : (tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?xi64>) -> tensor<?x8x64xf16>
  return
}

// -----

// Tests that unpad's input has rank 2 or more.
func.func @case82(%x: tensor<?xf32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{input must have rank 2 or more ([B, S, ...]), got 1}}
  %0, %1 = lmc.unpad %x, %l : (tensor<?xf32>, tensor<?xi32>) -> (tensor<?xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that unpad's lengths has size B.
func.func @case83(%x: tensor<4x?x8xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{lengths shape 3 is not compatible with the expected 4}}
  %0, %1 = lmc.unpad %x, %l : (tensor<4x?x8xf32>, tensor<3xi32>) -> (tensor<?x8xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that unpad's cu_seqlens has size B + 1.
func.func @case84(%x: tensor<4x?x8xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{cu_seqlens shape 4 is not compatible with the expected 5}}
  %0, %1 = lmc.unpad %x, %l : (tensor<4x?x8xf32>, tensor<4xi32>) -> (tensor<?x8xf32>, tensor<4xi32>)
  return
}

// -----

// Tests that unpad's cu_seqlens is not empty.
func.func @case85(%x: tensor<?x?x8xf32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{cu_seqlens must not be empty}}
  %0, %1 = lmc.unpad %x, %l : (tensor<?x?x8xf32>, tensor<?xi32>) -> (tensor<?x8xf32>, tensor<0xi32>)
  return
}

// -----

// Tests that unpad keeps the element type.
func.func @case86(%x: tensor<?x?x8xf32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{input and packed must share one element type}}
  %0, %1 = lmc.unpad %x, %l : (tensor<?x?x8xf32>, tensor<?xi32>) -> (tensor<?x8xf16>, tensor<?xi32>)
  return
}

// -----

// Tests that unpad's packed result keeps the trailing dimensions.
func.func @case87(%x: tensor<?x?x8xf32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{packed shape ?x?x8 is not compatible with the expected ?x8}}
  %0, %1 = lmc.unpad %x, %l : (tensor<?x?x8xf32>, tensor<?xi32>) -> (tensor<?x?x8xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that pad's packed input has rank 1 or more.
func.func @case88(%p: tensor<f32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{packed must have rank 1 or more}}
  %0, %1 = lmc.pad %p, %cu : (tensor<f32>, tensor<?xi32>) -> (tensor<?xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that pad's cu_seqlens is not empty.
func.func @case89(%p: tensor<?x8xf32>, %cu: tensor<0xi32>) {
  // expected-error @+1 {{cu_seqlens must not be empty}}
  %0, %1 = lmc.pad %p, %cu : (tensor<?x8xf32>, tensor<0xi32>) -> (tensor<?x?x8xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that pad keeps the element type.
func.func @case90(%p: tensor<?x8xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{packed and result must share one element type}}
  %0, %1 = lmc.pad %p, %cu : (tensor<?x8xf32>, tensor<?xi32>) -> (tensor<?x?x8xi32>, tensor<?xi32>)
  return
}

// -----

// Tests that pad's result has one more dimension.
func.func @case91(%p: tensor<?x8xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{result must have rank 3 ([B, S, ...]), got 2}}
  %0, %1 = lmc.pad %p, %cu : (tensor<?x8xf32>, tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that pad's lengths has size B.
func.func @case92(%p: tensor<?x8xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{lengths shape 5 is not compatible with the expected 4}}
  %0, %1 = lmc.pad %p, %cu : (tensor<?x8xf32>, tensor<5xi32>) -> (tensor<4x?x8xf32>, tensor<5xi32>)
  return
}

// -----

// Tests that pad's static padded length is positive.
func.func @case93(%p: tensor<?x8xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{padded length S must be positive, got 0}}
  %0, %1 = lmc.pad %p, %cu : (tensor<?x8xf32>, tensor<?xi32>) -> (tensor<?x0x8xf32>, tensor<?xi32>)
  return
}

// -----

// Tests that pad's result is [B, S, trailing...].
func.func @case94(%p: tensor<?x8xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{result shape 3x16x8 is not compatible with the expected 4x16x8}}
  %0, %1 = lmc.pad %p, %cu : (tensor<?x8xf32>, tensor<5xi32>) -> (tensor<3x16x8xf32>, tensor<4xi32>)
  return
}

// -----

// Tests that segment_reduce's packed input has rank 1 or more.
func.func @case95(%p: tensor<f32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{packed must have rank 1 or more}}
  %0 = lmc.segment_reduce sum %p, %cu : (tensor<f32>, tensor<?xi32>) -> tensor<?xf32>
  return
}

// -----

// Tests that segment_reduce's cu_seqlens is not empty.
func.func @case96(%p: tensor<?x8xf32>, %cu: tensor<0xi32>) {
  // expected-error @+1 {{cu_seqlens must not be empty}}
  %0 = lmc.segment_reduce sum %p, %cu : (tensor<?x8xf32>, tensor<0xi32>) -> tensor<?x8xf32>
  return
}

// -----

// Tests that segment_reduce mean needs floats.
func.func @case97(%p: tensor<?x8xi64>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{mean needs a float element type, got 'i64'}}
  %0 = lmc.segment_reduce mean %p, %cu : (tensor<?x8xi64>, tensor<?xi32>) -> tensor<?x8xi64>
  return
}

// -----

// Tests that segment_reduce keeps the element type.
func.func @case98(%p: tensor<?x8xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{packed and result must share one element type}}
  %0 = lmc.segment_reduce max %p, %cu : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf16>
  return
}

// -----

// Tests that segment_reduce's result is [N, trailing...].
func.func @case99(%p: tensor<?x8xf32>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{result shape 5x8 is not compatible with the expected 4x8}}
  %0 = lmc.segment_reduce first %p, %cu : (tensor<?x8xf32>, tensor<5xi32>) -> tensor<5x8xf32>
  return
}

// -----

// Tests that positions' cu_seqlens is not empty.
func.func @case100(%cu: tensor<0xi32>) {
  // expected-error @+1 {{cu_seqlens must not be empty}}
  %0 = lmc.positions %cu : tensor<0xi32> -> tensor<?xi64>
  return
}

// -----

// Tests that positions produces a rank-1 tensor.
func.func @case101(%cu: tensor<?xi32>) {
  // expected-error @+1 {{result #0 must be 1D tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = lmc.positions %cu : tensor<?xi32> -> tensor<?x1xi64>
  return
}

// -----

// Tests that a numeric column keeps the input's shape.
func.func @case102(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{result shape ?x2 is not compatible with the expected ?x1}}
  %0 = lmc.fc.numeric %x none : tensor<?x1xf32> -> tensor<?x2xf32>
  return
}

// -----

// Tests that zscore needs mean.
func.func @case103(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{the zscore normalizer needs mean}}
  %0 = lmc.fc.numeric %x zscore std 1.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  return
}

// -----

// Tests that zscore's std is positive.
func.func @case104(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{std must be positive, got 0}}
  %0 = lmc.fc.numeric %x zscore mean 0.0 std 0.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  return
}

// -----

// Tests that minmax needs max.
func.func @case105(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{the minmax normalizer needs max}}
  %0 = lmc.fc.numeric %x minmax min 0.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  return
}

// -----

// Tests that minmax's min is below its max.
func.func @case106(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{min 2.000000e+00 must be less than max 2.000000e+00}}
  %0 = lmc.fc.numeric %x minmax min 2.0 max 2.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  return
}

// -----

// Tests that a normalizer takes no other normalizer's parameters.
func.func @case107(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{the log1p normalizer takes no mean}}
  %0 = lmc.fc.numeric %x log1p mean 1.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  return
}

// -----

// Tests that zscore takes no min.
func.func @case108(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{the zscore normalizer takes no min}}
  %0 = lmc.fc.numeric %x zscore mean 0.0 std 1.0 min 0.0 : tensor<?x1xf32> -> tensor<?x1xf32>
  return
}

// -----

// Tests that a numeric column produces floats.
func.func @case109(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %0 = lmc.fc.numeric %x none : tensor<?x1xf32> -> tensor<?x1xi64>
  return
}

// -----

// Tests that bucketize boundaries are not empty.
func.func @case110(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{boundaries must not be empty}}
  %0 = lmc.fc.bucketize %x boundaries [] : tensor<?x1xf32> -> tensor<?x1xi64>
  return
}

// -----

// Tests that bucketize boundaries strictly increase (no repeats).
func.func @case111(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{boundaries must be strictly increasing, but #1 (2.000000e+00) is not below #2 (2.000000e+00)}}
  %0 = lmc.fc.bucketize %x boundaries [1.0, 2.0, 2.0] : tensor<?x1xf32> -> tensor<?x1xi64>
  return
}

// -----

// Tests that bucketize boundaries strictly increase (no decrease).
func.func @case112(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{boundaries must be strictly increasing, but #0 (3.000000e+00) is not below #1 (1.000000e+00)}}
  %0 = lmc.fc.bucketize %x boundaries [3.0, 1.0] : tensor<?x1xf32> -> tensor<?x1xi64>
  return
}

// -----

// Tests that bucketize keeps the input's shape.
func.func @case113(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{result shape ? is not compatible with the expected ?x1}}
  %0 = lmc.fc.bucketize %x boundaries [1.0] : tensor<?x1xf32> -> tensor<?xi64>
  return
}

// -----

// Tests that hash_bucket needs more than one bucket.
func.func @case114(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{num_buckets must be greater than 1, got 1}}
  %0 = lmc.fc.hash_bucket %x buckets 1 : tensor<?x1xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that hash_bucket keeps the input's shape.
func.func @case115(%x: tensor<?x2xi64>) {
  // expected-error @+1 {{result shape ?x1 is not compatible with the expected ?x2}}
  %0 = lmc.fc.hash_bucket %x buckets 10 : tensor<?x2xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that hash_bucket takes i64 fingerprints.
func.func @case116(%x: tensor<?x1xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 64-bit signless integer values}}
  %0 = lmc.fc.hash_bucket %x buckets 10 : tensor<?x1xi32> -> tensor<?x1xi64>
  return
}

// -----

// Tests that a vocabulary has rank 1.
func.func @case117(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{vocabulary must have rank 1, got 2}}
  %0 = lmc.fc.vocab_lookup %x vocabulary dense<[[5]]> : tensor<1x1xi64> : tensor<?x1xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that a vocabulary is not empty.
func.func @case118(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{vocabulary must not be empty}}
  %0 = lmc.fc.vocab_lookup %x vocabulary dense<[]> : tensor<0xi64> : tensor<?x1xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that a vocabulary has no duplicate.
func.func @case119(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{vocabulary holds 5 twice, at #0 and #2}}
  %0 = lmc.fc.vocab_lookup %x vocabulary dense<[5, 7, 5]> : tensor<3xi64> : tensor<?x1xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that num_oov_buckets is not negative.
func.func @case120(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{num_oov_buckets must not be negative, got -1}}
  %0 = lmc.fc.vocab_lookup %x vocabulary dense<[5]> : tensor<1xi64> oov_buckets -1 : tensor<?x1xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that default_value and num_oov_buckets exclude each other.
func.func @case121(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{default_value and num_oov_buckets are mutually exclusive}}
  %0 = lmc.fc.vocab_lookup %x vocabulary dense<[5]> : tensor<1xi64> oov_buckets 2 default 0 : tensor<?x1xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that vocab_lookup keeps the input's shape.
func.func @case122(%x: tensor<?x1xi64>) {
  // expected-error @+1 {{result shape ?x3 is not compatible with the expected ?x1}}
  %0 = lmc.fc.vocab_lookup %x vocabulary dense<[5]> : tensor<1xi64> : tensor<?x1xi64> -> tensor<?x3xi64>
  return
}

// -----

// Tests that an identity column has at least one bucket.
func.func @case123(%x: tensor<?xi64>) {
  // expected-error @+1 {{num_buckets must be at least 1, got 0}}
  %0 = lmc.fc.identity %x buckets 0 : tensor<?xi64> -> tensor<?xi64>
  return
}

// -----

// Tests that an identity column's default is a bucket.
func.func @case124(%x: tensor<?xi64>) {
  // expected-error @+1 {{default_value 4 is out of range [0, 4)}}
  %0 = lmc.fc.identity %x buckets 4 default 4 : tensor<?xi64> -> tensor<?xi64>
  return
}

// -----

// Tests that an identity column keeps the input's shape.
func.func @case125(%x: tensor<?xi64>) {
  // expected-error @+1 {{result shape ?x1 is not compatible with the expected ?}}
  %0 = lmc.fc.identity %x buckets 4 : tensor<?xi64> -> tensor<?x1xi64>
  return
}

// -----

// Tests that a cross needs two inputs.
func.func @case126(%a: tensor<?xi64>) {
  // expected-error @+1 {{needs at least two inputs, got 1}}
  %0 = lmc.fc.cross %a buckets 10 : (tensor<?xi64>) -> tensor<?xi64>
  return
}

// -----

// Tests that cross inputs have rank 1 or 2.
func.func @case127(%a: tensor<?x2x2xi64>) {
  // expected-error @+1 {{inputs must have rank 1 ([B]) or 2 ([B, k]), got 3}}
  %0 = lmc.fc.cross %a, %a buckets 10 : (tensor<?x2x2xi64>, tensor<?x2x2xi64>) -> tensor<?x16xi64>
  return
}

// -----

// Tests that cross inputs share one rank.
func.func @case128(%a: tensor<?xi64>, %b: tensor<?x2xi64>) {
  // expected-error @+1 {{input #1 has rank 2, input #0 has rank 1}}
  %0 = lmc.fc.cross %a, %b buckets 10 : (tensor<?xi64>, tensor<?x2xi64>) -> tensor<?xi64>
  return
}

// -----

// Tests that cross inputs share one batch size.
func.func @case129(%a: tensor<4xi64>, %b: tensor<5xi64>) {
  // expected-error @+1 {{input #1 has batch size 5, an earlier input 4}}
  %0 = lmc.fc.cross %a, %b buckets 10 : (tensor<4xi64>, tensor<5xi64>) -> tensor<4xi64>
  return
}

// -----

// Tests that a cross needs more than one bucket.
func.func @case130(%a: tensor<?xi64>) {
  // expected-error @+1 {{num_buckets must be greater than 1, got 1}}
  %0 = lmc.fc.cross %a, %a buckets 1 : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  return
}

// -----

// Tests that a cross of [B, k_i] inputs is [B, prod k_i].
func.func @case131(%a: tensor<?x2xi64>, %b: tensor<?x3xi64>) {
  // expected-error @+1 {{result shape ?x5 is not compatible with the expected ?x6}}
  %0 = lmc.fc.cross %a, %b buckets 10 : (tensor<?x2xi64>, tensor<?x3xi64>) -> tensor<?x5xi64>
  return
}

// -----

// Tests that an embedding_bag table has rank 2.
func.func @case132(%t: tensor<10xf32>, %i: tensor<?x2xi64>) {
  // expected-error @+1 {{table must have rank 2 ([V, D]), got 1}}
  %0 = lmc.fc.embedding_bag sum %t[%i] : (tensor<10xf32>, tensor<?x2xi64>) -> tensor<?x1xf32>
  return
}

// -----

// Tests that embedding_bag ids have rank 2.
func.func @case133(%t: tensor<10x4xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{ids must have rank 2 ([B, k]), got 1}}
  %0 = lmc.fc.embedding_bag sum %t[%i] : (tensor<10x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that embedding_bag weights have the shape of ids.
func.func @case134(%t: tensor<10x4xf32>, %i: tensor<?x2xi64>, %w: tensor<?x3xf32>) {
  // expected-error @+1 {{weights shape ?x3 is not compatible with the expected ?x2}}
  %0 = lmc.fc.embedding_bag mean %t[%i] weights(%w) : (tensor<10x4xf32>, tensor<?x2xi64>, tensor<?x3xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that embedding_bag's max_norm is positive.
func.func @case135(%t: tensor<10x4xf32>, %i: tensor<?x2xi64>) {
  // expected-error @+1 {{max_norm must be positive, got 0}}
  %0 = lmc.fc.embedding_bag sqrtn %t[%i] max_norm 0.0 : (tensor<10x4xf32>, tensor<?x2xi64>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that embedding_bag keeps the table's element type.
func.func @case136(%t: tensor<10x4xf32>, %i: tensor<?x2xi64>) {
  // expected-error @+1 {{table and result must share one element type}}
  %0 = lmc.fc.embedding_bag sum %t[%i] : (tensor<10x4xf32>, tensor<?x2xi64>) -> tensor<?x4xf16>
  return
}

// -----

// Tests that embedding_bag's result is [B, D].
func.func @case137(%t: tensor<10x4xf32>, %i: tensor<?x2xi64>) {
  // expected-error @+1 {{result shape ?x2x4 is not compatible with the expected ?x4}}
  %0 = lmc.fc.embedding_bag sum %t[%i] : (tensor<10x4xf32>, tensor<?x2xi64>) -> tensor<?x2x4xf32>
  return
}

// -----

// Tests that indicator ids have rank 1 or 2.
func.func @case138(%i: tensor<?x2x2xi64>) {
  // expected-error @+1 {{ids must have rank 1 ([B]) or 2 ([B, k]), got 3}}
  %0 = lmc.fc.indicator %i buckets 4 : (tensor<?x2x2xi64>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that indicator weights have the shape of ids.
func.func @case139(%i: tensor<?x2xi64>, %w: tensor<?xf32>) {
  // expected-error @+1 {{weights shape ? is not compatible with the expected ?x2}}
  %0 = lmc.fc.indicator %i weights(%w) buckets 4 : (tensor<?x2xi64>, tensor<?xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that an indicator has at least one bucket.
func.func @case140(%i: tensor<?xi64>) {
  // expected-error @+1 {{num_buckets must be at least 1, got 0}}
  %0 = lmc.fc.indicator %i buckets 0 : (tensor<?xi64>) -> tensor<?x0xf32>
  return
}

// -----

// Tests that an indicator's result is [B, num_buckets].
func.func @case141(%i: tensor<?xi64>) {
  // expected-error @+1 {{result shape ?x5 is not compatible with the expected ?x4}}
  %0 = lmc.fc.indicator %i buckets 4 : (tensor<?xi64>) -> tensor<?x5xf32>
  return
}

// -----

// Tests that a kernel's region arguments have the inputs' types.
func.func @kernel_arguments(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{region arguments must have the types of the inputs}}
  %y = lmc.kernel fused "k" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf16>):
    %c = lmc.cast %a : tensor<4xf16> -> tensor<4xf32>
    lmc.yield %c : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Tests that a kernel yields its results' types.
func.func @kernel_results(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{yielded values must have the types of the results}}
  %y = lmc.kernel fused "k" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %c = lmc.cast %a : tensor<4xf32> -> tensor<4xf16>
    lmc.yield %c : tensor<4xf16>
  }
  return %y : tensor<4xf32>
}

// -----

// Tests that a gemm kernel holds one matmul.
func.func @gemm_without_matmul(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{a gemm kernel holds exactly one lmc.matmul}}
  %y = lmc.kernel gemm "k" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    lmc.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Tests that an attention kernel holds one attention.
func.func @attention_kernel_without_attention(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{an attention kernel holds exactly one lmc.attention}}
  %y = lmc.kernel attention "k" (%x) {block_q = 64, block_k = 64} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    lmc.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Tests that an attention kernel has a tile shape.
func.func @attention_kernel_without_tiles(%q: tensor<?x4x16xf16>, %cu: tensor<?xi32>) -> tensor<?x4x16xf16> {
  // expected-error @+1 {{an attention kernel needs positive block_q and block_k}}
  %o = lmc.kernel attention "k" (%q, %cu) {block_q = 0, block_k = 64} : (tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16> {
  ^bb0(%a: tensor<?x4x16xf16>, %c: tensor<?xi32>):
    %r = lmc.attention %a, %a, %a cu_seqlens(%c) : (tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?x4x16xf16>, tensor<?xi32>) -> tensor<?x4x16xf16>
    lmc.yield %r : tensor<?x4x16xf16>
  }
  return %o : tensor<?x4x16xf16>
}

// -----

// Tests cases at the edge of the rules that must verify: dynamic dimensions
// that may match at run time, broadcasting against 1, grouped-query
// attention, a reshape that infers its one dynamic dimension, a reduction
// that keeps its axis, a slice up to a dynamic axis, bucket boundaries of one.
func.func @must_verify(%x: tensor<?x?xf32>, %one: tensor<1x4xf32>, %q: tensor<?x8x64xf16>,
                       %kv: tensor<?x2x64xf16>, %cu: tensor<?xi32>, %s: tensor<4x6xf32>,
                       %ids: tensor<?x?xi64>, %t: tensor<10x4xf32>) {
  %0 = lmc.add %x, %one : (tensor<?x?xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %1 = lmc.add %x, %x : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %2 = lmc.attention %q, %kv, %kv cu_seqlens(%cu) causal : (tensor<?x8x64xf16>, tensor<?x2x64xf16>, tensor<?x2x64xf16>, tensor<?xi32>) -> tensor<?x8x64xf16>
  %3 = lmc.reshape %s : tensor<4x6xf32> -> tensor<?x3xf32>
  %4 = lmc.reshape %x : tensor<?x?xf32> -> tensor<?x?x1xf32>
  %12 = lmc.reshape %q : tensor<?x8x64xf16> -> tensor<?x512xf16>
  %5 = lmc.reduce_sum %x axis 1 keep_dims : tensor<?x?xf32> -> tensor<?x1xf32>
  %6 = lmc.slice %x axis 1 start 3 limit 100 : tensor<?x?xf32> -> tensor<?x97xf32>
  %7 = lmc.fc.bucketize %x boundaries [0.0] : tensor<?x?xf32> -> tensor<?x?xi32>
  %8 = lmc.fc.cross %ids, %ids, %ids buckets 2 : (tensor<?x?xi64>, tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi64>
  %9 = lmc.fc.embedding_bag sum %t[%ids] : (tensor<10x4xf32>, tensor<?x?xi64>) -> tensor<?x4xf32>
  %10 = lmc.matmul %x, %x transpose_lhs transpose_rhs : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %11 = lmc.concat %x, %one axis 0 : (tensor<?x?xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that broadcast_like's input must broadcast to the shape it copies.
func.func @broadcast_like_mismatch(%x: tensor<3xf32>, %like: tensor<?x4xf32>) {
  // expected-error @+1 {{input shape 3 does not broadcast to ?x4}}
  %0 = lmc.broadcast_like %x, %like : (tensor<3xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Tests that attention's log-sum-exp has the query shape without D.
func.func @attention_lse_shape(%q: tensor<?x4x8xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{lse shape}}
  %0, %1 = lmc.attention %q, %q, %q cu_seqlens(%cu) : (tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?xi32>) -> (tensor<?x4x8xf32>, tensor<?x8xf32>)
  return
}

// -----

// Tests that attention_grad's gradients have their operands' types.
func.func @attention_grad_types(%q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %lse: tensor<?x4xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{grad_key type 'tensor<?x4x8xf32>' must equal the operand type 'tensor<?x2x8xf32>'}}
  %0:3 = lmc.attention_grad %q, %k, %k, %q, %lse, %q cu_seqlens(%cu) : (tensor<?x4x8xf32>, tensor<?x2x8xf32>, tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<?x4x8xf32>, tensor<?xi32>) -> (tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x2x8xf32>)
  return
}

// -----

// Tests that attention_grad's out has the attention result's shape.
func.func @attention_grad_out(%q: tensor<?x4x8xf32>, %o: tensor<?x4x9xf32>, %lse: tensor<?x4xf32>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{out shape}}
  %0:3 = lmc.attention_grad %q, %q, %q, %o, %lse, %q cu_seqlens(%cu) : (tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x9xf32>, tensor<?x4xf32>, tensor<?x4x8xf32>, tensor<?xi32>) -> (tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>)
  return
}

// -----

// Tests that a collective needs at least two ranks.
func.func @all_reduce_one_rank(%g: tensor<4xf32>) {
  // expected-error @+1 {{needs at least 2 ranks, got 1}}
  %0 = lmc.all_reduce %g ranks 1 : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Tests that a shard holds ceil(n / ranks) elements.
func.func @reduce_scatter_shard(%g: tensor<3x5xf32>) {
  // expected-error @+1 {{result shape 7 is not compatible with the expected 8}}
  %0 = lmc.reduce_scatter %g ranks 2 : (tensor<3x5xf32>) -> tensor<7xf32>
  return
}

// -----

// Tests that all_gather rebuilds a statically shaped tensor.
func.func @all_gather_dynamic(%s: tensor<8xf32>) {
  // expected-error @+1 {{result must be statically shaped}}
  %0 = lmc.all_gather %s ranks 2 : (tensor<8xf32>) -> tensor<?x5xf32>
  return
}

// -----

// Tests that all_gather_rows joins rows of a dynamic count.
func.func @all_gather_rows_static(%ids: tensor<4xi64>) {
  // expected-error @+1 {{input dimension 0 must be dynamic}}
  %0 = lmc.all_gather_rows %ids ranks 2 : (tensor<4xi64>) -> tensor<4xi64>
  return
}

// -----

// Tests that adamw_rows takes the executing rank exactly when sharded.
func.func @adamw_rows_rank(%t: tensor<8xf32>, %ids: tensor<?xi64>, %rows: tensor<?x4xf32>, %step: tensor<4xf32>, %apply: tensor<i1>) {
  // expected-error @+1 {{needs rank(...) with more than one rank}}
  %0:3 = lmc.adamw_rows %t, %t, %t, %ids, %rows, %step, %apply ranks 2 table_rows 4 beta1 0.9 beta2 0.999 epsilon 1.0e-08 weight_decay 0.01 : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<?xi64>, tensor<?x4xf32>, tensor<4xf32>, tensor<i1>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that adamw_rows' moments are the rank's shard of table_rows x W.
func.func @adamw_rows_shard(%t: tensor<10xf32>, %ids: tensor<?xi64>, %rows: tensor<?x4xf32>, %step: tensor<4xf32>, %apply: tensor<i1>) {
  // expected-error @+1 {{moments and their results shape 10 is not compatible with the expected 16}}
  %0:3 = lmc.adamw_rows %t, %t, %t, %ids, %rows, %step, %apply ranks 1 table_rows 4 beta1 0.9 beta2 0.999 epsilon 1.0e-08 weight_decay 0.01 : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<?xi64>, tensor<?x4xf32>, tensor<4xf32>, tensor<i1>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
  return
}

// -----

// Tests that adamw_rows' table is its flattened shard or, with one rank,
// the table as stored.
func.func @adamw_rows_table(%t: tensor<4x3xf32>, %m: tensor<16xf32>, %ids: tensor<?xi64>, %rows: tensor<?x4xf32>, %step: tensor<4xf32>, %apply: tensor<i1>) {
  // expected-error @+1 {{table must be tensor<16xf32> or the stored table (tensor<4x4xf32>), got 'tensor<4x3xf32>'}}
  %0:3 = lmc.adamw_rows %t, %m, %m, %ids, %rows, %step, %apply ranks 1 table_rows 4 beta1 0.9 beta2 0.999 epsilon 1.0e-08 weight_decay 0.01 : (tensor<4x3xf32>, tensor<16xf32>, tensor<16xf32>, tensor<?xi64>, tensor<?x4xf32>, tensor<4xf32>, tensor<i1>) -> (tensor<4x3xf32>, tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

// Tests that adamw_rows' new table has the table's type.
func.func @adamw_rows_new_table(%t: tensor<4x4xf32>, %m: tensor<16xf32>, %ids: tensor<?xi64>, %rows: tensor<?x4xf32>, %step: tensor<4xf32>, %apply: tensor<i1>) {
  // expected-error @+1 {{new_table must have the table's type}}
  %0:3 = lmc.adamw_rows %t, %m, %m, %ids, %rows, %step, %apply ranks 1 table_rows 4 beta1 0.9 beta2 0.999 epsilon 1.0e-08 weight_decay 0.01 : (tensor<4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<?xi64>, tensor<?x4xf32>, tensor<4xf32>, tensor<i1>) -> (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

// Tests that a parameter stored in shards reads as this rank's shard.
module {
  lmc.parameter @w : tensor<3x5xf32> {lmc.shards = 2 : i64}
  func.func @sharded_load() {
    // expected-error @+1 {{is not the 'tensor<8xf32>' shard of a parameter split over 2 ranks}}
    %0 = lmc.param_load @w : tensor<3x5xf32>
    return
  }
}
