/// What an edit broke, found by re-checking only what it touched: the schema of changed and
/// added nodes and of the consumers of changed values, the structure around them (dangling
/// inputs, graph outputs), and shapes downstream of the change. The result equals a full
/// `ModelCheck` of the edited model (a test compares them on random edits) at a fraction of its
/// cost, so every edit command can re-validate before it answers.
import GraphIR
import GraphOps

public enum IncrementalCheck {
    /// The checked state an edit starts from.
    public struct Baseline: Sendable {
        public let model: Model
        public let schemaProblems: [SchemaProblem]
        public let inference: InferenceResult
        public let structure: [ValidationIssue]
        public let problems: [GraphProblem]

        /// Checks `model` in full (once per version; later edits start from it).
        public init(_ model: Model, registry: OpRegistry = .builtIn) {
            let schema = SchemaValidator(registry: registry).validate(model)
            let inference = ShapeInference.infer(model, registry: registry)
            let structure = model.graph.validate()
            self.init(model: model, schemaProblems: schema, inference: inference, structure: structure,
                      problems: ModelCheck.problems(of: model, schemaProblems: schema, inference: inference, structure: structure))
        }

        /// A baseline from results already computed (a version's cached ones).
        public init(model: Model, schemaProblems: [SchemaProblem], inference: InferenceResult, structure: [ValidationIssue],
                    problems: [GraphProblem]) {
            self.model = model
            self.schemaProblems = schemaProblems
            self.inference = inference
            self.structure = structure
            self.problems = problems
        }
    }

    /// The edited model's problems and what it added to the baseline's.
    public struct Result: Sendable {
        public var schemaProblems: [SchemaProblem]
        public var inference: InferenceResult
        public var structure: [ValidationIssue]
        public var problems: [GraphProblem]
        /// Problems the edit introduced (errors refuse the edit unless forced).
        public var introduced: [GraphProblem]
    }

    /// Checks `model`, the baseline's model after edits that touched `effect`.
    public static func check(_ model: Model, after effect: EditEffect, from baseline: Baseline,
                             registry: OpRegistry = .builtIn) -> Result {
        // Nodes only rewired to equivalent values (a merged duplicate constant) check as before.
        var effect = effect
        let same = rewiredToEquivalents(model, effect, from: baseline)
        if !same.isEmpty { effect.changedNodes.removeAll { same.contains($0) } }
        let touched = touchedNodes(model.graph, effect, before: baseline.model.graph)
        let schema = schemaProblems(model, after: effect, touched: touched, from: baseline, registry: registry)
        // Shapes: only downstream of the change, stopping where outputs come out as before.
        let inference = ShapeInference.update(baseline.inference, for: model,
                                              changedNodes: Set(effect.addedNodes + effect.changedNodes),
                                              changedValues: Set(effect.changedValues), registry: registry)
        let structure = structuralIssues(model, after: effect, touched: touched, from: baseline)
        let problems = ModelCheck.problems(of: model, schemaProblems: schema, inference: inference, structure: structure)
        return Result(schemaProblems: schema, inference: inference, structure: structure, problems: problems,
                      introduced: ModelCheck.introduced(before: baseline.problems, after: problems))
    }

    /// Changed nodes whose only change is reading other values that are defined as before
    /// and have exactly the facts and type of the ones they replace, and that had no problem
    /// before: schema, structure and inference give them the same results as before, so they
    /// need no re-check (a dedupe that merges thousands of identical weights rewires thousands
    /// of readers this way).
    static func rewiredToEquivalents(_ model: Model, _ effect: EditEffect, from baseline: Baseline) -> Set<NodeID> {
        guard !effect.changedNodes.isEmpty, model.opsetImports == baseline.model.opsetImports else { return [] }
        let g = model.graph, old = baseline.model.graph
        let facts = baseline.inference.values
        var flagged = Set<NodeID>()
        for p in baseline.problems { if let id = p.node { flagged.insert(id) } }
        var out = Set<NodeID>()
        var seen = Set<NodeID>()
        for id in effect.changedNodes where seen.insert(id).inserted && !flagged.contains(id) {
            guard let now = g.node(id), let was = old.node(id), !now.hasSubgraphs, now.opType == was.opType,
                  now.domain == was.domain, now.inputs.count == was.inputs.count, now.outputs == was.outputs,
                  now.attributes == was.attributes else { continue }
            let equivalent = (0..<now.inputs.count).allSatisfy { i in
                let a = was.inputs[i], b = now.inputs[i]
                guard a != b else { return true }
                guard !a.isEmpty, !b.isEmpty, definedAsBefore(b, in: g, before: old), old.type(of: a) == g.type(of: b),
                      let fa = facts[a], let fb = facts[b] else { return false }
                return fa == fb
            }
            if equivalent { out.insert(id) }
        }
        return out
    }

