/// Whole-graph figures for `summary`/`info`: op histogram, node counts including subgraphs,
/// parameter count and bytes (float initializers and Constant tensors, each tensor once),
/// computed without loading any tensor data.

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
                for (attr, sg) in n.subgraphs {
                    s.subgraphCount += 1
                    walk(sg, prefix: prefix + "\(n.id.rawValue).\(attr)/")
                }
            }
        }
        walk(self, prefix: "")
        return s
    }
}
