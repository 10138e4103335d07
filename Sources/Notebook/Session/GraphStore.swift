// The graphs a session holds: each under a name, with its tree of versions (`@0` as
// loaded; edits and passes add steps, undo/redo/checkout move between them) and, per version,
// the per-node figures other commands attach (overlay fields such as `latency` or `flops`).
// One graph is current.

import Foundation
import GraphEditing
import GraphIR
import GraphOps

/// One state of a graph. Versions are cheap: graphs share storage and tensor bytes.
public struct GraphVersion: Sendable {
    public var model: Model
    /// The module hierarchy of this version's top-level nodes, computed once.
    public var hierarchy: Hierarchy
    /// Every node, If/Loop/Scan bodies included, with display names, paths and lookups; made
    /// on first use (a load that is only summarized or drawn does not walk every name twice).
    public var catalog: NodeCatalog { catalogCache.value { NodeCatalog(model.graph, hierarchy: hierarchy) } }
    private let catalogCache = Lazy<NodeCatalog>()
    /// Symbolic types of every value (bodies included) and the nodes inference could not do;
    /// inferred once per version on first use (`info`, `check`, drawings, `export shapes=true`).
    public var inference: InferenceResult { inferenceCache.value { ShapeInference.infer(model) } }
    private let inferenceCache = Lazy<InferenceResult>()
    /// Every node checked against the op schemas, once per version (`load`'s note and `check`).
    public var schemaProblems: [SchemaProblem] { schemaCache.value { SchemaValidator().validate(model) } }
    private let schemaCache = Lazy<[SchemaProblem]>()
    /// Structural problems of the graph (GraphIR's `validate`), once per version (`check`, and
    /// the marks every drawing carries).
    public var structuralIssues: [ValidationIssue] { structureCache.value { model.graph.validate() } }
    private let structureCache = Lazy<[ValidationIssue]>()
    /// What made this version (`load`, a pass name, an edit).
    public var origin: String
    /// Per-node figures by field name (`estimate` attaches them), for this version only: an
    /// edit starts without them, and undo brings back the ones of the version it returns to.
    public var fields: [String: NodeField] = [:]
    /// Every problem of this version (structure, schema, shape), once per version: what
    /// `check` lists and what an edit is judged by.
    public var problems: [GraphProblem] {
        problemsCache.value { ModelCheck.problems(of: model, schemaProblems: schemaProblems, inference: inference, structure: structure) }
    }
    private let problemsCache = Lazy<[GraphProblem]>()
    /// Structural issues (GraphIR's `validate()`), once per version (the name edits use).
    public var structure: [ValidationIssue] { structuralIssues }

    /// This version's check results as the starting point of an incremental check.
    public var checkBaseline: IncrementalCheck.Baseline {
        IncrementalCheck.Baseline(model: model, schemaProblems: schemaProblems, inference: inference, structure: structure,
                                  problems: problems)
    }

    /// A version made by an edit, with the results of the edit's incremental check already in
    /// place (nothing is checked twice).
    public init(model: Model, origin: String, checked: IncrementalCheck.Result) {
        self.init(model: model, origin: origin)
        _ = inferenceCache.value { checked.inference }
        _ = schemaCache.value { checked.schemaProblems }
        _ = structureCache.value { checked.structure }
        _ = problemsCache.value { checked.problems }
    }

    /// Node, edge and parameter counts (history deltas).
    public var counts: GraphCounts {
        let g = model.graph
        var edges = 0
        for n in g.nodes { for i in n.inputs where !i.isEmpty { edges += 1 } }
        // Parameters as `summary` counts them: floating-point initializers and Constant values.
        var params: Int64 = 0
        for t in g.initializers where t.elementType.isFloatingPoint { params += Int64(t.elementCount ?? 0) }
        for n in g.nodes where n.opType == "Constant" {
            if case .tensor(let t)? = n.attribute("value"), t.elementType.isFloatingPoint { params += Int64(t.elementCount ?? 0) }
        }
        return GraphCounts(nodes: g.nodes.count, edges: edges, parameters: params)
    }

    /// This version's identity: the key under which the session keeps its interpreter
    /// (`InterpreterCache`). Like the caches above, it assumes `model` is not changed in place.
    let identity = VersionIdentity()

    public init(model: Model, origin: String) {
        self.model = model
        self.hierarchy = Hierarchy(model.graph)
        self.origin = origin
    }
}

