// The public entry point for drawings: `GraphRenderer` takes a RenderGraph (or, through the
// adapter, a GraphIR graph) and options — focus path, depth, expand all, direction, overlay,
// highlights, box budget — and returns SVG, an HTML viewer around it, and layout statistics.

import Foundation

/// What to draw and how.
public struct RenderOptions: Sendable {
    /// Group path (e.g. "encoder/layer3") or node id/name to open up; nil for the default view.
    public var focusPath: String?
    /// Levels below `focusPath` to expand (1 = the group itself). Ignored without a focus path.
    public var depth: Int?
    /// Expand every group (`show all`).
    public var expandAll: Bool = false
    /// Groups the user opened earlier (full paths); kept open in this view.
    public var expandedGroups: Set<String> = []
    /// Top-to-bottom (default) or left-to-right.
    public var direction: LayoutDirection = .topToBottom
    /// Per-node figures to colour by.
    public var overlay: Overlay?
    /// Node ids (or group paths) drawn with a strong outline, e.g. a diff or a search result.
    public var highlighted: Set<String> = []
    /// Problems found on nodes (schema, shape inference), marked on their boxes, on collapsed
    /// groups holding them, in tooltips, the side panel and the legend.
    public var problems: ProblemMarks = ProblemMarks()
    /// Node ids drawn as boxes of their own whatever the budget: the groups holding them open.
    public var revealed: Set<String> = []
    /// Box budget of the default view (collapsing deeper groups until it fits).
    public var maxVisibleBoxes: Int = 150
    /// Spacing knobs; `direction` above overrides `layout.direction`.
    public var layout: LayoutOptions = LayoutOptions()
    /// Draw tensor shapes on edges.
    public var edgeLabels: Bool = true
    /// Height of the HTML viewer in pixels.
    public var viewerHeight: Int = 640
    /// Width the viewer usually gets (a notebook's output area), in pixels. Long levels wrap
    /// into columns towards the viewer's shape (`viewerHeight / viewerWidth`), so a fitted flat
    /// model uses the whole stage; nil keeps `layout.wrapAspect`.
    public var viewerWidth: Int? = 1100
    /// Weights and constants listed inside their consumers' boxes (default) or drawn as boxes.
    public var constants: ConstantDisplay = .folded
    public init() {}
}

/// Figures about one drawing, for the cell's status line and the benchmark.
public struct RenderStats: Sendable {
    /// Op nodes in the graph, and how many are drawn as their own box (graph inputs and
    /// outputs, drawn as boxes too, are counted apart in `boundaryNodes`).
    public var totalNodes: Int
    public var visibleNodes: Int
    /// Graph input and output boxes drawn.
    public var boundaryNodes: Int = 0
    /// Constant nodes listed inside their consumers' boxes instead of drawn (`constants=folded`).
    public var foldedConstants: Int = 0
    /// Groups drawn as one box, and groups drawn as open frames.
    public var collapsedGroups: Int
    public var expandedGroups: Int
    /// Edges drawn (merged where several tensors join the same two boxes).
    public var edges: Int
    /// Edge crossings left after crossing reduction (summed over group levels).
    public var crossings: Int
    /// Columns the top level was wrapped into.
    public var columns: Int
    /// Drawing size in pixels.
    public var width: Double
    public var height: Double
    /// Group levels laid out in this call vs. taken from the cache.
    public var levelsComputed: Int
    public var levelsReused: Int
    /// Time for selection + layout, and for writing SVG + HTML.
    public var layoutSeconds: Double
    public var writeSeconds: Double
    /// Visible boxes (nodes plus collapsed groups).
    public var visibleBoxes: Int { visibleNodes + collapsedGroups }

    /// One line for humans.
    public var summary: String {
        "\(visibleNodes) of \(totalNodes) nodes drawn singly"
            + (foldedConstants > 0 ? " (\(foldedConstants) constants folded into their consumers)" : "")
            + ", \(collapsedGroups) collapsed groups, \(expandedGroups) open groups, "
            + (boundaryNodes > 0 ? "\(boundaryNodes) graph inputs/outputs, " : "")
            + "\(edges) edges, \(crossings) crossings; layout \(fixed(layoutSeconds * 1000, 1)) ms, SVG \(fixed(writeSeconds * 1000, 1)) ms"
    }
}

