// Nodes named in cells: turning NodeCatalog's answer (one node, several, none) into a node or a
// LookupError that says which nodes were meant, and the `info` table of one node (declared types
// next to inferred ones), whether it sits in the top-level graph or in an If/Loop/Scan body.

import GraphIR
import JupyterKernel

extension GraphCommands {
    /// The catalog entry `text` names (an id `n12`, a drawn name, a body path), or a
    /// LookupError pointing at `parameter`: no such node, or several (listed, never a silent pick).
    static func nodeIndex(_ text: String, in entry: GraphEntry, _ inv: Invocation, at parameter: String) throws -> Int {
        switch entry.catalog.lookup(text) {
        case .node(let i): return i
        case .ambiguous(let hits): throw ambiguousNode(text, hits, entry, inv, at: parameter)
        case .none: throw unknownNode(text, entry, inv, at: parameter)
        }
    }

    static func unknownNode(_ text: String, _ entry: GraphEntry, _ inv: Invocation, at parameter: String = "node") -> CellError {
        let c = entry.catalog
        let near = c.entries.indices.lazy.map { c.qualifiedName($0) }.filter { $0.localizedCaseInsensitiveContains(text) }.prefix(3)
        let hint = near.isEmpty ? "; `find TEXT` searches node names" : "; similar: \(near.joined(separator: ", "))"
        return inv.error(.lookup, "no node '\(text)' in \(entry.name)\(hint)", at: parameter)
    }

    static func ambiguousNode(_ text: String, _ hits: [Int], _ entry: GraphEntry, _ inv: Invocation, at parameter: String) -> CellError {
        let c = entry.catalog
        let shown = hits.prefix(8).map { "\(c.entries[$0].id) \(c.qualifiedName($0))" }
        let more = hits.count > shown.count ? ", and \(hits.count - shown.count) more" : ""
        return inv.error(.lookup, "'\(text)' names \(hits.count) nodes in \(entry.name): \(shown.joined(separator: ", "))\(more); "
            + "give the id (\(c.entries[hits[0]].id)) or the qualified name", at: parameter)
    }

    /// One value's declared and inferred types side by side: `float32[batch,seq,64] (declared
    /// and inferred)`, `float32[batch,seq,64] inferred (not declared)`, or both when they differ.
    static func typesText(declared: ValueType?, inferred: ValueType?) -> String {
        switch (declared, inferred) {
        case (nil, nil): return "? (not declared; not inferred)"
        case (let d?, nil): return "\(typeText(d)) declared (not inferred)"
        case (nil, let i?): return "\(typeText(i)) inferred (not declared)"
        case (let d?, let i?):
            let dt = typeText(d), it = typeText(i)
            return dt == it ? "\(dt) (declared and inferred)" : "\(dt) declared, \(it) inferred"
        }
    }

    static func nodeBundle(_ index: Int, _ entry: GraphEntry) -> OutputBundle {
        let c = entry.catalog
        let g = c.graph(holding: index)
        guard let node = c.node(index) else { return OutputBundle(text: "node \(c.entries[index].id) is gone") }
        let path = pathText(c.entries[index].path)
        let body = c.entries[index].body
        // Declared (value_info, inputs, outputs) next to inferred (GraphOps, symbolic dims).
        func types(_ value: String) -> String {
            typesText(declared: g.type(of: value), inferred: entry.inferredType(of: value, inBody: body))
        }
        func typesJSON(_ values: [String]) -> JSONValue {
            .array(values.map { v in
                ["name": .string(v), "declared": g.type(of: v).map { .string(typeText($0)) } ?? .null,
                 "inferred": entry.inferredType(of: v, inBody: body).map { .string(typeText($0)) } ?? .null]
            })
        }
        var t = Table(columns: [.init("field"), .init("value")],
                      title: "\(node.id) \(c.qualifiedName(index))" + (node.name.isEmpty ? " (unnamed)" : ""))
        t.rows.append(["op", Table.Cell(node.qualifiedOpType)])
        t.rows.append(["hierarchy", Table.Cell(path)])
        if let b = c.entries[index].body {
            let owner = c.bodies[b].owner
            t.rows.append(["body", Table.Cell("\(c.bodies[b].label) of \(c.entries[owner].id) \(c.qualifiedName(owner))")])
        }
        for (i, input) in node.inputs.enumerated() {
            let from: String
            switch g.producer(of: input) {
            case _ where input.isEmpty: from = "(omitted)"
            case .node(let id, _): from = g.node(id).map { "from \(id) \($0.displayName)" } ?? "from \(id)"
            case .graphInput: from = "graph input"
            case .initializer: from = "initializer"
            case .outerScope: from = "from the enclosing graph"
            case .none: from = "undefined"
            }
            t.rows.append([Table.Cell("input \(i)"), Table.Cell(input.isEmpty ? "—" : "\(input): \(types(input)) \(from)")])
        }
        for (i, output) in node.outputs.enumerated() {
            let users = g.uses(of: output).map(\.node.description)
            t.rows.append([Table.Cell("output \(i)"), Table.Cell(output.isEmpty ? "—" : "\(output): \(types(output))"
                + (users.isEmpty ? "" : " to \(users.joined(separator: ", "))"))])
        }
        // What shape inference could not do on this node (what `load` counted, `check` lists).
        let scopeKey = body.map { entry.inferenceKey(c.bodies[$0].steps) }
        for p in entry.inference.problems where p.node == node.id && p.scope.last == scopeKey {
            t.rows.append(["shape problem", Table.Cell(p.reason)])
        }
        // With a schema: every attribute it defines (value or default, legal values), then any
        // the schema does not know; without one, the node's attributes as they are.
        let schema = CheckCommands.schemaRows(node, entry.model)
        if let schema { t.rows += schema.rows }
        for a in node.attributes where schema == nil || !t.rows.contains(where: { $0[0].text == "attr \(a.name)" }) {
            var shown = a.value.displayString
            if shown.count > 120 { shown = String(shown.prefix(117)) + "..." }
            t.rows.append([Table.Cell("attr \(a.name)"), Table.Cell(shown + (schema == nil ? "" : " (not in the schema)"))])
        }
        for (k, v) in node.annotations.sorted(by: { $0.key < $1.key }) { t.rows.append([Table.Cell("note \(k)"), Table.Cell(v)]) }
        if !node.provenance.isEmpty {
            t.rows.append(["provenance", Table.Cell(node.provenance.description)])
        }
        for (field, f) in entry.fields.sorted(by: { $0.key < $1.key }) {
            if let v = f.values[node.id] {
                t.rows.append([Table.Cell(field), Table.Cell(Format.quantity(v, unit: f.unit), value: v.isFinite ? .double(v) : .null)])
            }
        }
        var b = t.bundle
        b.json = [
            "id": .string(node.id.description), "name": .string(c.qualifiedName(index)), "op": .string(node.qualifiedOpType),
            "path": .string(path),
            "inputs": .array(node.inputs.map { .string($0) }), "outputs": .array(node.outputs.map { .string($0) }),
            "attributes": .object(Dictionary(node.attributes.map { ($0.name, JSONValue.string($0.value.displayString)) }, uniquingKeysWith: { $1 })),
            "schema": schema?.json ?? .null,
            "input_types": typesJSON(Array(node.inputs)), "output_types": typesJSON(Array(node.outputs)),
        ]
        return b
    }
}
