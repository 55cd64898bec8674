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

// Six rows by 16 columns: 12 accumulators and 2 weight vectors fill the 16 AVX registers, and each
// weight load serves six rows. Leftover columns go through 8-wide tiles (masked at the end of a row),
// leftover rows one at a time through the same tiles: every path computes the same chain per element.
#define WK_ROWS 6

__attribute__((target("avx2,fma")))
static inline __m256i wk_first_lanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define WK_FMA2(i) v = _mm256_broadcast_ss(x0 + (i) * in + k); \
    lo##i = _mm256_fmadd_ps(v, wlo, lo##i); hi##i = _mm256_fmadd_ps(v, whi, hi##i);
#define WK_FMA1(i) a##i = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + (i) * in + k), w8, a##i);

__attribute__((target("avx2,fma")))
static void dense_linear_avx2(int64_t rows, const float *x, int64_t in, const float *weight, int64_t out,
                              const float *bias, float *y) {
    int64_t tiled = out - out % 16;
    int64_t r = 0;
    for (; r + WK_ROWS <= rows; r += WK_ROWS) {
        const float *x0 = x + r * in;
        for (int64_t c = 0; c < tiled; c += 16) {
            __m256 lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, lo4, hi4, lo5, hi5;
            __m256 blo = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
            __m256 bhi = bias ? _mm256_loadu_ps(bias + c + 8) : _mm256_setzero_ps();
            lo0 = lo1 = lo2 = lo3 = lo4 = lo5 = blo;
            hi0 = hi1 = hi2 = hi3 = hi4 = hi5 = bhi;
            const float *w = weight + c;
            for (int64_t k = 0; k < in; k++, w += out) {
                __m256 wlo = _mm256_loadu_ps(w), whi = _mm256_loadu_ps(w + 8);
                __m256 v;
                WK_FMA2(0) WK_FMA2(1) WK_FMA2(2) WK_FMA2(3) WK_FMA2(4) WK_FMA2(5)
            }
            float *o = y + r * out + c;
            _mm256_storeu_ps(o, lo0);           _mm256_storeu_ps(o + 8, hi0);
            _mm256_storeu_ps(o + out, lo1);     _mm256_storeu_ps(o + out + 8, hi1);
            _mm256_storeu_ps(o + 2 * out, lo2); _mm256_storeu_ps(o + 2 * out + 8, hi2);
            _mm256_storeu_ps(o + 3 * out, lo3); _mm256_storeu_ps(o + 3 * out + 8, hi3);
            _mm256_storeu_ps(o + 4 * out, lo4); _mm256_storeu_ps(o + 4 * out + 8, hi4);
            _mm256_storeu_ps(o + 5 * out, lo5); _mm256_storeu_ps(o + 5 * out + 8, hi5);
        }
        for (int64_t c = tiled; c < out; c += 8) {
            __m256i mask = wk_first_lanes(out - c);
            __m256 b = bias ? _mm256_maskload_ps(bias + c, mask) : _mm256_setzero_ps();
            __m256 a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b;
            const float *w = weight + c;
            for (int64_t k = 0; k < in; k++, w += out) {
                __m256 w8 = _mm256_maskload_ps(w, mask);
                WK_FMA1(0) WK_FMA1(1) WK_FMA1(2) WK_FMA1(3) WK_FMA1(4) WK_FMA1(5)
            }
            float *o = y + r * out + c;
            _mm256_maskstore_ps(o, mask, a0);           _mm256_maskstore_ps(o + out, mask, a1);
            _mm256_maskstore_ps(o + 2 * out, mask, a2); _mm256_maskstore_ps(o + 3 * out, mask, a3);
            _mm256_maskstore_ps(o + 4 * out, mask, a4); _mm256_maskstore_ps(o + 5 * out, mask, a5);
        }
    }
    for (; r < rows; r++) {
        const float *xr = x + r * in;
        for (int64_t c = 0; c < out; c += 8) {
            __m256i mask = wk_first_lanes(out - c);
            __m256 a = bias ? _mm256_maskload_ps(bias + c, mask) : _mm256_setzero_ps();
            const float *w = weight + c;
            for (int64_t k = 0; k < in; k++, w += out) {
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + k), _mm256_maskload_ps(w, mask), a);
            }
            _mm256_maskstore_ps(y + r * out + c, mask, a);
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

static void dense_linear_portable(int64_t rows, const float *x, int64_t in, const float *weight, int64_t out,
                                  const float *bias, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < out; c++) {
            float sum = bias ? bias[c] : 0.0f;
            for (int64_t k = 0; k < in; k++) sum = fmaf(x[r * in + k], weight[k * out + c], sum);
            y[r * out + c] = sum;
        }
    }
}