/// One finished drawing.
public struct RenderResult: Sendable {
    /// Self-contained SVG (static fallback, valid XML).
    public var svg: String
    /// HTML fragment: the SVG plus pan/zoom and a node search box (inline script, no fetches).
    public var html: String
    /// The `id` of the viewer element in `html`, for links (`href="#…"`) that lead to it
    /// where scripts do not run.
    public var viewerID: String
    /// Counts and timings of this drawing.
    public var stats: RenderStats
    /// Geometry and the visible graph it was made from, for callers that post-process.
    public var layout: GraphLayout
    /// The visible graph the layout was made from (boxes, merged edges, rolled-up figures).
    public var visible: VisibleGraph
    /// Tensor-shape labels on the drawing (none when `RenderOptions.edgeLabels` is off), placed
    /// clear of boxes, frame titles and each other.
    public var edgeLabels: EdgeLabelPlacement
}

/// Draws one graph. Holds the graph and its namespace tree so repeated views (expand, focus,
/// overlay) skip re-deriving the hierarchy; pass a `LayoutCache` to reuse per-group layouts.
public struct GraphRenderer: Sendable {
    /// One way of drawing the graph: its nodes and the two namespace trees over them.
    public struct Variant: Sendable {
        /// The nodes and edges drawn.
        public let graph: RenderGraph
        /// The namespace tree with large flat levels cut into sections (used by collapsed views).
        public let hierarchy: NamespaceTree
        /// The namespace tree exactly as the graph gives it (used by `expandAll`, where sections
        /// would only add frames).
        public let plainHierarchy: NamespaceTree
        /// Constant nodes folded away in this variant.
        public let foldedConstants: Int
        /// Ids and names of the nodes folded away, so a focus on one of them can draw it.
        let foldedAway: Set<String>

        init(_ graph: RenderGraph, sectionSize: Int, folded: Int, foldedAway: Set<String> = []) {
            self.graph = graph
            self.hierarchy = NamespaceTree(graph, sectionSize: sectionSize)
            self.plainHierarchy = NamespaceTree(graph)
            self.foldedConstants = folded
            self.foldedAway = foldedAway
        }
    }

    /// Every node of the graph, constants included (`constants=boxes`).
    public let boxes: Variant
    /// The graph with constants folded into their consumers; nil when nothing folds.
    public let folded: Variant?
    /// The graph being drawn, every node included.
    public var graph: RenderGraph { boxes.graph }
    /// The namespace tree with sections, of the whole graph.
    public var hierarchy: NamespaceTree { boxes.hierarchy }
    /// The namespace tree without sections, of the whole graph.
    public var plainHierarchy: NamespaceTree { boxes.plainHierarchy }

    /// `sectionSize`: flat levels with more than four times this many nodes are split into sections.
    public init(_ graph: RenderGraph, sectionSize: Int = 150) throws {
        try graph.validate()
        self.boxes = Variant(graph, sectionSize: sectionSize, folded: 0)
        self.folded = graph.foldingConstants().map { result in
            let kept = Set(result.graph.nodes.map(\.id))
            var away = Set<String>()
            for n in graph.nodes where !kept.contains(n.id) { away.insert(n.id); away.insert(n.name) }
            return Variant(result.graph, sectionSize: sectionSize, folded: result.removed, foldedAway: away)
        }
    }

    /// The variant `options` draw: folded unless `constants=boxes`, or unless the focus, a
    /// revealed node or a marked one is a constant that folding would hide (then it is drawn,
    /// with the others, as a box).
    public func variant(for options: RenderOptions) -> Variant {
        guard options.constants == .folded, let folded else { return boxes }
        if let focus = options.focusPath, folded.foldedAway.contains(focus) { return boxes }
        if options.revealed.contains(where: folded.foldedAway.contains)
            || options.problems.nodes.keys.contains(where: folded.foldedAway.contains) { return boxes }
        return folded
    }

    /// Whether `path` names a group this renderer can open: a namespace of the graph or one of
    /// the sections a large flat level is cut into (either constant display). Callers that
    /// validate `show PATH` themselves should accept these too.
    public func knowsGroup(_ path: String) -> Bool {
        let trimmed = path.split(separator: "/").joined(separator: "/")
        return [boxes, folded].contains { v in
            guard let v else { return false }
            return v.hierarchy.group(named: trimmed) != nil || v.plainHierarchy.group(named: trimmed) != nil
        }
    }

