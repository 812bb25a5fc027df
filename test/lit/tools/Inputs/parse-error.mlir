// A model with a syntax error on line 5, column 8: the op name is unknown.
func.func @forward(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = lmc.exp %x : tensor<?x4xf32>
  // The next op does not exist.
  %1 = lmc.frobnicate %0 : tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}
