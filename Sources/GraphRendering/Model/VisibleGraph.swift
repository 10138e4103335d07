// What one `show` draws: the chosen expansion of the namespace tree turned into a LayoutGraph
// (op nodes, collapsed groups as single boxes, expanded groups as frames), edges lifted to
// their visible ends and merged, and the overlay figures rolled up onto collapsed groups.

import Foundation
import GraphOps

/// What a visible box stands for.
public enum VisibleItem: Sendable, Equatable {
    case node(Int)
    case collapsedGroup(Int)
}

/// The visible part of a RenderGraph, ready for layout and drawing.
public struct VisibleGraph: Sendable {
    /// What the layout engine receives.
    public var layoutGraph: LayoutGraph
    /// Per layout box: what it stands for.
    public var items: [VisibleItem]
    /// Per layout group: the hierarchy group it frames.
    public var frames: [Int]
    /// Per layout edge: the RenderGraph edges it carries (one or more, merged).
    public var edgeOrigins: [[Int]]
    /// Per layout box: the overlay figure (node value, or group rollup), if any.
    public var values: [Double?]
    /// Per layout box: the label lines drawn inside.
    public var labels: [[String]]
    /// Per layout group: the frame title.
    public var frameTitles: [String]
    /// Visible-box index of each RenderGraph node (its own box or its collapsed ancestor).
    public var boxOfNode: [Int]
}

/// Rough text metrics for the sans-serif font the SVG uses; a box must fit its label without
/// measuring glyphs, which a kernel cannot do.
public struct TextMetrics: Sendable {
    /// Average glyph advance of the 11 px font, in pixels.
    public var charWidth: Double = 6.6
    /// Distance between label lines.
    public var lineHeight: Double = 14
    /// Inner margins of a box.
    public var paddingX: Double = 10
    public var paddingY: Double = 7
    /// Longer lines are clipped with an ellipsis, so one long name cannot widen a whole rank.
    public var maxChars: Int = 28
    /// Defaults matching the SVG writer's font.
    public init() {}
    /// Truncates a line to `maxChars` with an ellipsis.
    public func clip(_ s: String) -> String {
        s.count <= maxChars ? s : String(s.prefix(maxChars - 1)) + "…"
    }
    /// Width and height of a box holding `lines`.
    public func size(of lines: [String]) -> (Double, Double) {
        let longest = lines.map { $0.count <= maxChars ? Self.units($0) : Double(maxChars) }.max() ?? 0
        return (max(40, longest * charWidth + 2 * paddingX), Double(max(1, lines.count)) * lineHeight + 2 * paddingY)
    }
    /// Glyph count with arrows (section stages, `Conv→Relu`) counted at their real, wider advance.
    static func units(_ s: String) -> Double {
        var n = 0.0
        for ch in s.unicodeScalars { n += ch == "→" ? 1.45 : 1 }
        return n
    }
}

/// Chooses which groups are expanded: everything (`expandAll`), else the default depth that
/// keeps about `maxVisibleBoxes` boxes, plus explicitly expanded groups, plus the groups holding
/// revealed nodes, plus the focus path's ancestors and `depth` levels below it.
public func expansion(of hierarchy: NamespaceTree, graph: RenderGraph, options: RenderOptions) throws -> [Bool] {
    var expanded = [Bool](repeating: false, count: hierarchy.groups.count)
    if options.expandAll { return [Bool](repeating: true, count: hierarchy.groups.count) }
    let d = hierarchy.defaultDepth(maxBoxes: options.maxVisibleBoxes)
    for (g, group) in hierarchy.groups.enumerated() where group.depth <= d { expanded[g] = true }
    for path in options.expandedGroups {
        guard let g = hierarchy.group(named: path) else { throw RenderError.unknownPath(path) }
        for a in hierarchy.ancestry(g) { expanded[a] = true }
    }
    if !options.revealed.isEmpty {
        for (n, node) in graph.nodes.enumerated() where options.revealed.contains(node.id) {
            if let g = hierarchy.nodeGroup[n] { for a in hierarchy.ancestry(g) { expanded[a] = true } }
        }
    }
    if let focus = options.focusPath, !focus.isEmpty {
        let trimmed = focus.split(separator: "/").joined(separator: "/")
        if let g = hierarchy.group(named: trimmed) {
            for a in hierarchy.ancestry(g) { expanded[a] = true }
            let levels = max(1, options.depth ?? 1)
            let base = hierarchy.groups[g].depth
            var stack = [g]
            while let c = stack.popLast() {
                if hierarchy.groups[c].depth - base < levels { expanded[c] = true }
                stack.append(contentsOf: hierarchy.groups[c].childGroups)
            }
        } else if let n = graph.nodes.firstIndex(where: { $0.id == focus || $0.name == focus }) {
            if let g = hierarchy.nodeGroup[n] { for a in hierarchy.ancestry(g) { expanded[a] = true } }
        } else {
            throw RenderError.unknownPath(focus)
        }
    }
    return expanded
}

