/// The results of an estimate as plain values: per-node figures (`NodeEstimate`), totals,
/// rollups by namespace and op type, roofline points, the whole `GraphEstimate` and the overlay
/// fields it exposes. The pipeline that computes them is in GraphEstimator.swift.
import GraphIR

/// Figures of one node.
public struct NodeEstimate: Sendable, Hashable {
    /// Index in `OpGraph.nodes`.
    public var index: Int
    /// The GraphIR node (nil for hand-built `OpGraph`s).
    public var nodeID: NodeID?
    /// Node name.
    public var name: String
    /// Op type.
    public var opType: String
    /// Hierarchy path (scopes).
    public var path: [String]
    /// MACs in the chosen convention.
    public var macs: Int
    /// FLOPs in the chosen convention.
    public var flops: Int
    /// Bytes of activations read.
    public var bytesReadActivations: Double
    /// Bytes of weights read.
    public var bytesReadWeights: Double
    /// Bytes written.
    public var bytesWritten: Double
    /// Parameters (float weight elements; all constant elements in the onnx-tool convention).
    public var params: Int
    /// Kind of work.
    public var opClass: OpClass
    /// Whether the figures are complete.
    public var status: CostStatus
    /// Latency in seconds (with hardware).
    public var latency: Estimate?
    /// Energy in joules (with hardware).
    public var energy: Estimate?
    /// Compute or memory bound (with hardware).
    public var bottleneck: Bottleneck?
    /// FLOPs the roofline priced (graphsmith convention, whatever the reporting convention).
    public var pricedFLOPs: Int = 0
    /// Runs per run of the graph: 1 at top level; inside If/Loop/Scan bodies 0 (branch not
    /// taken), the trip count, or the sequence length. The figures above already include it.
    public var executions = 1
    /// Index (in `GraphEstimate.nodes`) of the If/Loop/Scan whose body holds this node; nil at top level.
    public var parent: Int?
    /// All bytes moved.
    public var bytes: Double { bytesReadActivations + bytesReadWeights + bytesWritten }
    /// FLOPs per byte moved (0 when nothing moves).
    public var arithmeticIntensity: Double { bytes > 0 ? Double(flops) / bytes : 0 }
    /// FLOPs divided by latency: where the node sits under the roofline.
    public var attainedFLOPS: Double? { latency.map { $0.value > 0 ? Double(flops) / $0.value : 0 } }
}

extension NodeEstimate {
    /// Multiplies the work figures by `k` runs (parameters are owned once, not per run).
    mutating func scale(by k: Int) {
        macs = satMul(macs, k); flops = satMul(flops, k); pricedFLOPs = satMul(pricedFLOPs, k)
        let d = Double(k)
        bytesReadActivations *= d; bytesReadWeights *= d; bytesWritten *= d
        latency = latency?.scaled(by: d); energy = energy?.scaled(by: d)
        if k == 0 { params = 0 }
    }

    /// Zeroes the figures (an If/Loop/Scan in roll-ups, where its body nodes carry the work).
    mutating func clearFigures() {
        macs = 0; flops = 0; pricedFLOPs = 0; params = 0; bytesReadActivations = 0; bytesReadWeights = 0; bytesWritten = 0
        latency = latency.map { _ in .zero }; energy = energy.map { _ in .zero }
    }
}

/// Figures of one run of a body, summed as its nodes (nested owners included) go by.
struct BodyFigures {
    var macs = 0, flops = 0, priced = 0
    var bytesReadActivations = 0.0, bytesReadWeights = 0.0, bytesWritten = 0.0
    var latency = Estimate.zero, energy = Estimate.zero

    mutating func add(_ e: NodeEstimate) {
        macs &+= e.macs; flops &+= e.flops; priced &+= e.pricedFLOPs
        bytesReadActivations += e.bytesReadActivations; bytesReadWeights += e.bytesReadWeights; bytesWritten += e.bytesWritten
        if let l = e.latency { latency = latency + l }
        if let en = e.energy { energy = energy + en }
    }

    mutating func add(_ b: BodyFigures, times k: Int) {
        let d = Double(k)
        macs &+= satMul(b.macs, k); flops &+= satMul(b.flops, k); priced &+= satMul(b.priced, k)
        bytesReadActivations += b.bytesReadActivations * d; bytesReadWeights += b.bytesReadWeights * d; bytesWritten += b.bytesWritten * d
        latency = latency + b.latency.scaled(by: d); energy = energy + b.energy.scaled(by: d)
    }

    /// An If whose condition is unknown: the assumed (costlier) branch is the value and the high
    /// end; the other branch may run instead, so the low end comes down to its low end.
    mutating func widenLow(toward other: BodyFigures) {
        latency = Estimate(value: latency.value, low: min(latency.low, other.latency.low), high: latency.high, confidence: latency.confidence)
        energy = Estimate(value: energy.value, low: min(energy.low, other.energy.low), high: energy.high, confidence: energy.confidence)
    }

    func apply(to e: inout NodeEstimate, priced: Bool) {
        e.macs = macs; e.flops = flops; e.pricedFLOPs = self.priced
        e.bytesReadActivations = bytesReadActivations; e.bytesReadWeights = bytesReadWeights; e.bytesWritten = bytesWritten
        if priced { e.latency = latency; e.energy = energy }
    }
}

