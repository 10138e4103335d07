// The layout engine's own small input: boxes with sizes, directed edges between boxes, and a
// tree of groups the boxes live in. It knows nothing about models, so the engine can be tested
// alone and any source (GraphIR, a synthetic benchmark graph) can feed it through an adapter.

/// What the layered layout draws: sized boxes, edges between them and nested groups.
///
/// Indices are positions in the arrays. A box's `parent` and a group's `parent` are group indices,
/// `nil` meaning the top level. Groups are the *expanded* namespaces; a collapsed namespace is just
/// a box (its size comes from its label), which is what makes collapse cheap.
public struct LayoutGraph: Sendable {
    /// One drawable box (an op node or a collapsed group).
    public struct Box: Sendable {
        /// Stable id, used for caching and as the SVG `data-id`.
        public var id: String
        public var width: Double
        public var height: Double
        /// Enclosing expanded group, or nil for the top level.
        public var parent: Int?
        public init(id: String, width: Double, height: Double, parent: Int? = nil) {
            self.id = id; self.width = width; self.height = height; self.parent = parent
        }
    }

    /// An expanded group: a frame around its members, with a header line for its name.
    public struct Group: Sendable {
        public var id: String
        /// Enclosing group, or nil for the top level.
        public var parent: Int?
        /// Width needed by the header text, so the frame is never narrower than its title.
        public var headerWidth: Double
        public init(id: String, parent: Int? = nil, headerWidth: Double = 0) {
            self.id = id; self.parent = parent; self.headerWidth = headerWidth
        }
    }

    /// A directed edge between two boxes (by index).
    public struct Edge: Sendable, Equatable {
        public var source: Int
        public var target: Int
        public init(source: Int, target: Int) { self.source = source; self.target = target }
    }

    public var boxes: [Box]
    public var groups: [Group]
    public var edges: [Edge]

    public init(boxes: [Box] = [], groups: [Group] = [], edges: [Edge] = []) {
        self.boxes = boxes; self.groups = groups; self.edges = edges
    }

    /// Checks that every index points inside the arrays and that the group tree has no cycle,
    /// so the engine can index without further checks.
    public func validate() throws {
        for (i, b) in boxes.enumerated() {
            if let p = b.parent, p < 0 || p >= groups.count {
                throw LayoutError.invalidInput("box \(i) ('\(b.id)') has parent group \(p), but there are \(groups.count) groups")
            }
            if !(b.width.isFinite && b.height.isFinite) || b.width < 0 || b.height < 0 {
                throw LayoutError.invalidInput("box \(i) ('\(b.id)') has an invalid size \(b.width)x\(b.height)")
            }
        }
        for (i, g) in groups.enumerated() {
            var seen = 0
            var cursor = g.parent
            while let p = cursor {
                if p < 0 || p >= groups.count {
                    throw LayoutError.invalidInput("group \(i) ('\(g.id)') has parent \(p), but there are \(groups.count) groups")
                }
                seen += 1
                if seen > groups.count {
                    throw LayoutError.invalidInput("group \(i) ('\(g.id)') is its own ancestor")
                }
                cursor = groups[p].parent
            }
        }
        for (i, e) in edges.enumerated() {
            if e.source < 0 || e.source >= boxes.count || e.target < 0 || e.target >= boxes.count {
                throw LayoutError.invalidInput("edge \(i) joins \(e.source) -> \(e.target), but there are \(boxes.count) boxes")
            }
        }
    }
}

/// Why a layout could not be made.
public enum LayoutError: Error, CustomStringConvertible, Equatable {
    case invalidInput(String)
    public var description: String {
        switch self {
        case .invalidInput(let why): return "invalid layout input: \(why)"
        }
    }
}

/// Spacing and shaping knobs for the layered layout. Defaults follow Model Explorer's dagre
/// settings closely so pictures look familiar.
public struct LayoutOptions: Sendable, Hashable {
    public var direction: LayoutDirection = .topToBottom
    /// Horizontal gap between neighbouring boxes in a rank.
    public var nodeSeparation: Double = 20
    /// Horizontal gap reserved around edge bends (dummy nodes).
    public var edgeSeparation: Double = 10
    /// Vertical gap between ranks.
    public var rankSeparation: Double = 34
    /// Inner margin of a group frame.
    public var groupPadding: Double = 12
    /// Height of a group frame's title line.
    public var groupHeader: Double = 18
    /// Number of ordering sweeps (down+up counts as two) for crossing reduction.
    public var orderingSweeps: Int = 24
    /// When the top level is much taller than wide, cut it into side-by-side columns.
    public var wrapLongLayouts: Bool = true
    /// Target height/width ratio of a wrapped top level.
    public var wrapAspect: Double = 1.0
    public init() {}
}