/// Builds the visible graph for an expansion state. With `foldedInputs`, each node's box also
/// lists its folded weights and constants (`W float32[64,3,3,3]`), at most `maxFoldedLines`.
public func visibleGraph(_ graph: RenderGraph, hierarchy: NamespaceTree, expanded: [Bool], overlay: Overlay?,
                         metrics: TextMetrics = TextMetrics(), foldedInputs: Bool = false) -> VisibleGraph {
    let H = hierarchy.groups.count
    // Which groups are shown as frames (expanded with all ancestors expanded) or as boxes.
    var shownAsFrame = [Bool](repeating: false, count: H)
    var shownAsBox = [Bool](repeating: false, count: H)
    var open = [Bool](repeating: false, count: H) // all ancestors and itself expanded
    for g in 0..<H { // parents come before children in the hierarchy's order
        let parentOpen = hierarchy.groups[g].parent.map { open[$0] } ?? true
        open[g] = parentOpen && expanded[g]
        shownAsFrame[g] = open[g]
        shownAsBox[g] = parentOpen && !expanded[g]
    }
    var lg = LayoutGraph()
    var frames: [Int] = []
    var frameIndex = [Int](repeating: -1, count: H)
    var frameTitles: [String] = []
    for g in 0..<H where shownAsFrame[g] {
        frameIndex[g] = frames.count
        frames.append(g)
        let title = hierarchy.groups[g].summary.map { hierarchy.groups[g].title + " · " + $0 } ?? hierarchy.groups[g].title
        let m = hierarchy.groups[g].isSection ? sectionMetrics : metrics
        frameTitles.append(m.clip(title))
        lg.groups.append(.init(id: hierarchy.groups[g].id, parent: nil,
                               headerWidth: Double(min(title.count, m.maxChars)) * m.charWidth))
    }
    for (i, g) in frames.enumerated() {
        if let p = hierarchy.groups[g].parent { lg.groups[i].parent = frameIndex[p] }
    }

    // Overlay lookup: node id, node name, output tensor name -> node.
    var nodeValue = [Double?](repeating: nil, count: graph.nodes.count)
    if let overlay = overlay {
        var byKey: [String: Int] = [:]
        for e in graph.edges where !e.tensor.isEmpty && byKey[e.tensor] == nil { byKey[e.tensor] = e.source }
        for (i, n) in graph.nodes.enumerated() { byKey[n.name] = i }
        for (i, n) in graph.nodes.enumerated() { byKey[n.id] = i }
        for (key, v) in overlay.values { if let i = byKey[key] { nodeValue[i] = v } }
    }

    var items: [VisibleItem] = []
    var values: [Double?] = []
    var labels: [[String]] = []
    var boxOfGroup = [Int](repeating: -1, count: H)
    var boxOfNode = [Int](repeating: -1, count: graph.nodes.count)
    for g in 0..<H where shownAsBox[g] {
        let group = hierarchy.groups[g]
        // Sections say where they are and what they hold, which takes more room than a scope name.
        let m = group.isSection ? sectionMetrics : metrics
        var lines = [m.clip(group.title), "\(group.nodeCount) nodes"]
        var value: Double? = nil
        // One pass over the members: overlay figures and the most frequent compute ops, so a
        // collapsed box says what it mostly does ("Conv 12 · Relu 12").
        var below: [Double] = []
        var opCounts: [String: Int] = [:]
        var stack = [g]
        while let c = stack.popLast() {
            for n in hierarchy.groups[c].childNodes {
                if let v = nodeValue[n] { below.append(v) }
                let op = graph.nodes[n].op
                if OpCategory.of(op) != .constant { opCounts[op, default: 0] += 1 }
            }
            stack.append(contentsOf: hierarchy.groups[c].childGroups)
        }
        let top = opCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(2)
        if let summary = group.summary {
            if !summary.isEmpty { lines.append(m.clip(summary)) }
        } else if !top.isEmpty {
            lines.append(metrics.clip(top.map { "\($0.key) \($0.value)" }.joined(separator: " · ")))
        }
        if let overlay = overlay {
            value = overlay.rollup.combine(below)
            if let v = value { lines.append("\(overlay.rollup.rawValue) \(formatFigure(v))") }
        }
        let (w, h) = m.size(of: lines)
        boxOfGroup[g] = items.count
        items.append(.collapsedGroup(g)); values.append(value); labels.append(lines)
        lg.boxes.append(.init(id: group.id, width: w, height: h + 4, parent: group.parent.map { frameIndex[$0] }))
    }
    for (i, node) in graph.nodes.enumerated() {
        // Visible iff its innermost group is open (or it is top level).
        if let g = hierarchy.nodeGroup[i] {
            if !open[g] {
                var cur: Int? = g
                var box = -1
                while let c = cur { if shownAsBox[c] { box = boxOfGroup[c] }; cur = hierarchy.groups[c].parent }
                boxOfNode[i] = box
                continue
            }
        }
        var lines = [metrics.clip(node.op)]
        let short = shortName(node.name)
        if short != node.op && !short.isEmpty { lines.append(metrics.clip(short)) }
        if foldedInputs { lines += foldedLines(node.folded, metrics: metrics) }
        if let v = nodeValue[i] { lines.append(formatFigure(v)) }
        let (w, h) = metrics.size(of: lines)
        boxOfNode[i] = items.count
        items.append(.node(i)); values.append(nodeValue[i]); labels.append(lines)
        lg.boxes.append(.init(id: node.id, width: w, height: h, parent: hierarchy.nodeGroup[i].map { frameIndex[$0] }))
    }
    return finish(lg, graph: graph, items: items, frames: frames, values: values, labels: labels,
                  frameTitles: frameTitles, boxOfNode: boxOfNode)
}

