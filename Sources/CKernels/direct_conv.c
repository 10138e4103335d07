// Direct convolution in a channel-blocked layout (AVX-512; see gs_direct_conv in CKernels.h).
//
// Why: im2col + sgemm runs ResNet-style convs at about half the FMA peak here, because the GEMM
// is skinny (a 14x14 or 7x7 map gives 196 or 49 columns) and im2col copies the input kh*kw
// times. Holding 16 channels of one position together ("NCHW16c", as oneDNN and MLAS do)
// lets a register tile of up to 64 output channels x 6 output positions run straight over the
// input: per input channel, 4 filter vectors and 6 broadcasts feed 24 FMAs, nothing is copied
// kh*kw times, and both operands stream. The input is reordered (and padded) into that layout
// on entry and the output reordered back to NCHW on exit, so the rest of the interpreter keeps
// NCHW. An input of fewer than 16 channels (an RGB stem) is not blocked but padded plane by
// plane ("planar"): the same tile then reads its c channels a plane apart.
#include "CKernels.h"
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define GS_DIRECT 1
#define GS_AVX512 __attribute__((target("avx512f")))
#endif

int gs_avx512_available(void) {
#ifdef GS_DIRECT
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

// Fewer than 16 input channels: planes instead of 16-channel blocks.
static int planar(long c) { return c < 16; }
// Input-channel blocks and the channels of each (the last block's padding lanes are zero).
static long inputBlocks(long c) { return planar(c) ? 1 : (c + 15) / 16; }
static long inputLanes(long c) { return planar(c) ? c : 16; }

// Floats from one 16-channel block (or plane) to the next: its size, plus one cache line when
// that is a multiple of 2 KB. (A 56x56 block is 49 x 4 KB: every block's same position then
// falls in the same L1 set, and a 1x1 conv reading 16 blocks at once ran at half speed.)
static long pad2K(long n) { return n % 512 == 0 ? n + 16 : n; }
static long blockFloats(long positions) { return pad2K(positions * 16); }

// The blocked (or planar) input's size in floats.
static long inputFloats(long c, long ih, long iw) {
    return planar(c) ? c * pad2K(ih * iw) : (c + 15) / 16 * blockFloats(ih * iw);
}

long gs_direct_conv_blocked_floats(long c, long positions) { return (c + 15) / 16 * blockFloats(positions); }

long gs_direct_conv_filter_floats(long m, long c, long kh, long kw) {
    return (m + 15) / 16 * 16 * inputBlocks(c) * inputLanes(c) * kh * kw;
}

// Output channels go in groups of up to 4 vectors (64 channels); group g holds
// v = min(4, vectors - 4g) vectors laid out [block][kh][kw][lane][v * 16], groups one after
// another (every group but the last is full, so group g starts at g * 64 * blocks*lanes*kh*kw).
// Channels past m or c are zero.
void gs_direct_conv_pack(const float *w, long m, long c, long kh, long kw, float *out) {
    long vectors = (m + 15) / 16, blocks = inputBlocks(c), lanes = inputLanes(c);
    float *p = out;
    for (long g = 0; 4 * g < vectors; g++) {
        long v = vectors - 4 * g < 4 ? vectors - 4 * g : 4;
        for (long b = 0; b < blocks; b++)
            for (long y = 0; y < kh; y++)
                for (long x = 0; x < kw; x++)
                    for (long i = 0; i < lanes; i++) {
                        long ic = b * lanes + i;
                        for (long o = 0; o < v * 16; o++) {
                            long oc = g * 64 + o;
                            *p++ = (ic < c && oc < m) ? w[((oc * c + ic) * kh + y) * kw + x] : 0.0f;
                        }
                    }
    }
}

long gs_direct_conv_scratch_floats(long m, long c, long kh, long kw, long sh, long sw, long oh, long ow) {
    long ih = (oh - 1) * sh + kh, iw = (ow - 1) * sw + kw;
    return inputFloats(c, ih, iw) + (m + 15) / 16 * blockFloats(oh * ow);
}

#ifdef GS_DIRECT
// One register tile: V vectors of output channels x NP output positions, summed over `blocks`
// input blocks of `lanes` channels (`laneStride` apart) and the kh x kw window (`rowStride`
// and `colStride` per step). at[j] points at position j's window corner in the input
// (positions may span rows, so every tile but the last is full), `f` at the group's filter for
// the first block, `out` at the first position in the blocked output (positions are
// consecutive there); `accumulate` adds to what `out` holds.
// The epilogue a tile applies as it stores its last input chunk into a blocked output: bias
// (the group's first channel's), residual (blocked, at the tile's own offset) and clip; lanes
// past the output channels (`live` channels from the group's first) stay zero.
struct Finish {
    const float *bias, *residual;
    float lo, hi;
    long live;
};

static inline __attribute__((always_inline)) GS_AVX512 void tile(
    const int V, const int NP, const float *const *at, const float *f, float *out, int accumulate, long blocks,
    long lanes, long laneStride, long kh, long kw, long blockStride, long rowStride, long colStride, long vecStride,
    const float *pf, const float *pfEnd, long pfMask, const int FIN, const struct Finish *fin) {
    __m512 acc[4][6];
    const float *p[6];
    for (int j = 0; j < 6; j++) p[j] = j < NP ? at[j] : at[0];
    for (int v = 0; v < 4; v++)
        for (int j = 0; j < 6; j++)
            if (v < V && j < NP)
                acc[v][j] = accumulate ? _mm512_loadu_ps(out + v * vecStride + j * 16) : _mm512_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        for (long y = 0; y < kh; y++) {
            for (long x = 0; x < kw; x++) {
                long off = b * blockStride + y * rowStride + x * colStride;
                for (long i = 0; i < lanes; i++) {
                    // A cache line of the filter slice the next tiles need, into L2, spread
                    // evenly over the tile (in a burst, they queued behind each other and
                    // stalled the loads: ResNet-50's 7x7 stage ran at 120 GFLOP/s, spread 135).
                    if ((i & pfMask) == 0 && pf < pfEnd) {
                        _mm_prefetch((const char *)pf, _MM_HINT_T1);
                        pf += 16;
                    }
                    __m512 w[4];
                    for (int v = 0; v < 4; v++)
                        if (v < V) w[v] = _mm512_loadu_ps(f + v * 16);
                    f += V * 16;
                    for (int j = 0; j < 6; j++) {
                        if (j < NP) {
                            __m512 s = _mm512_set1_ps(p[j][off + i * laneStride]);
                            for (int v = 0; v < 4; v++)
                                if (v < V) acc[v][j] = _mm512_fmadd_ps(w[v], s, acc[v][j]);
                        }
                    }
                }
            }
        }
    }
    if (FIN) {
        // (Guards, not breaks: the loops must unroll fully, or the accumulators live on the stack.)
        const __m512 low = _mm512_set1_ps(fin->lo), high = _mm512_set1_ps(fin->hi);
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) {
            if (v < V) {
                long left = fin->live - v * 16;
                __mmask16 k = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (left > 0 ? left : 0)) - 1);
                __m512 b = fin->bias ? _mm512_maskz_loadu_ps(k, fin->bias + v * 16) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
                for (int j = 0; j < 6; j++) {
                    if (j < NP) {
                        __m512 x = _mm512_add_ps(acc[v][j], b);
                        if (fin->residual) x = _mm512_add_ps(x, _mm512_loadu_ps(fin->residual + v * vecStride + j * 16));
                        x = _mm512_min_ps(high, _mm512_max_ps(low, x));
                        _mm512_storeu_ps(out + v * vecStride + j * 16, _mm512_maskz_mov_ps(k, x));
                    }
                }
            }
        }
        return;
    }
    for (int v = 0; v < 4; v++)
        for (int j = 0; j < 6; j++)
            if (v < V && j < NP) _mm512_storeu_ps(out + v * vecStride + j * 16, acc[v][j]);
}

