import Foundation

/// Roofline latency and energy for one unit of work (a node), following
/// shared/hardware/estimation-formulas.md §4 and energy-notes.md §6:
///
///     t = max(FLOPs / (η_c · peak[p]), bytes / (η_m · BW)) + t_launch
///     E = FLOPs · e_op[p] + bytes · e_byte + P_static · t,   with E / t ≤ TDP
///
/// The efficiencies are per op class; GEMM-like work on GPUs also pays tile and wave
/// quantization. Every result is an `Estimate` so calibration can replace the priors later.

/// What limits a node: arithmetic or memory traffic.
public enum Bottleneck: String, Sendable, Hashable { case compute, memory }

/// Coarse kind of work; decides which peak (matrix or vector) and which efficiency apply.
public enum OpClass: String, Sendable, Hashable, CaseIterable {
    /// Conv, MatMul, Gemm, Einsum, recurrent cells: tensor/matrix units.
    case matmul
    /// Element-wise arithmetic and activations.
    case elementwise
    /// Reductions, softmax, normalization, pooling.
    case reduction
    /// Copies and re-layouts: transpose, concat, gather, pad, resize, cast.
    case dataMovement
    /// Shape-only ops that a runtime folds away (reshape, shape, constant...): no kernel, no time.
    case metadata
    /// Control flow or ops the estimator has no model for.
    case other
}

/// Achievable fractions of peak per op class (the η of the formula). The defaults are
/// theoretical priors: typical well-tuned kernels reach 60-80% of matrix peak on large GEMMs,
/// 70-85% of DRAM bandwidth on streaming ops.
public struct Efficiency: Sendable, Hashable {
    /// Fraction of matrix peak reached by GEMM-like ops.
    public var matmulCompute: Double = 0.75
    /// Fraction of vector peak reached by element-wise ops.
    public var vectorCompute: Double = 0.5
    /// Fraction of DRAM bandwidth reached by streaming ops.
    public var memory: Double = 0.8
    /// Bandwidth efficiency of gathers/transposes (strided access).
    public var dataMovementMemory: Double = 0.6
    /// On-chip bandwidth multiple over DRAM when the working set fits the largest on-chip memory.
    public var onChipBandwidthFactor: Double = 3
    /// GEMM tile edge for quantization on GPUs (elements).
    public var tile: Int = 128

    /// The default priors.
    public init() {}
    /// The priors above.
    public static let `default` = Efficiency()

    func compute(_ c: OpClass) -> Double { c == .matmul ? matmulCompute : vectorCompute }
    func memory(_ c: OpClass) -> Double { c == .dataMovement ? dataMovementMemory : memory }
}

/// Per-op-class correction factors fitted from measured node times. Applying a calibration
/// multiplies predicted latency and marks the figure `calibrated` (or `interpolated` for
/// classes that had no samples and borrow the median factor).
public struct Calibration: Sendable, Hashable {
    /// Measured/predicted latency ratio per op class.
    public var factors: [OpClass: Double]
    /// Device the factors were measured on.
    public var hardwareID: String

    /// A calibration with known factors.
    public init(hardwareID: String, factors: [OpClass: Double]) { self.hardwareID = hardwareID; self.factors = factors }

    /// One measured sample: the class of the node, the predicted and the measured time.
    public struct Sample: Sendable, Hashable {
        /// Class of the node, and predicted and measured seconds.
        public var opClass: OpClass; public var predicted: Double; public var measured: Double
        /// A sample.
        public init(opClass: OpClass, predicted: Double, measured: Double) { self.opClass = opClass; self.predicted = predicted; self.measured = measured }
    }

    /// Fits one factor per class as the least-squares slope of measured on predicted
    /// (`Σ m·p / Σ p²`), which weights long nodes most, where the error costs most.
    public static func fit(hardwareID: String, samples: [Sample]) -> Calibration {
        var num: [OpClass: Double] = [:], den: [OpClass: Double] = [:]
        for s in samples where s.predicted > 0 && s.measured > 0 {
            num[s.opClass, default: 0] += s.measured * s.predicted
            den[s.opClass, default: 0] += s.predicted * s.predicted
        }
        var f: [OpClass: Double] = [:]
        for (k, d) in den where d > 0 { f[k] = (num[k] ?? 0) / d }
        return Calibration(hardwareID: hardwareID, factors: f)
    }

