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
