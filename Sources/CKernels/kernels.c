// See include/CKernels.h. Each function is cloned for AVX-512, AVX2 and baseline x86-64 on
// Linux (the loader picks the clone by the CPU's features); elsewhere it is compiled once.
#include "CKernels.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define GS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GS_CLONES
#endif

// Same-index reads and writes only: safe to vectorise even when d aliases a source.
#define GS_VECTOR _Pragma("clang loop vectorize(assume_safety)")

GS_CLONES void gs_axpy(float *acc, const float *src, long n, float w) {
    GS_VECTOR for (long k = 0; k < n; k++) acc[k] += w * src[k];
}

GS_CLONES void gs_axpy_strided(float *acc, const float *src, long n, long stride, float w) {
    if (stride == 2) {
        GS_VECTOR for (long k = 0; k < n; k++) acc[k] += w * src[2 * k];
        return;
    }
    GS_VECTOR for (long k = 0; k < n; k++) acc[k] += w * src[k * stride];
}

GS_CLONES void gs_binary(int op, const float *a, const float *b, float *d, long n) {
    switch (op) {
    case GS_ADD: GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] + b[k]; break;
    case GS_SUB: GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] - b[k]; break;
    case GS_MUL: GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] * b[k]; break;
    default: GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] / b[k]; break;
    }
}

GS_CLONES void gs_binary_scalar(int op, const float *a, float s, int scalar_first, float *d, long n) {
    switch (op) {
    case GS_ADD: GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] + s; break;
    case GS_MUL: GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] * s; break;
    case GS_SUB:
        if (scalar_first) { GS_VECTOR for (long k = 0; k < n; k++) d[k] = s - a[k]; }
        else { GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] - s; }
        break;
    default:
        if (scalar_first) { GS_VECTOR for (long k = 0; k < n; k++) d[k] = s / a[k]; }
        else { GS_VECTOR for (long k = 0; k < n; k++) d[k] = a[k] / s; }
        break;
    }
}

GS_CLONES void gs_clip(const float *a, float add, float lo, float hi, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float v = a[k] + add;
        v = lo > v ? lo : v;
        d[k] = hi < v ? hi : v;
    }
}

GS_CLONES void gs_hard_sigmoid(const float *a, float add, float alpha, float beta, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float v = alpha * (a[k] + add) + beta;
        v = 0.0f > v ? 0.0f : v;
        d[k] = 1.0f < v ? 1.0f : v;
    }
}

GS_CLONES void gs_hard_swish(const float *a, float add, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float x = a[k] + add, v = x / 6.0f + 0.5f;
        v = 0.0f > v ? 0.0f : v;
        v = 1.0f < v ? 1.0f : v;
        d[k] = x * v;
    }
}

GS_CLONES void gs_max_into(float *row, const float *src, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) row[k] = src[k] > row[k] ? src[k] : row[k];
}

// Depthwise taps summed in registers: one pass over the output instead of one per tap.
#define GS_DW_PLANE(KH, KW)                                                                 \
    GS_VECTOR for (long k = 0; k < n; k++) {                                                \
        float s = bias;                                                                     \
        for (int i = 0; i < KH; i++)                                                        \
            for (int j = 0; j < KW; j++) s += w[i * KW + j] * pad[k + i * wp + j];          \
        acc[k] = s;                                                                         \
    }

GS_CLONES void gs_dw_plane(float *acc, const float *pad, long n, long wp, int kh, int kw, const float *w, float bias) {
    if (kh == 3 && kw == 3) { GS_DW_PLANE(3, 3) return; }
    if (kh == 5 && kw == 5) { GS_DW_PLANE(5, 5) return; }
    for (long k = 0; k < n; k++) acc[k] = bias;
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            const float *src = pad + i * wp + j;
            float wv = w[i * kw + j];
            GS_VECTOR for (long k = 0; k < n; k++) acc[k] += wv * src[k];
        }
}

#define GS_DW_ROW(KH, KW, S)                                                                \
    GS_VECTOR for (long x = 0; x < n; x++) {                                                \
        float v = bias;                                                                     \
        for (int i = 0; i < KH; i++)                                                        \
            for (int j = 0; j < KW; j++) v += w[i * KW + j] * rows[i * wp + x * S + j];     \
        out[x] = v;                                                                         \
    }

