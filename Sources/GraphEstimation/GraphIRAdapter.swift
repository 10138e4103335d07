import Foundation
import GraphIR
import GraphOps

/// Builds the estimator's `OpGraph` from a `GraphIR.Graph`: values get indices, declared
/// types become shapes with symbols, initializers become constants, attributes are converted
/// to the few kinds the cost model reads (tensors described, never decoded), and each node keeps its `NodeID`, its `displayName` (the name
/// the drawing and node lookups use) and hierarchy path.
/// If/Loop/Scan bodies are flattened in: each body becomes a `ControlRegion` whose nodes come
/// right before their owner, its nodes' paths start with the body's `NodeCatalog` path
/// (`If_0/then_branch/...`), names resolve innermost scope first (outer-scope references
/// become the enclosing graph's values), and body nodes keep their NodeIDs when those are
/// unique across the model (the ONNX reader makes them so).
/// Shapes come from GraphOps' symbolic inference of the graph (run here once, or passed in when
/// the caller already holds it), laid out per value (`SymbolicShapes`).
extension OpGraph {
    /// Converts a model's main graph, inferring it with the model's opsets and local functions.
    /// - Parameter inference: the model's `ShapeInference.infer` result when the caller has it.
    public init(_ model: Model, inference: InferenceResult? = nil) {
        var opsets: [String: Int64] = [:]
        for o in model.opsetImports { opsets[o.domain == "ai.onnx" ? "" : o.domain] = o.version }
        self.init(model.graph, opsets: opsets, functions: model.functions, inference: inference)
    }

    /// Converts a GraphIR graph.
    /// - Parameters:
    ///   - opsets: opset per domain (`""` for ai.onnx) for inference; empty means the newest rules.
    ///   - functions: model-local functions the graph calls.
    ///   - inference: `ShapeInference.infer` of this graph when the caller has it (else run here).
    public init(_ graph: Graph, opsets: [String: Int64] = [:], functions: [Function] = [], inference: InferenceResult? = nil) {
        self.init()
        source = graph; self.opsets = opsets; self.functions = functions
        var index: [String: Int] = [:]
        index.reserveCapacity(graph.nodes.count * 2 + graph.initializers.count + graph.inputs.count)
        values.reserveCapacity(graph.nodes.count * 2 + graph.initializers.count + graph.inputs.count)
        nodes.reserveCapacity(graph.nodes.count)

        let dims = OpGraph.dims, info = OpGraph.info
        // Declared values are registered up front, so any other name is an untyped intermediate
        // (one hash per use instead of three).
        func valueIndex(_ name: String) -> Int {
            if let i = index[name] { return i }
            let i = addValue(ValueDesc(name: name, shape: nil, elementBits: 0, isFloat: false))
            index[name] = i
            return i
        }
        // Node outputs are almost always new names: insert with one hash, and undo in the rare
        // case the name was already known (declared in value_info, or a duplicate).
        func outputIndex(_ name: String) -> Int {
            let fresh = values.count
            if let known = index.updateValue(fresh, forKey: name) { index[name] = known; return known }
            return addValue(ValueDesc(name: name, shape: nil, elementBits: 0, isFloat: false))
        }
        for t in graph.initializers {
            let (bits, isFloat) = info(t.elementType)
            index[t.name] = addValue(ValueDesc(name: t.name, shape: t.dims.map { .known($0) }, elementBits: bits,
                                               isFloat: isFloat, isConstant: true))
        }
        for s in graph.sparseInitializers {
            let (bits, isFloat) = info(s.values.elementType)
            index[s.name] = addValue(ValueDesc(name: s.name, shape: s.dims.map { .known($0) }, elementBits: bits,
                                               isFloat: isFloat, isConstant: true))
        }
        for vi in graph.inputs + graph.outputs + graph.valueInfo where !vi.name.isEmpty && index[vi.name] == nil {
            let (bits, isFloat) = info(vi.type?.elementType)
            index[vi.name] = addValue(ValueDesc(name: vi.name, shape: dims(vi.type?.shape), elementBits: bits, isFloat: isFloat))
        }
        for i in graph.inputs where !i.name.isEmpty { inputs.append(valueIndex(i.name)) }
        var paths = ScopeCache()
        var catalog: NodeCatalog?
        // Read fields through a buffer pointer: binding a GraphIR `Node` to a local would copy all of
        // its fields (a dozen reference counts) for every node.
        graph.nodes.withUnsafeBufferPointer { gn in
            for i in gn.indices {
                // bodies first: their nodes go right before the owner (see `ControlRegion`)
                var bodies: [Int] = []
                if gn[i].hasSubgraphs && OpTraits.of(gn[i].opType).isControlFlow {
                    // Body paths come from the catalog, so estimates and node lookups name bodies alike.
                    if catalog == nil { catalog = NodeCatalog(graph) }
                    for b in gn[i].labeledSubgraphs {
                        guard let kind = ControlRegion.kind(op: gn[i].opType, attribute: b.attribute), let catalog else { continue }
                        bodies.append(appendBody(b.graph, kind: kind, parent: -1, frames: [index], catalog: catalog,
                                                 steps: [BodyStep(owner: gn[i].id, attribute: b.attribute, index: b.index)]))
                    }
                }
                for r in bodies { regions[r].owner = nodes.count }
                let attrs = gn[i].attributes.map {
                    NamedAttribute(name: $0.name, value: OpGraph.convert($0.value))
                }
                let ins = gn[i].inputs.map { $0.isEmpty ? -1 : valueIndex($0) }
                let outs = gn[i].outputs.map { $0.isEmpty ? -1 : outputIndex($0) }
                addNode(OpNode(id: gn[i].id, opType: gn[i].opType, domain: gn[i].domain, name: gn[i].displayName,
                               path: paths.path(gn, i), attributeList: attrs, inputs: ins, outputs: outs))
            }
        }
        for o in graph.outputs where !o.name.isEmpty { outputs.append(valueIndex(o.name)) }
        if !regions.isEmpty { checkBodyIDs(topLevel: graph.nodes) }
        symbolic = SymbolicShapes(self, inference ?? ShapeInference.infer(graph, opsets: opsets, functions: functions))
    }

