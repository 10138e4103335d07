// The `sweep` command: parses axes, checks every key and the whole grid before any work,
// runs a graph or LLM sweep in parallel with a progress bar that stops where an interrupt
// left it, and shows the result as a capped table, a chart and the full data as JSON.

import Foundation
import GraphEstimation
import JupyterKernel

extension EstimationCommands {

    static func axes(_ inv: Invocation) throws -> [SweepAxis] {
        guard !inv.extra.isEmpty else {
            throw inv.error(.command, "sweep needs at least one axis, for example batch=1,8,32; see `help sweep`")
        }
        return try inv.extra.map { key, arg in
            let items = (arg.value.arrayItems ?? [arg.value]).map(\.displayString)
            do { return try SweepAxis.parse(key + "=" + items.joined(separator: ",")) } catch {
                throw CellError(.value, "\(error)", at: arg.location)
            }
        }
    }

    static func runSweep(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput) throws {
        var axes = try axes(inv)
        for i in axes.indices where ["hardware", "hw", "device"].contains(axes[i].key) {
            axes[i].values = try axes[i].values.map { v in
                guard let t = try session.registry().target(v.description) else {
                    throw inv.error(.lookup, "in the \(axes[i].key) axis: " + hardwareMessage(v.description, session))
                }
                return .text(t.id)
            }
        }
        let metric = SweepMetric(rawValue: inv.string("metric") ?? "latency") ?? .latency
        let registry = try session.registry()
        var hardware: HardwareTarget?
        if let hw = inv.string("hw") {
            hardware = try target(hw, &session, inv)
        }
        var total = 1
        for axis in axes {
            let (product, overflow) = total.multipliedReportingOverflow(by: max(axis.values.count, 1))
            guard !overflow, product <= 1_000_000 else {
                throw inv.error(.value, "the grid has more than 1,000,000 points; use fewer or shorter axes")
            }
            total = product
        }
        for axis in axes where !["hardware", "hw", "device", "dtype", "precision", "recompute", "optimizer"].contains(axis.key) {
            for v in axis.values where (v.intValue ?? 0) > maxDimension {
                throw inv.error(.value, "\(axis.key)=\(v) is larger than \(Format.grouped(maxDimension))")
            }
        }
        var graph: OpGraph?
        if inv.string("llm") == nil {
            // the version's cached inference: a sweep infers nothing itself
            let entry = try session.currentGraph(for: "sweep")
            graph = OpGraph(entry.model, inference: entry.inference)
        }
        let keys = graph.map { GraphSweep.axisKeys(of: $0) } ?? LLMSweep.axisKeys
        for (key, arg) in inv.extra where !keys.contains(key) {
            let options = commands.first { $0.name == "sweep" }?.options.map(\.name) ?? []
            let hint = Suggest.closest(to: key, in: options + keys).map { "; did you mean '\($0)'?" } ?? ""
            throw CellError(.command, "sweep has no option or axis '\(key)'\(hint) (options: \(options.joined(separator: ", ")); "
                + "axes: \(keys.joined(separator: ", ")))", at: arg.location)
        }
        var graphSweep: GraphSweep?
        var analyses = 0
        if let graph {
            var base = EstimateOptions()
            base.hardware = hardware
            base.inputShapes = try inputShapes(inv)
            let sweep = GraphSweep(graph: graph, registry: registry, base: base)
            // the whole grid is checked before the progress bar and the first point
            do { analyses = try sweep.validate(axes) } catch EstimationError.badInput(let option, let message) {
                throw inv.error(.value, message, at: inv.value(option) == nil ? nil : option)
            } catch {
                throw inv.error(.value, "\(error)")
            }
            graphSweep = sweep
        }
        // a graph sweep first analyses shapes once per distinct binding: the bar counts those too
        let progress = out.startProgress(analyses > 0 ? "sweep of \(total) points (\(analyses) shape analyses, then the points)" : "sweep of \(total) points",
                                         total: analyses + total)
        let lock = NSLock()
        let context = out.context
        let onProgress: @Sendable (Int, Int) -> Void = { done, _ in lock.lock(); progress.update(done); lock.unlock() }
        let cancelled: @Sendable () -> Bool = { context.isCancelled }
        var values: [Double?]
        var errors: [Int: String]
        var points: [SweepPoint]
        var wasCancelled: Bool
        var completed = 0
        let subject: String
        do {
            if let preset = inv.string("llm") {
                if inv.value("shape") != nil { throw inv.error(.command, "shape= applies to graph sweeps, not to llm= sweeps", at: "shape") }
                guard var base = LLMPresets.config(preset) else { throw inv.error(.lookup, "unknown LLM preset '\(preset)'", at: "llm") }
                base.batch = max(base.batch, 1)
                let result = try LLMSweep(base: base, registry: registry, hardware: hardware)
                    .run(axes: axes, metric: metric, progress: onProgress, isCancelled: cancelled)
                (values, errors, points, wasCancelled, completed) = (result.results, result.errors, result.points, result.cancelled, result.completed)
                subject = preset
            } else {
                let entry = try session.currentGraph(for: "sweep")
                guard let sweep = graphSweep else { throw inv.error(.command, "no graph to sweep") }
                let result = try sweep.run(axes: axes, progress: onProgress, isCancelled: cancelled, validated: true)
                (values, errors, points, wasCancelled, completed) = (result.results.map { $0?.value(metric) }, result.errors, result.points,
                                                                     result.cancelled, result.completed)
                subject = entry.name
            }
        } catch let e as CellError {
            progress.stop(at: 0, "failed")
            throw e
        } catch {
            progress.stop(at: 0, "failed")
            throw inv.error(.value, "\(error)")
        }
        if wasCancelled {
            lock.lock(); progress.stop(at: completed > 0 ? analyses + completed : 0, "interrupted"); lock.unlock()
            throw CellError(.interrupt, "sweep interrupted after \(completed) of \(total) points"
                + (completed == 0 && analyses > 0 ? ", while analysing shapes" : ""))
        }
        lock.lock(); progress.finish(); lock.unlock()
        out.display(sweepBundle(axes: axes, points: points, values: values, errors: errors, metric: metric, subject: subject,
                                unit: inv.string("llm") == nil ? unit(metric) : llmUnit(metric)))
    }

