/// Winograd convolution: 3x3, stride-1, undilated, ungrouped float32 Convs whose weight is a
/// plan constant run as Winograd F(4x4, 3x3) — input tiles transformed, 36 sgemm calls, output
/// transformed — instead of im2col + one sgemm: 4x fewer multiplies and no 9x im2col copy. The
/// filter is transformed once when the plan is built (`WinogradFilter`); the transforms are C
/// loops in `CKernels`. The plan chooses it per Conv from the inferred shapes
/// (`ConvKernels.planAlgorithms`);
/// the kernel checks again at run time and falls back to im2col when the shapes differ.
import CKernels
import GraphIR

/// A conv weight [m, c, 3, 3] in the Winograd domain: one matrix [m, c] per point of the
/// transformed tile (36 for F(4x4, 3x3), 16 for F(2x2, 3x3)), computed once per plan.
final class WinogradFilter: @unchecked Sendable {
    /// Output channels.
    let outputs: Int
    /// Input channels.
    let inputs: Int
    /// Which transform the matrices are in.
    let variant: Winograd.Variant
    private let storage: TensorStorage

    /// The transform of `weight`, which must be float32 [m, c, 3, 3].
    init(weight: RuntimeTensor, variant: Winograd.Variant = .f43) {
        outputs = weight.shape[0]
        inputs = weight.shape[1]
        self.variant = variant
        storage = TensorStorage(bytes: variant.points * outputs * inputs * 4)
        switch variant {
        case .f43: gs_winograd_f43_filter(weight.floats, outputs, inputs, matrices)
        case .f23: gs_winograd_f23_filter(weight.floats, outputs, inputs, matrices)
        }
    }

    /// The transformed matrices, [points][outputs][inputs].
    var matrices: UnsafeMutablePointer<Float> { storage.base.assumingMemoryBound(to: Float.self) }
}

enum Winograd {
    /// The two transforms: F(4x4, 3x3) (6x6 input tiles, 4x fewer multiplies than the direct
    /// form) for maps of at least 32 output tiles, F(2x2, 3x3) (4x4 input tiles, 2.25x fewer)
    /// for the smaller maps F(4x4, 3x3) leaves, where its 36 GEMMs are too narrow.
    enum Variant: Sendable {
        case f43, f23

        /// Output tile side.
        var tile: Int { self == .f43 ? 4 : 2 }
        /// Points of the transformed tile (one GEMM each).
        var points: Int { self == .f43 ? 36 : 16 }

        /// Whether this transform runs a conv of this geometry (see `Winograd.suits` and
        /// `Winograd.suitsSmall`).
        func suits(_ g: WindowGeometry, inputs c: Int, outputs m: Int) -> Bool {
            self == .f43 ? Winograd.suits(g, inputs: c, outputs: m) : Winograd.suitsSmall(g, inputs: c, outputs: m)
        }
    }

    /// Output tiles of 4x4 for an oh x ow output.
    static func tiles(oh: Int, ow: Int) -> (rows: Int, columns: Int) { ((oh + 3) / 4, (ow + 3) / 4) }

    /// Channels (on both sides) from which a suited conv stays Winograd even where the direct
    /// kernel would keep a neighbouring value channel-blocked (see `ConvKernels.planAlgorithms`);
    /// from 64 to 127 the planner times both kernels (`ConvTuning`).
    static let preferredChannels = 128

    /// Whether Winograd F(4x4, 3x3) beats im2col for a conv of this geometry: 3x3 window,
    /// stride 1, no dilation, at least 16 channels in and out (below that the transforms cost
    /// more than the multiplies they save), at least 32 output tiles, and at least half of
    /// each computed tile inside the output. The tile count matters because the 36 GEMMs are
    /// only as wide as it is while the transformed filter is 4x the weight: on ResNet-50's
    /// 14x14 stage (16 tiles) F(4x4, 3x3) ran slower than im2col in the model (1.8 vs 1.6 ms a
    /// conv; the filter no longer stays in cache), on its 28x28 stage (49 tiles) 1.0 vs 1.65 ms.
    /// F(2x2, 3x3) was tried for the small maps and lost to im2col there as well (and, on the
    /// AMD EPYC of session 17, F(4x4, 3x3) on the 14x14 stage lost to the direct kernel: 2.2-2.4
    /// against 2.0 ms).
    static func suits(_ g: WindowGeometry, inputs c: Int, outputs m: Int) -> Bool {
        guard g.kh == 3, g.kw == 3, g.sh == 1, g.sw == 1, g.dh == 1, g.dw == 1, c >= 16, m >= 16 else { return false }
        let t = tiles(oh: g.oh, ow: g.ow), count = t.rows * t.columns
        return count >= 32 && 2 * g.oh * g.ow >= 16 * count
    }