// Blocked input: 16 lanes one float apart, columns 16 floats apart (constants, so the lane
// loop unrolls). Planar input: c lanes a plane apart, columns adjacent.
#define GS_BLOCKED_CASE(V, NP)                                                                                  \
    case (V) * 8 + (NP):                                                                                        \
        tile(V, NP, at, f, out, accumulate, blocks, 16, 1, kh, kw, blockStride, rowStride, 16, vecStride, pf, pfEnd, \
             pfMask, 0, 0);                                                                                             \
        break;
#define GS_FINISH_CASE(V, NP)                                                                                   \
    case (V) * 8 + (NP):                                                                                        \
        tile(V, NP, at, f, out, accumulate, blocks, 16, 1, kh, kw, blockStride, rowStride, 16, vecStride, pf, pfEnd, \
             pfMask, 1, fin);                                                                                           \
        break;
#define GS_PLANAR_CASE(V, NP)                                                                                   \
    case (V) * 8 + (NP):                                                                                        \
        tile(V, NP, at, f, out, 0, 1, lanes, laneStride, kh, kw, 0, rowStride, 1, vecStride, 0, 0, 0, 0, 0);   \
        break;
#define GS_CASES(M, V) M(V, 1) M(V, 2) M(V, 3) M(V, 4) M(V, 5) M(V, 6)

