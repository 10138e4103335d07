// The tables `run` and `compare` show, with the same figures as vendor data
// (`application/vnd.graphsmith.v1+json`): outputs and kept values with statistics, wall-time
// statistics, the costliest nodes (beside onnxruntime's time where imported) and op-type
// shares; per-output and per-node comparison metrics and the first diverging node.

import Foundation
import GraphIR
import GraphRuntime
import JupyterKernel

enum RunReports {
    /// Rows of kept values shown; the JSON lists all.
    static let keptRows = 40
    static let nodeRows = 15

    static func number(_ d: Double?) -> JSONValue { d.map { $0.isFinite ? .double($0) : .null } ?? .null }

    static func valueText(_ d: Double, _ type: ElementType) -> String {
        if d.isNaN { return "nan" }
        if type.isFloatingPoint { return Format.number(d, digits: 4) }
        // uint64 values past Int64's range (no trapping conversion on data).
        return Swift.abs(d) < 9.2e18 ? String(Int64(d)) : String(format: "%.0f", d)
    }

    static func summaryRow(_ name: String, _ s: TensorSummary) -> [Table.Cell] {
        func cell(_ d: Double?) -> Table.Cell { d.map { Table.Cell(valueText($0, s.elementType), value: .double($0)) } ?? Table.Cell("—", value: .null) }
        let first = s.first.map { valueText($0, s.elementType) }.joined(separator: ", ") + (s.count > s.first.count ? ", …" : "")
        let bad = (s.nanCount > 0 ? " (\(Format.grouped(s.nanCount)) NaN)" : "") + (s.infCount > 0 ? " (\(Format.grouped(s.infCount)) Inf)" : "")
        return [Table.Cell(name), Table.Cell(s.shape.isEmpty ? "scalar" : s.shape.map(String.init).joined(separator: "×"),
                                             value: .array(s.shape.map { .int(Int64($0)) })),
                Table.Cell(s.elementType.name), cell(s.min), cell(s.max), cell(s.mean), Table.Cell(first + bad)]
    }

    static func summaryJSON(_ name: String, _ s: TensorSummary) -> JSONValue {
        ["name": .string(name), "shape": .array(s.shape.map { .int(Int64($0)) }), "dtype": .string(s.elementType.name),
         "min": number(s.min), "max": number(s.max), "mean": number(s.mean), "nan": .int(Int64(s.nanCount)),
         "inf": .int(Int64(s.infCount)), "first": .array(s.first.map { number($0) })]
    }

    static let summaryColumns: [Table.Column] = [.init("value"), .init("shape"), .init("dtype"), .init("min", numeric: true),
                                                 .init("max", numeric: true), .init("mean", numeric: true), .init("first values")]

