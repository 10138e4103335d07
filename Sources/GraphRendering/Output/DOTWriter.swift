// Exports the visible graph to Graphviz DOT with our box sizes fixed and groups as clusters, so
// the benchmark can run `dot` on exactly the picture we draw and compare time and crossings.

func dotQuote(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: if ch.value >= 32 { out.unicodeScalars.append(ch) }
        }
    }
    return out + "\""
}

func writeDOT(visible vis: VisibleGraph, direction: LayoutDirection) -> String {
    let lg = vis.layoutGraph
    var s = "digraph G {\n  graph [rankdir=\(direction.rawValue), nodesep=0.28, ranksep=0.47];\n"
    s += "  node [shape=box, fixedsize=true, fontsize=10, fontname=\"Helvetica\"];\n"
    // Children of each frame (and of the top level, key -1).
    var frameKids = [Int: [Int]]()
    var boxKids = [Int: [Int]]()
    for (i, g) in lg.groups.enumerated() { frameKids[g.parent ?? -1, default: []].append(i) }
    for (i, b) in lg.boxes.enumerated() { boxKids[b.parent ?? -1, default: []].append(i) }
    func boxLine(_ i: Int, _ indent: String) -> String {
        let b = lg.boxes[i]
        let label = vis.labels[i].joined(separator: "\n")
        return "\(indent)n\(i) [label=\(dotQuote(label)), width=\(fixed(b.width / 72, 3)), height=\(fixed(b.height / 72, 3))];\n"
    }
    // Iterative nested clusters: an explicit stack of (frame, entering?) events.
    for i in boxKids[-1] ?? [] { s += boxLine(i, "  ") }
    var stack: [(Int, Bool)] = (frameKids[-1] ?? []).reversed().map { ($0, true) }
    var depth = 1
    while let (f, entering) = stack.popLast() {
        let indent = String(repeating: "  ", count: depth)
        if entering {
            s += "\(indent)subgraph cluster_\(f) {\n\(indent)  label=\(dotQuote(vis.frameTitles[f]));\n"
            for i in boxKids[f] ?? [] { s += boxLine(i, indent + "  ") }
            stack.append((f, false))
            for k in (frameKids[f] ?? []).reversed() { stack.append((k, true)) }
            depth += 1
        } else {
            depth -= 1
            s += String(repeating: "  ", count: depth) + "}\n"
        }
    }
    for e in lg.edges where e.source != e.target { s += "  n\(e.source) -> n\(e.target);\n" }
    return s + "}\n"
}