    /// Section paths (groups the renderer made, not the model), for completion.
    public func sectionPaths(_ options: RenderOptions = RenderOptions()) -> [String] {
        let v = variant(for: options)
        return v.hierarchy.groups.filter { $0.isSection }.map(\.id)
    }

    /// The tree a view uses: sections unless everything is expanded.
    public func tree(for options: RenderOptions) -> NamespaceTree {
        let v = variant(for: options)
        return options.expandAll ? v.plainHierarchy : v.hierarchy
    }

    /// The visible graph for `options` (expansion chosen, overlay rolled up), without layout.
    public func visible(_ options: RenderOptions) throws -> VisibleGraph {
        let v = variant(for: options)
        let tree = options.expandAll ? v.plainHierarchy : v.hierarchy
        let expanded = try expansion(of: tree, graph: v.graph, options: options)
        return visibleGraph(v.graph, hierarchy: tree, expanded: expanded, overlay: options.overlay,
                            foldedInputs: options.constants == .folded)
    }

    /// Lays out and writes the drawing.
    public func render(_ options: RenderOptions = RenderOptions(), cache: LayoutCache? = nil) throws -> RenderResult {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let v = variant(for: options)
        let graph = v.graph
        let vis = try visible(options)
        var layoutOptions = options.layout
        layoutOptions.direction = options.direction
        if let w = options.viewerWidth, w > 0, options.viewerHeight > 0 {
            layoutOptions.wrapAspect = Double(options.viewerHeight) / Double(w)
        }
        let layout = try layoutGraph(vis.layoutGraph, options: layoutOptions, cache: cache)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let labels = options.edgeLabels
            ? placeEdgeLabels(edgeLabelRequests(graph, vis), layout: layout, obstacles: frameTitleAreas(vis, layout),
                              direction: options.direction)
            : EdgeLabelPlacement(labels: [], dropped: 0)
        let marks = boxMarks(graph, vis, options.problems)
        let svg = writeSVG(graph: graph, hierarchy: tree(for: options), visible: vis, layout: layout, labels: labels.labels,
                           options: options, marks: marks)
        let tree = tree(for: options)
        let viewerID = viewerElementID(svg)
        let html = writeHTML(svg: svg, options: options, details: nodeDetails(graph, tree: tree, visible: vis, options: options, marks: marks),
                             focus: focusTarget(graph, tree: tree, visible: vis, options: options))
        let t2 = DispatchTime.now().uptimeNanoseconds
        var nodes = 0, boundary = 0
        for item in vis.items {
            guard case .node(let i) = item else { continue }
            if graph.nodes[i].isGraphBoundary { boundary += 1 } else { nodes += 1 }
        }
        var stats = RenderStats(totalNodes: self.graph.nodes.lazy.filter { !$0.isGraphBoundary }.count, visibleNodes: nodes,
                                foldedConstants: v.foldedConstants, collapsedGroups: vis.items.count - nodes - boundary,
                                expandedGroups: vis.frames.count, edges: vis.layoutGraph.edges.count, crossings: layout.crossings,
                                columns: layout.columns, width: layout.width, height: layout.height,
                                levelsComputed: layout.levelsComputed, levelsReused: layout.levelsReused,
                                layoutSeconds: Double(t1 - t0) / 1e9, writeSeconds: Double(t2 - t1) / 1e9)
        stats.boundaryNodes = boundary
        return RenderResult(svg: svg, html: html, viewerID: viewerID, stats: stats, layout: layout, visible: vis, edgeLabels: labels)
    }

    /// The same visible graph in Graphviz DOT (boxes at our sizes, groups as clusters), so `dot`
    /// can be timed and compared on exactly what we draw.
    public func dot(_ options: RenderOptions = RenderOptions()) throws -> String {
        // Same boxes as the drawing (folded or not, per `options.constants`).
        let vis = try visible(options)
        return writeDOT(visible: vis, direction: options.direction)
    }

    /// Convenience: one-shot render of a graph.
    public static func render(_ graph: RenderGraph, options: RenderOptions = RenderOptions()) throws -> RenderResult {
        try GraphRenderer(graph).render(options)
    }
}
