/// Sweeps over a graph: `sweep batch=1,8,32 seq=128,512 dtype=fp16,int8 hardware=a100,h100
/// metric=latency`. Axis keys are the graph's bindable names (symbols, scalar inputs, named
/// Loops: `OpGraph.bindableNames`, bound per point), `dtype`/`precision`,
/// and `hardware`. Shapes and per-node costs are computed once per distinct (binding, dtype)
/// and reused across devices, so a 1,000-point grid costs a few dozen analyses plus cheap
/// roofline passes, all spread across cores.

/// Figures of one sweep point.
public struct SweepFigures: Sendable, Hashable {
    /// Single-stream latency.
    public var latency: Estimate
    /// Energy.
    public var energy: Estimate
    /// Weights plus peak live activations, in bytes.
    public var memoryBytes: Double
    /// Samples per second: the point's batch size (`CostAnalysis.batchSize`) over latency.
    public var throughput: Double
    /// FLOPs of the point.
    public var flops: Double

    /// The figure a metric selects.
    public func value(_ m: SweepMetric) -> Double {
        switch m {
        case .latency: return latency.value
        case .energy: return energy.value
        case .memory: return memoryBytes
        case .throughput: return throughput
        }
    }
}

/// A prepared graph sweep.
public struct GraphSweep: Sendable {
    /// The graph swept.
    public let graph: OpGraph
    /// Where `hardware=` values are looked up.
    public let registry: HardwareRegistry
    /// Bindings, hardware, precision and efficiency used where no axis overrides them.
    public var base: EstimateOptions

    /// A sweep over `graph` with defaults from `base`.
    public init(graph: OpGraph, registry: HardwareRegistry, base: EstimateOptions) {
        self.graph = graph; self.registry = registry; self.base = base
    }

    static let dtypeKeys: Set<String> = ["dtype", "precision"]
    static let hardwareKeys: Set<String> = ["hardware", "hw", "device"]
    /// `batch` binds the leading dimension of every input, whatever its name (`EstimateOptions.batch`).
    static let batchKey = "batch"

    /// Checks every axis key and value, then resolves the inputs of every distinct binding of
    /// the grid, before any work: a typo, an unbindable batch or an unbound dimension anywhere in
    /// the grid fails at once with a clear message instead of after evaluating every point.
    /// - Returns: the number of distinct shape analyses the grid needs (see `run`'s progress).
    @discardableResult
    public func validate(_ axes: [SweepAxis]) throws -> Int {
        try validateKeys(axes)
        var seen = Set<AnalysisKey>()
        for p in SweepEngine.grid(axes) {
            var k = key(p); k.precision = nil
            guard seen.insert(k).inserted else { continue }
            do { _ = try InputBinding.resolve(graph, batch: k.batch, bindings: k.bindings, inputShapes: base.inputShapes) } catch {
                let at = p.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                throw EstimationError.badSweepAxis("at \(at): \(error)")
            }
        }
        return seen.count
    }

    /// Every key a sweep of `graph` accepts: its bindable names, `batch`, the precision and hardware keys.
    public static func axisKeys(of graph: OpGraph) -> [String] {
        Set(graph.bindableNames).union([batchKey]).sorted() + ["dtype", "precision", "hardware", "hw", "device"]
    }

    func validateKeys(_ axes: [SweepAxis]) throws {
        let symbols = Set(graph.bindableNames).union([GraphSweep.batchKey])
        for a in axes {
            if GraphSweep.dtypeKeys.contains(a.key) {
                for v in a.values where Precision(parsing: v.description) == nil {
                    throw EstimationError.badSweepAxis("\(a.key): unknown precision \"\(v)\"")
                }
            } else if GraphSweep.hardwareKeys.contains(a.key) {
                for v in a.values where registry.target(v.description) == nil { throw EstimationError.unknownHardware(v.description) }
            } else if symbols.contains(a.key) {
                for v in a.values where (v.intValue ?? 0) <= 0 {
                    throw EstimationError.badSweepAxis("\(a.key): \"\(v)\" is not a positive integer")
                }
            } else {
                throw EstimationError.badSweepAxis("unknown key \"\(a.key)\" (graph symbols and scalar inputs: \(symbols.sorted().joined(separator: ", ")); also dtype, hardware)")
            }
        }
    }

