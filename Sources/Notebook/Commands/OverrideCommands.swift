// `overrides`: TT-Explorer-style compiler overrides. `overrides export FILE.json` writes the
// attribute values and annotations the session changed since load, keyed by stable node id
// with the name as fallback; `overrides apply FILE.json` checks a file against the op schemas
// and applies it as one history step (undoable, refused if it breaks the graph). The logic
// (diff, matching, validation, JSON) lives in GraphEditing's Overrides*.swift.

import Foundation
import GraphEditing
import GraphIR
import JupyterKernel

enum OverrideCommands {
    static let family = "Editing"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "overrides", family: family,
            summary: "Export the attribute values and annotations changed since load as an overrides file, or apply one",
            usage: "overrides [export|apply FILE.json] [--force]",
            positionals: [Parameter("action", .choice(["export", "apply"]),
                                    "export: write this session's overrides; apply: apply a file (no action: list them)"),
                          Parameter("file", .path, "the overrides file (.json)")],
            flags: [EditCommands.force],
            details: "An override is, per node, the attribute values and annotations to set (null removes one). "
                + "`overrides export` writes every attribute and annotation of the current step that differs from the loaded "
                + "graph (@0), for nodes present in both (If/Loop/Scan bodies included); nodes added or removed by edits are "
                + "not overrides (`history export` replays those), nor are tensor or graph attributes. Entries are keyed by "
                + "the node's stable id (`n12`, saved in exported ONNX files) and carry its name and op: on apply, the id is "
                + "used when it names a node of that op and name, else the one node with that name. Every value is checked "
                + "against the op schema (known attribute, right kind, legal value); any problem refuses the whole file, naming "
                + "the entry, node and attribute, and leaves the session unchanged. Applying is one history step (`undo` "
                + "reverts it); values that already hold are skipped, so applying a file again, or to a re-exported or "
                + "reloaded model, gives the same graph.",
            examples: ["overrides", "overrides export tuned.json", "overrides apply tuned.json", "overrides apply tuned.json --force"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "overrides")
            switch inv.string("action") {
            case "export"?: try export(entry, session, inv, out)
            case "apply"?: try apply(&session, inv, out)
            default: list(entry, out)
            }
        },
    ]

    /// The session's overrides: the current step against @0.
    static func diff(_ entry: GraphEntry) -> OverrideDiff {
        let base = entry.history.steps[0].state.model
        return Overrides.diff(from: base, to: entry.model, graph: entry.name)
    }

    static func export(_ entry: GraphEntry, _ session: Session, _ inv: Invocation, _ out: CommandOutput) throws {
        guard let file = inv.string("file") else { throw inv.error(.command, "overrides export needs FILE; usage: overrides export FILE.json") }
        let d = diff(entry)
        let url = session.resolvePath(file)
        do { try Data(d.overrides.json().utf8).write(to: url, options: .atomic) } catch {
            throw inv.error(.file, "cannot write '\(file)': \(error.localizedDescription)", at: "file")
        }
        let n = d.overrides.nodes.count
        out.print(n == 0 ? "No attribute or annotation of \(entry.name) changed since load (@0); wrote an empty overrides file \(file)."
                  : "Wrote \(d.overrides.valueCount) override\(d.overrides.valueCount == 1 ? "" : "s") on \(n) node\(n == 1 ? "" : "s") "
                    + "of \(entry.name) (@\(entry.step) against @0) to \(file).")
        for line in notes(d) { out.print(line) }
    }

    static func notes(_ d: OverrideDiff) -> [String] {
        var lines: [String] = []
        if d.addedNodes > 0 || d.removedNodes > 0 {
            lines.append("Not included: \(d.addedNodes) node\(d.addedNodes == 1 ? "" : "s") added and \(d.removedNodes) removed by edits "
                + "(`history export` replays those).")
        }
        if !d.notCarried.isEmpty {
            lines.append("Not included (overrides carry ints, floats, strings and lists of them): " + d.notCarried.prefix(8).joined(separator: ", ")
                + (d.notCarried.count > 8 ? ", ..." : ""))
        }
        return lines
    }

    static func apply(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput) throws {
        guard let file = inv.string("file") else { throw inv.error(.command, "overrides apply needs FILE; usage: overrides apply FILE.json") }
        let url = session.resolvePath(file)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw inv.error(.file, "cannot read '\(file)': \(error.localizedDescription)", at: "file")
        }
        let entry = try session.currentGraph(for: "overrides")
        let plan: OverridePlan
        do {
            let overrides = try Overrides.parse(data)
            try checkAnnotations(overrides)
            plan = try overrides.plan(for: entry.model)
        } catch let e as OverrideError {
            throw inv.error(.value, "\(file) was not applied (\(e.problems.count) problem\(e.problems.count == 1 ? "" : "s")); "
                + "\(entry.name) is unchanged:\n\(e)", at: "file")
        }
        guard !plan.edits.isEmpty else {
            out.print("Every override in \(file) already holds in \(entry.name) (@\(entry.step)); nothing changed.")
            return
        }
        try EditSupport.commit(&session, inv, out, origin: "overrides") { tx, _ in
            for e in plan.edits { try tx.apply(e.edit, in: e.scope) }
            return "Applied \(plan.edits.count) override\(plan.edits.count == 1 ? "" : "s") from \(file) to \(plan.changedNodes) node\(plan.changedNodes == 1 ? "" : "s")"
                + (plan.unchanged > 0 ? " (\(plan.unchanged) already held)" : "")
        }
        if !plan.matchedByName.isEmpty {
            out.print("Found by name (their ids name other nodes here): " + plan.matchedByName.prefix(8).joined(separator: "; ")
                + (plan.matchedByName.count > 8 ? "; ..." : ""))
        }
    }

    /// Annotation keys with a fixed meaning must have one of their legal values, as `annotate` requires.
    static func checkAnnotations(_ o: Overrides) throws {
        var problems: [String] = []
        for (i, n) in o.nodes.enumerated() {
            for (key, value) in n.annotations {
                guard let value, let legal = AnnotationCommands.knownKeys.first(where: { $0.key == key })?.legal,
                      !legal.contains(value) else { continue }
                problems.append("override \(i + 1) (\(n.label)): annotation \(key)=\(value) is not legal; \(key) takes \(legal.joined(separator: "|"))")
            }
        }
        if !problems.isEmpty { throw OverrideError(problems) }
    }

    /// `overrides` alone: the table `overrides export` would write.
    static func list(_ entry: GraphEntry, _ out: CommandOutput) {
        let d = diff(entry)
        guard !d.overrides.nodes.isEmpty else {
            out.print("No overrides: no attribute or annotation of \(entry.name) changed since load (@0).")
            for line in notes(d) { out.print(line) }
            return
        }
        var t = Table(columns: [.init("node"), .init("name"), .init("op"), .init("kind"), .init("key"), .init("value")],
                      title: "Overrides of \(entry.name) (@\(entry.step) against @0)")
        var rows: [JSONValue] = []
        for n in d.overrides.nodes {
            let id = n.node?.description ?? ""
            for (k, v) in n.attributes.sorted(by: { $0.key < $1.key }) {
                t.rows.append([Table.Cell(id), Table.Cell(n.name), Table.Cell(n.opType), Table.Cell("attribute"), Table.Cell(k), Table.Cell(Overrides.jsonText(v))])
                rows.append(["node": .string(id), "kind": "attribute", "key": .string(k), "value": .string(Overrides.jsonText(v))])
            }
            for (k, v) in n.annotations.sorted(by: { $0.key < $1.key }) {
                t.rows.append([Table.Cell(id), Table.Cell(n.name), Table.Cell(n.opType), Table.Cell("annotation"), Table.Cell(k), Table.Cell(v ?? "null")])
                rows.append(["node": .string(id), "kind": "annotation", "key": .string(k), "value": v.map(JSONValue.string) ?? .null])
            }
        }
        var b = t.bundle
        b.json = ["graph": .string(entry.name), "overrides": .array(rows)]
        out.display(b)
        for line in notes(d) { out.print(line) }
    }
}
