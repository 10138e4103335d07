// The computed difference of two graphs: which node of one is which node of the other, what
// changed on the nodes that stayed (attributes, inputs), what was added and removed, and the
// replacements grouped as "5 nodes -> 1 node (pass fuse-layernorm)". The matching lives in
// NodeMatcher.swift, the grouping in DiffGroups.swift; this file holds the result and the entry
// point. Works on the top-level graph of each side (a changed If/Loop body shows as a changed
// attribute of its owner).

import GraphIR

/// How a node of the old graph was found in the new one.
public enum MatchKind: String, Sendable, CaseIterable {
    /// The same stable id (both graphs are versions of one model: they share an id space).
    case id
    /// The new node names the old one as its only source (a rewrite, a clone kept in place).
    case provenance
    /// The same op, attributes and matched producers (or consumers): graphs without shared
    /// ids, such as a plugin's result read back from a file.
    case signature
    /// The same op writing a value of the same name, where structure alone could not decide
    /// (a compiler rewrote the weights and the nodes around it but kept the tensor names).
    case value
}

/// What differs on a node that is in both graphs.
public struct NodeChange: Sendable, Equatable {
    /// Attributes added, removed or set to another value (by name, sorted).
    public var attributes: [String] = []
    /// Input slots that now read another value (another producer, another graph input or
    /// initializer, other initializer contents), or that were added or dropped.
    public var inputs: [Int] = []
    /// The op type or domain changed (only a provenance match can pair such nodes).
    public var op: Bool = false
    /// Number of outputs changed.
    public var outputs: Bool = false

    public init() {}

    /// True when nothing differs.
    public var isEmpty: Bool { attributes.isEmpty && inputs.isEmpty && !op && !outputs }

    /// `attributes epsilon; inputs 1`, for tables.
    public var summary: String {
        var parts: [String] = []
        if op { parts.append("op") }
        if !attributes.isEmpty { parts.append("attribute\(attributes.count == 1 ? "" : "s") " + attributes.joined(separator: ", ")) }
        if !inputs.isEmpty { parts.append("input\(inputs.count == 1 ? "" : "s") " + inputs.map(String.init).joined(separator: ", ")) }
        if outputs { parts.append("outputs") }
        return parts.joined(separator: "; ")
    }
}

/// One node present in both graphs.
public struct MatchedNode: Sendable, Equatable {
    /// The node's id in the old graph (`a`) and in the new one (`b`).
    public var a: NodeID
    public var b: NodeID
    /// How the pair was found.
    public var kind: MatchKind
    /// What differs; empty when unchanged.
    public var change: NodeChange
}

/// A replacement: old nodes that went away and the new nodes that stand for them.
public struct DiffGroup: Sendable, Equatable {
    /// Removed nodes of the old graph, in its order.
    public var removed: [NodeID]
    /// Added nodes of the new graph, in its order.
    public var added: [NodeID]
    /// What made the new nodes (`pass fuse-layernorm`, `plugin ort`, `edit`), when known.
    public var origin: String
    /// Op types on each side with counts, for the summary line (`5 nodes (ReduceMean x2, Sub, ...)`).
    public var removedOps: [String]
    public var addedOps: [String]

    /// `5 nodes -> 1 node (pass fuse-layernorm)`.
    public var summary: String {
        func n(_ c: Int) -> String { "\(c) node\(c == 1 ? "" : "s")" }
        return "\(n(removed.count)) -> \(n(added.count))" + (origin.isEmpty ? "" : " (\(origin))")
    }
}

/// The difference between an old graph `a` and a new graph `b`.
public struct GraphDiff: Sendable {
    /// Nodes in both, in `b`'s order.
    public var matched: [MatchedNode]
    /// Nodes only in `a` (in its order) and only in `b` (in its order).
    public var removed: [NodeID]
    public var added: [NodeID]
    /// Removed and added nodes grouped into replacements (every removed and added node is in
    /// exactly one group).
    public var groups: [DiffGroup]
    /// Graph inputs and outputs present on one side only (by name).
    public var inputsRemoved: [String] = []
    public var inputsAdded: [String] = []
    public var outputsRemoved: [String] = []
    public var outputsAdded: [String] = []