void wk_dense_linear(int64_t rows, const float *x, int64_t in, const float *weight, int64_t out,
                     const float *bias, float *y) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dense_linear_avx2(rows, x, in, weight, out, bias, y);
        return;
    }
#endif
    dense_linear_portable(rows, x, in, weight, out, bias, y);
}

// One loop body for both paths: inlined into the popcnt-enabled wrapper it compiles to the popcnt
// instruction, into the portable one to the compiler's bit-counting sequence.
static inline __attribute__((always_inline)) void tanimoto_many_body(const uint64_t *query, const uint64_t *fingerprints,
                                                                      int64_t count, int64_t words, double *out) {
    for (int64_t i = 0; i < count; i++) {
        const uint64_t *f = fingerprints + i * words;
        int64_t both = 0, either = 0;
        for (int64_t w = 0; w < words; w++) {
            both += __builtin_popcountll(query[w] & f[w]);
            either += __builtin_popcountll(query[w] | f[w]);
        }
        out[i] = either == 0 ? 1.0 : (double)both / (double)either;
    }
}

#if defined(__x86_64__)
__attribute__((target("popcnt")))
static void tanimoto_many_popcnt(const uint64_t *query, const uint64_t *fingerprints, int64_t count, int64_t words,
                                 double *out) {
    tanimoto_many_body(query, fingerprints, count, words, out);
}
#endif

static void tanimoto_many_portable(const uint64_t *query, const uint64_t *fingerprints, int64_t count, int64_t words,
                                   double *out) {
    tanimoto_many_body(query, fingerprints, count, words, out);
}

void wk_tanimoto_many(const uint64_t *query, const uint64_t *fingerprints, int64_t count, int64_t words,
                      double *out) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("popcnt")) {
        tanimoto_many_popcnt(query, fingerprints, count, words, out);
        return;
    }
#endif
    tanimoto_many_portable(query, fingerprints, count, words, out);
}

double wk_tanimoto(const uint64_t *a, const uint64_t *b, int64_t words) {
    double out;
    wk_tanimoto_many(a, b, 1, words, &out);
    return out;
}

int64_t wk_popcount(const uint64_t *fingerprint, int64_t words) {
    int64_t total = 0;
    for (int64_t w = 0; w < words; w++) total += __builtin_popcountll(fingerprint[w]);
    return total;
}

// One loop body for the scalar paths (popcnt instruction or portable), as for Tanimoto above.
static inline __attribute__((always_inline)) int64_t common_at_least_body(const uint64_t *query, const uint64_t *rows,
                                                                          int64_t count, int64_t stride, int64_t min_common,
                                                                          int32_t *positions, int32_t *common) {
    int64_t kept = 0;
    for (int64_t i = 0; i < count; i++) {
        const uint64_t *r = rows + i * stride;
        int64_t c = 0;
        for (int64_t w = 0; w < stride; w++) c += __builtin_popcountll(query[w] & r[w]);
        if (c >= min_common) {
            positions[kept] = (int32_t)i;
            common[kept] = (int32_t)c;
            kept++;
        }
    }
    return kept;
}

#if defined(__x86_64__)
__attribute__((target("popcnt")))
static int64_t common_at_least_popcnt(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                                      int64_t min_common, int32_t *positions, int32_t *common) {
    return common_at_least_body(query, rows, count, stride, min_common, positions, common);
}

