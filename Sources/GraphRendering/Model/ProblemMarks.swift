// Problems other parts found on nodes (schema checks, shape inference), as plain per-node data
// the drawing marks: an outline and a badge on the node (or on the collapsed group holding it),
// the messages in its tooltip and side panel, a legend entry, and edges whose shape is unknown
// because inference failed upstream drawn dashed. The renderer knows nothing of the checkers;
// the caller fills this like an overlay, keyed by node id. Also: the neighbourhood of some
// nodes as a smaller graph, so a report about 3 nodes of a 10,000-node model draws only them.

/// Node problems to mark in a drawing.
public struct ProblemMarks: Sendable, Equatable {
    /// How bad a problem is; an error outranks a warning on a node or group with both.
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        case error, warning

        /// An error sorts first, so `min` of two severities is the worse one.
        public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }

        /// Outline and badge colour.
        var color: String { self == .error ? "#d32f2f" : "#ef8f00" }
    }

    /// What is wrong with one node.
    public struct Mark: Sendable, Equatable {
        /// The worst severity among `messages`.
        public var severity: Severity
        /// One line per problem (`schema: attribute auto_pad: expected one of ...`).
        public var messages: [String]
        public init(severity: Severity, messages: [String]) { self.severity = severity; self.messages = messages }
    }

    /// Marks by node id (`RenderGraph.Node.id`).
    public var nodes: [String: Mark] = [:]
    /// Tensors whose shape is unknown because shape inference failed on a node upstream; the
    /// edges carrying them are drawn dashed.
    public var unknownShapes: Set<String> = []
    /// Broken inputs: per node id, the tensors it reads that a problem names (a mistyped or
    /// dangling input, or every input of a node whose input shapes do not fit together). The
    /// edges carrying them into that node are drawn solid red.
    public var brokenInputs: [String: Set<String>] = [:]

    /// Marks from parts; see `add` for building them node by node.
    public init(nodes: [String: Mark] = [:], unknownShapes: Set<String> = [], brokenInputs: [String: Set<String>] = [:]) {
        self.nodes = nodes
        self.unknownShapes = unknownShapes
        self.brokenInputs = brokenInputs
    }

    /// Nothing to mark: the drawing is exactly what it would be without marks.
    public var isEmpty: Bool { nodes.isEmpty && unknownShapes.isEmpty && brokenInputs.isEmpty }

    /// Whether the edge carrying `tensor` into node `target` is drawn as broken.
    public func isBroken(_ tensor: String, into target: String) -> Bool {
        brokenInputs[target]?.contains(tensor) ?? false
    }

    /// Adds `message` to node `id`'s mark, raising its severity if needed.
    public mutating func add(_ id: String, _ severity: Severity, _ message: String) {
        if var m = nodes[id] {
            if !m.messages.contains(message) { m.messages.append(message) }
            m.severity = min(m.severity, severity)
            nodes[id] = m
        } else {
            nodes[id] = Mark(severity: severity, messages: [message])
        }
    }
}

/// The marks one visible box carries: its own node's, or the summary of the marked nodes inside
/// a collapsed group.
struct BoxMark {
    var severity: ProblemMarks.Severity
    /// Marked nodes inside (1 for a node's own box).
    var count: Int
    /// Tooltip and panel lines.
    var messages: [String]
}

/// Per visible box, its mark (nil where nothing inside is marked).
func boxMarks(_ graph: RenderGraph, _ vis: VisibleGraph, _ marks: ProblemMarks) -> [BoxMark?] {
    var out = [BoxMark?](repeating: nil, count: vis.items.count)
    guard !marks.nodes.isEmpty else { return out }
    for (n, node) in graph.nodes.enumerated() {
        guard let m = marks.nodes[node.id], n < vis.boxOfNode.count else { continue }
        let b = vis.boxOfNode[n]
        guard b >= 0 else { continue }
        if case .node = vis.items[b] {
            out[b] = BoxMark(severity: m.severity, count: 1, messages: m.messages)
        } else if var existing = out[b] {
            existing.severity = min(existing.severity, m.severity)
            existing.count += 1
            if existing.messages.count < 8 { existing.messages.append(node.name + ": " + (m.messages.first ?? "")) }
            out[b] = existing
        } else {
            out[b] = BoxMark(severity: m.severity, count: 1, messages: [node.name + ": " + (m.messages.first ?? "")])
        }
    }
    return out
}

extension RenderGraph {
    /// The part of this graph within `hops` edges (either direction) of the `around` node ids,
    /// with the graph inputs and outputs it touches, growing ring by ring while it stays within
    /// `limit` op nodes (the `around` nodes always included). Nodes keep their ids, names and
    /// paths, so marks, focus and highlights still apply. Returns the graph and the number of
    /// rings taken.
    public func neighbourhood(of around: Set<String>, hops: Int, limit: Int) -> (graph: RenderGraph, hops: Int) {
        var adjacent = [[Int]](repeating: [], count: nodes.count)
        for e in edges {
            adjacent[e.source].append(e.target)
            adjacent[e.target].append(e.source)
        }
        var keep = [Bool](repeating: false, count: nodes.count)
        var frontier: [Int] = []
        var ops = 0
        for (i, n) in nodes.enumerated() where around.contains(n.id) {
            keep[i] = true
            frontier.append(i)
            if !n.isGraphBoundary { ops += 1 }
        }
        var rings = 0
        while rings < hops && !frontier.isEmpty {
            var next: [Int] = []
            var seen = Set<Int>()
            for i in frontier { for j in adjacent[i] where !keep[j] && seen.insert(j).inserted { next.append(j) } }
            let added = next.lazy.filter { !self.nodes[$0].isGraphBoundary }.count
            if ops + added > limit { break }
            for j in next { keep[j] = true }
            ops += added
            frontier = next
            rings += 1
        }
        // Constants feeding kept ops come along, so folded weights still read in their boxes.
        for e in edges where keep[e.target] && !keep[e.source] && nodes[e.source].kind == .constant { keep[e.source] = true }
        var index = [Int](repeating: -1, count: nodes.count)
        var kept: [Node] = []
        for (i, n) in nodes.enumerated() where keep[i] {
            index[i] = kept.count
            kept.append(n)
        }
        for k in kept.indices {
            kept[k].folded = kept[k].folded.map { f in
                var f = f
                f.constantNode = f.constantNode.flatMap { index[$0] >= 0 ? index[$0] : nil }
                return f
            }
        }
        let keptEdges = edges.compactMap { e -> Edge? in
            guard index[e.source] >= 0, index[e.target] >= 0 else { return nil }
            var copy = e
            copy.source = index[e.source]
            copy.target = index[e.target]
            return copy
        }
        return (RenderGraph(name: name, nodes: kept, edges: keptEdges), rings)
    }
}
