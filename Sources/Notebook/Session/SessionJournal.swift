// A kernel's journal: every state-changing command that succeeded, made durable before the
// cell's reply, so a new kernel of the same notebook can `restore` the state after a kill.
// A cell's steps are written together as one frame when the cell ends, so a kill restores
// whole cells: the acknowledged ones, and the one in flight only if all of it was written.
//
// The file is created on the first step (a kernel that only looks creates nothing), in the
// notebook's folder of the state directory (see `JournalStore`). A clean shutdown or
// restart appends the close mark; a kernel that finds an open journal of its notebook from
// a kernel that died says so in its first reply.

import Foundation
import GraphEditing

/// Appends a session's steps to its journal file.
public final class SessionJournal {
    /// What a kernel knows when it starts: where journals go and who it is.
    public struct Settings: Sendable {
        public var store: JournalStore
        /// The notebook path (`JPY_SESSION_NAME`), if Jupyter passed one.
        public var notebook: String?
        public var workingDirectory: String
        /// From the connection file's name (`kernel-<id>.json`), when it has that form.
        public var kernelID: String?

        public init(store: JournalStore, notebook: String?, workingDirectory: String, kernelID: String?) {
            self.store = store
            self.notebook = notebook
            self.workingDirectory = workingDirectory
            self.kernelID = kernelID
        }

        /// The settings a kernel takes from its environment and connection file.
        public static func fromEnvironment(_ environment: [String: String], workingDirectory: String,
                                           connectionFile: String?) -> Settings {
            let root = JournalStore.defaultRoot(environment: environment, home: FileManager.default.homeDirectoryForCurrentUser)
            let notebook = environment["JPY_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            var kernelID: String?
            if let file = connectionFile {
                let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
                if stem.hasPrefix("kernel-") { kernelID = String(stem.dropFirst("kernel-".count)) }
            }
            return Settings(store: JournalStore(root: root), notebook: notebook, workingDirectory: workingDirectory,
                            kernelID: kernelID)
        }
    }

    public let place: JournalPlace
    private let header: JournalHeader
    private var writer: JournalWriter?
    /// The running cell's records, written by `flush` before its reply.
    private var pending: [JournalRecord] = []
    /// Journals a restore in the running cell closes once its copy is durable.
    private var pendingCloses: [(url: URL, validLength: Int, time: Date)] = []
    /// Set once writing failed: the journal is off for the rest of the session.
    public private(set) var failure: String?
    private var notice: String?

    public init(_ settings: Settings, started: Date) {
        let key = JournalStore.folderKey(notebook: settings.notebook, workingDirectory: settings.workingDirectory)
        let id = JournalStore.newID(started: started, kernelID: settings.kernelID)
        place = JournalPlace(store: settings.store, key: key, ownID: id)
        header = JournalHeader(id: id, notebook: settings.notebook, workingDirectory: settings.workingDirectory,
                               kernelID: settings.kernelID, started: started, producer: "graphsmith \(GraphsmithVersion.string)")
        notice = SessionJournal.restorableNotice(settings.store.list(key: key), ownID: id)
    }

    /// The journal file (it exists once the first step is recorded).
    public var url: URL { place.store.journalURL(key: place.key, id: place.ownID) }

    /// What the first reply tells the user about journals a dead kernel of this notebook left; once.
    public func takeStartNotice() -> String? {
        defer { notice = nil }
        return notice
    }

    /// Journals `restore` could bring back: open (never closed), with steps, not this kernel's,
    /// and not held by a kernel still running.
    static func restorable(_ listings: [JournalListing], ownID: String) -> [JournalListing] {
        listings.filter { $0.isOpen && $0.steps > 0 && $0.id != ownID && !$0.inUse }
    }

    static func restorableNotice(_ listings: [JournalListing], ownID: String) -> String? {
        let open = restorable(listings, ownID: ownID)
        guard let latest = open.last else { return nil }
        let others = open.count > 1 ? " (\(open.count - 1) older one(s) too; `journal list` shows them)" : ""
        return "A previous kernel of this notebook stopped without closing its journal \(latest.id): \(latest.steps) step(s)"
            + (latest.damage != nil ? ", the last one cut short" : "") + others
            + ". Run `restore` to bring that state back."
    }

    /// Records one step: its snapshot now (durable, and harmless if the record never follows:
    /// snapshots no journal names are collected), the record with the cell's others at `flush`.
    func record(_ command: String, graph: String?, time: Date, keep: SnapshotSource?) throws {
        guard failure == nil else { return }
        var snapshot: String?
        if let keep {
            let bytes: [UInt8]
            switch keep.content {
            case .bytes(let b): bytes = b
            case .file(let url):
                do { bytes = Array(try Data(contentsOf: url)) } catch {
                    throw JournalError.io(path: url.path, reason: "cannot read it for the snapshot: \((error as NSError).localizedDescription)")
                }
            }
            snapshot = try place.store.snapshots(key: place.key).put(bytes, ext: keep.ext)
        }
        pending.append(.step(command, graph: graph, time: time, snapshot: snapshot))
    }

    /// Copies a restored journal's steps into this one behind a restoring mark; once that is
    /// durable (`flush`), the old one is closed as restored, so no later kernel offers it
    /// again, and so are the journals it had itself copied, when a kill left them open.
    func recordRestore(_ plan: RestorePlan, time: Date) {
        guard failure == nil else { return }
        let steps = plan.contents.steps
        pending += [.restoring(from: plan.listing.id, count: steps.count, time: time)] + steps
        pendingCloses.append((plan.listing.url, plan.contents.validLength, time))
        for source in plan.contents.restoredSources {
            let url = place.store.journalURL(key: plan.listing.key, id: source)
            guard let old = try? JournalReader.read(url), old.closing == nil, !JournalStore.isInUse(url) else { continue }
            pendingCloses.append((url, old.validLength, time))
        }
    }

    /// Writes the running cell's records as one frame and fsyncs it; the cell's reply goes
    /// out after this returns. Then closes the journals a restore replaced.
    func flush() throws {
        defer { pending = []; pendingCloses = [] }
        guard failure == nil, !pending.isEmpty else { return }
        try open().append(pending)
        for close in pendingCloses {
            let old = try JournalWriter(appendingTo: close.url, validLength: close.validLength)
            try old.append(.closed("restored by \(place.ownID)", time: close.time))
            old.close()
        }
    }

    /// Marks the journal closed (clean shutdown or restart). Nothing happens for a session
    /// that never changed state.
    public func close(reason: String, time: Date) {
        guard let writer, failure == nil else { return }
        try? writer.append(.closed(reason, time: time))
        writer.close()
        self.writer = nil
    }

    /// Turns the journal off after a write failed, keeping the reason for the user.
    func disable(_ reason: String) {
        failure = reason
        pending = []
        pendingCloses = []
    }

    private func open() throws -> JournalWriter {
        if let writer { return writer }
        try place.store.makeFolder(key: place.key)
        let w = try JournalWriter(creating: url, header: header)
        writer = w
        return w
    }
}
