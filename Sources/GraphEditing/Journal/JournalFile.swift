// Writing and reading one journal file.
//
// `JournalWriter` appends frames and makes each durable with fsync before it returns, so a
// caller that acknowledges a command only after `append` knows the record survives a kill
// or a power loss. `JournalReader` reads a file back: the header, then every complete
// record up to the first torn or corrupt frame, which it reports instead of failing.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a journal stops being readable, and why.
public struct JournalDamage: Sendable, Equatable, CustomStringConvertible {
    /// The byte offset of the first bad frame; everything before it was read.
    public var offset: Int
    /// Bytes from there to the end of the file, which restore ignores.
    public var ignoredBytes: Int
    public var reason: String

    public var description: String {
        "\(ignoredBytes) byte(s) at offset \(offset) ignored: \(reason)"
    }
}

/// What a journal file holds.
public struct JournalContents: Sendable {
    public var header: JournalHeader
    /// Every complete record, in order.
    public var records: [JournalRecord]
    /// Set when the file ends in a torn or corrupt frame.
    public var damage: JournalDamage?
    /// The length of the readable part: where the next record goes after cutting the damage off.
    public var validLength: Int

    /// The step records (what restore replays).
    public var steps: [JournalRecord] { records.filter { $0.kind == .step } }
    /// The close mark, if the kernel shut down cleanly or the journal was restored elsewhere.
    public var closing: JournalRecord? { records.last { $0.kind == .closed } }

    /// The journals this one copied with `restore`.
    public var restoredSources: [String] { records.compactMap { $0.kind == .restoring ? $0.source : nil } }
}

/// Reads journal files.
public enum JournalReader {
    /// Reads the journal at `url`.
    public static func read(_ url: URL) throws -> JournalContents {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw JournalError.io(path: url.path, reason: (error as NSError).localizedDescription)
        }
        return try parse(Array(data), path: url.path)
    }

    /// Parses journal bytes; `path` only names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> JournalContents {
        let magic = JournalFormat.magic
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { throw JournalError.notAJournal(path: path) }
        let header: JournalHeader
        var offset: Int
        switch JournalFraming.read(bytes, at: magic.count) {
        case .frame(let payload, let next):
            // The format number first, so a newer file whose header has other fields is refused by its version.
            struct Version: Decodable { var format: Int }
            guard let version = try? JSONDecoder().decode(Version.self, from: Data(bytes[payload])) else {
                throw JournalError.damagedHeader(path: path, reason: "no format number")
            }
            if version.format > JournalFormat.version {
                throw JournalError.newerFormat(path: path, found: version.format, supported: JournalFormat.version)
            }
            do { header = try JSONDecoder().decode(JournalHeader.self, from: Data(bytes[payload])) } catch {
                throw JournalError.damagedHeader(path: path, reason: "\(error)")
            }
            offset = next
        case .end: throw JournalError.damagedHeader(path: path, reason: "the file ends before the header")
        case .truncated: throw JournalError.damagedHeader(path: path, reason: "the header is cut short")
        case .badChecksum: throw JournalError.damagedHeader(path: path, reason: "checksum mismatch")
        case .badLength(let n): throw JournalError.damagedHeader(path: path, reason: "impossible length \(n)")
        }
        var records: [JournalRecord] = []
        var damage: JournalDamage?
        let decoder = JSONDecoder()
        reading: while true {
            let problem: String
            switch JournalFraming.read(bytes, at: offset) {
            case .end: break reading
            case .frame(let payload, let next):
                if let group = try? decoder.decode([JournalRecord].self, from: Data(bytes[payload])) {
                    records += group
                    offset = next
                    continue reading
                }
                problem = "a record that does not decode"
            case .truncated(let needed, let available):
                problem = "the last record is cut short (\(available) of \(needed) bytes), as a kill during a write leaves it"
            case .badChecksum: problem = "a record whose checksum does not match"
            case .badLength(let n): problem = "a record with an impossible length \(n)"
            }
            damage = JournalDamage(offset: offset, ignoredBytes: bytes.count - offset, reason: problem)
            break reading
        }
        return JournalContents(header: header, records: records, damage: damage, validLength: offset)
    }
}

/// Appends records to one journal file, each group made durable before `append` returns.
///
/// A class because it owns a file descriptor; one per journal, owned by whoever writes it.
public final class JournalWriter {
    public let url: URL
    private var fd: Int32

    /// Creates a new journal at `url` (it must not exist) and writes its header durably:
    /// the file, then its folder entry.
    public init(creating url: URL, header: JournalHeader) throws {
        self.url = url
        let bytes = JournalFormat.magic + (try JournalFraming.frame(header))
        fd = try JournalWriter.open(url, O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
        // Held while this process lives (the kernel dies, the lock goes): other kernels of the
        // notebook tell a running kernel's journal from a dead one's by it.
        _ = flock(fd, LOCK_EX | LOCK_NB)
        do {
            try writeAll(bytes)
            try sync()
            try JournalWriter.syncFolder(url.deletingLastPathComponent())
        } catch {
            posixClose(fd)
            fd = -1
            throw error
        }
    }

    /// Opens an existing journal to append to it, first cutting off a damaged tail at
    /// `validLength` so the next record follows the last complete one.
    public init(appendingTo url: URL, validLength: Int) throws {
        self.url = url
        fd = try JournalWriter.open(url, O_WRONLY | O_APPEND)
        if ftruncate(fd, off_t(validLength)) != 0 {
            let reason = String(cString: strerror(errno))
            posixClose(fd)
            fd = -1
            throw JournalError.io(path: url.path, reason: reason)
        }
    }

    deinit { if fd >= 0 { posixClose(fd) } }

    /// Appends `record` and returns once it is on disk (fsync).
    public func append(_ record: JournalRecord) throws {
        try append([record])
    }

    /// Appends records as one frame, so a reader sees all of them or none (a cell's steps, a
    /// restore's copy), and returns once it is on disk (fsync).
    public func append(_ records: [JournalRecord]) throws {
        guard !records.isEmpty else { return }
        try writeAll(try JournalFraming.frame(records))
        try sync()
    }

    /// Closes the file; later appends fail.
    public func close() {
        if fd >= 0 { posixClose(fd) }
        fd = -1
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw JournalError.io(path: url.path, reason: "the journal is closed") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + done }, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw JournalError.io(path: url.path, reason: String(cString: strerror(errno)))
            }
            done += n
        }
    }

    private func sync() throws {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw JournalError.io(path: url.path, reason: "fsync: " + String(cString: strerror(errno)))
        }
    }

    private static func open(_ url: URL, _ flags: Int32) throws -> Int32 {
        let fd = posixOpen(url.path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError.io(path: url.path, reason: String(cString: strerror(errno))) }
        return fd
    }

    /// Makes a new folder entry durable (a created or renamed file survives a power loss).
    static func syncFolder(_ folder: URL) throws {
        let fd = posixOpen(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw JournalError.io(path: folder.path, reason: String(cString: strerror(errno))) }
        defer { posixClose(fd) }
        _ = fsync(fd)
    }
}

/// Whether a live process holds the journal at `url` (its writer's lock).
public func journalIsLocked(_ url: URL) -> Bool {
    let fd = posixOpen(url.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { posixClose(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) == 0 {
        _ = flock(fd, LOCK_UN)
        return false
    }
    return errno == EWOULDBLOCK
}

/// The C library's close and open, named apart from `JournalWriter.close()` and `open`.
private func posixClose(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    #if canImport(Glibc)
    return Glibc.open(path, flags, mode)
    #else
    return Darwin.open(path, flags, mode)
    #endif
}
