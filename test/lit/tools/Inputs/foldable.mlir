// A model whose casts cancel: lmc compile canonicalizes them away.
func.func @forward(%x: tensor<?x4xf16>) -> tensor<?x4xf16> {
  %0 = lmc.cast %x : tensor<?x4xf16> -> tensor<?x4xf32>
  %1 = lmc.cast %0 : tensor<?x4xf32> -> tensor<?x4xf16>
  return %1 : tensor<?x4xf16>
}
