// Edge-label placement: puts each tensor-shape label beside its edge where it covers no box,
// no frame title, no edge line (as drawn, curves included) and no other label, trying spots
// along the whole route; a label with no free spot is left off the picture (its text stays in
// the edge's tooltip). Also here: the spatial indexes it uses (`RectGrid` for boxes and labels,
// `EdgeLineIndex` for lines) and `auditEdgeLabels`, the check the tests apply to any drawing.
// (Labels at the middle of each edge's first segment used to pile up wherever several edges
// left or entered one box.)

/// One edge label to place: the edge (index into `GraphLayout.edges`) and its text.
public struct EdgeLabelRequest: Sendable, Equatable {
    /// Index of the edge in the layout.
    public var edge: Int
    /// The text (a tensor shape).
    public var text: String
    /// A label for edge `edge`.
    public init(edge: Int, text: String) { self.edge = edge; self.text = text }
}

/// A label placed on the drawing.
public struct PlacedEdgeLabel: Sendable, Equatable {
    /// Index of the edge in the layout.
    public var edge: Int
    /// The text.
    public var text: String
    /// The area the text covers (layout coordinates); the SVG baseline is `box.maxY - descent`.
    public var box: Rect
}

/// Font size and the estimated extent of label text.
public struct EdgeLabelStyle: Sendable {
    /// Font size in pixels.
    public var fontSize: Double = 8.5
    /// Average glyph advance (0.6 em: digits and `×` are narrower, so the estimate errs wide).
    public var charWidth: Double = 5.1
    /// Height of the text box.
    public var height: Double = 10
    /// Space between a label and its edge.
    public var gap: Double = 3
    /// Below-baseline part of `height`.
    public var descent: Double = 2
    /// The style the SVG writer uses.
    public init() {}

    /// The box a text of `text` needs.
    func size(of text: String) -> (width: Double, height: Double) { (Double(text.count) * charWidth + 2, height) }
}

/// The labels that found a free spot, in request order, and how many did not.
public struct EdgeLabelPlacement: Sendable {
    /// Placed labels; no two overlap, and none overlaps a box or an obstacle.
    public var labels: [PlacedEdgeLabel]
    /// Requests left off the picture for lack of space.
    public var dropped: Int
}

/// Places `requests` beside their edges' routes. Boxes and edge lines of `layout` and every
/// rectangle in `obstacles` (frame titles, ...) are kept clear, and so are labels placed
/// earlier; spots are tried along the route by length (middle first, then towards its ends),
/// right or left of it where it is steep, above or below where it is flat. Deterministic.
public func placeEdgeLabels(_ requests: [EdgeLabelRequest], layout: GraphLayout, obstacles: [Rect] = [],
                            direction: LayoutDirection = .topToBottom,
                            style: EdgeLabelStyle = EdgeLabelStyle()) -> EdgeLabelPlacement {
    var grid = RectGrid(cell: 48)
    for r in layout.boxes { grid.insert(r) }
    for r in obstacles { grid.insert(r) }
    // Edges as drawn, its own edge's included: beside a straight stretch a label clears its
    // own line by `gap`; across a bend it would not.
    let leftToRight = direction == .leftToRight
    let lines = requests.isEmpty ? nil : EdgeLineIndex(layout.edges, leftToRight: leftToRight)
    let fractions = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88]
    var placed: [PlacedEdgeLabel] = []
    placed.reserveCapacity(requests.count)
    var dropped = 0
    for request in requests {
        guard request.edge >= 0, request.edge < layout.edges.count, !request.text.isEmpty else { dropped += 1; continue }
        let route = sampleEdgeCurve(layout.edges[request.edge], leftToRight: leftToRight, spacing: 3)
        let (w, h) = style.size(of: request.text)
        // Spots along the whole route by length, middle first (the ends sit next to the boxes);
        // beside the line, never across it: right or left where the route is steep, above or
        // below where it is flat (a label centred on its own edge hides it).
        var spot: Rect?
        let lengths = zip(route, route.dropFirst()).map { a, b in ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot() }
        let total = lengths.reduce(0, +)
        search: for f in fractions where total > 0 {
            var along = f * total
            var k = 0
            while k < lengths.count - 1 && along > lengths[k] { along -= lengths[k]; k += 1 }
            let a = route[k], b = route[k + 1]
            let t = lengths[k] > 0 ? min(along / lengths[k], 1) : 0
            let p = Point(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t)
            let candidates = abs(b.y - a.y) >= abs(b.x - a.x)
                ? [Rect(x: p.x + style.gap, y: p.y - h / 2, width: w, height: h),
                   Rect(x: p.x - style.gap - w, y: p.y - h / 2, width: w, height: h)]
                : [Rect(x: p.x - w / 2, y: p.y - style.gap - h, width: w, height: h),
                   Rect(x: p.x - w / 2, y: p.y + style.gap, width: w, height: h)]
            for c in candidates where c.minX >= 0 && c.minY >= 0 && !grid.overlapsAny(c) && lines?.crosses(c) != true {
                spot = c
                break search
            }
        }
        if let r = spot {
            grid.insert(r)
            placed.append(PlacedEdgeLabel(edge: request.edge, text: request.text, box: r))
        } else {
            dropped += 1
        }
    }
    return EdgeLabelPlacement(labels: placed, dropped: dropped)
}

