/// Conv algorithm choices that depend on the machine, settled by timing the two kernels once
/// per shape while a plan is built.
///
/// Winograd F(4x4, 3x3) does 4x fewer multiplies than the direct kernel but runs them as 36
/// narrow sgemms plus two transforms; the direct kernel runs near the FMA peak and keeps its
/// neighbours channel-blocked. Which one wins for a 3x3 conv with 64 to 127 channels depends
/// on the core: on an AMD EPYC (Zen 4, 512-bit FMAs issued as two 256-bit halves) Winograd
/// ran ResNet-50's 56x56 64-channel convs in 1.4-1.6 ms against 2.1, and VGG-19's 224x224
/// one in 24 ms against 33; on the Intel Xeon of earlier sessions the direct kernel held
/// that range. So the planner times both on the conv's own geometry (zero input, the real
/// filter, each kernel's best of three calls, taken in turn after a warm-up) instead of
/// hard-coding either answer. Wider convs stay Winograd and narrower ones direct without
/// measuring: those margins held on both machines. The same timing decides F(2x2, 3x3), for any channel count
/// from 64, on maps too small for F(4x4, 3x3) (ResNet-50's 14x14 stage, 256 channels: 1.86
/// against 2.06 ms on the EPYC; its 7x7 stage stays direct), a transform that lost to im2col
/// on the Xeon. Timing runs one thread, whatever `threads` a run asks for later.
import CKernels
import GraphIR

/// How the planner settles the Winograd-or-direct choice for convs in the measured range.
enum WinogradPreference: Sendable {
    /// Time both kernels (once per geometry and channel counts in a plan).
    case measured
    /// Take Winograd wherever it is measured for (tests of the planner's layouts).
    case always
    /// Never take Winograd in the measured range (what plans did before measuring).
    case never
}

enum ConvTuning {
    /// The fewest channels (on both sides) for which Winograd is weighed against the direct
    /// kernel; below it the direct kernel stays (the transforms cost more than they save).
    static let measuredChannels = 64

    /// Winograd must take at most this share of the direct kernel's time: leaving a blocked
    /// chain costs a reorder on each side (ResNet-50's 56x56 64-channel convs: about 0.1 ms
    /// of the 0.6 ms Winograd saves).
    static let margin = 0.85

    /// Multiply-adds above which a conv is not timed (the direct kernel keeps it), and above
    /// which each kernel is timed once after its warm-up instead of three times: timing a shape
    /// costs two to four runs of each kernel while planning (VGG-19's 1.85 G multiply-add conv:
    /// about 0.2 s).
    static let maximumTimedWork = 4_000_000_000
    static let singleTimingWork = 500_000_000

    /// Key of one measurement: the geometry and channel counts (the values do not matter).
    struct Shape: Hashable {
        var geometry: WindowGeometry
        var inputs, outputs: Int
        init(_ g: WindowGeometry, inputs c: Int, outputs m: Int) {
            geometry = g
            inputs = c
            outputs = m
        }
    }

    /// Whether `preference` takes Winograd (`variant`) for a stride-1 3x3 conv that both kernels
    /// can run, with at least `measuredChannels` channels on each side; `measured` caches the
    /// timings of this plan by shape (a shape has one variant: `Winograd.suits` or
    /// `Winograd.suitsSmall`, never both).
    static func prefersWinograd(_ g: WindowGeometry, variant: Winograd.Variant = .f43, weight: RuntimeTensor,
                                inputs c: Int, outputs m: Int,
                                preference: WinogradPreference, measured: inout [Shape: Bool]) -> Bool {
        guard min(c, m) >= measuredChannels else { return false }
        switch preference {
        case .always: return true
        case .never: return false
        case .measured:
            let key = Shape(g, inputs: c, outputs: m)
            if let known = measured[key] { return known }
            let work = c.multipliedReportingOverflow(by: m * 9 * g.oh * g.ow)
            let faster = !work.overflow && work.partialValue <= maximumTimedWork
                && winogradIsFaster(g, variant: variant, weight: weight, inputs: c, outputs: m)
            measured[key] = faster
            return faster
        }
    }

    /// Times one image of the conv both ways: Winograd reading and writing NCHW, the direct
    /// kernel reading and writing channel-blocked values (its best case, inside a chain).
    static func winogradIsFaster(_ g: WindowGeometry, variant: Winograd.Variant = .f43, weight: RuntimeTensor,
                                 inputs c: Int, outputs m: Int) -> Bool {
        let winograd = WinogradFilter(weight: weight, variant: variant)
        let direct = DirectConvFilter(weight: weight, groups: 1)
        let inFloats = max(c * g.h * g.w, DirectConv.blockedFloats(channels: c, positions: g.h * g.w))
        let outFloats = max(m * g.oh * g.ow, DirectConv.blockedFloats(channels: m, positions: g.oh * g.ow))
        // Zeros: no denormals or NaNs to slow either kernel down.
        let x = TensorStorage(bytes: inFloats * 4), y = TensorStorage(bytes: outFloats * 4)
        let xp = UnsafePointer(x.base.assumingMemoryBound(to: Float.self))
        let yp = y.base.assumingMemoryBound(to: Float.self)
        let io = KernelIO(inputs: [], outputs: [], step: nil, arena: Arena(slotBytes: [], outputSlots: []))
        let blocked = DirectConv.Layout(input: true, residual: false, output: true)
        let runWinograd = { Winograd.conv(g, input: xp, filter: winograd, bias: nil, output: yp, io: io) }
        let runDirect = { DirectConv.conv(g, input: xp, filter: direct, bias: nil, output: yp, layout: blocked, io: io) }
        // Warm-ups, then the two kernels in turn, so a busy moment of a shared machine slows
        // both rather than deciding for one.
        runWinograd()
        runDirect()
        var w = UInt64.max, d = UInt64.max
        for _ in 0..<(c &* m &* 9 &* g.oh &* g.ow > singleTimingWork ? 1 : 3) {
            w = min(w, nanoseconds(runWinograd))
            d = min(d, nanoseconds(runDirect))
        }
        return Double(w) < margin * Double(d)
    }

    /// How long one call of `body` takes.
    private static func nanoseconds(_ body: () -> Void) -> UInt64 {
        let start = ContinuousClock.now
        body()
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
