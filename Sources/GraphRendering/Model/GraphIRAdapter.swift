// Builds the renderer's RenderGraph from a GraphIR graph: one node per op (id = the stable
// NodeID, so ids survive edits; label = GraphIR's `Node.displayName`, the name every command
// accepts), graph inputs and outputs as their own small nodes (for a body, also the
// enclosing graph's values it reads), namespace
// paths from GraphIR's Hierarchy, tensor shapes on edges and in tooltips. Initializers (weights)
// are not drawn as nodes, matching Model Explorer.

import GraphIR

extension RenderGraph {
    /// Converts `graph`. `hierarchy` defaults to GraphIR's derived one (explicit paths, exporter
    /// metadata, or `/a/b/Op` node names); pass your own to draw a different grouping.
    public init(_ graph: Graph, hierarchy: GraphIR.Hierarchy? = nil, name: String? = nil) {
        let tree = hierarchy ?? GraphIR.Hierarchy(graph)
        var nodes: [Node] = []
        var edges: [Edge] = []
        var indexOfNode: [NodeID: Int] = [:]
        var indexOfInput: [String: Int] = [:]
        func typeText(_ value: String) -> String {
            guard let t = graph.type(of: value) else { return value }
            if let e = t.elementType {
                return value + ": " + e.name + (t.shape.map { $0.description } ?? "")
            }
            return value + ": " + t.description
        }
        func shapeText(_ value: String) -> String? {
            guard let shape = graph.type(of: value)?.shape else { return nil }
            if shape.dims.isEmpty { return "scalar" }
            return shape.dims.map(\.description).joined(separator: "x")
        }
        for input in graph.inputs where graph.initializer(named: input.name) == nil {
            indexOfInput[input.name] = nodes.count
            nodes.append(Node(id: "input:" + input.name, name: input.name, op: RenderGraph.inputOp, outputs: [typeText(input.name)]))
        }
        // A body (If/Loop/Scan) reads values of the enclosing graph: each is drawn as an input.
        var indexOfOuter: [String: Int] = [:]
        if graph.isSubgraph {
            for name in graph.nodes.flatMap({ $0.inputs }) + graph.outputs.map(\.name)
            where !name.isEmpty && indexOfOuter[name] == nil && graph.producer(of: name) == .outerScope {
                indexOfOuter[name] = nodes.count
                nodes.append(Node(id: "outer:" + name, name: name, op: "Input", outputs: [typeText(name)]))
            }
        }
        for node in graph.nodes {
            indexOfNode[node.id] = nodes.count
            var attrs: [(key: String, value: String)] = []
            for a in node.attributes {
                var text = a.value.displayString
                if text.count > 80 { text = String(text.prefix(79)) + "…" }
                attrs.append((a.name, text))
            }
            nodes.append(Node(id: node.id.description, name: node.displayName, op: node.opType, path: tree.path(of: node.id),
                              attributes: attrs,
                              inputs: node.inputs.filter { !$0.isEmpty }.map(typeText),
                              outputs: node.outputs.filter { !$0.isEmpty }.map(typeText)))
        }
        for node in graph.nodes {
            guard let target = indexOfNode[node.id] else { continue }
            var seen = Set<String>()
            for input in node.inputs where !input.isEmpty && seen.insert(input).inserted {
                let source: Int?
                switch graph.producer(of: input) {
                case .node(let id, _): source = indexOfNode[id]
                case .graphInput: source = indexOfInput[input]
                case .outerScope: source = indexOfOuter[input]
                default: source = nil
                }
                if let s = source { edges.append(Edge(source: s, target: target, tensor: input, shape: shapeText(input))) }
            }
        }
        var outputNames = Set<String>()
        for output in graph.outputs where outputNames.insert(output.name).inserted {
            let index = nodes.count
            nodes.append(Node(id: "output:" + output.name, name: output.name, op: RenderGraph.outputOp, inputs: [typeText(output.name)]))
            switch graph.producer(of: output.name) {
            case .node(let id, _):
                if let s = indexOfNode[id] { edges.append(Edge(source: s, target: index, tensor: output.name, shape: shapeText(output.name))) }
            case .graphInput:
                if let s = indexOfInput[output.name] { edges.append(Edge(source: s, target: index, tensor: output.name, shape: shapeText(output.name))) }
            case .outerScope:
                if let s = indexOfOuter[output.name] { edges.append(Edge(source: s, target: index, tensor: output.name, shape: shapeText(output.name))) }
            default: break
            }
        }
        self.init(name: name ?? (graph.name.isEmpty ? "graph" : graph.name), nodes: nodes, edges: edges)
    }
}

extension GraphRenderer {
    /// Draws a GraphIR graph (see `RenderGraph.init(_:hierarchy:name:)` for what is shown).
    public init(_ graph: Graph, hierarchy: GraphIR.Hierarchy? = nil, sectionSize: Int = 150) throws {
        try self.init(RenderGraph(graph, hierarchy: hierarchy), sectionSize: sectionSize)
    }

    /// One-shot render of a GraphIR graph.
    public static func render(_ graph: Graph, options: RenderOptions = RenderOptions(), cache: LayoutCache? = nil) throws -> RenderResult {
        try GraphRenderer(graph).render(options, cache: cache)
    }
}