GS_CLONES void gs_dw_row(float *out, const float *rows, long n, long wp, int kh, int kw, int s, const float *w, float bias) {
    if (kh == 3 && kw == 3 && s == 2) { GS_DW_ROW(3, 3, 2) return; }
    if (kh == 5 && kw == 5 && s == 2) { GS_DW_ROW(5, 5, 2) return; }
    if (kh == 3 && kw == 3 && s == 1) { GS_DW_ROW(3, 3, 1) return; }
    for (long x = 0; x < n; x++) {
        float v = bias;
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) v += w[i * kw + j] * rows[i * wp + x * s + j];
        out[x] = v;
    }
}

#define GS_DW_S2(KH, KW)                                                                    \
    GS_VECTOR for (long k = 0; k < n; k++) {                                                \
        float s = bias;                                                                     \
        for (int i = 0; i < KH; i++)                                                        \
            for (int j = 0; j < KW; j++)                                                    \
                s += w[i * KW + j] * q[2 * (i & 1) + (j & 1)][k + (i >> 1) * wq + (j >> 1)]; \
        acc[k] = s;                                                                         \
    }

GS_CLONES void gs_dw_plane_s2(float *acc, const float *q0, const float *q1, const float *q2, const float *q3, long n,
                              long wq, int kh, int kw, const float *w, float bias) {
    const float *q[4] = {q0, q1, q2, q3};
    if (kh == 3 && kw == 3) { GS_DW_S2(3, 3) return; }
    if (kh == 5 && kw == 5) { GS_DW_S2(5, 5) return; }
    for (long k = 0; k < n; k++) acc[k] = bias;
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            const float *src = q[2 * (i & 1) + (j & 1)] + (i >> 1) * wq + (j >> 1);
            float wv = w[i * kw + j];
            GS_VECTOR for (long k = 0; k < n; k++) acc[k] += wv * src[k];
        }
}

GS_CLONES int gs_has_nan(const float *p, long n) {
    int any = 0;
    for (long k = 0; k < n; k++) any |= p[k] != p[k];
    return any;
}

#define GS_MAX_WIN(KW, S)                                                                   \
    GS_VECTOR for (long x = 0; x < n; x++) {                                                \
        float v = row[x * S];                                                               \
        for (int j = 1; j < KW; j++) v = row[x * S + j] > v ? row[x * S + j] : v;           \
        out[x] = v;                                                                         \
    }

GS_CLONES void gs_max_windows(float *out, const float *row, long n, int kw, int s) {
    if (kw == 3 && s == 2) { GS_MAX_WIN(3, 2) return; }
    if (kw == 2 && s == 2) { GS_MAX_WIN(2, 2) return; }
    if (kw == 3 && s == 1) { GS_MAX_WIN(3, 1) return; }
    for (long x = 0; x < n; x++) {
        float v = row[x * s];
        for (int j = 1; j < kw; j++) v = row[x * s + j] > v ? row[x * s + j] : v;
        out[x] = v;
    }
}

// exp(x) for x <= 88.37 by range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial
// (Cephes expf); inputs below -87.33 give about 2^-126 instead of less.
static inline float gs_expf(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447505531f ? -87.3365447505531f : x;
    float t = x * 1.44269504088896341f + 0.5f;
    int n = (int)t;
    n = (float)n > t ? n - 1 : n;
    float fn = (float)n;
    x = x - fn * 0.693359375f + fn * 2.12194440e-4f;
    float z = x * x;
    float y = 1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1.0f;
    union { unsigned u; float f; } scale;
    scale.u = (unsigned)(n + 127) << 23;
    return y * scale.f;
}

GS_CLONES void gs_softmax_row(const float *x, float *y, long n) {
    float m = -__builtin_inff();
    for (long k = 0; k < n; k++) m = x[k] > m ? x[k] : m;
    float sum = 0.0f;
    GS_VECTOR for (long k = 0; k < n; k++) {
        float e = gs_expf(x[k] - m);
        y[k] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    GS_VECTOR for (long k = 0; k < n; k++) y[k] *= inv;
}
