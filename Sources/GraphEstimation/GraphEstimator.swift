import GraphIR

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
    /// Peak bytes of live activations when nodes run in graph order (a value lives from its
    /// producer to its last consumer; graph inputs from the start, graph outputs to the end).
    public let peakActivationBytes: Double

    /// Runs shape inference and the cost model.
    public init(graph g: OpGraph, bindings: [String: Int] = [:], inputShapes: [String: [Int]] = [:],
                options: CostOptions = CostOptions()) throws {
        let t = try ShapeInference.run(g, bindings: bindings, inputShapes: inputShapes)
        var producer = Array(repeating: -1, count: g.values.count)
        for (i, n) in g.nodes.enumerated() { for o in n.outputs where o >= 0 { producer[o] = i } }
        var seen = Array(repeating: false, count: g.values.count)
        var costs: [NodeCost] = []
        costs.reserveCapacity(g.nodes.count)
        var bitsCount: [Int: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            var owned = Array(repeating: false, count: n.inputs.count)
            if !t.folded[i] {
                for (k, v) in n.inputs.enumerated() where v >= 0 && t.isConstant[v] && !seen[v] {
                    owned[k] = true; seen[v] = true
                    if t.isFloat[v], let s = t.shapes[v] { bitsCount[t.elementBits[v], default: 0] += ShapeInference.volume(s) }
                }
            }
            costs.append(CostModel.cost(n, index: i, graph: g, shapes: t, owned: owned, options: options))
        }
        graph = g; shapes = t; self.costs = costs; self.producer = producer
        weightBytes = costs.reduce(0) { $0 + $1.bytesReadWeights }
        peakActivationBytes = CostAnalysis.peakLive(g, t, bytesPrecision: options.bytesPrecision)
        switch bitsCount.max(by: { $0.value < $1.value })?.key {
        case 16?: graphPrecision = .fp16
        case 64?: graphPrecision = .fp64
        case 8?: graphPrecision = .fp8
        default: graphPrecision = .fp32
        }
    }
}

