// What the viewer's side panel shows about a clicked box, embedded once per drawing as one
// compact JSON block (only the boxes drawn, short keys), and which element the viewer starts
// focused on. The SVG tooltips stay for the static fallback; the panel reads only this block.

/// The JSON the side panel reads: `{"overlay": name?, "nodes": {id: {...}}, "groups": {id: {...}}}`.
/// Node entries: `o` op, `n` name, `p` hierarchy path, `a` attributes as [key, value] pairs,
/// `i` inputs, `w` folded weights and constants, `u` outputs, `v` overlay figure. Group entries:
/// `n` title, `c` node count, `s` summary (stage or main ops), `v` rolled-up overlay figure.
func nodeDetails(_ graph: RenderGraph, tree: NamespaceTree, visible vis: VisibleGraph, options: RenderOptions) -> String {
    var out = "{"
    if let o = options.overlay { out += "\"overlay\":"; appendJSONString(o.name + " (groups: " + o.rollup.rawValue + ")", to: &out); out += "," }
    var nodes = ""
    var groups = ""
    nodes.reserveCapacity(vis.items.count * 200)
    for (bi, item) in vis.items.enumerated() {
        switch item {
        case .node(let n):
            let node = graph.nodes[n]
            if !nodes.isEmpty { nodes += "," }
            appendJSONString(node.id, to: &nodes)
            nodes += ":{\"o\":"; appendJSONString(node.op, to: &nodes)
            nodes += ",\"n\":"; appendJSONString(node.name, to: &nodes)
            if !node.path.isEmpty { nodes += ",\"p\":"; appendJSONString(node.path.joined(separator: "/"), to: &nodes) }
            if !node.attributes.isEmpty {
                nodes += ",\"a\":["
                for (k, a) in node.attributes.enumerated() {
                    nodes += k == 0 ? "[" : ",["
                    appendJSONString(a.key, to: &nodes); nodes += ","; appendJSONString(a.value, to: &nodes); nodes += "]"
                }
                nodes += "]"
            }
            appendList("i", node.inputs, to: &nodes)
            if options.constants == .folded {
                appendList("w", node.folded.map { $0.slot + " = " + $0.tensor + ($0.type.isEmpty ? "" : ": " + $0.type) }, to: &nodes)
            }
            appendList("u", node.outputs, to: &nodes)
            if let v = vis.values[bi] { nodes += ",\"v\":"; appendJSONString(formatFigure(v), to: &nodes) }
            nodes += "}"
        case .collapsedGroup(let g):
            let group = tree.groups[g]
            if !groups.isEmpty { groups += "," }
            appendJSONString(group.id, to: &groups)
            groups += ":{\"n\":"; appendJSONString(group.title, to: &groups)
            groups += ",\"c\":\(group.nodeCount)"
            let summary = group.summary ?? (vis.labels[bi].count > 2 ? vis.labels[bi][2] : "")
            if !summary.isEmpty { groups += ",\"s\":"; appendJSONString(summary, to: &groups) }
            if let v = vis.values[bi] { groups += ",\"v\":"; appendJSONString(formatFigure(v), to: &groups) }
            groups += "}"
        }
    }
    out += "\"nodes\":{" + nodes + "},\"groups\":{" + groups + "}}"
    return out
}

/// The `data-id` of the element the viewer opens on for `options.focusPath`: the group's frame
/// (or collapsed box), or the node's box (or the collapsed group that holds it); nil without a
/// focus path.
func focusTarget(_ graph: RenderGraph, tree: NamespaceTree, visible vis: VisibleGraph, options: RenderOptions) -> String? {
    guard let focus = options.focusPath, !focus.isEmpty else { return nil }
    let trimmed = focus.split(separator: "/").joined(separator: "/")
    if let g = tree.group(named: trimmed) { return tree.groups[g].id }
    guard let n = graph.nodes.firstIndex(where: { $0.id == focus || $0.name == focus }) else { return nil }
    let box = vis.boxOfNode[n]
    guard box >= 0 else { return nil }
    return vis.layoutGraph.boxes[box].id
}

private func appendList(_ key: String, _ items: [String], to out: inout String) {
    if items.isEmpty { return }
    out += ",\"" + key + "\":["
    for (k, s) in items.enumerated() {
        if k > 0 { out += "," }
        appendJSONString(s, to: &out)
    }
    out += "]"
}

/// A JSON string literal safe inside an HTML `<script>` and in XML: `<`, `>` and `&` are
/// written as `\u` escapes, so neither `</script>` nor an entity can appear.
func appendJSONString(_ s: String, to out: inout String) {
    out += "\""
    var plain = true
    for u in s.utf8 where u < 0x20 || u == 0x22 || u == 0x5C || u == 0x3C || u == 0x3E || u == 0x26 { plain = false; break }
    if plain { out += s; out += "\""; return }
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "<": out += "\\u003c"
        case ">": out += "\\u003e"
        case "&": out += "\\u0026"
        default:
            if ch.value < 0x20 {
                let hex = String(ch.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(ch)
            }
        }
    }
    out += "\""
}
