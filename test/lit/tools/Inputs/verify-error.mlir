// A model that parses but breaks a verifier rule on line 4, column 8.
func.func @forward(%x: tensor<?x64xf32>, %w: tensor<32x16xf32>) -> tensor<?x16xf32> {
  // Contraction dimensions 64 and 32 differ.
  %0 = lmc.matmul %x, %w : (tensor<?x64xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}