// 512 bits per step: AND, per-lane popcount, lane sums; one horizontal sum per row. Two rows per
// iteration keep two independent dependency chains in flight.
__attribute__((target("avx512f,avx512vpopcntdq")))
static int64_t common_at_least_avx512(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                                      int64_t min_common, int32_t *positions, int32_t *common) {
    int64_t kept = 0, i = 0;
    for (; i + 1 < count; i += 2) {
        const uint64_t *r0 = rows + i * stride, *r1 = r0 + stride;
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        for (int64_t w = 0; w < stride; w += 8) {
            __m512i q = _mm512_load_si512((const void *)(query + w));
            a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_and_si512(q, _mm512_load_si512((const void *)(r0 + w)))));
            a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_and_si512(q, _mm512_load_si512((const void *)(r1 + w)))));
        }
        int64_t c0 = _mm512_reduce_add_epi64(a0), c1 = _mm512_reduce_add_epi64(a1);
        if (c0 >= min_common) { positions[kept] = (int32_t)i; common[kept] = (int32_t)c0; kept++; }
        if (c1 >= min_common) { positions[kept] = (int32_t)(i + 1); common[kept] = (int32_t)c1; kept++; }
    }
    for (; i < count; i++) {
        const uint64_t *r = rows + i * stride;
        __m512i a = _mm512_setzero_si512();
        for (int64_t w = 0; w < stride; w += 8) {
            __m512i q = _mm512_load_si512((const void *)(query + w));
            a = _mm512_add_epi64(a, _mm512_popcnt_epi64(_mm512_and_si512(q, _mm512_load_si512((const void *)(r + w)))));
        }
        int64_t c = _mm512_reduce_add_epi64(a);
        if (c >= min_common) { positions[kept] = (int32_t)i; common[kept] = (int32_t)c; kept++; }
    }
    return kept;
}
#endif

static int64_t common_at_least_portable(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                                        int64_t min_common, int32_t *positions, int32_t *common) {
    return common_at_least_body(query, rows, count, stride, min_common, positions, common);
}

int64_t wk_common_at_least_using(int32_t kernel, const uint64_t *query, const uint64_t *rows, int64_t count,
                                 int64_t stride, int64_t min_common, int32_t *positions, int32_t *common) {
#if defined(__x86_64__)
    int aligned = stride % 8 == 0 && ((uintptr_t)query & 63) == 0 && ((uintptr_t)rows & 63) == 0;
    if (kernel == 0 && aligned && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) {
        return common_at_least_avx512(query, rows, count, stride, min_common, positions, common);
    }
    if (kernel <= 1 && __builtin_cpu_supports("popcnt")) {
        return common_at_least_popcnt(query, rows, count, stride, min_common, positions, common);
    }
#endif
    return common_at_least_portable(query, rows, count, stride, min_common, positions, common);
}

int64_t wk_common_at_least(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                           int64_t min_common, int32_t *positions, int32_t *common) {
    return wk_common_at_least_using(0, query, rows, count, stride, min_common, positions, common);
}

uint64_t wk_checksum(const uint8_t *bytes, int64_t length) {
    const uint64_t prime = 0x100000001b3ULL;
    uint64_t lane[4] = {0xcbf29ce484222325ULL, 0xcbf29ce484222325ULL ^ 1, 0xcbf29ce484222325ULL ^ 2,
                        0xcbf29ce484222325ULL ^ 3};
    int64_t words = length / 8, i = 0;
    for (; i + 4 <= words; i += 4) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            __builtin_memcpy(&w, bytes + 8 * (i + k), 8);
            lane[k] = (lane[k] ^ w) * prime;
        }
    }
    for (; i < words; i++) {
        uint64_t w;
        __builtin_memcpy(&w, bytes + 8 * i, 8);
        lane[i % 4] = (lane[i % 4] ^ w) * prime;
    }
    for (int64_t b = words * 8; b < length; b++) lane[0] = (lane[0] ^ bytes[b]) * prime;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int k = 0; k < 4; k++) h = (h ^ lane[k]) * prime;
    return (h ^ (uint64_t)length) * prime;
}