// (Finishing tiles are their own function: compiled into one switch with the others, the
// accumulators were spilled to the stack in the inner loop, at half the speed.)
static GS_AVX512 void tileBlocked(int V, int NP, const float *const *at, const float *f, float *out, int accumulate,
                                  long blocks, long kh, long kw, long blockStride, long rowStride, long vecStride,
                                  const float *pf, const float *pfEnd, long pfMask) {
    switch (V * 8 + NP) {
        GS_CASES(GS_BLOCKED_CASE, 1) GS_CASES(GS_BLOCKED_CASE, 2) GS_CASES(GS_BLOCKED_CASE, 3)
        GS_CASES(GS_BLOCKED_CASE, 4)
    default: break;
    }
}

static GS_AVX512 void tileFinish(int V, int NP, const float *const *at, const float *f, float *out, int accumulate,
                                 long blocks, long kh, long kw, long blockStride, long rowStride, long vecStride,
                                 const float *pf, const float *pfEnd, long pfMask, const struct Finish *fin) {
    switch (V * 8 + NP) {
        GS_CASES(GS_FINISH_CASE, 1) GS_CASES(GS_FINISH_CASE, 2) GS_CASES(GS_FINISH_CASE, 3)
        GS_CASES(GS_FINISH_CASE, 4)
    default: break;
    }
}

static GS_AVX512 void tilePlanar(int V, int NP, const float *const *at, const float *f, float *out, long lanes,
                                 long laneStride, long kh, long kw, long rowStride, long vecStride) {
    switch (V * 8 + NP) {
        GS_CASES(GS_PLANAR_CASE, 1) GS_CASES(GS_PLANAR_CASE, 2) GS_CASES(GS_PLANAR_CASE, 3)
        GS_CASES(GS_PLANAR_CASE, 4)
    default: break;
    }
}

// Transposes a 16x16 block held as 16 vectors (rows) in place: r[i] lane j <- r[j] lane i.
static inline __attribute__((always_inline)) GS_AVX512 void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
        t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xDD);
        t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
        t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
        r[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
        r[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xDD);
    }
}

