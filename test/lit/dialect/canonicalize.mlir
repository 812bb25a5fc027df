// RUN: lmc-opt %s --split-input-file --canonicalize | FileCheck %s

// Tests that a widening cast followed by its inverse folds to the input.
// CHECK-LABEL: func.func @cast_round_trip_through_wider_type
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf16>)
// CHECK-NOT: lmc.cast
// CHECK: return %[[X]]
func.func @cast_round_trip_through_wider_type(%x: tensor<?x4xf16>) -> tensor<?x4xf16> {
  %0 = lmc.cast %x : tensor<?x4xf16> -> tensor<?x4xf32>
  %1 = lmc.cast %0 : tensor<?x4xf32> -> tensor<?x4xf16>
  return %1 : tensor<?x4xf16>
}

// -----

// Tests that two casts through a lossless middle type become one cast.
// CHECK-LABEL: func.func @cast_chain_through_lossless_type
// CHECK-SAME: (%[[X:.*]]: tensor<8xi32>)
// CHECK-NEXT: %[[C:.*]] = lmc.cast %[[X]] : tensor<8xi32> -> tensor<8xf32>
// CHECK-NEXT: return %[[C]]
func.func @cast_chain_through_lossless_type(%x: tensor<8xi32>) -> tensor<8xf32> {
  %0 = lmc.cast %x : tensor<8xi32> -> tensor<8xi64>
  %1 = lmc.cast %0 : tensor<8xi64> -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// Tests that a narrowing middle cast is kept: f32 -> f16 -> f32 rounds.
// CHECK-LABEL: func.func @cast_through_narrower_type_stays
// CHECK: lmc.cast %{{.*}} : tensor<8xf32> -> tensor<8xf16>
// CHECK: lmc.cast %{{.*}} : tensor<8xf16> -> tensor<8xf32>
func.func @cast_through_narrower_type_stays(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = lmc.cast %x : tensor<8xf32> -> tensor<8xf16>
  %1 = lmc.cast %0 : tensor<8xf16> -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// Tests that a cast to the input's own type folds away.
// CHECK-LABEL: func.func @cast_to_same_type
// CHECK-SAME: (%[[X:.*]]: tensor<8xbf16>)
// CHECK-NEXT: return %[[X]]
func.func @cast_to_same_type(%x: tensor<8xbf16>) -> tensor<8xbf16> {
  %0 = lmc.cast %x : tensor<8xbf16> -> tensor<8xbf16>
  return %0 : tensor<8xbf16>
}

// -----

// Tests that a reshape of a reshape reads the original input.
// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x64xf32>)
// CHECK-NEXT: %[[R:.*]] = lmc.reshape %[[X]] : tensor<?x8x64xf32> -> tensor<?x4x128xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<?x8x64xf32>) -> tensor<?x4x128xf32> {
  %0 = lmc.reshape %x : tensor<?x8x64xf32> -> tensor<?x8x4x16xf32>
  %1 = lmc.reshape %0 : tensor<?x8x4x16xf32> -> tensor<?x4x128xf32>
  return %1 : tensor<?x4x128xf32>
}

// -----

// Tests that reshaping back to the input's type folds to the input.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x64xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_round_trip(%x: tensor<?x8x64xf32>) -> tensor<?x8x64xf32> {
  %0 = lmc.reshape %x : tensor<?x8x64xf32> -> tensor<?x512xf32>
  %1 = lmc.reshape %0 : tensor<?x512xf32> -> tensor<?x8x64xf32>
  return %1 : tensor<?x8x64xf32>
}

// -----

// Tests that a reshape of a constant folds into a constant.
// CHECK-LABEL: func.func @reshape_of_constant
// CHECK-NEXT: %[[C:.*]] = lmc.constant dense<{{\[\[}}1, 2, 3], [4, 5, 6]]> : tensor<2x3xi32>
// CHECK-NEXT: return %[[C]]
func.func @reshape_of_constant() -> tensor<2x3xi32> {
  %0 = lmc.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi32>
  %1 = lmc.reshape %0 : tensor<6xi32> -> tensor<2x3xi32>
  return %1 : tensor<2x3xi32>
}