    /// The factor for a class and the confidence it earns.
    func factor(_ c: OpClass) -> (Double, EstimateConfidence) {
        if let f = factors[c] { return (f, .calibrated) }
        let all = factors.values.sorted()
        if all.isEmpty { return (1, .theoretical) }
        return (all[all.count / 2], .interpolated)
    }
}

/// The work of one node as the roofline sees it.
public struct WorkItem: Sendable, Hashable {
    /// FLOPs of the node.
    public var flops: Double
    /// Bytes moved.
    public var bytes: Double
    /// Kind of work.
    public var opClass: OpClass
    /// GEMM view (batch, M, N, K) for tile quantization; nil for non-GEMM work.
    public var gemm: GemmShape?
    /// A work item.
    public init(flops: Double, bytes: Double, opClass: OpClass, gemm: GemmShape? = nil) {
        self.flops = flops; self.bytes = bytes; self.opClass = opClass; self.gemm = gemm
    }
}

/// A (batched) matrix product `batch × [M×K]·[K×N]`; convolutions map to it by im2col
/// (M = N·out_spatial, N = C_out/groups, K = C_in/groups·kernel, batch = groups).
public struct GemmShape: Sendable, Hashable {
    /// Batch count and the M, N, K sizes.
    public var batch: Int, m: Int, n: Int, k: Int
    /// A GEMM shape.
    public init(batch: Int, m: Int, n: Int, k: Int) { self.batch = batch; self.m = m; self.n = n; self.k = k }
}

/// Latency and energy of one node on one device at one precision.
public struct NodeTiming: Sendable, Hashable {
    /// Seconds, with interval.
    public var latency: Estimate
    /// Joules, with interval.
    public var energy: Estimate
    /// Compute or memory bound.
    public var bottleneck: Bottleneck
    /// Compute-only and memory-only times (seconds) before taking the max.
    public var computeTime: Double
    /// Memory-only time (seconds).
    public var memoryTime: Double
    /// True when the dynamic power would exceed TDP and the time was stretched to respect it.
    public var powerCapped: Bool
}

/// A roofline for one device and precision: prices `WorkItem`s.
public struct RooflineModel: Sendable {
    /// The device.
    public let target: HardwareTarget
    /// The compute precision.
    public let precision: Precision
    /// Achievable fractions of peak.
    public var efficiency: Efficiency
    /// Measured corrections, if any.
    public var calibration: Calibration?
    /// Dense matrix peak and vector peak in op/s.
    public let matrixPeak: Double
    /// Vector (non-matrix) peak in op/s.
    public let vectorPeak: Double
    /// DRAM bandwidth in B/s (infinite for devices whose weights live on chip).
    public let bandwidth: Double
    let peakConfidence: DataConfidence
    /// Largest on-chip memory (bytes), looked up once: the per-node path must stay allocation-free.
    let onChipBytes: Double?
    let launchOverhead: Double
    let isGPU: Bool
    let computeUnits: Int?
    let energyParams: (pjPerFLOP: Double, pjPerByte: Double, staticW: Double, tdp: Double?, calibrated: Bool)

    /// Fails when the device publishes no rate usable for `precision`.
    public init(target: HardwareTarget, precision: Precision, efficiency: Efficiency = .default, calibration: Calibration? = nil) throws {
        guard let mp = target.peak(precision) else {
            throw EstimationError.unsupportedPrecision(hardware: target.id, precision: precision.rawValue,
                                                       available: target.peakOpsPerSecond.keys.sorted())
        }
        self.target = target; self.precision = precision; self.efficiency = efficiency; self.calibration = calibration
        matrixPeak = mp.opsPerSecond
        vectorPeak = min(target.peak(precision, matrix: false)?.opsPerSecond ?? mp.opsPerSecond, mp.opsPerSecond)
        bandwidth = target.memoryBandwidthBytesPerSecond ?? .infinity
        peakConfidence = target.confidence(ofField: "peak_dense.\(mp.key)")
        onChipBytes = target.largestOnChipBytes
        launchOverhead = target.launchOverheadSeconds
        isGPU = target.isGPU
        computeUnits = target.computeUnits
        energyParams = RooflineModel.energyPrior(target, precision, matrixPeak: mp.opsPerSecond)
    }

