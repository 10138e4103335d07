// The hierarchy-aware layout: every expanded group is laid out on its own (members plus nested
// groups as single boxes), innermost first, and placed as one box in its parent. Edges that
// cross a frame run through the group's entry / exit port, so each level stays a small flat
// problem and a level's result can be cached and reused when something elsewhere expands.

import Foundation

/// The finished picture geometry, in absolute drawing coordinates of the requested direction.
public struct GraphLayout: Sendable {
    /// One rectangle per `LayoutGraph.boxes` entry.
    public var boxes: [Rect]
    /// One frame per `LayoutGraph.groups` entry.
    public var groups: [Rect]
    /// One polyline per `LayoutGraph.edges` entry, from the source's border to the target's
    /// border (empty for a self loop).
    public var edges: [[Point]]
    /// Size of the whole drawing, margins included.
    public var width: Double
    public var height: Double
    /// Edge crossings summed over all levels, as counted by the ordering step.
    public var crossings: Int
    /// Levels (groups plus the top level) laid out in this call, and those taken from the cache.
    public var levelsComputed: Int
    public var levelsReused: Int
    /// Columns the top level was wrapped into (1 when not wrapped; groups may wrap too).
    public var columns: Int
}

/// Remembers per-level layouts by content, so expanding one group re-lays out only that group
/// and its ancestors. Owned by whoever keeps a view alive (e.g. a notebook session); not
/// thread-safe, use one per thread.
public final class LayoutCache {
    fileprivate var entries: [Int: FlatSolution] = [:]
    fileprivate var order: [Int] = []
    /// Upper bound on remembered levels; the oldest are forgotten first.
    public let capacity: Int
    /// An empty cache keeping at most `capacity` levels.
    public init(capacity: Int = 20_000) { self.capacity = capacity }
    /// Number of levels remembered right now.
    public var count: Int { entries.count }

    fileprivate func lookup(_ key: Int) -> FlatSolution? { entries[key] }
    fileprivate func store(_ key: Int, _ value: FlatSolution) {
        if entries[key] == nil { order.append(key) }
        entries[key] = value
        if order.count > capacity {
            let drop = order.count - capacity
            for k in order.prefix(drop) { entries[k] = nil }
            order.removeFirst(drop)
        }
    }
}

private enum Item { case box(Int), group(Int) }

private struct Level {
    var items: [Item] = []
    var edges: [(Int, Int)] = []
    var multiplicity: [Int] = []
    var pairIndex: [Int: Int] = [:]
    var inPort: Int? = nil
    var outPort: Int? = nil

    mutating func edge(_ a: Int, _ b: Int) -> Int {
        let key = a &* 1_000_003 &+ b
        if let i = pairIndex[key], edges[i] == (a, b) { multiplicity[i] += 1; return i }
        edges.append((a, b)); multiplicity.append(1)
        pairIndex[key] = edges.count - 1
        return edges.count - 1
    }
    mutating func port(_ isIn: Bool) -> Int {
        if isIn, let p = inPort { return p }
        if !isIn, let p = outPort { return p }
        items.append(.box(-1))
        if isIn { inPort = items.count - 1 } else { outPort = items.count - 1 }
        return items.count - 1
    }
}

