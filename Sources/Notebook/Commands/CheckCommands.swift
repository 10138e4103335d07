// `check` (alias `validate`): every problem of the current graph as one table — structural ones
// from GraphIR (dangling inputs, cycles, ...), schema ones from GraphOps (unknown ops, arity,
// attributes, legal values, element types) and shape ones from GraphOps' inference (no rule,
// unknown input shapes, inconsistent or contradicting shapes), with a drawing of the problem
// nodes whose table links focus them (CheckDrawing.swift) — plus the schema facts `info NODE` shows per
// attribute (legal values, defaults) and the one-line problem count `load` prints.

import GraphEditing
import GraphIR
import GraphOps
import JupyterKernel

enum CheckCommands {
    static let family = "Graphs"

    private static func spec(_ name: String, summary: String) -> CommandSpec {
        CommandSpec(
            name: name, family: family,
            summary: summary,
            usage: "\(name) [GRAPH] [--errors]",
            positionals: [Parameter("graph", .graphName, "a loaded graph", default: "the current graph")],
            flags: [Flag("errors", "list errors only, not warnings")],
            details: "Under the table, a drawing: the whole graph when it has up to \(CheckDrawing.wholeGraphLimit) nodes, else the "
                + "nodes within \(CheckDrawing.neighbourhoodHops) steps of the problem nodes (at most \(CheckDrawing.neighbourhoodLimit)), "
                + "with each problem node outlined (red: error, orange: warning) and its problems in its tooltip and panel; "
                + "a click on a node in the table centres that node in the drawing and opens its panel. A problem inside an "
                + "If/Loop/Scan body is marked on the node that owns the body. "
                + "Checks every node (If/Loop/Scan bodies and local functions included) against the op schema in force "
                + "at the opset the model imports: unknown ops and domains (with the closest valid names), input and output "
                + "counts, required inputs, attribute names, kinds, required attributes and legal values, and element types "
                + "against the type constraints where the model declares them. Structural problems (dangling inputs, "
                + "cycles, duplicate names) are listed too, and so is every node shape inference could not do: ops without "
                + "an inference rule and inputs of unknown shape (warnings), and shapes that contradict each other or the "
                + "model's declarations (errors). The `kind` column says which checker found a problem (structure, schema or "
                + "shape). A node with a schema error gets no shape row: its schema row is the cause. Schemas: ai.onnx, ai.onnx.ml and ai.onnx.preview.training from "
                + "onnx 1.22, onnxruntime's com.microsoft contrib ops, and the TFLite builtins. `check` and `validate` are "
                + "the same command. The data (vendor JSON) holds every problem with its kind, expected and found values.",
            examples: ["check", "check r50 --errors", "validate"]
        ) { session, inv, out in
            let entry = try GraphCommands.graphArgument(session, inv, name)
            out.display(try checkBundle(entry, errorsOnly: inv.has("errors"), session: &session))
        }
    }

    static let commands: [CommandSpec] = [
        spec("check", summary: "List every schema, shape and structural problem of a graph"),
        spec("validate", summary: "Same as check"),
    ]

    /// One row of the report, whichever checker found it (GraphEditing's `GraphProblem`: the
    /// same list an edit is judged by).
    typealias Row = GraphProblem

    /// Structural (GraphIR), schema and shape (GraphOps) problems of the entry's current
    /// version, errors first (computed once per version).
    static func problems(_ entry: GraphEntry) -> [Row] { entry.current.problems }

    /// The table (with the drawing of the problem nodes under it, each row's node a link that
    /// focuses it there), or one line when the graph is clean.
    static func checkBundle(_ entry: GraphEntry, errorsOnly: Bool, session: inout Session) throws -> OutputBundle {
        let all = problems(entry)
        let errors = all.filter { $0.severity == .error }.count
        let warnings = all.count - errors
        let shown = errorsOnly ? all.filter { $0.severity == .error } : all
        let opsets = entry.model.opsetImports.map { "\(OpRegistry.displayName(domain: $0.domain)) \($0.version)" }
            .joined(separator: ", ")
        let nodes = entry.catalog.entries.count
        let headline = all.isEmpty
            ? "\(entry.name): no problems in \(Format.grouped(nodes)) nodes (opsets \(opsets.isEmpty ? "none" : opsets))"
            : "\(entry.name): \(errors) error(s), \(warnings) warning(s) in \(Format.grouped(nodes)) nodes (opsets \(opsets))"
        let json: JSONValue = [
            "graph": .string(entry.name), "nodes": .int(Int64(nodes)),
            "errors": .int(Int64(errors)), "warnings": .int(Int64(warnings)),
            "problems": .array(shown.map(rowJSON)),
        ]
        guard !shown.isEmpty else { return OutputBundle(text: headline, html: "<p>\(HTML.escape(headline))</p>", json: json) }
        let (marks, anchors) = entry.problemMarksAndAnchors(inBody: nil, rows: shown)
        let drawing = try CheckDrawing.make(entry, anchors: anchors, marks: marks, session: &session)
        var table = Table(columns: [.init("severity"), .init("kind"), .init("node"), .init("name"), .init("op"), .init("where"),
                                    .init("problem")], title: headline)
        for (k, r) in shown.enumerated() {
            let name = r.scope.isEmpty ? r.nodeName : "\(r.nodeName) (in \(r.scope))"
            table.rows.append([Table.Cell(r.severity.rawValue), Table.Cell(r.checker),
                               CheckDrawing.nodeCell(r.node?.description ?? "—", anchor: anchors[k], drawing: drawing), Table.Cell(name),
                               Table.Cell(r.op), Table.Cell(r.location), Table.Cell(r.problem)])
        }
        guard let drawing else { return OutputBundle(text: table.text, html: table.html, json: json) }
        // One output: the links must reach the viewer beside them (`.gs-report` binds them).
        let html = "<div class=\"gs-report\">" + table.html
            + "<p class=\"gs-caption\" style=\"margin:6px 0;color:#455a64\">\(HTML.escape(drawing.caption))</p>"
            + drawing.result.html + "</div>"
        return OutputBundle(text: table.text + "\n\n" + drawing.caption, html: html, json: json)
    }

