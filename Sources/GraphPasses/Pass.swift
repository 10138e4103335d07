/// The `Pass` protocol and what a pass works with: the transaction its edits go through, the
/// options of the run (`target`, `scope`, `explain`), the annotations it must respect, and
/// what it reports (groups "5 nodes -> 1 LayerNormalization", near misses).
import GraphEditing
import GraphIR
import GraphOps

/// Which ops a fusion may emit: standard ONNX only, or also the com.microsoft ops
/// onnxruntime runs (FusedConv, SkipLayerNormalization, BiasGelu, ...).
public enum PassTarget: String, Sendable, CaseIterable {
    case onnx, ort
}

/// What a pass needs of the graph before it runs and promises after: checked around every
/// pass by the manager (schema validation plus shape inference).
public struct PassContract: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// No schema or structure errors (before: the pass refuses a broken graph; after: the pass
    /// introduced none).
    public static let validSchema = PassContract(rawValue: 1)
    /// Shape inference succeeds where it did before.
    public static let inferredShapes = PassContract(rawValue: 2)
    public static let all: PassContract = [.validSchema, .inferredShapes]
}

/// Options of one pass run.
public struct PassOptions: Sendable {
    public var target: PassTarget
    /// Record near misses (always recorded; `explain` asks the caller to show them).
    public var explain: Bool
    /// Only nodes under this hierarchy path are touched (nil: the whole graph).
    public var scope: [String]?
    /// Constant folding leaves results with more elements than this as they are.
    public var foldLimit: Int

    public init(target: PassTarget = .onnx, explain: Bool = false, scope: [String]? = nil, foldLimit: Int = 1 << 20) {
        self.target = target
        self.explain = explain
        self.scope = scope
        self.foldLimit = foldLimit
    }
}

/// A transformation of a whole graph. Every change goes through `context.tx`, so it is one
/// transaction (one history step), names stay unique and new nodes carry provenance.
public protocol Pass: Sendable {
    /// The name pipelines use (`fuse-layernorm`).
    var name: String { get }
    /// One line for `passes` and `help pass`.
    var doc: String { get }
    /// What the graph must satisfy before the pass (checked by the manager).
    var requires: PassContract { get }
    /// What the pass keeps true (checked by the manager after it; a pass that breaks it is
    /// rejected, naming the node).
    var ensures: PassContract { get }
    /// False for analysis passes, which never edit.
    var changesGraph: Bool { get }
    /// Runs the pass; returns whether it changed anything.
    func run(_ context: inout PassContext) throws -> Bool
}

extension Pass {
    public var requires: PassContract { [] }
    public var ensures: PassContract { .all }
    public var changesGraph: Bool { true }
}

/// "5 nodes -> 1 LayerNormalization (fuse-layernorm)": what one rewrite did.
public struct RewriteGroup: Sendable, Equatable {
    public var pass: String
    /// The nodes replaced (removed), as they were.
    public var removed: [NodeID]
    public var removedOps: [String]
    /// The nodes made.
    public var created: [NodeID]
    public var createdOps: [String]

    /// The group as a phrase.
    public var description: String {
        let made = created.isEmpty ? "nothing" : (createdOps.count == 1 ? "1 \(createdOps[0])" : "\(created.count) nodes (\(createdOps.joined(separator: ", ")))")
        return "\(removed.count) node\(removed.count == 1 ? "" : "s") -> \(made) (\(pass))"
    }
}

/// Why a pattern did not apply to a candidate: the condition that failed, the node it failed
/// on, and the nodes matched before it failed.
public struct NearMiss: Sendable, Equatable {
    public var pass: String
    public var pattern: String
    /// The root the match started from.
    public var root: NodeID
    public var condition: String
    public var failedAt: NodeID?
    public var matched: [NodeID]
}

/// What a pass reads and writes while it runs.
public struct PassContext {
    /// The transaction every edit goes through.
    public var tx: Transaction
    public let options: PassOptions
    /// The running pass's name (stamped on groups and near misses).
    public let passName: String
    /// Shape facts of the graph as the pass started (values the pass made have none).
    public let inference: InferenceResult
    public let registry: OpRegistry
    public internal(set) var groups: [RewriteGroup] = []
    public internal(set) var nearMisses: [NearMiss] = []
    /// Weights rescaled so far in this run (see `ChannelScaling.Cache`).
    var scalings = ChannelScaling.Cache()
    private let scoped: Set<NodeID>?

    public init(tx: Transaction, options: PassOptions, passName: String, inference: InferenceResult, registry: OpRegistry = .builtIn) {
        self.tx = tx
        self.options = options
        self.passName = passName
        self.inference = inference
        self.registry = registry
        if let scope = options.scope, !scope.isEmpty {
            self.scoped = Set(Hierarchy(tx.model.graph).nodes(under: scope))
        } else {
            self.scoped = nil
        }
    }

    /// The graph as edited so far.
    public var graph: Graph { tx.model.graph }
    public var model: Model { tx.model }

    /// True when `scope=` lets the pass touch node `id` (nodes made by this run are inside).
    public func inScope(_ id: NodeID) -> Bool {
        guard let scoped else { return true }
        return scoped.contains(id) || (graph.node(id).map { !$0.provenance.origin.isEmpty && $0.provenance.origin == "pass \(passName)" } ?? false)
    }

