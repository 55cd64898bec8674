// Small numeric kernels that Swift's baseline x86-64 code generation (SSE2, no FMA) cannot express
// well. Each has a portable fallback that computes bit-identical results.
#include "winnow_kernels.h"
#include <math.h>
#include <stddef.h>

#if defined(__x86_64__)
#include <immintrin.h>

// Eight 8-float accumulators (64 output columns) stay in registers while the molecule's non-zero
// entries stream by, so each output element is read and written once per row instead of once per
// non-zero entry.
__attribute__((target("avx2,fma")))
static void sparse_linear_avx2(int64_t rows, const int32_t *offsets, const int32_t *indices, const float *values,
                               const float *weight, int64_t out, const float *bias, float *y) {
    int64_t tiled = out - out % 64;
    for (int64_t r = 0; r < rows; r++) {
        float *row = y + r * out;
        int32_t begin = offsets[r], end = offsets[r + 1];
        for (int64_t c = 0; c < tiled; c += 64) {
            __m256 a0, a1, a2, a3, a4, a5, a6, a7;
            if (bias) {
                a0 = _mm256_loadu_ps(bias + c);      a1 = _mm256_loadu_ps(bias + c + 8);
                a2 = _mm256_loadu_ps(bias + c + 16); a3 = _mm256_loadu_ps(bias + c + 24);
                a4 = _mm256_loadu_ps(bias + c + 32); a5 = _mm256_loadu_ps(bias + c + 40);
                a6 = _mm256_loadu_ps(bias + c + 48); a7 = _mm256_loadu_ps(bias + c + 56);
            } else {
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _mm256_setzero_ps();
            }
            for (int32_t k = begin; k < end; k++) {
                const float *w = weight + (int64_t)indices[k] * out + c;
                __m256 v = _mm256_set1_ps(values[k]);
                a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w), a0);
                a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8), a1);
                a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 16), a2);
                a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 24), a3);
                a4 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 32), a4);
                a5 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 40), a5);
                a6 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 48), a6);
                a7 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 56), a7);
            }
            _mm256_storeu_ps(row + c, a0);      _mm256_storeu_ps(row + c + 8, a1);
            _mm256_storeu_ps(row + c + 16, a2); _mm256_storeu_ps(row + c + 24, a3);
            _mm256_storeu_ps(row + c + 32, a4); _mm256_storeu_ps(row + c + 40, a5);
            _mm256_storeu_ps(row + c + 48, a6); _mm256_storeu_ps(row + c + 56, a7);
        }
        for (int64_t c = tiled; c < out; c++) {
            float sum = bias ? bias[c] : 0.0f;
            for (int32_t k = begin; k < end; k++) sum = fmaf(values[k], weight[(int64_t)indices[k] * out + c], sum);
            row[c] = sum;
        }
    }
}
#endif

static void sparse_linear_portable(int64_t rows, const int32_t *offsets, const int32_t *indices, const float *values,
                                   const float *weight, int64_t out, const float *bias, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        float *row = y + r * out;
        for (int64_t c = 0; c < out; c++) row[c] = bias ? bias[c] : 0.0f;
        for (int32_t k = offsets[r]; k < offsets[r + 1]; k++) {
            const float *w = weight + (int64_t)indices[k] * out;
            float v = values[k];
            for (int64_t c = 0; c < out; c++) row[c] = fmaf(v, w[c], row[c]);
        }
    }
}

void wk_sparse_linear(int64_t rows, const int32_t *offsets, const int32_t *indices, const float *values,
                      const float *weight, int64_t out, const float *bias, float *y) {
#if defined(__x86_64__)
    // The CPU model is read once at start-up (compiler runtime constructor); this is a flag test.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        sparse_linear_avx2(rows, offsets, indices, values, weight, out, bias, y);
        return;
    }
#endif
    sparse_linear_portable(rows, offsets, indices, values, weight, out, bias, y);
}
