// Plain geometry shared by the layout engine and the writers: points, rectangles and the
// flow direction. Kept tiny and dependency-free so every stage can use the same value types.

/// A point in drawing coordinates (pixels, y grows downwards as in SVG).
public struct Point: Equatable, Sendable {
    /// Coordinates in pixels.
    public var x: Double
    public var y: Double
    /// The point (x, y).
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// An axis-aligned rectangle given by its top-left corner and size.
public struct Rect: Equatable, Sendable {
    /// Top-left corner.
    public var x: Double
    public var y: Double
    /// Size (never negative in a layout).
    public var width: Double
    public var height: Double
    /// A rectangle from its top-left corner and size.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    /// Edges and centre, for readable geometry code.
    public var minX: Double { x }
    public var minY: Double { y }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }

    /// True when the interiors overlap by more than `tolerance` on both axes; touching edges do not count.
    public func overlaps(_ other: Rect, tolerance: Double = 0.01) -> Bool {
        return minX < other.maxX - tolerance && other.minX < maxX - tolerance
            && minY < other.maxY - tolerance && other.minY < maxY - tolerance
    }

    /// True when `other` lies inside this rectangle (edges may touch, within `tolerance`).
    public func contains(_ other: Rect, tolerance: Double = 0.01) -> Bool {
        return other.minX >= minX - tolerance && other.maxX <= maxX + tolerance
            && other.minY >= minY - tolerance && other.maxY <= maxY + tolerance
    }

    /// Distance from `p` to this rectangle's boundary (0 when `p` lies on it).
    public func boundaryDistance(_ p: Point) -> Double {
        let inside = p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY
        if inside {
            return min(p.x - minX, maxX - p.x, p.y - minY, maxY - p.y)
        }
        let dx = max(minX - p.x, 0, p.x - maxX)
        let dy = max(minY - p.y, 0, p.y - maxY)
        return (dx * dx + dy * dy).squareRoot()
    }
}

/// Which way edges flow. Layout always runs top-to-bottom; left-to-right is a final transpose,
/// so every algorithm is written once.
public enum LayoutDirection: String, Sendable, CaseIterable {
    case topToBottom = "TB"
    case leftToRight = "LR"
}

/// One piece of a drawn edge: a straight line, or a cubic Bézier that leaves and enters along
/// the flow direction (vertical in top-to-bottom drawings).
enum EdgeCurvePiece {
    case line(Point, Point)
    case cubic(Point, Point, Point, Point)

    /// The point at parameter `t` in 0...1.
    func point(at t: Double) -> Point {
        switch self {
        case .line(let a, let b):
            return Point(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t)
        case .cubic(let a, let c1, let c2, let b):
            let u = 1 - t
            let w0 = u * u * u, w1 = 3 * u * u * t, w2 = 3 * u * t * t, w3 = t * t * t
            return Point(x: w0 * a.x + w1 * c1.x + w2 * c2.x + w3 * b.x, y: w0 * a.y + w1 * c1.y + w2 * c2.y + w3 * b.y)
        }
    }

    /// Length of the control polygon: at least the piece's length, a bound for sampling.
    var polygonLength: Double {
        func d(_ p: Point, _ q: Point) -> Double { ((q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y)).squareRoot() }
        switch self {
        case .line(let a, let b): return d(a, b)
        case .cubic(let a, let c1, let c2, let b): return d(a, c1) + d(c1, c2) + d(c2, b)
        }
    }
}

/// How an edge's route is drawn: each step between route points that moves along the flow and
/// sideways is a smooth S-curve, the others straight lines (the SVG writer and the label
/// placement share this, so labels are kept clear of the lines as drawn).
func edgeCurve(_ pts: [Point], leftToRight: Bool) -> [EdgeCurvePiece] {
    guard pts.count > 1 else { return [] }
    var pieces: [EdgeCurvePiece] = []
    pieces.reserveCapacity(pts.count - 1)
    for i in 1..<pts.count {
        let a = pts[i - 1], b = pts[i]
        let along = leftToRight ? b.x - a.x : b.y - a.y
        let across = leftToRight ? b.y - a.y : b.x - a.x
        if along <= 0.5 || abs(across) < 0.5 {
            pieces.append(.line(a, b))
            continue
        }
        let h = along / 2
        let c1 = leftToRight ? Point(x: a.x + h, y: a.y) : Point(x: a.x, y: a.y + h)
        let c2 = leftToRight ? Point(x: b.x - h, y: b.y) : Point(x: b.x, y: b.y - h)
        pieces.append(.cubic(a, c1, c2, b))
    }
    return pieces
}

/// Points along an edge as drawn, at most `spacing` apart (first and last route points included).
func sampleEdgeCurve(_ pts: [Point], leftToRight: Bool, spacing: Double) -> [Point] {
    guard let first = pts.first else { return [] }
    var out = [first]
    for piece in edgeCurve(pts, leftToRight: leftToRight) {
        let length = piece.polygonLength
        guard length.isFinite else { continue }
        let steps = max(1, Int((length / spacing).rounded(.up)))
        for i in 1...steps { out.append(piece.point(at: Double(i) / Double(steps))) }
    }
    return out
}