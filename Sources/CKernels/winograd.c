// Winograd transforms for 3x3 stride-1 convs (see include/CKernels.h and
// GraphRuntime/Kernels/Winograd.swift): F(4x4, 3x3) and F(2x2, 3x3), filter, input and output.
// The transforms are cloned for AVX-512, AVX2 and baseline x86-64 on Linux (kernel_macros.h).
#include "CKernels.h"
#include "kernel_macros.h"
#include <string.h>

// Winograd F(4x4, 3x3) (Lavin & Gray): a 3x3 stride-1 conv as 36 GEMMs over transformed 6x6
// input tiles, 4x fewer multiplies than the direct form. Matrices: B^T (input), G (filter),
// A^T (output) for the interpolation points 0, +-1, +-2 and infinity. The filter transform runs
// in double once per plan; the input and output transforms run over whole rows of tiles, with
// columns split into their four phases (x mod 4) so every inner loop is contiguous.

void gs_winograd_f43_filter(const float *w, long m, long c, float *u) {
    // G's entries as products (a division per entry made this the slowest part of planning).
    const double q = 0.25, s = 1.0 / 6.0, t = 1.0 / 12.0, f = 1.0 / 24.0;
    long mc = m * c;
    for (long o = 0; o < m; o++)
        for (long ch = 0; ch < c; ch++) {
            const float *g = w + (o * c + ch) * 9;
            double r[6][3];
            for (int j = 0; j < 3; j++) {
                double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                r[0][j] = g0 * q;
                r[1][j] = -(g0 + g1 + g2) * s;
                r[2][j] = -(g0 - g1 + g2) * s;
                r[3][j] = g0 * f + g1 * t + g2 * s;
                r[4][j] = g0 * f - g1 * t + g2 * s;
                r[5][j] = g2;
            }
            float *dst = u + o * c + ch;
            for (int i = 0; i < 6; i++, dst += 6 * mc) {
                double g0 = r[i][0], g1 = r[i][1], g2 = r[i][2];
                dst[0] = (float)(g0 * q);
                dst[mc] = (float)(-(g0 + g1 + g2) * s);
                dst[2 * mc] = (float)(-(g0 - g1 + g2) * s);
                dst[3 * mc] = (float)(g0 * f + g1 * t + g2 * s);
                dst[4 * mc] = (float)(g0 * f - g1 * t + g2 * s);
                dst[5 * mc] = (float)g2;
            }
        }
}

// B^T applied element by element: output vector k from the six input vectors, n elements each
// (rows of the padded input, or the six columns of every tile in a row of tiles).
__attribute__((always_inline)) static inline void gs_winograd_bt6(const float *const a[6], float *const o[6], long n) {
    const float *d0 = a[0], *d1 = a[1], *d2 = a[2], *d3 = a[3], *d4 = a[4], *d5 = a[5];
    float *t0 = o[0], *t1 = o[1], *t2 = o[2], *t3 = o[3], *t4 = o[4], *t5 = o[5];
    GS_VECTOR for (long k = 0; k < n; k++) {
        float a0 = d0[k], a1 = d1[k], a2 = d2[k], a3 = d3[k], a4 = d4[k], a5 = d5[k];
        t0[k] = 4 * a0 - 5 * a2 + a4;
        t1[k] = -4 * (a1 + a2) + a3 + a4;
        t2[k] = 4 * (a1 - a2) - a3 + a4;
        t3[k] = 2 * (a3 - a1) - a2 + a4;
        t4[k] = 2 * (a1 - a3) - a2 + a4;
        t5[k] = 4 * a1 - 5 * a3 + a5;
    }
}

// One row of the padded input split into its column phases: phase f of `phases` holds padded
// column phases * q + f (input column phases * q + f - pl) for q < tq, zero outside the row, so
// each tile's columns are contiguous runs. An absent row (above or below the image) is all zeros.
__attribute__((always_inline)) static inline void gs_winograd_phases(const float *src, long w, long pl, long phases,
                                                                   long tq, float *row) {
    if (!src) { memset(row, 0, sizeof(float) * phases * tq); return; }
    for (long f = 0; f < phases; f++) {
        float *dst = row + f * tq;
        long off = f - pl;                                       // input column of q = 0
        long qlo = off >= 0 ? 0 : (-off + phases - 1) / phases; // first q with phases * q + off >= 0
        long qhi = (w - off + phases - 1) / phases;              // first q with phases * q + off >= w
        if (qhi > tq) qhi = tq;
        if (qlo > qhi) qlo = qhi;
        for (long q = 0; q < qlo; q++) dst[q] = 0.0f;
        GS_VECTOR for (long q = qlo; q < qhi; q++) dst[q] = src[phases * q + off];
        for (long q = qhi; q < tq; q++) dst[q] = 0.0f;
    }
}

