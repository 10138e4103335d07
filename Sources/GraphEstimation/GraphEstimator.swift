import Foundation
import GraphIR
import Dispatch

/// The `estimate` / `roofline` pipeline on an `OpGraph`: bind dims and infer shapes, cost
/// every node, then (given a hardware target) price it on the roofline and roll figures up
/// by node, by op, by namespace, and for the whole graph. Results are plain structured
/// values (rows, per-node arrays, chart points); formatting belongs to the caller.

/// Options of an estimate.
public struct EstimateOptions: Sendable {
    /// Symbol bindings (`batch` -> 8, `seq` -> 512).
    public var bindings: [String: Int] = [:]
    /// Full shapes for named graph inputs (for inputs with unnamed unknown dims).
    public var inputShapes: [String: [Int]] = [:]
    public var convention: Convention = .graphsmith
    /// Compute precision, and the byte size of float tensors; nil = the graph's own float types
    /// for bytes and its dominant float type for compute.
    public var precision: Precision?
    public var hardware: HardwareTarget?
    public var efficiency: Efficiency = .default
    public var calibration: Calibration?
    /// Number of nodes in `GraphEstimate.topK`.
    public var topK = 10
    /// FLOPs per element for transcendental functions (see `CostOptions`).
    public var transcendentalFLOPs = 1

    public init(bindings: [String: Int] = [:], convention: Convention = .graphsmith, precision: Precision? = nil,
                hardware: HardwareTarget? = nil) {
        self.bindings = bindings; self.convention = convention; self.precision = precision; self.hardware = hardware
    }
}

/// Shapes and per-node costs for one binding: the hardware-independent half of an estimate,
/// reusable across devices and precisions (what sweeps cache).
public struct CostAnalysis: Sendable {
    public let graph: OpGraph
    public let shapes: ShapeTable
    public let costs: [NodeCost]
    /// Node index producing each value (-1 for inputs and initializers).
    public let producer: [Int]
    /// The graph's dominant float precision (most float weight elements), fp32 when unclear.
    public let graphPrecision: Precision
    /// Bytes of all weights (constant inputs of executed nodes).
    public let weightBytes: Double
    /// Float weight elements and non-float weight bytes (to re-price the footprint).
    let weightFloatElements: Double
    let weightOtherBytes: Double
    let peakActivationFloatElements: Double
    let peakActivationOtherBytes: Double

    /// Weights plus peak live activations with float tensors stored at `precision`.
    public func footprint(at precision: Precision) -> Double {
        (weightFloatElements + peakActivationFloatElements) * precision.bytesPerElement + weightOtherBytes + peakActivationOtherBytes
    }

    /// Peak bytes of live activations when nodes run in graph order (a value lives from its
    /// producer to its last consumer; graph inputs from the start, graph outputs to the end).
    public let peakActivationBytes: Double

    /// Runs shape inference and the cost model.
    public init(graph g: OpGraph, bindings: [String: Int] = [:], inputShapes: [String: [Int]] = [:],
                options: CostOptions = CostOptions()) throws {
        let t = try ShapeInference.run(g, bindings: bindings, inputShapes: inputShapes)
        var producer = Array(repeating: -1, count: g.values.count)
        for i in g.nodes.indices { for o in g.nodes[i].outputs where o >= 0 { producer[o] = i } }
        // Ownership of constants (first executed consumer) is sequential; the costs are then independent per node.
        var seen = Array(repeating: false, count: g.values.count)
        var owned: [Bool] = [], ownedStart = Array(repeating: 0, count: g.nodes.count + 1)
        owned.reserveCapacity(g.nodes.count * 3)
        var bitsCount: [Int: Int] = [:]
        for i in g.nodes.indices {
            ownedStart[i] = owned.count
            let folded = t.folded[i]
            for v in g.nodes[i].inputs {
                let first = !folded && v >= 0 && t.isConstant[v] && !seen[v]
                owned.append(first)
                if first {
                    seen[v] = true
                    if t.isFloat[v], t.elementCounts[v] >= 0 { bitsCount[t.elementBits[v], default: 0] += t.elementCounts[v] }
                }
            }
        }
        ownedStart[g.nodes.count] = owned.count
        let costs = CostAnalysis.parallelMap(count: g.nodes.count) { i in
            CostModel.cost(g.nodes[i], index: i, graph: g, shapes: t, owned: owned[ownedStart[i]..<ownedStart[i + 1]], options: options)
        }
        graph = g; shapes = t; self.costs = costs; self.producer = producer
        weightBytes = costs.reduce(0) { $0 + $1.bytesReadWeights }
        peakActivationBytes = CostAnalysis.peakLive(g, t, bytesPrecision: options.bytesPrecision).bytes
        var wf = 0.0, wo = 0.0
        for i in g.nodes.indices where !t.folded[i] && !g.nodes[i].traits.isMetadata {
            for v in g.nodes[i].inputs where v >= 0 && t.isConstant[v] {
                guard t.elementCounts[v] >= 0 else { continue }
                let e = Double(t.elementCounts[v])
                if t.isFloat[v] { wf += e } else { wo += e * Double(t.elementBits[v] == 0 ? 32 : t.elementBits[v]) / 8 }
            }
        }
        weightFloatElements = wf; weightOtherBytes = wo
        let live = CostAnalysis.peakLive(g, t, bytesPrecision: .fp32)
        peakActivationFloatElements = live.floatElements; peakActivationOtherBytes = live.otherBytes
        switch bitsCount.max(by: { $0.value < $1.value })?.key {
        case 16?: graphPrecision = .fp16
        case 64?: graphPrecision = .fp64
        case 8?: graphPrecision = .fp8
        default: graphPrecision = .fp32
        }
    }
}

