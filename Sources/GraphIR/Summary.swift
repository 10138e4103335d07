/// Whole-graph figures for `summary`/`info`: op histogram, node counts including subgraphs,
/// parameter count and bytes (float initializers and Constant tensors, each tensor once, plus
/// the float tensors ConstantOfShape nodes make from a constant shape, as the estimator counts
/// them), computed without loading any tensor data but those small shape tensors.

/// Counts and sizes describing a graph.
public struct GraphSummary: Sendable, Equatable {
    /// Top-level node count.
    public var nodeCount: Int
    /// Node count including all nested subgraphs.
    public var totalNodeCount: Int
    /// Number of subgraphs (If/Loop/Scan bodies), recursively.
    public var subgraphCount: Int
    /// Op type (qualified for custom domains) -> count, including subgraphs.
    public var opHistogram: [String: Int]
    /// Elements of floating-point initializers and Constant tensors, each tensor once.
    public var parameterCount: Int
    /// Bytes of those parameter tensors.
    public var parameterBytes: Int
    /// Number of initializers (all types), top level and subgraphs.
    public var initializerCount: Int
    /// Bytes of all initializers (all types).
    public var initializerBytes: Int
    /// Elements of the float tensors ConstantOfShape nodes make from a constant shape (models
    /// that store weights this way, such as the onnx "light" models, have almost all their
    /// parameters here); `estimate` counts these too.
    public var generatedParameterCount = 0
    /// Bytes of those generated tensors.
    public var generatedParameterBytes = 0
    /// ConstantOfShape nodes counted in `generatedParameterCount`.
    public var generatingNodeCount = 0
    /// Elements of float initializers no node reads and no graph output names (in
    /// `parameterCount`, but not in `estimate`'s parameters, which counts what nodes read).
    public var unusedParameterCount = 0
    /// Every parameter: stored plus generated.
    public var totalParameterCount: Int { parameterCount + generatedParameterCount }
    /// Bytes of every parameter.
    public var totalParameterBytes: Int { parameterBytes + generatedParameterBytes }
    /// Number of declared graph inputs (initializers listed as inputs included).
    public var inputCount: Int
    /// Number of declared graph outputs.
    public var outputCount: Int

    /// The histogram as rows sorted by count (descending) then name: ready for a table.
    public var opHistogramRows: [(op: String, count: Int)] {
        opHistogram.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension Graph {
    /// Computes the summary of this graph and its subgraphs. Parameters are float tensors:
    /// initializers and the `value` of Constant nodes, each counted once (by name when
    /// named, else by node); byte sizes come from shape and type, no data is read.
    public func summary() -> GraphSummary {
        var s = GraphSummary(nodeCount: nodes.count, totalNodeCount: 0, subgraphCount: 0, opHistogram: [:],
                             parameterCount: 0, parameterBytes: 0, initializerCount: 0, initializerBytes: 0,
                             inputCount: inputs.count, outputCount: outputs.count)
        var seenTensors = Set<String>()
        var read = Set<String>()
        func countTensor(_ t: Tensor, key: String, isInitializer: Bool) {
            guard seenTensors.insert(key).inserted else { return }
            if isInitializer {
                s.initializerCount += 1
                s.initializerBytes += t.byteCount ?? 0
            }
            if t.elementType.isFloatingPoint {
                s.parameterCount += t.elementCount ?? 0
                s.parameterBytes += t.byteCount ?? 0
            }
        }
        func walk(_ g: Graph, prefix: String) {
            for t in g.initializers { countTensor(t, key: prefix + "init:" + t.name, isInitializer: true) }
            for sp in g.sparseInitializers { countTensor(sp.values, key: prefix + "sparse:" + sp.name, isInitializer: true) }
            for n in g.nodes {
                s.totalNodeCount += 1
                s.opHistogram[n.qualifiedOpType, default: 0] += 1
                if n.opType == "Constant" && (n.domain.isEmpty || n.domain == "ai.onnx"), case .tensor(let t)? = n.attribute("value") {
                    countTensor(t, key: prefix + "const:\(n.id.rawValue)", isInitializer: false)
                }
                if n.opType == "ConstantOfShape" && (n.domain.isEmpty || n.domain == "ai.onnx"), let made = generated(n, in: g) {
                    s.generatingNodeCount += 1
                    s.generatedParameterCount += made.elements
                    s.generatedParameterBytes += made.bytes
                }
                for name in n.inputs { read.insert(name) }
                for (attr, sg) in n.subgraphs {
                    s.subgraphCount += 1
                    walk(sg, prefix: prefix + "\(n.id.rawValue).\(attr)/")
                }
            }
        }
        walk(self, prefix: "")
        for o in outputs { read.insert(o.name) }
        for t in initializers where t.elementType.isFloatingPoint && !read.contains(t.name) { s.unusedParameterCount += t.elementCount ?? 0 }
        return s
    }
}

extension Graph {
    /// Elements and bytes of the float tensor a ConstantOfShape makes, when its shape input is an
    /// initializer or a Constant node's tensor (nil otherwise, or when the value is not float).
    func generated(_ n: Node, in g: Graph) -> (elements: Int, bytes: Int)? {
        guard let shapeName = n.inputs.first, !shapeName.isEmpty else { return nil }
        let element: ElementType
        if case .tensor(let v)? = n.attribute("value") { element = v.elementType } else { element = .float }   // the ONNX default
        guard element.isFloatingPoint else { return nil }
        var shapeTensor = g.initializer(named: shapeName)
        if shapeTensor == nil, let p = g.producerNode(of: shapeName), p.opType == "Constant", case .tensor(let t)? = p.attribute("value") {
            shapeTensor = t
        }
        guard let t = shapeTensor, (t.elementCount ?? Int.max) <= 64, let dims = try? t.int64Values() else { return nil }
        var count = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (r, o) = count.multipliedReportingOverflow(by: Int(clamping: d))
            if o { return nil }
            count = r
        }
        return (count, element.byteCount(forElements: count) ?? 0)
    }
}