/// Rectangles bucketed by a uniform grid, for "does this overlap anything placed so far".
struct RectGrid {
    let cell: Double
    private var rects: [Rect] = []
    private var buckets: [Int64: [Int32]] = [:]

    init(cell: Double) { self.cell = cell }

    /// Whether `r` has coordinates the grid can bucket (finite and within a sane range).
    static func usable(_ r: Rect) -> Bool {
        let limit = 1e12
        return r.minX.isFinite && r.minY.isFinite && r.maxX.isFinite && r.maxY.isFinite
            && abs(r.minX) < limit && abs(r.minY) < limit && abs(r.maxX) < limit && abs(r.maxY) < limit
            && r.width >= 0 && r.height >= 0
    }

    private func cells(_ r: Rect) -> (ClosedRange<Int64>, ClosedRange<Int64>) {
        func c(_ v: Double) -> Int64 { Int64((v / cell).rounded(.down)) }
        return (c(r.minX)...max(c(r.minX), c(r.maxX)), c(r.minY)...max(c(r.minY), c(r.maxY)))
    }

    private static func key(_ x: Int64, _ y: Int64) -> Int64 { x &* 1_000_003 &+ y }

    mutating func insert(_ r: Rect) {
        guard Self.usable(r) else { return }
        let i = Int32(rects.count)
        rects.append(r)
        let (xs, ys) = cells(r)
        for x in xs { for y in ys { buckets[Self.key(x, y), default: []].append(i) } }
    }

    /// True when some entry in the cells `r` covers satisfies `test` (true when `r` cannot be
    /// checked: not finite).
    private func any(near r: Rect, _ test: (Rect) -> Bool) -> Bool {
        guard Self.usable(r) else { return true }
        let (xs, ys) = cells(r)
        for x in xs {
            for y in ys {
                guard let list = buckets[Self.key(x, y)] else { continue }
                for i in list where test(rects[Int(i)]) { return true }
            }
        }
        return false
    }

    /// True when some entry's corner (for points: the point) lies inside `r` (borders included).
    func containsPoint(in r: Rect) -> Bool {
        any(near: r) { p in p.minX >= r.minX && p.minX <= r.maxX && p.minY >= r.minY && p.minY <= r.maxY }
    }

    /// True when `r` overlaps a rectangle in the grid (or cannot be checked: not finite).
    func overlapsAny(_ r: Rect) -> Bool {
        any(near: r) { $0.overlaps(r) }
    }
}