extension CostAnalysis {
    /// Maps `0..<count` in parallel chunks for large graphs (sequentially below 4,096 items,
    /// where scheduling would cost more than it saves), keeping the order.
    static func parallelMap<T>(count: Int, _ body: (Int) -> T) -> [T] {
        let chunk = 2048
        if count < 2 * chunk { return (0..<count).map(body) }
        return withoutActuallyEscaping(body) { body in
            [T](unsafeUninitializedCapacity: count) { buf, initialized in
                guard let base = buf.baseAddress else { initialized = 0; return }
                let chunks = (count + chunk - 1) / chunk
                let address = UInt(bitPattern: base)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    // each chunk initializes a disjoint range of the buffer
                    let p = UnsafeMutablePointer<T>(bitPattern: address).unsafelyUnwrapped
                    for i in c * chunk..<min(count, (c + 1) * chunk) { (p + i).initialize(to: body(i)) }
                }
                initialized = count
            }
        }
    }

    /// Peak live activation bytes, and (at that peak) how many are float elements vs other bytes.
    static func peakLive(_ g: OpGraph, _ t: ShapeTable, bytesPrecision: Precision?) -> (bytes: Double, floatElements: Double, otherBytes: Double) {
        var last = Array(repeating: -1, count: g.values.count)
        for i in g.nodes.indices { for v in g.nodes[i].inputs where v >= 0 { last[v] = i } }
        for v in g.outputs where v >= 0 { last[v] = g.nodes.count }
        /// (bytes, float elements, non-float bytes) of a live activation.
        func size(_ v: Int) -> (Double, Double, Double) {
            guard v >= 0, !t.isConstant[v], t.elementCounts[v] >= 0 else { return (0, 0, 0) }
            let n = Double(t.elementCounts[v])
            let bits = Double(t.elementBits[v] == 0 ? 32 : t.elementBits[v])
            if t.isFloat[v] { return (n * (bytesPrecision?.bytesPerElement ?? bits / 8), n, 0) }
            return (n * bits / 8, 0, n * bits / 8)
        }
        var live = (0.0, 0.0, 0.0)
        func add(_ a: inout (Double, Double, Double), _ b: (Double, Double, Double)) { a.0 += b.0; a.1 += b.1; a.2 += b.2 }
        for v in g.inputs { add(&live, size(v)) }
        var peak = live
        var freeAt = Array(repeating: (0.0, 0.0, 0.0), count: g.nodes.count + 1)
        for v in g.inputs where last[v] >= 0 { add(&freeAt[last[v]], size(v)) }
        for i in g.nodes.indices {
            // outputs of metadata ops (reshape...) are counted as copies: an upper bound
            for v in g.nodes[i].outputs where v >= 0 && last[v] >= 0 { let b = size(v); add(&live, b); add(&freeAt[last[v]], b) }
            if live.0 > peak.0 { peak = live }
            live.0 -= freeAt[i].0; live.1 -= freeAt[i].1; live.2 -= freeAt[i].2
        }
        return peak
    }
}

