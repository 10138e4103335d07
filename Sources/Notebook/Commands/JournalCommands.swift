// Journal commands: `restore` brings back the state of a kernel of this notebook that died
// (killed, out of memory, power lost), and `journal` lists and deletes old sessions' journals.
// The journal format and files are GraphEditing's (Journal/); recording happens in the
// interpreter, before each state-changing command's reply.

import Foundation
import GraphEditing

enum JournalCommands {
    static let family = "Journal"

    static let whereText = "Journals live in the state folder: $GRAPHSMITH_STATE_DIR, else $XDG_STATE_HOME/graphsmith, else "
        + "~/.local/state/graphsmith; under journals/<notebook>-<hash>/ one file per kernel (<id>.gsj) and snapshots/ (the "
        + "model files loads read, by SHA-256). The notebook is the path Jupyter passes in JPY_SESSION_NAME, else the "
        + "kernel's working folder."

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "restore", family: family,
            summary: "Bring back the state of this notebook's previous kernel that died without closing its journal",
            usage: "restore [ID]",
            positionals: [Parameter("id", .string, "a journal id from `journal list`", default: "the latest unclosed journal of this notebook")],
            details: "Every command that changes the session (load, use, close, variables, estimate, edits) is written to the "
                + "journal and flushed to disk before its reply is sent. After a kill, `restore` in a new kernel replays it: "
                + "loads read the snapshot of the file as it was, not the file, and history keeps the original times. "
                + "It needs a fresh session (no graphs or variables yet) and leaves the session unchanged if any step fails. "
                + "A journal whose last record was cut short by the kill is restored up to the last complete record. "
                + "The restored journal is then marked closed. " + whereText,
            examples: ["restore", "restore 20261204-181500-1a2b3c4d-9f0e"]
        ) { session, inv, _ in
            guard let place = session.journal.place else {
                throw CellError(.command, "this session keeps no journal, so there is nothing to restore into it "
                    + "(journals are kept by Jupyter kernels, not by `graphsmith run`)")
            }
            if !session.graphs.entries.isEmpty || !session.variables.isEmpty {
                throw CellError(.command, "restore needs a fresh session, and this one already has \(session.graphs.entries.count) graph(s) "
                    + "and \(session.variables.count) variable(s); restart the kernel and run `restore` first")
            }
            let listing: JournalListing
            if let id = inv.string("id") {
                let all = place.store.listAll()
                guard let found = all.first(where: { $0.id == id }) else {
                    let hint = Suggest.closest(to: id, in: all.map(\.id)).map { "; did you mean '\($0)'?" } ?? "; `journal list` shows them"
                    throw inv.error(.lookup, "no journal '\(id)'\(hint)", at: "id")
                }
                if found.id == place.ownID { throw inv.error(.value, "'\(id)' is this kernel's own journal", at: "id") }
                if found.inUse { throw inv.error(.value, "a running kernel is still writing the journal '\(id)'", at: "id") }
                if let problem = found.problem { throw inv.error(.file, problem, at: "id") }
                listing = found
            } else {
                guard let latest = SessionJournal.restorable(place.store.list(key: place.key), ownID: place.ownID).last else {
                    throw CellError(.command, "no journal of this notebook is left open by a kernel that died; "
                        + "`journal list` shows every journal, and `restore ID` takes one of them")
                }
                listing = latest
            }
            let contents: JournalContents
            do { contents = try JournalReader.read(listing.url) } catch {
                throw CellError(.file, "\(error)")
            }
            session.journal.restorePlan = RestorePlan(listing: listing, contents: contents)
        },
        CommandSpec(
            name: "journal", family: family,
            summary: "List or delete the journals of old sessions",
            usage: "journal [list] | journal delete ID | journal delete --all-closed",
            positionals: [Parameter("action", .choice(["list", "delete"]), "what to do", default: "list"),
                          Parameter("id", .string, "with delete: the journal's id")],
            flags: [Flag("all-closed", "with delete: every journal whose kernel closed it (or that was restored)")],
            details: "`journal list` shows every notebook's journals: id, notebook, start, steps, state (running, closed, or "
                + "open: its kernel died, and `restore` can bring it back) and size. Deleting a journal also deletes the "
                + "snapshots no other journal of its notebook needs. " + whereText,
            examples: ["journal", "journal delete 20261204-181500-1a2b3c4d-9f0e", "journal delete --all-closed"]
        ) { session, inv, out in
            guard let place = session.journal.place else {
                throw CellError(.command, "this session keeps no journal (journals are kept by Jupyter kernels, not by `graphsmith run`)")
            }
            switch inv.string("action") ?? "list" {
            case "delete": try delete(place, inv, out)
            default: out.display(listBundle(place))
            }
        },
    ]

    static func delete(_ place: JournalPlace, _ inv: Invocation, _ out: CommandOutput) throws {
        let all = place.store.listAll()
        var doomed: [JournalListing]
        if inv.has("all-closed") {
            if inv.string("id") != nil { throw inv.error(.value, "give an ID or --all-closed, not both", at: "id") }
            doomed = all.filter { $0.closedReason != nil && !$0.inUse && $0.id != place.ownID }
        } else {
            guard let id = inv.string("id") else {
                throw inv.error(.value, "journal delete needs an ID (see `journal list`) or --all-closed", at: "action")
            }
            guard let found = all.first(where: { $0.id == id }) else {
                let hint = Suggest.closest(to: id, in: all.map(\.id)).map { "; did you mean '\($0)'?" } ?? "; `journal list` shows them"
                throw inv.error(.lookup, "no journal '\(id)'\(hint)", at: "id")
            }
            if found.id == place.ownID || found.inUse {
                throw inv.error(.value, "the journal '\(id)' belongs to a running kernel\(found.id == place.ownID ? " (this one)" : "")", at: "id")
            }
            doomed = [found]
        }
        var bytes = 0
        for listing in doomed {
            do { try place.store.delete(id: listing.id) } catch { throw CellError(.file, "\(error)") }
            bytes += listing.size
        }
        out.print("Deleted \(doomed.count) journal(s), \(Format.bytes(Double(bytes))).")
    }

    static func listBundle(_ place: JournalPlace) -> OutputBundle {
        let all = place.store.listAll()
        guard !all.isEmpty else { return OutputBundle(text: "No journals in \(place.store.journalsFolder.path).") }
        let time = DateFormatter()
        time.locale = Locale(identifier: "en_US_POSIX")
        time.timeZone = TimeZone(identifier: "UTC")
        time.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        var table = Table(columns: [.init("id"), .init("notebook"), .init("started"), .init("steps", numeric: true),
                                    .init("state"), .init("size", numeric: true)],
                          title: "\(all.count) journal(s) in \(place.store.journalsFolder.path)")
        for j in all {
            let notebook = j.header.map { $0.notebook ?? "(folder) " + $0.workingDirectory } ?? "?"
            table.rows.append([Table.Cell(j.id), Table.Cell(notebook), Table.Cell(j.header.map { time.string(from: $0.started) } ?? "?"),
                               .int(j.steps), Table.Cell(state(j, place)), Table.Cell(Format.bytes(Double(j.size)), value: .int(Int64(j.size)))])
        }
        return table.bundle
    }

    static func state(_ j: JournalListing, _ place: JournalPlace) -> String {
        if let problem = j.problem { return "unreadable: \(problem)" }
        if j.id == place.ownID { return "this kernel" }
        if j.inUse { return "running" }
        if let reason = j.closedReason { return "closed (\(reason))" }
        return "open: its kernel died; `restore \(j.id)`" + (j.damage != nil ? " (last record cut short)" : "")
    }

    /// What `restore` says once the replay succeeded.
    static func restoredMessage(_ plan: RestorePlan, _ session: Session) -> String {
        var text = "Restored \(plan.contents.steps.count) step(s) from journal \(plan.listing.id)"
            + (plan.contents.header.notebook.map { " (\($0))" } ?? "")
            + ": \(session.graphs.entries.count) graph(s), \(session.variables.count) variable(s)"
            + (session.graphs.currentName.map { "; current graph: \($0)" } ?? "") + "."
        if let damage = plan.contents.damage {
            text += "\nThe journal's tail was damaged (\(damage)); everything up to the last complete record was restored."
        }
        return text
    }
}
