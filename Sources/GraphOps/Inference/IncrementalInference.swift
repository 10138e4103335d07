/// Re-inference after an edit: only the nodes downstream of what changed run again, in
/// topological order, and the walk stops where a node's outputs come out as before. The result
/// equals a full `ShapeInference.infer` of the edited model (tests compare them on random edits).
import GraphIR

extension ShapeInference {
    /// Updates `previous` (the result for the model before an edit) for `model`, given the nodes
    /// the edit added or changed and the values whose producer, declaration, contents or name
    /// changed. Falls back to a full inference when bodies, functions or opsets are involved.
    public static func update(_ previous: InferenceResult, for model: Model, changedNodes: Set<NodeID>,
                              changedValues: Set<String>, registry: OpRegistry = .builtIn) -> InferenceResult {
        let g = model.graph
        var opsets: [String: Int64] = [:]
        for o in model.opsetImports { opsets[o.domain == "ai.onnx" ? "" : o.domain] = o.version }
        let needsFull = !model.functions.isEmpty || !previous.bodies.isEmpty
            || changedNodes.contains { g.node($0)?.hasSubgraphs ?? false }
            || changedValues.contains { name in
                var bodyReader = false
                g.forEachUse(of: name) { u in if g.node(u.node)?.hasSubgraphs ?? false { bodyReader = true } }
                return bodyReader
            }
        if needsFull { return infer(model, registry: registry) }
        let engine = InferenceEngine(opsets: opsets, functions: [], registry: registry)
        return engine.update(g, previous: previous, changedNodes: changedNodes, changedValues: changedValues)
    }
}

extension InferenceEngine {
    /// The incremental walk over a main graph without bodies (see `ShapeInference.update`).
    func update(_ graph: Graph, previous: InferenceResult, changedNodes: Set<NodeID>, changedValues: Set<String>) -> InferenceResult {
        var env = previous.values
        let declared = Declarations(graph)
        // Sources first: graph inputs and initializers named by the edit get their facts from
        // their declaration or tensor again; names nothing defines any more are dropped.
        var queue = Set(changedNodes)
        for name in changedValues where !name.isEmpty {
            let facts: ValueFacts?
            switch graph.producer(of: name) {
            case .graphInput:
                if let t = graph.inputs.first(where: { $0.name == name })?.type {
                    facts = ValueFacts(type: Self.naming(SymType(t), input: name))
                } else if let t = graph.initializer(named: name) {
                    facts = Self.facts(of: t)
                } else {
                    facts = nil
                }
            case .initializer:
                facts = graph.initializer(named: name).map { Self.facts(of: $0) } ?? env[name]
            case .node(let id, _):
                // Its producer runs again (its declaration may have changed); its readers follow
                // only if the value's facts come out different (the walk below).
                queue.insert(id)
                continue
            case .none, .outerScope:
                facts = nil
            }
            // A source with the facts it had (a constant that only gained or lost readers):
            // its readers see nothing new; those the edit rewired are among `changedNodes`.
            if facts == env[name] && env[name] != nil { continue }
            env[name] = facts
            graph.forEachUse(of: name) { queue.insert($0.node) }
        }
        // Problems of nodes that run again (or are gone) are recomputed; the rest are kept.
        var rerun = Set<NodeID>()
        var heap = Heap()
        var queued = Set<Int>()
        for id in queue { if let p = graph.position(of: id), queued.insert(p).inserted { heap.push(p) } }
        var inputs: [ValueFacts?] = []
        graph.nodes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            while let p = heap.pop() {
                let ptr = base + p
                rerun.insert(ptr.pointee.id)
                inputs.removeAll(keepingCapacity: true)
                var given = InputPresence()
                for name in ptr.pointee.inputs {
                    given.append(!name.isEmpty)
                    inputs.append(name.isEmpty ? nil : env[name])
                }
                let outs = node(ptr, outputs: ptr.pointee.outputs, inputs: inputs, given: given, declared: declared,
                                scopeChain: [], scope: [], keyPrefix: "")
                for (k, name) in ptr.pointee.outputs.enumerated() where !name.isEmpty {
                    let before = env[name]
                    let after = outs[k] ?? ValueFacts(type: nil)
                    env[name] = after
                    guard before != after else { continue }
                    graph.forEachUse(of: name) { u in
                        if let q = graph.position(of: u.node), queued.insert(q).inserted { heap.push(q) }
                    }
                }
            }
        }
        // Values of removed nodes: a name with no producer left is gone.
        for name in changedValues where graph.producer(of: name) == .none { env[name] = nil }
        let kept = previous.problems.filter { p in p.scope.isEmpty && !rerun.contains(p.node) && graph.node(p.node) != nil }
        var problems = kept + self.problems
        if !self.problems.isEmpty || kept.count != previous.problems.count {
            // Graph order, as a full walk reports them.
            problems = problems.enumerated().sorted {
                ((graph.position(of: $0.element.node) ?? 0), $0.offset) < ((graph.position(of: $1.element.node) ?? 0), $1.offset)
            }.map(\.element)
        }
        return InferenceResult(values: env, bodies: previous.bodies, problems: problems)
    }
}
