// `compare A B C ...` with three or more versions, or `view=metrics`: the versions side by side
// on what a compiler engineer weighs when choosing between pipelines (ours, onnxruntime's
// offline optimizer, onnxslim ...): node count and the op-histogram change, parameters and
// weight bytes, estimated latency on a hardware target, measured interpreter time, and the
// largest output error against the first version. A table, then a bar chart of each metric
// relative to the first version. The numbers come from the libraries (GraphIR summaries,
// GraphEstimation, GraphRuntime); this file only gathers and shows them.

import Foundation
import GraphEditing
import GraphEstimation
import GraphIR
import GraphRuntime
import JupyterKernel

enum CompareMetrics {
    /// One version's figures.
    struct Row {
        var label: String
        var madeBy: String
        var nodes: Int
        var histogram: [String: Int]
        var parameters: Int
        var weightBytes: Int
        var estimatedSeconds: Double?
        var measuredSeconds: Double
        /// Against the first version (nil for the first).
        var maxAbs: Double?
        var minPCC: Double?
        var pass: Bool?
    }

    static let defaultRepeats = 5

    static func command(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput, versions texts: [String]) throws {
        var versions: [(entry: GraphEntry, step: Int)] = []
        for (i, t) in texts.enumerated() { versions.append(try RunCommands.version(t, session, inv, at: i == 0 ? "a" : "b")) }
        let tolerance = Tolerance(atol: inv.double("tolerance") ?? 1e-4, rtol: inv.double("rtol") ?? 1e-3)
        guard tolerance.atol >= 0, tolerance.rtol >= 0 else { throw inv.error(.value, "tolerances must be 0 or more") }
        let threads = inv.int("threads") ?? 1
        guard threads >= 1, threads <= 256 else { throw inv.error(.value, "threads must be between 1 and 256", at: "threads") }
        let repeats = inv.int("repeat") ?? defaultRepeats
        guard repeats >= 1, repeats <= 10_000 else { throw inv.error(.value, "repeat must be between 1 and 10,000", at: "repeat") }
        let hardware = try inv.string("hw").map { try EstimationCommands.target($0, &session, inv) }

        let first = versions[0].entry.history.steps[versions[0].step].state.model
        let inputs = try RunInputs.tensors(for: first.graph, session, inv)
        var rows: [Row] = []
        var reference: RunResult?
        for (entry, step) in versions {
            let version = entry.history.steps[step].state
            let model = version.model
            let label = "\(entry.name)@\(step)"
            let names = Set(RunInputs.runtimeInputs(model.graph).map(\.name))
            for name in names where inputs[name] == nil {
                throw inv.error(.value, "\(label) has input '\(name)', which \(texts[0]) does not: the versions need the same inputs")
            }
            let run = try RunCommands.execute(version, inputs: inputs.filter { names.contains($0.key) }, keep: .none, repeats: repeats,
                                              threads: threads, label: label, session, inv, out)
            let summary = model.graph.summary()
            var row = Row(label: label, madeBy: madeBy(entry, step), nodes: summary.nodeCount, histogram: summary.opHistogram,
                          parameters: summary.totalParameterCount, weightBytes: summary.totalParameterBytes,
                          estimatedSeconds: nil, measuredSeconds: run.timing?.median ?? 0)
            if let hardware {
                var options = EstimateOptions()
                options.hardware = hardware
                options.inputShapes = inputs.filter { names.contains($0.key) }.mapValues(\.shape)
                let estimate = try? GraphEstimator.estimate(OpGraph(model, inference: version.inference), options: options)
                row.estimatedSeconds = estimate?.totals.latencySeconds?.value
            }
            if let reference {
                var maxAbs = 0.0, minPCC: Double?, pass = true
                for (i, o) in reference.outputs.enumerated() {
                    guard let other = run.result.outputs.first(where: { $0.name == o.name })
                            ?? (i < run.result.outputs.count ? run.result.outputs[i] : nil) else { pass = false; continue }
                    let d = TensorDiff(o.tensor, other.tensor, tolerance: tolerance)
                    maxAbs = max(maxAbs, d.maxAbs.isNaN ? .infinity : d.maxAbs)
                    if let p = d.pcc { minPCC = min(minPCC ?? 1, p) }
                    pass = pass && d.passes
                }
                row.maxAbs = maxAbs
                row.minPCC = minPCC
                row.pass = pass
            } else {
                reference = run.result
            }
            rows.append(row)
        }
        out.display(bundle(rows, hardware: hardware?.name, repeats: repeats, tolerance: tolerance))
    }

    /// What made a step, in a few words: its history command (`compile ort level=extended`).
    static func madeBy(_ entry: GraphEntry, _ step: Int) -> String {
        let s = entry.history.steps[step]
        return s.command.isEmpty ? s.origin : s.command
    }

    /// The largest op-count changes from `base` to `other`, largest first: `+18 HardSwish, −54 Div`.
    static func histogramDelta(_ base: [String: Int], _ other: [String: Int], limit: Int = 4) -> String {
        let ops = Set(base.keys).union(other.keys)
        var deltas: [(op: String, change: Int)] = []
        for op in ops {
            let change = (other[op] ?? 0) - (base[op] ?? 0)
            if change != 0 { deltas.append((op, change)) }
        }
        deltas.sort { x, y in abs(x.change) != abs(y.change) ? abs(x.change) > abs(y.change) : x.op < y.op }
        guard !deltas.isEmpty else { return "same ops" }
        let shown: [String] = deltas.prefix(limit).map { d in
            let sign: String = d.change > 0 ? "+\(d.change)" : "−\(-d.change)"
            return sign + " " + d.op
        }
        return shown.joined(separator: ", ") + (deltas.count > limit ? ", … (\(deltas.count - limit) more)" : "")
    }