/// Figures of one node.
public struct NodeEstimate: Sendable, Hashable {
    /// Index in `OpGraph.nodes`.
    public var index: Int
    /// The GraphIR node (nil for hand-built `OpGraph`s).
    public var nodeID: NodeID?
    public var name: String
    public var opType: String
    public var path: [String]
    public var macs: Int
    public var flops: Int
    public var bytesReadActivations: Double
    public var bytesReadWeights: Double
    public var bytesWritten: Double
    public var params: Int
    public var opClass: OpClass
    public var status: CostStatus
    public var latency: Estimate?
    public var energy: Estimate?
    public var bottleneck: Bottleneck?
    public var bytes: Double { bytesReadActivations + bytesReadWeights + bytesWritten }
    /// FLOPs per byte moved (0 when nothing moves).
    public var arithmeticIntensity: Double { bytes > 0 ? Double(flops) / bytes : 0 }
    /// FLOPs divided by latency: where the node sits under the roofline.
    public var attainedFLOPS: Double? { latency.map { $0.value > 0 ? Double(flops) / $0.value : 0 } }
}

/// Graph totals.
public struct EstimateTotals: Sendable, Hashable {
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var bytes: Double
    public var bytesReadActivations: Double
    public var bytesReadWeights: Double
    public var bytesWritten: Double
    /// Single-stream latency: every node runs one after another, so the stream's critical
    /// path is the sum of node latencies.
    public var latencySeconds: Estimate?
    /// Longest dependency chain (what unlimited parallel streams could reach): a lower bound.
    public var dependencyCriticalPathSeconds: Double?
    public var energyJoules: Estimate?
}

/// Roll-up of a namespace (hierarchy path prefix).
public struct NamespaceRollup: Sendable, Hashable {
    public var path: String
    public var depth: Int
    public var nodeCount: Int
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var bytes: Double
    public var latencySeconds: Double
    public var energyJoules: Double
}

/// Roll-up by op type.
public struct OpTypeRollup: Sendable, Hashable {
    public var opType: String
    public var count: Int
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var bytes: Double
    public var latencySeconds: Double
}

/// One point of the roofline chart.
public struct RooflinePoint: Sendable, Hashable {
    public var nodeIndex: Int
    public var name: String
    public var opType: String
    public var arithmeticIntensity: Double
    public var attainedFLOPS: Double
    public var bottleneck: Bottleneck
    public var latencySeconds: Double
}

/// Everything `estimate` and `roofline` show.
public struct GraphEstimate: Sendable {
    public var totals: EstimateTotals
    public var hardwareID: String?
    public var hardwareName: String?
    public var precision: Precision
    public var convention: Convention
    /// Confidence of the latency/energy figures (nil without hardware).
    public var confidence: EstimateConfidence?
    /// Per node, in graph order.
    public var nodes: [NodeEstimate]
    /// The k most expensive nodes (by latency with hardware, else by FLOPs).
    public var topK: [NodeEstimate]
    public var namespaces: [NamespaceRollup]
    public var opTypes: [OpTypeRollup]
    public var rooflinePoints: [RooflinePoint]
    public var roofs: RoofLines?
    /// Shape-inference and costing problems, one line each, naming the node.
    public var issues: [String]

    /// Per-node figures by GraphIR node id (nodes of hand-built graphs are left out).
    public var byNode: [NodeID: NodeEstimate] {
        var m: [NodeID: NodeEstimate] = [:]
        for n in nodes { if let id = n.nodeID { m[id] = n } }
        return m
    }

    /// A per-node overlay field (for Model Explorer node data or a colored graph view).
    public func overlay(_ field: OverlayField) -> [NodeID: Double] {
        var m: [NodeID: Double] = [:]
        for n in nodes {
            guard let id = n.nodeID else { continue }
            switch field {
            case .latency: if let l = n.latency { m[id] = l.value }
            case .energy: if let e = n.energy { m[id] = e.value }
            case .flops: m[id] = Double(n.flops)
            case .macs: m[id] = Double(n.macs)
            case .bytes: m[id] = n.bytes
            case .params: m[id] = Double(n.params)
            case .arithmeticIntensity: m[id] = n.arithmeticIntensity
            }
        }
        return m
    }
}