    static func dims(_ shape: TensorShape?) -> [Dim]? {
        shape.map { s in s.dims.map { d -> Dim in
            if case .symbolic(let n) = d, n.isEmpty { return .unknown }
            return d
        } }
    }
    static func info(_ e: ElementType?) -> (Int, Bool) { (e?.bitWidth ?? 0, e?.isFloatingPoint ?? false) }

    /// Flattens one body into `nodes` (nested bodies first, recursively) and returns its region.
    /// `frames` are the enclosing scopes' name tables, outermost first; `steps` lead to the body,
    /// whose `NodeCatalog` path (`If_0/then_branch`) its nodes' own paths go under.
    mutating func appendBody(_ b: Graph, kind: ControlRegion.Kind, parent: Int, frames: [[String: Int]],
                             catalog: NodeCatalog, steps: [BodyStep]) -> Int {
        let bodyPath = catalog.body(at: steps).map { catalog.bodies[$0].path } ?? []
        let r = addRegion(ControlRegion(kind: kind, owner: -1, parent: parent, nodes: nodes.count..<nodes.count, outputs: []))
        // GraphOps keys body facts by the owners' ids and attributes from the outside in
        regionKeys += Array(repeating: "", count: max(0, r + 1 - regionKeys.count))
        regionKeys[r] = steps.map { "n\($0.owner.rawValue)/\($0.attribute)" }.joined(separator: "/")
        let start = nodes.count
        var local: [String: Int] = [:]
        var declared: [String: ValueInfo] = [:]
        for vi in b.outputs + b.valueInfo where !vi.name.isEmpty { declared[vi.name] = vi }
        func newValue(_ name: String, _ vi: ValueInfo?) -> Int {
            let (bits, isFloat) = OpGraph.info(vi?.type?.elementType)
            let i = addValue(ValueDesc(name: name, shape: OpGraph.dims(vi?.type?.shape), elementBits: bits, isFloat: isFloat))
            local[name] = i
            bodyValueRegion[i] = r
            return i
        }
        // innermost scope first; a name no scope defines becomes an untyped local value
        func resolve(_ name: String) -> Int {
            if let i = local[name] { return i }
            for f in frames.reversed() { if let i = f[name] { return i } }
            return newValue(name, declared[name])
        }
        for t in b.initializers {
            let (bits, isFloat) = OpGraph.info(t.elementType)
            local[t.name] = addValue(ValueDesc(name: t.name, shape: t.dims.map { .known($0) }, elementBits: bits,
                                               isFloat: isFloat, isConstant: true))
            bodyValueRegion[values.count - 1] = r
        }
        for s in b.sparseInitializers {
            let (bits, isFloat) = OpGraph.info(s.values.elementType)
            local[s.name] = addValue(ValueDesc(name: s.name, shape: s.dims.map { .known($0) }, elementBits: bits,
                                               isFloat: isFloat, isConstant: true))
            bodyValueRegion[values.count - 1] = r
        }
        let formal = b.inputs.map { newValue($0.name, $0) }
        var paths = ScopeCache()
        b.nodes.withUnsafeBufferPointer { gn in
            for i in gn.indices {
                var bodies: [Int] = []
                let path = bodyPath + paths.path(gn, i)
                if gn[i].hasSubgraphs && OpTraits.of(gn[i].opType).isControlFlow {
                    for b in gn[i].labeledSubgraphs {
                        guard let k = ControlRegion.kind(op: gn[i].opType, attribute: b.attribute) else { continue }
                        bodies.append(appendBody(b.graph, kind: k, parent: r, frames: frames + [local], catalog: catalog,
                                                 steps: steps + [BodyStep(owner: gn[i].id, attribute: b.attribute, index: b.index)]))
                    }
                }
                for c in bodies { regions[c].owner = nodes.count }
                let attrs = gn[i].attributes.map {
                    NamedAttribute(name: $0.name, value: OpGraph.convert($0.value))
                }
                let ins = gn[i].inputs.map { $0.isEmpty ? -1 : resolve($0) }
                let outs = gn[i].outputs.map { $0.isEmpty ? -1 : (local[$0] ?? newValue($0, declared[$0])) }
                addNode(OpNode(id: gn[i].id, opType: gn[i].opType, domain: gn[i].domain, name: gn[i].displayName,
                               path: path, attributeList: attrs, inputs: ins, outputs: outs))
            }
        }
        regions[r].nodes = start..<nodes.count
        regions[r].inputs = formal
        regions[r].outputs = b.outputs.map { $0.name.isEmpty ? -1 : resolve($0.name) }
        return r
    }