    /// Energy priors (energy-notes.md §3, §4, §6): static power 30% of TDP; dynamic energy
    /// per op so that a fully busy matrix unit draws 60% of the remaining TDP; DRAM energy by
    /// memory type (HBM ≈ 31 pJ/B, GDDR ≈ 80, DDR/LPDDR ≈ 130, on-chip ≈ 5).
    static func energyPrior(_ t: HardwareTarget, _ p: Precision, matrixPeak: Double) -> (Double, Double, Double, Double?, Bool) {
        let tdp = t.tdpWatts
        let staticW = t.energy.staticWatts ?? (tdp.map { 0.3 * $0 } ?? 0)
        let pj = t.energy.picojoulesPerFLOP[p] ?? (tdp.map { 0.6 * ($0 - staticW) / matrixPeak * 1e12 } ?? 1.0)
        let type = t.memoryType.lowercased()
        let perByte = t.energy.picojoulesPerByte ?? (type.contains("hbm") ? 31 : type.contains("gddr") ? 80
                                                     : (type.contains("ddr") ? 130 : 5))
        return (pj, perByte, staticW, tdp, !t.energy.isEmpty)
    }

    /// GEMM efficiency on GPUs: tile padding (M, N rounded up to tiles), wave quantization
    /// (`tiles / (ceil(tiles/units)·units)`) and a K-depth ramp `K/(K+32)`. 1 off GPUs.
    public func gemmEfficiency(_ g: GemmShape) -> Double { pricing.gemmEfficiency(g) }

    /// Prices one node.
    public func time(_ w: WorkItem) -> NodeTiming { pricing.time(w) }

    /// The scalars `time` needs, in a small value with no strings: the per-node path copies
    /// nothing big.
    var pricing: Pricing {
        Pricing(matrixPeak: matrixPeak, vectorPeak: vectorPeak, bandwidth: bandwidth, efficiency: efficiency,
                calibration: calibration, peakConfidence: peakConfidence, onChipBytes: onChipBytes,
                launchOverhead: launchOverhead, isGPU: isGPU, computeUnits: computeUnits, energyParams: energyParams)
    }

    /// The two roofs for a chart: attainable FLOP/s at arithmetic intensity x is
    /// `min(peak, x · BW)`; the ridge point is `peak / BW` FLOP/byte.
    public func roofs() -> RoofLines {
        RoofLines(matrixPeakFLOPS: matrixPeak * efficiency.matmulCompute, vectorPeakFLOPS: vectorPeak * efficiency.vectorCompute,
                  bandwidthBytesPerSecond: bandwidth * efficiency.memory,
                  theoreticalMatrixPeakFLOPS: matrixPeak, theoreticalBandwidth: bandwidth)
    }
}

/// The per-node roofline arithmetic (see `RooflineModel`).
struct Pricing: Sendable {
    let matrixPeak: Double
    let vectorPeak: Double
    let bandwidth: Double
    let efficiency: Efficiency
    let calibration: Calibration?
    let peakConfidence: DataConfidence
    let onChipBytes: Double?
    let launchOverhead: Double
    let isGPU: Bool
    let computeUnits: Int?
    let energyParams: (pjPerFLOP: Double, pjPerByte: Double, staticW: Double, tdp: Double?, calibrated: Bool)

    /// GEMM efficiency on GPUs: tile padding (M, N rounded up to tiles), wave quantization
    /// (`tiles / (ceil(tiles/units)·units)`) and a K-depth ramp `K/(K+32)`. 1 off GPUs.
    func gemmEfficiency(_ g: GemmShape) -> Double {
        guard isGPU, g.m > 0, g.n > 0, g.k > 0 else { return 1 }
        // in Double: sizes may be saturated to Int.max by the cost model
        let tile = Double(max(efficiency.tile, 1))
        let tilesM = (Double(g.m) / tile).rounded(.up), tilesN = (Double(g.n) / tile).rounded(.up)
        let padding = Double(g.m) * Double(g.n) / (tilesM * tile * tilesN * tile)
        var wave = 1.0
        if let units = computeUnits, units > 0 {
            let tiles = tilesM * tilesN * Double(max(g.batch, 1))
            wave = tiles / ((tiles / Double(units)).rounded(.up) * Double(units))
        }
        let kEff = Double(g.k) / (Double(g.k) + 32)
        return max(padding * wave * kEff, 1e-3)
    }