static inline __mmask16 firstLanes(long n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

// x [c][h][w] -> blocked, padded [blocks][ih][iw][16]: row r, column q of the blocked input is
// input row r - pt, column q - pl (zero outside, and for channels past c). 16 columns of the
// block's 16 channel rows at a time, transposed in registers.
static GS_AVX512 void reorderInput(const float *x, long c, long h, long w, long pt, long pl, long ih, long iw,
                                   float *d) {
    long blocks = (c + 15) / 16;
    for (long b = 0; b < blocks; b++) {
        float *db = d + b * blockFloats(ih * iw);
        long lanes = c - b * 16 < 16 ? c - b * 16 : 16;
        for (long r = 0; r < ih; r++) {
            float *dr = db + r * iw * 16;
            long iy = r - pt;
            if (iy < 0 || iy >= h) { memset(dr, 0, (size_t)(iw * 16) * sizeof(float)); continue; }
            long lo = pl, hi = pl + w < iw ? pl + w : iw;  // columns [lo, hi) come from the input
            if (lo > 0) memset(dr, 0, (size_t)(lo * 16) * sizeof(float));
            if (hi < iw) memset(dr + hi * 16, 0, (size_t)((iw - hi) * 16) * sizeof(float));
            const float *src = x + (b * 16) * h * w + iy * w;
            for (long q = lo; q < hi; q += 16) {
                long cnt = hi - q < 16 ? hi - q : 16;
                __mmask16 k = firstLanes(cnt);
                __m512 v[16];
                for (int i = 0; i < 16; i++)
                    v[i] = i < lanes ? _mm512_maskz_loadu_ps(k, src + i * h * w + (q - pl)) : _mm512_setzero_ps();
                transpose16(v);
                for (int j = 0; j < 16; j++)
                    if (j < cnt) _mm512_storeu_ps(dr + (q + j) * 16, v[j]);
            }
        }
    }
}

// Positions [p0, p1) of blocked [vectors][oh*ow][16] -> y [m][oh*ow], with bias, residual and
// clip (see gs_direct_conv): 16 positions of one block at a time,
// transposed in registers. (Reading the blocked output one channel at a time instead touches
// every cache line 16 times; on a 56x56 map that cost more than the conv.)
static GS_AVX512 void reorderOutput(const float *o, long m, long ohw, long p0, long p1, const float *bias,
                                    const float *residual, int residualBlocked, float lo, float hi, float *y) {
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    const int clip = lo > -__builtin_inff() || hi < __builtin_inff();
    for (long v = 0; v * 16 < m; v++) {
        const float *src = o + v * blockFloats(ohw);
        long lanes = m - v * 16 < 16 ? m - v * 16 : 16;
        for (long n0 = p0; n0 < p1; n0 += 16) {
            long cnt = p1 - n0 < 16 ? p1 - n0 : 16;
            __mmask16 k = firstLanes(cnt);
            __m512 r[16];
            for (int j = 0; j < 16; j++) r[j] = j < cnt ? _mm512_loadu_ps(src + (n0 + j) * 16) : _mm512_setzero_ps();
            if (residual && residualBlocked) {
                const float *rb = residual + v * blockFloats(ohw);
                for (int j = 0; j < 16; j++)
                    if (j < cnt) r[j] = _mm512_add_ps(r[j], _mm512_loadu_ps(rb + (n0 + j) * 16));
            }
            transpose16(r);
            for (int i = 0; i < 16; i++) {
                if (i >= lanes) break;
                long oc = v * 16 + i;
                __m512 x = bias ? _mm512_add_ps(r[i], _mm512_set1_ps(bias[oc])) : r[i];
                if (residual && !residualBlocked) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(k, residual + oc * ohw + n0));
                // max/min return their second operand when either is NaN: a NaN stays NaN, as in gs_clip.
                if (clip) x = _mm512_min_ps(high, _mm512_max_ps(low, x));
                _mm512_mask_storeu_ps(y + oc * ohw + n0, k, x);
            }
        }
    }
}

