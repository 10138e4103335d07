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
        let hierarchy = Hierarchy(graph)

        func dims(_ shape: TensorShape?) -> [Dim]? {
            shape.map { s in s.dims.map { d -> Dim in
                if case .symbolic(let n) = d, n.isEmpty { return .unknown }
                return d
            } }
        }
        func info(_ e: ElementType?) -> (Int, Bool) { (e?.bitWidth ?? 0, e?.isFloatingPoint ?? false) }
        func smallValues(_ t: Tensor) -> [Double]? {
            guard let n = t.elementCount, n <= OpGraph.maxConstElements, t.elementType != .string else { return nil }
            return try? t.doubleValues()
        }
        func valueIndex(_ name: String) -> Int {
            if let i = index[name] { return i }
            let type = graph.type(of: name)
            let (bits, isFloat) = info(type?.elementType)
            let i = addValue(ValueDesc(name: name, shape: dims(type?.shape), elementBits: bits, isFloat: isFloat))
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
        for i in graph.inputs where !i.name.isEmpty { inputs.append(valueIndex(i.name)) }
        for n in graph.nodes {
            var attrs: [String: AttrValue] = [:]
            for a in n.attributes { attrs[a.name] = OpGraph.convert(a.value, smallValues: smallValues) }
            let ins = n.inputs.map { $0.isEmpty ? -1 : valueIndex($0) }
            let outs = n.outputs.map { $0.isEmpty ? -1 : valueIndex($0) }
            addNode(OpNode(id: n.id, opType: n.opType, domain: n.domain, name: n.name, path: hierarchy.path(of: n.id),
                           attributes: attrs, inputs: ins, outputs: outs))
        }
        for o in graph.outputs where !o.name.isEmpty { outputs.append(valueIndex(o.name)) }
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