    /// Runs the sweep. Points whose device lacks the precision carry an error instead of figures.
    /// `progress(done, total)` counts work units: one per distinct shape analysis (the first
    /// phase, which dominates a sweep over many batch sizes), then one per point; `total` is
    /// `validate(axes)` plus the number of points. `validated`: the caller already ran
    /// `validate(axes)` (to fail before showing progress).
    public func run(axes: [SweepAxis], engine: SweepEngine = SweepEngine(),
                    progress: (@Sendable (Int, Int) -> Void)? = nil,
                    isCancelled: (@Sendable () -> Bool)? = nil, validated: Bool = false) throws -> SweepResult<SweepFigures> {
        if !validated { try validate(axes) }
        let points = SweepEngine.grid(axes)
        // Phase 1: one analysis per distinct binding (precision only re-prices bytes).
        var keys: [AnalysisKey] = []
        var seen = Set<AnalysisKey>()
        for p in points { var k = key(p); k.precision = nil; if seen.insert(k).inserted { keys.append(k) } }
        let keyAxis = SweepAxis(key: "_analysis", values: keys.indices.map { .int($0) })
        let graph = self.graph, base = self.base, keyList = keys
        let work = keys.count + points.count
        let analysing: (@Sendable (Int, Int) -> Void)? = progress.map { report in { @Sendable done, _ in report(done, work) } }
        let analyses = engine.run(axes: [keyAxis], progress: analysing, isCancelled: isCancelled) { p -> CostAnalysis in
            let k = keyList[p.index]
            return try CostAnalysis(graph: graph, bindings: k.bindingDict, inputShapes: base.inputShapes, batch: k.batch,
                                    options: CostOptions(bytesPrecision: nil, transcendentalFLOPs: base.transcendentalFLOPs,
                                                         fuseElementwise: base.fuseElementwise))
        }
        if let (i, e) = analyses.errors.first { throw EstimationError.badBinding("\(keys[i].bindingDict): \(e)") }
        if analyses.cancelled {
            return SweepResult(axes: axes, points: points, results: Array(repeating: nil, count: points.count), errors: [:],
                               cancelled: true, completed: 0)
        }
        var table: [AnalysisKey: CostAnalysis] = [:]
        for (i, k) in keys.enumerated() { if let a = analyses.results[i] { table[k] = a } }
        let cache = table
        // Phase 2: roofline per point.
        let analysed = keys.count
        let pricing: (@Sendable (Int, Int) -> Void)? = progress.map { report in { @Sendable done, _ in report(analysed + done, work) } }
        return engine.run(axes: axes, progress: pricing, isCancelled: isCancelled) { p -> SweepFigures in
            let k = self.key(p)
            guard let a = cache[AnalysisKey(bindings: k.bindings, batch: k.batch, precision: nil)] else {
                throw EstimationError.badBinding("analysis missing for \(k.bindingDict)")
            }
            guard let hw = self.hardware(p) else { throw EstimationError.unknownHardware("(none given)") }
            let precision = k.precision ?? a.graphPrecision
            let model = try RooflineModel(target: hw, precision: precision, efficiency: base.efficiency, calibration: base.calibration)
            let q = GraphEstimator.quickTotals(a, model: model, bytesPrecision: k.precision)
            let batch = Double(a.batchSize)
            let memory = k.precision.map { a.footprint(at: $0) } ?? (a.weightBytes + a.peakActivationBytes)
            return SweepFigures(latency: q.latency, energy: q.energy, memoryBytes: memory,
                                throughput: q.latency.value > 0 ? batch / q.latency.value : 0, flops: q.flops)
        }
    }

    struct AnalysisKey: Hashable, Sendable {
        var bindings: [String: Int]
        var batch: Int?
        var precision: Precision?
        var bindingDict: [String: Int] { bindings }
    }

    func key(_ p: SweepPoint) -> AnalysisKey {
        var b = base.bindings
        var prec = base.precision
        var batch = base.batch
        for (k, v) in p.values {
            if GraphSweep.dtypeKeys.contains(k) { prec = Precision(parsing: v.description) }
            else if k == GraphSweep.batchKey { batch = v.intValue }
            else if !GraphSweep.hardwareKeys.contains(k), let i = v.intValue { b[k] = i }
        }
        return AnalysisKey(bindings: b, batch: batch, precision: prec)
    }

