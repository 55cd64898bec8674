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

/// Tanimoto similarity of one bit fingerprint (`words` 64-bit words) to each of `count` fingerprints
/// stored one after another: out[i] = |q & f_i| / |q | f_i| (1 when both are empty). Uses the CPU's
/// popcount instruction when it has one; the counts, and so the results, are the same either way.
void wk_tanimoto_many(const uint64_t *query, const uint64_t *fingerprints, int64_t count, int64_t words,
                      double *out);

/// Tanimoto similarity of two bit fingerprints of `words` 64-bit words (1 when both are empty).
double wk_tanimoto(const uint64_t *a, const uint64_t *b, int64_t words);

#ifdef __cplusplus
}
#endif
#endif
