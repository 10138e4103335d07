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
    /// Binds the leading dimension of every graph input, whatever its name (see `InputBinding`).
    public var batch: Int?
    /// Which MAC/FLOP convention totals use.
    public var convention: Convention = .graphsmith
    /// Compute precision, and the byte size of float tensors; nil = the graph's own float types
    /// for bytes and its dominant float type for compute.
    public var precision: Precision?
    /// Device for latency and energy; nil gives counts only.
    public var hardware: HardwareTarget?
    /// Achievable fractions of peak (priors).
    public var efficiency: Efficiency = .default
    /// Measured corrections, when available.
    public var calibration: Calibration?
    /// Number of nodes in `GraphEstimate.topK`.
    public var topK = 10
    /// FLOPs per element for transcendental functions (see `CostOptions`).
    public var transcendentalFLOPs = 1
    /// Count traffic only at fusion boundaries (see `CostOptions.fuseElementwise`).
    public var fuseElementwise = false

    /// Options; the rest keep their defaults.
    public init(bindings: [String: Int] = [:], convention: Convention = .graphsmith, precision: Precision? = nil,
                hardware: HardwareTarget? = nil) {
        self.bindings = bindings; self.convention = convention; self.precision = precision; self.hardware = hardware
    }
}

/// Shapes and per-node costs for one binding: the hardware-independent half of an estimate,
/// reusable across devices and precisions (what sweeps cache).
public struct CostAnalysis: Sendable {
    /// The analysed graph.
    public let graph: OpGraph
    /// Inferred shapes and constants.
    public let shapes: ShapeTable
    /// Per-node costs of one execution, in node order (If/Loop/Scan nodes cost nothing themselves).
    public let costs: [NodeCost]
    /// How many times each node runs per run of the graph: 1 at top level; inside bodies the
    /// product of `regionRuns` along the nesting (0 in an If branch not taken, the trip count in
    /// a Loop body, the sequence length in a Scan body).
    public let executions: [Int]
    /// The innermost body region of each node (-1: top level); empty when the graph has no bodies.
    public let nodeRegion: [Int]
    /// Runs of each `OpGraph.regions` body per run of its owner.
    public let regionRuns: [Int]
    /// Ifs whose condition is not known: owner node index -> the branch region *not* assumed
    /// (the costlier branch is assumed; the other one sets the low end of the interval).
    public let uncertainBranches: [Int: Int]
    /// Notes on control flow (which branch was assumed, unknown trip counts), by node index.
    public let controlNotes: [(node: Int, message: String)]
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

    /// Samples per run of the graph: what `batch=` bound, else the first input's leading dim.
    public var batchSize: Int { shapes.batchSize }

    /// Peak bytes of live activations when nodes run in graph order (a value lives from its
    /// producer to its last consumer; graph inputs from the start, graph outputs to the end).
    public let peakActivationBytes: Double

