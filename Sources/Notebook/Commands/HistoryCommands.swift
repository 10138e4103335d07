// History commands: `undo`, `redo`, `checkout @N`, `history` (the tree of steps with their
// deltas) and `history export FILE.gsm` (a script that rebuilds the current step). Moving is
// an O(1) switch between stored versions; nothing is re-run.

import Foundation
import GraphEditing
import GraphIR
import JupyterKernel

enum HistoryCommands {
    static let family = "Editing"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "ids", family: family,
            summary: "Make the next new node id at least N (history export writes it before each step)",
            usage: "ids next=N",
            options: [Parameter("next", .int, "the smallest id the next new node may get", required: true)],
            details: "Node ids are never reused, so steps undone in a session leave gaps; a replayed script reserves ids "
                + "below each step's first id so the nodes it adds get the ids they had (and the export is byte-identical).",
            examples: ["ids next=120"], changesState: true
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "ids")
            guard let n = inv.int("next"), n >= 0 else { throw inv.error(.value, "next must be 0 or more", at: "next") }
            entry.graph.reserveNodeIDs(below: n)
        },
        CommandSpec(
            name: "undo", family: family,
            summary: "Go back N steps (edits, passes, annotations) of the current graph",
            usage: "undo [N]",
            positionals: [Parameter("count", .int, "how many steps", default: "1")],
            examples: ["undo", "undo 3"], changesState: true
        ) { session, inv, out in
            try move(&session, inv, out) { h in try h.undo(inv.int("count") ?? 1) }
        },
        CommandSpec(
            name: "redo", family: family,
            summary: "Go forward N steps along the branch last undone",
            usage: "redo [N]",
            positionals: [Parameter("count", .int, "how many steps", default: "1")],
            examples: ["redo", "redo 2"], changesState: true
        ) { session, inv, out in
            try move(&session, inv, out) { h in try h.redo(inv.int("count") ?? 1) }
        },
        CommandSpec(
            name: "checkout", family: family,
            summary: "Go to any step of the history tree (@N)",
            usage: "checkout @N",
            positionals: [Parameter("step", .string, "a step number as `history` shows it: @4 (or 4)", required: true)],
            examples: ["checkout @0", "checkout @7"], changesState: true
        ) { session, inv, out in
            let text = try inv.requiredString("step")
            let digits = text.hasPrefix("@") ? String(text.dropFirst()) : text
            guard let n = Int(digits) else { throw inv.error(.value, "'\(text)' is not a step; write @N (`history` lists them)", at: "step") }
            try move(&session, inv, out) { h in try h.checkout(n); return n }
        },
        CommandSpec(
            name: "history", family: family,
            summary: "The steps of the current graph as a tree; `history export FILE.gsm` writes a replayable script",
            usage: "history [export FILE]",
            positionals: [Parameter("action", .choice(["export"]), "export: write the commands that rebuild the current step"),
                          Parameter("file", .path, "the script to write (.gsm)")],
            details: "Each row is one step: its number (@N), what made it, the command, node/edge/parameter deltas and the time. "
                + "A step made after an undo starts a branch (drawn indented with └). The script `history export` writes is run "
                + "with `graphsmith run FILE.gsm`; on the same model file it rebuilds the step exactly (byte-identical export).",
            examples: ["history", "history export session.gsm"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "history")
            if inv.string("action") == "export" {
                guard let file = inv.string("file") else { throw inv.error(.command, "history export needs FILE; usage: history export FILE.gsm") }
                let url = session.resolvePath(file)
                let h = entry.history
                // Each step's first node id goes before it, so the replay numbers new nodes as the
                // session did (undone branches used ids in between; ids are saved in the file).
                var lines: [String] = []
                for n in h.path(to: h.current) {
                    if let id = h.steps[n].firstNodeID { lines.append("ids next=\(id)") }
                    lines.append(h.steps[n].command)
                }
                let text = "# Graphsmith history of \(entry.name) at @\(h.current) (\(lines.count - 1) step\(lines.count == 2 ? "" : "s")); "
                    + "replay with: graphsmith run \(url.lastPathComponent)\n" + lines.joined(separator: "\n") + "\n"
                do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
                    throw inv.error(.file, "cannot write '\(file)': \(error.localizedDescription)", at: "file")
                }
                out.print("Wrote \(h.path(to: h.current).count) command\(h.path(to: h.current).count == 1 ? "" : "s") to \(file) (replay: graphsmith run \(file)).")
                return
            }
            out.display(historyBundle(entry))
        },
    ]

    /// Moves the current graph's history and reports where it landed.
    static func move(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput,
                     _ body: (inout GraphEditing.History<GraphVersion>) throws -> Int) throws {
        let entry = try session.currentGraph(for: inv.name)
        var h = entry.history
        let from = h.current
        let to: Int
        do { to = try body(&h) } catch let e as HistoryError { throw inv.error(.value, e.message) }
        session.graphs.modify(entry.name) { $0.history = h }
        let s = h.steps[to]
        out.print("\(entry.name) is at @\(to) (was @\(from)): \(s.number == 0 ? "as loaded" : s.command) — "
            + "\(s.counts.nodes) nodes, \(s.counts.edges) edges")
    }

    static func historyBundle(_ entry: GraphEntry) -> OutputBundle {
        let h = entry.history
        var t = Table(columns: [.init("step"), .init("from"), .init(""), .init("made by"), .init("command"), .init("nodes", numeric: true),
                                .init("edges", numeric: true), .init("params", numeric: true), .init("time")],
                      title: "History of \(entry.name) (at @\(h.current); \(h.steps.count) step\(h.steps.count == 1 ? "" : "s"))")
        let clock = DateFormatter()
        clock.dateFormat = "HH:mm:ss"
        var rows: [JSONValue] = []
        for (n, depth, startsBranch) in h.treeOrder {
            let s = h.steps[n]
            // A branch's first step is drawn `└ @N`; the steps that continue it line up under it.
            let indent = depth == 0 ? "" : String(repeating: "  ", count: depth - 1) + (startsBranch ? "└ " : "  ")
            func delta(_ a: Int, _ b: Int?) -> String { b.map { EditSupport.signed(a - $0) } ?? String(a) }
            t.rows.append([Table.Cell(indent + "@\(n)"), Table.Cell(s.parent.map { "@\($0)" } ?? ""), Table.Cell(n == h.current ? "◀ current" : ""),
                           Table.Cell(s.origin), Table.Cell(s.command),
                           Table.Cell(delta(s.counts.nodes, s.parentCounts?.nodes)), Table.Cell(delta(s.counts.edges, s.parentCounts?.edges)),
                           Table.Cell(s.parentCounts.map { EditSupport.signed(Int(s.counts.parameters - $0.parameters)) } ?? Format.si(Double(s.counts.parameters))),
                           Table.Cell(clock.string(from: s.time))])
            rows.append(["step": .int(Int64(n)), "parent": s.parent.map { .int(Int64($0)) } ?? .null, "origin": .string(s.origin),
                         "command": .string(s.command), "nodes": .int(Int64(s.counts.nodes)), "edges": .int(Int64(s.counts.edges)),
                         "parameters": .int(s.counts.parameters), "current": .bool(n == h.current),
                         "time": .string(ISO8601DateFormatter().string(from: s.time))])
        }
        var b = t.bundle
        b.json = ["graph": .string(entry.name), "current": .int(Int64(h.current)), "steps": .array(rows)]
        return b
    }
}
