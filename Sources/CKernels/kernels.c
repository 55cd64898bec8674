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

// Eight rows' lane sums (a[r]: 8 lanes whose total is row r's count) to one vector of the eight
// totals, in row order: pairs of rows within 128-bit lanes, then across lanes, 14 shuffles and adds
// for 8 rows instead of a full horizontal sum per row.
__attribute__((target("avx512f"))) static inline __m512i sum_lanes_of_8(const __m512i a[8]) {
    __m512i t0 = _mm512_add_epi64(_mm512_unpacklo_epi64(a[0], a[1]), _mm512_unpackhi_epi64(a[0], a[1]));
    __m512i t1 = _mm512_add_epi64(_mm512_unpacklo_epi64(a[2], a[3]), _mm512_unpackhi_epi64(a[2], a[3]));
    __m512i t2 = _mm512_add_epi64(_mm512_unpacklo_epi64(a[4], a[5]), _mm512_unpackhi_epi64(a[4], a[5]));
    __m512i t3 = _mm512_add_epi64(_mm512_unpacklo_epi64(a[6], a[7]), _mm512_unpackhi_epi64(a[6], a[7]));
    // t0 = per 128-bit lane k: (row 0's part k, row 1's part k); likewise t1 for rows 2, 3 ...
    __m512i u0 = _mm512_add_epi64(_mm512_shuffle_i64x2(t0, t1, _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_i64x2(t0, t1, _MM_SHUFFLE(3, 1, 3, 1)));
    __m512i u1 = _mm512_add_epi64(_mm512_shuffle_i64x2(t2, t3, _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_i64x2(t2, t3, _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_epi64(_mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
}

// 512 bits per step: AND, per-lane popcount, lane sums; eight rows at a time, their eight totals
// made in one vector (sum_lanes_of_8) and compared with the bar at once, so a block with no hit
// costs no scalar work. `words` is the row stride (a multiple of 8); the 2048-bit case gets its own
// copy with the query held in registers.
__attribute__((target("avx512f,avx512vpopcntdq"))) static inline __attribute__((always_inline)) int64_t
common_at_least_avx512_body(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t words,
                            int64_t min_common, int32_t *positions, int32_t *common) {
    int64_t kept = 0, i = 0;
    const __m512i bar = _mm512_set1_epi64(min_common);
    for (; i + 8 <= count; i += 8) {
        __m512i a[8];
        for (int r = 0; r < 8; r++) {
            const uint64_t *row = rows + (i + r) * words;
            __m512i sum = _mm512_popcnt_epi64(_mm512_and_si512(_mm512_load_si512((const void *)query),
                                                               _mm512_load_si512((const void *)row)));
            for (int64_t w = 8; w < words; w += 8) {
                __m512i both = _mm512_and_si512(_mm512_load_si512((const void *)(query + w)), _mm512_load_si512((const void *)(row + w)));
                sum = _mm512_add_epi64(sum, _mm512_popcnt_epi64(both));
            }
            a[r] = sum;
        }
        __m512i totals = sum_lanes_of_8(a);
        __mmask8 hits = _mm512_cmpge_epi64_mask(totals, bar);
        if (hits) {
            int64_t t[8];
            _mm512_storeu_si512((void *)t, totals);
            while (hits) {
                int r = __builtin_ctz(hits);
                hits &= (__mmask8)(hits - 1);
                positions[kept] = (int32_t)(i + r);
                common[kept] = (int32_t)t[r];
                kept++;
            }
        }
    }
    for (; i < count; i++) {
        const uint64_t *row = rows + i * words;
        __m512i a = _mm512_setzero_si512();
        for (int64_t w = 0; w < words; w += 8) {
            __m512i q = _mm512_load_si512((const void *)(query + w));
            a = _mm512_add_epi64(a, _mm512_popcnt_epi64(_mm512_and_si512(q, _mm512_load_si512((const void *)(row + w)))));
        }
        int64_t c = _mm512_reduce_add_epi64(a);
        if (c >= min_common) { positions[kept] = (int32_t)i; common[kept] = (int32_t)c; kept++; }
    }
    return kept;
}

__attribute__((target("avx512f,avx512vpopcntdq")))
static int64_t common_at_least_avx512(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                                      int64_t min_common, int32_t *positions, int32_t *common) {
    if (stride == 32) return common_at_least_avx512_body(query, rows, count, 32, min_common, positions, common);
    return common_at_least_avx512_body(query, rows, count, stride, min_common, positions, common);
}
#endif

static int64_t common_at_least_portable(const uint64_t *query, const uint64_t *rows, int64_t count, int64_t stride,
                                        int64_t min_common, int32_t *positions, int32_t *common) {
    return common_at_least_body(query, rows, count, stride, min_common, positions, common);
}

int64_t wk_common_at_least_using(int32_t kernel, const uint64_t *query, const uint64_t *rows, int64_t count,
                                 int64_t stride, int64_t min_common, int32_t *positions, int32_t *common) {
#if defined(__x86_64__)
    int aligned = stride % 8 == 0 && stride > 0 && ((uintptr_t)query & 63) == 0 && ((uintptr_t)rows & 63) == 0;
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

// Adam: eight parameters per step with AVX (the divisions and square roots dominate, and the scalar
// loop Swift emits does them one at a time). No contraction into FMA anywhere, so the AVX lanes, the
// scalar tail and the portable loop round exactly alike.
#pragma clang fp contract(off)
static inline __attribute__((always_inline)) void adam_scalar(int64_t from, int64_t n, float *w, const float *g,
                                                              float *m, float *v, float b1, float b2, float c1,
                                                              float c2, float eps, float lr, float decay) {
    const float a1 = 1.0f - b1, a2 = 1.0f - b2;
    for (int64_t i = from; i < n; i++) {
        const float gi = g[i];
        const float mi = b1 * m[i] + a1 * gi;
        const float vi = b2 * v[i] + (a2 * gi) * gi;
        m[i] = mi;
        v[i] = vi;
        const float step = (lr * (mi / c1)) / (sqrtf(vi / c2) + eps);
        w[i] = w[i] - (step + decay * w[i]);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx")))
static void adam_avx(int64_t n, float *w, const float *g, float *m, float *v, float b1, float b2, float c1, float c2,
                     float eps, float lr, float decay) {
    const __m256 B1 = _mm256_set1_ps(b1), B2 = _mm256_set1_ps(b2), A1 = _mm256_set1_ps(1.0f - b1),
                 A2 = _mm256_set1_ps(1.0f - b2), C1 = _mm256_set1_ps(c1), C2 = _mm256_set1_ps(c2),
                 EPS = _mm256_set1_ps(eps), LR = _mm256_set1_ps(lr), DECAY = _mm256_set1_ps(decay);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i), wi = _mm256_loadu_ps(w + i);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(B1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(A1, gi));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(B2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(A2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(LR, _mm256_div_ps(mi, C1)),
                                          _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(vi, C2)), EPS));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, _mm256_add_ps(step, _mm256_mul_ps(DECAY, wi))));
    }
    adam_scalar(i, n, w, g, m, v, b1, b2, c1, c2, eps, lr, decay);
}
#endif

void wk_adam_update(int64_t n, float *w, const float *g, float *m, float *v, float b1, float b2, float c1,
                    float c2, float eps, float lr, float decay) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx")) {
        adam_avx(n, w, g, m, v, b1, b2, c1, c2, eps, lr, decay);
        return;
    }
#endif
    adam_scalar(0, n, w, g, m, v, b1, b2, c1, c2, eps, lr, decay);
}
#pragma clang fp contract(on)

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
