/// Every problem of a model in one list, whichever checker found it: structure (GraphIR:
/// dangling values, cycles, duplicate definitions), schema (GraphOps' registry) and shape
/// (GraphOps' inference). `check` shows this list; an edit is judged by what it adds to it.
import GraphIR
import GraphOps

/// One problem, named by node (id and name), place and what was expected.
public struct GraphProblem: Sendable, Hashable {
    public var severity: SchemaProblem.Severity
    /// Which checker found it: `structure`, `schema` or `shape`.
    public var checker: String
    /// A stable kind word (`danglingInput`, `typeConstraint`, `inconsistentShape`, ...).
    public var kind: String
    public var node: NodeID?
    public var nodeName: String
    public var op: String
    /// The body it sits in (`n12.then_branch`), empty for the main graph.
    public var scope: String
    /// `input 1 'B'`, `attribute 'alpha'`, `value 'x'`, `shape`, `graph`.
    public var location: String
    public var problem: String
    public var expected: String?
    public var found: String?
    public var suggestions: [String]
    /// The values whose edges the problem concerns: a dangling or mistyped input (a drawing
    /// draws those edges red). Empty when the problem is the node's own (an attribute, the op)
    /// or, for a shape problem, when inference cannot say which input is wrong.
    public var values: [String] = []

    /// The sentence a report shows: `n12 'MatMul_3' input 1 'B': expected ..., found ...`.
    public var message: String {
        let who = node.map { "\($0)" + (nodeName.isEmpty ? "" : " '\(nodeName)'") } ?? "graph"
        return "\(who) \(location): \(problem)"
    }
}

/// Gathering a model's problems.
public enum ModelCheck {
    /// Structural, schema and shape problems, errors first, graph order within each. Shape
    /// problems on nodes the schema already rejects are left out (they follow from it).
    public static func problems(of model: Model, schemaProblems: [SchemaProblem], inference: InferenceResult,
                                structure: [ValidationIssue]? = nil) -> [GraphProblem] {
        var rows: [GraphProblem] = []
        for issue in structure ?? model.graph.validate() {
            let node = issue.node.flatMap { id in model.graph.node(id) }
            rows.append(GraphProblem(severity: .error, checker: "structure", kind: issue.kind.rawValue, node: issue.node,
                                     nodeName: node?.displayName ?? "", op: node?.qualifiedOpType ?? "",
                                     scope: issue.subgraphPath.map(\.description).joined(separator: "/"),
                                     location: issue.value.map { "value '\($0)'" } ?? "graph", problem: issue.message,
                                     expected: nil, found: nil, suggestions: [], values: issue.value.map { [$0] } ?? []))
        }
        rows += initializersNotDeclared(model)
        var schemaBroken = Set<String>()
        for p in schemaProblems {
            rows.append(GraphProblem(severity: p.severity, checker: "schema", kind: p.kind.rawValue, node: p.node, nodeName: p.nodeName,
                                     op: p.op, scope: p.scope, location: p.location, problem: p.detail, expected: p.expected,
                                     found: p.found, suggestions: p.suggestions, values: p.value.map { [$0] } ?? []))
            if p.severity == .error { schemaBroken.insert(p.scope + "|" + p.node.description) }
        }
        for p in inference.problems {
            let scope = p.scope.last.map(schemaScope) ?? ""
            guard !schemaBroken.contains(scope + "|" + p.node.description) else { continue }
            let (severity, kind) = shapeKind(p.kind)
            rows.append(GraphProblem(severity: severity, checker: "shape", kind: kind, node: p.node, nodeName: p.nodeName, op: p.opType,
                                     scope: scope, location: "shape", problem: p.reason, expected: nil, found: nil, suggestions: []))
        }
        return rows.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
    }

    /// Before IR version 4 every initializer must also be a graph input (the ONNX checker
    /// refuses the file otherwise), so removing such an input or adding an initializer alone
    /// breaks an old model.
    static func initializersNotDeclared(_ model: Model) -> [GraphProblem] {
        guard model.irVersion < 4 else { return [] }
        let inputs = Set(model.graph.inputs.map(\.name))
        return model.graph.initializers.filter { !inputs.contains($0.name) }.map { t in
            GraphProblem(severity: .error, checker: "structure", kind: "initializerNotInput", node: nil, nodeName: "", op: "", scope: "",
                         location: "value '\(t.name)'",
                         problem: "initializer '\(t.name)' is not a graph input; IR version \(model.irVersion) (< 4) requires every "
                            + "initializer to be one (`input add \(t.name) type=...`)",
                         expected: nil, found: nil, suggestions: [])
        }
    }

    /// Convenience: validates and infers `model` itself.
    public static func problems(of model: Model, registry: OpRegistry = .builtIn) -> [GraphProblem] {
        problems(of: model, schemaProblems: SchemaValidator(registry: registry).validate(model),
                 inference: ShapeInference.infer(model, registry: registry))
    }

    /// An inference body key (`n12/then_branch/n3/body`) in the validator's scope form
    /// (`n12.then_branch/n3.body`), so both checkers name a body the same way.
    public static func schemaScope(_ key: String) -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        return stride(from: 0, to: parts.count, by: 2).map { i in
            i + 1 < parts.count ? parts[i] + "." + parts[i + 1] : parts[i]
        }.joined(separator: "/")
    }

    /// Severity and kind of an inference problem: an op without a rule, or something the rule
    /// needs that is not known, is a warning (the values stay unknown); shapes that cannot all
    /// hold are an error.
    public static func shapeKind(_ kind: InferenceProblem.Kind) -> (SchemaProblem.Severity, String) {
        switch kind {
        case .noRule: return (.warning, "noInferenceRule")
        case .unknownInput: return (.warning, "unknownShape")
        case .inconsistent: return (.error, "inconsistentShape")
        }
    }

    /// The problems in `after` that `before` did not have (as a multiset: a second identical
    /// problem counts), in `after`'s order. What an edit broke.
    public static func introduced(before: [GraphProblem], after: [GraphProblem]) -> [GraphProblem] {
        var counts: [GraphProblem: Int] = [:]
        for p in before { counts[p, default: 0] += 1 }
        var out: [GraphProblem] = []
        for p in after {
            if let c = counts[p], c > 0 { counts[p] = c - 1 } else { out.append(p) }
        }
        return out
    }
}