// The inverse of gs_winograd_phases for one output row: column xx of `out` is phase xx mod
// `phases` of `z` (phases `stride` floats apart) at xx / phases.
__attribute__((always_inline)) static inline void gs_winograd_unphase(const float *z, long phases, long stride, long ow,
                                                                       float *out) {
    for (long xx = 0; xx < ow; xx++) out[xx] = z[(xx % phases) * stride + xx / phases];
}

// The transforms run over a block of tile rows at once (`gs_winograd_block_rows`: about 128
// tiles), whose tiles are contiguous in each of the transformed planes: the inner loops are
// that long instead of one row of tiles (7-14 on ResNet's and Inception's maps, one masked
// vector), and each plane is read or written in long runs. Every value is computed with the
// arithmetic, and in the order, of a row of tiles at a time.
long gs_winograd_block_rows(long th, long tw) {
    long rows = tw > 0 ? 128 / tw : 1;
    if (rows < 1) rows = 1;
    return rows < th ? rows : th;
}

GS_CLONES void gs_winograd_f43_input(const float *x, long c, long c0, long c1, long h, long w, long pt, long pl,
                                     long th, long tw, float *v, float *scratch) {
    const long tq = tw + 2, T = th * tw, step = c * T, R = gs_winograd_block_rows(th, tw), B = R * tw;
    float *cols = scratch;            // 6 rows x 6 tile columns x B: cols[(j*6+k)*B + t] = row j, column k of tile t
    float *rowt = scratch + 36 * B;   // the same after B^T over the rows: rowt[(i*6+k)*B + t]
    float *dp = scratch + 72 * B;     // one padded input row in 4 column phases x tq
    for (long ch = c0; ch < c1; ch++) {
        const float *plane = x + ch * h * w;
        for (long ty0 = 0; ty0 < th; ty0 += R) {
            const long rows = ty0 + R <= th ? R : th - ty0, n = rows * tw;
            // Each tile's six columns as contiguous runs over the block's tiles: column k is
            // phase k % 4, one tile further for k >= 4.
            for (long r = 0; r < rows; r++)
                for (int j = 0; j < 6; j++) {
                    long iy = 4 * (ty0 + r) + j - pt;
                    gs_winograd_phases(iy < 0 || iy >= h ? 0 : plane + iy * w, w, pl, 4, tq, dp);
                    for (int k = 0; k < 6; k++)
                        memcpy(cols + (j * 6 + k) * B + r * tw, dp + (k % 4) * tq + (k >= 4), sizeof(float) * tw);
                }
            // B^T over the six rows, then over each tile's six columns (the order and arithmetic of
            // a row of tiles at a time, so every value is the same).
            for (int k = 0; k < 6; k++) {
                const float *const in[6] = {cols + k * B, cols + (6 + k) * B, cols + (12 + k) * B, cols + (18 + k) * B,
                                            cols + (24 + k) * B, cols + (30 + k) * B};
                float *const out[6] = {rowt + k * B, rowt + (6 + k) * B, rowt + (12 + k) * B, rowt + (18 + k) * B,
                                       rowt + (24 + k) * B, rowt + (30 + k) * B};
                gs_winograd_bt6(in, out, n);
            }
            for (int i = 0; i < 6; i++) {
                const float *r = rowt + i * 6 * B;
                const float *const in[6] = {r, r + B, r + 2 * B, r + 3 * B, r + 4 * B, r + 5 * B};
                float *o = v + ((long)(i * 6) * c + ch) * T + ty0 * tw;
                float *const out[6] = {o, o + step, o + 2 * step, o + 3 * step, o + 4 * step, o + 5 * step};
                gs_winograd_bt6(in, out, n);
            }
        }
    }
}