    private static func rowJSON(_ r: Row) -> JSONValue {
        [
            "severity": .string(r.severity.rawValue), "checker": .string(r.checker), "kind": .string(r.kind),
            "node": r.node.map { .string($0.description) } ?? .null, "name": .string(r.nodeName), "op": .string(r.op),
            "scope": .string(r.scope), "where": .string(r.location), "problem": .string(r.problem),
            "expected": r.expected.map(JSONValue.string) ?? .null, "found": r.found.map(JSONValue.string) ?? .null,
            "suggestions": .array(r.suggestions.map(JSONValue.string)),
        ]
    }

    /// The one sentence `load` prints when a model has problems (nil when it has none): the
    /// schema and structural counts, and how many values shape inference left unknown.
    static func loadNote(_ entry: GraphEntry) -> String? {
        let all = problems(entry).filter { $0.checker != "shape" }
        let failed = Set(entry.inference.problems.map { $0.scope.joined(separator: "/") + "|" + $0.node.description }).count
        var parts: [String] = []
        if !all.isEmpty {
            let errors = all.filter { $0.severity == .error }.count
            parts.append("\(errors) schema error(s) and \(all.count - errors) warning(s)")
        }
        if failed > 0 {
            parts.append("shape inference failed on \(failed) node(s), \(entry.uninferredValueCount()) value(s) unknown")
        }
        guard !parts.isEmpty else { return nil }
        return "The model has " + parts.joined(separator: "; ") + "; `check` lists them."
    }

    // MARK: info

    /// Schema facts of one node for `info`: the schema in force, and per attribute of the
    /// schema its value or default and its legal values. Nil when no schema applies.
    static func schemaRows(_ node: Node, _ model: Model) -> (rows: [[Table.Cell]], json: JSONValue)? {
        let registry = OpRegistry.builtIn
        let schema: OpSchema?
        if let opset = model.opsetVersion(for: node.domain) {
            schema = registry.schema(domain: node.domain, opType: node.opType, opsetVersion: Int(clamping: opset))
        } else {
            schema = registry.latest(domain: node.domain, opType: node.opType)
        }
        guard let schema else { return nil }
        var rows: [[Table.Cell]] = [["schema", Table.Cell("\(schema.qualifiedName) (\(schema.category.title))")]]
        var attrs: [String: JSONValue] = [:]
        for a in schema.attributes {
            let present = node.attribute(a.name)
            var parts: [String] = []
            if let present {
                var shown = present.displayString
                if shown.count > 80 { shown = String(shown.prefix(77)) + "..." }
                parts.append(shown)
            } else if a.isRequired {
                parts.append("missing (required)")
            } else {
                parts.append("absent" + (a.defaultValue.map { ", default \($0)" } ?? ""))
            }
            if let legal = a.legalValues { parts.append("legal: " + legal.joined(separator: ", ")) }
            rows.append([Table.Cell("attr \(a.name)"), Table.Cell(parts.joined(separator: "; "))])
            attrs[a.name] = [
                "kind": .string(a.kind.rawValue), "required": .bool(a.isRequired), "present": .bool(present != nil),
                "default": a.defaultValue.map { .string($0.description) } ?? .null,
                "legal": a.legalValues.map { .array($0.map(JSONValue.string)) } ?? .null,
            ]
        }
        let json: JSONValue = ["schema": .string(schema.qualifiedName), "category": .string(schema.category.rawValue),
                               "attributes": .object(attrs)]
        return (rows, json)
    }
}
