// The graphs a session holds: each under a name, with its list of versions (`@0` as
// loaded; edits and passes append more) and the per-node figures other commands attach
// (overlay fields such as `latency` or `flops`). One graph is current.

import Foundation
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
    public var versions: [GraphVersion]
    /// Per-node figures by field name, for the latest version.
    public var fields: [String: NodeField] = [:]
    /// The drawing state of the latest version (renderer plus layout cache), made by `show`.
    var renderState: RenderState?

    /// The latest version.
    public var current: GraphVersion { versions[versions.count - 1] }
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