GS_CLONES void gs_winograd_f43_output(const float *mm, long m, long o0, long o1, long th, long tw, long oh, long ow,
                                      const float *bias, float *y, float *scratch) {
    const long T = th * tw, step = m * T, R = gs_winograd_block_rows(th, tw), B = R * tw;
    float *s = scratch;              // 4 rows x 6 columns x B
    float *z = scratch + 24 * B;     // 4 column phases x B
    for (long o = o0; o < o1; o++) {
        const float b = bias ? bias[o] : 0.0f;
        for (long ty0 = 0; ty0 < th; ty0 += R) {
            const long rows = ty0 + R <= th ? R : th - ty0, n = rows * tw;
            const float *base = mm + o * T + ty0 * tw;
            for (int j = 0; j < 6; j++) {
                const float *m0 = base + (long)(0 * 6 + j) * step, *m1 = base + (long)(1 * 6 + j) * step,
                            *m2 = base + (long)(2 * 6 + j) * step, *m3 = base + (long)(3 * 6 + j) * step,
                            *m4 = base + (long)(4 * 6 + j) * step, *m5 = base + (long)(5 * 6 + j) * step;
                float *s0 = s + (0 * 6 + j) * B, *s1 = s + (1 * 6 + j) * B, *s2 = s + (2 * 6 + j) * B, *s3 = s + (3 * 6 + j) * B;
                GS_VECTOR for (long q = 0; q < n; q++) {
                    float a0 = m0[q], a1 = m1[q], a2 = m2[q], a3 = m3[q], a4 = m4[q], a5 = m5[q];
                    float p12 = a1 + a2, d12 = a1 - a2, p34 = a3 + a4, d34 = a3 - a4;
                    s0[q] = a0 + p12 + p34;
                    s1[q] = d12 + 2 * d34;
                    s2[q] = p12 + 4 * p34;
                    s3[q] = d12 + 8 * d34 + a5;
                }
            }
            for (int r = 0; r < 4; r++) {
                const float *e0 = s + (r * 6) * B, *e1 = e0 + B, *e2 = e0 + 2 * B, *e3 = e0 + 3 * B, *e4 = e0 + 4 * B,
                            *e5 = e0 + 5 * B;
                float *z0 = z, *z1 = z + B, *z2 = z + 2 * B, *z3 = z + 3 * B;
                GS_VECTOR for (long q = 0; q < n; q++) {
                    float a0 = e0[q], a1 = e1[q], a2 = e2[q], a3 = e3[q], a4 = e4[q], a5 = e5[q];
                    float p12 = a1 + a2, d12 = a1 - a2, p34 = a3 + a4, d34 = a3 - a4;
                    z0[q] = a0 + p12 + p34 + b;
                    z1[q] = d12 + 2 * d34 + b;
                    z2[q] = p12 + 4 * p34 + b;
                    z3[q] = d12 + 8 * d34 + a5 + b;
                }
                for (long k = 0; k < rows; k++) {
                    long oy = 4 * (ty0 + k) + r;
                    if (oy >= oh) break;
                    gs_winograd_unphase(z + k * tw, 4, B, ow, y + o * oh * ow + oy * ow);
                }
            }
        }
    }
}

// Winograd F(2x2, 3x3): G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1].
void gs_winograd_f23_filter(const float *w, long m, long c, float *u) {
    long mc = m * c;
    for (long o = 0; o < m; o++)
        for (long ch = 0; ch < c; ch++) {
            const float *g = w + (o * c + ch) * 9;
            double r[4][3];
            for (int j = 0; j < 3; j++) {
                double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                r[0][j] = g0;
                r[1][j] = (g0 + g1 + g2) * 0.5;
                r[2][j] = (g0 - g1 + g2) * 0.5;
                r[3][j] = g2;
            }
            float *dst = u + o * c + ch;
            for (int i = 0; i < 4; i++, dst += 4 * mc) {
                double g0 = r[i][0], g1 = r[i][1], g2 = r[i][2];
                dst[0] = (float)g0;
                dst[mc] = (float)((g0 + g1 + g2) * 0.5);
                dst[2 * mc] = (float)((g0 - g1 + g2) * 0.5);
                dst[3 * mc] = (float)g2;
            }
        }
}