extension CostAnalysis {
    static func peakLive(_ g: OpGraph, _ t: ShapeTable, bytesPrecision: Precision?) -> Double {
        var last = Array(repeating: -1, count: g.values.count)
        for (i, n) in g.nodes.enumerated() { for v in n.inputs where v >= 0 { last[v] = i } }
        for v in g.outputs where v >= 0 { last[v] = g.nodes.count }
        func size(_ v: Int) -> Double {
            guard v >= 0, !t.isConstant[v], let s = t.shapes[v] else { return 0 }
            let per = (t.isFloat[v] ? bytesPrecision?.bytesPerElement : nil) ?? Double(t.elementBits[v] == 0 ? 32 : t.elementBits[v]) / 8
            return Double(ShapeInference.volume(s)) * per
        }
        var live = 0.0
        for v in g.inputs { live += size(v) }
        var peak = live
        var freeAt = Array(repeating: 0.0, count: g.nodes.count + 1)
        for v in g.inputs where last[v] >= 0 { freeAt[last[v]] += size(v) }
        for (i, n) in g.nodes.enumerated() {
            // outputs of metadata ops (reshape...) are counted as copies: an upper bound
            for v in n.outputs where v >= 0 && last[v] >= 0 { let b = size(v); live += b; freeAt[last[v]] += b }
            peak = max(peak, live)
            live -= freeAt[i]
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
        for (i, n) in g.nodes.enumerated() {
            let c = a.costs[i]
            let (macs, flops) = c.counts.figures(o.convention)
            var e = NodeEstimate(index: i, nodeID: n.id, name: n.name, opType: n.opType, path: n.path, macs: macs, flops: flops,
                                 bytesReadActivations: c.bytesReadActivations, bytesReadWeights: c.bytesReadWeights,
                                 bytesWritten: c.bytesWritten, params: o.convention == .onnxTool ? c.constantElements : c.params,
                                 opClass: c.opClass, status: c.status)
            if c.status == .unsupportedOp { issues.append("node \(i): \(n.opType) \"\(n.name)\": no cost formula (bytes only)") }
            if c.status == .controlFlow { issues.append("node \(i): \(n.opType) \"\(n.name)\": subgraph bodies not costed") }
            if let model {
                // time is always priced with graphsmith FLOPs (the work the device does), whatever the reporting convention
                let w = WorkItem(flops: Double(c.counts.flops), bytes: c.bytes, opClass: c.opClass, gemm: c.gemm)
                let timing = model.time(w)
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
            nodes.append(e)
        }
        tot.bytes = tot.bytesReadActivations + tot.bytesReadWeights + tot.bytesWritten
        if model != nil { tot.latencySeconds = latency; tot.energyJoules = energy; tot.dependencyCriticalPathSeconds = critical }
        let k = max(o.topK, 0)
        let ranked = model != nil ? nodes.sorted { ($0.latency?.value ?? 0) > ($1.latency?.value ?? 0) }
                                  : nodes.sorted { $0.flops > $1.flops }
        return GraphEstimate(totals: tot, hardwareID: o.hardware?.id, hardwareName: o.hardware?.name, precision: precision,
                             convention: o.convention, confidence: model != nil ? latency.confidence : nil,
                             nodes: nodes, topK: Array(ranked.prefix(k)), namespaces: rollups(nodes),
                             opTypes: opRollups(nodes), rooflinePoints: points, roofs: model?.roofs(), issues: issues)
    }

    /// Latency, energy and the weights+activations footprint only: the fast path for sweeps.
    public static func quickTotals(_ a: CostAnalysis, model: RooflineModel) -> (latency: Estimate, energy: Estimate, flops: Double, bytes: Double) {
        var lat = Estimate.zero, en = Estimate.zero, fl = 0.0, by = 0.0
        for c in a.costs {
            let t = model.time(WorkItem(flops: Double(c.counts.flops), bytes: c.bytes, opClass: c.opClass, gemm: c.gemm))
            lat = lat + t.latency; en = en + t.energy; fl += Double(c.counts.flops); by += c.bytes
        }
        return (lat, en, fl, by)
    }

    static func rollups(_ nodes: [NodeEstimate]) -> [NamespaceRollup] {
        var map: [String: NamespaceRollup] = [:]
        for n in nodes where !n.path.isEmpty {
            var prefix = ""
            for (d, comp) in n.path.enumerated() {
                prefix = d == 0 ? comp : prefix + "/" + comp
                var r = map[prefix] ?? NamespaceRollup(path: prefix, depth: d + 1, nodeCount: 0, macs: 0, flops: 0, params: 0,
                                                       bytes: 0, latencySeconds: 0, energyJoules: 0)
                r.nodeCount += 1; r.macs &+= n.macs; r.flops &+= n.flops; r.params &+= n.params; r.bytes += n.bytes
                r.latencySeconds += n.latency?.value ?? 0; r.energyJoules += n.energy?.value ?? 0
                map[prefix] = r
            }
        }
        return map.values.sorted { $0.path < $1.path }
    }

    static func opRollups(_ nodes: [NodeEstimate]) -> [OpTypeRollup] {
        var map: [String: OpTypeRollup] = [:]
        for n in nodes {
            var r = map[n.opType] ?? OpTypeRollup(opType: n.opType, count: 0, macs: 0, flops: 0, params: 0, bytes: 0, latencySeconds: 0)
            r.count += 1; r.macs &+= n.macs; r.flops &+= n.flops; r.params &+= n.params; r.bytes += n.bytes
            r.latencySeconds += n.latency?.value ?? 0
            map[n.opType] = r
        }
        return map.values.sorted { $0.macs != $1.macs ? $0.macs > $1.macs : $0.opType < $1.opType }
    }
}