    static func unit(_ metric: SweepMetric) -> String {
        switch metric {
        case .latency: return "s"
        case .memory: return "B"
        case .energy: return "J"
        case .throughput: return "samples/s"
        }
    }

    /// LLM sweeps time one decode step: throughput counts generated tokens.
    static func llmUnit(_ metric: SweepMetric) -> String { metric == .throughput ? "tokens/s" : unit(metric) }

    /// Rows shown in a sweep's text and HTML table; the vendor JSON always carries every point.
    static let sweepTableRows = 200

    /// A metric value in its natural unit.
    static func display(_ v: Double, _ metric: SweepMetric) -> String {
        switch metric {
        case .latency: return seconds(v)
        case .memory: return Format.bytes(v)
        case .energy: return joules(v)
        case .throughput: return Format.number(v, digits: 4)
        }
    }

    static func sweepBundle(axes: [SweepAxis], points: [SweepPoint], values: [Double?], errors: [Int: String],
                            metric: SweepMetric, subject: String, unit: String) -> OutputBundle {
        let shown = min(points.count, sweepTableRows)
        var table = Table(columns: axes.map { .init($0.key) } + [.init(metric == .throughput ? "throughput (\(unit))" : metric.rawValue, numeric: true)],
                          title: "\(subject): \(metric.rawValue) over \(points.count) points"
                            + (shown < points.count ? " (first \(shown) shown)" : ""))
        for (i, p) in points.prefix(shown).enumerated() {
            let v = i < values.count ? values[i] : nil
            table.rows.append(axes.map { Table.Cell(p[$0.key]?.description ?? "") }
                + [v.map { Table.Cell(display($0, metric), value: $0.isFinite ? .double($0) : .null) }
                    ?? Table.Cell(errors[i].map { "error: \($0)" } ?? "—", value: .null)])
        }
        let more = points.count - shown
        let note = more > 0 ? "… \(Format.grouped(more)) more rows; every point is in the JSON output (`points`)" : ""
        var bundle = OutputBundle(text: table.text + (note.isEmpty ? "" : "\n" + note),
                                  html: table.html + (note.isEmpty ? "" : "<p class=\"gs-more\">\(HTML.escape(note))</p>"))
        let title = "\(subject): \(metric.rawValue)"
        let numericFirst = axes.first.map { $0.values.allSatisfy { $0.doubleValue != nil } } ?? false
        if axes.count == 1 || (numericFirst && axes.count <= 3) {
            // Lines: x = first axis, one series per combination of the others.
            var series: [String: [(x: Double, y: Double)]] = [:]
            var order: [String] = []
            for (i, p) in points.enumerated() {
                guard let v = values[i], let x = p[axes[0].key]?.doubleValue ?? Double(i) as Double? else { continue }
                let name = axes.dropFirst().map { "\($0.key)=\(p[$0.key]?.description ?? "")" }.joined(separator: " ")
                if series[name] == nil { order.append(name) }
                series[name, default: []].append((numericFirst ? x : Double(i), v))
            }
            Chart.lines(order.map { Chart.Series(name: $0.isEmpty ? metric.rawValue : $0, points: series[$0] ?? []) },
                        title: title, xTitle: axes[0].key, yTitle: "\(metric.rawValue) (\(unit))").attach(to: &bundle)
        } else if axes.count == 2 {
            let xs = axes[0].values.map(\.description), ys = axes[1].values.map(\.description)
            var grid = [[Double?]](repeating: [Double?](repeating: nil, count: xs.count), count: ys.count)
            for (i, p) in points.enumerated() {
                guard let xi = xs.firstIndex(of: p[axes[0].key]?.description ?? ""), let yi = ys.firstIndex(of: p[axes[1].key]?.description ?? "") else { continue }
                grid[yi][xi] = values[i]
            }
            Chart.heatmap(x: xs, y: ys, values: grid, title: title, xTitle: axes[0].key, yTitle: axes[1].key,
                          valueTitle: "\(metric.rawValue) (\(unit))").attach(to: &bundle)
        }
        bundle.json = ["metric": .string(metric.rawValue), "unit": .string(unit),
                       "axes": .array(axes.map { ["key": .string($0.key), "values": .array($0.values.map { .string($0.description) })] }),
                       "points": .array(points.enumerated().map { i, p in
                           var o: [String: JSONValue] = [:]
                           for a in axes { o[a.key] = .string(p[a.key]?.description ?? "") }
                           o["value"] = values[i].map { $0.isFinite ? .double($0) : .null } ?? .null
                           if let e = errors[i] { o["error"] = .string(e) }
                           return .object(o)
                       })]
        return bundle
    }
}