    func hardware(_ p: SweepPoint) -> HardwareTarget? {
        for (k, v) in p.values where GraphSweep.hardwareKeys.contains(k) { return registry.target(v.description) }
        return base.hardware
    }
}

/// Sweeps over an LLM config: keys `batch`, `seq`, `generated`, `dtype`, `hardware`,
/// `recompute` (none|selective|full), `optimizer`, `flash` (0/1), `training` (0/1).
/// Metrics: memory (total bytes), latency (inter-token), throughput (tokens/s), energy
/// (inter-token latency × TDP, an upper bound: the calculator has no per-op energy).
public struct LLMSweep: Sendable {
    /// Config the axes modify.
    public var base: LLMConfig
    /// Where `hardware=` values are looked up.
    public var registry: HardwareRegistry
    /// Device used when no `hardware` axis is given.
    public var hardware: HardwareTarget?

    /// A sweep over `base`.
    public init(base: LLMConfig, registry: HardwareRegistry, hardware: HardwareTarget?) {
        self.base = base; self.registry = registry; self.hardware = hardware
    }

    /// The keys an LLM sweep accepts.
    public static let axisKeys = ["batch", "seq", "generated", "dtype", "precision", "hardware", "hw", "device",
                                  "recompute", "optimizer", "flash", "training"]

    /// The config and device of one point; throws naming the bad key or value.
    public func configure(_ p: SweepPoint) throws -> (LLMConfig, HardwareTarget?) {
        var c = base, hw = hardware
        for (k, v) in p.values.sorted(by: { $0.key < $1.key }) {
            func int() throws -> Int { guard let i = v.intValue, i >= 0 else { throw EstimationError.badSweepAxis("\(k): \"\(v)\" is not a count") }; return i }
            switch k {
            case "batch": c.batch = try int()
            case "seq": c.seq = try int()
            case "generated": c.generatedTokens = try int()
            case "dtype", "precision":
                guard let pr = Precision(parsing: v.description) else { throw EstimationError.badSweepAxis("dtype: unknown precision \"\(v)\"") }
                c.dtype = pr
            case "hardware", "hw", "device":
                guard let t = registry.target(v.description) else { throw EstimationError.unknownHardware(v.description) }
                hw = t
            case "recompute":
                guard let r = RecomputeMode(rawValue: v.description) else { throw EstimationError.badSweepAxis("recompute: \"\(v)\" (none, selective, full)") }
                c.recompute = r
            case "optimizer":
                guard let o = OptimizerKind(rawValue: v.description) else { throw EstimationError.badSweepAxis("optimizer: \"\(v)\"") }
                c.optimizer = o
            case "flash": c.flashAttention = try int() != 0
            case "training": c.training = try int() != 0
            default: throw EstimationError.badSweepAxis("unknown LLM key \"\(k)\"")
            }
        }
        try c.validate()
        return (c, hw)
    }

    /// Evaluates the grid; each result is the metric's value.
    public func run(axes: [SweepAxis], metric: SweepMetric, engine: SweepEngine = SweepEngine(),
                    progress: (@Sendable (Int, Int) -> Void)? = nil,
                    isCancelled: (@Sendable () -> Bool)? = nil) throws -> SweepResult<Double> {
        // every value of every axis, in the context of the first point, before any evaluation
        if let first = SweepEngine.grid(axes).first {
            _ = try configure(first)
            for a in axes {
                for v in a.values.dropFirst() {
                    var p = first
                    p.values[a.key] = v
                    _ = try configure(p)
                }
            }
        }
        return engine.run(axes: axes, progress: progress, isCancelled: isCancelled) { p -> Double in
            let (c, hw) = try self.configure(p)
            let calc = LLMCalculator(c)
            if metric == .memory { return calc.memory(on: hw).totalBytes }
            guard let hw else { throw EstimationError.unknownHardware("(none given)") }
            guard let inf = calc.inference(on: hw) else {
                throw EstimationError.unsupportedPrecision(hardware: hw.id, precision: c.dtype.rawValue, available: hw.peakOpsPerSecond.keys.sorted())
            }
            switch metric {
            case .latency: return inf.interTokenLatency.value
            case .throughput: return inf.tokensPerSecond
            case .energy: return inf.interTokenLatency.value * (hw.tdpWatts ?? 0)
            case .memory: return calc.memory(on: hw).totalBytes
            }
        }
    }
}
