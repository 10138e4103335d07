// A diff in Model Explorer's terms (docs: ../shared/formats/model-explorer-json.md §10, §14):
// a sync-navigation mapping file for its two-pane compare (pairs plus the replacement groups as
// mapping entries, diff highlights on) and one node-data file per side that colours each node
// by its status. Node keys are the ids our Model Explorer graph export writes (`n12`), passed in
// so this target needs no format code.

import Foundation
import GraphIR

/// Per-node status of a diff, as numbers a node-data file can colour by thresholds.
public enum DiffStatus: Int, Sendable, CaseIterable {
    case unchanged = 0, changed = 1, removed = 2, added = 3

    public var name: String { String(describing: self) }
    /// The drawing's colours: removed red, added green, changed amber.
    public var color: String {
        switch self {
        case .unchanged: return "#eceff1"
        case .changed: return "#ffb300"
        case .removed: return "#e53935"
        case .added: return "#43a047"
        }
    }
}

extension GraphDiff {
    /// The status of every node of the old graph (`a`) and of the new one (`b`), by id.
    public func statuses() -> (a: [NodeID: DiffStatus], b: [NodeID: DiffStatus]) {
        var sa: [NodeID: DiffStatus] = [:], sb: [NodeID: DiffStatus] = [:]
        for m in matched {
            let s: DiffStatus = m.change.isEmpty ? .unchanged : .changed
            sa[m.a] = s
            sb[m.b] = s
        }
        for id in removed { sa[id] = .removed }
        for id in added { sb[id] = .added }
        return (sa, sb)
    }

    /// Model Explorer's sync-navigation JSON: `mapping` pairs every matched node, and each
    /// replacement group is a `mappingEntries` item (old ids left, new ids right), so selecting
    /// a fused node in one pane shows what it replaced in the other.
    public func modelExplorerMapping(nodeKey: (NodeID) -> String = { "n\($0.rawValue)" }) -> String {
        var mapping: [String: String] = [:]
        for m in matched { mapping[nodeKey(m.a)] = nodeKey(m.b) }
        let entries: [[String: Any]] = groups.map {
            ["leftNodeIds": $0.removed.map(nodeKey), "rightNodeIds": $0.added.map(nodeKey)]
        }
        let object: [String: Any] = [
            "type": "sync_navigation", "mapping": mapping, "mappingEntries": entries, "showDiffHighlights": true,
            "deletedNodesBorderColor": DiffStatus.removed.color, "newNodesBorderColor": DiffStatus.added.color,
        ]
        return Self.json(object)
    }

    /// Node data for one side (model form, keyed by `graphID`): each node's status as a number
    /// (0 unchanged, 1 changed, 2 removed, 3 added) with its colour, plus thresholds so a
    /// viewer that ignores per-node colours still colours by the same rule.
    public func modelExplorerNodeData(side: Side, graphID: String = "main", name: String,
                                      nodeKey: (NodeID) -> String = { "n\($0.rawValue)" }) -> String {
        let st = statuses()
        let map = side == .old ? st.a : st.b
        var results: [String: Any] = [:]
        for (id, s) in map { results[nodeKey(id)] = ["value": s.rawValue, "bgColor": s.color] as [String: Any] }
        let thresholds: [[String: Any]] = DiffStatus.allCases.map { ["value": $0.rawValue, "bgColor": $0.color] }
        return Self.json([graphID: ["name": name, "results": results, "thresholds": thresholds] as [String: Any]])
    }

    /// Which graph of the diff.
    public enum Side: Sendable { case old, new }

    static func json(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }
}
