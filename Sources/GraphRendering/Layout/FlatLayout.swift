// One level of the layered layout: the Sugiyama pipeline for the direct members of one group
// (or the top level). Ranks, dummy nodes for long edges, crossing reduction, Brandes–Köpf x,
// rank y, polyline routes through the dummies, and optional wrapping of a long level into
// side-by-side columns. Coordinates are local: the content box starts at (0, 0).

/// The members of one group, as the flat layout sees them.
struct FlatProblem {
    var widths: [Double]
    var heights: [Double]
    /// Unique directed item pairs, no self loops.
    var edges: [(Int, Int)]
    /// How many original edges each item pair stands for (weights ranking).
    var multiplicity: [Int]
    /// Zero-size item on the top border where edges from outside enter.
    var inPort: Int?
    /// Zero-size item on the bottom border where edges to the outside leave.
    var outPort: Int?
    /// Horizontal offsets (from the item's centre) where edges leave / enter an item: a nested
    /// group's ports are not at its centre.
    var outAttach: [Double]
    var inAttach: [Double]
    /// Allowed to wrap into columns (every level may; kept as a switch for callers that must not).
    var mayWrap: Bool
}

/// The result for one group level, in local coordinates.
struct FlatSolution {
    var centers: [Point]
    var width: Double
    var height: Double
    /// One polyline per problem edge, from the source attach point to the target attach point.
    var routes: [[Point]]
    var crossings: Int
    var rankCount: Int
    var columns: Int
}

