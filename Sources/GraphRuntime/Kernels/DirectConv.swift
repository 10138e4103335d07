/// Direct convolution over 16-channel blocks: undilated 2-D float32 Convs (grouped ones group by
/// group) whose weight is a plan constant and which Winograd does not take run as a direct conv in a
/// channel-blocked layout (the C kernel `gs_direct_conv`, AVX-512) instead of im2col + sgemm.
/// On ResNet-50's shapes that is 1.2-2x the sgemm's rate (the GEMMs there are skinny: a 14x14
/// map gives 196 columns, a 7x7 map 49), and its 3-channel 7x7 stem 1.8x im2col + sgemm. The
/// filter is packed once when the plan is built (`DirectConvFilter`, chosen in
/// `ConvKernels.planAlgorithms`); the kernel checks the geometry again at run time and falls back to
/// im2col when it differs, and CPUs without AVX-512 keep im2col.
import CKernels
import GraphIR

/// A conv weight [m, c/groups, kh, kw] packed for `gs_direct_conv`, group by group, once per plan.
final class DirectConvFilter: @unchecked Sendable {
    /// Output channels per group.
    let outputs: Int
    /// Input channels per group.
    let inputs: Int
    /// Window height and width.
    let kh: Int, kw: Int
    /// Channel groups (each a conv of its own over its slice of the channels).
    let groups: Int
    private let storage: TensorStorage
    /// Floats of one group's packed filter.
    let floatCount: Int
    /// The filter of the direct conv the plan runs next, prefetched while this one finishes
    /// (set once, while planning).
    var following: DirectConvFilter?

    /// The packing of `weight`, which must be float32 [m, c/groups, kh, kw] with m a multiple
    /// of `groups`.
    init(weight: RuntimeTensor, groups: Int = 1) {
        self.groups = groups
        outputs = weight.shape[0] / groups
        inputs = weight.shape[1]
        kh = weight.shape[2]
        kw = weight.shape[3]
        floatCount = gs_direct_conv_filter_floats(outputs, inputs, kh, kw)
        storage = TensorStorage(bytes: floatCount * groups * 4)
        for g in 0..<groups {
            gs_direct_conv_pack(weight.floats + g * outputs * inputs * kh * kw, outputs, inputs, kh, kw, packed(group: g))
        }
    }

    /// The packed filter of group `g`.
    func packed(group g: Int = 0) -> UnsafeMutablePointer<Float> {
        storage.base.assumingMemoryBound(to: Float.self) + g * floatCount
    }
}

enum DirectConv {
    /// Whether this CPU runs the direct kernel (read once per process).
    static let available = gs_avx512_available() != 0

    /// Whether the direct kernel can run a conv of this geometry on this CPU: 2-D, no dilation,
    /// at least 16 output channels, and either fewer than 16 input channels (read plane by
    /// plane, as an RGB stem) or input channels that fill their 16-channel blocks to at least
    /// 3/4 (the padding lanes are multiplied too).
    static func canRun(_ g: WindowGeometry, inputs c: Int, outputs m: Int) -> Bool {
        guard available, g.dh == 1, g.dw == 1, c >= 1, m >= 16 else { return false }
        if c < 16 { return true }
        let padded = (c + 15) / 16 * 16
        return 4 * c >= 3 * padded
    }

    /// Whether the direct conv pays: it `canRun`, and a 1x1 conv has enough work per element
    /// (below). `blockedNeighbour`: its input or output stays channel-blocked (see
    /// `ConvKernels.planAlgorithms`), so no reorder is paid on that side.
    static func suits(_ g: WindowGeometry, inputs c: Int, outputs m: Int, blockedNeighbour: Bool = false) -> Bool {
        guard canRun(g, inputs: c, outputs: m) else { return false }
        // A 1x1 stride-1 unpadded conv is one sgemm with no im2col; the direct kernel beats it
        // when the sgemm is skinny (maps of 16 to 1,024 positions: ResNet-50's 28x28, 14x14 and
        // 7x7 stages) and the work per element is large enough, c*m/(c+m) >= 48 (ppocr's
        // 88->16 and 16->88, at 14, ran at half the speed even with blocked neighbours). On larger maps
        // (layout_cdla's 100x76, ResNet's 56x56) the sgemm was as fast as reordering in and
        // out, but not as a conv with blocked neighbours (ResNet-50's 56x56 64->256: 68 GFLOP/s
        // in sgemm). Under 16 positions (after a global pool) a register tile is mostly empty.
        let positions = g.oh * g.ow
        let pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0
        if pointwise {
            // With a blocked neighbour half the reordering is gone, and so is half the bar
            // (ResNet-50's 56x56 64->64: 0.17 ms blocked, 0.29 ms reordered, 0.41 ms in sgemm).
            let work = blockedNeighbour ? 24 : 48
            return c * m >= work * (c + m) && positions >= 16 && (blockedNeighbour || positions <= 1024)
        }
        return !blockedNeighbour || positions >= 16
    }

