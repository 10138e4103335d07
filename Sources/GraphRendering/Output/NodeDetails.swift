// What the viewer's side panel shows about a clicked box, embedded once per drawing as one
// compact JSON block (only the boxes drawn, short keys), and which element the viewer starts
// focused on. The SVG tooltips stay for the static fallback; the panel reads only this block.

/// The JSON the side panel reads: `{"overlay": name?, "nodes": {id: {...}}, "groups": {id: {...}}}`.
/// Node entries: `o` op, `n` name, `p` hierarchy path, `a` attributes as [key, value] pairs,
/// `i` inputs, `w` folded weights and constants, `u` outputs, `v` overlay figure, `x` problem
/// lines and `xs` their worst severity (see `ProblemMarks`). Group entries: `n` title, `c` node
/// count, `s` summary (stage or main ops), `v` rolled-up overlay figure, `x`/`xs` the marked
/// nodes inside.
/// Written as bytes in one pass: on a 10k-node drawing small String appends cost several times more.
/// `marks` are the boxes' problem marks (`boxMarks`), computed once per drawing.
func nodeDetails(_ graph: RenderGraph, tree: NamespaceTree, visible vis: VisibleGraph, options: RenderOptions,
                 marks: [BoxMark?]) -> String {
    var j = JSONBytes()
    j.bytes.reserveCapacity(64 + vis.items.count * 240)
    j.raw("{")
    if let o = options.overlay { j.raw("\"overlay\":"); j.string(o.name + " (groups: " + o.rollup.rawValue + ")"); j.raw(",") }
    j.raw("\"nodes\":{")
    var first = true
    for (bi, item) in vis.items.enumerated() {
        guard case .node(let n) = item else { continue }
        let node = graph.nodes[n]
        if !first { j.raw(",") }
        first = false
        j.string(node.id)
        j.raw(":{\"o\":"); j.string(node.op)
        j.raw(",\"n\":"); j.string(node.name)
        if !node.path.isEmpty {
            j.raw(",\"p\":\"")
            for (k, seg) in node.path.enumerated() { if k > 0 { j.raw("/") }; j.content(seg) }
            j.raw("\"")
        }
        if !node.attributes.isEmpty {
            j.raw(",\"a\":[")
            for (k, a) in node.attributes.enumerated() {
                j.raw(k == 0 ? "[" : ",["); j.string(a.key); j.raw(","); j.string(a.value); j.raw("]")
            }
            j.raw("]")
        }
        j.list("i", node.inputs)
        if options.constants == .folded && !node.folded.isEmpty {
            j.list("w", node.folded.map { $0.slot + " = " + $0.tensor + ($0.type.isEmpty ? "" : ": " + $0.type) })
        }
        j.list("u", node.outputs)
        if let v = vis.values[bi] { j.raw(",\"v\":"); j.string(formatFigure(v)) }
        if let m = marks[bi] { j.raw(",\"xs\":"); j.string(m.severity.rawValue); j.list("x", m.messages) }
        j.raw("}")
    }
    j.raw("},\"groups\":{")
    first = true
    for (bi, item) in vis.items.enumerated() {
        guard case .collapsedGroup(let g) = item else { continue }
        let group = tree.groups[g]
        if !first { j.raw(",") }
        first = false
        j.string(group.id)
        j.raw(":{\"n\":"); j.string(group.title)
        j.raw(",\"c\":" + String(group.nodeCount))
        let summary = group.summary ?? (vis.labels[bi].count > 2 ? vis.labels[bi][2] : "")
        if !summary.isEmpty { j.raw(",\"s\":"); j.string(summary) }
        if let v = vis.values[bi] { j.raw(",\"v\":"); j.string(formatFigure(v)) }
        if let m = marks[bi] {
            j.raw(",\"xs\":"); j.string(m.severity.rawValue)
            j.list("x", ["\(m.count) node(s) with problems inside"] + m.messages)
        }
        j.raw("}")
    }
    j.raw("}}")
    return String(decoding: j.bytes, as: UTF8.self)
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

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// A JSON text built as UTF-8 bytes. Strings are safe inside an HTML `<script>` and in XML:
/// `<`, `>` and `&` are written as `\u` escapes, so neither `</script>` nor an entity can appear.
struct JSONBytes {
    var bytes: [UInt8] = []

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func string(_ s: String) {
        bytes.append(0x22)
        content(s)
        bytes.append(0x22)
    }

    /// The escaped characters of `s`, without quotes.
    mutating func content(_ s: String) {
        for u in s.utf8 {
            switch u {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x3C, 0x3E, 0x26, 0..<0x20:
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(u >> 4)], hexDigits[Int(u & 15)]])
            default: bytes.append(u)
            }
        }
    }

    mutating func list(_ key: String, _ items: [String]) {
        if items.isEmpty { return }
        raw(",\"" + key + "\":[")
        for (k, s) in items.enumerated() {
            if k > 0 { bytes.append(0x2C) }
            string(s)
        }
        bytes.append(0x5D)
    }
}