// The epilogue of a blocked output, in place over positions [p0, p1): bias, residual (blocked,
// or NCHW read 16 positions at a time and transposed) and clip; lanes past m stay zero.
static GS_AVX512 void finishBlocked(float *o, long m, long ohw, long p0, long p1, const float *bias,
                                    const float *residual, int residualBlocked, float lo, float hi) {
    const int clip = lo > -__builtin_inff() || hi < __builtin_inff();
    // (Lanes past m are zero unless the input held an infinity: 0 * inf in a padding lane.)
    if (!bias && !residual && !clip && m % 16 == 0) return;
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (long v = 0; v * 16 < m; v++) {
        float *dst = o + v * blockFloats(ohw);
        long lanes = m - v * 16 < 16 ? m - v * 16 : 16;
        __mmask16 live = firstLanes(lanes);
        __m512 b = bias ? _mm512_maskz_loadu_ps(live, bias + v * 16) : _mm512_setzero_ps();
        if (!residual || residualBlocked) {
            const float *rb = residual ? residual + v * blockFloats(ohw) : 0;
            for (long p = p0; p < p1; p++) {
                __m512 x = _mm512_add_ps(_mm512_loadu_ps(dst + p * 16), b);
                if (rb) x = _mm512_add_ps(x, _mm512_loadu_ps(rb + p * 16));
                if (clip) x = _mm512_min_ps(high, _mm512_max_ps(low, x));
                _mm512_storeu_ps(dst + p * 16, _mm512_maskz_mov_ps(live, x));
            }
            continue;
        }
        for (long n0 = p0; n0 < p1; n0 += 16) {
            long cnt = p1 - n0 < 16 ? p1 - n0 : 16;
            __mmask16 k = firstLanes(cnt);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < lanes ? _mm512_maskz_loadu_ps(k, residual + (v * 16 + i) * ohw + n0) : _mm512_setzero_ps();
            transpose16(r);
            for (int j = 0; j < 16; j++) {
                if (j >= cnt) break;
                __m512 x = _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(dst + (n0 + j) * 16), b), r[j]);
                if (clip) x = _mm512_min_ps(high, _mm512_max_ps(low, x));
                _mm512_storeu_ps(dst + (n0 + j) * 16, _mm512_maskz_mov_ps(live, x));
            }
        }
    }
}

// A blocked x [blocks][h][w][16] -> blocked, padded [blocks][ih][iw][16] (row r, column q is x's
// row r - pt, column q - pl; zero outside).
static void padBlocked(const float *x, long c, long h, long w, long pt, long pl, long ih, long iw, float *d) {
    long blocks = (c + 15) / 16;
    for (long b = 0; b < blocks; b++) {
        const float *sb = x + b * blockFloats(h * w);
        float *db = d + b * blockFloats(ih * iw);
        for (long r = 0; r < ih; r++) {
            float *dr = db + r * iw * 16;
            long iy = r - pt;
            long lo = pl < iw ? pl : iw, hi = pl + w < iw ? pl + w : iw;
            if (iy < 0 || iy >= h || hi <= lo) { memset(dr, 0, (size_t)(iw * 16) * sizeof(float)); continue; }
            if (lo > 0) memset(dr, 0, (size_t)(lo * 16) * sizeof(float));
            memcpy(dr + lo * 16, sb + iy * w * 16, (size_t)((hi - lo) * 16) * sizeof(float));
            if (hi < iw) memset(dr + hi * 16, 0, (size_t)((iw - hi) * 16) * sizeof(float));
        }
    }
}

// x [c][h][w] -> c padded planes [ih][iw] (pad2K(ih*iw) apart) for an input of fewer than 16
// channels.
static void reorderPlanar(const float *x, long c, long h, long w, long pt, long pl, long ih, long iw, float *d) {
    long plane = pad2K(ih * iw);
    for (long ic = 0; ic < c; ic++) {
        float *dp = d + ic * plane;
        for (long r = 0; r < ih; r++) {
            float *dr = dp + r * iw;
            long iy = r - pt;
            memset(dr, 0, (size_t)iw * sizeof(float));
            if (iy < 0 || iy >= h) continue;
            long lo = pl, hi = pl + w < iw ? pl + w : iw;
            if (hi > lo) memcpy(dr + lo, x + (ic * h + iy) * w, (size_t)(hi - lo) * sizeof(float));
        }
    }
}

