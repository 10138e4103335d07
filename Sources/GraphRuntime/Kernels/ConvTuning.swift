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
/// filter, after a warm-up, the median ratio of paired calls) instead of hard-coding either
/// answer, and keeps the answer in a `ConvChoices` that every later plan holding it reads.
/// Wider convs stay Winograd and narrower ones direct without measuring: those margins held
/// on both machines. The same timing decides F(2x2, 3x3), for any channel count from 64, on
/// maps too small for F(4x4, 3x3) (ResNet-50's 14x14 stage, 256 channels: 1.86 against
/// 2.06 ms on the EPYC; its 7x7 stage stays direct), a transform that lost to im2col on the
/// Xeon. Timing runs one thread, whatever `threads` a run asks for later.
import CKernels
import Foundation  // NSLock
import GraphIR

/// How the planner settles the Winograd-or-direct choice for convs in the measured range.
enum WinogradPreference: Sendable {
    /// Time both kernels (once per geometry and channel counts, see `ConvChoices`).
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
    /// can run, with at least `measuredChannels` channels on each side. Under `measured` the
    /// answer comes from `choices`, which times a shape on its first question and gives every
    /// later plan holding it the same answer (a shape has one variant: `Winograd.suits` or
    /// `Winograd.suitsSmall`, never both).
    static func prefersWinograd(_ g: WindowGeometry, variant: Winograd.Variant = .f43, weight: RuntimeTensor,
                                inputs c: Int, outputs m: Int,
                                preference: WinogradPreference, choices: ConvChoices) -> Bool {
        guard min(c, m) >= measuredChannels else { return false }
        switch preference {
        case .always: return true
        case .never: return false
        case .measured:
            return choices.decision(for: Shape(g, inputs: c, outputs: m)) {
                let work = c.multipliedReportingOverflow(by: m * 9 * g.oh * g.ow)
                return !work.overflow && work.partialValue <= maximumTimedWork
                    && winogradIsFaster(g, variant: variant, weight: weight, inputs: c, outputs: m)
            }
        }
    }

    /// Paired timings (Winograd, direct) are taken until their median ratio is this far from
    /// `margin` on either side, or `maximumRounds` pairs are in.
    static let clearDistance = 0.1
    static let minimumRounds = 3, maximumRounds = 9

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
        // One thread on both sides: OpenBLAS's count is process-wide, and an interpreter asked
        // for threads would otherwise time Winograd's sgemms on all of them against a direct
        // kernel on one, and decide a shape differently from a one-thread plan.
        let blasThreads = BLAS.threads
        if blasThreads != 1 { BLAS.setThreads(1) }
        defer { if blasThreads != 1 { BLAS.setThreads(blasThreads) } }
        // Warm-ups, then pairs of calls back to back: a busy moment of a shared machine slows
        // both calls of a pair, so their ratio moves far less than either time.
        runWinograd()
        runDirect()
        let large = c &* m &* 9 &* g.oh &* g.ow > singleTimingWork
        return winogradWins(rounds: large ? 1 : maximumRounds, minimumRounds: large ? 1 : minimumRounds) {
            (nanoseconds(runWinograd), nanoseconds(runDirect))
        }
    }

    /// The decision from paired timings `pair()` (Winograd's, the direct kernel's): Winograd
    /// when the median ratio of the pairs is under `margin`. Pairs are taken until the median
    /// is `clearDistance` from the margin (after at least `minimumRounds`) or `rounds` are in,
    /// so a clear case costs three pairs and a close one up to nine.
    static func winogradWins(rounds: Int, minimumRounds: Int, _ pair: () -> (UInt64, UInt64)) -> Bool {
        var ratios: [Double] = []
        ratios.reserveCapacity(rounds)
        var median = 1.0
        for k in 0..<max(1, rounds) {
            let (w, d) = pair()
            ratios.append(Double(w) / Double(max(d, 1)))
            ratios.sort()
            let n = ratios.count
            median = n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2
            if k + 1 >= minimumRounds, abs(median - margin) >= clearDistance { break }
        }
        return median < margin
    }

    /// How long one call of `body` takes.
    private static func nanoseconds(_ body: () -> Void) -> UInt64 {
        let start = ContinuousClock.now
        body()
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}

/// Conv algorithm choices timed on this machine, kept by whoever holds the instance: a
/// notebook session (every version it runs), a benchmark process, an interpreter alone.
///
/// Why shared: a timed choice is close by construction (the kernels are within a few percent
/// of each other there), so two timings of one shape may disagree on a busy machine. When the
/// plan of each version timed its own, `compare @0 @1` could time a version with Winograd
/// against one without for the same conv, and a difference the edit did not cause showed in
/// the times. Holding one `ConvChoices`, every plan decides a shape the way the first did.
public final class ConvChoices: @unchecked Sendable {
    private let lock = NSLock()
    private var decided: [ConvTuning.Shape: Bool] = [:]
    private var measuredCount = 0

    /// An empty table.
    public init() {}

    /// How many shapes have a decision.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return decided.count
    }

    /// How many shapes were timed (the rest were recorded or answered from the table).
    public var timings: Int {
        lock.lock()
        defer { lock.unlock() }
        return measuredCount
    }

    /// The decision for `shape`, made by `measure` on its first question. Measured outside the
    /// lock (timing takes milliseconds); when two plans time one shape at once, the first
    /// answer stored is the one both keep.
    func decision(for shape: ConvTuning.Shape, measure: () -> Bool) -> Bool {
        lock.lock()
        if let known = decided[shape] { lock.unlock(); return known }
        lock.unlock()
        let fresh = measure()
        lock.lock()
        defer { lock.unlock() }
        if let known = decided[shape] { return known }
        decided[shape] = fresh
        measuredCount += 1
        return fresh
    }

    /// Sets the decision for `shape` (tests).
    func record(_ shape: ConvTuning.Shape, winograd: Bool) {
        lock.lock()
        decided[shape] = winograd
        lock.unlock()
    }
}