    /// Body nodes keep their NodeIDs only when every id in the model is unique (a hand-built
    /// GraphIR model may reuse ids inside subgraphs); otherwise overlays could not tell them apart.
    mutating func checkBodyIDs(topLevel: [Node]) {
        var seen = Set(topLevel.map(\.id))
        let region = regionOfNodes()
        var repeated = false
        for i in nodes.indices where region[i] >= 0 {
            if let id = nodes[i].id, !seen.insert(id).inserted { repeated = true; break }
        }
        guard repeated else { return }
        for i in nodes.indices where region[i] >= 0 { nodes[i].id = nil }
        conversionIssues.append("subgraph node ids repeat ids used elsewhere in the model: body nodes are reported without NodeIDs")
    }

    /// The attribute kinds the cost model reads (tensors described, not decoded).
    static func convert(_ v: AttributeValue) -> AttrValue {
        switch v {
        case .float(let f): return .float(Double(f))
        case .int(let i): return .int(Int(clamping: i))
        case .string(let b): return .string(String(decoding: b, as: UTF8.self))
        case .floats(let f): return .floats(f.map(Double.init))
        case .ints(let i): return .ints(i.map { Int(clamping: $0) })
        case .strings(let s): return .strings(s.map { String(decoding: $0, as: UTF8.self) })
        case .tensor(let t):
            return .tensor(ConstTensor(shape: t.dims.map { Int(clamping: $0) }, elementBits: t.elementType.bitWidth ?? 0,
                                       isFloat: t.elementType.isFloatingPoint))
        default: return .other
        }
    }
}

extension GraphEstimator {
    /// Estimates a GraphIR graph: per-node figures carry their `NodeID` (see `GraphEstimate.byNode`).
    public static func estimate(graph: Graph, options: EstimateOptions) throws -> GraphEstimate {
        try estimate(OpGraph(graph), options: options)
    }
}

/// Hierarchy paths with a cache: name-derived scopes depend only on the name up to its last
/// "/", so each prefix is split once. Prefixes are compared as bytes (consecutive nodes usually
/// share one), which is far cheaper than Unicode-aware substring comparison or hashing.
struct ScopeCache {
    var cache: [String: [String]] = [:]
    var lastKey: [UInt8] = []
    var lastPath: [String] = []

    /// Path of node `i` (fields read in place: a `Node` copy costs a dozen reference counts).
    mutating func path(_ nodes: UnsafeBufferPointer<Node>, _ i: Int) -> [String] {
        guard nodes[i].hierarchyPath == nil, nodes[i].metadataProps.isEmpty else { return Hierarchy.path(of: nodes[i]).0 }
        var name = nodes[i].name
        let hit: [String]?? = name.withUTF8 { bytes -> [String]?? in
            guard bytes.first == UInt8(ascii: "/"), let slash = bytes.lastIndex(of: UInt8(ascii: "/")),
                  slash < bytes.count - 1, let base = bytes.baseAddress else { return .some(nil) }
            let same = slash == lastKey.count && lastKey.withUnsafeBufferPointer { last in
                last.baseAddress.map { memcmp($0, base, slash) == 0 } ?? (slash == 0)
            }
            if same { return .some(lastPath) }
            lastKey = Array(UnsafeBufferPointer(start: base, count: slash))
            return nil
        }
        switch hit {
        case .some(.some(let p)): return p
        case .some(.none): return Hierarchy.path(of: nodes[i]).0      // not a "/a/b/Op" name
        case .none:
            // New prefix: its "/"-separated parts are the scopes (what `Hierarchy.path` derives from
            // such a name: all segments but the op's own, empty ones skipped).
            let key = String(decoding: lastKey, as: UTF8.self)
            if let p = cache[key] { lastPath = p; return p }
            let p = lastKey.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
            cache[key] = p; lastPath = p
            return p
        }
    }
}

