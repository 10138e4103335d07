import GraphIR

/// Builds the estimator's `OpGraph` from a `GraphIR.Graph`: values get indices, declared
/// types become shapes with symbols, initializers and `Constant` nodes become constants
/// (small ones with their contents, for shape arithmetic), attributes are converted to the
/// few kinds the cost model reads, and each node keeps its `NodeID` and hierarchy path.
/// Only the top-level graph is converted: If/Loop/Scan bodies are reported, not costed.
extension OpGraph {
    /// Converts a GraphIR graph.
    public init(_ graph: Graph) {
        self.init()
        var index: [String: Int] = [:]
        index.reserveCapacity(graph.nodes.count * 2 + graph.initializers.count + graph.inputs.count)
        values.reserveCapacity(graph.nodes.count * 2 + graph.initializers.count + graph.inputs.count)
        nodes.reserveCapacity(graph.nodes.count)

        func dims(_ shape: TensorShape?) -> [Dim]? {
            shape.map { s in s.dims.map { d -> Dim in
                if case .symbolic(let n) = d, n.isEmpty { return .unknown }
                return d
            } }
        }
        func info(_ e: ElementType?) -> (Int, Bool) { (e?.bitWidth ?? 0, e?.isFloatingPoint ?? false) }
        let smallValues = OpGraph.smallValues
        // Declared values are registered up front, so any other name is an untyped intermediate
        // (one hash per use instead of three).
        func valueIndex(_ name: String) -> Int {
            if let i = index[name] { return i }
            let i = addValue(ValueDesc(name: name, shape: nil, elementBits: 0, isFloat: false))
            index[name] = i
            return i
        }
        for t in graph.initializers {
            let (bits, isFloat) = info(t.elementType)
            index[t.name] = addValue(ValueDesc(name: t.name, shape: t.dims.map { .known($0) }, elementBits: bits,
                                               isFloat: isFloat, isConstant: true, values: smallValues(t)))
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
        for n in graph.nodes {
            let attrs = n.attributes.map { NamedAttribute(name: $0.name, value: OpGraph.convert($0.value, smallValues: smallValues)) }
            let ins = n.inputs.map { $0.isEmpty ? -1 : valueIndex($0) }
            let outs = n.outputs.map { $0.isEmpty ? -1 : valueIndex($0) }
            addNode(OpNode(id: n.id, opType: n.opType, domain: n.domain, name: n.name, path: paths.path(n),
                           attributeList: attrs, inputs: ins, outputs: outs))
        }
        for o in graph.outputs where !o.name.isEmpty { outputs.append(valueIndex(o.name)) }
    }

    /// Contents of a tensor small enough for shape arithmetic (nil otherwise or when unreadable).
    /// Shape math needs integer tensors (shapes, axes, pads) and tiny float ones (Resize scales,
    /// scalars); float weights are never decoded.
    static func smallValues(_ t: Tensor) -> [Double]? {
        guard let n = t.elementCount, t.elementType != .string else { return nil }
        let limit = t.elementType.isFloatingPoint ? 64 : OpGraph.maxConstElements
        guard n <= limit else { return nil }
        return try? t.doubleValues()
    }

    static func convert(_ v: AttributeValue, smallValues: (Tensor) -> [Double]?) -> AttrValue {
        switch v {
        case .float(let f): return .float(Double(f))
        case .int(let i): return .int(Int(clamping: i))
        case .string(let b): return .string(String(decoding: b, as: UTF8.self))
        case .floats(let f): return .floats(f.map(Double.init))
        case .ints(let i): return .ints(i.map { Int(clamping: $0) })
        case .strings(let s): return .strings(s.map { String(decoding: $0, as: UTF8.self) })
        case .tensor(let t):
            return .tensor(ConstTensor(shape: t.dims.map { Int(clamping: $0) }, elementBits: t.elementType.bitWidth ?? 0,
                                       isFloat: t.elementType.isFloatingPoint, values: smallValues(t)))
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
/// "/", so each prefix is split once (and consecutive nodes usually share it).
struct ScopeCache {
    var cache: [Substring: [String]] = [:]
    var lastKey: Substring = ""
    var lastPath: [String] = []

    mutating func path(_ n: Node) -> [String] {
        let utf8 = n.name.utf8
        guard n.hierarchyPath == nil, n.metadataProps.isEmpty, utf8.first == UInt8(ascii: "/"),
              let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return Hierarchy.path(of: n).0 }
        let key = n.name[..<slash]
        if key.utf8.elementsEqual(lastKey.utf8) { return lastPath }
        let p: [String]
        if let hit = cache[key] { p = hit } else { p = Hierarchy.path(of: n).0; cache[key] = p }
        lastKey = key; lastPath = p
        return p
    }
}