    /// A fused epilogue the unblocking pass runs itself: an Add of one more tensor of the
    /// output's shape and a Relu or Clip, in that order, each optional. (The general program
    /// would read and write the whole output once more.)
    struct OutputStage {
        /// The epilogue input added (1...: extra tensor `residual - 1`), nil for none.
        var residual: Int?
        var lo: Float = -.infinity, hi: Float = .infinity
    }

    /// `program` as an output stage, nil when it is more than Add, then Relu or Clip.
    static func outputStage(_ program: ElementwiseProgram?) -> OutputStage? {
        guard let program, (1...2).contains(program.instructions.count) else { return nil }
        var stage = OutputStage()
        var rest = program.instructions[...]
        if let first = rest.first, case .add = first.op, let b = first.b {
            switch (first.a, b) {
            case (.input(0), .input(let j)) where j >= 1, (.input(let j), .input(0)) where j >= 1: stage.residual = j
            default: return nil
            }
            rest = rest.dropFirst()
        }
        if let clip = rest.first {
            let expected: ElementwiseProgram.Operand = stage.residual == nil ? .input(0) : .temp(0)
            guard clip.b == nil, rest.count == 1 else { return nil }
            switch (clip.a, expected) {
            case (.input(let x), .input(let y)) where x == y: break
            case (.temp(let x), .temp(let y)) where x == y: break
            default: return nil
            }
            switch clip.op {
            case .relu: stage.lo = 0
            case .clip(let lo, let hi): (stage.lo, stage.hi) = (lo, hi)
            default: return nil
            }
        }
        return stage
    }

    /// Which of a direct conv's tensors the plan keeps channel-blocked (see `ConvLayouts`).
    struct Layout: Equatable {
        var input = false, residual = false, output = false

        /// NCHW in and out.
        static let planes = Layout()
        var any: Bool { input || residual || output }
        var flags: Int32 {
            (input ? Int32(GS_BLOCKED_INPUT) : 0) | (residual ? Int32(GS_BLOCKED_RESIDUAL) : 0)
                | (output ? Int32(GS_BLOCKED_OUTPUT) : 0)
        }
    }

    /// Floats of one image of `channels` channels over `positions` positions, channel-blocked.
    static func blockedFloats(channels: Int, positions: Int) -> Int {
        gs_direct_conv_blocked_floats(channels, positions)
    }

    /// One image: y [m, oh, ow] = conv(x [c, h, w]) (+ bias, + residual, clipped to [lo, hi]),
    /// through the packed filter, group by group (NCHW planes: group g reads and writes its own
    /// run of channels); `layout` says which of x, residual and y are channel-blocked (one
    /// group only).
    static func conv(_ g: WindowGeometry, input x: UnsafePointer<Float>, filter: DirectConvFilter,
                     bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>? = nil,
                     lo: Float = -.infinity, hi: Float = .infinity, output y: UnsafeMutablePointer<Float>,
                     layout: Layout = .planes, io: KernelIO) {
        let m = filter.outputs, c = filter.inputs, hw = g.h * g.w, ohw = g.oh * g.ow
        let scratch = io.scratch(gs_direct_conv_scratch_floats(m, c, g.kh, g.kw, g.sh, g.sw, g.oh, g.ow))
        // With threads, the output positions are split into parts of at least 48 (eight register
        // tiles of six) that run at once over the input prepared once.
        let parts = min(io.threads, ohw / 48)
        for k in 0..<filter.groups {
            // Prefetched next: this conv's next group, else the next conv's filter.
            let next = k + 1 < filter.groups ? filter : filter.following
            let xk = x + k * c * hw, packed = filter.packed(group: k), biasK = bias.map { $0 + k * m }
            let residualK = residual.map { $0 + k * m * ohw }, yk = y + k * m * ohw, flags = layout.flags
            let nextFilter = next.map { UnsafePointer($0.packed(group: k + 1 < filter.groups ? k + 1 : 0)) }
            let nextFloats = next?.floatCount ?? 0
            guard parts > 1 else {
                gs_direct_conv(xk, c, g.h, g.w, packed, m, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow, biasK, residualK,
                               lo, hi, yk, scratch, flags, nextFilter, nextFloats)
                continue
            }
            gs_direct_conv_prepare(xk, c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow, scratch, flags)
            forEachPart(of: ohw, parts: parts, multiple: 6) { q0, q1 in
                gs_direct_conv_positions(xk, c, g.h, g.w, packed, m, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow, biasK,
                                         residualK, lo, hi, yk, scratch, flags, nextFilter, nextFloats, q0, q1)
            }
        }
    }
}
