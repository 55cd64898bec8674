#ifndef WINNOW_KERNELS_H
#define WINNOW_KERNELS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// y[r, :] = bias + sum over k in offsets[r] ..< offsets[r + 1] of values[k] * weight[indices[k], :]
/// for r in 0 ..< rows. `weight` is row-major (width x out), `y` is rows x out, `bias` may be NULL.
/// Every output element is summed in the same order with fused multiply-adds on every CPU (AVX2 when
/// the CPU has it, a scalar fmaf loop otherwise), so the result does not depend on the machine's
/// vector width or on how rows are split between threads.
void wk_sparse_linear(int64_t rows, const int32_t *offsets, const int32_t *indices, const float *values,
                      const float *weight, int64_t out, const float *bias, float *y);

/// y = x · weight (+ bias) for dense row-major x (rows x in), weight (in x out), y (rows x out).
/// Row-invariant: every output element is bias (or 0) followed by one fused multiply-add per k in
/// ascending order, whatever the number of rows, the row's position in the batch or the CPU. A
/// molecule therefore gets the same score in any batch (threads, shards, resumed runs).
void wk_dense_linear(int64_t rows, const float *x, int64_t in, const float *weight, int64_t out,
                     const float *bias, float *y);

/// One Adam step over n parameters, element by element in this order (no fused multiply-add, so
/// every CPU and the vector and scalar paths give the same bits):
///   m = b1·m + (1 − b1)·g;  v = b2·v + ((1 − b2)·g)·g;
///   w = w − ((lr · (m / c1)) / (√(v / c2) + eps) + decay·w)
/// where c1, c2 are the bias corrections 1 − b1^t, 1 − b2^t and decay the weight decay times the rate.
void wk_adam_update(int64_t n, float *w, const float *g, float *m, float *v, float b1, float b2, float c1,
                    float c2, float eps, float lr, float decay);

/// Tanimoto similarity of one bit fingerprint (`words` 64-bit words) to each of `count` fingerprints
/// stored one after another: out[i] = |q & f_i| / |q | f_i| (1 when both are empty). Uses the CPU's
/// popcount instruction when it has one; the counts, and so the results, are the same either way.
void wk_tanimoto_many(const uint64_t *query, const uint64_t *fingerprints, int64_t count, int64_t words,
                      double *out);

/// Tanimoto similarity of two bit fingerprints of `words` 64-bit words (1 when both are empty).
double wk_tanimoto(const uint64_t *a, const uint64_t *b, int64_t words);

/// Popcount of one fingerprint of `words` 64-bit words.
int64_t wk_popcount(const uint64_t *fingerprint, int64_t words);

/// Intersection counts |query & row| for `count` rows stored `stride` words apart, keeping only the
/// rows whose count is at least `min_common`: their positions (0-based, ascending) go to `positions`
/// and their counts to `common`; returns how many were kept (both arrays need room for `count`).
/// With `stride` a multiple of 8 and 64-byte aligned rows and query, CPUs with AVX-512 VPOPCNTDQ count
/// 512 bits per instruction; otherwise the popcount instruction (or a portable bit count) does. The
/// counts are integers, so every path returns the same answer.
int64_t wk_common_at_least(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                           int64_t min_common, int32_t *positions, int32_t *common);

/// `wk_common_at_least` through a chosen path, for tests: 0 the fastest the CPU has, 1 at most the
/// popcount instruction, 2 the portable bit count.
int64_t wk_common_at_least_using(int32_t kernel, const uint64_t *query, const uint64_t *rows, int64_t count,
                                 int64_t stride, int64_t min_common, int32_t *positions, int32_t *common);

/// Checksum of a byte range for fingerprint index files: four lanes of 64-bit FNV-1a over
/// little-endian 8-byte words (word i goes to lane i % 4), the bytes after the last whole word into
/// lane 0 one by one, then the lanes and the length folded together with FNV-1a. Several GB/s per
/// core; it detects damage, it is not a cryptographic hash.
uint64_t wk_checksum(const uint8_t *bytes, int64_t length);

#ifdef __cplusplus
}
#endif
#endif