/// Lifts the graph's edges onto the visible boxes (merging parallel ones) and packs the result.
private func finish(_ layoutGraph: LayoutGraph, graph: RenderGraph, items: [VisibleItem], frames: [Int], values: [Double?],
                    labels: [[String]], frameTitles: [String], boxOfNode: [Int]) -> VisibleGraph {
    var lg = layoutGraph
    var edgeOrigins: [[Int]] = []
    var pairIndex: [Int: Int] = [:]
    let count = lg.boxes.count
    for (ei, e) in graph.edges.enumerated() {
        let a = boxOfNode[e.source], b = boxOfNode[e.target]
        if a < 0 || b < 0 || a == b { continue }
        let key = a * count + b
        if let k = pairIndex[key] { edgeOrigins[k].append(ei); continue }
        pairIndex[key] = lg.edges.count
        lg.edges.append(.init(source: a, target: b))
        edgeOrigins.append([ei])
    }
    return VisibleGraph(layoutGraph: lg, items: items, frames: frames, edgeOrigins: edgeOrigins, values: values,
                        labels: labels, frameTitles: frameTitles, boxOfNode: boxOfNode)
}

/// Metrics for section boxes and frames, whose first and last node names need more room.
let sectionMetrics: TextMetrics = { var m = TextMetrics(); m.maxChars = 46; return m }()

/// Most folded inputs listed in one box; the rest are summed up in one line.
let maxFoldedLines = 4

/// The box lines of a node's folded inputs.
func foldedLines(_ folded: [RenderGraph.FoldedInput], metrics: TextMetrics) -> [String] {
    if folded.count <= maxFoldedLines { return folded.map { metrics.clip($0.line) } }
    return folded.prefix(maxFoldedLines - 1).map { metrics.clip($0.line) } + ["+ \(folded.count - maxFoldedLines + 1) more inputs"]
}

/// Last path component of a slash-separated name, so boxes stay narrow.
func shortName(_ name: String) -> String {
    if let slash = name.lastIndex(of: "/"), name.index(after: slash) < name.endIndex {
        return String(name[name.index(after: slash)...])
    }
    return name
}

/// Compact number text: 3 significant digits, k/M/G suffixes for large values.
public func formatFigure(_ v: Double) -> String {
    let a = abs(v)
    if a == 0 { return "0" }
    if a >= 1e9 { return trimmed(v / 1e9) + "G" }
    if a >= 1e6 { return trimmed(v / 1e6) + "M" }
    if a >= 1e4 { return trimmed(v / 1e3) + "k" }
    if a < 0.001 {
        let e = Int(log10(a).rounded(.down))
        return trimmed(v / pow(10, Double(e))) + "e\(e)"
    }
    return trimmed(v)
}

private func trimmed(_ v: Double) -> String {
    let a = abs(v)
    let decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3
    var s = fixed(v, decimals)
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s
}

/// Fixed-point text without Foundation's `String(format:)`, which is slow in tight loops.
func fixed(_ v: Double, _ decimals: Int) -> String {
    if !v.isFinite { return "0" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let n = (abs(v) * scale).rounded()
    let whole = Int(n / scale)
    let frac = Int(n - Double(whole) * scale)
    var s = (v < 0 && n != 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        var f = String(frac)
        while f.count < decimals { f = "0" + f }
        s += "." + f
    }
    return s
}