/// Problems with placed labels: overlaps with each other, with boxes, and with edges as drawn;
/// empty means it passed.
public func auditEdgeLabels(_ labels: [PlacedEdgeLabel], layout: GraphLayout,
                            direction: LayoutDirection = .topToBottom) -> [String] {
    var problems: [String] = []
    var grid = RectGrid(cell: 48)
    for (i, l) in labels.enumerated() {
        if grid.overlapsAny(l.box) { problems.append("label \(i) ('\(l.text)') overlaps another label") }
        grid.insert(l.box)
    }
    var boxes = RectGrid(cell: 48)
    for r in layout.boxes { boxes.insert(r) }
    // Points of every edge as drawn, 1 px apart (denser than the placement's chords, so this
    // checks it rather than repeating it); a point more than half a pixel inside a label means
    // the line runs through the text.
    var lines = RectGrid(cell: 48)
    for route in layout.edges {
        for p in sampleEdgeCurve(route, leftToRight: direction == .leftToRight, spacing: 1) {
            lines.insert(Rect(x: p.x, y: p.y, width: 0, height: 0))
        }
    }
    for (i, l) in labels.enumerated() {
        if boxes.overlapsAny(l.box) { problems.append("label \(i) ('\(l.text)') overlaps a box") }
        let inner = Rect(x: l.box.minX + 0.5, y: l.box.minY + 0.5, width: max(l.box.width - 1, 0), height: max(l.box.height - 1, 0))
        if lines.containsPoint(in: inner) { problems.append("label \(i) ('\(l.text)') lies across an edge") }
    }
    return problems
}

/// Every edge as drawn, as straight chords (curves flattened to within a pixel), in a fixed
/// grid built once (counted, then filled: no per-cell arrays), for "does this rectangle cross
/// any line". A query tests only the chords in the cells the rectangle covers.
struct EdgeLineIndex {
    private let cell = 64.0
    private var originX = 0.0, originY = 0.0
    private var columns = 0, rows = 0
    /// The drawn edges as one list of points; chord `i` runs from `points[i]` to `points[i + 1]`
    /// unless either is the separator (NaN) that ends each edge.
    private var points: [Point] = []
    /// Cell `c`'s chords are `items[starts[c]..<starts[c + 1]]`.
    private var starts: [Int32] = []
    private var items: [Int32] = []

    init(_ routes: [[Point]], leftToRight: Bool) {
        let separator = Point(x: .nan, y: .nan)
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for route in routes {
            guard let first = route.first, first.x.isFinite, first.y.isFinite else { continue }
            points.append(first)
            for piece in edgeCurve(route, leftToRight: leftToRight) {
                for p in piece.flattened(tolerance: 1).dropFirst() where p.x.isFinite && p.y.isFinite { points.append(p) }
            }
            points.append(separator)
        }
        for p in points where p.x.isFinite {
            minX = min(minX, p.x); minY = min(minY, p.y); maxX = max(maxX, p.x); maxY = max(maxY, p.y)
        }
        guard minX.isFinite else { points = []; return }
        originX = minX
        originY = minY
        let c = Int(((maxX - minX) / cell).rounded(.down)) + 1, r = Int(((maxY - minY) / cell).rounded(.down)) + 1
        guard c < 1 << 24, r < 1 << 24, c * r < 50_000_000 else { points = []; return }
        columns = c
        rows = r
        // Plain loops over locals (a closure writing to `self`'s arrays while a method of `self`
        // runs made Swift copy the array on every write); the cells are worked out twice rather
        // than stored per chord.
        let pts = points, cols = columns
        func cells(_ i: Int) -> (ClosedRange<Int>, ClosedRange<Int>)? {
            let a = pts[i], b = pts[i + 1]
            guard a.x.isFinite, b.x.isFinite,
                  let xs = cellRange(min(a.x, b.x), max(a.x, b.x), origin: minX, count: c),
                  let ys = cellRange(min(a.y, b.y), max(a.y, b.y), origin: minY, count: r) else { return nil }
            return (xs, ys)
        }
        var counts = [Int32](repeating: 0, count: c * r + 1)
        for i in 0..<max(pts.count - 1, 0) {
            guard let (xs, ys) = cells(i) else { continue }
            for y in ys { for x in xs { counts[y * cols + x + 1] += 1 } }
        }
        for k in 0..<(c * r) { counts[k + 1] += counts[k] }
        var fill = [Int32](repeating: 0, count: Int(counts[c * r]))
        var next = counts
        for i in 0..<max(pts.count - 1, 0) {
            guard let (xs, ys) = cells(i) else { continue }
            for y in ys {
                for x in xs {
                    let k = y * cols + x
                    fill[Int(next[k])] = Int32(i)
                    next[k] += 1
                }
            }
        }
        starts = counts
        items = fill
    }

