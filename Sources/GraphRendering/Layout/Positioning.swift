// Horizontal coordinate assignment by Brandes–Köpf: four vertical alignments (up/down x
// left/right) that line boxes up with their median neighbours while respecting inner-segment
// conflicts, each compacted through a block graph in topological order (no recursion), then
// balanced. Long edges come out straight and boxes sit over their inputs.

struct Separation {
    var widths: [Double]
    var isDummy: [Bool]
    var nodeSep: Double
    var edgeSep: Double
    @inline(__always)
    func between(_ u: Int, _ v: Int) -> Double {
        let su = isDummy[u] ? edgeSep : nodeSep
        let sv = isDummy[v] ? edgeSep : nodeSep
        return widths[u] / 2 + widths[v] / 2 + su / 2 + sv / 2
    }
}

/// Centre x of every node of the layered graph.
func assignX(_ g: LayeredGraph, sep: Separation) -> [Double] {
    let n = g.rank.count
    if n == 0 { return [] }
    let conflicts = type1Conflicts(g, isDummy: sep.isDummy)
    // Align along the data path: a weight or constant (a source feeding one op) should hang
    // beside its consumer, not pull the consumer under itself. Same for single-use sinks.
    var upNeighbours = g.preds
    var downNeighbours = g.succs
    for v in 0..<n {
        if g.preds[v].count > 1 {
            let main = g.preds[v].filter { !(g.preds[$0].isEmpty && g.succs[$0].count == 1) }
            if !main.isEmpty { upNeighbours[v] = main }
        }
        if g.succs[v].count > 1 {
            let main = g.succs[v].filter { !(g.succs[$0].isEmpty && g.preds[$0].count == 1) }
            if !main.isEmpty { downNeighbours[v] = main }
        }
    }
    var results: [[Double]] = []
    var lefts: [Bool] = []
    for vertical in [true, false] {          // true: align with predecessors (top-down)
        for left in [true, false] {
            var layering = vertical ? g.layers : Array(g.layers.reversed())
            if !left { layering = layering.map { Array($0.reversed()) } }
            var pos = [Int](repeating: 0, count: n)
            for layer in layering { for (i, v) in layer.enumerated() { pos[v] = i } }
            let (root, _) = verticalAlignment(layering, pos: pos, neighbours: vertical ? upNeighbours : downNeighbours, conflicts: conflicts)
            var xs = horizontalCompaction(layering, root: root, sep: sep, nodeCount: n)
            if !left { for i in 0..<n { xs[i] = -xs[i] } }
            results.append(xs)
            lefts.append(left)
        }
    }
    // Align to the narrowest of the four, then take the average median.
    var widthsOf: [Double] = []
    var mins: [Double] = [], maxs: [Double] = []
    for xs in results {
        var lo = Double.infinity, hi = -Double.infinity
        for v in 0..<n {
            lo = min(lo, xs[v] - sep.widths[v] / 2)
            hi = max(hi, xs[v] + sep.widths[v] / 2)
        }
        mins.append(lo); maxs.append(hi); widthsOf.append(hi - lo)
    }
    var smallest = 0
    for i in 1..<results.count where widthsOf[i] < widthsOf[smallest] { smallest = i }
    for i in 0..<results.count where i != smallest {
        let delta = lefts[i] ? mins[smallest] - mins[i] : maxs[smallest] - maxs[i]
        if delta != 0 { for v in 0..<n { results[i][v] += delta } }
    }
    var out = [Double](repeating: 0, count: n)
    var four = [Double](repeating: 0, count: 4)
    for v in 0..<n {
        for k in 0..<4 { four[k] = results[k][v] }
        four.sort()
        out[v] = (four[1] + four[2]) / 2
    }
    return out
}

