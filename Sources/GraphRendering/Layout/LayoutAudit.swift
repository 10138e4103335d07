// Geometric checks of a finished layout: overlapping boxes, edges that do not touch their
// boxes, group frames that do not contain their members or overlap siblings, and a plain
// segment-intersection crossing count that can be applied to any drawing (ours or dot's).

/// What is wrong with a layout, one sentence per problem; empty means it passed.
public func auditLayout(_ graph: LayoutGraph, _ layout: GraphLayout, tolerance: Double = 0.5) -> [String] {
    var problems: [String] = []
    // Boxes must not overlap: sweep on x so 50k boxes stay cheap.
    let sorted = (0..<layout.boxes.count).sorted { layout.boxes[$0].minX < layout.boxes[$1].minX }
    var active: [Int] = []
    for i in sorted {
        let r = layout.boxes[i]
        active.removeAll { layout.boxes[$0].maxX <= r.minX + tolerance }
        for j in active where r.overlaps(layout.boxes[j], tolerance: tolerance) {
            problems.append("boxes '\(graph.boxes[j].id)' and '\(graph.boxes[i].id)' overlap")
        }
        active.append(i)
    }
    for (ei, e) in graph.edges.enumerated() where e.source != e.target {
        let route = layout.edges[ei]
        guard let first = route.first, let last = route.last else {
            problems.append("edge \(ei) ('\(graph.boxes[e.source].id)' -> '\(graph.boxes[e.target].id)') has no route")
            continue
        }
        if layout.boxes[e.source].boundaryDistance(first) > tolerance {
            problems.append("edge \(ei) does not start on '\(graph.boxes[e.source].id)'")
        }
        if layout.boxes[e.target].boundaryDistance(last) > tolerance {
            problems.append("edge \(ei) does not end on '\(graph.boxes[e.target].id)'")
        }
    }
    for (i, b) in graph.boxes.enumerated() {
        if let p = b.parent, !layout.groups[p].contains(layout.boxes[i], tolerance: tolerance) {
            problems.append("group '\(graph.groups[p].id)' does not contain box '\(b.id)'")
        }
    }
    var siblings: [Int: [Int]] = [:]
    for (g, group) in graph.groups.enumerated() {
        if let p = group.parent, !layout.groups[p].contains(layout.groups[g], tolerance: tolerance) {
            problems.append("group '\(graph.groups[p].id)' does not contain group '\(group.id)'")
        }
        siblings[group.parent ?? -1, default: []].append(g)
    }
    for (parent, members) in siblings {
        for (k, a) in members.enumerated() {
            for b in members[(k + 1)...] where layout.groups[a].overlaps(layout.groups[b], tolerance: tolerance) {
                problems.append("sibling groups '\(graph.groups[a].id)' and '\(graph.groups[b].id)' overlap")
            }
            for (bi, box) in graph.boxes.enumerated() where (box.parent ?? -1) == parent {
                if layout.groups[a].overlaps(layout.boxes[bi], tolerance: tolerance) {
                    problems.append("group '\(graph.groups[a].id)' overlaps box '\(box.id)'")
                }
            }
        }
    }
    return problems
}

/// Counts proper crossings between polylines drawn by different edges (touching ends and
/// shared collinear stretches do not count). Used to compare our drawing with dot's.
public func countGeometricCrossings(_ polylines: [[Point]]) -> Int {
    struct Segment { var a: Point; var b: Point; var edge: Int; var minX: Double; var maxX: Double; var minY: Double; var maxY: Double }
    var segs: [Segment] = []
    for (e, line) in polylines.enumerated() where line.count > 1 {
        for i in 1..<line.count {
            let a = line[i - 1], b = line[i]
            if a == b { continue }
            segs.append(Segment(a: a, b: b, edge: e, minX: min(a.x, b.x), maxX: max(a.x, b.x), minY: min(a.y, b.y), maxY: max(a.y, b.y)))
        }
    }
    segs.sort { $0.minX < $1.minX }
    func orient(_ p: Point, _ q: Point, _ r: Point) -> Double { (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x) }
    var count = 0
    for i in 0..<segs.count {
        let s = segs[i]
        var j = i + 1
        while j < segs.count && segs[j].minX <= s.maxX {
            let t = segs[j]
            j += 1
            if t.edge == s.edge || t.minY > s.maxY || t.maxY < s.minY { continue }
            let d1 = orient(s.a, s.b, t.a), d2 = orient(s.a, s.b, t.b)
            let d3 = orient(t.a, t.b, s.a), d4 = orient(t.a, t.b, s.b)
            let eps = 1e-6
            if ((d1 > eps && d2 < -eps) || (d1 < -eps && d2 > eps)) && ((d3 > eps && d4 < -eps) || (d3 < -eps && d4 > eps)) {
                count += 1
            }
        }
    }
    return count
}