// -----

// Tests that two transposes compose into one.
// CHECK-LABEL: func.func @transpose_of_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = lmc.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = lmc.transpose %x [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = lmc.transpose %0 [2, 1, 0] : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// Tests that transposes that undo each other fold to the input.
// CHECK-LABEL: func.func @transpose_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<?x128x4x64xf16>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_round_trip(%x: tensor<?x128x4x64xf16>) -> tensor<?x128x4x64xf16> {
  %0 = lmc.transpose %x [0, 2, 1, 3] : tensor<?x128x4x64xf16> -> tensor<?x4x128x64xf16>
  %1 = lmc.transpose %0 [0, 2, 1, 3] : tensor<?x4x128x64xf16> -> tensor<?x128x4x64xf16>
  return %1 : tensor<?x128x4x64xf16>
}

// -----

// Tests that negating twice folds to the input.
// CHECK-LABEL: func.func @double_negation
// CHECK-SAME: (%[[X:.*]]: tensor<4xi64>)
// CHECK-NEXT: return %[[X]]
func.func @double_negation(%x: tensor<4xi64>) -> tensor<4xi64> {
  %0 = lmc.neg %x : tensor<4xi64>
  %1 = lmc.neg %0 : tensor<4xi64>
  return %1 : tensor<4xi64>
}

// -----

// Tests that a slice over a whole static axis folds away and a partial one stays.
// CHECK-LABEL: func.func @slices
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NEXT: %[[S:.*]] = lmc.slice %[[X]] axis 1 start 0 limit 4
// CHECK-NEXT: return %[[X]], %[[S]]
func.func @slices(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x4xf32>) {
  %0 = lmc.slice %x axis 1 start 0 limit 8 : tensor<?x8xf32> -> tensor<?x8xf32>
  %1 = lmc.slice %x axis 1 start 0 limit 4 : tensor<?x8xf32> -> tensor<?x4xf32>
  return %0, %1 : tensor<?x8xf32>, tensor<?x4xf32>
}

// -----

// Tests that unpadding a pad's results gives back the pad's operands.
// CHECK-LABEL: func.func @unpad_of_pad
// CHECK-SAME: (%[[P:.*]]: tensor<?x64xf32>, %[[CU:.*]]: tensor<?xi32>)
// CHECK-NOT: lmc.pad
// CHECK-NOT: lmc.unpad
// CHECK: return %[[P]], %[[CU]]
func.func @unpad_of_pad(%p: tensor<?x64xf32>, %cu: tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?xi32>) {
  %x, %len = lmc.pad %p, %cu : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x?x64xf32>, tensor<?xi32>)
  %q, %cu2 = lmc.unpad %x, %len : (tensor<?x?x64xf32>, tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?xi32>)
  return %q, %cu2 : tensor<?x64xf32>, tensor<?xi32>
}

// -----

// Tests that unpad with lengths other than the pad's is not folded: the
// padded rows may then be cut at other lengths.
// CHECK-LABEL: func.func @unpad_of_pad_with_other_lengths
// CHECK: lmc.pad
// CHECK: lmc.unpad
func.func @unpad_of_pad_with_other_lengths(%p: tensor<?x64xf32>, %cu: tensor<?xi32>, %other: tensor<?xi32>) -> tensor<?x64xf32> {
  %x, %len = lmc.pad %p, %cu : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x?x64xf32>, tensor<?xi32>)
  %q, %cu2 = lmc.unpad %x, %other : (tensor<?x?x64xf32>, tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?xi32>)
  return %q : tensor<?x64xf32>
}

// -----

// Tests that pad(unpad(x)) is not folded: it zeroes x's padding positions.
// CHECK-LABEL: func.func @pad_of_unpad_stays
// CHECK: lmc.unpad
// CHECK: lmc.pad
func.func @pad_of_unpad_stays(%x: tensor<?x?x64xf32>, %len: tensor<?xi32>) -> tensor<?x?x64xf32> {
  %p, %cu = lmc.unpad %x, %len : (tensor<?x?x64xf32>, tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?xi32>)
  %y, %len2 = lmc.pad %p, %cu : (tensor<?x64xf32>, tensor<?xi32>) -> (tensor<?x?x64xf32>, tensor<?xi32>)
  return %y : tensor<?x?x64xf32>
}

