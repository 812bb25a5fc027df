// Attention written op by op over [B, S, H, D] inputs, with head-split and
// head-merge transposes: lmc compile fuses it and cancels the transposes.
func.func @encoder_attention(%q: tensor<?x16x4x8xf32>, %k: tensor<?x16x4x8xf32>, %v: tensor<?x16x4x8xf32>) -> tensor<?x16x4x8xf32> {
  %qt = lmc.transpose %q [0, 2, 1, 3] : tensor<?x16x4x8xf32> -> tensor<?x4x16x8xf32>
  %kt = lmc.transpose %k [0, 2, 1, 3] : tensor<?x16x4x8xf32> -> tensor<?x4x16x8xf32>
  %vt = lmc.transpose %v [0, 2, 1, 3] : tensor<?x16x4x8xf32> -> tensor<?x4x16x8xf32>
  %s = lmc.matmul %qt, %kt transpose_rhs : (tensor<?x4x16x8xf32>, tensor<?x4x16x8xf32>) -> tensor<?x4x16x16xf32>
  %c = lmc.constant dense<0.353553385> : tensor<f32>
  %scaled = lmc.mul %s, %c : (tensor<?x4x16x16xf32>, tensor<f32>) -> tensor<?x4x16x16xf32>
  %p = lmc.softmax %scaled axis 3 : tensor<?x4x16x16xf32>
  %o = lmc.matmul %p, %vt : (tensor<?x4x16x16xf32>, tensor<?x4x16x8xf32>) -> tensor<?x4x16x8xf32>
  %merged = lmc.transpose %o [0, 2, 1, 3] : tensor<?x4x16x8xf32> -> tensor<?x16x4x8xf32>
  return %merged : tensor<?x16x4x8xf32>
}
