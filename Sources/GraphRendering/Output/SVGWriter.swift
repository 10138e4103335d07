// Writes a laid-out visible graph as one self-contained SVG: legend (op categories, overlay
// scale, problem marks), group frames, edges as smooth paths with shape labels (dashed where
// the shape is unknown because inference failed upstream), and boxes with tooltips and badges.
// Every node, group and edge carries a stable `data-id`; nothing refers outside the file.

import GraphOps

/// A short, stable prefix for element ids inside one drawing, so several drawings can share an
/// HTML page (e.g. two graphs side by side) without clashing.
func idPrefix(for text: String) -> String {
    // The first few kilobytes plus the length identify a drawing well enough, and hashing a
    // 10 MB SVG byte by byte would cost more than writing it.
    var h: UInt64 = 0xcbf29ce484222325 ^ UInt64(text.utf8.count)
    for b in text.utf8.prefix(4096) { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    return "gs" + String(h % 0xFFFFFF, radix: 36)
}

/// The labels a drawing wants: the shape of each edge that carries one tensor with a known
/// shape, once per produced tensor (a value feeding five consumers is labelled once, not five
/// times on top of itself). Merged edges (into collapsed groups) keep their summary in the
/// tooltip only: on the picture it is noise.
func edgeLabelRequests(_ graph: RenderGraph, _ vis: VisibleGraph) -> [EdgeLabelRequest] {
    var requests: [EdgeLabelRequest] = []
    var labelled = Set<String>()
    for (ei, e) in vis.layoutGraph.edges.enumerated() {
        let origins = vis.edgeOrigins[ei]
        guard origins.count == 1, let shape = graph.edges[origins[0]].shape, !shape.isEmpty else { continue }
        if labelled.insert("\(e.source)|\(graph.edges[origins[0]].tensor)").inserted {
            requests.append(EdgeLabelRequest(edge: ei, text: shape))
        }
    }
    return requests
}

/// Width of legend text (11 px, regular): a generous glyph advance, since the browser's fallback
/// sans-serif (DejaVu Sans on Linux) runs wider than Helvetica and entries must never overlap.
func legendTextWidth(_ text: String) -> Double { Double(text.count) * 7.0 }

/// Boxes of the legend's entries (14 px swatch, gap, text), left to right, wrapping at `width`.
func legendLayout(_ titles: [String], width: Double, top: Double) -> [Rect] {
    var x = 8.0, y = top
    var out: [Rect] = []
    for t in titles {
        let w = 18 + legendTextWidth(t)
        if x > 8 && x + w > width { x = 8; y += 18 }
        out.append(Rect(x: x, y: y, width: w, height: 12))
        x += w + 14
    }
    return out
}

/// Where the frame titles are drawn (bold 11 px text at the frame's top left), so labels keep clear.
func frameTitleAreas(_ vis: VisibleGraph, _ layout: GraphLayout) -> [Rect] {
    vis.frames.indices.map { fi in
        let r = layout.groups[fi]
        // Bold glyphs run about a tenth wider than the regular ones `TextMetrics` measures.
        return Rect(x: r.x + 8, y: r.y + 3, width: Double(vis.frameTitles[fi].count) * TextMetrics().charWidth * 1.1, height: 14)
    }
}

func writeSVG(graph: RenderGraph, hierarchy: NamespaceTree, visible vis: VisibleGraph, layout: GraphLayout,
              labels: [PlacedEdgeLabel], options: RenderOptions, marks: [BoxMark?], style: EdgeLabelStyle = EdgeLabelStyle()) -> String {
    let prefix = idPrefix(for: graph.name + "\(vis.items.count)/\(vis.layoutGraph.edges.count)/\(layout.width)")
    var out = ""
    out.reserveCapacity(600 + vis.items.count * 520 + vis.layoutGraph.edges.count * 260)

    // Legend: categories present, then the overlay scale.
    var categoryOf: [String: OpCategory] = [:]
    func category(_ op: String) -> OpCategory {
        if let c = categoryOf[op] { return c }
        let c = OpCategory.of(op)
        categoryOf[op] = c
        return c
    }
    var present = Set<OpCategory>()
    for item in vis.items { if case .node(let n) = item { present.insert(category(graph.nodes[n].op)) } }
    let categories = OpCategory.allCases.filter { present.contains($0) }
    var legend = ""
    var lx = 8.0
    var ly = 16.0
    let legendWidth = max(layout.width, 360)
    legend += "<text x=\"8\" y=\"\(num(ly))\" font-weight=\"bold\">\(xmlEscape(graph.name))</text>"
    ly += 8
    let entries = legendLayout(categories.map(\.title), width: legendWidth, top: ly)
    for (c, r) in zip(categories, entries) {
        legend += "<g class=\"gs-legend-item\" data-category=\"\(c.rawValue)\"><rect x=\"\(num(r.x))\" y=\"\(num(r.y))\" width=\"14\" height=\"12\" rx=\"2\" fill=\"\(c.fill)\" stroke=\"\(c.stroke)\"/>"
        legend += "<text x=\"\(num(r.x + 18))\" y=\"\(num(r.y + 10))\">\(c.title)</text></g>"
    }
    ly = entries.last.map { $0.maxY + 6 } ?? ly
    // Problem marks: which severities are drawn, and whether a dashed unknown-shape edge is.
    let unknownEdge: [Bool] = vis.edgeOrigins.map { origins in
        !options.problems.unknownShapes.isEmpty && origins.contains { options.problems.unknownShapes.contains(graph.edges[$0].tensor) }
    }
    // Broken inputs (a mistyped or dangling input a problem names) are drawn solid red.
    let brokenEdge: [Bool] = vis.edgeOrigins.map { origins in
        !options.problems.brokenInputs.isEmpty && origins.contains {
            options.problems.isBroken(graph.edges[$0].tensor, into: graph.nodes[graph.edges[$0].target].id)
        }
    }
    let severities = ProblemMarks.Severity.allCases.filter { s in marks.contains { $0?.severity == s } }
    if !severities.isEmpty || unknownEdge.contains(true) || brokenEdge.contains(true) {
        var titles = severities.map { $0 == .error ? "error (check lists it)" : "warning" }
        if unknownEdge.contains(true) { titles.append("shape unknown (inference failed upstream)") }
        let brokenTitle = titles.count
        if brokenEdge.contains(true) { titles.append("broken input") }
        let rects = legendLayout(titles, width: legendWidth, top: ly)
        legend += "<g class=\"gs-legend-problems\">"
        for (k, r) in rects.enumerated() {
            if k < severities.count {
                let c = severities[k].color
                legend += "<g class=\"gs-legend-item\" data-problem=\"\(severities[k].rawValue)\"><rect x=\"\(num(r.x + 1))\" y=\"\(num(r.y + 1))\" width=\"12\" height=\"10\" rx=\"2\" fill=\"#ffffff\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            } else if k == brokenTitle && brokenEdge.contains(true) {
                legend += "<g class=\"gs-legend-item\" data-problem=\"broken-input\"><path d=\"M\(num(r.x)),\(num(r.y + 6))h14\" stroke=\"\(ProblemMarks.Severity.error.color)\" stroke-width=\"2.4\"/>"
            } else {
                legend += "<g class=\"gs-legend-item\" data-problem=\"unknown-shape\"><path d=\"M\(num(r.x)),\(num(r.y + 6))h14\" stroke=\"\(ProblemMarks.Severity.error.color)\" stroke-width=\"1.6\" stroke-dasharray=\"3 2\"/>"
            }
            legend += "<text x=\"\(num(r.x + 18))\" y=\"\(num(r.y + 10))\">\(xmlEscape(titles[k]))</text></g>"
        }
        legend += "</g>"
        ly = (rects.last?.maxY ?? ly) + 6
    }
    // Overlay scale: gradient over the visible figures (groups carry rollups), or thresholds.
    var range = (0.0, 0.0)
    if let overlay = options.overlay {
        let figures = vis.values.compactMap { $0 }
        range = (figures.min() ?? 0, figures.max() ?? 0)
        lx = 8
        let caption = "\(overlay.name) (groups: \(overlay.rollup.rawValue))"
        legend += "<g class=\"gs-legend-overlay\"><text x=\"8\" y=\"\(num(ly + 10))\">\(xmlEscape(caption))</text>"
        lx += legendTextWidth(caption) + 10
        switch overlay.coloring {
        case .gradient(let stops):
            let gid = prefix + "-grad"
            legend += "<defs><linearGradient id=\"\(gid)\">"
            for s in stops { legend += "<stop offset=\"\(num(s.stop * 100))%\" stop-color=\"\(normalizedHex(s.color))\"/>" }
            legend += "</linearGradient></defs>"
            lx += legendTextWidth(formatFigure(range.0))
            legend += "<text x=\"\(num(lx))\" y=\"\(num(ly + 10))\" text-anchor=\"end\">\(formatFigure(range.0)) </text>"
            legend += "<rect x=\"\(num(lx + 4))\" y=\"\(num(ly))\" width=\"120\" height=\"12\" fill=\"url(#\(gid))\" stroke=\"#999\"/>"
            legend += "<text x=\"\(num(lx + 128))\" y=\"\(num(ly + 10))\">\(formatFigure(range.1))</text>"
        case .thresholds(let list):
            for t in list {
                legend += "<rect x=\"\(num(lx))\" y=\"\(num(ly))\" width=\"14\" height=\"12\" fill=\"\(normalizedHex(t.color))\" stroke=\"#999\"/>"
                let label = "≤ " + formatFigure(t.value)
                legend += "<text x=\"\(num(lx + 18))\" y=\"\(num(ly + 10))\">\(xmlEscape(label))</text>"
                lx += legendTextWidth(label) + 30
            }
        }
        legend += "</g>"
        ly += 18
    }
    let top = ly + 6
    let width = max(layout.width, legendWidth)
    let height = layout.height + top

    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(num(width))\" height=\"\(num(height))\" viewBox=\"0 0 \(num(width)) \(num(height))\""
    out += " font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\" class=\"gs-graph\" data-graph=\"\(xmlEscape(graph.name))\">"
    out += "<title>\(xmlEscape(graph.name))</title>"
    out += "<defs><marker id=\"\(prefix)-arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L8,4L0,8z\" fill=\"#607d8b\"/></marker>"
    out += "<style>.gs-node:hover rect,.gs-group:hover rect{stroke-width:2.5}.gs-edge:hover path{stroke:#d81b60;stroke-width:2}.gs-found rect{stroke:#d500f9;stroke-width:4}.gs-sel rect{stroke:#ff6d00;stroke-width:3}</style></defs>"
    out += "<rect x=\"0\" y=\"0\" width=\"\(num(width))\" height=\"\(num(height))\" fill=\"#ffffff\"/>"
    out += "<g class=\"gs-legend\">" + legend + "</g>"
    out += "<g class=\"gs-body\" id=\"\(prefix)-body\" transform=\"translate(0,\(num(top)))\">"

    // Frames, outermost first so inner frames paint over outer ones.
    out += "<g class=\"gs-frames\">"
    for (fi, g) in vis.frames.enumerated() {
        let r = layout.groups[fi]
        let group = hierarchy.groups[g]
        let depthShade = ["#f7f9fc", "#eef3f8", "#e5edf5", "#dce6f1"][min(group.depth - 1, 3)]
        out += "<g class=\"gs-frame\" data-id=\"\(xmlEscape(group.id))\" data-count=\"\(group.nodeCount)\"><title>\(xmlEscape(group.id)) (\(group.nodeCount) nodes)</title>"
        out += "<rect x=\"\(num(r.x))\" y=\"\(num(r.y))\" width=\"\(num(r.width))\" height=\"\(num(r.height))\" rx=\"6\" fill=\"\(depthShade)\" stroke=\"#90a4ae\" stroke-dasharray=\"4 2\"/>"
        out += "<text x=\"\(num(r.x + 8))\" y=\"\(num(r.y + 14))\" font-weight=\"bold\" fill=\"#455a64\">\(xmlEscape(vis.frameTitles[fi]))</text></g>"
    }
    out += "</g>"

    // Edges.
    out += "<g class=\"gs-edges\" fill=\"none\" stroke=\"#78909c\" stroke-width=\"1.2\">"
    var labelOf: [Int: PlacedEdgeLabel] = [:]
    for l in labels { labelOf[l.edge] = l }
    for (ei, e) in vis.layoutGraph.edges.enumerated() {
        let route = layout.edges[ei]
        if route.count < 2 { continue }
        let origins = vis.edgeOrigins[ei]
        let sourceID = vis.layoutGraph.boxes[e.source].id, targetID = vis.layoutGraph.boxes[e.target].id
        var label = ""
        var tipLabel = ""
        if let first = origins.first {
            let shapes = Set(origins.compactMap { graph.edges[$0].shape })
            // Merged edges (into collapsed groups) keep their summary in the tooltip only: on the
            // picture it is noise.
            if origins.count == 1 { label = graph.edges[first].shape ?? "" } else if shapes.count == 1, let s = shapes.first { tipLabel = "\(origins.count)× \(s)" } else { tipLabel = "\(origins.count) tensors" }
        }
        let tensor = origins.first.map { graph.edges[$0].tensor } ?? ""
        if unknownEdge[ei] { tipLabel = tipLabel.isEmpty ? "shape unknown (inference failed upstream)" : tipLabel + ", shape unknown" }
        if brokenEdge[ei] { tipLabel = tipLabel.isEmpty ? "broken input (check lists why)" : tipLabel + ", broken input" }
        out += "<g class=\"gs-edge\(unknownEdge[ei] ? " gs-unknown-shape" : "")\(brokenEdge[ei] ? " gs-broken-edge" : "")\" data-id=\"\(xmlEscape(sourceID))->\(xmlEscape(targetID))\" data-source=\"\(xmlEscape(sourceID))\" data-target=\"\(xmlEscape(targetID))\""
        if !tensor.isEmpty { out += " data-tensor=\"\(xmlEscape(tensor))\"" }
        out += "><title>\(xmlEscape(tensor.isEmpty ? "\(sourceID) → \(targetID)" : tensor))\(label.isEmpty ? "" : ": " + xmlEscape(label))\(tipLabel.isEmpty ? "" : ": " + xmlEscape(tipLabel))</title>"
        out += "<path d=\"" + splinePath(route, leftToRight: options.direction == .leftToRight) + "\" marker-end=\"url(#\(prefix)-arrow)\""
        if brokenEdge[ei] {
            out += " stroke=\"\(ProblemMarks.Severity.error.color)\" stroke-width=\"2.4\""
        } else if unknownEdge[ei] {
            out += " stroke=\"\(ProblemMarks.Severity.error.color)\" stroke-dasharray=\"5 3\""
        }
        out += "/>"
        // Placed beside the edge, clear of boxes and other labels (see LabelPlacement.swift).
        if let l = labelOf[ei] {
            out += "<text x=\"\(num(l.box.minX + 1))\" y=\"\(num(l.box.maxY - style.descent))\" font-size=\"\(num(style.fontSize))\" fill=\"#607d8b\" stroke=\"none\">\(xmlEscape(l.text))</text>"
        }
        out += "</g>"
    }
    out += "</g>"

    // Boxes.
    var inkOf: [String: String] = [:]
    out += "<g class=\"gs-nodes\">"
    for (bi, item) in vis.items.enumerated() {
        let r = layout.boxes[bi]
        let value = vis.values[bi]
        var fill: String
        var stroke: String
        var body: String
        switch item {
        case .node(let n):
            let node = graph.nodes[n]
            let cat = category(node.op)
            fill = cat.fill; stroke = cat.stroke
            out += "<g class=\"gs-node\(marks[bi] == nil ? "" : " gs-problem")\" data-id=\"\(xmlEscape(node.id))\" data-op=\"\(xmlEscape(node.op))\" data-category=\"\(cat.rawValue)\""
            // The model's own node name, when it differs from the id: what people search for.
            if !node.name.isEmpty && node.name != node.id { out += " data-name=\"\(xmlEscape(node.name))\"" }
            body = "<title>" + xmlEscape(tooltip(node, value: value, overlay: options.overlay, problems: marks[bi]?.messages ?? [])) + "</title>"
            if options.highlighted.contains(node.id) || options.highlighted.contains(node.name) { stroke = "#ff1744" }
        case .collapsedGroup(let g):
            let group = hierarchy.groups[g]
            fill = "#eceff1"; stroke = "#546e7a"
            out += "<g class=\"gs-group\(marks[bi] == nil ? "" : " gs-problem")\" data-id=\"\(xmlEscape(group.id))\" data-count=\"\(group.nodeCount)\""
            var tip = "\(group.id)\n\(group.nodeCount) nodes (collapsed; show \(group.id) to open)"
            if let v = value, let o = options.overlay { tip += "\n\(o.name) (\(o.rollup.rawValue)): \(formatFigure(v))" }
            if let m = marks[bi] { tip += "\n\(m.count) node(s) with problems:\n  " + m.messages.joined(separator: "\n  ") }
            body = "<title>" + xmlEscape(tip) + "</title>"
            if options.highlighted.contains(group.id) { stroke = "#ff1744" }
        }
        if let v = value, let overlay = options.overlay {
            out += " data-value=\"\(formatFigure(v))\""
            let key: String
            switch item { case .node(let n): key = graph.nodes[n].id; case .collapsedGroup(let g): key = hierarchy.groups[g].id }
            if let explicit = overlay.colors[key] { fill = normalizedHex(explicit) } else if let c = overlay.color(for: v, range: range) { fill = c }
        }
        let highlighted = stroke == "#ff1744"
        if let m = marks[bi] { out += " data-problem=\"\(m.severity.rawValue)\" data-problems=\"\(m.count)\"" }
        out += ">" + body
        // The mark goes under the box (a path, so the viewer's `last rect is the box` rule and the
        // `rect` hover/selection styles are untouched): a thick outline in the severity's colour.
        if let m = marks[bi] {
            out += "<path class=\"gs-mark\" d=\"M\(num(r.x - 3)),\(num(r.y - 3))h\(num(r.width + 6))v\(num(r.height + 6))h\(num(-r.width - 6))z\" fill=\"none\" stroke=\"\(m.severity.color)\" stroke-width=\"3\" stroke-linejoin=\"round\"/>"
        }
        if case .collapsedGroup = item {
            out += "<rect x=\"\(num(r.x + 3))\" y=\"\(num(r.y + 3))\" width=\"\(num(r.width))\" height=\"\(num(r.height))\" rx=\"5\" fill=\"#cfd8dc\" stroke=\"\(stroke)\"/>"
            out += "<rect x=\"\(num(r.x))\" y=\"\(num(r.y))\" width=\"\(num(r.width - 3))\" height=\"\(num(r.height - 3))\" rx=\"5\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(highlighted ? "3" : "1.4")\"/>"
        } else {
            out += "<rect x=\"\(num(r.x))\" y=\"\(num(r.y))\" width=\"\(num(r.width))\" height=\"\(num(r.height))\" rx=\"4\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(highlighted ? "3" : "1.2")\"/>"
        }
        let lines = vis.labels[bi]
        // A handful of distinct fills per drawing: parse each once, not once per box.
        let ink: String
        if let known = inkOf[fill] { ink = known } else { ink = textColor(on: fill); inkOf[fill] = ink }
        let lineHeight = 14.0
        let isGroup: Bool
        if case .collapsedGroup = item { isGroup = true } else { isGroup = false }
        let boxHeight = isGroup ? r.height - 3 : r.height
        let cx = isGroup ? r.x + (r.width - 3) / 2 : r.midX
        var ty = r.y + (boxHeight - Double(lines.count) * lineHeight) / 2 + 10.5
        out += "<text text-anchor=\"middle\" fill=\"\(ink)\">"
        for (li, line) in lines.enumerated() {
            let weight = li == 0 ? " font-weight=\"bold\"" : ""
            out += "<tspan x=\"\(num(cx))\" y=\"\(num(ty))\"\(weight)>\(xmlEscape(line))</tspan>"
            ty += lineHeight
        }
        out += "</text>"
        // Badge at the top right corner: `!` on a node, the count of marked nodes on a group.
        if let m = marks[bi] {
            let bx = r.maxX - (isGroup ? 3 : 0), by = r.y
            let text = isGroup ? String(m.count) : "!"
            let radius = text.count > 1 ? 4.0 + 3.5 * Double(text.count) : 7.0
            out += "<g class=\"gs-badge\"><circle cx=\"\(num(bx))\" cy=\"\(num(by))\" r=\"\(num(radius))\" fill=\"\(m.severity.color)\" stroke=\"#ffffff\" stroke-width=\"1\"/>"
            out += "<text x=\"\(num(bx))\" y=\"\(num(by + 3.5))\" text-anchor=\"middle\" font-size=\"10\" font-weight=\"bold\" fill=\"#ffffff\">\(text)</text></g>"
        }
        out += "</g>"
    }
    out += "</g></g></svg>"
    return out
}

/// Tooltip text: op, name, inputs, outputs, key attributes and the overlay figure.
private func tooltip(_ node: RenderGraph.Node, value: Double?, overlay: Overlay?, problems: [String]) -> String {
    var s = "\(node.op)  \(node.name)"
    if !problems.isEmpty { s += "\nproblems:\n  " + problems.joined(separator: "\n  ") }
    if !node.inputs.isEmpty { s += "\ninputs:\n  " + node.inputs.joined(separator: "\n  ") }
    if !node.outputs.isEmpty { s += "\noutputs:\n  " + node.outputs.joined(separator: "\n  ") }
    if !node.attributes.isEmpty {
        s += "\nattributes:"
        for a in node.attributes.prefix(12) { s += "\n  \(a.key) = \(a.value)" }
        if node.attributes.count > 12 { s += "\n  … \(node.attributes.count - 12) more" }
    }
    if let v = value, let o = overlay { s += "\n\(o.name): \(formatFigure(v))" }
    return s
}

/// A smooth path through the route's points. Each step is a cubic Bézier whose handles run
/// along the flow axis (vertical for top-to-bottom, horizontal for left-to-right), so curves
/// bend like S-shapes and never loop; a step against the flow (wrapped columns, reversed
/// edges) is drawn straight.
func splinePath(_ pts: [Point], leftToRight: Bool) -> String {
    guard let first = pts.first else { return "" }
    var d = "M" + num(first.x) + "," + num(first.y)
    for piece in edgeCurve(pts, leftToRight: leftToRight) {
        switch piece {
        case .line(_, let b):
            d += "L" + num(b.x) + "," + num(b.y)
        case .cubic(_, let c1, let c2, let b):
            d += "C" + num(c1.x) + "," + num(c1.y) + " " + num(c2.x) + "," + num(c2.y) + " " + num(b.x) + "," + num(b.y)
        }
    }
    return d
}
