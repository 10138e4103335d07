// Layer assignment for the layered layout: cycle breaking (iterative DFS), longest-path ranks,
// then a balancing pass that approximates network simplex by moving each box to the end of its
// feasible rank range that shortens its edges (constants drop next to their consumers).

/// Returns, for each edge, whether it must be reversed to make the graph acyclic.
/// Iterative DFS so a 50k-node chain cannot overflow the stack.
func findBackEdges(nodeCount n: Int, edges: [(Int, Int)]) -> [Bool] {
    var out = [[Int]](repeating: [], count: n) // edge indices
    for (i, e) in edges.enumerated() { out[e.0].append(i) }
    var state = [UInt8](repeating: 0, count: n) // 0 new, 1 on stack, 2 done
    var reversed = [Bool](repeating: false, count: edges.count)
    var stack: [(node: Int, next: Int)] = []
    for start in 0..<n where state[start] == 0 {
        state[start] = 1
        stack.append((start, 0))
        while let top = stack.last {
            let list = out[top.node]
            if top.next < list.count {
                stack[stack.count - 1].next += 1
                let ei = list[top.next]
                let w = edges[ei].1
                if state[w] == 1 {
                    reversed[ei] = true
                } else if state[w] == 0 {
                    state[w] = 1
                    stack.append((w, 0))
                }
            } else {
                state[top.node] = 2
                stack.removeLast()
            }
        }
    }
    return reversed
}

/// Ranks for a DAG given as (source, target, weight) triples over `n` nodes.
/// Longest path from the sources, single-consumer feeder trees pulled down next to their
/// consumer, then up to eight balancing passes: a node with more incoming
/// than outgoing weight moves as high as its predecessors allow, the opposite moves as low as
/// its successors allow. Every move shortens the total weighted edge length, so this ends.
func assignRanks(nodeCount n: Int, edges: [(Int, Int, Int)]) -> [Int] {
    var preds = [[(Int, Int)]](repeating: [], count: n)
    var succs = [[(Int, Int)]](repeating: [], count: n)
    var indeg = [Int](repeating: 0, count: n)
    for e in edges {
        succs[e.0].append((e.1, e.2))
        preds[e.1].append((e.0, e.2))
        indeg[e.1] += 1
    }
    // Kahn topological order.
    var order: [Int] = []
    order.reserveCapacity(n)
    for v in 0..<n where indeg[v] == 0 { order.append(v) }
    var head = 0
    while head < order.count {
        let v = order[head]; head += 1
        for (w, _) in succs[v] {
            indeg[w] -= 1
            if indeg[w] == 0 { order.append(w) }
        }
    }
    var rank = [Int](repeating: 0, count: n)
    for v in order {
        for (w, _) in succs[v] where rank[w] < rank[v] + 1 { rank[w] = rank[v] + 1 }
    }
    // In-trees that only feed one consumer (weights, constant -> Unsqueeze chains) move down to
    // sit right above that consumer, as network simplex would move them as one tight subtree.
    var pure = [Bool](repeating: true, count: n)
    for v in order {
        for (u, _) in preds[v] where !(pure[u] && succs[u].count == 1) { pure[v] = false; break }
    }
    for v in order.reversed() where pure[v] && succs[v].count == 1 {
        rank[v] = rank[succs[v][0].0] - 1
    }
    var inWeight = [Int](repeating: 0, count: n)
    var outWeight = [Int](repeating: 0, count: n)
    for e in edges { outWeight[e.0] += e.2; inWeight[e.1] += e.2 }
    func relax(_ v: Int) -> Bool {
        if inWeight[v] > outWeight[v] {
            var lo = Int.min
            for (u, _) in preds[v] { lo = max(lo, rank[u] + 1) }
            if lo != Int.min && lo != rank[v] { rank[v] = lo; return true }
        } else if outWeight[v] > inWeight[v] {
            var hi = Int.max
            for (w, _) in succs[v] { hi = min(hi, rank[w] - 1) }
            if hi != Int.max && hi != rank[v] { rank[v] = hi; return true }
        }
        return false
    }
    for _ in 0..<8 {
        var changed = false
        for v in order.reversed() where relax(v) { changed = true }
        for v in order where relax(v) { changed = true }
        if !changed { break }
    }
    if let low = rank.min(), low != 0 {
        for v in 0..<n { rank[v] -= low }
    }
    return rank
}
