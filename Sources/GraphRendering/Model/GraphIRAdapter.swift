// Builds the renderer's RenderGraph from a GraphIR graph: one node per op (id = the stable
// NodeID, so ids survive edits; label = GraphIR's `Node.displayName`, the name every command
// accepts), graph inputs and outputs as their own small nodes (for a body, also the
// enclosing graph's values it reads), namespace
// paths from GraphIR's Hierarchy, tensor shapes on edges and in tooltips. Initializers (weights)
// are not drawn as nodes, matching Model Explorer; they and Constant nodes are listed as folded
// inputs of their consumers. Shapes read `batch×4×?` (generated `unk__N` names print as `?`);
// where the model declares no type (or one without a shape), the caller's inferred one (symbolic:
// `batch×seq×64`).

import GraphIR

extension RenderGraph {
    /// Converts `graph`. `hierarchy` defaults to GraphIR's derived one (explicit paths, exporter
    /// metadata, or `/a/b/Op` node names); pass your own to draw a different grouping.
    /// `inferred` gives types (from shape inference) for values the model declares none for,
    /// so edges of a model without `value_info` still carry shapes; declared types win.
    public init(_ graph: Graph, hierarchy: GraphIR.Hierarchy? = nil, name: String? = nil,
                inferred: [String: ValueType] = [:]) {
        let tree = hierarchy ?? GraphIR.Hierarchy(graph)
        var nodes: [Node] = []
        var edges: [Edge] = []
        var indexOfNode: [NodeID: Int] = [:]
        var indexOfInput: [String: Int] = [:]
        // The type of a constant's value when no declared type says it: from the Constant's
        // tensor, or ConstantOfShape's stored shape and fill value.
        func constantType(_ node: GraphIR.Node) -> String {
            let value: Tensor? = node.attributes.lazy.compactMap { a -> Tensor? in
                if a.name == "value", case .tensor(let t) = a.value { return t } else { return nil }
            }.first
            if node.opType == "Constant", let t = value { return t.elementType.name + "[" + t.dims.map(String.init).joined(separator: ",") + "]" }
            if node.opType == "ConstantOfShape", let shapeName = node.inputs.first, let shape = graph.initializer(named: shapeName),
               shape.dims.count == 1, let sizes = try? shape.doubleValues() {
                return (value?.elementType ?? .float).name + "[" + sizes.map { $0.isFinite && Swift.abs($0) < 9.2e18 ? String(Int64($0)) : "?" }.joined(separator: ",") + "]"
            }
            return ""
        }
        // Declared types win, unless they leave the shape out and inference knows it
        // (`float32[...]` declared, `batch×8×16×16` inferred).
        func type(_ value: String) -> ValueType? {
            guard let declared = graph.type(of: value) else { return inferred[value] }
            if declared.shape == nil, let known = inferred[value], known.shape != nil { return known }
            return declared
        }
        func bareType(_ value: String) -> String {
            guard let t = type(value) else { return graph.producerNode(of: value).map(constantType) ?? "" }
            if let e = t.elementType {
                return e.name + (t.shape.map { "[" + $0.dims.map(readableDim).joined(separator: ",") + "]" } ?? "")
            }
            return t.description
        }
        func typeText(_ value: String) -> String {
            let t = bareType(value)
            return t.isEmpty ? value : value + ": " + t
        }
        func shapeText(_ value: String) -> String? {
            guard let shape = type(value)?.shape else { return nil }
            return readableShape(shape.dims)
        }
        // Structural constants: an ONNX Constant (no inputs), or an op whose every input is a
        // stored value (ConstantOfShape of an initializer shape); never decided by names.
        func isStored(_ value: String) -> Bool {
            if case .node = graph.producer(of: value) { return false }
            return graph.initializer(named: value) != nil
        }
        func isConstant(_ node: GraphIR.Node) -> Bool {
            guard node.outputs.count == 1, node.subgraphs.isEmpty else { return false }
            let inputs = node.inputs.filter { !$0.isEmpty }
            if inputs.isEmpty { return node.opType == "Constant" && (node.domain.isEmpty || node.domain == "ai.onnx") }
            return inputs.allSatisfy(isStored)
        }
        for input in graph.inputs where graph.initializer(named: input.name) == nil {
            indexOfInput[input.name] = nodes.count
            nodes.append(Node(id: "input:" + input.name, name: input.name, op: "Input", outputs: [typeText(input.name)], kind: .graphInput))
        }
        // A body (If/Loop/Scan) reads values of the enclosing graph: each is drawn as an input.
        var indexOfOuter: [String: Int] = [:]
        if graph.isSubgraph {
            for name in graph.nodes.flatMap({ $0.inputs }) + graph.outputs.map(\.name)
            where !name.isEmpty && indexOfOuter[name] == nil && graph.producer(of: name) == .outerScope {
                indexOfOuter[name] = nodes.count
                nodes.append(Node(id: "outer:" + name, name: name, op: "Input", outputs: [typeText(name)], kind: .graphInput))
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
                              outputs: node.outputs.filter { !$0.isEmpty }.map(typeText),
                              kind: isConstant(node) ? .constant : .op))
        }
        // Stored and constant inputs of each op, in slot order, for folding into its box.
        for node in graph.nodes {
            guard let target = indexOfNode[node.id], nodes[target].kind == .op else { continue }
            var folded: [FoldedInput] = []
            for (slot, input) in node.inputs.enumerated() where !input.isEmpty {
                let name = inputSlotName(op: node.opType, index: slot)
                if case .node(let id, _) = graph.producer(of: input) {
                    if let c = indexOfNode[id], nodes[c].kind == .constant {
                        folded.append(FoldedInput(slot: name, tensor: input, type: bareType(input), constantNode: c))
                    }
                } else if isStored(input) {
                    folded.append(FoldedInput(slot: name, tensor: input, type: bareType(input)))
                }
            }
            nodes[target].folded = folded
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
            nodes.append(Node(id: "output:" + output.name, name: output.name, op: "Output", inputs: [typeText(output.name)], kind: .graphOutput))
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
    /// Draws a GraphIR graph (see `RenderGraph.init(_:hierarchy:name:inferred:)` for what is shown).
    public init(_ graph: Graph, hierarchy: GraphIR.Hierarchy? = nil, sectionSize: Int = 150,
                inferred: [String: ValueType] = [:]) throws {
        try self.init(RenderGraph(graph, hierarchy: hierarchy, inferred: inferred), sectionSize: sectionSize)
    }

    /// One-shot render of a GraphIR graph.
    public static func render(_ graph: Graph, options: RenderOptions = RenderOptions(), cache: LayoutCache? = nil) throws -> RenderResult {
        try GraphRenderer(graph).render(options, cache: cache)
    }
}

/// A dimension as drawn: sizes and names as written, except names that shape inference made up
/// for an unknown size (`unk__12`), which print as `?` like an unnamed dimension.
func readableDim(_ d: Dim) -> String {
    if case .symbolic(let name) = d, name.hasPrefix("unk__"), name.dropFirst(5).allSatisfy(\.isNumber) { return "?" }
    return d.description
}

/// A shape as an edge label: `batch×4×?×?`, or `scalar`. A dim that is an expression is
/// bracketed (`x_d0×8×((x_d2-1)/2+1)`): the dims are joined with ×, so an unbracketed `+1`
/// would read as if it bound the next dim.
func readableShape(_ dims: [Dim]) -> String {
    dims.isEmpty ? "scalar" : dims.map { bracketedIfExpression(readableDim($0)) }.joined(separator: "×")
}

/// `text` in parentheses when it holds an operator outside any parentheses of its own
/// (`seq+1`, `(h-1)/2+1`, `2*seq`); names, sizes and one parenthesised group stay as they are.
func bracketedIfExpression(_ text: String) -> String {
    var depth = 0
    for (i, c) in text.enumerated() {
        switch c {
        case "(": depth += 1
        case ")": depth -= 1
        case "+", "*", "/", "%", " ":
            if depth == 0 { return "(" + text + ")" }
        case "-":
            // A leading minus is a sign, not an operator between two terms.
            if depth == 0 && i > 0 { return "(" + text + ")" }
        default: break
        }
    }
    return text
}
