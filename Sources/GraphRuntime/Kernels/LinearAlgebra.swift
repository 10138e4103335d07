/// Matrix-product kernels on OpenBLAS: Gemm, MatMul (batched, broadcasting), and the float32
/// sgemm wrapper every GEMM-shaped kernel (Conv, ConvTranspose) calls.
import CKernels
import COpenBLAS
import GraphIR

enum BLAS {
    /// C[m,n] = alpha * op(A) * op(B) + beta * C, all row-major.
    @inline(__always)
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        _ = BLASKernelSelection.coreName
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        // One row of A (a batch-1 fully connected layer): a matrix-vector product, which streams
        // B once (sgemm packed B first: ResNet-50's 1000x2048 classifier took 1.5 ms, sgemv about 1).
        if m == 1 {
            // B's rows against A's row, both contiguous: four rows of B per pass (a plain
            // streaming kernel; OpenBLAS's sgemv read AlexNet's fc6 at 21 GB/s, this at 24).
            if transB, !transA, smallGEMM, n >= 4 {
                // With OpenBLAS's threads (the interpreter's `threads`), rows in parts of at least
                // 256 at once: each row's sum is the same, and two cores read more memory per second.
                forEachPart(of: n, parts: min(BLAS.threads, n / 256), multiple: 4) { r0, r1 in
                    gs_sgemv_rows(r1 - r0, k, alpha, b + r0 * ldb, ldb, a, beta, c + r0)
                }
                return
            }
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        // A few rows against B's rows (a transformer's tokens at batch 1, attention's per-head
        // blocks): the unpacked register-tile kernel, where OpenBLAS's packing per call dominates.
        if !transA && !transB && m <= smallRows && k <= smallDepth && smallGEMM {
            gs_sgemm_small(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Whether `gs_sgemm_small` runs here (AVX-512), read once.
    static let smallGEMM = gs_avx512_available() != 0
    /// The most rows and the deepest products `gs_sgemm_small` takes (beyond them OpenBLAS's
    /// packed kernels win: B's panel no longer stays in cache across the row tiles).
    static let smallRows = 64, smallDepth = 1024

    /// Sets OpenBLAS's thread count (the interpreter is single-threaded by default), after
    /// making sure OpenBLAS runs the kernels for this CPU (`BLASKernelSelection`).
    static func setThreads(_ n: Int) {
        _ = BLASKernelSelection.coreName
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// OpenBLAS's thread count now (process-wide).
    static var threads: Int { Int(openblas_get_num_threads()) }
}

enum LinearKernels {
    /// Gemm: Y = alpha * op(A) * op(B) + beta * C (C broadcast to [M, N]).
    static func gemm(_ node: Node) -> Kernel {
        let transA = node.int("transA", 0) != 0, transB = node.int("transB", 0) != 0
        let alpha = node.float("alpha", 1), beta = node.float("beta", 1)
        let memo = ShapeMemo<(shape: [Int], k: Int, cStrides: [Int]?)>()
        return { io in
            let a = try io.floatInput(0), b = try io.floatInput(1)
            let c = io.optionalInput(2)
            let (outShape, k, cStrides) = try memo.geometry({ $0.add(a.shape); $0.add(b.shape); $0.add(c) }) {
                guard a.shape.count == 2, b.shape.count == 2 else {
                    throw KernelError("Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)")
                }
                let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
                let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
                guard k == kb else { throw KernelError("Gemm inner dimensions differ: A \(a.shape), B \(b.shape)") }
                var cStrides: [Int]?
                if let c, c.count > 0 {
                    _ = try Shapes.broadcast(c.shape, [m, n])
                    cStrides = Shapes.broadcastStrides(c.shape, to: [m, n])
                }
                return ([m, n], k, cStrides)
            }
            let m = outShape[0], n = outShape[1]
            let y = try io.output(0, .float, outShape)
            let out = y.mutableFloats
            var betaUsed: Float = 0
            if let c, let st = cStrides, beta != 0 {
                guard c.elementType == .float else { throw KernelError("Gemm C must be float32") }
                let cp = c.floats
                for i in 0..<m { for j in 0..<n { out[i * n + j] = cp[i * st[0] + j * st[1]] } }
                betaUsed = beta
            }
            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                       a: a.floats, lda: a.shape[1], b: b.floats, ldb: b.shape[1],
                       beta: betaUsed, c: out, ldc: n)
        }
    }

    /// MatMul with numpy semantics: 1-D operands promoted, batch dims broadcast.
    static func matmul() -> Kernel {
        let memo = ShapeMemo<MatMulGeometry>()
        return { io in
            let a0 = try io.input(0), b0 = try io.input(1)
            if a0.elementType != .float || b0.elementType != .float {
                // double and integer operands: a direct product in Double, stored in their type.
                guard a0.elementType == b0.elementType else {
                    throw KernelError("MatMul operands are \(a0.elementType.name) and \(b0.elementType.name)")
                }
                let y = try io.output(0, a0.elementType, try QuantKernels.matmulShape(a0.shape, b0.shape).out)
                try QuantKernels.integerProduct(a0, b0, nil, nil) { y.setDouble($1, at: $0) }
                return
            }
            let a = a0, b = b0
            let geo = try memo.geometry({ $0.add(a.shape); $0.add(b.shape) }) { try MatMulGeometry(a.shape, b.shape) }
            let m = geo.m, n = geo.n, k = geo.k
            let y = try io.output(0, .float, geo.shape)
            let out = y.mutableFloats
            // B shared by every batch: one GEMM over all rows of A.
            if geo.sharedB {
                BLAS.sgemm(transA: false, transB: false, m: geo.count * m, n: n, k: k, alpha: 1, a: a.floats, lda: k,
                           b: b.floats, ldb: n, beta: 0, c: out, ldc: n)
                return
            }
            let sa = geo.aStrides, sb = geo.bStrides, st = geo.batchStrides
            for i in 0..<geo.count {
                var ia = 0, ib = 0, rem = i
                for d in 0..<st.count { let c = rem / st[d]; rem -= c * st[d]; ia += c * sa[d]; ib += c * sb[d] }
                BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a.floats + ia * m * k, lda: k,
                           b: b.floats + ib * k * n, ldb: n, beta: 0, c: out + i * m * n, ldc: n)
            }
        }
    }
}

/// A float32 MatMul's shapes as its kernel keeps them between calls (`ShapeMemo`).
struct MatMulGeometry {
    var m: Int, n: Int, k: Int
    /// The output shape, and the number of matrix products in the broadcast batch.
    var shape: [Int], count: Int
    /// True when B has no batch and A's batch is the output's: one GEMM over all of A's rows.
    var sharedB: Bool
    /// Each operand's strides over the broadcast batch, and the batch's own strides.
    var aStrides: [Int], bStrides: [Int], batchStrides: [Int]

    init(_ aFull: [Int], _ bFull: [Int]) throws {
        guard !aFull.isEmpty, !bFull.isEmpty else { throw KernelError("MatMul operands must not be scalars") }
        let aShape = aFull.count == 1 ? [1, aFull[0]] : aFull
        let bShape = bFull.count == 1 ? [bFull[0], 1] : bFull
        m = aShape[aShape.count - 2]; k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2]
        n = bShape[bShape.count - 1]
        guard k == kb else { throw KernelError("MatMul inner dimensions differ: \(aFull) x \(bFull)") }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let batch = try Shapes.broadcast(aBatch, bBatch)
        var outShape = batch
        if aFull.count > 1 { outShape.append(m) }
        if bFull.count > 1 { outShape.append(n) }
        shape = outShape
        count = batch.reduce(1, *)
        sharedB = bBatch.reduce(1, *) == 1 && aBatch == batch
        aStrides = Shapes.broadcastStrides(aBatch, to: batch)
        bStrides = Shapes.broadcastStrides(bBatch, to: batch)
        batchStrides = Shapes.strides(batch)
    }
}
