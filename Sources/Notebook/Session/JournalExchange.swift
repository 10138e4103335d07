// What a running command and the session journal tell each other.
//
// Commands stay unaware of files and fsync: a command that read or computed something
// restore must not redo says so here (`keep`), and during restore it finds the stored
// result here (`replaySnapshot`) instead of redoing the work. The interpreter fills and
// empties this around every command; the journal itself lives in `SessionJournal`.

import Foundation
import GraphEditing

/// Bytes a step wants kept as a snapshot: a file the command read, or bytes it made.
public struct SnapshotSource: Sendable, Equatable {
    /// Where the bytes are.
    public enum Content: Sendable, Equatable {
        /// A file read by the command (the model a `load` read): copied into the snapshot store.
        case file(URL)
        /// Bytes the command made (an external compiler's result), so restore need not run it again.
        case bytes([UInt8])
    }

    public var content: Content
    /// The snapshot's file extension (`onnx`); the store treats the bytes as opaque.
    public var ext: String

    public init(file: URL, ext: String) {
        self.content = .file(file)
        self.ext = ext
    }

    public init(bytes: [UInt8], ext: String) {
        self.content = .bytes(bytes)
        self.ext = ext
    }
}

/// Where this kernel's journal lives, for the commands that read journals (`restore`, `journal`).
public struct JournalPlace: Sendable {
    public var store: JournalStore
    /// This notebook's folder key.
    public var key: String
    /// This kernel's own journal id (its file may not exist yet: it is made on the first step).
    public var ownID: String
}

/// The journal side of one command run.
public struct JournalExchange: Sendable {
    /// During restore: the snapshot the step recorded, to use instead of redoing its work.
    public var replaySnapshot: [UInt8]?
    /// Set by a command: what the journal must keep so restore need not redo it.
    public var keep: SnapshotSource?
    /// Set by a command whose spec says it changes state when this run did not (`find`
    /// without `save=`, `hardware` listing): the step is not journaled.
    public var unchanged = false
    /// Set by `restore`: the journal to replay, which the interpreter runs with its command table.
    var restorePlan: RestorePlan?
    /// Nil when the session keeps no journal (`graphsmith run`, tests without one).
    public var place: JournalPlace?

    public init(place: JournalPlace? = nil) {
        self.place = place
    }

    /// Clears what one command left, before the next runs.
    mutating func reset() {
        replaySnapshot = nil
        keep = nil
        unchanged = false
        restorePlan = nil
    }
}

/// A journal `restore` read and checked, for the interpreter to replay.
struct RestorePlan: Sendable {
    var listing: JournalListing
    var contents: JournalContents
}