    static func runBundle(_ run: RunCommands.Execution, inputs: [String: RuntimeTensor], label: String, nan: NaNOrigin?,
                          keep: KeepRequest, entry: GraphEntry) -> OutputBundle {
        var texts: [String] = [], html = ""
        var json: [String: JSONValue] = ["graph": .string(label),
                                         "peak_activation_bytes": .int(Int64(run.planPeak)),
                                         "estimated_peak_bytes": .int(Int64(run.estimate.peakBytes))]
        var outputs = Table(columns: summaryColumns, title: "\(label): \(run.result.outputs.count) output(s); inputs "
            + RunInputs.shapeText(inputs.mapValues(\.shape)) + "; peak activation memory \(Format.bytes(Double(run.planPeak)))")
        outputs.rows = run.result.outputs.map { summaryRow($0.name, TensorSummary($0.tensor)) }
        json["outputs"] = .array(run.result.outputs.map { summaryJSON($0.name, TensorSummary($0.tensor)) })
        texts.append(outputs.text); html += outputs.html
        let outputNames = Set(run.result.outputs.map(\.name))
        let kept = run.result.kept.filter { !outputNames.contains($0.key) }
        if !kept.isEmpty {
            // Kept values in graph order.
            var order: [String] = []
            for n in entry.graph.nodes { for o in n.outputs where kept[o] != nil { order.append(o) } }
            var t = Table(columns: summaryColumns, title: "Kept values (\(order.count)" + (order.count > keptRows ? ", first \(keptRows) shown" : "") + ")")
            t.rows = order.prefix(keptRows).compactMap { k in kept[k].map { summaryRow(k, TensorSummary($0)) } }
            json["kept"] = .array(order.compactMap { k in kept[k].map { summaryJSON(k, TensorSummary($0)) } })
            texts.append(t.text); html += t.html
        }
        var notes: [String] = []
        if let nan {
            notes.append("First NaN: node '\(nan.node)' (\(nan.opType), \(nan.nodeID)) produced \(Format.grouped(nan.nanCount)) NaN in '\(nan.value)' "
                + "from inputs without any.")
            json["first_nan"] = ["node": .string(nan.node), "id": .string(nan.nodeID.description), "op": .string(nan.opType),
                                 "value": .string(nan.value), "count": .int(Int64(nan.nanCount))]
        } else if run.result.outputs.contains(where: { TensorSummary($0.tensor, firstCount: 0).nanCount > 0 }) {
            if case .all = keep {} else { notes.append("An output holds NaN: run with keep=all to find the node that first produced one.") }
        }
        if let timing = run.timing {
            let ort = entry.fields["ort_time"]
            var ids: [String: NodeID] = [:]
            for n in entry.graph.nodes { ids[n.displayName] = n.id }
            var wall = Table(columns: [.init("runs", numeric: true), .init("median", numeric: true), .init("p90", numeric: true),
                                       .init("min", numeric: true), .init("mean", numeric: true)], title: "Wall time per run")
            wall.rows = [[.int(timing.runs.count), sec(timing.median), sec(timing.p90), sec(timing.min), sec(timing.mean)]]
            var columns: [Table.Column] = [.init("node"), .init("op"), .init("time", numeric: true), .init("share", numeric: true)]
            if ort != nil { columns.append(.init("onnxruntime", numeric: true)) }
            var nodes = Table(columns: columns, title: "Costliest nodes (mean of \(timing.runs.count) runs)")
            nodes.rows = timing.nodes.prefix(nodeRows).map { n in
                var row = [Table.Cell(n.node), Table.Cell(n.opType), sec(n.seconds), percent(n.share)]
                if let ort {
                    row.append(ids[n.node].flatMap { ort.values[$0] }.map { sec($0 * 1e-6) } ?? Table.Cell("—", value: .null))
                }
                return row
            }
            var ops = Table(columns: [.init("op"), .init("nodes", numeric: true), .init("time", numeric: true), .init("share", numeric: true)],
                            title: "Time per op type")
            ops.rows = timing.ops.map { [Table.Cell($0.opType), .int($0.nodes), sec($0.seconds), percent($0.share)] }
            texts += [wall.text, nodes.text, ops.text]
            html += wall.html + nodes.html + ops.html
            notes.append("Per-node times are the overlay field `time` (µs): `show overlay=time`.")
            json["timing"] = ["runs": .int(Int64(timing.runs.count)), "median_s": number(timing.median), "p90_s": number(timing.p90),
                              "min_s": number(timing.min), "mean_s": number(timing.mean),
                              "nodes": .array(timing.nodes.map { n in
                                  ["node": .string(n.node), "op": .string(n.opType), "seconds": number(n.seconds), "share": number(n.share),
                                   "ort_seconds": ids[n.node].flatMap { ort?.values[$0] }.map { .double($0 * 1e-6) } ?? .null]
                              }),
                              "ops": .array(timing.ops.map { ["op": .string($0.opType), "nodes": .int(Int64($0.nodes)),
                                                              "seconds": number($0.seconds), "share": number($0.share)] })]
        }
        if !notes.isEmpty {
            texts.append(notes.joined(separator: "\n"))
            html += "<ul>" + notes.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>"
        }
        return OutputBundle(text: texts.joined(separator: "\n\n"), html: "<div class=\"gs-run\">" + html + "</div>", json: .object(json))
    }

    static func sec(_ s: Double) -> Table.Cell { Table.Cell(EstimationCommands.seconds(s), value: .double(s)) }
    static func percent(_ f: Double) -> Table.Cell { Table.Cell(Format.number(f * 100, digits: 3) + "%", value: .double(f)) }

    static func diffCells(_ d: TensorDiff?) -> [Table.Cell] {
        guard let d else { return [Table.Cell("missing in B"), "—", "—", "—", "—", Table.Cell("fail")] }
        func n(_ x: Double?) -> Table.Cell {
            x.map { $0.isFinite ? Table.Cell(Format.number($0, digits: 4), value: .double($0)) : Table.Cell("inf", value: .null) } ?? Table.Cell("—", value: .null)
        }
        let shape = d.sameShape ? Table.Cell(d.shapeA.map(String.init).joined(separator: "×"))
            : Table.Cell("\(d.shapeA.map(String.init).joined(separator: "×")) vs \(d.shapeB.map(String.init).joined(separator: "×"))")
        return [shape, n(d.maxAbs), n(d.maxRel), n(d.cosine), n(d.pcc), Table.Cell(d.passes ? "pass" : "FAIL", value: .bool(d.passes))]
    }