    /// Whether F(2x2, 3x3) may run a conv that F(4x4, 3x3) does not take: 3x3, stride 1,
    /// undilated, at least 64 channels in and out, at least 16 output tiles of 2x2 with at
    /// least half of each computed tile inside the output (ResNet-50's 14x14 stage: 49 tiles,
    /// none wasted; its 7x7 stage: 16 tiles, 49 of 64 outputs kept). The planner takes it only
    /// where it times faster than the direct kernel on this machine (`ConvTuning`).
    static func suitsSmall(_ g: WindowGeometry, inputs c: Int, outputs m: Int) -> Bool {
        guard g.kh == 3, g.kw == 3, g.sh == 1, g.sw == 1, g.dh == 1, g.dw == 1, c >= 64, m >= 64,
              !suits(g, inputs: c, outputs: m) else { return false }
        let count = ((g.oh + 1) / 2) * ((g.ow + 1) / 2)
        return count >= 16 && 2 * g.oh * g.ow >= 4 * count
    }

    /// One image: y [m, oh, ow] = conv(x [c, h, w]) (+ bias), through the transformed filter.
    static func conv(_ g: WindowGeometry, input x: UnsafePointer<Float>, filter: WinogradFilter,
                     bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, io: KernelIO) {
        let c = filter.inputs, m = filter.outputs, variant = filter.variant
        let tile = variant.tile, points = variant.points
        let th = (g.oh + tile - 1) / tile, tw = (g.ow + tile - 1) / tile
        let count = th * tw
        // Transformed tiles, GEMM products, and the transforms' working rows, sized by the block
        // of tile rows they take at once (F(4x4, 3x3): the input's 72 floats a tile of the block
        // plus one phase-split row, the output's 28; F(2x2, 3x3): 16 * (tw + 1) and 10 a tile).
        let block = gs_winograd_block_rows(th, tw) * tw
        let work = variant == .f43 ? 72 * block + 4 * (tw + 2) : max(16 * (tw + 1), 10 * block)
        // With threads, the transforms split their channels (the input's) and outputs (the
        // output's) into parts of at least 16, each with its own row buffers; the 36 (16) sgemms
        // run on OpenBLAS's threads. Maps under 32k floats a side stay on one thread: a part's
        // dispatch would cost more than it saves. Every value is computed as one thread does.
        let inParts = c * g.h * g.w >= minimumSplitFloats ? min(io.threads, c / 16) : 1
        let outParts = m * g.oh * g.ow >= minimumSplitFloats ? min(io.threads, m / 16) : 1
        let scratch = io.scratch(points * (c + m) * count + work * max(1, inParts, outParts))
        let transformed = scratch, products = scratch + points * c * count, rows = products + points * m * count
        forEachPart(of: c, parts: inParts, multiple: 1) { part, c0, c1 in
            switch variant {
            case .f43: gs_winograd_f43_input(x, c, c0, c1, g.h, g.w, g.pt, g.pl, th, tw, transformed, rows + part * work)
            case .f23: gs_winograd_f23_input(x, c, c0, c1, g.h, g.w, g.pt, g.pl, th, tw, transformed, rows + part * work)
            }
        }
        let u = filter.matrices
        for xi in 0..<points {
            BLAS.sgemm(transA: false, transB: false, m: m, n: count, k: c, alpha: 1,
                       a: u + xi * m * c, lda: c, b: transformed + xi * c * count, ldb: count,
                       beta: 0, c: products + xi * m * count, ldc: count)
        }
        forEachPart(of: m, parts: outParts, multiple: 1) { part, o0, o1 in
            switch variant {
            case .f43: gs_winograd_f43_output(products, m, o0, o1, th, tw, g.oh, g.ow, bias, y, rows + part * work)
            case .f23: gs_winograd_f23_output(products, m, o0, o1, th, tw, g.oh, g.ow, bias, y, rows + part * work)
            }
        }
    }

    /// Floats a transform's side must have before its channels are split over threads.
    static let minimumSplitFloats = 32_768
}
