// Where journals live, and the listing and deleting of old ones.
//
// The state folder is `$GRAPHSMITH_STATE_DIR`, else `$XDG_STATE_HOME/graphsmith`, else
// `~/.local/state/graphsmith`. Each notebook has a folder `journals/<key>/`, the key made
// from the notebook path Jupyter passes (`JPY_SESSION_NAME`) or, without one, from the
// working directory, so a new kernel of the same notebook finds the journals of the
// kernels before it. A folder holds one `<id>.gsj` file per kernel that changed state
// and the `snapshots/` those journals name.

import Foundation

/// One journal as `journal list` shows it.
public struct JournalListing: Sendable {
    public var id: String
    /// The notebook folder's key.
    public var key: String
    public var url: URL
    /// Nil when the file cannot be read; `problem` says why.
    public var header: JournalHeader?
    public var steps: Int
    /// The close mark's reason, nil for a kernel that died without closing it.
    public var closedReason: String?
    public var size: Int
    public var damage: JournalDamage?
    public var problem: String?
    /// A running kernel holds it (it is being written now).
    public var inUse: Bool
    /// The journals it copied with `restore`.
    public var restoredSources: [String] = []

    /// True for a journal its kernel never closed (killed, crashed, power lost, or still running: see `inUse`).
    public var isOpen: Bool { problem == nil && closedReason == nil }
}

/// The journals under one state folder.
public struct JournalStore: Sendable {
    public static let fileExtension = "gsj"
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// The state folder the environment names (see the file comment for the order).
    public static func defaultRoot(environment: [String: String], home: URL) -> URL {
        if let dir = environment["GRAPHSMITH_STATE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return URL(fileURLWithPath: xdg).appendingPathComponent("graphsmith") }
        return home.appendingPathComponent(".local/state/graphsmith")
    }

    /// The folder key of a notebook (or, without one, of a working directory): a readable
    /// stem plus a hash of the whole path, so equal file names in different folders differ.
    public static func folderKey(notebook: String?, workingDirectory: String) -> String {
        let identity = notebook.map { "notebook:" + $0 } ?? "cwd:" + workingDirectory
        let base = notebook.map { ($0 as NSString).lastPathComponent } ?? (workingDirectory as NSString).lastPathComponent
        let stem = String((base as NSString).deletingPathExtension.unicodeScalars.map { c -> Character in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_") ? Character(c) : "_"
        }.prefix(40))
        return (stem.isEmpty ? "session" : stem) + "-" + String(SHA256.hex(Array(identity.utf8)).prefix(16))
    }

    public var journalsFolder: URL { root.appendingPathComponent("journals") }

    public func folder(key: String) -> URL { journalsFolder.appendingPathComponent(key) }

    public func journalURL(key: String, id: String) -> URL {
        folder(key: key).appendingPathComponent(id + "." + JournalStore.fileExtension)
    }

    public func snapshots(key: String) -> SnapshotStore {
        SnapshotStore(folder: folder(key: key).appendingPathComponent("snapshots"))
    }

    /// Creates the notebook's folder (and the state folder above it).
    public func makeFolder(key: String) throws {
        do {
            try FileManager.default.createDirectory(at: folder(key: key), withIntermediateDirectories: true)
        } catch {
            throw JournalError.io(path: folder(key: key).path, reason: (error as NSError).localizedDescription)
        }
    }

    /// True while a running kernel writes the journal at `url`: it is not a dead kernel's,
    /// and it must not be deleted or restored.
    public static func isInUse(_ url: URL) -> Bool { journalIsLocked(url) }

    /// The journals of one notebook folder, oldest first (by start time, to the sub-second).
    public func list(key: String) -> [JournalListing] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(key: key).path)) ?? []
        return names.filter { $0.hasSuffix("." + JournalStore.fileExtension) }.map { name in
            listing(key: key, id: String(name.dropLast(JournalStore.fileExtension.count + 1)))
        }.sorted(by: JournalStore.startOrder)
    }

    static func startOrder(_ a: JournalListing, _ b: JournalListing) -> Bool {
        (a.header?.started ?? .distantPast, a.id) < (b.header?.started ?? .distantPast, b.id)
    }

    /// Every journal of every notebook, oldest first within a notebook.
    public func listAll() -> [JournalListing] {
        let keys = ((try? FileManager.default.contentsOfDirectory(atPath: journalsFolder.path)) ?? []).sorted()
        return keys.flatMap { list(key: $0) }.sorted(by: JournalStore.startOrder)
    }

    /// One journal's facts; an unreadable file is listed with its problem.
    public func listing(key: String, id: String) -> JournalListing {
        let url = journalURL(key: key, id: id)
        let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
        var listing = JournalListing(id: id, key: key, url: url, header: nil, steps: 0, closedReason: nil, size: size,
                                     damage: nil, problem: nil, inUse: JournalStore.isInUse(url))
        do {
            let contents = try JournalReader.read(url)
            listing.header = contents.header
            listing.steps = contents.steps.count
            listing.closedReason = contents.closing?.reason
            listing.damage = contents.damage
            listing.restoredSources = contents.restoredSources
        } catch {
            listing.problem = "\(error)"
        }
        return listing
    }

    /// Deletes the journal `id` (in any notebook folder) and the snapshots no remaining
    /// journal of that folder names. Returns the deleted listing, or nil if there is none.
    @discardableResult
    public func delete(id: String) throws -> JournalListing? {
        guard let found = listAll().first(where: { $0.id == id }) else { return nil }
        do { try FileManager.default.removeItem(at: found.url) } catch {
            throw JournalError.io(path: found.url.path, reason: (error as NSError).localizedDescription)
        }
        collectSnapshots(key: found.key)
        return found
    }

    /// Removes snapshots no journal of the folder names (a journal that cannot be read keeps
    /// every snapshot: it might name any of them).
    public func collectSnapshots(key: String) {
        var kept = Set<String>()
        for listing in list(key: key) {
            guard let contents = try? JournalReader.read(listing.url) else { return }
            for r in contents.records { if let s = r.snapshot { kept.insert(s) } }
        }
        snapshots(key: key).removeAll(except: kept)
    }

    /// A new journal id: the start time (sortable), the kernel id's first characters when
    /// known, and random ones (a restarted kernel keeps its kernel id).
    public static func newID(started: Date, kernelID: String?) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let kernel = kernelID.map { String($0.lowercased().filter { $0.isHexDigit }.prefix(8)) } ?? ""
        let random = String(UUID().uuidString.lowercased().filter { $0.isHexDigit }.prefix(kernel.isEmpty ? 8 : 4))
        return [f.string(from: started), kernel, random].filter { !$0.isEmpty }.joined(separator: "-")
    }
}
