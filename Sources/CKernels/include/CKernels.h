// Hot float32 loops of the interpreter (GraphRuntime), in C so that each is compiled for
// several instruction sets (AVX-512, AVX2, baseline) and picked at load time by the CPU's
// features; Swift code alone targets baseline x86-64 (SSE2). Every loop reads and writes
// element k only at index k (or at k * stride for the strided reads), so a destination may be
// the same buffer as a source.
#ifndef GRAPHSMITH_CKERNELS_H
#define GRAPHSMITH_CKERNELS_H

/// Binary operations of gs_binary / gs_binary_scalar.
enum { GS_ADD = 0, GS_SUB = 1, GS_MUL = 2, GS_DIV = 3 };

/// acc[k] += w * src[k] for k < n.
void gs_axpy(float *acc, const float *src, long n, float w);
/// acc[k] += w * src[k * stride] for k < n.
void gs_axpy_strided(float *acc, const float *src, long n, long stride, float w);
/// d[k] = src[k * stride] for k < n (im2col of strided windows; d must not overlap src).
void gs_copy_strided(float *d, const float *src, long n, long stride);
/// d[k] = a[k] op b[k].
void gs_binary(int op, const float *a, const float *b, float *d, long n);
/// d[k] = a[k] op s, or s op a[k] when scalar_first is non-zero.
void gs_binary_scalar(int op, const float *a, float s, int scalar_first, float *d, long n);
/// With x = a[k] + add (add is a conv bias folded into the activation, else 0):
/// d[k] = min(max(x, lo), hi) (a NaN stays NaN).
void gs_clip(const float *a, float add, float lo, float hi, float *d, long n);
/// d[k] = min(max(alpha * x + beta, 0), 1), x = a[k] + add.
void gs_hard_sigmoid(const float *a, float add, float alpha, float beta, float *d, long n);
/// d[k] = x * min(max(x / 6 + 0.5, 0), 1), x = a[k] + add.
void gs_hard_swish(const float *a, float add, float *d, long n);
/// row[k] = max(row[k], src[k]) (no NaN handling: callers check for NaN first).
void gs_max_into(float *row, const float *src, long n);
/// Depthwise conv of one zero-padded plane (row stride wp), stride 1, no dilation:
/// acc[k] = bias + sum over taps (i, j) of w[i * kw + j] * pad[k + i * wp + j], k < n
/// (n = output rows * wp: the columns past the output width are computed and dropped).
void gs_dw_plane(float *acc, const float *pad, long n, long wp, int kh, int kw, const float *w, float bias);
/// One output row of a depthwise conv over a zero-padded plane (row stride wp), stride s, no
/// dilation: out[x] = bias + sum over taps of w[i * kw + j] * rows[i * wp + x * s + j], x < n.
void gs_dw_row(float *out, const float *rows, long n, long wp, int kh, int kw, int s, const float *w, float bias);
/// Stride-2 depthwise conv of one zero-padded plane split into its four row/column parity
/// planes q[2 * (y % 2) + (x % 2)] (each of row stride wq), no dilation:
/// acc[k] = bias + sum over taps of w[i * kw + j] * q[2 * (i % 2) + (j % 2)][k + (i / 2) * wq + j / 2].
void gs_dw_plane_s2(float *acc, const float *q0, const float *q1, const float *q2, const float *q3, long n, long wq,
                    int kh, int kw, const float *w, float bias);
