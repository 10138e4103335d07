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
/// Like dot, it tries several starts (DFS from the top, DFS from the bottom) and two sort keys
/// (barycenter, median), runs alternating sweeps with transposition on each, and keeps the best.
/// `chains` lists the dummy nodes of each long edge (top to bottom); the best order is then
/// refined by moving whole chains (see `siftChains`), which node-by-node moves cannot do.
func reduceCrossings(_ g: inout LayeredGraph, sweeps: Int, chains: [[Int]] = []) -> Int {
    let nodeCount = g.rank.count
    if g.layers.count < 2 { initialOrder(&g, fromBottom: false, seed: 0); return 0 }
    // Large problems get fewer attempts and sweeps: each sweep is linear, but 50k adds up.
    let big = nodeCount > 20_000
    var attempts: [(fromBottom: Bool, median: Bool, seed: UInt64)] = big ? [(false, false, 0)] : [(false, false, 0), (false, true, 0), (true, false, 0), (true, true, 0)]
    // Small problems also try a few shuffled starts (fixed seeds, so drawings repeat): cheap,
    // and they escape local optima a single start gets stuck in.
    if nodeCount <= 4_000 { for k in 1...4 { attempts.append((k % 2 == 0, k > 2, UInt64(k))) } }
    var best: [[Int]] = []
    var bestCount = Int.max
    for attempt in attempts {
        initialOrder(&g, fromBottom: attempt.fromBottom, seed: attempt.seed)
        let count = sweep(&g, maxSweeps: big ? min(sweeps, 4) : sweeps, median: attempt.median)
        if count < bestCount { bestCount = count; best = g.layers }
        if bestCount == 0 { break }
    }
    g.layers = best
    for r in 0..<g.layers.count { g.refreshPositions(r) }
    if bestCount > 0 && !chains.isEmpty {
        // Chain moves and strict adjacent swaps only ever remove crossings, so this ends.
        let budget = big ? 2_000_000 : 8_000_000
        for _ in 0..<4 {
            if siftChains(&g, chains: chains, maxWork: budget) == 0 { break }
            transposeAll(&g, allowEqual: false)
        }
        bestCount = totalCrossings(g)
    }
    return bestCount
}

/// dot's schedule: two sweeps down, two up; every other step sorts ties in reverse and lets
/// transposition swap equal pairs, so the order can drift across plateaus; an order at least as
/// good as the best is kept, and the search stops after 8 steps without a real (0.5%) gain.
private func sweep(_ g: inout LayeredGraph, maxSweeps: Int, median: Bool) -> Int {
    var bestCount = totalCrossings(g)
    var best = g.layers
    if bestCount == 0 { return 0 }
    var trying = 0
    for iteration in 0..<maxSweeps {
        if trying >= 8 { break }
        trying += 1
        let reverse = iteration % 2 == 0
        if iteration % 4 < 2 {
            for r in 1..<g.layers.count { sortLayer(&g, layer: r, usePreds: true, median: median, reverseTies: reverse) }
        } else {
            for r in stride(from: g.layers.count - 2, through: 0, by: -1) {
                sortLayer(&g, layer: r, usePreds: false, median: median, reverseTies: reverse)
            }
        }
        transposeAll(&g, allowEqual: !reverse)
        let count = totalCrossings(g)
        if count <= bestCount {
            if Double(count) < 0.995 * Double(bestCount) { trying = 0 }
            bestCount = count; best = g.layers
        }
        if bestCount == 0 { break }
    }
    g.layers = best
    for r in 0..<g.layers.count { g.refreshPositions(r) }
    return bestCount
}

/// DFS from the top-ranked nodes (or, from the bottom, over predecessors) in input order:
/// neighbours are placed next to each other, already a good start for tree-like model graphs.
private func initialOrder(_ g: inout LayeredGraph, fromBottom: Bool, seed: UInt64) {
    let n = g.rank.count
    var visited = [Bool](repeating: false, count: n)
    var layers = [[Int]](repeating: [], count: g.layers.count)
    var stack: [Int] = []
    // Seed 0 keeps input order among same-rank starts; other seeds shuffle them (xorshift).
    var key = Array(0..<n)
    if seed != 0 {
        var state = seed &* 0x9E3779B97F4A7C15
        for i in 0..<n {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            key[i] = Int(truncatingIfNeeded: state % UInt64(8 * max(n, 1)))
        }
    }
    let starts = fromBottom
        ? (0..<n).sorted { (-g.rank[$0], key[$0], $0) < (-g.rank[$1], key[$1], $1) }
        : (0..<n).sorted { (g.rank[$0], key[$0], $0) < (g.rank[$1], key[$1], $1) }
    for s in starts where !visited[s] {
        stack.append(s)
        while let v = stack.popLast() {
            if visited[v] { continue }
            visited[v] = true
            layers[g.rank[v]].append(v)
            let next = fromBottom ? g.preds[v] : g.succs[v]
            for w in next.reversed() where !visited[w] { stack.append(w) }
        }
    }
    g.layers = layers
    for r in 0..<layers.count { g.refreshPositions(r) }
}

private func sortLayer(_ g: inout LayeredGraph, layer r: Int, usePreds: Bool, median: Bool, reverseTies: Bool) {
    let layer = g.layers[r]
    if layer.count < 2 { return }
    var movable: [(key: Double, tie: Int, node: Int)] = []
    var fixed = [Bool](repeating: false, count: layer.count)
    var scratch: [Int] = []
    for (i, v) in layer.enumerated() {
        let nb = usePreds ? g.preds[v] : g.succs[v]
        if nb.isEmpty { fixed[i] = true; continue }
        let key: Double
        if median && nb.count > 2 {
            scratch.removeAll(keepingCapacity: true)
            for w in nb { scratch.append(g.pos[w]) }
            scratch.sort()
            let m = scratch.count / 2
            key = scratch.count % 2 == 1 ? Double(scratch[m]) : Double(scratch[m - 1] + scratch[m]) / 2
        } else {
            var sum = 0
            for w in nb { sum += g.pos[w] }
            key = Double(sum) / Double(nb.count)
        }
        movable.append((key, reverseTies ? -i : i, v))
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

/// Adjacent swaps until no layer improves (as dot does): a layer that gained makes its
/// neighbours candidates again. Equal swaps (when allowed) move along plateaus but do not count
/// as gains, so this always ends.
private func transposeAll(_ g: inout LayeredGraph, allowEqual: Bool) {
    let R = g.layers.count
    var candidate = [Bool](repeating: true, count: R)
    for _ in 0..<64 {
        var delta = 0
        for r in 0..<R where candidate[r] {
            candidate[r] = false
            if g.layers[r].count < 2 { continue }
            var layer = g.layers[r]
            var gain = 0
            for i in 0..<(layer.count - 1) {
                let u = layer[i], v = layer[i + 1]
                let before = pairCrossings(g.preds[u], g.preds[v], g.pos) + pairCrossings(g.succs[u], g.succs[v], g.pos)
                if before == 0 { continue }
                let after = pairCrossings(g.preds[v], g.preds[u], g.pos) + pairCrossings(g.succs[v], g.succs[u], g.pos)
                if after < before || (allowEqual && after == before) {
                    layer[i] = v; layer[i + 1] = u
                    g.pos[v] = i; g.pos[u] = i + 1
                    gain += before - after
                }
            }
            g.layers[r] = layer
            if gain > 0 {
                delta += gain
                candidate[r] = true
                if r > 0 { candidate[r - 1] = true }
                if r + 1 < R { candidate[r + 1] = true }
            }
        }
        if delta < 1 { break }
    }
}
