// Running graphs: `run` (the current version on given or random inputs: outputs, kept values,
// NaN origin, timing and the `time` overlay), `compare A B` (two versions or graphs on the same
// inputs: per-output metrics, per-node `error` overlay, first diverging node) and `profile
// import` (an onnxruntime profile as the `ort_time` overlay). The interpreter, statistics and
// matching live in GraphRuntime; the tables in RunReports.swift.

import Foundation
import GraphFormats
import GraphIR
import GraphRuntime
import JupyterKernel

enum RunCommands {
    static let family = "Running"

    static let commands: [CommandSpec] = specs.map { spec in
        var s = spec
        if s.name == "run" || s.name == "compare" { s.extraCompletion = completion(versions: s.name == "compare") }
        return s
    }

    /// Completes graph input names (`x=`), their symbolic dims (`batch=`), `random` as an
    /// input's value and, for `compare`, version references (`@0` ... `@N`, `NAME@N`).
    static func completion(versions: Bool) -> @Sendable (Session, [String], String?) -> [String] {
        { session, words, key in
            guard let entry = session.graphs.current else { return [] }
            let graph = entry.graph
            let inputs = RunInputs.runtimeInputs(graph).map(\.name)
            if let key { return inputs.contains(key) ? ["random"] : [] }
            var out = inputs.map { $0 + "=" } + RunInputs.dimNames(graph).map { $0 + "=" }
            if versions {
                let positionals = words.dropFirst().filter { !$0.contains("=") && !$0.hasPrefix("--") }.count
                if positionals < 2 {
                    out = entry.history.steps.indices.map { "@\($0)" }
                        + session.graphs.entries.filter { $0.name != entry.name }.flatMap { e in e.history.steps.indices.map { "\(e.name)@\($0)" } }
                        + (positionals > 0 ? out : [])
                }
            }
            return out
        }
    }