/// Local response normalisation of one image x [c][inner] into y (the ONNX LRN formula);
/// `sq` is scratch of `inner` floats.
void gs_lrn(const float *x, long c, long inner, long size, float alpha, float beta, float bias, float *y, float *sq);
/// out[p] = the mean of the `size` floats of plane p of x, p < planes.
void gs_plane_means(const float *x, long planes, long size, float *out);
/// Non-zero when one of the n floats at p is a NaN.
int gs_has_nan(const float *p, long n);
/// out[x] = max over j < kw of row[x * s + j], x < n (no NaN handling).
void gs_max_windows(float *out, const float *row, long n, int kw, int s);
/// d[k] = a[k] * scale + shift, rounded after the multiply (no FMA); d may be a.
void gs_scale_shift(const float *a, float scale, float shift, float *d, long n);
/// out[x] = (sum over j < kw of row[x * s + j]) / count, x < n (summed left to right).
void gs_mean_windows(float *out, const float *row, long n, int kw, int s, float count);
/// y = erf(x) over n floats (Cephes-style, about 1e-7 relative, NaN kept); vectorised.
void gs_erf(const float *x, float *y, long n);
/// y = x / 2 * (1 + erf(x / sqrt 2)) over n floats (exact Gelu); vectorised.
void gs_gelu(const float *x, float *y, long n);
/// y = tanh(x) over n floats (Cephes-style: a polynomial near 0, exp elsewhere; within a few
/// ulp, NaN kept); vectorised.
void gs_tanh(const float *x, float *y, long n);
/// even[i] = src[2i] for i < (n + 1) / 2 and odd[i] = src[2i + 1] for i < n / 2 (a row split
/// into its column parities, for stride-2 depthwise convs); vectorised.
void gs_deinterleave(const float *src, long n, float *even, float *odd);
/// y = 1 / (1 + exp(-x)), vectorised; 0 for x < -86 (never a subnormal), NaN kept.
void gs_sigmoid(const float *x, float *y, long n);
/// y[i] = 1 when x[i] is NaN, else 0 (bool bytes).
void gs_is_nan(const float *x, unsigned char *y, long n);
/// y = softmax(x) over n contiguous floats (exp by a Cephes-style polynomial, about 1 ulp;
/// callers route rows holding a NaN elsewhere).
void gs_softmax_row(const float *x, float *y, long n);
/// Layer (or, with `rms`, RMS) normalisation of `rows` contiguous rows of n floats:
/// y = (x - mean) / sqrt(var + eps) * scale (+ bias when non-null), statistics in float with a
/// centred second pass; each row's mean and 1 / sqrt(var + eps) go to `means` / `invs` when
/// non-null.
void gs_layer_norm_rows(const float *x, const float *scale, const float *bias, float *y, long rows, long n,
                        float eps, int rms, float *means, float *invs);

/// Rows of tiles the Winograd transforms take at once (about 128 tiles, at least one row, at
/// most th): their scratch is sized from it.
long gs_winograd_block_rows(long th, long tw);
/// Winograd F(4x4, 3x3) filter transform of w [m][c][3][3] into u [36][m][c] (computed in double).
void gs_winograd_f43_filter(const float *w, long m, long c, float *u);
/// Winograd F(4x4, 3x3) input transform of one image x [c][h][w] with top/left padding pt/pl
/// (zeros outside the image) into v [36][c][th * tw], tile (ty, tx) at column ty * tw + tx;
/// only channels c0 <= ch < c1 (a part run on its own thread); scratch holds 72 * B + 4 * (tw + 2)
/// floats, B = gs_winograd_block_rows(th, tw) * tw.
void gs_winograd_f43_input(const float *x, long c, long c0, long c1, long h, long w, long pt, long pl, long th, long tw,
                           float *v, float *scratch);
/// Winograd F(4x4, 3x3) output transform of mm [36][m][th * tw] into y [m][oh][ow] (tiles past
/// oh/ow dropped), plus bias[o] when bias is not NULL; only outputs o0 <= o < o1 (a part run
/// on its own thread); scratch holds 28 * B floats, B = gs_winograd_block_rows(th, tw) * tw.
void gs_winograd_f43_output(const float *mm, long m, long o0, long o1, long th, long tw, long oh, long ow,
                            const float *bias, float *y, float *scratch);

/// Winograd F(2x2, 3x3) filter transform of w [m][c][3][3] into u [16][m][c] (computed in double).
void gs_winograd_f23_filter(const float *w, long m, long c, float *u);
/// Winograd F(2x2, 3x3) input transform of one image x [c][h][w] with top/left padding pt/pl
/// (zeros outside the image) into v [16][c][th * tw], tile (ty, tx) at column ty * tw + tx;
/// only channels c0 <= ch < c1 (a part run on its own thread); scratch holds 16 * (tw + 1) floats.
void gs_winograd_f23_input(const float *x, long c, long c0, long c1, long h, long w, long pt, long pl, long th, long tw,
                           float *v, float *scratch);
/// Winograd F(2x2, 3x3) output transform of mm [16][m][th * tw] into y [m][oh][ow] (tiles past
/// oh/ow dropped), plus bias[o] when bias is not NULL; only outputs o0 <= o < o1 (a part run
/// on its own thread); scratch holds 10 * B floats, B = gs_winograd_block_rows(th, tw) * tw.
void gs_winograd_f23_output(const float *mm, long m, long o0, long o1, long th, long tw, long oh, long ow,
                            const float *bias, float *y, float *scratch);