/// Graph totals.
public struct EstimateTotals: Sendable, Hashable {
    /// MACs in the chosen convention.
    public var macs: Int
    /// FLOPs in the chosen convention.
    public var flops: Int
    /// Parameters (float weight elements; all constant elements in the onnx-tool convention).
    public var params: Int
    /// Bytes moved.
    public var bytes: Double
    /// Bytes of activations read.
    public var bytesReadActivations: Double
    /// Bytes of weights read.
    public var bytesReadWeights: Double
    /// Bytes written.
    public var bytesWritten: Double
    /// Single-stream latency: every node runs one after another, so the stream's critical
    /// path is the sum of node latencies.
    public var latencySeconds: Estimate?
    /// Longest dependency chain (what unlimited parallel streams could reach): a lower bound.
    public var dependencyCriticalPathSeconds: Double?
    /// Energy of all nodes (with hardware).
    public var energyJoules: Estimate?
}

/// Roll-up of a namespace (hierarchy path prefix).
public struct NamespaceRollup: Sendable, Hashable {
    /// Scope path, "/"-joined.
    public var path: String
    /// Number of components in the path.
    public var depth: Int
    /// Nodes at or below the scope.
    public var nodeCount: Int
    /// MACs in the chosen convention.
    public var macs: Int
    /// FLOPs in the chosen convention.
    public var flops: Int
    /// Parameters (float weight elements; all constant elements in the onnx-tool convention).
    public var params: Int
    /// Bytes moved.
    public var bytes: Double
    /// Summed latency in seconds.
    public var latencySeconds: Double
    /// Summed energy in joules.
    public var energyJoules: Double
}

/// Roll-up by op type.
public struct OpTypeRollup: Sendable, Hashable {
    /// Op type.
    public var opType: String
    /// Number of nodes of this op type.
    public var count: Int
    /// MACs in the chosen convention.
    public var macs: Int
    /// FLOPs in the chosen convention.
    public var flops: Int
    /// Parameters (float weight elements; all constant elements in the onnx-tool convention).
    public var params: Int
    /// Bytes moved.
    public var bytes: Double
    /// Summed latency in seconds.
    public var latencySeconds: Double
}

/// One point of the roofline chart.
public struct RooflinePoint: Sendable, Hashable {
    /// Index of the node in the graph.
    public var nodeIndex: Int
    /// Node name.
    public var name: String
    /// Op type.
    public var opType: String
    /// FLOPs per byte.
    public var arithmeticIntensity: Double
    /// FLOPs divided by latency.
    public var attainedFLOPS: Double
    /// Compute or memory bound.
    public var bottleneck: Bottleneck
    /// Summed latency in seconds.
    public var latencySeconds: Double
}

/// Everything `estimate` and `roofline` show.
public struct GraphEstimate: Sendable {
    /// Graph totals.
    public var totals: EstimateTotals
    /// Registry id of the device (nil without hardware).
    public var hardwareID: String?
    /// Display name of the device.
    public var hardwareName: String?
    /// Compute precision used.
    public var precision: Precision
    /// MAC/FLOP convention of the counts.
    public var convention: Convention
    /// Confidence of the latency/energy figures (nil without hardware).
    public var confidence: EstimateConfidence?
    /// Per node, in `OpGraph` order: top-level nodes and If/Loop/Scan body nodes (each body's
    /// nodes just before their owner; see `NodeEstimate.parent` and `executions`).
    public var nodes: [NodeEstimate]
    /// The k most expensive nodes (by latency with hardware, else by FLOPs).
    public var topK: [NodeEstimate]
    /// Roll-ups per hierarchy scope, sorted by path.
    public var namespaces: [NamespaceRollup]
    /// Roll-ups per op type, by MACs.
    public var opTypes: [OpTypeRollup]
    /// One chart point per priced node (built on demand from `nodes`).
    public var rooflinePoints: [RooflinePoint] {
        nodes.compactMap { n in
            guard let lat = n.latency?.value, lat > 0, let b = n.bottleneck, n.opClass != .metadata, n.status == .ok else { return nil }
            return RooflinePoint(nodeIndex: n.index, name: n.name, opType: n.opType,
                                 arithmeticIntensity: n.bytes > 0 ? Double(n.pricedFLOPs) / n.bytes : 0,
                                 attainedFLOPS: Double(n.pricedFLOPs) / lat, bottleneck: b, latencySeconds: lat)
        }
    }
    /// Roof lines for the chart (with hardware).
    public var roofs: RoofLines?
    /// Shape-inference and costing problems, one line each, naming the node.
    public var issues: [String]
    /// Samples per run (see `InputBinding.batchSize`): throughput is this over latency.
    public var batchSize = 1

    /// Samples per second on the device: `batchSize` over the single-stream latency (nil without hardware).
    public var throughput: Double? {
        guard let l = totals.latencySeconds?.value, l > 0 else { return nil }
        return Double(batchSize) / l
    }

    /// Per-node figures by GraphIR node id (nodes of hand-built graphs are left out); includes
    /// subgraph nodes, whose ids are unique across a model read from ONNX.
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