GS_CLONES void gs_winograd_f23_input(const float *x, long c, long c0, long c1, long h, long w, long pt, long pl,
                                     long th, long tw, float *v, float *scratch) {
    const long tq = tw + 1, T = th * tw, n = 2 * tq, step = c * T;
    float *dp = scratch;          // 4 rows x 2 phases x tq: dp[(j*2+f)*tq + q] = row j, column 2q+f
    float *tp = scratch + 4 * n;  // the same after the row transform
    for (long ch = c0; ch < c1; ch++) {
        const float *plane = x + ch * h * w;
        for (long ty = 0; ty < th; ty++) {
            for (int j = 0; j < 4; j++) {
                long iy = 2 * ty + j - pt;
                gs_winograd_phases(iy < 0 || iy >= h ? 0 : plane + iy * w, w, pl, 2, tq, dp + j * n);
            }
            // B^T over the four rows (whole padded width), then over each tile's four columns:
            // phase 0 and 1 of the tile, then of the next one.
            const float *d0 = dp, *d1 = dp + n, *d2 = dp + 2 * n, *d3 = dp + 3 * n;
            float *t0 = tp, *t1 = tp + n, *t2 = tp + 2 * n, *t3 = tp + 3 * n;
            GS_VECTOR for (long k = 0; k < n; k++) {
                float a0 = d0[k], a1 = d1[k], a2 = d2[k], a3 = d3[k];
                t0[k] = a0 - a2;
                t1[k] = a1 + a2;
                t2[k] = a2 - a1;
                t3[k] = a1 - a3;
            }
            for (int i = 0; i < 4; i++) {
                const float *p0 = tp + i * n, *p1 = p0 + tq;
                float *o = v + ((long)(i * 4) * c + ch) * T + ty * tw;
                float *o1 = o + step, *o2 = o + 2 * step, *o3 = o + 3 * step;
                GS_VECTOR for (long q = 0; q < tw; q++) {
                    float a0 = p0[q], a1 = p1[q], a2 = p0[q + 1], a3 = p1[q + 1];
                    o[q] = a0 - a2;
                    o1[q] = a1 + a2;
                    o2[q] = a2 - a1;
                    o3[q] = a1 - a3;
                }
            }
        }
    }
}

GS_CLONES void gs_winograd_f23_output(const float *mm, long m, long o0, long o1, long th, long tw, long oh, long ow,
                                      const float *bias, float *y, float *scratch) {
    const long T = th * tw, step = m * T, R = gs_winograd_block_rows(th, tw), B = R * tw;
    float *s = scratch;             // 2 rows x 4 columns x B
    float *z = scratch + 8 * B;     // 2 column phases x B
    for (long o = o0; o < o1; o++) {
        const float b = bias ? bias[o] : 0.0f;
        for (long ty0 = 0; ty0 < th; ty0 += R) {
            const long rows = ty0 + R <= th ? R : th - ty0, n = rows * tw;
            const float *base = mm + o * T + ty0 * tw;
            for (int j = 0; j < 4; j++) {
                const float *m0 = base + (long)(0 * 4 + j) * step, *m1 = base + (long)(1 * 4 + j) * step,
                            *m2 = base + (long)(2 * 4 + j) * step, *m3 = base + (long)(3 * 4 + j) * step;
                float *s0 = s + j * B, *s1 = s + (4 + j) * B;
                GS_VECTOR for (long q = 0; q < n; q++) {
                    float a1 = m1[q], a2 = m2[q];
                    s0[q] = m0[q] + a1 + a2;
                    s1[q] = a1 - a2 - m3[q];
                }
            }
            for (int r = 0; r < 2; r++) {
                const float *e0 = s + (r * 4) * B, *e1 = e0 + B, *e2 = e0 + 2 * B, *e3 = e0 + 3 * B;
                float *z0 = z, *z1 = z + B;
                GS_VECTOR for (long q = 0; q < n; q++) {
                    float a1 = e1[q], a2 = e2[q];
                    z0[q] = e0[q] + a1 + a2 + b;
                    z1[q] = a1 - a2 - e3[q] + b;
                }
                for (long k = 0; k < rows; k++) {
                    long oy = 2 * (ty0 + k) + r;
                    if (oy >= oh) break;
                    gs_winograd_unphase(z + k * tw, 2, B, ow, y + o * oh * ow + oy * ow);
                }
            }
        }
    }
}
