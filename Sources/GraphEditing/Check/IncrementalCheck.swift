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
        public let problems: [GraphProblem]

        /// Checks `model` in full (once per version; later edits start from it).
        public init(_ model: Model, registry: OpRegistry = .builtIn) {
            let schema = SchemaValidator(registry: registry).validate(model)
            let inference = ShapeInference.infer(model, registry: registry)
            self.init(model: model, schemaProblems: schema, inference: inference,
                      problems: ModelCheck.problems(of: model, schemaProblems: schema, inference: inference))
        }

        /// A baseline from results already computed (a version's cached ones).
        public init(model: Model, schemaProblems: [SchemaProblem], inference: InferenceResult, problems: [GraphProblem]) {
            self.model = model
            self.schemaProblems = schemaProblems
            self.inference = inference
            self.problems = problems
        }
    }

    /// The edited model's problems and what it added to the baseline's.
    public struct Result: Sendable {
        public var schemaProblems: [SchemaProblem]
        public var inference: InferenceResult
        public var problems: [GraphProblem]
        /// Problems the edit introduced (errors refuse the edit unless forced).
        public var introduced: [GraphProblem]
    }

    /// Checks `model`, the baseline's model after edits that touched `effect`.
    public static func check(_ model: Model, after effect: EditEffect, from baseline: Baseline,
                             registry: OpRegistry = .builtIn) -> Result {
        let schema = schemaProblems(model, after: effect, from: baseline, registry: registry)
        let inference = ShapeInference.infer(model, registry: registry)
        let problems = ModelCheck.problems(of: model, schemaProblems: schema, inference: inference)
        return Result(schemaProblems: schema, inference: inference, problems: problems,
                      introduced: ModelCheck.introduced(before: baseline.problems, after: problems))
    }

    /// Schema problems: the baseline's for untouched nodes, fresh ones for nodes the edit
    /// added or changed and for consumers of values whose producer or type changed. Edits
    /// inside bodies or functions re-check the whole model.
    static func schemaProblems(_ model: Model, after effect: EditEffect, from baseline: Baseline,
                               registry: OpRegistry) -> [SchemaProblem] {
        let g = model.graph
        var touched = Set(effect.addedNodes + effect.changedNodes)
        for v in effect.changedValues where !v.isEmpty { for u in g.uses(of: v) { touched.insert(u.node) } }
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
