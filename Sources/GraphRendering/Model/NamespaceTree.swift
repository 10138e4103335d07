// The namespace tree of a RenderGraph and the choice of what is visible: which groups are
// expanded (explicitly, by focus path and depth, or by the ~150-box default), and the
// LayoutGraph that results, with edges lifted to their visible ends.

/// Namespace groups derived from node paths, as Model Explorer derives layers: every path prefix
/// is a group, and a group holding a single node and nothing else is dissolved into its parent.
public struct NamespaceTree: Sendable {
    /// One namespace group.
    public struct Group: Sendable {
        /// Full slash path, e.g. "encoder/layer0/attn"; also the group's stable id.
        public var id: String
        /// Last path segment.
        public var label: String
        /// Drawn as the frame title and the collapsed box's first line: the label, or for a
        /// section its first and last node.
        public var title: String
        /// A section's content ("stage ×6: Conv→BatchNormalization→Relu", or its main ops);
        /// nil for the model's own namespaces.
        public var summary: String?
        /// A group the renderer cut a long flat level into, not a namespace of the model.
        public var isSection: Bool { summary != nil }
        /// Enclosing group, nil at the top level.
        public var parent: Int?
        /// 1 for top-level groups.
        public var depth: Int
        /// Direct sub-groups and direct member nodes (indices into the RenderGraph).
        public var childGroups: [Int] = []
        public var childNodes: [Int] = []
        /// All op nodes below this group.
        public var nodeCount: Int = 0
    }
    public private(set) var groups: [Group] = []
    /// Innermost group of each node, nil for top-level nodes.
    public private(set) var nodeGroup: [Int?]
    public private(set) var topGroups: [Int] = []
    public private(set) var topNodes: [Int] = []
    private var index: [String: Int] = [:]

    /// Builds the tree. With `sectionSize`, a level holding more than four times that many nodes
    /// directly (a flat 10k chain, a CNN without scopes) is cut into consecutive sections of about
    /// `sectionSize` nodes along the flow, as Model Explorer does, so even flat graphs get a small
    /// collapsed overview; repeated op sequences become labelled stages (see Sections.swift).
    public init(_ graph: RenderGraph, sectionSize: Int? = nil) {
        var paths = graph.nodes.map { $0.path.filter { !$0.isEmpty } }
        var sections: [String: (title: String, summary: String)] = [:]
        if let size = sectionSize, size > 0 {
            var members: [[String]: [Int]] = [:]
            for (i, p) in paths.enumerated() { members[p, default: []].append(i) }
            // Cut along the flow, not the file order (exporters often list all weights first):
            // order by layered rank, where weights sit right above their consumer.
            var rank: [Int] = []
            if members.values.contains(where: { $0.count > 4 * size }) {
                let pairs = graph.edges.map { ($0.source, $0.target) }.filter { $0.0 != $0.1 }
                let back = findBackEdges(nodeCount: graph.nodes.count, edges: pairs)
                var seen = Set<Int>()
                var dag: [(Int, Int, Int)] = []
                for (i, e) in pairs.enumerated() {
                    let (a, b) = back[i] ? (e.1, e.0) : (e.0, e.1)
                    if seen.insert(a * graph.nodes.count + b).inserted { dag.append((a, b, 1)) }
                }
                rank = assignRanks(nodeCount: graph.nodes.count, edges: dag)
            }
            for (path, unordered) in members where unordered.count > 4 * size {
                let list = unordered.sorted { (rank[$0], $0) < (rank[$1], $1) }
                let plans = planSections(ops: list.map { graph.nodes[$0].op }, names: list.map { shortName(graph.nodes[$0].name) },
                                         size: size)
                for plan in plans {
                    let full = path + [plan.segment]
                    sections[full.joined(separator: "/")] = (plan.title, plan.summary)
                    for k in plan.members { paths[list[k]] = full }
                }
            }
        }
        nodeGroup = [Int?](repeating: nil, count: graph.nodes.count)
        var raw: [Group] = []
        var rawIndex: [String: Int] = [:]
        var rawNodeGroup = [Int?](repeating: nil, count: graph.nodes.count)
        for ni in 0..<graph.nodes.count {
            var parent: Int? = nil
            var path = ""
            for (d, seg) in paths[ni].enumerated() {
                path = path.isEmpty ? seg : path + "/" + seg
                if let g = rawIndex[path] { parent = g; continue }
                let section = sections[path]
                raw.append(Group(id: path, label: seg, title: section?.title ?? seg, summary: section?.summary, parent: parent, depth: d + 1))
                let g = raw.count - 1
                rawIndex[path] = g
                if let p = parent { raw[p].childGroups.append(g) }
                parent = g
            }
            rawNodeGroup[ni] = parent
            if let p = parent { raw[p].childNodes.append(ni) }
        }
        // Dissolve single-node groups (bottom-up), re-parenting their node.
        var alive = [Bool](repeating: true, count: raw.count)
        for g in stride(from: raw.count - 1, through: 0, by: -1) {
            let live = raw[g].childGroups.filter { alive[$0] }
            if live.isEmpty && raw[g].childNodes.count == 1 {
                alive[g] = false
                let n = raw[g].childNodes[0]
                rawNodeGroup[n] = raw[g].parent
                if let p = raw[g].parent { raw[p].childNodes.append(n) }
            }
        }
        var remap = [Int](repeating: -1, count: raw.count)
        for g in 0..<raw.count where alive[g] {
            remap[g] = groups.count
            var copy = raw[g]
            copy.childGroups = []; copy.childNodes = []
            groups.append(copy)
        }
        for g in 0..<groups.count {
            // Nearest alive ancestor (dissolved groups have no live children, so parents stay alive).
            if let p = groups[g].parent { groups[g].parent = remap[p] >= 0 ? remap[p] : nil }
            index[groups[g].id] = g
            if let p = groups[g].parent { groups[p].childGroups.append(g) } else { topGroups.append(g) }
        }
        for (ni, rg) in rawNodeGroup.enumerated() {
            if let r = rg, remap[r] >= 0 {
                nodeGroup[ni] = remap[r]
                groups[remap[r]].childNodes.append(ni)
            } else {
                nodeGroup[ni] = nil
                topNodes.append(ni)
            }
        }
        for ni in 0..<graph.nodes.count {
            var cur = nodeGroup[ni]
            while let c = cur { groups[c].nodeCount += 1; cur = groups[c].parent }
        }
    }

    /// The group with this full path, if any.
    public func group(named path: String) -> Int? { index[path] }

    /// Groups from the top level down to `g`, inclusive.
    public func ancestry(_ g: Int) -> [Int] {
        var chain: [Int] = []
        var cur: Int? = g
        while let c = cur { chain.append(c); cur = groups[c].parent }
        return chain.reversed()
    }

    /// Deepest level D such that expanding every group of depth <= D shows at most `maxBoxes`
    /// boxes (0 = all top-level groups collapsed). Flat graphs return 0.
    public func defaultDepth(maxBoxes: Int) -> Int {
        let maxDepth = groups.map(\.depth).max() ?? 0
        var best = 0
        if maxDepth == 0 { return 0 }
        for d in 1...maxDepth {
            var count = topNodes.count
            for g in groups {
                if g.depth <= d { count += g.childNodes.count }
                if g.depth == d + 1 { count += 1 }
            }
            if count <= maxBoxes { best = d } else { break }
        }
        return best
    }
}