/// Per-node figures available as overlays.
public enum OverlayField: String, Sendable, CaseIterable {
    case latency, energy, flops, macs, bytes, params, arithmeticIntensity = "intensity"
}

public enum GraphEstimator {
    /// Full estimate of a graph.
    public static func estimate(_ g: OpGraph, options o: EstimateOptions) throws -> GraphEstimate {
        let a = try CostAnalysis(graph: g, bindings: o.bindings, inputShapes: o.inputShapes,
                                 options: CostOptions(bytesPrecision: o.precision, transcendentalFLOPs: o.transcendentalFLOPs))
        return try estimate(a, options: o)
    }

    /// Estimate from an existing analysis (hardware/precision/convention may differ per call).
    public static func estimate(_ a: CostAnalysis, options o: EstimateOptions) throws -> GraphEstimate {
        let precision = o.precision ?? a.graphPrecision
        let model = try o.hardware.map { try RooflineModel(target: $0, precision: precision, efficiency: o.efficiency, calibration: o.calibration) }
        let g = a.graph
        var nodes: [NodeEstimate] = []
        nodes.reserveCapacity(g.nodes.count)
        var tot = EstimateTotals(macs: 0, flops: 0, params: 0, bytes: 0, bytesReadActivations: 0, bytesReadWeights: 0, bytesWritten: 0)
        var latency = Estimate.zero, energy = Estimate.zero
        var finish = Array(repeating: 0.0, count: g.nodes.count)
        var critical = 0.0
        var points: [RooflinePoint] = []
        var issues = a.shapes.issues.map { "node \($0.node): \($0.message)" }
        var spaces = NamespaceAccumulator(), ops = OpTypeAccumulator()
        for i in g.nodes.indices {
            let n = g.nodes[i]
            let c = a.costs[i]
            let (macs, flops) = c.counts.figures(o.convention)
            var e = NodeEstimate(index: i, nodeID: n.id, name: n.name, opType: n.opType, path: n.path, macs: macs, flops: flops,
                                 bytesReadActivations: c.bytesReadActivations, bytesReadWeights: c.bytesReadWeights,
                                 bytesWritten: c.bytesWritten, params: o.convention == .onnxTool ? c.constantElements : c.params,
                                 opClass: c.opClass, status: c.status)
            if c.status == .unsupportedOp { issues.append("node \(i): \(n.opType) \"\(n.name)\": no cost formula (bytes only)") }
            if c.status == .controlFlow { issues.append("node \(i): \(n.opType) \"\(n.name)\": subgraph bodies not costed") }
            // time is always priced with graphsmith FLOPs (the work the device does), whatever the reporting convention
            if let timing = model?.time(WorkItem(flops: Double(c.counts.flops), bytes: c.bytes, opClass: c.opClass, gemm: c.gemm)) {
                e.latency = timing.latency; e.energy = timing.energy; e.bottleneck = timing.bottleneck
                latency = latency + timing.latency; energy = energy + timing.energy
                var start = 0.0
                for v in n.inputs where v >= 0 { let p = a.producer[v]; if p >= 0 { start = max(start, finish[p]) } }
                finish[i] = start + timing.latency.value
                critical = max(critical, finish[i])
                if c.opClass != .metadata && c.status == .ok && timing.latency.value > 0 {
                    points.append(RooflinePoint(nodeIndex: i, name: n.name, opType: n.opType,
                                                arithmeticIntensity: c.bytes > 0 ? Double(c.counts.flops) / c.bytes : 0,
                                                attainedFLOPS: Double(c.counts.flops) / timing.latency.value,
                                                bottleneck: timing.bottleneck, latencySeconds: timing.latency.value))
                }
            }
            tot.macs &+= macs; tot.flops &+= flops; tot.params &+= e.params
            tot.bytesReadActivations += c.bytesReadActivations; tot.bytesReadWeights += c.bytesReadWeights
            tot.bytesWritten += c.bytesWritten
            spaces.add(e); ops.add(e)
            nodes.append(e)
        }
        tot.bytes = tot.bytesReadActivations + tot.bytesReadWeights + tot.bytesWritten
        if model != nil { tot.latencySeconds = latency; tot.energyJoules = energy; tot.dependencyCriticalPathSeconds = critical }
        let k = max(o.topK, 0)
        let key: [Double] = nodes.map { model != nil ? ($0.latency?.value ?? 0) : Double($0.flops) }
        let ranked = nodes.indices.sorted { key[$0] != key[$1] ? key[$0] > key[$1] : $0 < $1 }.prefix(k).map { nodes[$0] }
        return GraphEstimate(totals: tot, hardwareID: o.hardware?.id, hardwareName: o.hardware?.name, precision: precision,
                             convention: o.convention, confidence: model != nil ? latency.confidence : nil,
                             nodes: nodes, topK: ranked, namespaces: spaces.result(),
                             opTypes: ops.result(), rooflinePoints: points, roofs: model?.roofs(), issues: issues)
    }