    /// `keep=true` nodes are never removed.
    public func mayRemove(_ id: NodeID) -> Bool {
        graph.node(id)?.annotations["keep"] != "true" && inScope(id)
    }

    /// `fuse=false` nodes are never fused (and `keep=true` ones never disappear into a fusion).
    public func mayFuse(_ id: NodeID) -> Bool {
        guard let n = graph.node(id) else { return false }
        return n.annotations["fuse"] != "false" && n.annotations["keep"] != "true" && inScope(id)
    }

    /// The imported version of the default domain.
    public var onnxOpset: Int64 { model.opsetVersion(for: "") ?? 1 }

    /// Records a near miss (for `explain=true` and `why NODE`).
    public mutating func nearMiss(pattern: String, root: NodeID, condition: String, at node: NodeID?, matched: [NodeID]) {
        nearMisses.append(NearMiss(pass: passName, pattern: pattern, root: root, condition: condition, failedAt: node, matched: matched))
    }

    /// Records a rewrite group.
    mutating func record(removed: [Node], created: [NodeID]) {
        let ops = created.compactMap { graph.node($0)?.qualifiedOpType }
        groups.append(RewriteGroup(pass: passName, removed: removed.map(\.id), removedOps: removed.map(\.qualifiedOpType),
                                   created: created, createdOps: ops))
    }

    // MARK: - Facts

    /// The inferred static shape of `value`, when every dim is a number.
    public func staticShape(_ value: String) -> [Int64]? {
        if let t = graph.initializer(named: value) { return t.dims }
        guard let dims = inference.type(of: value)?.dims else { return nil }
        var out: [Int64] = []
        for d in dims { guard let v = d?.intValue else { return nil }; out.append(v) }
        return out
    }

    /// The inferred rank of `value`.
    public func rank(_ value: String) -> Int? {
        if let t = graph.initializer(named: value) { return t.dims.count }
        return inference.type(of: value)?.dims?.count
    }

    /// The inferred dims (symbolic allowed) of `value`.
    public func dims(_ value: String) -> [SymDim?]? {
        if let t = graph.initializer(named: value) { return t.dims.map { SymDim($0) } }
        return inference.type(of: value)?.dims
    }

    /// The element type of `value`.
    public func elementType(_ value: String) -> ElementType? {
        if let t = graph.initializer(named: value) { return t.elementType }
        return inference.type(of: value)?.elementType
    }

    /// The constant tensor behind `value`: an initializer (not also a graph input, which a
    /// caller may override, except under IR version 3 and older, where every initializer is
    /// listed as an input and none is overridable) or a Constant node's `value`.
    public func constant(_ value: String) -> Tensor? {
        if let t = graph.initializer(named: value) {
            return model.irVersion >= 4 && graph.inputs.contains(where: { $0.name == value }) ? nil : t
        }
        guard let n = graph.producerNode(of: value), n.opType == "Constant", n.domain.isEmpty || n.domain == "ai.onnx" else { return nil }
        return ConstantValues.tensor(of: n)
    }

    /// A constant's values as doubles (small tensors only).
    public func constantDoubles(_ value: String, limit: Int = 1 << 16) -> [Double]? {
        guard let t = constant(value), (t.elementCount ?? .max) <= limit else { return nil }
        return try? t.doubleValues()
    }

    /// A constant's values as integers (small tensors only); nil when one is not a whole
    /// number an Int64 holds, so a hostile NaN or 1e30 in an axes or shape constant makes the
    /// pattern not match instead of trapping.
    public func constantInts(_ value: String, limit: Int = 1 << 16) -> [Int64]? {
        guard let v = constantDoubles(value, limit: limit) else { return nil }
        var out: [Int64] = []
        out.reserveCapacity(v.count)
        for x in v {
            guard x.isFinite, x == x.rounded(), Swift.abs(x) < 9.2e18 else { return nil }
            out.append(Int64(x))
        }
        return out
    }

    /// A constant scalar (or a tensor of one element).
    public func scalar(_ value: String) -> Double? {
        guard let v = constantDoubles(value, limit: 1), v.count == 1 else { return nil }
        return v[0]
    }

    /// The nodes reading `value` (by input), and whether it is a graph output.
    public func consumers(_ value: String) -> [NodeID] { graph.uses(of: value).map(\.node) }

    public func isGraphOutput(_ value: String) -> Bool { graph.outputs.contains { $0.name == value } }

    /// True when `value` is read by exactly one node input and is no graph output.
    public func hasSingleUse(_ value: String) -> Bool { graph.useCount(of: value) == 1 && !isGraphOutput(value) }
}

/// Reading constants out of Constant nodes.
public enum ConstantValues {
    /// The tensor a Constant node makes (any of its value attributes), nil for sparse ones.
    public static func tensor(of n: Node) -> Tensor? {
        guard let a = n.attributes.first else { return nil }
        switch a.value {
        case .tensor(let t): return t
        case .float(let f): return Tensor(floats: [f], dims: [])
        case .floats(let fs): return Tensor(floats: fs, dims: [Int64(fs.count)])
        case .int(let i): return Tensor(int64s: [i], dims: [])
        case .ints(let xs): return Tensor(int64s: xs, dims: [Int64(xs.count)])
        default: return nil
        }
    }
}

/// A pass refused or a pipeline that cannot run, in words naming the pass and node.
public struct PassError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
