// External compilers: `plugins` lists the plugin descriptors found (with each tool's version),
// `compile NAME [option=value ...] [fix=opset]` runs one on the current version and, when our
// own check accepts the result, adds it as one history step (undo returns). The work is
// GraphPasses' `PluginCompile`; this file supplies the ONNX reader and writer and the folders.

import Foundation
import GraphFormats
import GraphIR
import GraphPasses
import JupyterKernel

enum PluginCommands {
    static let family = "Transforming"

    /// Where plugins are looked for: the repository's `plugins/` (above the executable or the
    /// working directory), `~/.graphsmith/plugins`, and `GRAPHSMITH_PLUGINS` folders.
    static func anchors() -> [URL] {
        [URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent(),
         URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
    }

    static func catalog() -> PluginCatalog {
        PluginCatalog(folders: PluginCatalog.defaultFolders(environment: ProcessInfo.processInfo.environment, anchors: anchors()))
    }

    static func python() -> String { PluginCatalog.python(environment: ProcessInfo.processInfo.environment, anchors: anchors()) }

    static let commands: [CommandSpec] = { var list = specs; list[1].extraCompletion = optionCompletion; return list }()

    static let specs: [CommandSpec] = [
        CommandSpec(
            name: "plugins", family: family,
            summary: "List the external compilers `compile` can run (onnxruntime, onnxsim, onnxslim, yours)",
            usage: "plugins",
            details: "A plugin is a JSON descriptor (name, description, a command that reads an ONNX file and writes one, typed "
                + "options with defaults, a version command, a timeout) in the repository's plugins/ folder, in "
                + "~/.graphsmith/plugins, or in a folder named by GRAPHSMITH_PLUGINS (colon-separated; later folders override "
                + "a plugin of the same name). Python plugins run with GRAPHSMITH_PYTHON, else the repository's .venv.",
            examples: ["plugins"]
        ) { session, inv, out in
            let c = catalog()
            let py = python()
            var t = Table(columns: [.init("plugin"), .init("version"), .init("options"), .init("timeout (s)", numeric: true), .init("description")],
                          title: "\(c.plugins.count) plugin\(c.plugins.count == 1 ? "" : "s") (from \(c.folders.map(\.path).joined(separator: ", ")))")
            for p in c.plugins {
                let opts = p.options.map { o in "\(o.name)=" + (o.kind == .choice ? o.values.joined(separator: "|") : o.kind.rawValue)
                    + (o.defaultValue.map { " (\($0))" } ?? "") }.joined(separator: ", ")
                t.rows.append([Table.Cell(p.name), Table.Cell(PluginRunner.version(of: p, python: py)), Table.Cell(opts),
                               .int(Int(p.timeout)), Table.Cell(p.description)])
            }
            var b = t.bundle
            if !c.problems.isEmpty {
                b.text += "\n\nDescriptors not read:\n" + c.problems.map { "  - " + $0 }.joined(separator: "\n")
                b.html = (b.html ?? "") + "<p>Descriptors not read:</p><ul>" + c.problems.map { "<li>" + HTML.escape($0) + "</li>" }.joined() + "</ul>"
            }
            out.display(b)
        },
        CommandSpec(
            name: "compile", family: family,
            summary: "Run an external compiler (plugin) on the current graph; its checked result becomes one undoable step",
            usage: "compile NAME [OPTION=VALUE ...] [fix=opset]",
            positionals: [Parameter("plugin", .plugin, "a plugin as `plugins` lists it", required: true)],
            options: [Parameter("fix", .choice(["opset"]), "opset: raise the ai.onnx opset import when the result uses newer ops")],
            extraOptions: .string, extraOptionsHelp: "the plugin's own options (`plugins` lists them with their defaults)",
            details: "The current version is written to a temporary ONNX file, the plugin runs on it (no shell; stopped at its "
                + "timeout), and its output is read back, paired with the input node by node (paired nodes keep their ids and "
                + "annotations; new nodes get provenance naming the nodes they replaced and `plugin NAME`), and checked by our "
                + "validation (structure, op schemas, shape inference). A result with problems the input did not have is refused "
                + "in plain words; when the cause is an op newer than the model's opset import (onnxruntime's extended level "
                + "writes LayerNormalization into opset-12 models), `fix=opset` raises the import. A plugin that fails, hangs or "
                + "writes garbage is reported with the tail of its output, and the graph stays as it was. `diff @N` afterwards "
                + "shows what the plugin did.",
            examples: ["compile onnxsim", "compile ort level=extended", "compile ort level=extended fix=opset", "compile onnxslim\ndiff @0"],
            changesState: true
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "compile")
            let c = catalog()
            let plugin: PluginDescriptor
            do { plugin = try c.plugin(try inv.requiredString("plugin")) } catch let e as PluginError {
                throw inv.error(.lookup, "\(e)", at: "plugin")
            }
            var options: [String: String] = [:]
            for (k, arg) in inv.extra { options[k] = arg.value.displayString }
            let context = out.context
            let result: PluginResult
            do {
                if let snapshot = session.journal.replaySnapshot {
                    // Restore: the result this step stored, not a second run of the compiler.
                    result = try PluginCompile.replay(plugin, on: entry.model, stored: snapshot,
                                                      read: { bytes in try ONNXReader.load(bytes: bytes, name: "\(plugin.name)-result.onnx") })
                } else {
                    result = try PluginCompile.run(plugin, on: entry.model, options: options, python: python(), fixOpset: inv.string("fix") == "opset",
                                               write: { m, url in _ = try ONNXWriter.save(m, to: url) },
                                               read: { url in try ONNXReader.load(url) },
                                               isCancelled: { context.isCancelled })
                    // A journaling session keeps the result, so `restore` never runs the compiler again.
                    if session.journal.place != nil { session.journal.keep = SnapshotSource(bytes: try ONNXWriter.serialize(result.model), ext: "onnx") }
                }
            } catch let e as PluginError {
                throw inv.error(.value, "compile \(plugin.name): \(e)")
            }
            let origin = "plugin \(plugin.name)"
            let version = GraphVersion(model: result.model, origin: origin)
            let before = entry.current.counts
            let firstID = entry.graph.nextNodeID.rawValue
            var step = 0
            let now = session.now
            session.graphs.modify(entry.name) { e in
                step = e.history.commit(version, counts: version.counts, origin: origin, command: inv.canonicalText, edits: [],
                                        time: now, firstNodeID: firstID)
            }
            let d = result.diff
            let after = version.counts
            out.print("\(plugin.name) done in \(String(format: "%.1f", result.outcome.seconds)) s — @\(step): \(before.nodes) -> \(after.nodes) nodes "
                + "(\(d.removed.count) removed, \(d.added.count) added, \(d.changed.count) changed, \(d.groups.count) replacement group"
                + "\(d.groups.count == 1 ? "" : "s")); `diff @\(entry.step)` shows them, `undo` reverts.")
            for note in result.notes { out.print("Note: " + note + ".") }
        },
    ]

    /// Completion of `compile NAME` options: the plugin's option names, then a choice's values.
    static let optionCompletion: @Sendable (Session, [String], String?) -> [String] = { _, words, key in
        guard words.count >= 2, let p = try? catalog().plugin(words[1]) else { return [] }
        guard let key else { return p.options.map { $0.name + "=" } }
        guard let o = p.option(key) else { return [] }
        return o.kind == .choice ? o.values : o.kind == .bool ? ["true", "false"] : []
    }
}
