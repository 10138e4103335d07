// Crossing reduction, second stage: moves the dummy chain of one long edge as a whole.
// Barycenter sweeps and adjacent swaps move one node at a time, and a long edge that should run
// on the other side of a small cluster (an FPN ladder: a skip connection beside a Resize with its
// constants) only stops crossing once every one of its dummies has moved, so each single swap
// looks like a loss. Here a chain is taken out and put back at the best gap in every rank it
// passes, chosen together by dynamic programming over the ranks: given the rest of the order,
// the result is the exact optimum for that chain, and the chain is kept only when it gains.

/// Reinserts each long-edge chain (the dummy nodes of one edge, top to bottom, in consecutive
/// ranks) where it crosses the fewest other edges. `maxWork` bounds the table cells computed in
/// total, so very wide levels stay fast (chains over the budget are left as they are).
/// Returns how many crossings were removed.
func siftChains(_ g: inout LayeredGraph, chains: [[Int]], maxWork: Int) -> Int {
    var gained = 0
    var work = 0
    for chain in chains where !chain.isEmpty {
        guard let first = chain.first, let last = chain.last,
              g.preds[first].count == 1, g.succs[last].count == 1 else { continue }
        let top = g.rank[first]
        guard top > 0, g.rank[last] + 1 < g.layers.count else { continue }
        // Cheap test first (one pass over the edges beside the chain, counted in the budget
        // too): a chain that crosses nothing cannot gain.
        var scan = g.layers[top - 1].count
        for d in chain { scan += g.layers[g.rank[d]].count }
        if work + scan > maxWork { continue }
        work += scan
        if chainCrossings(g, chain) == 0 { continue }
        var cost = 0
        for (j, d) in chain.enumerated() {
            let here = g.layers[g.rank[d]].count
            let next = j + 1 < chain.count ? g.layers[g.rank[d] + 1].count : 1
            cost += (here + 1) * (next + 1)
        }
        if work + cost > maxWork { continue }
        work += cost
        gained += placeChain(&g, chain)
    }
    return gained
}

/// Crossings of the chain's edges (into the first dummy, between dummies, out of the last) with
/// all other edges between the same ranks.
private func chainCrossings(_ g: LayeredGraph, _ chain: [Int]) -> Int {
    var total = 0
    var upper = g.preds[chain[0]][0]
    for d in chain + [g.succs[chain[chain.count - 1]][0]] {
        let (px, py) = (g.pos[upper], g.pos[d])
        for u in g.layers[g.rank[upper]] where u != upper {
            let left = g.pos[u] < px
            for w in g.succs[u] where w != d && (g.pos[w] < py) != left { total += 1 }
        }
        upper = d
    }
    return total
}

/// Index of `v` among the other nodes of its layer once `removed` (a node of the same layer, or
/// -1) has been taken out.
@inline(__always)
private func indexWithout(_ g: LayeredGraph, _ v: Int, _ removed: Int) -> Int {
    removed >= 0 && g.pos[v] > g.pos[removed] ? g.pos[v] - 1 : g.pos[v]
}