    /// Runs shape inference and the cost model.
    public init(graph g: OpGraph, bindings: [String: Int] = [:], inputShapes: [String: [Int]] = [:], batch: Int? = nil,
                options: CostOptions = CostOptions()) throws {
        let t = try ShapeBinding.run(g, bindings: bindings, inputShapes: inputShapes, batch: batch)
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
        var costs = CostAnalysis.parallelMap(count: g.nodes.count) { i in
            CostModel.cost(g.nodes[i], index: i, graph: g, shapes: t, owned: owned[ownedStart[i]..<ownedStart[i + 1]], options: options)
        }
        if options.fuseElementwise { CostAnalysis.fuse(g, t, producer, &costs, floatBytes: options.bytesPrecision?.bytesPerElement) }
        let flow = CostAnalysis.controlFlow(g, t, &costs)
        executions = flow.executions; nodeRegion = flow.nodeRegion; regionRuns = flow.regionRuns
        uncertainBranches = flow.uncertain; controlNotes = flow.notes
        let executions = flow.executions
        graph = g; shapes = t; self.costs = costs; self.producer = producer
        weightBytes = g.nodes.indices.reduce(0) { executions[$1] > 0 ? $0 + costs[$1].bytesReadWeights : $0 }
        peakActivationBytes = CostAnalysis.peakLive(g, t, bytesPrecision: options.bytesPrecision, executions: executions).bytes
        var wf = 0.0, wo = 0.0
        for i in g.nodes.indices where !t.folded[i] && !g.nodes[i].traits.isMetadata && executions[i] > 0 {
            for v in g.nodes[i].inputs where v >= 0 && t.isConstant[v] {
                guard t.elementCounts[v] >= 0 else { continue }
                let e = Double(t.elementCounts[v])
                if t.isFloat[v] { wf += e } else { wo += e * Double(t.elementBits[v] == 0 ? 32 : t.elementBits[v]) / 8 }
            }
        }
        weightFloatElements = wf; weightOtherBytes = wo
        let live = CostAnalysis.peakLive(g, t, bytesPrecision: .fp32, executions: executions)
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
    /// Removes the memory traffic of tensors passed from a producer straight into its only
    /// consumer when that consumer is element-wise (see `CostOptions.fuseElementwise`).
    static func fuse(_ g: OpGraph, _ t: ShapeTable, _ producer: [Int], _ costs: inout [NodeCost], floatBytes: Double?) {
        var uses = Array(repeating: 0, count: g.values.count)
        for n in g.nodes { for v in n.inputs where v >= 0 { uses[v] += 1 } }
        for v in g.outputs where v >= 0 { uses[v] += 1 }          // graph outputs must reach memory
        // a body runs its own number of times: no fusion across a body's boundary
        let region = g.regionOfNodes()
        for i in g.nodes.indices where costs[i].opClass == .elementwise && costs[i].status == .ok {
            for v in g.nodes[i].inputs where v >= 0 && !t.isConstant[v] && uses[v] == 1 {
                let p = producer[v]
                guard p >= 0, region[p] == region[i], costs[p].status == .ok,
                      [.matmul, .elementwise].contains(costs[p].opClass), t.elementCounts[v] >= 0 else { continue }
                let bits = t.elementBits[v] == 0 ? 32 : t.elementBits[v]
                let n = Double(t.elementCounts[v])
                let bytes = n * (t.isFloat[v] ? (floatBytes ?? Double(bits) / 8) : Double(bits) / 8)
                costs[i].bytesReadActivations -= bytes
                costs[p].bytesWritten -= bytes
                if t.isFloat[v] { costs[i].floatElementsMoved -= n; costs[p].floatElementsMoved -= n }
                else { costs[i].nonFloatBytesMoved -= bytes; costs[p].nonFloatBytesMoved -= bytes }
            }
        }
    }

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
                    guard let p = UnsafeMutablePointer<T>(bitPattern: address) else { return }
                    for i in c * chunk..<min(count, (c + 1) * chunk) { (p + i).initialize(to: body(i)) }
                }
                initialized = count
            }
        }
    }

    /// Decides how often every body runs (see `executions`): per If, the branch its condition
    /// selects, or the costlier one (by FLOPs, then bytes) when the condition is unknown; per
    /// Loop, the trip count (1 when unknown); per Scan, the sequence length. Owners come after
    /// their bodies, so one forward pass sees each body's per-run cost before its owner. Then
    /// re-assigns parameter ownership so weights of bodies that never run count nowhere.
    static func controlFlow(_ g: OpGraph, _ t: ShapeTable, _ costs: inout [NodeCost])
        -> (executions: [Int], nodeRegion: [Int], regionRuns: [Int], uncertain: [Int: Int], notes: [(node: Int, message: String)]) {
        guard !g.regions.isEmpty else { return (Array(repeating: 1, count: g.nodes.count), [], [], [:], []) }
        let region = g.regionOfNodes()
        var ownerRegions: [Int: [Int]] = [:]
        for (r, reg) in g.regions.enumerated() { ownerRegions[reg.owner, default: []].append(r) }
        var weight = Array(repeating: (flops: 0.0, bytes: 0.0), count: g.regions.count)   // per run of the region
        var runs = Array(repeating: 1, count: g.regions.count)
        var uncertain: [Int: Int] = [:]
        var notes: [(node: Int, message: String)] = []
        for i in g.nodes.indices {
            let n = g.nodes[i]
            var w = (flops: Double(costs[i].counts.flops), bytes: costs[i].bytes)
            if n.traits.isControlFlow, let regs = ownerRegions[i] {
                let facts = t.controlFlow[i] ?? ControlFlowFacts()
                let label = "\(n.opType) \"\(n.name)\""
                if n.opType == "If" {
                    let thenR = regs.first { g.regions[$0].kind == .thenBranch }, elseR = regs.first { g.regions[$0].kind == .elseBranch }
                    let taken: Int?
                    if let c = facts.condition { taken = c ? thenR : elseR } else {
                        let none = (flops: 0.0, bytes: 0.0)
                        let wt = thenR.map { weight[$0] } ?? none, we = elseR.map { weight[$0] } ?? none
                        let thenCostlier = wt.flops != we.flops ? wt.flops > we.flops : wt.bytes >= we.bytes
                        taken = thenCostlier ? thenR : elseR
                        let other = thenCostlier ? elseR : thenR
                        if let other { uncertain[i] = other }
                        let (a, b) = thenCostlier ? (wt, we) : (we, wt)
                        notes.append((i, "\(label): condition unknown at estimate time; assumed the costlier "
                            + "\(thenCostlier ? "then_branch" : "else_branch") (\(Int(a.flops)) vs \(Int(b.flops)) FLOPs per run); "
                            + "the latency/energy interval spans both branches; bind the input the condition depends on to choose"))
                    }
                    for r in regs { runs[r] = r == taken ? 1 : 0 }
                    w = taken.map { weight[$0] } ?? (0, 0)
                } else {
                    let trips: Int
                    if let k = facts.trips { trips = k } else {
                        trips = 1
                        let hint = n.opType == "Loop"
                            ? "trip count unknown (M is not a known constant); assumed 1 iteration; bind \(n.name.isEmpty ? "the M input's name" : n.name)=N to set it"
                            : "sequence length unknown (scan input shape unknown); assumed 1 step"
                        notes.append((i, "\(label): \(hint)"))
                    }
                    for r in regs { runs[r] = trips }
                    w = (0, 0)
                    for r in regs { w.flops += weight[r].flops * Double(trips); w.bytes += weight[r].bytes * Double(trips) }
                }
            }
            if region[i] >= 0 { weight[region[i]].flops += w.flops; weight[region[i]].bytes += w.bytes }
        }
        // runs per graph run, outer regions first (pre-order)
        var regionExec = Array(repeating: 1, count: g.regions.count)
        for (r, reg) in g.regions.enumerated() {
            let o = reg.owner
            let outer = o >= 0 && o < region.count && region[o] >= 0 && region[o] < r ? regionExec[region[o]] : 1
            regionExec[r] = satMul(outer, runs[r])
        }
        let executions = region.map { $0 >= 0 ? regionExec[$0] : 1 }
        if executions.contains(0) {
            // weights belong to their first consumer that runs
            var seen = Array(repeating: false, count: g.values.count)
            for i in g.nodes.indices {
                costs[i].params = 0; costs[i].constantElements = 0
                guard executions[i] > 0, !t.folded[i] else { continue }
                for v in g.nodes[i].inputs where v >= 0 && t.isConstant[v] && !seen[v] {
                    seen[v] = true
                    let e = t.elementCounts[v]
                    guard e >= 0 else { continue }
                    costs[i].constantElements &+= e
                    if t.isFloat[v] { costs[i].params &+= e }
                }
            }
        }
        return (executions, region, runs, uncertain, notes)
    }

    /// Peak live activation bytes, and (at that peak) how many are float elements vs other bytes.
    /// Nodes that never run (an If branch not taken) allocate nothing.
    static func peakLive(_ g: OpGraph, _ t: ShapeTable, bytesPrecision: Precision?, executions: [Int]) -> (bytes: Double, floatElements: Double, otherBytes: Double) {
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
            for v in g.nodes[i].outputs where v >= 0 && last[v] >= 0 && executions[i] > 0 { let b = size(v); add(&live, b); add(&freeAt[last[v]], b) }
            if live.0 > peak.0 { peak = live }
            live.0 -= freeAt[i].0; live.1 -= freeAt[i].1; live.2 -= freeAt[i].2
        }
        return peak
    }
}