func layoutFlat(_ p: FlatProblem, options o: LayoutOptions) -> FlatSolution {
    let n = p.widths.count
    if n == 0 {
        return FlatSolution(centers: [], width: 0, height: 0, routes: [], crossings: 0, rankCount: 0, columns: 1)
    }
    // 1. Acyclic orientation (ports excluded: they only ever start or end edges).
    let reversed = findBackEdges(nodeCount: n, edges: p.edges)
    var dagEdges: [(Int, Int, Int)] = []
    dagEdges.reserveCapacity(p.edges.count)
    for (i, e) in p.edges.enumerated() where !(e.0 == p.inPort || e.1 == p.outPort) {
        let (a, b) = reversed[i] ? (e.1, e.0) : (e.0, e.1)
        dagEdges.append((a, b, p.multiplicity[i]))
    }
    // 2. Ranks, then ports above / below everything.
    var rank = assignRanks(nodeCount: n, edges: dagEdges)
    let shift = p.inPort != nil ? 1 : 0
    var maxRank = 0
    for v in 0..<n where v != p.inPort && v != p.outPort { rank[v] += shift; maxRank = max(maxRank, rank[v]) }
    if let ip = p.inPort { rank[ip] = 0 }
    if let op = p.outPort { maxRank += 1; rank[op] = maxRank }
    let rankCount = maxRank + 1

    // 3. Proper layered graph with dummy nodes on long edges.
    var widths = p.widths
    var heights = p.heights
    var isDummy = [Bool](repeating: false, count: n)
    var preds = [[Int]](repeating: [], count: n)
    var succs = [[Int]](repeating: [], count: n)
    var chains: [[Int]] = []
    chains.reserveCapacity(p.edges.count)
    for (i, e) in p.edges.enumerated() {
        let flip = reversed[i] && !(e.0 == p.inPort || e.1 == p.outPort)
        let (a, b) = flip ? (e.1, e.0) : (e.0, e.1)
        var chain = [a]
        var r = rank[a] + 1
        var prev = a
        while r < rank[b] {
            let d = rank.count
            rank.append(r); widths.append(0); heights.append(0); isDummy.append(true)
            preds.append([prev]); succs.append([])
            succs[prev].append(d)
            chain.append(d)
            prev = d
            r += 1
        }
        if rank[b] > rank[a] {
            succs[prev].append(b); preds[b].append(prev)
        }
        chain.append(b)
        chains.append(chain)
    }
    let total = rank.count
    var layers = [[Int]](repeating: [], count: rankCount)
    for v in 0..<total { layers[rank[v]].append(v) }
    var g = LayeredGraph(rank: rank, preds: preds, succs: succs, layers: layers, pos: [Int](repeating: 0, count: total))
    for r in 0..<rankCount { g.refreshPositions(r) }

    // 4. Crossing reduction.
    let dummyChains = chains.compactMap { $0.count > 2 ? Array($0.dropFirst().dropLast()) : nil }
    let crossings = reduceCrossings(&g, sweeps: o.orderingSweeps, chains: dummyChains)

    // 5. Coordinates.
    var xs = assignX(g, sep: Separation(widths: widths, isDummy: isDummy, nodeSep: o.nodeSeparation, edgeSep: o.edgeSeparation))
    var minX = Double.infinity, maxX = -Double.infinity
    for v in 0..<total {
        minX = min(minX, xs[v] - widths[v] / 2)
        maxX = max(maxX, xs[v] + widths[v] / 2)
    }
    for v in 0..<total { xs[v] -= minX }
    let width = maxX - minX
    var rankHeight = [Double](repeating: 0, count: rankCount)
    for v in 0..<total { rankHeight[rank[v]] = max(rankHeight[rank[v]], heights[v]) }
    var rankTop = [Double](repeating: 0, count: rankCount)
    var y = 0.0
    for r in 0..<rankCount {
        rankTop[r] = y
        y += rankHeight[r] + (r + 1 < rankCount ? o.rankSeparation : 0)
    }
    var height = y
    var ys = [Double](repeating: 0, count: total)
    for v in 0..<total { ys[v] = rankTop[rank[v]] + rankHeight[rank[v]] / 2 }
    if let ip = p.inPort { ys[ip] = 0 }
    if let op = p.outPort { ys[op] = height }

    // 6. Optional wrapping of a tall top level into columns.
    var columnOf = [Int](repeating: 0, count: rankCount)
    var columns = 1
    var columnBottom: [Double] = [height]
    var jumpLane: [Int: Int] = [:]
    var laneStep = 4.0
    var maxLane = 0
    let gutter = o.nodeSeparation * 3
    if p.mayWrap && o.wrapLongLayouts && rankCount > 24 && height > 2.5 * max(width, 1) * o.wrapAspect {
        // c columns of the level's width plus a gutter each, height / c tall: their ratio is
        // wrapAspect at c = sqrt(height / (wrapAspect * (width + gutter))).
        let target = Int((height / ((max(width, 60) + gutter) * o.wrapAspect)).squareRoot().rounded())
        columns = max(2, min(target, rankCount / 8))
        let perColumn = height / Double(columns)
        // Edges crossing each rank boundary: cut where few edges have to jump columns.
        var spanning = [Int](repeating: 0, count: rankCount)
        for v in 0..<total { spanning[rank[v]] += g.succs[v].count }
        let ranksPerColumn = max(1, rankCount / columns)
        let window = max(1, ranksPerColumn / 5)
        var cuts: [Int] = [] // first rank of each new column
        var colStart = 0.0
        var r = 1
        while r < rankCount && cuts.count + 1 < columns {
            if rankTop[r] - colStart > perColumn {
                var best = r
                let lo = max((cuts.last ?? 0) + 1, r - window), hi = min(rankCount - 1, r + window)
                if lo <= hi {
                    for c in lo...hi where spanning[c - 1] < spanning[best - 1]
                        || (spanning[c - 1] == spanning[best - 1] && abs(c - r) < abs(best - r)) { best = c }
                }
                cuts.append(best)
                colStart = rankTop[best]
                r = best + 1
            } else {
                r += 1
            }
        }
        var col = 0
        columnBottom = []
        var start = 0.0
        for r in 0..<rankCount {
            if col < cuts.count && r == cuts[col] {
                columnBottom.append(rankTop[r - 1] + rankHeight[r - 1] - start)
                col += 1
                start = rankTop[r]
            }
            columnOf[r] = col
        }
        columnBottom.append(rankTop[rankCount - 1] + rankHeight[rankCount - 1] - start)
        columns = col + 1
        var colTop = [Double](repeating: 0, count: columns)
        for r in stride(from: rankCount - 1, through: 0, by: -1) { colTop[columnOf[r]] = rankTop[r] }
        // Edges jumping to the next column get nested lanes: the rightmost leaver takes the
        // innermost lane at the bottom, in the gutter and along the top, so jumps never cross.
        var jumps = [[(x: Double, key: Int)]](repeating: [], count: columns)
        for (i, chain) in chains.enumerated() where chain.count > 1 {
            for k in 1..<chain.count where columnOf[rank[chain[k]]] != columnOf[rank[chain[k - 1]]] {
                jumps[columnOf[rank[chain[k - 1]]]].append((xs[chain[k - 1]], i << 20 | k))
            }
        }
        for c in 0..<columns where !jumps[c].isEmpty {
            jumps[c].sort { $0.x > $1.x }
            laneStep = min(laneStep, gutter * 0.8 / Double(jumps[c].count))
            for (slot, j) in jumps[c].enumerated() { jumpLane[j.key] = slot; maxLane = max(maxLane, slot) }
        }
        let margin = o.rankSeparation / 2 + Double(maxLane) * laneStep
        for v in 0..<total {
            let c = columnOf[rank[v]]
            xs[v] += Double(c) * (width + gutter)
            ys[v] += margin - colTop[c]
        }
        for c in 0..<columns { columnBottom[c] += margin }
        height = (columnBottom.max() ?? height) + margin + o.rankSeparation / 4
    }
    let totalWidth = Double(columns) * width + Double(columns - 1) * gutter

    // 7. Routes.
    var routes: [[Point]] = []
    routes.reserveCapacity(chains.count)
    for (i, chain) in chains.enumerated() {
        guard let first = chain.first, let last = chain.last else { routes.append([]); continue }
        let flip = chain.first != p.edges[i].0
        var pts: [Point] = []
        pts.reserveCapacity(chain.count + 4)
        // Attach offsets belong to the original source/target, whichever end they ended up at.
        let firstDX = flip ? p.inAttach[first] : p.outAttach[first]
        let lastDX = flip ? p.outAttach[last] : p.inAttach[last]
        // In a reversed edge the arrow enters the upper item from below, so attach on the facing sides.
        // Edges run vertically inside a rank and only bend in the gap between ranks, so the
        // drawing has exactly the crossings the ordering counted (a short box's edge cannot cut
        // past a neighbouring long edge inside a tall rank).
        let startY = ys[first] + heights[first] / 2
        pts.append(Point(x: xs[first] + firstDX, y: startY))
        let firstBottom = ys[first] + rankHeight[rank[first]] / 2
        if firstBottom > startY + 0.5 { pts.append(Point(x: xs[first] + firstDX, y: firstBottom)) }
        var prevColumn = columnOf[rank[first]]
        for k in 1..<chain.count {
            let v = chain[k]
            let c = columnOf[rank[v]]
            let isLast = k == chain.count - 1
            // A dummy spans its whole rank, so a long edge runs straight past tall boxes (nested groups).
            let half = isLast ? 0 : rankHeight[rank[v]] / 2
            let point = isLast ? Point(x: xs[v] + lastDX, y: ys[v] - heights[v] / 2) : Point(x: xs[v], y: ys[v] - half)
            if c != prevColumn, let prevPoint = pts.last {
                let step = Double(jumpLane[i << 20 | k] ?? 0) * laneStep
                let below = columnBottom[prevColumn] + o.rankSeparation / 4 + step
                let gx = Double(prevColumn) * (width + gutter) + width + gutter * 0.1 + step
                let above = Double(maxLane) * laneStep + o.rankSeparation / 4 - step
                pts.append(Point(x: prevPoint.x, y: below))
                pts.append(Point(x: gx, y: below))
                pts.append(Point(x: gx, y: above))
                pts.append(Point(x: point.x, y: above))
            }
            if isLast {
                let targetTop = ys[v] - rankHeight[rank[v]] / 2
                if targetTop < point.y - 0.5 { pts.append(Point(x: point.x, y: targetTop)) }
            }
            pts.append(point)
            if half > 0 { pts.append(Point(x: point.x, y: ys[v] + half)) }
            prevColumn = c
        }
        if flip { pts.reverse() }
        routes.append(pts)
    }
    var centers: [Point] = []
    centers.reserveCapacity(n)
    for v in 0..<n { centers.append(Point(x: xs[v], y: ys[v])) }
    return FlatSolution(centers: centers, width: totalWidth, height: height, routes: routes,
                        crossings: crossings, rankCount: rankCount, columns: columns)
}