    static func diffJSON(_ d: TensorDiff?) -> [String: JSONValue] {
        guard let d else { return ["pass": .bool(false), "missing": .bool(true)] }
        return ["shape_a": .array(d.shapeA.map { .int(Int64($0)) }), "shape_b": .array(d.shapeB.map { .int(Int64($0)) }),
                "max_abs": number(d.maxAbs), "max_rel": number(d.maxRel), "mean_abs": number(d.meanAbs),
                "cosine": number(d.cosine), "pcc": number(d.pcc), "failing": .int(Int64(d.failing)), "pass": .bool(d.passes)]
    }

    static func compareBundle(a: String, b: String, outputs: [(name: String, diff: TensorDiff?)],
                              nodes: [(match: ValueMatch, diff: TensorDiff)], unmatched: [String],
                              roots: [GraphComparison.Divergence], tolerance: Tolerance, graphA: Graph) -> OutputBundle {
        let pass = outputs.allSatisfy { $0.diff?.passes ?? false }
        let failing = nodes.filter { !$0.diff.passes }.count
        var headline = "\(a) vs \(b): \(pass ? "PASS" : "FAIL") (atol \(Format.number(tolerance.atol)), rtol \(Format.number(tolerance.rtol))); "
            + "\(nodes.count) value(s) compared, \(failing) outside the tolerance"
            + (unmatched.isEmpty ? "" : ", \(unmatched.count) of A's values not in B")
        if let first = roots.first {
            headline += ". First diverging node: '\(first.name)' (\(first.opType), \(first.node))"
                + (roots.count > 1 ? "; \(roots.count - 1) more node(s) diverge while their inputs agree" : "")
        } else if failing == 0 {
            headline += ". No node diverges."
        }
        let diffColumns: [Table.Column] = [.init("shape"), .init("max abs", numeric: true), .init("max rel", numeric: true),
                                           .init("cosine", numeric: true), .init("PCC", numeric: true), .init("result")]
        var out = Table(columns: [.init("output")] + diffColumns, title: "Outputs")
        out.rows = outputs.map { [Table.Cell($0.name)] + diffCells($0.diff) }
        // Node rows: the divergence roots first, then the largest errors.
        let rootValues = Set(roots.map(\.value))
        let ranked = nodes.sorted { x, y in
            let rx = rootValues.contains(x.match.aValue), ry = rootValues.contains(y.match.aValue)
            if rx != ry { return rx }
            return (x.diff.maxAbs.isNaN ? 0 : x.diff.maxAbs) > (y.diff.maxAbs.isNaN ? 0 : y.diff.maxAbs)
        }
        var names: [NodeID: Node] = [:]
        for n in graphA.nodes { names[n.id] = n }
        var table = Table(columns: [.init("node"), .init("op"), .init("value"), .init("matched by")] + diffColumns,
                          title: "Nodes (divergence roots first, then largest differences; \(min(nodeRows, ranked.count)) of \(ranked.count))")
        table.rows = ranked.prefix(nodeRows).map { m, d in
            let n = names[m.aNode]
            return [Table.Cell((rootValues.contains(m.aValue) ? "▶ " : "") + (n?.displayName ?? m.aNode.description)),
                    Table.Cell(n?.opType ?? ""), Table.Cell(m.aValue == m.bValue ? m.aValue : "\(m.aValue) → \(m.bValue)"),
                    Table.Cell(m.how.rawValue)] + diffCells(d)
        }
        let json: JSONValue = [
            "a": .string(a), "b": .string(b), "pass": .bool(pass),
            "tolerance": ["atol": .double(tolerance.atol), "rtol": .double(tolerance.rtol)],
            "outputs": .array(outputs.map { o in .object(["name": .string(o.name)].merging(diffJSON(o.diff)) { x, _ in x }) }),
            "first_diverging": roots.first.map { ["node": .string($0.name), "id": .string($0.node.description), "op": .string($0.opType),
                                                  "value": .string($0.value)] } ?? .null,
            "divergence_roots": .array(roots.map { ["node": .string($0.name), "id": .string($0.node.description), "op": .string($0.opType)] }),
            "nodes": .array(nodes.map { m, d in
                .object(["id": .string(m.aNode.description), "node": .string(names[m.aNode]?.displayName ?? ""), "value_a": .string(m.aValue),
                         "value_b": .string(m.bValue), "b_id": m.bNode.map { .string($0.description) } ?? .null,
                         "matched_by": .string(m.how.rawValue)].merging(diffJSON(d)) { x, _ in x })
            }),
            "unmatched": .array(unmatched.map { .string($0) }),
        ]
        let note = "Per-node max abs difference is the overlay field `error` (and `pcc`): `show overlay=error`."
        return OutputBundle(text: [headline, out.text, table.text, note].joined(separator: "\n\n"),
                            html: "<div class=\"gs-compare\"><p><b>\(HTML.escape(headline))</b></p>" + out.html + table.html
                                + "<p>\(HTML.escape(note))</p></div>",
                            json: json)
    }
}
