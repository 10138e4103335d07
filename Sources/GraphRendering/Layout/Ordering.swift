// Crossing reduction for the layered layout: an initial DFS order, then alternating barycenter
// sweeps with adjacent transpositions, keeping the best order seen. Also owns crossing counting
// (Barth–Jünger–Mutzel accumulator tree), which the stats report.

/// A proper layered graph: every edge joins rank r to rank r+1.
struct LayeredGraph {
    var rank: [Int]
    var preds: [[Int]]
    var succs: [[Int]]
    var layers: [[Int]]
    var pos: [Int]

    mutating func refreshPositions(_ r: Int) {
        for (i, v) in layers[r].enumerated() { pos[v] = i }
    }
}

/// Number of crossings between layer `r` and `r + 1` in O(E log V).
func crossingsBetween(_ g: LayeredGraph, upper r: Int) -> Int {
    let south = g.layers[r + 1]
    if south.count < 2 || g.layers[r].count < 2 { return 0 }
    var seq: [Int] = []
    var scratch: [Int] = []
    for u in g.layers[r] {
        scratch.removeAll(keepingCapacity: true)
        for w in g.succs[u] { scratch.append(g.pos[w]) }
        if scratch.count > 1 { scratch.sort() }
        seq.append(contentsOf: scratch)
    }
    var first = 1
    while first < south.count { first <<= 1 }
    var tree = [Int](repeating: 0, count: 2 * first - 1)
    first -= 1
    var total = 0
    for s in seq {
        var index = s + first
        tree[index] += 1
        while index > 0 {
            if index % 2 == 1 { total += tree[index + 1] }
            index = (index - 1) / 2
            tree[index] += 1
        }
    }
    return total
}

/// Total crossings over all adjacent layer pairs.
func totalCrossings(_ g: LayeredGraph) -> Int {
    var total = 0
    if g.layers.count < 2 { return 0 }
    for r in 0..<(g.layers.count - 1) { total += crossingsBetween(g, upper: r) }
    return total
}

/// Orders each layer to reduce crossings; returns the crossing count of the final order.
func reduceCrossings(_ g: inout LayeredGraph, sweeps: Int) -> Int {
    initialOrder(&g)
    var bestCount = totalCrossings(g)
    if bestCount == 0 || g.layers.count < 2 { return bestCount }
    var best = g.layers
    var stale = 0
    let nodeCount = g.rank.count
    // Large problems get fewer sweeps: each one is linear, but the constant adds up at 50k.
    let limit = nodeCount > 20_000 ? min(sweeps, 4) : sweeps
    for iteration in 0..<limit {
        let down = iteration % 2 == 0
        if down {
            for r in 1..<g.layers.count { sortByBarycenter(&g, layer: r, usePreds: true) }
        } else {
            for r in stride(from: g.layers.count - 2, through: 0, by: -1) {
                sortByBarycenter(&g, layer: r, usePreds: false)
            }
        }
        transposeAll(&g)
        let count = totalCrossings(g)
        if count < bestCount {
            bestCount = count; best = g.layers; stale = 0
        } else {
            stale += 1
        }
        if bestCount == 0 || stale >= 4 { break }
    }
    g.layers = best
    for r in 0..<g.layers.count { g.refreshPositions(r) }
    return bestCount
}

/// DFS from the top-ranked nodes in input order: children are placed next to their parents, which
/// is already a good start for tree-like model graphs.
private func initialOrder(_ g: inout LayeredGraph) {
    let n = g.rank.count
    var visited = [Bool](repeating: false, count: n)
    var layers = [[Int]](repeating: [], count: g.layers.count)
    var stack: [Int] = []
    let starts = (0..<n).sorted { (g.rank[$0], $0) < (g.rank[$1], $1) }
    for s in starts where !visited[s] {
        stack.append(s)
        while let v = stack.popLast() {
            if visited[v] { continue }
            visited[v] = true
            layers[g.rank[v]].append(v)
            for w in g.succs[v].reversed() where !visited[w] { stack.append(w) }
        }
    }
    g.layers = layers
    for r in 0..<layers.count { g.refreshPositions(r) }
}

private func sortByBarycenter(_ g: inout LayeredGraph, layer r: Int, usePreds: Bool) {
    let layer = g.layers[r]
    if layer.count < 2 { return }
    var movable: [(key: Double, tie: Int, node: Int)] = []
    var fixed = [Bool](repeating: false, count: layer.count)
    for (i, v) in layer.enumerated() {
        let nb = usePreds ? g.preds[v] : g.succs[v]
        if nb.isEmpty { fixed[i] = true; continue }
        var sum = 0
        for w in nb { sum += g.pos[w] }
        movable.append((Double(sum) / Double(nb.count), i, v))
    }
    movable.sort { $0.key != $1.key ? $0.key < $1.key : $0.tie < $1.tie }
    var result: [Int] = []
    result.reserveCapacity(layer.count)
    var next = 0
    for (i, v) in layer.enumerated() {
        if fixed[i] { result.append(v) } else { result.append(movable[next].node); next += 1 }
    }
    g.layers[r] = result
    g.refreshPositions(r)
}

/// Crossings among the edges of `u` and `v` to one neighbour layer when `u` stands left of `v`.
@inline(__always)
private func pairCrossings(_ a: [Int], _ b: [Int], _ pos: [Int]) -> Int {
    var c = 0
    for x in a {
        let px = pos[x]
        for y in b where px > pos[y] { c += 1 }
    }
    return c
}

private func transposeAll(_ g: inout LayeredGraph) {
    for r in 0..<g.layers.count where g.layers[r].count > 1 {
        for _ in 0..<3 {
            var improved = false
            var layer = g.layers[r]
            for i in 0..<(layer.count - 1) {
                let u = layer[i], v = layer[i + 1]
                let before = pairCrossings(g.preds[u], g.preds[v], g.pos) + pairCrossings(g.succs[u], g.succs[v], g.pos)
                if before == 0 { continue }
                let after = pairCrossings(g.preds[v], g.preds[u], g.pos) + pairCrossings(g.succs[v], g.succs[u], g.pos)
                if after < before {
                    layer[i] = v; layer[i + 1] = u
                    g.pos[v] = i; g.pos[u] = i + 1
                    improved = true
                }
            }
            g.layers[r] = layer
            if !improved { break }
        }
    }
}
