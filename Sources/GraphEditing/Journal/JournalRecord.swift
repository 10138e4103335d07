// The records of a session journal and their on-disk framing.
//
// A journal file is the magic line `GRAPHSMITH-JOURNAL\n`, then frames. Every frame is
// `length (u32 LE) | CRC-32 of the payload (u32 LE) | payload`. The first frame is the
// header, one JSON object (its `format` says which version wrote the file; this framing of
// the header never changes, so any version can read the number and refuse a newer file).
// Every later frame is a JSON array of records written together, all or none: the steps of
// one cell (state-changing commands that succeeded), a restore's copy, or the close mark.
// A frame cut short or with a wrong checksum ends the readable part: everything before it
// is intact, because frames are only ever appended.

import Foundation

/// The journal format this build writes and the newest it reads.
public enum JournalFormat {
    public static let version = 1
    /// The file's first bytes; anything else is not a journal.
    public static let magic: [UInt8] = Array("GRAPHSMITH-JOURNAL\n".utf8)
    /// Bytes before each payload: its length and its CRC-32.
    public static let frameOverhead = 8
    /// A payload larger than this is a damaged length field, not a record (a command line
    /// is at most a few megabytes; snapshots live in their own files).
    public static let maxPayload = 256 << 20
}

/// Who wrote a journal and when it began: the first frame of the file.
public struct JournalHeader: Codable, Sendable, Equatable {
    /// The format version that wrote the file.
    public var format: Int
    /// The journal's id (its file name without extension): start time plus kernel id.
    public var id: String
    /// The notebook the kernel served (`JPY_SESSION_NAME`), when Jupyter said.
    public var notebook: String?
    /// The kernel's working directory, where relative paths in commands point.
    public var workingDirectory: String
    /// The kernel id from the connection file name, when known.
    public var kernelID: String?
    public var started: Date
    /// The program that wrote it (`graphsmith 0.1.0`), for people reading `journal list`.
    public var producer: String

    public init(format: Int = JournalFormat.version, id: String, notebook: String?, workingDirectory: String,
                kernelID: String?, started: Date, producer: String) {
        self.format = format
        self.id = id
        self.notebook = notebook
        self.workingDirectory = workingDirectory
        self.kernelID = kernelID
        self.started = started
        self.producer = producer
    }
}

/// One record after the header.
public struct JournalRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A state-changing command that succeeded, in the order it ran.
        case step
        /// The kernel shut down or restarted cleanly, or another kernel restored this journal.
        case closed
        /// The next `count` steps are a copy of journal `source`, made by `restore` (in the
        /// same frame, so the copy is whole or absent).
        case restoring
    }

    public var kind: Kind
    /// When the command ran (or the journal was closed): replay stamps history with it.
    public var time: Date
    /// A step's canonical command text, one logical line (`load m.onnx as m`, `x = 3`).
    public var command: String?
    /// The graph that was current when the step ran, for listings and checks.
    public var graph: String?
    /// The SHA-256 of the content-addressed snapshot holding what the step computed or read
    /// (a loaded file's bytes, a pass result): replay uses it instead of redoing the work.
    public var snapshot: String?
    /// Why a journal was closed (`shutdown`, `restart`, `restored by ID`).
    public var reason: String?
    /// A restoring mark's source journal id.
    public var source: String?
    /// A restoring mark's number of copied steps that follow it.
    public var count: Int?

    /// A step record.
    public static func step(_ command: String, graph: String?, time: Date, snapshot: String? = nil) -> JournalRecord {
        JournalRecord(kind: .step, time: time, command: command, graph: graph, snapshot: snapshot)
    }

    /// The close mark.
    public static func closed(_ reason: String, time: Date) -> JournalRecord {
        JournalRecord(kind: .closed, time: time, reason: reason)
    }

    /// The mark before the steps `restore` copies from journal `source`.
    public static func restoring(from source: String, count: Int, time: Date) -> JournalRecord {
        JournalRecord(kind: .restoring, time: time, source: source, count: count)
    }

    init(kind: Kind, time: Date, command: String? = nil, graph: String? = nil, snapshot: String? = nil, reason: String? = nil,
         source: String? = nil, count: Int? = nil) {
        self.kind = kind
        self.time = time
        self.command = command
        self.graph = graph
        self.snapshot = snapshot
        self.reason = reason
        self.source = source
        self.count = count
    }
}

/// Why a journal cannot be read at all (a damaged tail is not an error: see `JournalContents.damage`).
public enum JournalError: Error, Equatable, CustomStringConvertible {
    case notAJournal(path: String)
    case damagedHeader(path: String, reason: String)
    case newerFormat(path: String, found: Int, supported: Int)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAJournal(let path): return "'\(path)' is not a Graphsmith journal (it does not start with GRAPHSMITH-JOURNAL)"
        case .damagedHeader(let path, let reason): return "the journal '\(path)' has a damaged header (\(reason)); nothing in it can be restored"
        case .newerFormat(let path, let found, let supported):
            return "the journal '\(path)' was written in format \(found) by a newer Graphsmith; this one reads format \(supported) "
                + "and older. Restore it with that newer version"
        case .io(let path, let reason): return "cannot use the journal '\(path)': \(reason)"
        }
    }
}

/// Frames and unframes journal payloads.
public enum JournalFraming {
    /// `payload` as one frame: length, CRC-32, bytes.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + JournalFormat.frameOverhead)
        appendLE(UInt32(payload.count), to: &out)
        appendLE(CRC32.checksum(payload), to: &out)
        out.append(contentsOf: payload)
        return out
    }

    /// A record or header encoded as a frame.
    public static func frame<T: Encodable>(_ value: T) throws -> [UInt8] {
        frame(Array(try encoder.encode(value)))
    }

    /// The outcome of reading one frame at an offset.
    public enum Read: Equatable {
        case frame(payload: Range<Int>, next: Int)
        case end
        case truncated(needed: Int, available: Int)
        case badChecksum
        case badLength(Int)
    }

    /// Reads the frame starting at `offset` of `bytes`.
    public static func read(_ bytes: [UInt8], at offset: Int) -> Read {
        let available = bytes.count - offset
        if available == 0 { return .end }
        if available < JournalFormat.frameOverhead { return .truncated(needed: JournalFormat.frameOverhead, available: available) }
        let length = Int(readLE(bytes, offset))
        if length > JournalFormat.maxPayload { return .badLength(length) }
        let crc = readLE(bytes, offset + 4)
        let start = offset + JournalFormat.frameOverhead
        if bytes.count - start < length { return .truncated(needed: JournalFormat.frameOverhead + length, available: available) }
        let range = start..<(start + length)
        if CRC32.checksum(bytes[range]) != crc { return .badChecksum }
        return .frame(payload: range, next: range.upperBound)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    private static func appendLE(_ v: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    private static func readLE(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

/// CRC-32 (IEEE 802.3, as zlib's `crc32`), to tell a complete record from a torn or corrupt one.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
