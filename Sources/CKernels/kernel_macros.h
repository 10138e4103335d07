// Private to CKernels' C files (see include/CKernels.h for the API): how loops are cloned and
// vectorised.
#ifndef GS_KERNEL_MACROS_H
#define GS_KERNEL_MACROS_H

// Each function marked GS_CLONES is cloned for AVX-512, AVX2 and baseline x86-64 on Linux (the
// loader picks the clone by the CPU's features); elsewhere it is compiled once.
#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define GS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GS_CLONES
#endif

// Same-index reads and writes only: safe to vectorise even when d aliases a source.
#define GS_VECTOR _Pragma("clang loop vectorize(assume_safety)")
// The same for short rows (16-64 elements: attention scores, small hidden sizes): one vector
// per iteration, so a row of 16 runs vectorised instead of in the scalar remainder loop.
#define GS_VECTOR_SHORT _Pragma("clang loop vectorize(assume_safety) vectorize_width(16) interleave_count(1)")

#endif
