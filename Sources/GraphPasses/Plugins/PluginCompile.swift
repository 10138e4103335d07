// `compile NAME`: the current version written to a temporary ONNX file, the plugin run on it,
// its output read back, paired with the input by the diff matcher (paired nodes keep their ids,
// annotations and paths; new nodes get fresh ids and provenance naming the removed nodes of
// their group and `plugin NAME`), then checked by our own validation (structure, schema,
// shapes) against the input's problems. Problems the plugin introduced refuse the result in
// plain words; a newer op than the opset import allows is offered the fix (raise the import).
// File formats are the caller's: it hands in `write` and `read`.

import Foundation
import GraphEditing
import GraphIR
import GraphOps

/// An accepted plugin result.
public struct PluginResult: Sendable {
    public var model: Model
    public var diff: GraphDiff
    public var outcome: ProcessOutcome
    /// What was adjusted (opset raised), in words.
    public var notes: [String]
}

public enum PluginCompile {
    /// Runs `plugin` on `model`. `fixOpset` raises the default-domain opset import when the
    /// result uses ops newer than it. Throws `PluginError.failed` with the stderr tail on any
    /// failure; the caller's state is never touched here.
    public static func run(_ plugin: PluginDescriptor, on model: Model, options: [String: String], python: String, fixOpset: Bool,
                           write: (Model, URL) throws -> Void, read: (URL) throws -> Model,
                           isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> PluginResult {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("graphsmith-plugin-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let input = dir.appendingPathComponent("input.onnx"), output = dir.appendingPathComponent("output.onnx")
        do { try write(model, input) } catch { throw PluginError.failed("cannot write the model for \(plugin.name): \(error)") }
        let args = try plugin.arguments(input: input.path, output: output.path, python: python, options: options)
        let outcome = try PluginRunner.run(args, timeout: plugin.timeout, directory: dir, isCancelled: isCancelled)
        func failure(_ what: String) -> PluginError {
            let tail = outcome.tail()
            return .failed("plugin \(plugin.name) \(what); the graph is unchanged." + (tail.isEmpty ? "" : "\nLast lines of its output:\n\(tail)"))
        }
        if outcome.timedOut { throw failure("did not finish within its timeout of \(Int(plugin.timeout)) s and was stopped") }
        if outcome.cancelled { throw failure("was interrupted") }
        if outcome.status != 0 { throw failure("failed (exit status \(outcome.status))") }
        let size = (try? fm.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0 else { throw failure("wrote no model (\(output.lastPathComponent) is missing or empty)") }
        let raw: Model
        do { raw = try read(output) } catch { throw failure("wrote a file that is not a readable ONNX model (\(error))") }

        var result = adopt(raw, onto: model, origin: "plugin \(plugin.name)")
        var notes: [String] = []
        var introduced = ModelCheck.introduced(before: ModelCheck.problems(of: model), after: ModelCheck.problems(of: result.model))
            .filter { $0.severity == .error }
        let newer = opsNewerThanImport(result.model)
        if !newer.isEmpty && fixOpset {
            let needed = newer.map(\.since).max() ?? 0
            let old = result.model.opsetVersion(for: "") ?? 0
            result.model.opsetImports = result.model.opsetImports.map { $0.domain.isEmpty || $0.domain == "ai.onnx" ? OpsetImport(domain: $0.domain, version: Int64(needed)) : $0 }
            notes.append("raised the ai.onnx opset import from \(old) to \(needed) for " + Set(newer.map(\.op)).sorted().joined(separator: ", "))
            introduced = ModelCheck.introduced(before: ModelCheck.problems(of: model), after: ModelCheck.problems(of: result.model))
                .filter { $0.severity == .error }
        }
        if !introduced.isEmpty {
            var text = "plugin \(plugin.name)'s result was not accepted: our check finds \(introduced.count) problem"
                + "\(introduced.count == 1 ? "" : "s") the input did not have; the graph is unchanged.\n"
                + introduced.prefix(8).map { "  - \($0.message)" }.joined(separator: "\n")
            if introduced.count > 8 { text += "\n  ... and \(introduced.count - 8) more" }
            if !newer.isEmpty && !fixOpset {
                let ops = Set(newer.map { "\($0.op) (from opset \($0.since))" }).sorted().joined(separator: ", ")
                text += "\nIt uses ops newer than the model's opset import \(result.model.opsetVersion(for: "") ?? 0): \(ops). "
                    + "Fix: raise the opset import, with `compile \(plugin.name) ... fix=opset`."
            } else if fixOpset && !newer.isEmpty {
                text += "\nRaising the opset import (fix=opset) was not enough: the problems above remain at the new opset."
            }
            throw PluginError.failed(text)
        }
        return PluginResult(model: result.model, diff: result.diff, outcome: outcome, notes: notes)
    }

    /// The result a journal stored for an earlier run of `plugin` (the accepted model, ids and
    /// provenance already paired), read back without running the plugin: `restore` must not
    /// run an external compiler again (it may be slow, gone, or give another answer).
    public static func replay(_ plugin: PluginDescriptor, on model: Model, stored: [UInt8],
                              read: ([UInt8]) throws -> Model) throws -> PluginResult {
        let stored = try read(stored)
        let diff = GraphDiff.compute(model.graph, stored.graph, origin: "plugin \(plugin.name)")
        let outcome = ProcessOutcome(status: 0, timedOut: false, cancelled: false, stdout: "", stderr: "", seconds: 0)
        return PluginResult(model: stored, diff: diff, outcome: outcome, notes: ["restored the stored result of \(plugin.name) without running it"])
    }

    /// Default-domain ops whose only schemas start above the model's opset import.
    static func opsNewerThanImport(_ model: Model) -> [(op: String, since: Int)] {
        guard let version = model.opsetVersion(for: "") else { return [] }
        var out: [(String, Int)] = []
        for n in model.graph.nodes where n.domain.isEmpty || n.domain == "ai.onnx" {
            let versions = OpRegistry.builtIn.versions(domain: "", opType: n.opType).map(\.sinceVersion)
            if let first = versions.min(), first > version { out.append((n.opType, first)) }
        }
        return out
    }

    /// `raw` (a model read back from a file: its own id space) renumbered onto `model`: paired
    /// nodes take their old ids (and keep the old node's annotations and explicit path when the
    /// file lost them), new nodes fresh ids above every id `model` has handed out, provenance
    /// from the replacement groups, and the two id spaces joined.
    public static func adopt(_ raw: Model, onto model: Model, origin: String) -> (model: Model, diff: GraphDiff) {
        let old = model.graph
        let first = GraphDiff.compute(old, raw.graph, origin: origin)
        var sourcesOf: [NodeID: [NodeID]] = [:]
        for g in first.groups { for a in g.added { sourcesOf[a] = g.removed } }
        let bToA = first.bToA
        var nodes = raw.graph.nodes
        for i in nodes.indices {
            let id = nodes[i].id
            if let a = bToA[id], let o = old.node(a) {
                if nodes[i].annotations.isEmpty { nodes[i].annotations = o.annotations }
                if nodes[i].hierarchyPath == nil { nodes[i].hierarchyPath = o.hierarchyPath }
                nodes[i].provenance = o.provenance
            } else {
                let sources = sourcesOf[id] ?? []
                nodes[i].provenance = Provenance(sources: sources, origin: origin)
                nodes[i].annotations = inheritedAnnotations(sources, in: old).values.merging(nodes[i].annotations) { _, new in new }
            }
        }
        let r = raw.graph
        let stamped = Graph(name: r.name, nodes: nodes, inputs: r.inputs, outputs: r.outputs, initializers: r.initializers,
                            sparseInitializers: r.sparseInitializers, valueInfo: r.valueInfo, docString: r.docString,
                            metadataProps: r.metadataProps, isSubgraph: false, unknownFields: r.unknownFields)
        var next = max(old.nextNodeID.rawValue, 0)
        var fresh: [NodeID: NodeID] = [:]
        let renumbered = stamped.renumberingNodes { id in
            if let a = bToA[id] { return a }
            if let f = fresh[id] { return f }
            let f = NodeID(next)
            next += 1
            fresh[id] = f
            return f
        }
        old.reserveNodeIDs(below: next)
        renumbered.joinNodeIDs(with: old)
        var m = raw
        m.graph = renumbered
        // The final mapping: same pairs, now under the adopted ids (shared space: pairs by id).
        let diff = GraphDiff.compute(old, renumbered, origin: origin)
        return (m, diff)
    }
}
