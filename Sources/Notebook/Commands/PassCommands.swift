// Pass commands: `pass NAME[,NAME...]`, `optimize level=basic|extended`, `passes` and `why NODE`.
// Thin: GraphPasses runs the pipeline in one transaction; here it becomes one history step,
// and what each pass did is a table (nodes before/after, time, groups such as
// "9 nodes -> 1 LayerNormalization (fuse-layernorm)").

import Foundation
import GraphEditing
import GraphIR
import GraphPasses

enum PassCommands {
    static let family = "Transforming"
    static let options: [Parameter] = [
        Parameter("target", .choice(PassTarget.allCases.map(\.rawValue)), "onnx: standard ops only; ort: also com.microsoft ops onnxruntime runs", default: "onnx"),
        Parameter("fixed", .bool, "repeat the pipeline until nothing changes", default: "false"),
        Parameter("explain", .bool, "list the near misses: where a pattern matched partly and why it stopped", default: "false"),
        Parameter("scope", .string, "only touch nodes under this hierarchy path (/encoder/layer.0)"),
        Parameter("print", .choice(["before", "after"]), "print the graph before or after each pass"),
        Parameter("fold_limit", .int, "fold-constants leaves results with more elements than this", default: "1048576"),
    ]

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "pass", family: family,
            summary: "Run passes (a comma list or a preset) as one history step",
            usage: "pass NAME[,NAME...] [target=onnx|ort] [fixed=true] [explain=true] [scope=PATH] [print=before|after] [fold_limit=N]",
            positionals: [Parameter("names", .string, "pass names or presets (basic, extended); `passes` lists them", required: true)],
            options: options,
            details: "Every pass is checked (schema validation and shape inference) and rejected, naming the node, if it breaks the graph; "
                + "then the whole run is one step (`undo` reverts it). keep=true nodes are never removed, fuse=false nodes never fused.",
            examples: ["pass dce,identity", "pass fold-constants,dedupe fold_limit=100000", "pass fuse-layernorm explain=true", "pass extended target=ort fixed=true"], changesState: true
        ) { session, inv, out in
            try run(&session, inv, out, pipeline: try inv.requiredString("names"))
        },
        CommandSpec(
            name: "optimize", family: family,
            summary: "Run a preset pipeline (basic: cleanup; extended: cleanup and fusions) as one history step",
            usage: "optimize [level=basic|extended] [target=onnx|ort] [explain=true] [scope=PATH]",
            options: [Parameter("level", .choice(BuiltInPasses.presets.keys.sorted()), "the preset", default: "extended")] + options,
            examples: ["optimize level=extended", "optimize level=basic", "optimize target=ort"], changesState: true
        ) { session, inv, out in
            try run(&session, inv, out, pipeline: inv.string("level") ?? "extended", fixedDefault: true)
        },
        CommandSpec(
            name: "passes", family: family,
            summary: "The built-in passes and presets, with what each does",
            usage: "passes",
            examples: ["passes"]
        ) { _, _, out in
            var t = Table(columns: [.init("pass"), .init("what it does")], title: "Passes")
            for p in BuiltInPasses.all { t.rows.append([Table.Cell(p.name), Table.Cell(p.doc)]) }
            for (k, v) in BuiltInPasses.presets.sorted(by: { $0.key < $1.key }) {
                t.rows.append([Table.Cell(k), Table.Cell("preset: " + v.joined(separator: ", "))])
            }
            // The precision passes need calibration inputs, so they are commands of their own.
            for spec in PrecisionCommands.commands {
                t.rows.append([Table.Cell(spec.name), Table.Cell("command (`help \(spec.name)`): " + spec.summary)])
            }
            out.display(t.bundle)
        },
        CommandSpec(
            name: "why", family: family,
            summary: "Why no fusion applied to a node: the near misses that reached it",
            usage: "why NODE [target=onnx|ort]",
            positionals: [Parameter("node", .node, "a node name or id", required: true)],
            options: [options[0]],
            details: "Runs the extended pipeline without keeping it and lists every pattern that matched the node partly: "
                + "the condition that failed, the node it failed on and the nodes matched before.",
            examples: ["why n12", "why /encoder/layer.0/Sqrt"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "why")
            let t = try EditSupport.target("node", entry, inv)
            let opts = PassOptions(target: try target(inv))
            let run = try runPasses(PassManager(passes: BuiltInPasses.pipeline("extended"), options: opts, fixedPoint: true), entry, inv)
            let misses = run.nearMisses.filter { $0.root == t.id || $0.failedAt == t.id || $0.matched.contains(t.id) }
            guard !misses.isEmpty else {
                out.print("No pattern matched \(t.id) \(t.node.displayName) partly" + (run.changed ? " (the extended pipeline changes other nodes)." : "."))
                return
            }
            out.display(missTable(misses, entry.graph, title: "Near misses at \(t.id) \(t.node.displayName)").bundle)
        },
    ]

    static func target(_ inv: Invocation) throws -> PassTarget {
        guard let s = inv.string("target") else { return .onnx }
        guard let t = PassTarget(rawValue: s) else { throw inv.error(.value, "target is onnx or ort", at: "target") }
        return t
    }

    static func runPasses(_ pm: PassManager, _ entry: GraphEntry, _ inv: Invocation) throws -> PassRun {
        do {
            return try pm.run(entry.model, origin: "pass \(inv.canonicalText)", baseline: entry.current.checkBaseline)
        } catch let e as PassError {
            throw inv.error(.value, "\(inv.name): \(e)")
        } catch let e as GraphEditError {
            throw inv.error(.value, "\(inv.name): \(e)")
        } catch let e as EditError {
            throw inv.error(.value, "\(inv.name): \(e)")
        }
    }

    static func run(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput, pipeline: String, fixedDefault: Bool = false) throws {
        let entry = try session.currentGraph(for: inv.name)
        let passes: [any Pass]
        do { passes = try BuiltInPasses.pipeline(pipeline) } catch { throw inv.error(.value, "\(error)") }
        var opts = PassOptions(target: try target(inv), explain: inv.bool("explain") ?? false)
        if let limit = inv.int("fold_limit") {
            guard limit >= 0 else { throw inv.error(.value, "fold_limit is a number of elements, 0 or more", at: "fold_limit") }
            opts.foldLimit = limit
        }
        if let s = inv.string("scope") {
            guard let path = entry.hierarchyPath(s), !path.isEmpty else { throw inv.error(.lookup, "no hierarchy path '\(s)'", at: "scope") }
            opts.scope = path
        }
        let pm = PassManager(passes: passes, options: opts, fixedPoint: inv.bool("fixed") ?? fixedDefault,
                             printBefore: inv.string("print") == "before", printAfter: inv.string("print") == "after")
        let firstID = entry.graph.nextNodeID.rawValue
        let result = try runPasses(pm, entry, inv)
        for p in result.printed { out.print("--- \(p.when) \(p.pass) ---\n\(p.text)") }
        var t = Table(columns: [.init("pass"), .init("round"), .init("nodes before"), .init("nodes after"), .init("ms"), .init("what it did")],
                      title: "\(inv.name) \(pipeline) on \(entry.name)")
        for r in result.records {
            let groups = Dictionary(grouping: r.groups, by: \.description).map { $0.value.count > 1 ? "\($0.value.count)× \($0.key)" : $0.key }.sorted()
            t.rows.append([Table.Cell(r.pass), Table.Cell("\(r.round)"), Table.Cell("\(r.nodesBefore)"), Table.Cell("\(r.nodesAfter)"),
                           Table.Cell(String(format: "%.2f", r.seconds * 1000)), Table.Cell(Self.whatItDid(r, groups))])
        }
        out.display(t.bundle)
        if opts.explain && !result.nearMisses.isEmpty {
            out.display(missTable(result.nearMisses.filter { $0.matched.count > 1 }, entry.graph, title: "Near misses").bundle)
        }
        guard result.changed, let checked = result.checked else {
            out.print("Nothing changed; no history step.")
            return
        }
        let version = GraphVersion(model: result.transaction.model, origin: "pass", checked: checked)
        var step = 0
        let now = session.now
        session.graphs.modify(entry.name) { e in
            step = e.history.commit(version, counts: version.counts, origin: "pass", command: inv.canonicalText,
                                    edits: result.transaction.applied, time: now, firstNodeID: firstID)
        }
        out.print("\(entry.current.counts.nodes) -> \(version.counts.nodes) nodes — @\(step) (`undo` reverts)")
    }

    /// The "what it did" cell of a pass: its rewrite groups, else (a change that adds or removes
    /// no node, such as merging duplicate weights) the initializer count, else "nothing".
    static func whatItDid(_ r: PassRecord, _ groups: [String]) -> String {
        guard r.changed else { return "nothing" }
        if !groups.isEmpty { return groups.prefix(6).joined(separator: "; ") }
        if r.initializersBefore != r.initializersAfter { return "initializers \(r.initializersBefore) -> \(r.initializersAfter)" }
        return "values rewired (no node added or removed)"
    }

    static func missTable(_ misses: [NearMiss], _ g: Graph, title: String) -> Table {
        var t = Table(columns: [.init("pass"), .init("pattern"), .init("root"), .init("failed at"), .init("condition"), .init("matched")], title: title)
        for m in misses.prefix(200) {
            t.rows.append([Table.Cell(m.pass), Table.Cell(m.pattern), Table.Cell("\(m.root)"), Table.Cell(m.failedAt.map { "\($0)" } ?? ""),
                           Table.Cell(m.condition), Table.Cell(m.matched.map(\.description).joined(separator: ", "))])
        }
        return t
    }
}
