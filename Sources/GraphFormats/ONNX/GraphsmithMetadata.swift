/// Graphsmith's own node metadata in ONNX `metadata_props`: a node's stable id, its
/// annotations and its provenance, so they survive export → load. Owns the key scheme, the
/// rule for when an entry is written, and how a reader turns saved ids back into node ids.
///
/// Keys (all under `graphsmith.`):
/// - `graphsmith.id` = `n12`: written only when the node's id differs from the id a fresh
///   load of the written file would assign it (its position in the reader's model-wide
///   numbering: main graph in order, each node before its bodies, then functions). A file
///   that was loaded and exported without edits therefore gets no entry and stays
///   byte-identical; after edits, every node whose id moved carries it.
/// - `graphsmith.annotation.KEY` = value: one per annotation, keys sorted.
/// - `graphsmith.provenance.origin` = what made the node; `graphsmith.provenance.sources` =
///   `n3,n4`: written when the node has provenance.
///
/// Reading: saved ids are claimed first (in file order), then nodes without one take their
/// position. An id that is malformed, repeated, or implausibly large (more than
/// `maxIDAboveCount` above the node count, which would make id tables huge) is dropped, and
/// so is a position another node claimed: those nodes get fresh ids above every id in the
/// model, and the load goes on.
import Foundation
import GraphIR

/// The `graphsmith.*` node metadata scheme (see the file header).
public enum GraphsmithMetadata {
    public static let prefix = "graphsmith."
    public static let idKey = "graphsmith.id"
    public static let annotationPrefix = "graphsmith.annotation."
    public static let originKey = "graphsmith.provenance.origin"
    public static let sourcesKey = "graphsmith.provenance.sources"
    /// Saved ids may exceed the model's node count by at most this much.
    public static let maxIDAboveCount = 1 << 20

    /// The entries to write after a node's own metadata, for a node the reader will number
    /// `position`.
    static func entries(for n: Node, position: Int) -> [MetadataEntry] {
        var out: [MetadataEntry] = []
        if n.id.rawValue != position { out.append(MetadataEntry(key: idKey, value: n.id.description)) }
        if !n.annotations.isEmpty {
            for (k, v) in n.annotations.sorted(by: { $0.key < $1.key }) {
                out.append(MetadataEntry(key: annotationPrefix + k, value: v))
            }
        }
        if !n.provenance.origin.isEmpty { out.append(MetadataEntry(key: originKey, value: n.provenance.origin)) }
        if !n.provenance.sources.isEmpty {
            out.append(MetadataEntry(key: sourcesKey, value: n.provenance.sources.map(\.description).joined(separator: ",")))
        }
        return out
    }

    /// What one node's saved entries say.
    struct Decoded {
        var idText: String?
        var annotations: [String: String] = [:]
        var provenance = Provenance()
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

    /// The final id of each of `count` nodes numbered by position, given the saved ids
    /// `claims` (position, text) in file order; and one line per node that had to get a
    /// fresh id.
    static func resolveIDs(count: Int, claims: [(position: Int, text: String)]) -> (ids: [Int], problems: [String]) {
        var ids = Array(0..<count)
        var taken = Set<Int>()
        var claimed = Set<Int>()  // positions whose saved id was accepted
        var needsFresh: [Int] = []
        var problems: [String] = []
        for (p, text) in claims where p >= 0 && p < count {
            guard let q = parseID(text), q <= count + maxIDAboveCount else {
                problems.append("node \(p): saved id '\(text)' is not an id like n12 within range")
                needsFresh.append(p)
                claimed.insert(p)
                continue
            }
            if !taken.insert(q).inserted {
                problems.append("node \(p): saved id \(text) is already used by another node")
                needsFresh.append(p)
                claimed.insert(p)
                continue
            }
            ids[p] = q
            claimed.insert(p)
        }
        for p in 0..<count where !claimed.contains(p) {
            if !taken.insert(p).inserted {
                problems.append("node \(p): its position id n\(p) is saved for another node")
                needsFresh.append(p)
            }
        }
        var next = max(count, (taken.max() ?? -1) + 1)
        for p in needsFresh.sorted() {
            ids[p] = next
            next += 1
        }
        return (ids, problems)
    }
}
