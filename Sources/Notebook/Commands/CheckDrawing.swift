// The drawing `check` puts under its table: the whole graph when it is small, else the
// neighbourhood of the problem nodes (a report about 3 nodes of a 10,000-node model draws
// those nodes and what surrounds them, and says so), with every problem node drawn as its own
// box, outlined and badged (`ProblemMarks`), and the table's node cells as links that focus the
// node in this viewer (the viewer's script handles `a[data-gs-node]` inside a `.gs-report`).

import GraphIR
import GraphRendering

enum CheckDrawing {
    /// Graphs with at most this many op nodes are drawn whole (collapsed as `show` would, with
    /// the groups holding problem nodes open).
    static let wholeGraphLimit = 250
    /// Op nodes a neighbourhood drawing may hold (problem nodes come first, then ring by ring).
    static let neighbourhoodLimit = 200
    /// Rings of neighbours drawn around each problem node.
    static let neighbourhoodHops = 2
    /// Problem nodes a neighbourhood drawing is built around; the rest are listed, not drawn.
    static let maxProblemNodes = 60

    /// A finished drawing, what it shows in words, and the node ids a link can focus.
    struct Drawing {
        var result: RenderResult
        var caption: String
        var drawn: Set<String>
    }

    /// The drawing for `rows` (in table order) whose drawn node ids are `anchors`; nil when no
    /// row names a node of the top-level graph or its bodies.
    static func make(_ entry: GraphEntry, anchors: [String?], marks: ProblemMarks, session: inout Session) throws -> Drawing? {
        var order: [String] = []
        var seen = Set<String>()
        for case let a? in anchors where seen.insert(a).inserted { order.append(a) }
        guard !order.isEmpty else { return nil }
        let state = try ShowCommands.renderState(for: entry, in: &session)
        let whole = state.renderer.graph
        let ops = whole.nodes.lazy.filter { !$0.isGraphBoundary }.count
        var options = RenderOptions()
        options.problems = marks
        options.viewerHeight = 560
        let renderer: GraphRenderer
        let caption: String
        let shown: [String]
        if ops <= wholeGraphLimit {
            renderer = state.renderer
            shown = order
            caption = "Drawing: \(entry.name), all \(Format.grouped(ops)) nodes; the \(order.count) with problems are outlined "
                + "(red: error, orange: warning). Click a node in the table to see it here."
        } else {
            shown = Array(order.prefix(maxProblemNodes))
            let part = whole.neighbourhood(of: Set(shown), hops: neighbourhoodHops, limit: neighbourhoodLimit)
            do { renderer = try GraphRenderer(part.graph) } catch {
                throw CellError(.model, "cannot draw the problem nodes of \(entry.name): \(error)")
            }
            let drawnOps = part.graph.nodes.lazy.filter { !$0.isGraphBoundary }.count
            let around = shown.count < order.count
                ? "the first \(shown.count) of \(order.count) problem nodes (the others are in the table only)"
                : "the \(order.count) problem node(s)"
            let reach = part.hops == 0 ? "" : " and the nodes within \(part.hops) step(s) of them"
            caption = "Drawing: \(around)\(reach), \(Format.grouped(drawnOps)) of \(Format.grouped(ops)) nodes; "
                + "problems are outlined (red: error, orange: warning). Click a node in the table to see it here; "
                + "`show NODE` draws it in the whole graph."
        }
        options.revealed = Set(shown)
        let result: RenderResult
        do {
            result = try renderer.render(options, cache: ops <= wholeGraphLimit ? state.cache : nil)
        } catch {
            throw CellError(.model, "cannot draw the problem nodes of \(entry.name): \(error)")
        }
        let drawnIDs = Set(renderer.graph.nodes.map(\.id))
        return Drawing(result: result, caption: caption, drawn: Set(shown).intersection(drawnIDs))
    }

    /// The node cell of a table row: a link that focuses `anchor` in the viewer when it is drawn
    /// (`href` leads to the viewer where scripts do not run), else plain text.
    static func nodeCell(_ text: String, anchor: String?, drawing: Drawing?) -> Table.Cell {
        guard let anchor, let drawing, drawing.drawn.contains(anchor) else { return Table.Cell(text) }
        let title = anchor == text ? "show \(text) in the drawing" : "show \(text) in the drawing (at \(anchor), which holds it)"
        let link = "<a href=\"#\(HTML.escape(drawing.result.viewerID))\" class=\"gs-node-link\" data-gs-node=\"\(HTML.escape(anchor))\" "
            + "title=\"\(HTML.escape(title))\">\(HTML.escape(text))</a>"
        return Table.Cell(text, html: link)
    }
}