/// Puts one chain at its optimal gaps; returns the gain (0 when it stays where it was).
private func placeChain(_ g: inout LayeredGraph, _ chain: [Int]) -> Int {
    let k = chain.count
    let source = g.preds[chain[0]][0], target = g.succs[chain[k - 1]][0]
    // Gaps: gap q of a layer means "before the q-th other node" (q in 0...others).
    let current = chain.map { g.pos[$0] }
    // Entering edge source -> d1: source is fixed, so the cost depends on d1's gap only.
    let r0 = g.rank[source]
    let n1 = g.layers[r0 + 1].count - 1
    var leftOf = [Int](repeating: 0, count: n1 + 1), rightOf = leftOf
    let ps = g.pos[source]
    for u in g.layers[r0] where u != source {
        for w in g.succs[u] where w != chain[0] {
            let iw = indexWithout(g, w, chain[0])
            if g.pos[u] < ps { leftOf[iw] += 1 } else { rightOf[iw] += 1 }
        }
    }
    // cost[q] = edges from the left of the source ending at >= q, plus from the right ending < q.
    var cost = [Int](repeating: 0, count: n1 + 1)
    var suffix = 0
    for q in stride(from: n1, through: 0, by: -1) { suffix += q < n1 ? leftOf[q] : 0; cost[q] = suffix }
    var prefix = 0
    for q in 0...n1 { cost[q] += prefix; if q < n1 { prefix += rightOf[q] } }
    var currentCost = cost[current[0]]
    var choice: [[Int]] = [] // choice[j][q]: best gap of dummy j given dummy j+1 at gap q
    choice.reserveCapacity(k - 1)
    for j in 0..<(k - 1) {
        let (a, b) = (chain[j], chain[j + 1])
        let r = g.rank[a]
        let na = g.layers[r].count - 1, nb = g.layers[r + 1].count - 1
        // delta[q] = #(edges from gaps < p ending at >= q) - #(from gaps < p ending at < q),
        // kept for the current p while p walks right; plus #(all edges ending at < q) that is
        // the crossing count of a segment p -> q with every other edge between the two ranks.
        var endsBelow = [Int](repeating: 0, count: nb + 2)
        for u in g.layers[r] where u != a {
            for w in g.succs[u] where w != b { endsBelow[indexWithout(g, w, b) + 1] += 1 }
        }
        for q in 0...nb { endsBelow[q + 1] += endsBelow[q] } // endsBelow[q] = #edges ending at < q
        var delta = [Int](repeating: 0, count: nb + 1)
        var best = [Int](repeating: Int.max, count: nb + 1)
        var arg = [Int](repeating: 0, count: nb + 1)
        var p = 0
        var layerIndex = 0
        let layer = g.layers[r]
        while true {
            // Row p: a = at gap p.
            let cp = cost[p]
            for q in 0...nb {
                let c = cp + delta[q] + endsBelow[q]
                if c < best[q] || (c == best[q] && p == current[j]) { best[q] = c; arg[q] = p }
            }
            if p == current[j] { currentCost += delta[current[j + 1]] + endsBelow[current[j + 1]] }
            if p == na { break }
            // Advance past the p-th other node of layer r.
            while layer[layerIndex] == a { layerIndex += 1 }
            let u = layer[layerIndex]
            layerIndex += 1
            for w in g.succs[u] where w != b {
                let iw = indexWithout(g, w, b)
                for q in 0...iw { delta[q] += 1 }
                if iw + 1 <= nb { for q in (iw + 1)...nb { delta[q] -= 1 } }
            }
            p += 1
        }
        choice.append(arg)
        cost = best
    }
    // Leaving edge dk -> target: target is fixed.
    let last = chain[k - 1]
    let rl = g.rank[last]
    let nl = g.layers[rl].count - 1
    let pt = g.pos[target]
    var crossAbove = [Int](repeating: 0, count: nl), crossBelow = crossAbove
    for u in g.layers[rl] where u != last {
        let iu = indexWithout(g, u, last)
        for w in g.succs[u] where w != target {
            if g.pos[w] > pt { crossAbove[iu] += 1 } else { crossBelow[iu] += 1 }
        }
    }
    // Gap p: edges from nodes left of p that end right of the target, plus from the right ending left.
    var below = crossBelow.reduce(0, +)
    var above = 0
    var bestTotal = Int.max, bestGap = 0
    for p in 0...nl {
        let c = cost[p] + above + below
        if c < bestTotal || (c == bestTotal && p == current[k - 1]) { bestTotal = c; bestGap = p }
        if p == current[k - 1] { currentCost += above + below }
        if p < nl { above += crossAbove[p]; below -= crossBelow[p] }
    }
    if bestTotal >= currentCost { return 0 }
    var gaps = [Int](repeating: 0, count: k)
    gaps[k - 1] = bestGap
    for j in stride(from: k - 2, through: 0, by: -1) { gaps[j] = choice[j][gaps[j + 1]] }
    for (j, d) in chain.enumerated() {
        let r = g.rank[d]
        var layer = g.layers[r]
        layer.remove(at: g.pos[d])
        layer.insert(d, at: gaps[j])
        g.layers[r] = layer
        g.refreshPositions(r)
    }
    return currentCost - bestTotal
}