    /// Latency, energy and the weights+activations footprint only: the fast path for sweeps.
    /// `bytesPrecision` re-prices float traffic (nil: as analysed).
    public static func quickTotals(_ a: CostAnalysis, model: RooflineModel, bytesPrecision: Precision? = nil)
        -> (latency: Estimate, energy: Estimate, flops: Double, bytes: Double) {
        var lat = Estimate.zero, en = Estimate.zero, fl = 0.0, by = 0.0
        for c in a.costs {
            let bytes = bytesPrecision.map { c.bytes(at: $0) } ?? c.bytes
            let t = model.time(WorkItem(flops: Double(c.counts.flops), bytes: bytes, opClass: c.opClass, gemm: c.gemm))
            lat = lat + t.latency; en = en + t.energy; fl += Double(c.counts.flops); by += bytes
        }
        return (lat, en, fl, by)
    }

    static func rollups(_ nodes: [NodeEstimate]) -> [NamespaceRollup] {
        var acc = NamespaceAccumulator()
        for n in nodes { acc.add(n) }
        return acc.result()
    }

    static func opRollups(_ nodes: [NodeEstimate]) -> [OpTypeRollup] {
        var acc = OpTypeAccumulator()
        for n in nodes { acc.add(n) }
        return acc.result()
    }
}

/// Accumulates namespace roll-ups node by node (each scope prefix is resolved once per run of
/// consecutive nodes sharing it).
struct NamespaceAccumulator {
    var ids: [String: Int] = [:]
    var out: [NamespaceRollup] = []
    var lastPath: [String] = [], chain: [Int] = []

    mutating func add(_ n: NodeEstimate) {
        if n.path.isEmpty { return }
        if n.path != lastPath {
            chain.removeAll(keepingCapacity: true)
            var prefix = ""
            for (d, comp) in n.path.enumerated() {
                prefix = d == 0 ? comp : prefix + "/" + comp
                if let i = ids[prefix] { chain.append(i) } else {
                    ids[prefix] = out.count; chain.append(out.count)
                    out.append(NamespaceRollup(path: prefix, depth: d + 1, nodeCount: 0, macs: 0, flops: 0, params: 0,
                                               bytes: 0, latencySeconds: 0, energyJoules: 0))
                }
            }
            lastPath = n.path
        }
        let lat = n.latency?.value ?? 0, en = n.energy?.value ?? 0, by = n.bytes
        for i in chain {
            out[i].nodeCount += 1; out[i].macs &+= n.macs; out[i].flops &+= n.flops; out[i].params &+= n.params
            out[i].bytes += by; out[i].latencySeconds += lat; out[i].energyJoules += en
        }
    }

    func result() -> [NamespaceRollup] { out.sorted { $0.path < $1.path } }
}

/// Accumulates per-op-type roll-ups.
struct OpTypeAccumulator {
    var index: [String: Int] = [:]
    var out: [OpTypeRollup] = []

    mutating func add(_ n: NodeEstimate) {
        let i: Int
        if let j = index[n.opType] { i = j } else {
            i = out.count; index[n.opType] = i
            out.append(OpTypeRollup(opType: n.opType, count: 0, macs: 0, flops: 0, params: 0, bytes: 0, latencySeconds: 0))
        }
        out[i].count += 1; out[i].macs &+= n.macs; out[i].flops &+= n.flops; out[i].params &+= n.params
        out[i].bytes += n.bytes; out[i].latencySeconds += n.latency?.value ?? 0
    }

    func result() -> [OpTypeRollup] { out.sorted { $0.macs != $1.macs ? $0.macs > $1.macs : $0.opType < $1.opType } }
}