/// Whether the AVX-512 kernels (gs_sgemm_small, gs_direct_conv, gs_maxpool_blocked) run on this
/// CPU (x86-64 with AVX-512F, built with clang); when 0 they do nothing and callers use BLAS or
/// another conv.
int gs_avx512_available(void);
/// C = alpha * A B + beta * C for row-major A [m][k] (row stride lda), B [k][n] (ldb) and C
/// [m][n] (ldc), without packing either operand: for the few-row products of a transformer at
/// batch 1 (a 4-row x 64-column register tile reading B's rows in place). With beta == 0, C is
/// only written. AVX-512 only.
void gs_sgemm_small(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc);
/// y[i] = alpha * (row i of w [n][k], leading dimension ldw) . x + beta * y[i] (with beta == 0,
/// y is only written): a batch-1 fully connected layer, which streams w once. Four rows at a
/// time, no packing and no prefetch (the hardware prefetcher follows four streams): 23.5-24.5
/// GB/s on AlexNet's 151 MB fc6 where OpenBLAS's sgemv reads 21 GB/s. AVX-512 only.
void gs_sgemv_rows(long n, long k, float alpha, const float *w, long ldw, const float *x, float beta, float *y);

/// Floats of a filter packed for gs_direct_conv: m and c rounded up to 16, times kh * kw.
long gs_direct_conv_filter_floats(long m, long c, long kh, long kw);
/// Packs w [m][c][kh][kw] for gs_direct_conv (output channels in groups of 64, 16 input channels
/// of one window position together, zeros past m and c).
void gs_direct_conv_pack(const float *w, long m, long c, long kh, long kw, float *out);
/// Floats of scratch gs_direct_conv needs: the padded channel-blocked input and output.
long gs_direct_conv_scratch_floats(long m, long c, long kh, long kw, long sh, long sw, long oh, long ow);
/// Layout flags of gs_direct_conv: which of x, residual and y are channel-blocked
/// ([ceil(c/16)][h*w][16], blocks gs_direct_conv_blocked_floats apart; lanes past c zero) rather
/// than NCHW planes. A plan keeps values blocked from one direct conv to the next.
enum { GS_BLOCKED_INPUT = 1, GS_BLOCKED_RESIDUAL = 2, GS_BLOCKED_OUTPUT = 4 };
/// Floats of one image of c channels over `positions` positions in the channel-blocked layout.
long gs_direct_conv_blocked_floats(long c, long positions);
/// One image of an undilated, ungrouped 2-D conv: y [m][oh][ow] = min(max(conv(x [c][h][w]) + bias
/// + residual, lo), hi), bias ([m]) and residual ([m][oh][ow]) skipped when NULL, NaN kept (a
/// residual Add and a Relu or Clip after the conv, fused); strides sh/sw, top/left pads pt/pl
/// (bottom/right padding follows from oh/ow); the filter from gs_direct_conv_pack. Runs as a
/// direct conv over 16-channel blocks (see direct_conv.c). `layout` (GS_BLOCKED_* bits) says
/// which of x, residual and y are channel-blocked; a blocked x needs c >= 16. `nextFilter`
/// (nextFloats floats; may be NULL) is the packed filter of the conv that runs next, whose
/// start is prefetched into L2 while this one finishes.
void gs_direct_conv(const float *x, long c, long h, long w, const float *packed, long m, long kh, long kw, long sh,
                    long sw, long pt, long pl, long oh, long ow, const float *bias, const float *residual, float lo,
                    float hi, float *y, float *scratch, int layout, const float *nextFilter, long nextFloats);
/// gs_direct_conv in parts, for threads: gs_direct_conv_prepare writes the padded input into
/// scratch once, then gs_direct_conv_positions computes output positions [q0, q1) (row-major
/// over oh x ow) of every channel, with the same arguments as gs_direct_conv. Calls on disjoint
/// position ranges may run at once: they read the prepared input and write disjoint outputs.
void gs_direct_conv_prepare(const float *x, long c, long h, long w, long kh, long kw, long sh, long sw, long pt,
                            long pl, long oh, long ow, float *scratch, int layout);
void gs_direct_conv_positions(const float *x, long c, long h, long w, const float *packed, long m, long kh, long kw,
                              long sh, long sw, long pt, long pl, long oh, long ow, const float *bias,
                              const float *residual, float lo, float hi, float *y, float *scratch, int layout,
                              const float *nextFilter, long nextFloats, long q0, long q1);
/// Max pooling of one image of a channel-blocked x (c channels, h x w; kh x kw window, strides
/// sh/sw, top/left pads pt/pl, windows clipped to the input) into y [oh][ow]: channel-blocked
/// when `blockedOutput`, else NCHW through `scratch` (gs_direct_conv_blocked_floats(c, oh*ow)
/// floats). A NaN in a window is the result. AVX-512 only, as gs_direct_conv.
void gs_maxpool_blocked(const float *x, long c, long h, long w, long kh, long kw, long sh, long sw, long pt, long pl,
                        long oh, long ow, float *y, int blockedOutput, float *scratch);

#endif