/// Marks non-inner segments that cross inner segments (dummy-dummy edges), so alignment keeps
/// long edges straight. Pairs are packed into one Int key.
private func type1Conflicts(_ g: LayeredGraph, isDummy: [Bool]) -> Set<Int> {
    var conflicts = Set<Int>()
    let n = g.rank.count
    if g.layers.count < 2 { return conflicts }
    for i in 1..<g.layers.count {
        let prev = g.layers[i - 1]
        let layer = g.layers[i]
        var k0 = 0
        var scanPos = 0
        guard let last = layer.last else { continue }
        for (idx, v) in layer.enumerated() {
            var inner: Int? = nil
            if isDummy[v] { for u in g.preds[v] where isDummy[u] { inner = u; break } }
            let k1 = inner.map { g.pos[$0] } ?? prev.count
            if inner != nil || v == last {
                for scan in layer[scanPos...idx] {
                    for u in g.preds[scan] {
                        let up = g.pos[u]
                        if (up < k0 || k1 < up) && !(isDummy[u] && isDummy[scan]) {
                            conflicts.insert(min(u, scan) * n + max(u, scan))
                        }
                    }
                }
                scanPos = idx + 1
                k0 = k1
            }
        }
    }
    return conflicts
}

private func verticalAlignment(_ layering: [[Int]], pos: [Int], neighbours: [[Int]], conflicts: Set<Int>) -> ([Int], [Int]) {
    let n = pos.count
    var root = Array(0..<n)
    var align = Array(0..<n)
    for layer in layering {
        var prevIdx = -1
        for v in layer {
            var ws = neighbours[v]
            if ws.isEmpty { continue }
            if ws.count > 1 { ws.sort { pos[$0] < pos[$1] } }
            let mp = (ws.count - 1) / 2
            let mp2 = ws.count / 2
            for i in mp...mp2 {
                let w = ws[i]
                let key = min(v, w) * n + max(v, w)
                if align[v] == v && prevIdx < pos[w] && !conflicts.contains(key) {
                    align[w] = v
                    root[v] = root[w]
                    align[v] = root[v]
                    prevIdx = pos[w]
                }
            }
        }
    }
    return (root, align)
}

/// Places blocks (vertically aligned chains) as far left as separations allow, then pulls each
/// block right towards its right neighbours to close gaps. Both passes walk the block graph in
/// topological order.
private func horizontalCompaction(_ layering: [[Int]], root: [Int], sep: Separation, nodeCount n: Int) -> [Double] {
    // Block graph edges: left block -> right block with the required separation.
    var weights: [Int: Double] = [:]
    for layer in layering where layer.count > 1 {
        for i in 1..<layer.count {
            let u = layer[i - 1], v = layer[i]
            let key = root[u] * n + root[v]
            let s = sep.between(u, v)
            if let old = weights[key], old >= s { continue }
            weights[key] = s
        }
    }
    var outEdges = [[(Int, Double)]](repeating: [], count: n)
    var inEdges = [[(Int, Double)]](repeating: [], count: n)
    for (key, s) in weights {
        let ru = key / n, rv = key % n
        outEdges[ru].append((rv, s))
        inEdges[rv].append((ru, s))
    }
    var indeg = [Int](repeating: 0, count: n)
    var isRoot = [Bool](repeating: false, count: n)
    for v in 0..<n { isRoot[root[v]] = true }
    for v in 0..<n where isRoot[v] { indeg[v] = inEdges[v].count }
    var order: [Int] = []
    for v in 0..<n where isRoot[v] && indeg[v] == 0 { order.append(v) }
    var head = 0
    while head < order.count {
        let v = order[head]; head += 1
        for (w, _) in outEdges[v] {
            indeg[w] -= 1
            if indeg[w] == 0 { order.append(w) }
        }
    }
    var xs = [Double](repeating: 0, count: n)
    for v in order {
        var x = 0.0
        var any = false
        for (u, s) in inEdges[v] { x = any ? max(x, xs[u] + s) : xs[u] + s; any = true }
        xs[v] = x
    }
    for v in order.reversed() {
        var m = Double.infinity
        for (w, s) in outEdges[v] { m = min(m, xs[w] - s) }
        if m.isFinite && m > xs[v] { xs[v] = m }
    }
    var out = [Double](repeating: 0, count: n)
    for v in 0..<n { out[v] = xs[root[v]] }
    return out
}