// Output positions [p0, p1) of every channel, blocked, from the blocked (or planar) input whose
// rows are iw positions wide and whose blocks (planes, when planar) are inStride floats apart.
static GS_AVX512 void convGroups(const float *in, long c, long iw, long inStride, const float *packed, long m,
                                 long kh, long kw, long sh, long sw, long oh, long ow, long p0, long p1, float *ob,
                                 const struct Finish *epilogue, const float *nextFilter, long nextFloats) {
    long blocks = inputBlocks(c), lanes = inputLanes(c), vectors = (m + 15) / 16, ohw = oh * ow;
    int flat = planar(c);
    long blockStride = flat ? 0 : inStride, laneStride = flat ? inStride : 1;
    long colStride = flat ? 1 : 16, rowStride = iw * colStride, vecStride = blockFloats(ohw);
    // Input blocks in chunks whose filter slice (for a full group) stays in L2: about 256 KB.
    long chunk = 262144 / (kh * kw * 16 * 64 * 4);
    if (chunk < 1 || flat) chunk = 1;
    const float *filterEnd = packed + gs_direct_conv_filter_floats(m, c, kh, kw);
    for (long g = 0; 4 * g < vectors; g++) {
        int V = (int)(vectors - 4 * g < 4 ? vectors - 4 * g : 4);
        for (long b0 = 0; b0 < blocks; b0 += chunk) {
            long nb = blocks - b0 < chunk ? blocks - b0 : chunk;
            const float *fg = packed + g * 64 * blocks * lanes * kh * kw + b0 * kh * kw * lanes * V * 16;
            // The packed filter is read in this loop's order, chunk after chunk: while this
            // chunk's tiles run, each prefetches its share of the next chunk into L2. (On 7x7
            // maps a chunk serves only 9 tiles, and waiting for its first read from memory
            // held ResNet-50's last stage near half the FMA peak.)
            long chunkFloats = nb * kh * kw * lanes * V * 16, tiles = (p1 - p0 + 5) / 6;
            // (After the last chunk: the next conv's filter, when the caller names it.)
            const float *next = fg + chunkFloats;
            long ahead = filterEnd - next < chunkFloats ? filterEnd - next : chunkFloats;
            if (ahead <= 0 && nextFilter) {
                next = nextFilter;
                ahead = nextFloats < chunkFloats ? nextFloats : chunkFloats;
            }
            // The last chunk stores through the epilogue, when there is one to fuse.
            struct Finish fin;
            const struct Finish *finish = 0;
            if (epilogue && b0 + nb == blocks) {
                fin = *epilogue;
                if (fin.bias) fin.bias += g * 64;
                fin.live = m - g * 64;
                finish = &fin;
            }
            long perTile = flat || ahead <= 0 ? 0 : (ahead / 16 + tiles - 1) / tiles * 16;
            // Lane iterations between prefetches (a power of two up to 16, minus one).
            long pfMask = 0;
            while (pfMask < 15 && (nb * kh * kw * 16) / (2 * (pfMask + 1)) >= perTile / 16) pfMask = 2 * pfMask + 1;
            // Output positions six at a time in row-major order, across row ends.
            long oy = p0 / ow, ox = p0 % ow;
            for (long n = p0; n < p1; n += 6) {
                int np = (int)(p1 - n < 6 ? p1 - n : 6);
                const float *at[6];
                for (int j = 0; j < np; j++) {
                    at[j] = in + b0 * blockStride + (oy * sh) * rowStride + ox * sw * colStride;
                    if (++ox == ow) { ox = 0; oy++; }
                }
                float *out = ob + 4 * g * vecStride + n * 16;
                if (flat) {
                    tilePlanar(V, np, at, fg, out, lanes, laneStride, kh, kw, rowStride, vecStride);
                } else {
                    const float *pf = next + (n - p0) / 6 * perTile, *pfEnd = pf + perTile;
                    if (pfEnd > next + ahead) pfEnd = next + ahead;
                    if (finish && epilogue->residual) fin.residual = epilogue->residual + 4 * g * vecStride + n * 16;
                    if (finish) {
                        tileFinish(V, np, at, fg, out, b0 > 0, nb, kh, kw, blockStride, rowStride, vecStride, pf, pfEnd,
                                   pfMask, finish);
                    } else {
                        tileBlocked(V, np, at, fg, out, b0 > 0, nb, kh, kw, blockStride, rowStride, vecStride, pf, pfEnd,
                                    pfMask);
                    }
                }
            }
        }
    }
}
#endif

