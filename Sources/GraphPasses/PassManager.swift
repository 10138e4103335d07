/// The pass manager: resolves a pipeline (a comma list of pass names and presets), runs it in
/// one transaction, checks every pass's contract around it (schema validation plus shape
/// inference, incrementally from the previous pass's results), repeats the pipeline to a fixed
/// point when asked, times each pass, and can print the graph before or after any pass (as
/// MLIR's `--print-ir-before/after`).
import Foundation
import GraphEditing
import GraphIR
import GraphOps

/// The built-in passes and presets.
public enum BuiltInPasses {
    /// Every built-in pass, cleanup first, in the order `passes` lists them.
    public static let all: [any Pass] = [
        DeadCodeElimination(), IdentityElimination(), FoldConstants(), Dedupe(), CancelTranspose(),
        FuseConvBatchNorm(), FuseConvAffine(), FuseMatMulAdd(), FuseParallelMatMul(), FuseActivation(), FuseLayerNorm(), FuseRMSNorm(), FuseGelu(), FuseGeluTanh(), FuseHardSwish(),
        FuseAttention(), FuseSkipLayerNorm(), FuseBiasGelu(),
    ]

    /// Named pipelines: `basic` cleans up (dead code, identities, constant folding, duplicates,
    /// transpose/reshape pairs), `extended` adds the fusions (the com.microsoft ones only with
    /// `target=ort`): normalizations and activations first, then the MatMul fusions, attention
    /// (whose projections they leave in place), and the ort-only SkipLayerNormalization and
    /// BiasGelu over what the earlier fusions made.
    public static let presets: [String: [String]] = [
        "basic": ["dce", "identity", "fold-constants", "dedupe", "cancel-transpose", "identity", "dce"],
        "extended": ["dce", "identity", "fold-constants", "dedupe", "cancel-transpose", "identity", "dce",
                     "fuse-conv-bn", "fuse-conv-affine", "fuse-layernorm", "fuse-rmsnorm", "fuse-gelu", "fuse-gelu-tanh", "fuse-hardswish", "fuse-matmul-add", "fuse-parallel-matmul",
                     "fuse-attention", "fuse-skip-layernorm", "fuse-bias-gelu", "fuse-activation", "dce"],
    ]

    /// The pass named `name`.
    public static func pass(_ name: String) -> (any Pass)? { all.first { $0.name == name } }

    /// The passes of a comma list of pass and preset names; unknown names are an error with
    /// the closest names.
    public static func pipeline(_ spec: String) throws -> [any Pass] {
        var out: [any Pass] = []
        for raw in spec.split(separator: ",") {
            let name = raw.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            if let preset = presets[name] { out += preset.compactMap(pass) ; continue }
            guard let p = pass(name) else {
                let names = all.map(\.name) + presets.keys.sorted()
                let near = names.filter { $0.hasPrefix(String(name.prefix(3))) || $0.contains(name) }
                throw PassError("unknown pass '\(name)'" + (near.isEmpty ? "; `passes` lists them" : "; did you mean " + near.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + "?"))
            }
            out.append(p)
        }
        guard !out.isEmpty else { throw PassError("the pipeline names no pass; `passes` lists them") }
        return out
    }
}

/// What one pass did in a run.
public struct PassRecord: Sendable {
    public var pass: String
    /// 1 for the first round; fixed-point runs repeat.
    public var round: Int
    public var nodesBefore: Int
    public var nodesAfter: Int
    /// Initializers before and after (a merge of duplicate weights removes no node).
    public var initializersBefore: Int = 0
    public var initializersAfter: Int = 0
    public var seconds: Double
    /// The contract check after the pass (schema and shapes of what it changed; 0 when it
    /// changed nothing).
    public var checkSeconds: Double = 0
    public var changed: Bool
    public var groups: [RewriteGroup]
}

/// The outcome of a pipeline run.
public struct PassRun {
    /// The transaction holding every edit (commit it as one history step).
    public var transaction: Transaction
    /// The check of the final model (to build the version from).
    public var checked: IncrementalCheck.Result?
    public var records: [PassRecord]
    public var nearMisses: [NearMiss]
    /// Graph printouts requested with `print=before|after`: (pass, "before"/"after", text).
    public var printed: [(pass: String, when: String, text: String)]
    public var changed: Bool { records.contains(where: \.changed) }
}

public struct PassManager {
    public var passes: [any Pass]
    public var options: PassOptions
    /// Repeat the pipeline until no pass changes anything (at most `maxRounds`).
    public var fixedPoint: Bool
    public var maxRounds: Int
    /// Print the graph before and/or after each pass.
    public var printBefore: Bool
    public var printAfter: Bool
    public var registry: OpRegistry

    public init(passes: [any Pass], options: PassOptions = PassOptions(), fixedPoint: Bool = false, maxRounds: Int = 8,
                printBefore: Bool = false, printAfter: Bool = false, registry: OpRegistry = .builtIn) {
        self.passes = passes
        self.options = options
        self.fixedPoint = fixedPoint
        self.maxRounds = maxRounds
        self.printBefore = printBefore
        self.printAfter = printAfter
        self.registry = registry
    }

