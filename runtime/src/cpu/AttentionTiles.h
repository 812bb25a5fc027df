// AttentionTiles.h - the register-blocked products of CPU attention's tiles.
//
// S = Q K^T and O += P V for one query tile, written as loops over 16-float
// vectors (Clang's vector extension) so that the same source compiles to
// AVX-512 (one register per vector) and to AVX2 (two) inside functions
// that carry those targets. Each step keeps an R x (16 V) block of the
// result in registers: every vector loaded from K or V feeds R fused
// multiply-adds, every broadcast query or probability feeds V. R and V are
// chosen per instruction set so that the block fits the register file
// (AVX-512: 32 registers, R = 4, V = 4; AVX2: 16, R = 4, V = 1).
//
// K is read transposed ([dim][ld] per key block, packed once per call, so
// its rows need no repacking per query tile as a BLAS call would do); V is
// read in place. Both tile functions are always inlined into their
// callers, which carry the target attribute.

#ifndef LMC_RUNTIME_CPU_ATTENTIONTILES_H
#define LMC_RUNTIME_CPU_ATTENTIONTILES_H

#include <cstdint>
#include <cstring>

namespace lmc::cpu::tiles {

using Vec16 = float __attribute__((vector_size(64)));

// By reference: a 64-byte vector passed by value would change the calling
// convention between the AVX2 and AVX-512 copies (all of this is inlined).
__attribute__((always_inline)) inline void load(Vec16 &to, const float *from) {
  std::memcpy(&to, from, sizeof to);
}

__attribute__((always_inline)) inline void store(float *to, const Vec16 &value) {
  std::memcpy(to, &value, sizeof value);
}

/// c[r][0, 16V) (+)= sum_k a[r][k] * b[k][0, 16V) for r < R and k < depth:
/// a has rows of `lda` floats, b of `ldb`, c of `ldc`; `accumulate` adds to
/// c instead of overwriting it.
template <int R, int V, bool accumulate>
__attribute__((always_inline)) inline void productBlock(const float *a, int64_t lda, const float *b,
                                                        int64_t ldb, int64_t depth, float *c,
                                                        int64_t ldc) {
  Vec16 acc[R][V] = {};
  if (accumulate)
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v)
        load(acc[r][v], c + r * ldc + 16 * v);
  for (int64_t k = 0; k < depth; ++k) {
    Vec16 row[V];
    for (int v = 0; v < V; ++v)
      load(row[v], b + k * ldb + 16 * v);
    for (int r = 0; r < R; ++r) {
      Vec16 scalar = a[r * lda + k] - Vec16{}; // a broadcast (x - 0 folds; 0 + x does not)
      for (int v = 0; v < V; ++v)
        acc[r][v] += scalar * row[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      store(c + r * ldc + 16 * v, acc[r][v]);
}

/// scores[rows][ld] = queries[rows][dim] x keys[dim][ld]: `rows` a multiple
/// of R, `ld` of 16.
template <int R, int V>
__attribute__((always_inline)) inline void scoreTile(const float *queries, int64_t rows,
                                                     int64_t dim, const float *keys, int64_t ld,
                                                     float *scores) {
  // Column blocks outside: a block of K^T (dim x 16V floats) stays in L1
  // while every query row passes over it.
  int64_t column = 0;
  for (; column + 16 * V <= ld; column += 16 * V)
    for (int64_t row = 0; row < rows; row += R)
      productBlock<R, V, false>(queries + row * dim, dim, keys + column, ld, dim,
                                scores + row * ld + column, ld);
  for (; column < ld; column += 16)
    for (int64_t row = 0; row < rows; row += R)
      productBlock<R, 1, false>(queries + row * dim, dim, keys + column, ld, dim,
                                scores + row * ld + column, ld);
}

/// out[rows][valueDim] += p[rows][cols] (rows of ldp) x values[cols][valueDim]
/// (rows of ldv): `rows` a multiple of R, `valueDim` of 16.
template <int R, int V>
__attribute__((always_inline)) inline void valueTile(const float *p, int64_t ldp, int64_t rows,
                                                     int64_t cols, const float *values, int64_t ldv,
                                                     int64_t valueDim, float *out) {
  // Keys in steps of 64, outside the rows: a step's values (64 x 16V
  // floats, 16 KiB) stay in L1 while every row passes over them; the
  // accumulators go back to `out` (L1) between steps.
  constexpr int64_t kKeyStep = 64;
  for (int64_t key = 0; key < cols; key += kKeyStep) {
    int64_t keys = cols - key < kKeyStep ? cols - key : kKeyStep;
    int64_t column = 0;
    for (; column + 16 * V <= valueDim; column += 16 * V)
      for (int64_t row = 0; row < rows; row += R)
        productBlock<R, V, true>(p + row * ldp + key, ldp, values + key * ldv + column, ldv, keys,
                                 out + row * valueDim + column, valueDim);
    for (; column < valueDim; column += 16)
      for (int64_t row = 0; row < rows; row += R)
        productBlock<R, 1, true>(p + row * ldp + key, ldp, values + key * ldv + column, ldv, keys,
                                 out + row * valueDim + column, valueDim);
  }
}

} // namespace lmc::cpu::tiles

#endif // LMC_RUNTIME_CPU_ATTENTIONTILES_H