    /// The nodes whose own problems an edit can change: added or changed ones, and the
    /// consumers of values whose producer, declaration or name changed.
    static func touchedNodes(_ g: Graph, _ effect: EditEffect, before: Graph) -> Set<NodeID> {
        var touched = Set(effect.addedNodes)
        touched.formUnion(effect.changedNodes)
        // A pass's merged effect names a value once per edit that touched it.
        var seen = Set<String>()
        for v in effect.changedValues where !v.isEmpty && seen.insert(v).inserted {
            // A value defined as before (same producer, same type) only gained or lost readers:
            // those that changed are named by the effect, the others read what they read before
            // (a constant that thousands of nodes read, kept by a merge, touches none of them).
            if definedAsBefore(v, in: g, before: before) { continue }
            g.forEachUse(of: v) { touched.insert($0.node) }
        }
        return touched
    }

    /// True when `v` has a producer (in this graph) that is the same as in `before`, with the same
    /// type: its readers read what they read before.
    static func definedAsBefore(_ v: String, in g: Graph, before: Graph) -> Bool {
        let producer = g.producer(of: v)
        switch producer {
        case .none, .outerScope: return false
        default: return producer == before.producer(of: v) && g.type(of: v) == before.type(of: v)
        }
    }

    /// Structural issues: the baseline's for untouched nodes, fresh ones for touched nodes and
    /// graph outputs. Any issue inside a body, or a cycle, re-validates the whole graph.
    static func structuralIssues(_ model: Model, after effect: EditEffect, touched: Set<NodeID>, from baseline: Baseline) -> [ValidationIssue] {
        let g = model.graph
        let gone = Set(effect.removedNodes)
        if baseline.structure.contains(where: { !$0.subgraphPath.isEmpty || $0.kind == .cycle || $0.kind == .duplicateDefinition })
            || touched.contains(where: { g.node($0)?.hasSubgraphs ?? false }) {
            return g.validate()
        }
        let kept = baseline.structure.filter { issue in
            guard let id = issue.node else { return false }  // graph-output issues are recomputed
            return !touched.contains(id) && !gone.contains(id)
        }
        let fresh = g.validateLocally(nodes: touched)
        let outputs = fresh.filter { $0.node == nil }
        // Graph order, as `validate()` gives it: node issues by position, then outputs.
        let nodeIssues = (kept + fresh.filter { $0.node != nil }).enumerated().sorted {
            let a = $0.element.node.flatMap { g.position(of: $0) } ?? 0, b = $1.element.node.flatMap { g.position(of: $0) } ?? 0
            return (a, $0.offset) < (b, $1.offset)
        }.map(\.element)
        return nodeIssues + outputs
    }

    /// Schema problems: the baseline's for untouched nodes, fresh ones for nodes the edit
    /// added or changed and for consumers of values whose producer or type changed. Edits
    /// inside bodies or functions re-check the whole model.
    static func schemaProblems(_ model: Model, after effect: EditEffect, touched: Set<NodeID>, from baseline: Baseline,
                               registry: OpRegistry) -> [SchemaProblem] {
        let g = model.graph
        let gone = Set(effect.removedNodes)
        // A touched node inside a body, or a body owner, is re-checked with everything.
        let anyBody = touched.contains { id in g.node(id)?.hasSubgraphs ?? true }
        if anyBody || !model.functions.isEmpty || model.opsetImports != baseline.model.opsetImports {
            return SchemaValidator(registry: registry).validate(model)
        }
        let validator = SchemaValidator(registry: registry)
        let local = Set(model.functions.map { "\(OpRegistry.normalize(domain: $0.domain))::\($0.name)" })
        var fresh: [NodeID: [SchemaProblem]] = [:]
        for id in touched {
            guard let n = g.node(id) else { continue }
            fresh[id] = validator.check(n, in: g, imports: model.opsetImports, localFunctions: local)
        }
        // Keep graph order: baseline problems of untouched nodes, fresh ones in node order.
        var out: [SchemaProblem] = []
        var byNode: [NodeID: [SchemaProblem]] = [:]
        for p in baseline.schemaProblems where p.scope.isEmpty && !touched.contains(p.node) && !gone.contains(p.node) {
            byNode[p.node, default: []].append(p)
        }
        let bodies = baseline.schemaProblems.filter { !$0.scope.isEmpty }
        if byNode.isEmpty && fresh.values.allSatisfy(\.isEmpty) { return bodies }
        for n in g.nodes {
            if let f = fresh[n.id] { out += f } else if let b = byNode[n.id] { out += b }
        }
        return out + bodies
    }
}