// -----

// Tests that the sum of attention_grad's key gradient over the key
// positions (a key bias's gradient) folds to zero, through the reshape that
// merges the heads and a cast; packed keys are dimension 0.
// CHECK-LABEL: func.func @key_bias_gradient_is_zero
// CHECK: %[[ZERO:.*]] = lmc.constant dense<0.000000e+00> : tensor<32xf16>
// CHECK: return %[[ZERO]], %{{.*}}
func.func @key_bias_gradient_is_zero(%q: tensor<?x4x8xf32>, %out: tensor<?x4x8xf32>, %lse: tensor<?x4xf32>, %cu: tensor<?xi32>) -> (tensor<32xf16>, tensor<32xf32>) {
  %g:3 = lmc.attention_grad %q, %q, %q, %out, %lse, %out cu_seqlens(%cu) causal : (tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<?x4x8xf32>, tensor<?xi32>) -> (tensor<?x4x8xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>)
  %k = lmc.reshape %g#1 : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %half = lmc.cast %k : tensor<?x32xf32> -> tensor<?x32xf16>
  %bk = lmc.reduce_sum %half axis 0 : tensor<?x32xf16> -> tensor<32xf16>
  // The value bias's gradient is not zero.
  %v = lmc.reshape %g#2 : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %bv = lmc.reduce_sum %v axis 0 : tensor<?x32xf32> -> tensor<32xf32>
  return %bk, %bv : tensor<32xf16>, tensor<32xf32>
}

// -----

// Tests that only a sum over the key positions folds: over the heads of a
// packed key gradient, or over the batch of a padded one, it stays; over a
// padded one's positions (dimension 1) it folds.
// CHECK-LABEL: func.func @key_gradient_sums_over_other_axes
// CHECK: lmc.reduce_sum %{{.*}} axis 1 : tensor<5x4x8xf32> -> tensor<5x8xf32>
// CHECK: lmc.reduce_sum %{{.*}} axis 0 : tensor<2x3x4x8xf32> -> tensor<3x4x8xf32>
// CHECK-NOT: lmc.reduce_sum
// CHECK: return
func.func @key_gradient_sums_over_other_axes(%q: tensor<5x4x8xf32>, %lse: tensor<5x4xf32>, %cu: tensor<?xi32>, %p: tensor<2x3x4x8xf32>, %plse: tensor<2x3x4xf32>) -> (tensor<5x8xf32>, tensor<3x4x8xf32>, tensor<2x4x8xf32>) {
  %g:3 = lmc.attention_grad %q, %q, %q, %q, %lse, %q cu_seqlens(%cu) : (tensor<5x4x8xf32>, tensor<5x4x8xf32>, tensor<5x4x8xf32>, tensor<5x4x8xf32>, tensor<5x4xf32>, tensor<5x4x8xf32>, tensor<?xi32>) -> (tensor<5x4x8xf32>, tensor<5x4x8xf32>, tensor<5x4x8xf32>)
  %heads = lmc.reduce_sum %g#1 axis 1 : tensor<5x4x8xf32> -> tensor<5x8xf32>
  %h:3 = lmc.attention_grad %p, %p, %p, %p, %plse, %p : (tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4xf32>, tensor<2x3x4x8xf32>) -> (tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>)
  %batch = lmc.reduce_sum %h#1 axis 0 : tensor<2x3x4x8xf32> -> tensor<3x4x8xf32>
  %positions = lmc.reduce_sum %h#1 axis 1 : tensor<2x3x4x8xf32> -> tensor<2x4x8xf32>
  return %heads, %batch, %positions : tensor<5x8xf32>, tensor<3x4x8xf32>, tensor<2x4x8xf32>
}
