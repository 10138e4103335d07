// See include/CKernels.h. Each function is cloned for AVX-512, AVX2 and baseline x86-64 on
// Linux (the loader picks the clone by the CPU's features); elsewhere it is compiled once.
#include "CKernels.h"
#include "kernel_macros.h"
#include <string.h>

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

GS_CLONES void gs_copy_strided(float *d, const float *src, long n, long stride) {
    if (stride == 2) {
        GS_VECTOR for (long k = 0; k < n; k++) d[k] = src[2 * k];
        return;
    }
    GS_VECTOR for (long k = 0; k < n; k++) d[k] = src[k * stride];
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

// HardSwish is x * HardSigmoid(x) with alpha = 1/6 (float32) and beta = 0.5, as ONNX defines it:
// a multiply, not a division by 6 (a vector division cost this pass 12% of a PP-LCNet run), in
// two statements so that no FMA contraction makes it differ from the Swift kernels.
GS_CLONES void gs_hard_swish(const float *a, float add, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float x = a[k] + add, t = x * (1.0f / 6.0f);
        float v = t + 0.5f;
        v = 0.0f > v ? 0.0f : v;
        v = 1.0f < v ? 1.0f : v;
        d[k] = x * v;
    }
}

GS_CLONES void gs_scale_shift(const float *a, float scale, float shift, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float t = a[k] * scale;  // two statements: no FMA contraction (the same numbers as before)
        d[k] = t + shift;
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

GS_CLONES void gs_lrn(const float *x, long c, long inner, long size, float alpha, float beta, float bias, float *y,
                      float *sq) {
    long lo = (size - 1) / 2, hi = size - 1 - lo;
    float scale = alpha / (float)size;
    for (long ch = 0; ch < c; ch++) {
        long c0 = ch - lo < 0 ? 0 : ch - lo, c1 = ch + hi > c - 1 ? c - 1 : ch + hi;
        GS_VECTOR for (long i = 0; i < inner; i++) sq[i] = 0;
        for (long k = c0; k <= c1; k++) {
            const float *p = x + k * inner;
            GS_VECTOR for (long i = 0; i < inner; i++) sq[i] += p[i] * p[i];
        }
        const float *xc = x + ch * inner;
        float *yc = y + ch * inner;
        if (beta == 0.75f) {
            // t^-0.75 = 1 / (sqrt(t) * sqrt(sqrt(t))): two correctly rounded square roots, which
            // vectorise, instead of a pow per element (AlexNet's and GoogLeNet's beta).
            // (The elementwise builtin sets no errno, so the loop vectorises.)
            GS_VECTOR for (long i = 0; i < inner; i++) {
                float t = bias + scale * sq[i], r = __builtin_elementwise_sqrt(t);
                yc[i] = xc[i] / (r * __builtin_elementwise_sqrt(r));
            }
        } else {
            for (long i = 0; i < inner; i++) yc[i] = xc[i] / __builtin_powf(bias + scale * sq[i], beta);
        }
    }
}

GS_CLONES void gs_plane_means(const float *x, long planes, long size, float *out) {
    for (long p = 0; p < planes; p++) {
        const float *s = x + p * size;
        // Sixteen running sums, lane by lane: vectorised without reassociating a single sum.
        float acc[16] = {0};
        long k = 0;
        for (; k + 16 <= size; k += 16)
            for (int j = 0; j < 16; j++) acc[j] += s[k + j];
        float total = 0;
        for (int j = 0; j < 16; j++) total += acc[j];
        for (; k < size; k++) total += s[k];
        out[p] = size > 0 ? total / (float)size : 0.0f;
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

#define GS_SUM_WIN(KW, S)                                                                   \
    GS_VECTOR for (long x = 0; x < n; x++) {                                                \
        float v = row[x * S];                                                               \
        for (int j = 1; j < KW; j++) v += row[x * S + j];                                   \
        out[x] = v / count;                                                                 \
    }

GS_CLONES void gs_mean_windows(float *out, const float *row, long n, int kw, int s, float count) {
    if (kw == 3 && s == 1) { GS_SUM_WIN(3, 1) return; }
    if (kw == 3 && s == 2) { GS_SUM_WIN(3, 2) return; }
    if (kw == 2 && s == 2) { GS_SUM_WIN(2, 2) return; }
    for (long x = 0; x < n; x++) {
        float v = row[x * s];
        for (int j = 1; j < kw; j++) v += row[x * s + j];
        out[x] = v / count;
    }
}

// exp(x) for x <= 88 by range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial (Cephes
// expf); inputs above 88 give exp(88), below -86 give 0. Never a subnormal, not even in an
// intermediate product: a subnormal costs a microcode assist (~100x a multiply), and softmax
// over masked (-inf) scores would leave them in every later multiply; the absolute error of
// flushing is below 4.5e-38.
static inline float gs_expf(float x) {
    int under = x < -86.0f;
    x = x > 88.0f ? 88.0f : x;
    x = x < -86.0f ? -86.0f : x;
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
    float r = y * scale.f;
    return under ? 0.0f : r;
}

// erf and erfc (Cephes erff/erfcf): erf(x) = x T(x^2) for |x| < 1; beyond, erfc(|x|) =
// exp(-x^2) / |x| times a polynomial in 1/x^2 (P on [1, 2), R from 2). About 1e-7 relative.
static inline float gs_erf_small(float x) {
    float z = x * x, t = 7.853861353153693e-5f;
    t = t * z - 8.010193625184903e-4f;
    t = t * z + 5.188327685732524e-3f;
    t = t * z - 2.685381193529856e-2f;
    t = t * z + 1.128358514861418e-1f;
    t = t * z - 3.761262582423300e-1f;
    t = t * z + 1.128379165726710e+0f;
    return x * t;
}

// erfc(a) for a >= 1 (other a: a finite value, to be discarded by the caller).
static inline float gs_erfc_large(float a) {
    float q = 1.0f / (a < 1.0f ? 1.0f : a), q2 = q * q;
    float p = 2.326819970068386e-2f;
    p = p * q2 - 1.387039388740657e-1f;
    p = p * q2 + 3.687424674597105e-1f;
    p = p * q2 - 5.824733027278666e-1f;
    p = p * q2 + 6.210004621745983e-1f;
    p = p * q2 - 4.944515323274145e-1f;
    p = p * q2 + 3.404879937665872e-1f;
    p = p * q2 - 2.741127028184656e-1f;
    p = p * q2 + 5.638259427386472e-1f;
    float r = -1.047766399936249e+1f;
    r = r * q2 + 1.297719955372516e+1f;
    r = r * q2 - 7.495518717768503e+0f;
    r = r * q2 + 2.921019019210786e+0f;
    r = r * q2 - 1.015265279202700e+0f;
    r = r * q2 + 4.218463358204948e-1f;
    r = r * q2 - 2.820767439740514e-1f;
    r = r * q2 + 5.641895067754075e-1f;
    return gs_expf(-a * a) * q * (a < 2.0f ? p : r);
}

GS_CLONES void gs_erf(const float *x, float *y, long n) {
    GS_VECTOR for (long i = 0; i < n; i++) {
        float v = x[i], a = v < 0 ? -v : v;
        float big = 1.0f - gs_erfc_large(a);
        big = v < 0 ? -big : big;
        y[i] = v != v ? v : (a < 1.0f ? gs_erf_small(v) : big);
    }
}

GS_CLONES void gs_gelu(const float *x, float *y, long n) {
    GS_VECTOR for (long i = 0; i < n; i++) {
        // 1 + erf(u) for u = x / sqrt 2: erfc(|u|) itself when u <= -1 (no cancellation in the
        // negative tail), 2 - erfc(u) when u >= 1.
        float v = x[i], u = v * 0.7071067811865476f, a = u < 0 ? -u : u;
        float c = gs_erfc_large(a);
        float onePlusErf = a < 1.0f ? 1.0f + gs_erf_small(u) : (u < 0 ? c : 2.0f - c);
        y[i] = 0.5f * v * onePlusErf;
    }
}

GS_CLONES void gs_tanh(const float *x, float *y, long n) {
    GS_VECTOR for (long i = 0; i < n; i++) {
        float v = x[i], a = v < 0 ? -v : v, z = v * v;
        // |x| < 0.625: x + x^3 P(x^2) (Cephes tanhf); else 1 - 2 / (exp(2|x|) + 1), signed.
        float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                        1.33314422036e-1f) * z - 3.33332819422e-1f) * z * v + v;
        float big = 1.0f - 2.0f / (gs_expf(2.0f * a) + 1.0f);
        big = v < 0 ? -big : big;
        y[i] = v != v ? v : (a < 0.625f ? small : big);
    }
}

GS_CLONES void gs_deinterleave(const float *src, long n, float *even, float *odd) {
    long h = n / 2;
    GS_VECTOR for (long i = 0; i < h; i++) {
        even[i] = src[2 * i];
        odd[i] = src[2 * i + 1];
    }
    if (n & 1) even[h] = src[n - 1];
}

GS_CLONES void gs_sigmoid(const float *x, float *y, long n) {
    GS_VECTOR for (long i = 0; i < n; i++) {
        // 1 / (1 + exp(-x)); 0 below x = -86 (true value under 4.5e-38), as in gs_expf: the
        // division never makes a subnormal.
        float v = x[i], r = 1.0f / (1.0f + gs_expf(v < -86.0f ? 86.0f : -v));
        r = v < -86.0f ? 0.0f : r;
        y[i] = v != v ? v : r;
    }
}

GS_CLONES void gs_is_nan(const float *x, unsigned char *y, long n) {
    GS_VECTOR for (long i = 0; i < n; i++) y[i] = x[i] != x[i];
}

GS_CLONES void gs_softmax_row(const float *x, float *y, long n) {
#pragma clang fp reassociate(on)
    float m = -__builtin_inff();
    GS_VECTOR_SHORT for (long k = 0; k < n; k++) m = __builtin_fmaxf(m, x[k]);
    float sum = 0.0f;
    GS_VECTOR_SHORT for (long k = 0; k < n; k++) {
        float e = gs_expf(x[k] - m);
        y[k] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    GS_VECTOR_SHORT for (long k = 0; k < n; k++) y[k] *= inv;
}

GS_CLONES void gs_layer_norm_rows(const float *x, const float *scale, const float *bias, float *y, long rows,
                                  long n, float eps, int rms, float *means, float *invs) {
#pragma clang fp reassociate(on)
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * n;
        float *out = y + r * n;
        float mean = 0.0f;
        if (!rms) {
            float s = 0.0f;
            GS_VECTOR_SHORT for (long k = 0; k < n; k++) s += row[k];
            mean = s / (float)n;
        }
        // Centred second pass: no cancellation when the mean is large against the spread.
        float v = 0.0f;
        GS_VECTOR_SHORT for (long k = 0; k < n; k++) {
            float d = row[k] - mean;
            v += d * d;
        }
        float inv = 1.0f / __builtin_sqrtf(v / (float)n + eps);
        if (bias) {
            GS_VECTOR_SHORT for (long k = 0; k < n; k++) out[k] = (row[k] - mean) * inv * scale[k] + bias[k];
        } else {
            GS_VECTOR_SHORT for (long k = 0; k < n; k++) out[k] = (row[k] - mean) * inv * scale[k];
        }
        if (means) means[r] = mean;
        if (invs) invs[r] = inv;
    }
}