    /// Runs the pipeline on `model` from its checked `baseline` (a full check when nil).
    /// Throws `PassError` when a pass's requirement does not hold or a pass breaks the graph.
    public func run(_ model: Model, origin: String, baseline: IncrementalCheck.Baseline? = nil) throws -> PassRun {
        var base = baseline ?? IncrementalCheck.Baseline(model, registry: registry)
        var tx = Transaction(model, origin: origin)
        var records: [PassRecord] = []
        var misses: [NearMiss] = []
        var printed: [(String, String, String)] = []
        var lastChecked: IncrementalCheck.Result?
        var round = 0
        repeat {
            round += 1
            var roundChanged = false
            for pass in passes {
                if pass.requires.contains(.validSchema), let bad = base.problems.first(where: { $0.severity == .error }) {
                    throw PassError("pass \(pass.name) needs a graph without errors; \(bad.message) (`check` lists all)")
                }
                if printBefore { printed.append((pass.name, "before", GraphText.render(tx.model.graph))) }
                let saved = tx
                let mark = EffectMark(tx.effect)
                let before = tx.model.graph.nodes.count, weightsBefore = tx.model.graph.initializers.count
                let t0 = DispatchTime.now().uptimeNanoseconds
                // What a pass makes carries its name as provenance ("pass fuse-gelu"), so a diff or
                // `why` names the pass, not the command that ran the pipeline.
                tx.origin = "pass \(pass.name)"
                var ctx = PassContext(tx: tx, options: options, passName: pass.name, inference: base.inference, registry: registry)
                let changed = try pass.run(&ctx)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                tx = ctx.tx
                tx.origin = origin
                if round == 1 || changed { misses += ctx.nearMisses }
                var checkSeconds = 0.0
                if changed {
                    let c0 = DispatchTime.now().uptimeNanoseconds
                    defer { checkSeconds = Double(DispatchTime.now().uptimeNanoseconds - c0) * 1e-9 }
                    let effect = mark.since(tx.effect)
                    let checked = IncrementalCheck.check(tx.model, after: effect, from: base, registry: registry)
                    let broken = checked.introduced.filter { $0.severity == .error }
                    if pass.ensures.contains(.validSchema), let first = broken.first {
                        tx = saved
                        throw PassError("pass \(pass.name) was rejected: it broke the graph at \(first.message)"
                            + (broken.count > 1 ? " (and \(broken.count - 1) more problem\(broken.count == 2 ? "" : "s"))" : ""))
                    }
                    base = IncrementalCheck.Baseline(model: tx.model, schemaProblems: checked.schemaProblems, inference: checked.inference,
                                                     structure: checked.structure, problems: checked.problems)
                    lastChecked = checked
                    roundChanged = true
                }
                records.append(PassRecord(pass: pass.name, round: round, nodesBefore: before, nodesAfter: tx.model.graph.nodes.count,
                                          initializersBefore: weightsBefore, initializersAfter: tx.model.graph.initializers.count,
                                          seconds: seconds, checkSeconds: checkSeconds, changed: changed, groups: ctx.groups))
                if printAfter { printed.append((pass.name, "after", GraphText.render(tx.model.graph))) }
            }
            if !roundChanged { break }
        } while fixedPoint && round < maxRounds
        // Near misses of a root that a later round fused are no longer misses.
        let live = misses.filter { tx.model.graph.node($0.root) != nil }
        return PassRun(transaction: tx, checked: lastChecked, records: records, nearMisses: live,
                       printed: printed.map { (pass: $0.0, when: $0.1, text: $0.2) })
    }
}

/// Where a transaction's merged effect stood, to take one pass's part of it.
struct EffectMark {
    let added, removed, changed, values: Int
    init(_ e: EditEffect) {
        added = e.addedNodes.count; removed = e.removedNodes.count; changed = e.changedNodes.count; values = e.changedValues.count
    }
    func since(_ e: EditEffect) -> EditEffect {
        var out = EditEffect()
        out.addedNodes = Array(e.addedNodes.dropFirst(added))
        out.removedNodes = Array(e.removedNodes.dropFirst(removed))
        out.changedNodes = Array(e.changedNodes.dropFirst(changed))
        out.changedValues = Array(e.changedValues.dropFirst(values))
        // A node added and removed again within the pass is not there to check.
        let gone = Set(out.removedNodes)
        out.addedNodes.removeAll { gone.contains($0) }
        out.changedNodes.removeAll { gone.contains($0) }
        return out
    }
}

/// The graph as text, one node per line (`n12 Conv(x, w, b) -> y  [fused from n3, n4]`), for
/// `print=before|after`.
public enum GraphText {
    public static func render(_ g: Graph, limit: Int = 2000) -> String {
        var lines = ["graph \(g.name) (\(g.nodes.count) nodes) inputs: " + g.inputs.map(\.name).joined(separator: ", ")]
        for n in g.nodes.prefix(limit) {
            let attrs = n.attributes.filter { !$0.value.typeCode.isGraphCode }.map { "\($0.name)=\($0.value.displayString)" }
            var line = "  \(n.id) \(n.qualifiedOpType)(\(n.inputs.array.joined(separator: ", ")))"
                + (attrs.isEmpty ? "" : " {" + attrs.joined(separator: ", ") + "}") + " -> " + n.outputs.array.joined(separator: ", ")
            if !n.provenance.isEmpty { line += "  [\(n.provenance.description)]" }
            lines.append(line)
        }
        if g.nodes.count > limit { lines.append("  ... \(g.nodes.count - limit) more") }
        lines.append("outputs: " + g.outputs.map(\.name).joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}

extension Int32 {
    fileprivate var isGraphCode: Bool { self == 5 || self == 10 }
}
