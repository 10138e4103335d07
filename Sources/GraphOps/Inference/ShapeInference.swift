/// Public entry point of symbolic type and shape inference on `GraphIR.Graph`, and its result.
///
/// Inference runs once, symbolically: graph inputs keep their named dims (`batch`, `seq`),
/// unnamed unknown input dims get a fresh symbol each (`x_d2`), and every value gets a type
/// whose dims are expressions over those symbols. Binding sizes (`batch=8 seq=512`, or a full
/// input shape `x:1x3x224x224`) is then substitution into that result (`substituting`), never
/// a second pass, so one inference serves every binding a sweep or a notebook tries.
import GraphIR

/// Something inference could not do, naming the node and why.
public struct InferenceProblem: Hashable, Sendable, CustomStringConvertible {
    /// The node's id (unique within its graph).
    public var node: NodeID
    /// The node's display name (`name`, or `OpType_id`).
    public var nodeName: String
    /// `domain::op` or `op`.
    public var opType: String
    /// Where the node lives: empty for the main graph, else body keys from the outside in
    /// (`n12/body`).
    public var scope: [String]
    /// What went wrong (`no inference rule for op Foo`, `input 0 ('x') has an unknown rank`).
    public var reason: String
    /// What sort of problem: only `inconsistent` means the model is wrong.
    public var kind: Kind = .inconsistent

    /// The sorts of inference problem.
    public enum Kind: String, Hashable, Sendable {
        /// No rule covers this op (or this form of it): its outputs stay unknown.
        case noRule
        /// Something the rule needs (a type, rank, shape or known contents) is not known.
        case unknownInput
        /// Shapes or types that cannot all hold.
        case inconsistent
    }

    public var description: String {
        let at = scope.isEmpty ? "" : scope.joined(separator: " > ") + " > "
        return "\(at)\(nodeName) (\(opType), \(node)): \(reason)"
    }
}

/// Inferred facts for every value of a graph and its bodies, plus the problems found.
public struct InferenceResult: Sendable {
    /// Facts per value name of the main graph (inputs, initializers, node outputs); a table whose
    /// copies share storage, so re-inference after an edit costs what it changes.
    public var values: FactTable
    /// Facts per value of each If/Loop/Scan body and called function, by body key
    /// (`n12/then_branch`; nested bodies `n12/body/n3/else_branch`). Tables like `values`:
    /// the walk's own, handed over without re-keying every name.
    public var bodies: [String: FactTable]
    /// Problems in node order (bodies where they occur).
    public var problems: [InferenceProblem]

    /// The inferred type of a main-graph value.
    public func type(of name: String) -> SymType? { values[name]?.type }

    /// The inferred type in GraphIR form (expressions as `Dim.symbolic` text).
    public func valueType(of name: String) -> ValueType? { values[name]?.type?.valueType }

    /// Every symbol the main graph's types mention (what a binding may name).
    public var symbols: Set<String> {
        var out = Set<String>()
        for f in values.values {
            if case .tensor(_, let dims?)? = f.type { for d in dims { d?.collectSymbols(into: &out) } }
        }
        return out
    }

    /// The result with bound symbols replaced by their values (`batch=8`): dims whose symbols
    /// are all bound become numbers; the rest stay symbolic.
    public func substituting(_ bindings: [String: SymDim]) -> InferenceResult {
        if bindings.isEmpty { return self }
        var out = self
        out.values = values.mapValues { $0.substituting(bindings) }
        out.bodies = bodies.mapValues { $0.mapValues { $0.substituting(bindings) } }
        return out
    }

    /// Integer bindings (`["batch": 8, "seq": 512]`).
    public func substituting(_ bindings: [String: Int64]) -> InferenceResult {
        substituting(bindings.mapValues { SymDim($0) })
    }

    /// Bindings that give graph input `name` the concrete `shape` (`shape=x:1x3x224x224`): each
    /// symbolic dim of its inferred type is bound to the size at its position. Throws when the
    /// rank differs or a fixed dim disagrees, naming the input and dimension.
    public func bindings(forInput name: String, shape: [Int64]) throws -> [String: SymDim] {
        guard case .tensor(_, let dims?)? = values[name]?.type else {
            throw InferenceFailure("input '\(name)' has no inferred tensor shape to bind")
        }
        guard dims.count == shape.count else {
            throw InferenceFailure("input '\(name)' has rank \(dims.count), shape \(shape) has rank \(shape.count)")
        }
        var out: [String: SymDim] = [:]
        for i in dims.indices {
            let size = shape[i]
            let fixed = dims[i]?.intValue
            let symbol = dims[i]?.symbolName
            if let fixed, fixed != size { throw InferenceFailure("input '\(name)' dim \(i) is \(fixed), not \(size)") }
            guard let symbol else { continue }
            let prior = out[symbol]?.intValue
            if let prior, prior != size {
                throw InferenceFailure("symbol '\(symbol)' of input '\(name)' bound to both \(prior) and \(size)")
            }
            out[symbol] = SymDim(size)
        }
        return out
    }
}

/// Symbolic type and shape inference over `GraphIR.Graph`.
public enum ShapeInference {
    /// Infers every value's type in a model (its opset imports and local functions apply).
    public static func infer(_ model: Model, registry: OpRegistry = .builtIn, walk: Walk = .automatic) -> InferenceResult {
        var opsets: [String: Int64] = [:]
        for o in model.opsetImports { opsets[o.domain == "ai.onnx" ? "" : o.domain] = o.version }
        return infer(model.graph, opsets: opsets, functions: model.functions, registry: registry, walk: walk)
    }

    /// How the main graph is walked. All give the same result; `packed` and `general` exist
    /// so that tests and `onnx-tool infer --walk` can check that they do.
    public enum Walk: Sendable {
        /// The packed walk where it applies and pays: a graph whose nodes hold no bodies and
        /// are nine in ten of ops the packed rules cover (CNNs). A graph that computes its
        /// shapes at run time (the Shape, Gather and Concat chains of transformer exports)
        /// spends its time in the general rules, where the packed records cost more than they
        /// save.
        case automatic
        /// The packed walk wherever it applies (no bodies).
        case packed
        /// The general walk only: facts by name, general rules for every node.
        case general
    }

    /// Infers every value's type in `graph`.
    /// - Parameters:
    ///   - opsets: opset version per domain (`""` for ai.onnx); a missing default domain means
    ///     the newest rules.
    ///   - functions: model-local functions, inferred through their bodies where called.
    ///   - registry: the op schemas whose attribute defaults the rules read.
    ///   - walk: which walk (`.automatic` but for cross-checks).
    /// - Returns: facts per value, body facts, and every node it could not infer, with why.
    public static func infer(_ graph: Graph, opsets: [String: Int64] = [:], functions: [Function] = [],
                             registry: OpRegistry = .builtIn, walk: Walk = .automatic) -> InferenceResult {
        let engine = InferenceEngine(opsets: opsets, functions: functions, registry: registry)
        if walk != .general, InferenceEngine.packedWalkApplies(graph), walk == .packed || engine.packedWalkPays(graph) {
            let table = engine.runPacked(graph)
            return InferenceResult(values: FactTable(packed: table), bodies: engine.bodies, problems: engine.problems)
        }
        let run = engine.run(graph, outer: [], bodyInputs: nil, scope: [], keyPrefix: "")
        return InferenceResult(values: FactTable(keyed: run.values), bodies: engine.bodies, problems: engine.problems)
    }

    /// Op types (`domain::op` for other domains) that have an inference rule.
    public static var supportedOps: [String] { InferenceRules.table.keys.sorted() }
}
