// OpenBLAS's kernels on this machine: single-thread sgemm speed, and whether a product split in
// two (rows, columns, or across two threads) gives the whole product's numbers, per core type.
// What `Interpreter.threadsGiveIdenticalNumbers` and `BLASKernelSelection` rest on.
//
//   gcc -O2 Benchmarks/runtime/blas_cores.c -o /tmp/blas_cores -lopenblas -I/usr/include/x86_64-linux-gnu/openblas-pthread
//   for core in Haswell SkylakeX; do OPENBLAS_CORETYPE=$core /tmp/blas_cores; done
//
// (No OPENBLAS_CORETYPE: the library's own choice.) Not part of the test run.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
}

static long differ(const float *x, const float *y, long n) {
    long d = 0;
    for (long i = 0; i < n; i++) d += x[i] != y[i];
    return d;
}

static void shape(int m, int n, int k) {
    float *a = malloc(4L * m * k), *b = malloc(4L * k * n), *whole = malloc(4L * m * n), *part = malloc(4L * m * n);
    srand(1);
    for (long i = 0; i < (long)m * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < (long)k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
    openblas_set_num_threads(1);
    double best = 1e9;
    for (int r = 0; r < 20; r++) {
        double t = now();
        gemm(m, n, k, a, k, b, n, whole, n);
        t = now() - t;
        if (t < best) best = t;
    }
    int m0 = m / 2, n0 = n / 2;
    gemm(m0, n, k, a, k, b, n, part, n);
    gemm(m - m0, n, k, a + (long)m0 * k, k, b, n, part + (long)m0 * n, n);
    long rows = differ(whole, part, (long)m * n);
    gemm(m, n0, k, a, k, b, n, part, n);
    gemm(m, n - n0, k, a, k, b + n0, n, part + n0, n);
    long cols = differ(whole, part, (long)m * n);
    openblas_set_num_threads(2);
    gemm(m, n, k, a, k, b, n, part, n);
    long threads = differ(whole, part, (long)m * n);
    openblas_set_num_threads(1);
    printf("%-10s sgemm %4dx%4dx%4d  %6.1f GFLOP/s  differ from the whole: rows split %ld, columns split %ld, "
           "2 threads %ld (of %ld)\n", openblas_get_corename(), m, n, k, 2.0 * m * n * k / best / 1e9, rows, cols,
           threads, (long)m * n);
    free(a); free(b); free(whole); free(part);
}

int main(void) {
    shape(256, 3136, 576);  // ResNet-50's 28x28 3x3 conv as im2col
    shape(64, 3136, 576);
    shape(128, 64, 128);    // one of F(2x2, 3x3)'s 16 products on a 16x16 map, 128 channels
    shape(64, 196, 576);
    return 0;
}
