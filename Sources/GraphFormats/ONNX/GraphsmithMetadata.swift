/// Graphsmith's own node metadata in ONNX `metadata_props`: a node's stable id, its
/// annotations and its provenance, so they survive export → load. Owns the key scheme, the
/// rule for when an entry is written, and how a reader turns saved ids back into node ids.
///
/// Keys (all under `graphsmith.`):
/// - `graphsmith.id` = `n12`: written only where a node's id is not the one a reader gives a
///   node without a saved id: the previous node's id plus one, in the reader's model-wide
///   order (main graph in order, each node before its bodies, then functions; the first node
///   0). A file loaded and exported without edits therefore gets no entry and stays
///   byte-identical; after edits only the nodes where the sequence jumps carry one (an
///   inserted node and the node after it; the node after a removed one).
/// - `graphsmith.annotation.KEY` = value: one per annotation, keys sorted.
/// - `graphsmith.provenance.origin` = what made the node; `graphsmith.provenance.sources` =
///   `n3,n4`: written when the node has provenance.
/// - `graphsmith.path` = the node's explicit hierarchy path as a JSON list of scope names
///   (a fused node sits in the common scope of its sources); written only when set.
///
/// Reading: in that order, each node takes its saved id, or the previous node's id plus one.
/// An id that is malformed, implausibly large (more than `maxIDAboveCount` above the node
/// count, which would make id tables huge) or already taken by an earlier node is dropped:
/// that node gets a fresh id above every id in the model, and the load goes on.
import Foundation
import GraphIR

/// The `graphsmith.*` node metadata scheme (see the file header).
public enum GraphsmithMetadata {
    public static let prefix = "graphsmith."
    public static let idKey = "graphsmith.id"
    public static let annotationPrefix = "graphsmith.annotation."
    public static let originKey = "graphsmith.provenance.origin"
    public static let sourcesKey = "graphsmith.provenance.sources"
    public static let pathKey = "graphsmith.path"
    /// Saved ids may exceed the model's node count by at most this much.
    public static let maxIDAboveCount = 1 << 20

    /// The entries to write after a node's own metadata, for a node a reader would give
    /// `implicitID` when it saved none.
    static func entries(for n: Node, implicitID: Int) -> [MetadataEntry] {
        var out: [MetadataEntry] = []
        if n.id.rawValue != implicitID { out.append(MetadataEntry(key: idKey, value: n.id.description)) }
        if !n.annotations.isEmpty {
            for (k, v) in n.annotations.sorted(by: { $0.key < $1.key }) {
                out.append(MetadataEntry(key: annotationPrefix + k, value: v))
            }
        }
        if !n.provenance.origin.isEmpty { out.append(MetadataEntry(key: originKey, value: n.provenance.origin)) }
        if !n.provenance.sources.isEmpty {
            out.append(MetadataEntry(key: sourcesKey, value: n.provenance.sources.map(\.description).joined(separator: ",")))
        }
        if let p = n.hierarchyPath, let data = try? JSONSerialization.data(withJSONObject: p), let text = String(data: data, encoding: .utf8) {
            out.append(MetadataEntry(key: pathKey, value: text))
        }
        return out
    }

    /// What one node's saved entries say.
    struct Decoded {
        var idText: String?
        var annotations: [String: String] = [:]
        var provenance = Provenance()
        var path: [String]?
    }

    /// Splits a node's metadata into the entries to keep and Graphsmith's own (nil when there
    /// are none, the common case, decided by one scan). Unknown `graphsmith.*` keys are kept
    /// as plain metadata, so nothing is lost.
    static func split(_ entries: [MetadataEntry]) -> (kept: [MetadataEntry], decoded: Decoded)? {
        guard entries.contains(where: { $0.key.hasPrefix(prefix) }) else { return nil }
        var kept: [MetadataEntry] = []
        var d = Decoded()
        for e in entries {
            if e.key == idKey, d.idText == nil {
                d.idText = e.value
            } else if e.key.hasPrefix(annotationPrefix), e.key.count > annotationPrefix.count {
                let k = String(e.key.dropFirst(annotationPrefix.count))
                if d.annotations[k] == nil { d.annotations[k] = e.value }
            } else if e.key == originKey {
                d.provenance.origin = e.value
            } else if e.key == pathKey, let data = e.value.data(using: .utf8),
                      let p = (try? JSONSerialization.jsonObject(with: data)) as? [String] {
                d.path = p
            } else if e.key == sourcesKey {
                d.provenance.sources = e.value.split(separator: ",").compactMap { parseID(String($0)) }.map(NodeID.init)
            } else {
                kept.append(e)
            }
        }
        return (kept, d)
    }

    /// `n12` → 12; nil for anything else.
    static func parseID(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.first == "n", t.count > 1, t.count <= 19, t.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(t.dropFirst())
    }

    /// The final id of each of `count` nodes in reader order, given the saved ids `claims`
    /// (position, text): a node without one follows the one before it (previous id + 1, the
    /// first node 0). Also one line per node that had to get a fresh id.
    static func resolveIDs(count: Int, claims: [(position: Int, text: String)]) -> (ids: [Int], problems: [String]) {
        var saved: [Int: String] = [:]
        for (p, text) in claims where saved[p] == nil { saved[p] = text }
        var ids = Array(0..<count)
        var taken = Set<Int>()
        var needsFresh: [Int] = []
        var problems: [String] = []
        var previous = -1
        for p in 0..<count {
            var wanted = previous + 1
            if let text = saved[p] {
                guard let q = parseID(text), q <= count + maxIDAboveCount else {
                    problems.append("node \(p): saved id '\(text)' is not an id like n12 within range")
                    needsFresh.append(p)
                    previous = wanted
                    continue
                }
                wanted = q
            }
            previous = wanted
            if taken.insert(wanted).inserted {
                ids[p] = wanted
            } else {
                problems.append("node \(p): id n\(wanted) is already used by another node")
                needsFresh.append(p)
            }
        }
        var next = max(count, (taken.max() ?? -1) + 1)
        for p in needsFresh {
            ids[p] = next
            next += 1
        }
        return (ids, problems)
    }
}
