/// The module hierarchy of a graph as a queryable value: each node's path comes from an
/// explicit `Node.hierarchyPath`, else torch exporter metadata (`pkg.torch.onnx.name_scopes`,
/// `namespace`), else a `/a/b/Op`-style node name, else the root (flat).

/// A tree of named scopes over a graph's nodes, computed once from the graph.
public struct Hierarchy: Sendable {
    /// Where a node's path came from.
    public enum Source: String, Sendable { case explicit, nameScopes, namespace, nodeName, flat }

    /// Path of every node (empty = root).
    public private(set) var paths: [NodeID: [String]] = [:]
    /// How each node's path was derived.
    public private(set) var sources: [NodeID: Source] = [:]
    /// The scopes over the nodes.
    private var tree = ScopeTree<NodeID>()

    /// Computes the hierarchy of the top-level nodes of `graph`, in node order.
    public init(_ graph: Graph) {
        for n in graph.nodes {
            let (p, src) = Hierarchy.path(of: n)
            paths[n.id] = p
            sources[n.id] = src
            tree.add(n.id, at: p)
        }
    }

    /// The path of node `id` (empty for root-level nodes or unknown ids).
    public func path(of id: NodeID) -> [String] { paths[id] ?? [] }

    /// Names of the child scopes directly under `path`, in first-appearance order.
    public func children(of path: [String]) -> [String] { tree.children(of: path) }

    /// Nodes whose path is exactly `path`.
    public func nodes(directlyIn path: [String]) -> [NodeID] { tree.members(directlyIn: path) }

    /// All nodes at or below `path`, in node order within each scope, parents before children.
    public func nodes(under path: [String]) -> [NodeID] { tree.members(under: path) }

    /// Number of nodes at or below `path` (0 for unknown paths).
    public func count(under path: [String]) -> Int { tree.count(under: path) }

    /// Every scope path that has nodes at or below it (root excluded), parents before children.
    public var allPaths: [[String]] { tree.allPaths }

    /// True when no node has a non-empty path.
    public var isFlat: Bool { tree.isFlat }

    /// Derives one node's path.
    public static func path(of n: Node) -> ([String], Source) {
        if let p = n.hierarchyPath { return (p, .explicit) }
        if let raw = n.metadataProps["pkg.torch.onnx.name_scopes"], let scopes = parsePythonStringList(raw) {
            // Entries are cumulative module names ('', 'layers.0', 'layers.0.attn', <node>):
            // drop the root and the node's own name, and keep each level relative to its parent.
            var levels = scopes
            if !levels.isEmpty { levels.removeLast() }
            var path: [String] = []
            var parent = ""
            for s in levels where !s.isEmpty {
                if !parent.isEmpty && s.hasPrefix(parent + ".") { path.append(String(s.dropFirst(parent.count + 1))) }
                else { path.append(s) }
                parent = s
            }
            return (path, .nameScopes)
        }
        if let ns = n.metadataProps["namespace"], !ns.isEmpty {
            // "name: Class/name2: Class2/.../node: target": the last segment is the node.
            var segs = ns.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if !segs.isEmpty { segs.removeLast() }
            var path: [String] = []
            var parent = ""
            for seg in segs {
                let name = seg.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? seg
                if name.isEmpty { continue }
                if !parent.isEmpty && name.hasPrefix(parent + ".") { path.append(String(name.dropFirst(parent.count + 1))) }
                else { path.append(name) }
                parent = name
            }
            return (path, .namespace)
        }
        if n.name.hasPrefix("/") {
            var segs = n.name.split(separator: "/").map(String.init)
            if !segs.isEmpty { segs.removeLast() }
            return (segs, segs.isEmpty ? .flat : .nodeName)
        }
        return ([], .flat)
    }

    /// Parses a Python `repr` of a list of strings (`['', 'a.b', "c'd"]`); nil if malformed.
    static func parsePythonStringList(_ s: String) -> [String]? {
        let chars = Array(s.trimmingCharacters(in: .whitespaces))
        guard chars.first == "[", chars.last == "]" else { return nil }
        var out: [String] = []
        var i = 1
        while i < chars.count - 1 {
            let c = chars[i]
            if c == " " || c == "," { i += 1; continue }
            guard c == "'" || c == "\"" else { return nil }
            let quote = c
            var cur = ""
            i += 1
            var closed = false
            while i < chars.count - 1 || (i == chars.count - 1 && chars[i] == quote) {
                let d = chars[i]
                if d == "\\" && i + 1 < chars.count {
                    cur.append(chars[i + 1])
                    i += 2
                    continue
                }
                if d == quote { closed = true; i += 1; break }
                cur.append(d)
                i += 1
            }
            if !closed { return nil }
            out.append(cur)
        }
        return out
    }
}
