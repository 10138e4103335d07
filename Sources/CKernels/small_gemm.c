// Small row-major matrix products (AVX-512; see gs_sgemm_small in CKernels.h).
//
// Why: a transformer at batch 1 and a short sequence multiplies a handful of rows (16 tokens)
// by weights of 64-1,000 columns, and attention multiplies 16x16 blocks per head. OpenBLAS packs
// both operands on every call and its small-matrix path ran those products at 40-50 GFLOP/s
// here, 1-2 us of fixed cost each. A register tile of 4 rows x 64 columns reads B straight from
// its row-major rows (no packing): per k, 4 vector loads of B and 4 broadcasts of A feed 16 FMAs,
// and the tile's B panel (k x 64 floats) stays in L1/L2 while the row tiles pass over it.
#include "CKernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define GS_SMALL_GEMM 1
#define GS_AVX512 __attribute__((target("avx512f")))

// One tile of MR rows x NV vectors of 16 columns; the last vector's lanes past n are masked.
static inline __attribute__((always_inline)) GS_AVX512 void
tile(const int MR, const int NV, long k, float alpha, const float *a, long lda, const float *b, long ldb,
     float beta, float *c, long ldc, __mmask16 last) {
    __m512 acc[4][4];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (long p = 0; p < k; p++) {
        __m512 bv[4];
        for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? last : 0xFFFF, b + p * ldb + 16 * v);
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + p]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) {
            __mmask16 mask = v == NV - 1 ? last : 0xFFFF;
            float *dst = c + r * ldc + 16 * v;
            __m512 y = _mm512_mul_ps(acc[r][v], al);
            if (beta != 0.0f) y = _mm512_fmadd_ps(be, _mm512_maskz_loadu_ps(mask, dst), y);
            _mm512_mask_storeu_ps(dst, mask, y);
        }
}

#define GS_TILE(MR, NV)                                                                                  \
    static GS_AVX512 void tile_##MR##_##NV(long k, float alpha, const float *a, long lda, const float *b, \
                                           long ldb, float beta, float *c, long ldc, __mmask16 last) {   \
        tile(MR, NV, k, alpha, a, lda, b, ldb, beta, c, ldc, last);                                      \
    }
GS_TILE(1, 1) GS_TILE(1, 2) GS_TILE(1, 3) GS_TILE(1, 4)
GS_TILE(2, 1) GS_TILE(2, 2) GS_TILE(2, 3) GS_TILE(2, 4)
GS_TILE(3, 1) GS_TILE(3, 2) GS_TILE(3, 3) GS_TILE(3, 4)
GS_TILE(4, 1) GS_TILE(4, 2) GS_TILE(4, 3) GS_TILE(4, 4)

typedef void (*tile_fn)(long, float, const float *, long, const float *, long, float, float *, long, __mmask16);
static const tile_fn tiles[4][4] = {
    {tile_1_1, tile_1_2, tile_1_3, tile_1_4},
    {tile_2_1, tile_2_2, tile_2_3, tile_2_4},
    {tile_3_1, tile_3_2, tile_3_3, tile_3_4},
    {tile_4_1, tile_4_2, tile_4_3, tile_4_4},
};
#endif

void gs_sgemm_small(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc) {
#ifdef GS_SMALL_GEMM
    // Column panels of 64 outside, row tiles of 4 inside: each panel of B is read from cache
    // by every row tile after the first.
    for (long j = 0; j < n; j += 64) {
        long cols = n - j < 64 ? n - j : 64;
        int nv = (int)((cols + 15) / 16);
        long tail = cols - 16 * (nv - 1);
        __mmask16 last = (__mmask16)(tail == 16 ? 0xFFFF : (1u << tail) - 1);
        for (long i = 0; i < m; i += 4) {
            int mr = (int)(m - i < 4 ? m - i : 4);
            tiles[mr - 1][nv - 1](k, alpha, a + i * lda, lda, b + j, ldb, beta, c + i * ldc + j, ldc, last);
        }
    }
#else
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
#endif
}

#ifdef GS_SMALL_GEMM
// Four rows of W against x: four accumulators, one load of x per 16 columns, the tail masked.
static GS_AVX512 void gemvRows4(long k, const float *w, long ldw, const float *x, float *s) {
    const float *w0 = w, *w1 = w + ldw, *w2 = w + 2 * ldw, *w3 = w + 3 * ldw;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    long j = 0;
    for (; j + 16 <= k; j += 16) {
        __m512 xv = _mm512_loadu_ps(x + j);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + j), xv, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + j), xv, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + j), xv, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + j), xv, a3);
    }
    if (j < k) {
        __mmask16 m = (__mmask16)((1u << (k - j)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + j), xv, a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + j), xv, a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + j), xv, a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + j), xv, a3);
    }
    s[0] = _mm512_reduce_add_ps(a0);
    s[1] = _mm512_reduce_add_ps(a1);
    s[2] = _mm512_reduce_add_ps(a2);
    s[3] = _mm512_reduce_add_ps(a3);
}

static GS_AVX512 float gemvRow(long k, const float *w, const float *x) {
    __m512 a = _mm512_setzero_ps();
    long j = 0;
    for (; j + 16 <= k; j += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(w + j), _mm512_loadu_ps(x + j), a);
    if (j < k) {
        __mmask16 m = (__mmask16)((1u << (k - j)) - 1);
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + j), _mm512_maskz_loadu_ps(m, x + j), a);
    }
    return _mm512_reduce_add_ps(a);
}
#endif

void gs_sgemv_rows(long n, long k, float alpha, const float *w, long ldw, const float *x, float beta, float *y) {
#ifdef GS_SMALL_GEMM
    float s[4];
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        gemvRows4(k, w + i * ldw, ldw, x, s);
        for (int r = 0; r < 4; r++) y[i + r] = alpha * s[r] + (beta != 0.0f ? beta * y[i + r] : 0.0f);
    }
    for (; i < n; i++) {
        float d = gemvRow(k, w + i * ldw, x);
        y[i] = alpha * d + (beta != 0.0f ? beta * y[i] : 0.0f);
    }
#else
    (void)n; (void)k; (void)alpha; (void)w; (void)ldw; (void)x; (void)beta; (void)y;
#endif
}
