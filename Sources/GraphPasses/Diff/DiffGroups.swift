// Groups the removed and added nodes of a diff into replacements ("5 nodes -> 1 node (pass X)").
//
// Provenance decides first: a new node and the old nodes it names as sources (followed through
// intermediate versions) are one group, labelled with the new node's origin. Nodes provenance
// does not cover (a plugin's result carries none) join their removed/added neighbours, and a
// removed region joins the added region that touches the same paired node (the producer both
// read, or the consumer both feed). A removed node with no counterpart is a group of its own
// region (dead code: "3 nodes -> 0 nodes").

import GraphIR

enum DiffGrouping {
    /// Union-find over element indices.
    struct Sets {
        var parent: [Int]
        init(_ n: Int) { parent = Array(0..<n) }
        mutating func find(_ x: Int) -> Int {
            var r = x
            while parent[r] != r { r = parent[r] }
            var y = x
            while parent[y] != r { let next = parent[y]; parent[y] = r; y = next }
            return r
        }
        mutating func union(_ x: Int, _ y: Int) {
            let rx = find(x), ry = find(y)
            if rx != ry { parent[max(rx, ry)] = min(rx, ry) }
        }
    }

    static func groups(_ a: Graph, _ b: Graph, diff: GraphDiff, lineage: [NodeID: Provenance], origin: String) -> [DiffGroup] {
        let removed = diff.removed, added = diff.added
        if removed.isEmpty && added.isEmpty { return [] }
        // Elements: removed nodes 0..<r, added nodes r..<r+m.
        let r = removed.count
        var element: [NodeID: Int] = [:]  // removed by a-id
        for (i, id) in removed.enumerated() { element[id] = i }
        var addedElement: [NodeID: Int] = [:]
        for (i, id) in added.enumerated() { addedElement[id] = r + i }
        var sets = Sets(r + added.count)
        var covered = [Bool](repeating: false, count: r + added.count)
        var aIndex: [NodeID: Int] = [:]
        for (i, n) in a.nodes.enumerated() { aIndex[n.id] = i }

        // 1. Provenance.
        var originOf: [Int: String] = [:]
        // Sources name ids of the model's own lineage: only meaningful when the ids are shared.
        let shared = a.sharesNodeIDs(with: b)
        var expandMemo: [NodeID: [NodeID]] = [:]
        for id in added where shared {
            guard let n = b.node(id), let e = addedElement[id] else { continue }
            if !n.provenance.origin.isEmpty { originOf[e] = n.provenance.origin }
            for s in NodeMatcher.expand(n.provenance.sources, in: aIndex, lineage: lineage, memo: &expandMemo) {
                guard let re = element[s] else { continue }
                sets.union(e, re)
                covered[e] = true
                covered[re] = true
            }
        }

        // 2. Adjacent removed nodes (in a) and adjacent added nodes (in b), except two nodes
        //    provenance already placed (two fusions side by side stay two groups). A region
        //    provenance does not cover joins one placed group at most: a folded shape computation
        //    that read two fusions' nodes does not make them one group.
        func linkNeighbours(_ g: Graph, _ elementOf: [NodeID: Int]) {
            var producerOf: [String: NodeID] = [:]
            for n in g.nodes where elementOf[n.id] != nil {
                for o in n.outputs where !o.isEmpty { producerOf[o] = n.id }
            }
            var mixed: [(uncovered: Int, placed: Int)] = []
            for n in g.nodes {
                guard let e = elementOf[n.id] else { continue }
                for input in n.inputs {
                    guard let p = producerOf[input], let pe = elementOf[p], !(covered[e] && covered[pe]) else { continue }
                    if covered[e] || covered[pe] { mixed.append(covered[e] ? (pe, e) : (e, pe)) } else { sets.union(e, pe) }
                }
            }
            var regions = sets
            var joined = Set<Int>()
            for link in mixed where joined.insert(regions.find(link.uncovered)).inserted {
                sets.union(link.uncovered, link.placed)
            }
        }
        linkNeighbours(a, element)
        linkNeighbours(b, addedElement)

        // 3. Uncovered removed and added nodes that touch the same paired node.
        let bToA = diff.bToA
        var anchorOwner: [String: Int] = [:]
        func anchors(_ g: Graph, _ id: NodeID, translate: (NodeID) -> NodeID?) -> [String] {
            guard let n = g.node(id) else { return [] }
            var out: [String] = []
            for input in n.inputs where !input.isEmpty {
                if let p = g.producerNode(of: input) {
                    if let t = translate(p.id) { out.append("p\(t.rawValue)") }
                } else if g.initializer(named: input) == nil {
                    out.append("i" + input)  // a graph input both read
                }
            }
            for o in n.outputs where !o.isEmpty {
                for use in g.uses(of: o) { if let t = translate(use.node) { out.append("c\(t.rawValue)") } }
            }
            return out
        }
        let matchedA = Set(diff.matched.map(\.a))
        for (i, id) in removed.enumerated() where !covered[i] {
            for key in anchors(a, id, translate: { matchedA.contains($0) ? $0 : nil }) {
                if let o = anchorOwner[key] { sets.union(i, o) } else { anchorOwner[key] = i }
            }
        }
        for (j, id) in added.enumerated() where !covered[r + j] {
            for key in anchors(b, id, translate: { bToA[$0] }) {
                if let o = anchorOwner[key] { sets.union(r + j, o) } else { anchorOwner[key] = r + j }
            }
        }

        // Collect, in element order (removed in a's order first).
        var slot: [Int: Int] = [:]
        var collected: [(removed: [NodeID], added: [NodeID], origins: [String: Int])] = []
        for e in 0..<(r + added.count) {
            let root = sets.find(e)
            let k: Int
            if let s = slot[root] { k = s } else { k = collected.count; slot[root] = k; collected.append(([], [], [:])) }
            if e < r { collected[k].removed.append(removed[e]) } else {
                collected[k].added.append(added[e - r])
                if let o = originOf[e] { collected[k].origins[o, default: 0] += 1 }
            }
        }
        return collected.map { g in
            let label = g.origins.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? origin
            return DiffGroup(removed: g.removed, added: g.added, origin: label,
                             removedOps: opSummary(g.removed.compactMap { a.node($0) }),
                             addedOps: opSummary(g.added.compactMap { b.node($0) }))
        }
    }

    /// `["ReduceMean x2", "Sub", ...]` in first-seen order.
    static func opSummary(_ nodes: [Node]) -> [String] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for n in nodes {
            let op = n.qualifiedOpType
            if counts[op] == nil { order.append(op) }
            counts[op, default: 0] += 1
        }
        return order.map { op in let c = counts[op, default: 0]; return c > 1 ? "\(op) x\(c)" : op }
    }
}