/// Holds something a version computes once (its catalog, its inference). Versions are values
/// copied between cells and graphs are `Sendable`, so the one computation is guarded by a lock.
final class Lazy<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var made: Value?

    func value(_ make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let c = make()
        made = c
        return c
    }
}

/// A per-node figure a command attached, for overlays and rollups.
public struct NodeField: Sendable {
    public var values: [NodeID: Double]
    /// How the figure rolls up onto collapsed groups.
    public var rollup: Rollup
    /// The unit shown in legends (`s`, `FLOP`, `B`, `J`).
    public var unit: String

    public enum Rollup: String, Sendable { case sum, max, mean }

    public init(values: [NodeID: Double], rollup: Rollup, unit: String) {
        self.values = values
        self.rollup = rollup
        self.unit = unit
    }
}

/// A named graph in the session.
public struct GraphEntry: Sendable {
    public var name: String
    /// Where it was loaded from.
    public var source: URL
    /// Every version as a tree; the current step is the graph commands see.
    public var history: History<GraphVersion>
    /// Per-node figures of the current version.
    public var fields: [String: NodeField] {
        get { history.state.fields }
        set { history.state.fields = newValue }
    }
    /// The drawing state (renderer plus layout cache) of the step it was made for, made by
    /// `show`; keyed by step number, so undo then a new edit never shows a stale drawing.
    var renderState: RenderState?

    /// A graph as loaded: one version, step @0, made by `command` at `time` (the session's
    /// command time, which restore sets to the original one).
    public init(name: String, source: URL, model: Model, command: String, time: Date = Date()) {
        self.name = name
        self.source = source
        let v = GraphVersion(model: model, origin: "load")
        self.history = History(root: v, counts: v.counts, command: command, time: time)
    }

    /// The current version.
    public var current: GraphVersion { history.state }
    /// The current step number (`@N`).
    public var step: Int { history.current }
    public var model: Model { current.model }
    public var graph: Graph { current.model.graph }
    public var hierarchy: Hierarchy { current.hierarchy }
    public var catalog: NodeCatalog { current.catalog }
    /// The latest version's inference (computed once per version).
    public var inference: InferenceResult { current.inference }
    /// The latest version's schema problems (computed once per version).
    public var schemaProblems: [SchemaProblem] { current.schemaProblems }

    /// Parses `/a/b` (or `a/b`) into scope components, if that path exists (body scopes such as
    /// `If_0/then_branch` included).
    public func hierarchyPath(_ text: String) -> [String]? { catalog.scopePath(text) }
}

/// All graphs of a session, in load order.
public struct GraphStore: Sendable {
    public private(set) var entries: [GraphEntry] = []
    /// The name of the current graph.
    public private(set) var currentName: String?

    public init() {}

    /// The current graph, if any.
    public var current: GraphEntry? { currentName.flatMap { self[$0] } }

    public subscript(name: String) -> GraphEntry? { entries.first { $0.name == name } }

    /// Adds or replaces `entry` and makes it current.
    public mutating func put(_ entry: GraphEntry) {
        if let i = entries.firstIndex(where: { $0.name == entry.name }) { entries[i] = entry } else { entries.append(entry) }
        currentName = entry.name
    }

    /// Changes the entry named `name` in place.
    public mutating func modify(_ name: String, _ body: (inout GraphEntry) throws -> Void) rethrows {
        guard let i = entries.firstIndex(where: { $0.name == name }) else { return }
        try body(&entries[i])
    }

    /// Makes `name` current; false if there is no such graph.
    public mutating func use(_ name: String) -> Bool {
        guard self[name] != nil else { return false }
        currentName = name
        return true
    }

    /// Removes `name`; the most recently loaded remaining graph becomes current.
    public mutating func close(_ name: String) -> Bool {
        guard let i = entries.firstIndex(where: { $0.name == name }) else { return false }
        entries.remove(at: i)
        if currentName == name { currentName = entries.last?.name }
        return true
    }

    /// A free name derived from a file name: `resnet50`, then `resnet50_2`, ...
    public func freeName(for url: URL) -> String {
        var base = url.deletingPathExtension().lastPathComponent
        base = String(base.unicodeScalars.map { LineParser.isIdentifierChar($0) ? Character($0) : "_" })
        if base.isEmpty || !(base.unicodeScalars.first.map(LineParser.isIdentifierStart) ?? false) { base = "g_" + base }
        var name = base
        var k = 2
        while self[name] != nil { name = "\(base)_\(k)"; k += 1 }
        return name
    }
}
