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

GS_CLONES void gs_clip(const float *a, float lo, float hi, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float v = a[k];
        v = lo > v ? lo : v;
        d[k] = hi < v ? hi : v;
    }
}

GS_CLONES void gs_hard_sigmoid(const float *a, float alpha, float beta, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float v = alpha * a[k] + beta;
        v = 0.0f > v ? 0.0f : v;
        d[k] = 1.0f < v ? 1.0f : v;
    }
}

GS_CLONES void gs_hard_swish(const float *a, float *d, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) {
        float x = a[k], v = x / 6.0f + 0.5f;
        v = 0.0f > v ? 0.0f : v;
        v = 1.0f < v ? 1.0f : v;
        d[k] = x * v;
    }
}

GS_CLONES void gs_max_into(float *row, const float *src, long n) {
    GS_VECTOR for (long k = 0; k < n; k++) row[k] = src[k] > row[k] ? src[k] : row[k];
}