    /// Prices one node.
    func time(_ w: WorkItem) -> NodeTiming {
        if w.opClass == .metadata || (w.flops == 0 && w.bytes == 0) {
            return NodeTiming(latency: .zero, energy: .zero, bottleneck: .memory, computeTime: 0, memoryTime: 0, powerCapped: false)
        }
        let peak = w.opClass == .matmul ? matrixPeak : vectorPeak
        var etaC = efficiency.compute(w.opClass)
        if let g = w.gemm { etaC *= gemmEfficiency(g) }
        let computeTime = w.flops / (etaC * peak)
        var bw = bandwidth
        if let onChip = onChipBytes, w.bytes <= onChip, bw.isFinite { bw *= efficiency.onChipBandwidthFactor }
        let memoryTime = bw.isFinite ? w.bytes / (efficiency.memory(w.opClass) * bw) : 0
        var t = max(computeTime, memoryTime) + launchOverhead
        var confidence = EstimateConfidence.theoretical
        if let cal = calibration {
            let (f, c) = cal.factor(w.opClass); t *= f; confidence = c
        }
        // energy
        let e = energyParams
        let dynamic = w.flops * e.pjPerFLOP * 1e-12 + w.bytes * e.pjPerByte * 1e-12
        var capped = false
        if let tdp = e.tdp, tdp > e.staticW, dynamic / t + e.staticW > tdp {
            t = dynamic / (tdp - e.staticW); capped = true
        }
        let energy = dynamic + e.staticW * t
        let widen = peakConfidence.intervalWidening
        let energyConf: EstimateConfidence = e.calibrated ? .calibrated : .theoretical
        return NodeTiming(latency: Estimate(t, confidence: confidence, widen: widen),
                          energy: Estimate(energy, confidence: EstimateConfidence.weaker(confidence, energyConf), widen: widen),
                          bottleneck: computeTime >= memoryTime ? .compute : .memory,
                          computeTime: computeTime, memoryTime: memoryTime, powerCapped: capped)
    }

}

/// Roof lines for a roofline chart (achievable and theoretical).
public struct RoofLines: Sendable, Hashable {
    /// Achievable matrix peak (FLOP/s).
    public var matrixPeakFLOPS: Double
    /// Achievable vector peak (FLOP/s).
    public var vectorPeakFLOPS: Double
    /// Achievable bandwidth (B/s).
    public var bandwidthBytesPerSecond: Double
    /// Data-sheet matrix peak (FLOP/s).
    public var theoreticalMatrixPeakFLOPS: Double
    /// Data-sheet bandwidth (B/s).
    public var theoreticalBandwidth: Double
    /// Arithmetic intensity (FLOP/byte) where the memory roof meets the matrix roof.
    public var ridgeIntensity: Double { bandwidthBytesPerSecond.isFinite ? matrixPeakFLOPS / bandwidthBytesPerSecond : 0 }
    /// Attainable FLOP/s at an intensity under the matrix roof.
    public func attainable(intensity: Double) -> Double { min(matrixPeakFLOPS, intensity * bandwidthBytesPerSecond) }
    /// Polyline points (intensity, FLOP/s) of the achievable matrix roof over [lo, hi] on a log scale.
    public func polyline(from lo: Double = 1e-2, to hi: Double = 1e4) -> [(intensity: Double, flops: Double)] {
        var pts: [(Double, Double)] = [(lo, attainable(intensity: lo))]
        let r = ridgeIntensity
        if r > lo && r < hi { pts.append((r, matrixPeakFLOPS)) }
        pts.append((hi, attainable(intensity: hi)))
        return pts
    }
}

/// Errors of the estimator, each saying what and where.
public enum EstimationError: Error, Sendable, CustomStringConvertible, Equatable {
    case unsupportedPrecision(hardware: String, precision: String, available: [String])
    case unknownHardware(String)
    case unboundSymbol(name: String, value: String)
    case badBinding(String)
    case badSweepAxis(String)
    /// A graph input the user's `batch=` / `shape=` cannot apply to, with what to write instead.
    /// `option` is the user option at fault (`shape`, `batch`), for pointing at it.
    case badInput(option: String, String)

    /// The message.
    public var description: String {
        switch self {
        case let .unsupportedPrecision(h, p, a): return "hardware \(h) publishes no peak usable for \(p) (has: \(a.joined(separator: ", ")))"
        case let .unknownHardware(h): return "unknown hardware \"\(h)\" (see `hardware` for the list)"
        case let .unboundSymbol(n, v): return "dimension \"\(n)\" of \(v) is symbolic; bind it, e.g. \(n)=1"
        case let .badBinding(m): return "bad binding: \(m)"
        case let .badSweepAxis(m): return "bad sweep axis: \(m)"
        case let .badInput(_, m): return m
        }
    }
}