#ifdef GS_DIRECT
// Where the conv reads its input: the blocked input itself when every window lies inside it,
// else the padded blocked (or planar) copy in scratch, which `prepare` writes.
static const float *inputView(const float *x, long c, long h, long w, long kh, long kw, long sh, long sw, long pt,
                              long pl, long oh, long ow, float *scratch, int layout, int prepare, long *rowWidth,
                              long *inStride) {
    long ih = (oh - 1) * sh + kh, iw = (ow - 1) * sw + kw;
    *rowWidth = iw;
    *inStride = planar(c) ? pad2K(ih * iw) : blockFloats(ih * iw);
    if ((layout & GS_BLOCKED_INPUT) && pt == 0 && pl == 0 && ih <= h && iw <= w) {
        *rowWidth = w;
        *inStride = blockFloats(h * w);
        return x;
    }
    if (prepare) {
        if (layout & GS_BLOCKED_INPUT) {
            padBlocked(x, c, h, w, pt, pl, ih, iw, scratch);
        } else if (planar(c)) {
            reorderPlanar(x, c, h, w, pt, pl, ih, iw, scratch);
        } else {
            reorderInput(x, c, h, w, pt, pl, ih, iw, scratch);
        }
    }
    return scratch;
}

// Output positions [q0, q1) of the conv, over an input `inputView` prepared.
static void convPositions(const float *x, long c, long h, long w, const float *packed, long m, long kh, long kw,
                          long sh, long sw, long pt, long pl, long oh, long ow, const float *bias,
                          const float *residual, float lo, float hi, float *y, float *scratch, int layout,
                          const float *nextFilter, long nextFloats, long q0, long q1) {
    long ih = (oh - 1) * sh + kh, iw = (ow - 1) * sw + kw, ohw = oh * ow, rowWidth, inStride;
    const float *in = inputView(x, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, scratch, layout, 0, &rowWidth, &inStride);
    int blockedOut = (layout & GS_BLOCKED_OUTPUT) != 0, residualBlocked = (layout & GS_BLOCKED_RESIDUAL) != 0;
    // A blocked output's epilogue runs as the tiles store, unless its residual is NCHW (which
    // takes a transpose) or the input planar (whose tiles store plainly).
    struct Finish epilogue = {bias, residual, lo, hi, m};
    int fused = blockedOut && !planar(c) && (!residual || residualBlocked);
    float *ob = blockedOut ? y : scratch + inputFloats(c, ih, iw);
    // Output positions in pieces whose blocked output and input rows stay in L2 (2 MB: 524,288 floats)
    // while every channel group runs over them and they are unblocked: on a 100x76 map, one
    // group at a time over the whole map re-read the input from memory for each group.
    long perPosition = (m + 15) / 16 * 16 + inputLanes(c) * inputBlocks(c) * sh * sw;
    long piece = 524288 / perPosition / 6 * 6;
    if (piece < 96) piece = 96;
    for (long p0 = q0; p0 < q1; p0 += piece) {
        long p1 = q1 - p0 < piece ? q1 : p0 + piece;
        convGroups(in, c, rowWidth, inStride, packed, m, kh, kw, sh, sw, oh, ow, p0, p1, ob, fused ? &epilogue : 0,
                   p1 == ohw ? nextFilter : 0, nextFloats);
        if (fused) continue;
        if (blockedOut) {
            finishBlocked(ob, m, ohw, p0, p1, bias, residual, residualBlocked, lo, hi);
        } else {
            reorderOutput(ob, m, ohw, p0, p1, bias, residual, residualBlocked, lo, hi, y);
        }
    }
}
#endif

void gs_direct_conv(const float *x, long c, long h, long w, const float *packed, long m, long kh, long kw, long sh,
                    long sw, long pt, long pl, long oh, long ow, const float *bias, const float *residual, float lo,
                    float hi, float *y, float *scratch, int layout, const float *nextFilter, long nextFloats) {
#ifdef GS_DIRECT
    long rowWidth, inStride;
    inputView(x, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, scratch, layout, 1, &rowWidth, &inStride);
    convPositions(x, c, h, w, packed, m, kh, kw, sh, sw, pt, pl, oh, ow, bias, residual, lo, hi, y, scratch, layout,
                  nextFilter, nextFloats, 0, oh * ow);
#else
    (void)x; (void)c; (void)h; (void)w; (void)packed; (void)m; (void)kh; (void)kw; (void)sh; (void)sw; (void)pt;
    (void)pl; (void)oh; (void)ow; (void)bias; (void)residual; (void)lo; (void)hi; (void)y; (void)scratch; (void)layout;
    (void)nextFilter; (void)nextFloats;
#endif
}