    /// Matched nodes whose change is empty.
    public var unchangedCount: Int { matched.lazy.filter { $0.change.isEmpty }.count }
    /// Matched nodes with a change.
    public var changed: [MatchedNode] { matched.filter { !$0.change.isEmpty } }
    /// True when the graphs have the same nodes, unchanged, and the same inputs and outputs.
    public var isEmpty: Bool {
        removed.isEmpty && added.isEmpty && matched.allSatisfy { $0.change.isEmpty }
            && inputsRemoved.isEmpty && inputsAdded.isEmpty && outputsRemoved.isEmpty && outputsAdded.isEmpty
    }

    /// The `b` id of each matched `a` id, and the reverse.
    public var aToB: [NodeID: NodeID] { Dictionary(matched.map { ($0.a, $0.b) }, uniquingKeysWith: { x, _ in x }) }
    public var bToA: [NodeID: NodeID] { Dictionary(matched.map { ($0.b, $0.a) }, uniquingKeysWith: { x, _ in x }) }

    /// Per op type: how many nodes of that type each side has, and how many were unchanged,
    /// changed, removed (counted on `a`'s op) and added (on `b`'s op). Sorted by op.
    public func opCounts(_ a: Graph, _ b: Graph) -> [OpCount] {
        var table: [String: OpCount] = [:]
        func at(_ op: String) -> OpCount { table[op] ?? OpCount(op: op) }
        for n in a.nodes { var c = at(n.qualifiedOpType); c.before += 1; table[c.op] = c }
        for n in b.nodes { var c = at(n.qualifiedOpType); c.after += 1; table[c.op] = c }
        for m in matched {
            guard let n = b.node(m.b) else { continue }
            var c = at(n.qualifiedOpType)
            if m.change.isEmpty { c.unchanged += 1 } else { c.changed += 1 }
            table[c.op] = c
        }
        for id in removed { if let n = a.node(id) { var c = at(n.qualifiedOpType); c.removed += 1; table[c.op] = c } }
        for id in added { if let n = b.node(id) { var c = at(n.qualifiedOpType); c.added += 1; table[c.op] = c } }
        return table.values.sorted { $0.op < $1.op }
    }

    /// One row of `opCounts`.
    public struct OpCount: Sendable, Equatable {
        public var op: String
        public var before = 0, after = 0, unchanged = 0, changed = 0, removed = 0, added = 0
        public init(op: String) { self.op = op }
    }
}

extension GraphDiff {
    /// Compares `a` (old) with `b` (new).
    ///
    /// Nodes are paired by stable id when the graphs share an id space (versions of one model),
    /// then by provenance (a new node whose only source is an unpaired old node of the same op),
    /// then by structural signature (op, domain, attributes, paired producers; then paired
    /// consumers), repeated until nothing more pairs. `lineage` gives the provenance of nodes
    /// that lived only in versions between `a` and `b` (a fused node later fused again), so
    /// sources are followed back to nodes of `a`. `origin` names what made `b` when its nodes
    /// carry no provenance (a plugin's result), for the groups.
    public static func compute(_ a: Graph, _ b: Graph, lineage: [NodeID: Provenance] = [:], origin: String = "") -> GraphDiff {
        var matcher = NodeMatcher(a, b, sharedIDs: a.sharesNodeIDs(with: b))
        matcher.matchByID()
        matcher.matchByProvenance(lineage: lineage)
        matcher.matchBySignature()
        if matcher.matchByValueName() { matcher.matchBySignature() }
        let matched = matcher.finish()
        var diff = GraphDiff(matched: matched.pairs, removed: matched.removed, added: matched.added, groups: [])
        diff.groups = DiffGrouping.groups(a, b, diff: diff, lineage: lineage, origin: origin)
        let ai = Set(a.inputs.map(\.name)), bi = Set(b.inputs.map(\.name))
        let ao = Set(a.outputs.map(\.name)), bo = Set(b.outputs.map(\.name))
        diff.inputsRemoved = a.inputs.map(\.name).filter { !bi.contains($0) }
        diff.inputsAdded = b.inputs.map(\.name).filter { !ai.contains($0) }
        diff.outputsRemoved = a.outputs.map(\.name).filter { !bo.contains($0) }
        diff.outputsAdded = b.outputs.map(\.name).filter { !ao.contains($0) }
        return diff
    }
}