/// Lays out a `LayoutGraph`. `cache` (optional) makes repeated calls on a growing expansion cheap.
public func layoutGraph(_ graph: LayoutGraph, options: LayoutOptions = LayoutOptions(), cache: LayoutCache? = nil) throws -> GraphLayout {
    try graph.validate()
    let lr = options.direction == .leftToRight
    let G = graph.groups.count
    let rootLevel = G
    func levelOfBox(_ i: Int) -> Int { graph.boxes[i].parent ?? rootLevel }
    func parentLevel(_ g: Int) -> Int { graph.groups[g].parent ?? rootLevel }

    var levels = [Level](repeating: Level(), count: G + 1)
    var boxItem = [Int](repeating: 0, count: graph.boxes.count)
    var groupItem = [Int](repeating: 0, count: G)
    for (i, _) in graph.boxes.enumerated() {
        let l = levelOfBox(i)
        boxItem[i] = levels[l].items.count
        levels[l].items.append(.box(i))
    }
    for g in 0..<G {
        let l = parentLevel(g)
        groupItem[g] = levels[l].items.count
        levels[l].items.append(.group(g))
    }
    var depth = [Int](repeating: -1, count: G)
    func depthOf(_ g: Int) -> Int {
        if depth[g] >= 0 { return depth[g] }
        var chain: [Int] = []
        var cur: Int? = g
        while let c = cur, depth[c] < 0 { chain.append(c); cur = graph.groups[c].parent }
        var d = cur.map { depth[$0] } ?? 0
        for c in chain.reversed() { d += 1; depth[c] = d }
        return depth[g]
    }
    for g in 0..<G { _ = depthOf(g) }
    func levelDepth(_ l: Int) -> Int { l == rootLevel ? 0 : depth[l] }

    // Split every edge into per-level segments: (level, local edge index, goes through out port?).
    var segments = [[(level: Int, edge: Int)]](repeating: [], count: graph.edges.count)
    for (ei, e) in graph.edges.enumerated() where e.source != e.target {
        var lu = levelOfBox(e.source), lv = levelOfBox(e.target)
        var iu = boxItem[e.source], iv = boxItem[e.target]
        var up: [(Int, Int)] = []
        var down: [(Int, Int)] = []
        while lu != lv {
            if levelDepth(lu) >= levelDepth(lv) {
                let port = levels[lu].port(false)
                up.append((lu, levels[lu].edge(iu, port)))
                iu = groupItem[lu]; lu = parentLevel(lu)
            } else {
                let port = levels[lv].port(true)
                down.append((lv, levels[lv].edge(port, iv)))
                iv = groupItem[lv]; lv = parentLevel(lv)
            }
        }
        if iu == iv { continue } // a box and its own ancestor group cannot be joined; skip defensively
        up.append((lu, levels[lu].edge(iu, iv)))
        up.append(contentsOf: down.reversed())
        segments[ei] = up.map { (level: $0.0, edge: $0.1) }
    }

    // Frame insets in layout space (header goes on the side that becomes the top).
    let pad = options.groupPadding
    let insetTop = lr ? pad : pad + options.groupHeader
    let insetLeft = lr ? pad + options.groupHeader : pad
    var solutions = [FlatSolution?](repeating: nil, count: G + 1)
    var frameSize = [(w: Double, h: Double)](repeating: (0, 0), count: G)
    var contentShift = [Double](repeating: 0, count: G) // centring when the header is wider
    var signature = [Int](repeating: 0, count: G + 1)
    var computed = 0, reused = 0
    var order = Array(0..<G)
    order.sort { depth[$0] > depth[$1] }
    order.append(rootLevel)
    var optionHasher = Hasher()
    optionHasher.combine(options)
    let optionHash = optionHasher.finalize()
    for l in order {
        let level = levels[l]
        let k = level.items.count
        var widths = [Double](repeating: 0, count: k)
        var heights = [Double](repeating: 0, count: k)
        var outAttach = [Double](repeating: 0, count: k)
        var inAttach = [Double](repeating: 0, count: k)
        var hasher = Hasher()
        hasher.combine(optionHash)
        hasher.combine(l == rootLevel ? "\u{0}root" : graph.groups[l].id)
        for (i, item) in level.items.enumerated() {
            switch item {
            case .box(let b) where b >= 0:
                let box = graph.boxes[b]
                widths[i] = lr ? box.height : box.width
                heights[i] = lr ? box.width : box.height
                hasher.combine(box.id); hasher.combine(widths[i]); hasher.combine(heights[i])
            case .box:
                hasher.combine(i) // a port
            case .group(let g):
                widths[i] = frameSize[g].w
                heights[i] = frameSize[g].h
                if let s = solutions[g] {
                    if let op = levels[g].outPort { outAttach[i] = insetLeft + contentShift[g] + s.centers[op].x - widths[i] / 2 }
                    if let ip = levels[g].inPort { inAttach[i] = insetLeft + contentShift[g] + s.centers[ip].x - widths[i] / 2 }
                }
                hasher.combine(signature[g])
            }
        }
        for (i, e) in level.edges.enumerated() { hasher.combine(e.0); hasher.combine(e.1); hasher.combine(level.multiplicity[i]) }
        hasher.combine(level.inPort ?? -1); hasher.combine(level.outPort ?? -1)
        let key = hasher.finalize()
        signature[l] = key
        let solution: FlatSolution
        if let cached = cache?.lookup(key), cached.centers.count == k {
            solution = cached; reused += 1
        } else {
            let problem = FlatProblem(widths: widths, heights: heights, edges: level.edges, multiplicity: level.multiplicity,
                                      inPort: level.inPort, outPort: level.outPort, outAttach: outAttach, inAttach: inAttach,
                                      mayWrap: true)
            solution = layoutFlat(problem, options: options)
            cache?.store(key, solution)
            computed += 1
        }
        solutions[l] = solution
        if l != rootLevel {
            let header = graph.groups[l].headerWidth + 2 * pad
            // The title runs along layout-space x in TB, along layout-space y in LR.
            var w = solution.width + 2 * pad
            var h = solution.height + insetTop + pad
            if !lr && w < header { contentShift[l] = (header - w) / 2; w = header }
            if lr {
                w = solution.width + insetLeft + pad
                h = max(h, header)
            }
            frameSize[l] = (w, h)
        }
    }

    // Absolute placement, top-down.
    let margin = 8.0
    var origin = [Point](repeating: Point(x: 0, y: 0), count: G + 1)
    origin[rootLevel] = Point(x: margin, y: margin)
    var boxRects = [Rect](repeating: Rect(x: 0, y: 0, width: 0, height: 0), count: graph.boxes.count)
    var groupRects = [Rect](repeating: Rect(x: 0, y: 0, width: 0, height: 0), count: G)
    var queue = [rootLevel]
    var head = 0
    while head < queue.count {
        let l = queue[head]; head += 1
        guard let s = solutions[l] else { continue }
        let o = origin[l]
        for (i, item) in levels[l].items.enumerated() {
            let c = s.centers[i]
            switch item {
            case .box(let b) where b >= 0:
                let box = graph.boxes[b]
                let w = lr ? box.height : box.width, h = lr ? box.width : box.height
                boxRects[b] = Rect(x: o.x + c.x - w / 2, y: o.y + c.y - h / 2, width: w, height: h)
            case .box:
                break
            case .group(let g):
                let f = frameSize[g]
                let r = Rect(x: o.x + c.x - f.w / 2, y: o.y + c.y - f.h / 2, width: f.w, height: f.h)
                groupRects[g] = r
                origin[g] = Point(x: r.x + insetLeft + contentShift[g], y: r.y + insetTop)
                queue.append(g)
            }
        }
    }

    // Stitch routes.
    var routes = [[Point]](repeating: [], count: graph.edges.count)
    for ei in 0..<graph.edges.count where !segments[ei].isEmpty {
        var pts: [Point] = []
        for seg in segments[ei] {
            guard let s = solutions[seg.level] else { continue }
            let o = origin[seg.level]
            let (a, b) = levels[seg.level].edges[seg.edge]
            var local = s.routes[seg.edge].map { Point(x: $0.x + o.x, y: $0.y + o.y) }
            if seg.level != rootLevel {
                let frame = groupRects[seg.level]
                if b == levels[seg.level].outPort, let lastPoint = local.last {
                    local.append(Point(x: lastPoint.x, y: frame.maxY))
                }
                if a == levels[seg.level].inPort, let firstPoint = local.first {
                    local.insert(Point(x: firstPoint.x, y: frame.minY), at: 0)
                }
            }
            for p in local {
                if let q = pts.last, abs(q.x - p.x) < 0.001 && abs(q.y - p.y) < 0.001 { continue }
                pts.append(p)
            }
        }
        routes[ei] = pts
    }
    guard let rootSolution = solutions[rootLevel] else {
        throw LayoutError.invalidInput("top level could not be laid out")
    }
    var width = rootSolution.width + 2 * margin
    var height = rootSolution.height + 2 * margin
    var crossings = 0
    for s in solutions { crossings += s?.crossings ?? 0 }

    if lr {
        func t(_ r: Rect) -> Rect { Rect(x: r.y, y: r.x, width: r.height, height: r.width) }
        boxRects = boxRects.map(t)
        groupRects = groupRects.map(t)
        routes = routes.map { $0.map { Point(x: $0.y, y: $0.x) } }
        swap(&width, &height)
    }
    return GraphLayout(boxes: boxRects, groups: groupRects, edges: routes, width: width, height: height,
                       crossings: crossings, levelsComputed: computed, levelsReused: reused, columns: rootSolution.columns)
}