/// Entry points of the estimate pipeline.
public enum GraphEstimator {
    /// Full estimate of a graph.
    public static func estimate(_ g: OpGraph, options o: EstimateOptions) throws -> GraphEstimate {
        let a = try CostAnalysis(graph: g, bindings: o.bindings, inputShapes: o.inputShapes, batch: o.batch,
                                 options: CostOptions(bytesPrecision: o.precision, transcendentalFLOPs: o.transcendentalFLOPs,
                                                      fuseElementwise: o.fuseElementwise))
        return try estimate(a, options: o)
    }

    /// Estimate from an existing analysis (hardware/precision/convention may differ per call).
    ///
    /// Nodes inside If/Loop/Scan bodies are reported with their figures per run of the graph
    /// (one execution × `executions`: zero in a branch not taken, × trips in a Loop body), and each
    /// If/Loop/Scan node carries the roll-up of what its bodies run. Totals are the top-level
    /// nodes' figures, so each body figure counts once; roll-ups by namespace and op type count
    /// the body nodes themselves (an If/Loop/Scan adds only its node count).
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
        // problems inside bodies that do not run (an If branch not taken) are not the user's concern
        var issues = g.conversionIssues + a.shapes.inputNotes + a.shapes.issues.filter { a.executions[$0.node] > 0 }.map { "node \($0.node): \($0.message)" }
        issues += a.controlNotes.filter { a.executions[$0.node] > 0 }.map { "node \($0.node): \($0.message)" }
        var spaces = NamespaceAccumulator(), ops = OpTypeAccumulator()
        let pricing = model?.pricing
        // control flow: per-run figures of each body, accumulated as its nodes go by
        let hasBodies = !g.regions.isEmpty
        var perRun = Array(repeating: BodyFigures(), count: g.regions.count)
        var ownerRegions: [Int: [Int]] = [:]
        for (r, reg) in g.regions.enumerated() { ownerRegions[reg.owner, default: []].append(r) }
        var regionStart = Array(repeating: -1.0, count: g.regions.count), regionEnd = Array(repeating: 0.0, count: g.regions.count)
        func startOf(_ r: Int) -> Double {
            if regionStart[r] >= 0 { return regionStart[r] }
            let owner = g.regions[r].owner
            var s = 0.0
            if owner >= 0 && owner < g.nodes.count {
                let outer = a.nodeRegion[owner]
                if outer >= 0 && outer < r { s = startOf(outer) }
                for v in g.nodes[owner].inputs where v >= 0 { let p = a.producer[v]; if p >= 0 && p < owner { s = max(s, finish[p]) } }
            }
            regionStart[r] = s
            return s
        }
        for i in g.nodes.indices {
            let n = g.nodes[i]
            let c = a.costs[i]
            let (macs, flops) = c.counts.figures(o.convention)
            var e = NodeEstimate(index: i, nodeID: n.id, name: n.name, opType: n.opType, path: n.path, macs: macs, flops: flops,
                                 bytesReadActivations: c.bytesReadActivations, bytesReadWeights: c.bytesReadWeights,
                                 bytesWritten: c.bytesWritten, params: o.convention == .onnxTool ? c.constantElements : c.params,
                                 opClass: c.opClass, status: c.status)
            e.pricedFLOPs = c.counts.flops
            let region = hasBodies ? a.nodeRegion[i] : -1
            let runs = a.executions[i]
            if c.status == .unsupportedOp && runs > 0 { issues.append("node \(i): \(n.opType) \"\(n.name)\": no cost formula (bytes only)") }
            var timing: NodeTiming?
            // time is always priced with graphsmith FLOPs (the work the device does), whatever the reporting convention
            if let pricing { timing = pricing.time(WorkItem(flops: Double(c.counts.flops), bytes: c.bytes, opClass: c.opClass, gemm: c.gemm)) }
            if let timing { e.latency = timing.latency; e.energy = timing.energy; e.bottleneck = timing.bottleneck }
            let container = hasBodies && c.status == .controlFlow ? ownerRegions[i] : nil
            if let regs = container {
                // the owner's figures per run: what its bodies run (params stay with the body nodes)
                var sum = BodyFigures()
                for r in regs where a.regionRuns[r] > 0 { sum.add(perRun[r], times: a.regionRuns[r]) }
                if let other = a.uncertainBranches[i] { sum.widenLow(toward: perRun[other]) }
                sum.apply(to: &e, priced: pricing != nil)
                e.bottleneck = nil
            }
            if region >= 0 { perRun[region].add(e) }
            // per run of the graph
            if runs != 1 { e.scale(by: runs) }
            if hasBodies {
                e.executions = runs
                if region >= 0 { e.parent = g.regions[region].owner }
            }
            if pricing != nil {
                var start = region >= 0 ? startOf(region) : 0
                for v in n.inputs where v >= 0 { let p = a.producer[v]; if p >= 0 && p < i { start = max(start, finish[p]) } }
                if let regs = container {
                    finish[i] = regs.reduce(start) { max($0, regionEnd[$1]) }
                } else {
                    finish[i] = start + (e.latency?.value ?? 0)
                }
                if region >= 0 { regionEnd[region] = max(regionEnd[region], finish[i]) }
                critical = max(critical, finish[i])
            }
            if region < 0 {
                if let l = e.latency { latency = latency + l }
                if let en = e.energy { energy = energy + en }
                tot.macs &+= e.macs; tot.flops &+= e.flops
                tot.bytesReadActivations += e.bytesReadActivations; tot.bytesReadWeights += e.bytesReadWeights
                tot.bytesWritten += e.bytesWritten
            }
            if container != nil {
                var countOnly = e
                countOnly.clearFigures()
                spaces.add(countOnly); ops.add(countOnly)
            } else if runs > 0 {
                tot.params &+= e.params
                spaces.add(e); ops.add(e)
            }
            nodes.append(e)
        }
        tot.bytes = tot.bytesReadActivations + tot.bytesReadWeights + tot.bytesWritten
        if model != nil { tot.latencySeconds = latency; tot.energyJoules = energy; tot.dependencyCriticalPathSeconds = critical }
        let k = max(o.topK, 0)
        let key: [Double] = nodes.map { model != nil ? ($0.latency?.value ?? 0) : Double($0.flops) }
        // containers repeat their bodies' figures: rank the nodes that do the work
        let candidates = hasBodies ? nodes.indices.filter { nodes[$0].status != .controlFlow } : Array(nodes.indices)
        let ranked = candidates.sorted { key[$0] != key[$1] ? key[$0] > key[$1] : $0 < $1 }.prefix(k).map { nodes[$0] }
        var result = GraphEstimate(totals: tot, hardwareID: o.hardware?.id, hardwareName: o.hardware?.name, precision: precision,
                                   convention: o.convention, confidence: model != nil ? latency.confidence : nil,
                                   nodes: nodes, topK: ranked, namespaces: spaces.result(),
                                   opTypes: ops.result(), roofs: model?.roofs(), issues: issues)
        result.batchSize = a.batchSize
        return result
    }

    /// Latency, energy and the weights+activations footprint only: the fast path for sweeps.
    /// `bytesPrecision` re-prices float traffic (nil: as analysed).
    public static func quickTotals(_ a: CostAnalysis, model: RooflineModel, bytesPrecision: Precision? = nil)
        -> (latency: Estimate, energy: Estimate, flops: Double, bytes: Double) {
        let model = model.pricing
        var lat = Estimate.zero, en = Estimate.zero, fl = 0.0, by = 0.0
        for (i, c) in a.costs.enumerated() {
            let runs = a.executions[i]
            if runs == 0 { continue }
            let bytes = bytesPrecision.map { c.bytes(at: $0) } ?? c.bytes
            let t = model.time(WorkItem(flops: Double(c.counts.flops), bytes: bytes, opClass: c.opClass, gemm: c.gemm))
            if runs == 1 {
                lat = lat + t.latency; en = en + t.energy; fl += Double(c.counts.flops); by += bytes
            } else {
                let r = Double(runs)
                lat = lat + t.latency.scaled(by: r); en = en + t.energy.scaled(by: r); fl += Double(c.counts.flops) * r; by += bytes * r
            }
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

extension EstimateOptions {
    /// Parses dimension bindings as a user types them: `["batch=8", "seq=512"]` (or one
    /// string `"batch=8 seq=512"`). Errors name the offending word.
    public static func parseBindings(_ words: [String]) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for word in words.flatMap({ $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }) {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw EstimationError.badBinding("\"\(word)\" is not NAME=SIZE") }
            guard let v = Int(parts[1]), v > 0 else { throw EstimationError.badBinding("\(parts[0]): \"\(parts[1])\" is not a positive integer") }
            out[parts[0]] = v
        }
        return out
    }
}