    private func cellRange(_ lo: Double, _ hi: Double, origin: Double, count: Int) -> ClosedRange<Int>? {
        let a = max(0, Int(((lo - origin) / cell).rounded(.down))), b = min(count - 1, Int(((hi - origin) / cell).rounded(.down)))
        return a <= b ? a...b : nil
    }

    /// True when some line runs through the interior of `r`.
    func crosses(_ r: Rect) -> Bool {
        guard columns > 0 else { return false }
        guard RectGrid.usable(r) else { return true }
        guard let xs = cellRange(r.minX, r.maxX, origin: originX, count: columns),
              let ys = cellRange(r.minY, r.maxY, origin: originY, count: rows) else { return false }
        for y in ys {
            for x in xs {
                let c = y * columns + x
                for k in Int(starts[c])..<Int(starts[c + 1]) {
                    let i = Int(items[k])
                    if segmentCrosses(points[i], points[i + 1], r) { return true }
                }
            }
        }
        return false
    }
}

extension EdgeCurvePiece {
    /// Points along the piece whose chords stay within `tolerance` of it (a line: its ends; a
    /// cubic: n chords with n from the bound on its second derivative).
    func flattened(tolerance: Double) -> [Point] {
        switch self {
        case .line(let a, let b):
            return [a, b]
        case .cubic(let a, let c1, let c2, let b):
            func norm(_ x: Double, _ y: Double) -> Double { (x * x + y * y).squareRoot() }
            let d = max(norm(a.x - 2 * c1.x + c2.x, a.y - 2 * c1.y + c2.y), norm(c1.x - 2 * c2.x + b.x, c1.y - 2 * c2.y + b.y))
            let n = max(1, min(256, Int((6 * d / (8 * tolerance)).squareRoot().rounded(.up))))
            return (0...n).map { point(at: Double($0) / Double(n)) }
        }
    }
}

/// Whether the segment from `a` to `b` passes through the interior of `r` (Liang-Barsky
/// clipping against `r` shrunk by a hair, so touching the border does not count).
func segmentCrosses(_ a: Point, _ b: Point, _ r: Rect, tolerance: Double = 0.01) -> Bool {
    let minX = r.minX + tolerance, maxX = r.maxX - tolerance, minY = r.minY + tolerance, maxY = r.maxY - tolerance
    guard minX < maxX, minY < maxY else { return false }
    let dx = b.x - a.x, dy = b.y - a.y
    var t0 = 0.0, t1 = 1.0
    for (p, q) in [(-dx, a.x - minX), (dx, maxX - a.x), (-dy, a.y - minY), (dy, maxY - a.y)] {
        if p == 0 {
            if q < 0 { return false }
            continue
        }
        let t = q / p
        if p < 0 {
            if t > t1 { return false }
            t0 = max(t0, t)
        } else {
            if t < t0 { return false }
            t1 = min(t1, t)
        }
    }
    return t0 < t1
}