    static let specs: [CommandSpec] = [
        CommandSpec(
            name: "run", family: family,
            summary: "Run the current graph on CPU: outputs' statistics, kept values, timing (overlay `time`)",
            usage: "run [NAME=FILE.npy|FILE.npz|random|[literal] ...] [DIM=N ...] [seed=N] [repeat=N] [keep=NODE|PATH|all] [save=FILE.npz] [threads=N]",
            options: RunInputs.sharedOptions + [
                Parameter("repeat", .int, "time N more runs: wall median and p90, per-node and per-op-type times, overlay `time`", default: "0"),
                Parameter("keep", .string, "also return intermediate values: a node's outputs, every node under a PATH, a value name, or all"),
                Parameter("save", .path, "write the outputs (and kept values) to an .npz file"),
            ],
            extraOptions: .any,
            extraOptionsHelp: "NAME=VALUE gives graph input NAME: a .npy file, an array of an .npz file (by NAME), random, or a literal "
                + "such as [[1, 2]]; DIM=N binds a symbolic input dimension",
            details: "Every input without a value is random (seeded: floats uniform in [0, 1), integers 0 or 1); its shape comes "
                + "from the declaration, with symbolic dims bound by DIM=N, batch= or shape=; an unbound dim is an error that names it. "
                + "The memory a run needs is estimated first and a run that would not fit is refused. With keep=all a NaN is traced "
                + "to the first node that produced it. repeat=N times N runs after the first (single thread unless threads=N); the "
                + "per-node mean times become the overlay field `time` (µs; `show overlay=time`), beside onnxruntime's where "
                + "`profile import` loaded them. Runs longer than a second show a progress bar; an interrupt stops between nodes.",
            examples: ["run", "run x=image.npy", "run x=random shape=x:1x3x48x192 repeat=20\nshow overlay=time",
                       "run keep=all save=out/values.npz", "run input_ids=[[1, 2, 3]] seq=3"]
        ) { session, inv, out in
            try runCommand(&session, inv, out)
        },
        CommandSpec(
            name: "compare", family: family,
            summary: "Run two versions (@0 @3) or two graphs on the same inputs and compare outputs and every node (overlay `error`); "
                + "three or more side by side (size, estimated and measured time, error)",
            usage: "compare A B [C ...] [NAME=VALUE ...] [seed=N] [tolerance=ATOL] [rtol=RTOL] [view=values|metrics] [hw=ID] [repeat=N]",
            positionals: [Parameter("a", .graphName, "the reference: a step of the current graph (@0), a graph name, or NAME@N", required: true),
                          Parameter("b", .graphName, "the graph(s) compared with it, written the same way", required: true)],
            variadic: true,
            options: RunInputs.sharedOptions + [
                Parameter("tolerance", .float, "absolute tolerance (atol)", default: "1e-4"),
                Parameter("rtol", .float, "relative tolerance: |a - b| <= atol + rtol·|a|", default: "1e-3"),
                Parameter("view", .choice(["values", "metrics"]), "values: outputs and every node of two versions; metrics: versions side by side",
                          default: "values for two versions, metrics for more"),
                Parameter("hw", .hardware, "metrics: a hardware target for the estimated latency"),
                Parameter("repeat", .int, "metrics: timed runs per version (the median is shown)", default: "\(CompareMetrics.defaultRepeats)"),
            ],
            extraOptions: .any, extraOptionsHelp: "graph inputs and dimensions, as for `run`",
            details: "Both run on the same inputs (random with seed= unless given) keeping every intermediate value. Each output "
                + "gets max abs/rel difference, cosine similarity and Pearson correlation (PCC), and passes when every element is "
                + "within atol + rtol·|a|. Every value of A that B still computes is compared too: matched by value name, else by "
                + "node id (edits keep ids), else by provenance (B's nodes list the nodes of A they stand for). The per-node max "
                + "abs difference becomes the overlay field `error` (and `pcc`) on whichever of A and B is a graph's current "
                + "version. The first diverging node is the earliest node of A whose output fails the tolerance while every input "
                + "it reads passes. With three or more versions (or view=metrics) they are set side by side instead: nodes and the "
                + "op-count change, parameters and weight bytes, the estimated latency on hw=, the measured interpreter time (median "
                + "of repeat= runs) and the largest output error against A, as a table and a bar chart relative to A: our pipeline "
                + "against onnxruntime's optimizer and onnxslim on one model.",
            examples: ["compare @0 @3", "compare @0 @2 x=image.npy tolerance=1e-3\nshow overlay=error", "compare model model_fused seed=7",
                       "compare @0 @1 @2 @3 hw=a100-sxm4-80gb"]
        ) { session, inv, out in
            try compareCommand(&session, inv, out)
        },
        CommandSpec(
            name: "profile", family: family,
            summary: "Import an onnxruntime profiling file as per-node times (overlay `ort_time`)",
            usage: "profile import FILE.json",
            positionals: [Parameter("action", .choice(["import"]), "import", required: true),
                          Parameter("file", .path, "the JSON file onnxruntime wrote with SessionOptions.enable_profiling = True", required: true)],
            details: "Node events are averaged over the runs in the file and matched to the current graph's nodes by name, else "
                + "(onnxruntime names unnamed nodes `Conv@3`) by onnxruntime's node index with the op type checked. Nodes "
                + "onnxruntime fused (ORT_ENABLE_ALL) have no counterpart: profile with ORT_DISABLE_ALL to time every node. "
                + "`run repeat=N` then shows onnxruntime's time beside ours.",
            examples: ["profile import onnxruntime_profile.json\nshow overlay=ort_time"], changesState: true
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "profile")
            let file = try inv.requiredString("file")
            let url = session.resolvePath(file)
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw inv.error(.file, "cannot read '\(file)': \(error.localizedDescription)", at: "file")
            }
            let times: [ORTNodeTime]
            do { times = try ORTProfile.parse(data) } catch let e as ProfileError {
                throw inv.error(.value, "'\(file)': \(e.reason)", at: "file")
            }
            let match = ORTProfile.match(times, to: entry.graph)
            guard !match.values.isEmpty else {
                throw inv.error(.value, "none of the \(times.count) nodes in '\(file)' is a node of \(entry.name) "
                    + "(e.g. \(times.prefix(3).map { "'\($0.name)'" }.joined(separator: ", "))); was it made from this model?", at: "file")
            }
            session.graphs.modify(entry.name) { $0.fields["ort_time"] = NodeField(values: match.values, rollup: .sum, unit: "µs") }
            let total = match.values.values.reduce(0, +)
            out.print("Imported onnxruntime times for \(match.values.count) node(s) of \(entry.name) (\(match.byName) by name, "
                + "\(match.byIndex) by node index), \(EstimationCommands.seconds(total * 1e-6)) per run in all; overlay field ort_time."
                + (match.unmatched.isEmpty ? "" : " \(match.unmatched.count) profiled node(s) have no node here (fused by onnxruntime, "
                    + "e.g. \(match.unmatched.prefix(3).map { "'\($0.name)'" }.joined(separator: ", "))); profile with ORT_DISABLE_ALL to match every node."))
        },
    ]

    /// Which intermediates to keep: `all`, a value name, a node, or every node under a path.
    static func keepRequest(_ text: String?, _ entry: GraphEntry, _ inv: Invocation) throws -> KeepRequest {
        guard let text else { return .none }
        if text == "all" { return .all }
        let graph = entry.graph
        if graph.nodes.contains(where: { $0.outputs.contains(text) }) { return .values([text]) }
        var isNode = false
        if case .node = entry.catalog.lookup(text) { isNode = true }
        if let path = entry.hierarchyPath(text), !isNode {
            let ids = Set(entry.catalog.entries(under: path).filter { entry.catalog.entries[$0].body == nil }.map { entry.catalog.entries[$0].id })
            let values = graph.nodes.filter { ids.contains($0.id) && !($0.opType == "Constant") }.flatMap { $0.outputs.array.filter { !$0.isEmpty } }
            guard !values.isEmpty else { throw inv.error(.value, "no computed values under '\(text)'", at: "keep") }
            return .values(Set(values))
        }
        let i = try GraphCommands.nodeIndex(text, in: entry, inv, at: "keep")
        guard entry.catalog.entries[i].body == nil, let node = graph.node(entry.catalog.entries[i].id) else {
            throw inv.error(.value, "'\(text)' is inside an If/Loop/Scan body; keep= takes top-level nodes", at: "keep")
        }
        return .values(Set(node.outputs.array.filter { !$0.isEmpty }))
    }

    /// What one `execute` call produced.
    struct Execution {
        var result: RunResult
        var timing: TimingSummary?
        var estimate: MemoryEstimate
        var planPeak: Int
    }

    /// Runs `version` (with an interrupt check and a progress bar past one second), then
    /// `repeats` timed runs, through the session's interpreter of that version (built on
    /// first use). `label` names the graph in errors.
    static func execute(_ version: GraphVersion, inputs: [String: RuntimeTensor], keep: KeepRequest, repeats: Int, threads: Int,
                        label: String, _ session: Session, _ inv: Invocation, _ out: CommandOutput) throws -> Execution {
        let interpreter: Interpreter
        do { interpreter = try session.interpreters.interpreter(for: version, threads: threads) } catch let e as RuntimeError {
            throw RunInputs.cellError(e, inv, graph: label)
        }
        let shapes = inputs.mapValues(\.shape)
        var keepAll = false
        if case .all = keep { keepAll = true }
        let estimate = try RunInputs.checkPlan(interpreter, shapes: shapes, keepAll: keepAll, inv, graph: label)
        let flag = GraphRuntime.CancellationFlag()
        let context = out.context
        let started = Date()
        let tracker = ProgressTracker()
        let totalRuns = 1 + repeats
        func observer(run: Int) -> (Int, Int) -> Void {
            return { done, steps in
                if context.isCancelled { flag.cancel() }
                let units = run * steps + done
                if tracker.progress == nil, Date().timeIntervalSince(started) > 1 {
                    tracker.progress = out.startProgress(repeats > 0 ? "\(label): 1 + \(repeats) runs" : "\(label): run", total: totalRuns * steps)
                }
                tracker.done = units
                tracker.progress?.update(units)
            }
        }
        do {
            let plan = try interpreter.plan(inputShapes: shapes, keep: keep)
            let result = try interpreter.run(inputs, keep: keep, cancellation: flag, progress: observer(run: 0))
            var timing: TimingSummary?
            if repeats > 0 {
                var wall: [Double] = [], nodes: [[(node: String, opType: String, seconds: Double)]] = []
                for r in 0..<repeats {
                    if context.isCancelled { throw RuntimeError("run cancelled between runs") }
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let timed = try interpreter.run(inputs, timed: true, cancellation: flag, progress: observer(run: r + 1))
                    wall.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                    nodes.append(timed.nodeTimes)
                }
                timing = TimingSummary(wall: wall, nodeTimes: nodes)
            }
            tracker.progress?.finish()
            return Execution(result: result, timing: timing, estimate: estimate, planPeak: plan.peakActivationBytes)
        } catch let e as RuntimeError {
            tracker.progress?.stop(at: tracker.done, e.message.hasPrefix("run cancelled") ? "interrupted" : "failed")
            throw RunInputs.cellError(e, inv, graph: label)
        }
    }

    final class ProgressTracker {
        var progress: Progress?
        var done = 0
    }

    static func runCommand(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput) throws {
        let entry = try session.currentGraph(for: "run")
        let repeats = inv.int("repeat") ?? 0
        guard repeats >= 0, repeats <= 100_000 else { throw inv.error(.value, "repeat must be between 0 and 100,000", at: "repeat") }
        let threads = inv.int("threads") ?? 1
        guard threads >= 1, threads <= 256 else { throw inv.error(.value, "threads must be between 1 and 256", at: "threads") }
        let keep = try keepRequest(inv.string("keep"), entry, inv)
        let inputs = try RunInputs.tensors(for: entry.graph, session, inv)
        let label = "\(entry.name)@\(entry.step)"
        let run = try execute(entry.current, inputs: inputs, keep: keep, repeats: repeats, threads: threads, label: label, session, inv, out)
        var values = run.result.kept
        for o in run.result.outputs { values[o.name] = o.tensor }
        var nan: NaNOrigin?
        if case .all = keep { nan = NaNSearch.firstOrigin(in: entry.graph, values: values.merging(inputs) { a, _ in a }) }
        if let file = inv.string("save") {
            try save(run.result, to: file, session, inv)
        }
        if let timing = run.timing {
            var ids: [String: NodeID] = [:]
            for n in entry.graph.nodes { ids[n.displayName] = n.id }
            var field: [NodeID: Double] = [:]
            for t in timing.nodes { if let id = ids[t.node] { field[id] = t.seconds * 1e6 } }
            session.graphs.modify(entry.name) { $0.fields["time"] = NodeField(values: field, rollup: .sum, unit: "µs") }
        }
        out.display(RunReports.runBundle(run, inputs: inputs, label: label, nan: nan, keep: keep, entry: entry))
        if let file = inv.string("save") {
            out.print("Saved \(run.result.outputs.count + run.result.kept.filter { k in !run.result.outputs.contains { $0.name == k.key } }.count) array(s) to \(file).")
        }
    }

    static func save(_ result: RunResult, to file: String, _ session: Session, _ inv: Invocation) throws {
        var members: [NPZ.Member] = []
        var seen = Set<String>()
        do {
            for (name, t) in result.outputs.map({ ($0.name, $0.tensor) }) + result.kept.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) })
            where seen.insert(name).inserted {
                members.append(NPZ.Member(name: name, npy: try NPYWriter.bytes(type: t.elementType, shape: t.shape, data: t.bytes)))
            }
            let url = session.resolvePath(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(try NPZ.archive(members)).write(to: url, options: .atomic)
        } catch let e as NPYError {
            throw inv.error(.value, "cannot save: \(e.reason)", at: "save")
        } catch {
            throw inv.error(.file, "cannot write '\(file)': \(GraphCommands.fileErrorText(error))", at: "save")
        }
    }

    // MARK: compare

    /// A version named in `compare`: `@N` (a step of the current graph), `NAME` (its current
    /// step) or `NAME@N`.
    static func version(_ text: String, _ session: Session, _ inv: Invocation, at parameter: String) throws -> (entry: GraphEntry, step: Int) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let entry: GraphEntry
        if parts[0].isEmpty { entry = try session.currentGraph(for: "compare") } else {
            guard let e = session.graphs[parts[0]] else {
                let names = session.graphs.entries.map(\.name)
                throw inv.error(.lookup, "no graph '\(parts[0])'" + (Suggest.closest(to: parts[0], in: names).map { "; did you mean '\($0)'?" }
                    ?? "; loaded: \(names.joined(separator: ", "))") + " (a version of the current graph is written @N)", at: parameter)
            }
            entry = e
        }
        guard parts.count == 2 else { return (entry, entry.step) }
        guard let n = Int(parts[1]), n >= 0, n < entry.history.steps.count else {
            throw inv.error(.lookup, "\(entry.name) has no step '@\(parts[1])'; `history` lists steps @0 to @\(entry.history.steps.count - 1)", at: parameter)
        }
        return (entry, n)
    }

    static func compareCommand(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput) throws {
        let versions = [try inv.requiredString("a")] + inv.rest.map(\.value.displayString)
        if versions.count > 2 || inv.string("view") == "metrics" {
            return try CompareMetrics.command(&session, inv, out, versions: versions)
        }
        for option in ["hw", "repeat"] where inv.value(option) != nil {
            throw inv.error(.value, "\(option)= is for comparing metrics (three or more versions, or view=metrics)", at: option)
        }
        let (ea, sa) = try version(try inv.requiredString("a"), session, inv, at: "a")
        let (eb, sb) = try version(try inv.requiredString("b"), session, inv, at: "b")
        let ma = ea.history.steps[sa].state.model, mb = eb.history.steps[sb].state.model
        let tolerance = Tolerance(atol: inv.double("tolerance") ?? 1e-4, rtol: inv.double("rtol") ?? 1e-3)
        guard tolerance.atol >= 0, tolerance.rtol >= 0 else { throw inv.error(.value, "tolerances must be 0 or more") }
        let threads = inv.int("threads") ?? 1
        guard threads >= 1, threads <= 256 else { throw inv.error(.value, "threads must be between 1 and 256", at: "threads") }
        let inputs = try RunInputs.tensors(for: ma.graph, session, inv)
        let bNames = Set(RunInputs.runtimeInputs(mb.graph).map(\.name))
        for name in bNames where inputs[name] == nil {
            throw inv.error(.value, "\(eb.name)@\(sb) has input '\(name)', which \(ea.name)@\(sa) does not: the two graphs need the same inputs")
        }
        let la = "\(ea.name)@\(sa)", lb = "\(eb.name)@\(sb)"
        let ra = try execute(ea.history.steps[sa].state, inputs: inputs, keep: .all, repeats: 0, threads: threads, label: la, session, inv, out)
        let rb = try execute(eb.history.steps[sb].state, inputs: inputs.filter { bNames.contains($0.key) }, keep: .all, repeats: 0,
                             threads: threads, label: lb, session, inv, out)
        var va = ra.result.kept, vb = rb.result.kept
        for o in ra.result.outputs { va[o.name] = o.tensor }
        for o in rb.result.outputs { vb[o.name] = o.tensor }
        var outputs: [(name: String, diff: TensorDiff?)] = []
        for (i, o) in ra.result.outputs.enumerated() {
            let other = rb.result.outputs.first { $0.name == o.name } ?? (i < rb.result.outputs.count ? rb.result.outputs[i] : nil)
            outputs.append((o.name, other.map { TensorDiff(o.tensor, $0.tensor, tolerance: tolerance) }))
        }
        let (nodes, unmatched) = GraphComparison.compareValues(ma.graph, mb.graph, valuesA: va, valuesB: vb, tolerance: tolerance)
        var passing: [String: Bool] = [:]
        for (m, d) in nodes { passing[m.aValue] = d.passes }
        let roots = GraphComparison.divergenceRoots(ma.graph, passing: passing)
        // Overlays on the sides that are a graph's current version (node ids of that side).
        for (entry, step, bSide) in [(ea, sa, false), (eb, sb, true)] where entry.step == step {
            let f = GraphComparison.nodeFields(nodes, bSide: bSide)
            session.graphs.modify(entry.name) { e in
                e.fields["error"] = NodeField(values: f.error, rollup: .max, unit: "max abs diff")
                e.fields["pcc"] = NodeField(values: f.pcc, rollup: .mean, unit: "")
            }
        }
        out.display(RunReports.compareBundle(a: la, b: lb, outputs: outputs, nodes: nodes, unmatched: unmatched, roots: roots,
                                             tolerance: tolerance, graphA: ma.graph))
    }
}
