//===- AttentionTile.h - the tile list attention kernels walk ---*- C++ -*-===//
//
// The host (runtime/src/cuda) writes one descriptor per query tile of every
// sequence, from cu_seqlens or lengths; attention kernels, forward and
// backward, take one block per (tile, head).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_CUDA_ATTENTIONTILE_H
#define LMC_COMPILER_CUDA_ATTENTIONTILE_H

namespace mlir::lmc::cuda {

/// The query tile descriptor the host writes: 8 ints.
inline constexpr const char *kTileStruct = R"cuda(
// One query tile of one sequence, written by the host from cu_seqlens.
struct LmcTile {
  int queryRow;      // first query row of the tile (row of q and out)
  int rows;          // query rows in the tile (<= kBlockQ)
  int keyRow;        // first key row of the sequence
  int keys;          // keys in the sequence
  int queryPosition; // position of the first query row within its sequence
  int unused[3];
};
)cuda";

} // namespace mlir::lmc::cuda

#endif // LMC_COMPILER_CUDA_ATTENTIONTILE_H