    static func rowJSON(_ r: Row) -> JSONValue {
        var o: [String: JSONValue] = ["label": .string(r.label), "made_by": .string(r.madeBy), "nodes": .int(Int64(r.nodes))]
        o["op_histogram"] = .object(r.histogram.mapValues { JSONValue.int(Int64($0)) })
        o["parameters"] = .int(Int64(r.parameters))
        o["weight_bytes"] = .int(Int64(r.weightBytes))
        o["estimated_seconds"] = RunReports.number(r.estimatedSeconds)
        o["measured_seconds"] = RunReports.number(r.measuredSeconds)
        o["max_abs"] = RunReports.number(r.maxAbs)
        o["min_pcc"] = RunReports.number(r.minPCC)
        o["pass"] = r.pass.map { JSONValue.bool($0) } ?? .null
        return .object(o)
    }

    static func bundle(_ rows: [Row], hardware: String?, repeats: Int, tolerance: Tolerance) -> OutputBundle {
        guard let base = rows.first else { return OutputBundle(text: "nothing to compare") }
        var columns: [Table.Column] = [.init("version"), .init("made by"), .init("nodes", numeric: true), .init("op changes"),
                                       .init("parameters", numeric: true), .init("parameter bytes", numeric: true)]
        if let hardware { columns.append(.init("est. latency (\(hardware))", numeric: true)) }
        columns += [.init("measured (median of \(repeats))", numeric: true), .init("max abs error", numeric: true),
                    .init("min PCC", numeric: true), .init("result")]
        var table = Table(columns: columns, title: "\(rows.count) versions side by side (error against \(base.label))")
        for r in rows {
            var cells: [Table.Cell] = [Table.Cell(r.label), Table.Cell(r.madeBy), Table.Cell(Format.grouped(r.nodes), value: .int(Int64(r.nodes))),
                                       Table.Cell(r.label == base.label ? "—" : histogramDelta(base.histogram, r.histogram)),
                                       Table.Cell(Format.grouped(r.parameters), value: .int(Int64(r.parameters))),
                                       Table.Cell(Format.bytes(Double(r.weightBytes)), value: .int(Int64(r.weightBytes)))]
            if hardware != nil { cells.append(r.estimatedSeconds.map { RunReports.sec($0) } ?? Table.Cell("—", value: .null)) }
            cells.append(RunReports.sec(r.measuredSeconds))
            cells.append(r.maxAbs.map { Table.Cell(Format.number($0, digits: 4), value: RunReports.number($0)) } ?? Table.Cell("reference"))
            cells.append(r.minPCC.map { Table.Cell(Format.number($0, digits: 6), value: .double($0)) } ?? Table.Cell("—", value: .null))
            cells.append(r.pass.map { Table.Cell($0 ? "pass" : "FAIL", value: .bool($0)) } ?? Table.Cell("—"))
            table.rows.append(cells)
        }
        let failing = rows.filter { $0.pass == false }.map(\.label)
        let headline = "\(rows.map(\.label).joined(separator: ", ")): outputs "
            + (failing.isEmpty ? "agree with \(base.label) (atol \(Format.number(tolerance.atol)), rtol \(Format.number(tolerance.rtol)))"
                : "of \(failing.joined(separator: ", ")) differ from \(base.label) beyond the tolerance")
        // The chart: every metric relative to the first version (1.0 = the same).
        var bars: [(group: String, series: String, value: Double)] = []
        func add(_ metric: String, _ value: (Row) -> Double?) {
            guard let b = value(base), b > 0 else { return }
            for r in rows { if let v = value(r) { bars.append((metric, r.label, v / b)) } }
        }
        add("nodes") { Double($0.nodes) }
        add("parameters") { Double($0.parameters) }
        add("parameter bytes") { Double($0.weightBytes) }
        if hardware != nil { add("est. latency") { $0.estimatedSeconds } }
        add("measured time") { $0.measuredSeconds }
        let json: JSONValue = [
            "reference": .string(base.label), "hardware": hardware.map { .string($0) } ?? .null, "repeat": .int(Int64(repeats)),
            "tolerance": ["atol": .double(tolerance.atol), "rtol": .double(tolerance.rtol)],
            "versions": .array(rows.map(rowJSON)),
        ]
        let note = hardware == nil ? "Give hw=ID for the estimated latency on a hardware target (`hardware` lists them)." : nil
        var bundle = OutputBundle(text: ([headline, table.text] + (note.map { [$0] } ?? [])).joined(separator: "\n\n"),
                                  html: "<div class=\"gs-compare\"><p><b>\(HTML.escape(headline))</b></p>" + table.html
                                      + (note.map { "<p>\(HTML.escape($0))</p>" } ?? "") + "</div>",
                                  json: json)
        Chart.groupedBars(bars, title: "Relative to \(base.label)", xTitle: "× \(base.label) (1 = the same; lower is smaller or faster)")
            .attach(to: &bundle)
        return bundle
    }
}