void gs_direct_conv_prepare(const float *x, long c, long h, long w, long kh, long kw, long sh, long sw, long pt,
                            long pl, long oh, long ow, float *scratch, int layout) {
#ifdef GS_DIRECT
    long rowWidth, inStride;
    inputView(x, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, scratch, layout, 1, &rowWidth, &inStride);
#else
    (void)x; (void)c; (void)h; (void)w; (void)kh; (void)kw; (void)sh; (void)sw; (void)pt; (void)pl; (void)oh;
    (void)ow; (void)scratch; (void)layout;
#endif
}

void gs_direct_conv_positions(const float *x, long c, long h, long w, const float *packed, long m, long kh, long kw,
                              long sh, long sw, long pt, long pl, long oh, long ow, const float *bias,
                              const float *residual, float lo, float hi, float *y, float *scratch, int layout,
                              const float *nextFilter, long nextFloats, long q0, long q1) {
#ifdef GS_DIRECT
    convPositions(x, c, h, w, packed, m, kh, kw, sh, sw, pt, pl, oh, ow, bias, residual, lo, hi, y, scratch, layout,
                  nextFilter, nextFloats, q0, q1);
#else
    (void)x; (void)c; (void)h; (void)w; (void)packed; (void)m; (void)kh; (void)kw; (void)sh; (void)sw; (void)pt;
    (void)pl; (void)oh; (void)ow; (void)bias; (void)residual; (void)lo; (void)hi; (void)y; (void)scratch; (void)layout;
    (void)nextFilter; (void)nextFloats; (void)q0; (void)q1;
#endif
}

#ifdef GS_DIRECT
// Blocked max pooling of one image: per block, each output position's window of 16-lane
// vectors; a NaN in a window is the result, as in the NCHW kernel.
static GS_AVX512 void maxPoolBlocks(const float *x, long c, long h, long w, long kh, long kw, long sh, long sw, long pt,
                                    long pl, long oh, long ow, float *y) {
    const __m512 nan = _mm512_set1_ps(__builtin_nanf(""));
    for (long b = 0; b * 16 < c; b++) {
        const float *src = x + b * blockFloats(h * w);
        float *dst = y + b * blockFloats(oh * ow);
        for (long oy = 0; oy < oh; oy++) {
            long y0 = oy * sh - pt, ylo = y0 < 0 ? 0 : y0, yhi = y0 + kh < h ? y0 + kh : h;
            for (long ox = 0; ox < ow; ox++) {
                long x0 = ox * sw - pl, xlo = x0 < 0 ? 0 : x0, xhi = x0 + kw < w ? x0 + kw : w;
                __m512 acc = _mm512_set1_ps(-__builtin_inff());
                __mmask16 isNaN = 0;
                for (long iy = ylo; iy < yhi; iy++) {
                    for (long ix = xlo; ix < xhi; ix++) {
                        __m512 v = _mm512_loadu_ps(src + (iy * w + ix) * 16);
                        isNaN |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                        acc = _mm512_max_ps(v, acc);
                    }
                }
                _mm512_storeu_ps(dst + (oy * ow + ox) * 16, _mm512_mask_mov_ps(acc, isNaN, nan));
            }
        }
    }
}
#endif

void gs_maxpool_blocked(const float *x, long c, long h, long w, long kh, long kw, long sh, long sw, long pt, long pl,
                        long oh, long ow, float *y, int blockedOutput, float *scratch) {
#ifdef GS_DIRECT
    if (blockedOutput) {
        maxPoolBlocks(x, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, y);
        return;
    }
    maxPoolBlocks(x, c, h, w, kh, kw, sh, sw, pt, pl, oh, ow, scratch);
    reorderOutput(scratch, c, oh * ow, 0, oh * ow, 0, 0, 0, -__builtin_inff(), __builtin_inff(), y);
#else
    (void)x; (void)c; (void)h; (void)w; (void)kh; (void)kw; (void)sh; (void)sw; (void)pt; (void)pl; (void)oh; (void)ow;
    (void)y; (void)blockedOutput; (void)scratch;
#endif
}
