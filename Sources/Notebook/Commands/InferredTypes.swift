// Reading the session's cached shape inference (GraphOps) in the terms the commands use:
// the inferred type of a value in the top-level graph or in one of the catalog's bodies, the
// inferred types a drawing labels its edges with, and the one-line summary `load` prints.

import GraphIR
import GraphOps

extension GraphEntry {
    /// The inference's key for the body `steps` reach (`n12/then_branch`, nested
    /// `n12/body/n3/else_branch`, the i-th graph of a graph-list attribute `n12/branches.i`):
    /// the owner ids and body labels from the top down.
    func inferenceKey(_ steps: [BodyStep]) -> String {
        var g: Graph? = model.graph
        var parts: [String] = []
        for s in steps {
            var label = s.attribute
            if case .graphs? = g?.node(s.owner)?.attribute(s.attribute) { label += ".\(s.index)" }
            parts.append("n\(s.owner.rawValue)/\(label)")
            g = g?.node(s.owner)?.attribute(s.attribute)?.subgraphs.dropFirst(s.index).first
        }
        return parts.joined(separator: "/")
    }

    /// The inferred type of `value` as seen from catalog body `body` (nil = the top-level
    /// graph): the body's own values first, then each enclosing body's, then the top level's,
    /// as a body reads the values of the graphs around it.
    func inferredType(of value: String, inBody body: Int?) -> ValueType? {
        let result = inference
        if let body {
            let steps = catalog.bodies[body].steps
            for depth in stride(from: steps.count, to: 0, by: -1) {
                if let f = result.bodies[inferenceKey(Array(steps.prefix(depth)))]?[value] { return f.type?.valueType }
            }
        }
        return result.valueType(of: value)
    }

    /// Inferred types of the top-level graph (or of catalog body `body`) by value name, for
    /// drawing labels where the model declares none.
    func inferredTypes(inBody body: Int?) -> [String: ValueType] {
        let result = inference
        var facts = result.values.dictionary
        if let body {
            let steps = catalog.bodies[body].steps
            for depth in steps.indices {
                for (k, v) in result.bodies[inferenceKey(Array(steps.prefix(depth + 1)))] ?? [:] { facts[k] = v }
            }
        }
        var out: [String: ValueType] = [:]
        out.reserveCapacity(facts.count)
        for (k, f) in facts { if let t = f.type?.valueType { out[k] = t } }
        return out
    }

    /// Node outputs (bodies included) whose shape inference could not give (no type, or a
    /// tensor of unknown rank).
    func uninferredValueCount() -> Int {
        let result = inference
        func unknown(_ f: ValueFacts?) -> Bool {
            guard let t = f?.type else { return true }
            if case .tensor(_, nil) = t { return true }
            return false
        }
        var count = 0
        for n in graph.nodes { for o in n.outputs where !o.isEmpty && unknown(result.values[o]) { count += 1 } }
        for b in catalog.bodies {
            let values = result.bodies[inferenceKey(b.steps)]
            for n in b.graph.nodes { for o in n.outputs where !o.isEmpty && unknown(values?[o]) { count += 1 } }
        }
        return count
    }
}

extension GraphEntry {
    /// A copy of the latest model with `value_info` for every intermediate value inference
    /// typed (node outputs that are not graph outputs), in the top-level graph and in every
    /// If/Loop/Scan body, as `onnx.shape_inference` writes them: symbolic dims as `dim_param`,
    /// an unknown dim with neither field, a tensor of unknown rank without a shape. Declared
    /// `value_info` the inference has nothing for is kept. The session's graph is not changed.
    func modelWithInferredValueInfo() -> (model: Model, written: Int) {
        var model = self.model
        let result = inference
        var written = 0
        model.graph = Self.typed(model.graph, facts: result.values, key: "", result: result, written: &written)
        return (model, written)
    }

    /// `graph` with inferred value_info, its bodies (keys `n12/then_branch` below `key`) likewise.
    private static func typed(_ g: Graph, facts: FactTable, key: String, result: InferenceResult,
                              written: inout Int) -> Graph {
        let outputs = Set(g.outputs.map(\.name))
        var infos: [ValueInfo] = []
        var done = Set<String>()
        var nodes = g.nodes
        for i in nodes.indices {
            for o in nodes[i].outputs where !o.isEmpty && !outputs.contains(o) && !done.contains(o) {
                guard let t = facts[o]?.type?.valueType else { continue }
                done.insert(o)
                infos.append(ValueInfo(name: o, type: t))
            }
            guard nodes[i].hasSubgraphs else { continue }
            // Each body has its own inference results: `n12/attr` for a graph attribute,
            // `n12/attr.i` for the i-th graph of a graph list.
            let owner = (key.isEmpty ? "" : key + "/") + "n\(nodes[i].id.rawValue)/"
            nodes[i].attributes = nodes[i].attributes.map { a in
                var copy = a
                switch a.value {
                case .graph(let body):
                    guard let bodyFacts = result.bodies[owner + a.name] else { return a }
                    copy.value = .graph(typed(body, facts: bodyFacts, key: owner + a.name, result: result, written: &written))
                case .graphs(let bodies):
                    copy.value = .graphs(bodies.enumerated().map { k, body in
                        let bodyKey = owner + a.name + ".\(k)"
                        guard let bodyFacts = result.bodies[bodyKey] else { return body }
                        return typed(body, facts: bodyFacts, key: bodyKey, result: result, written: &written)
                    })
                default: return a
                }
                return copy
            }
        }
        written += infos.count
        let kept = g.valueInfo.filter { !done.contains($0.name) }
        return Graph(name: g.name, nodes: nodes, inputs: g.inputs, outputs: g.outputs,
                     initializers: g.initializers, sparseInitializers: g.sparseInitializers,
                     valueInfo: kept + infos, docString: g.docString, metadataProps: g.metadataProps,
                     isSubgraph: g.isSubgraph, unknownFields: g.unknownFields, firstNodeID: g.nextNodeID.rawValue)
    }
}
