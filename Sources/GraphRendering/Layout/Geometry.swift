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
