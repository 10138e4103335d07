// Content-addressed snapshots: results a journal step must not recompute on restore.
//
// A step that read or computed something expensive or unrepeatable (a loaded model file,
// which may change or vanish; later a pass or plugin result) keeps those bytes here under
// their SHA-256, and its record names the snapshot. The bytes are opaque: the store does
// not know ONNX. A snapshot is written to a temporary file, fsynced and renamed into place
// (and the folder fsynced) before the record that names it is appended, so a record never
// names a snapshot that is not on disk. Equal contents are stored once.

import COpenSSL
import Foundation

/// The `snapshots/` folder of one notebook's journals.
public struct SnapshotStore: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// Stores `bytes` (once per content) and returns the snapshot's name, `<sha256>.<ext>`.
    public func put(_ bytes: [UInt8], ext: String) throws -> String {
        let name = SHA256.hex(bytes) + "." + SnapshotStore.cleanExtension(ext)
        let url = folder.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: url.path) { return name }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw JournalError.io(path: folder.path, reason: (error as NSError).localizedDescription)
        }
        let temporary = folder.appendingPathComponent(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try DurableFile.write(bytes, to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw JournalError.io(path: url.path, reason: reason)
        }
        try JournalWriter.syncFolder(folder)
        return name
    }

    /// The file of the snapshot `name`, checked to be a snapshot name (a journal is input:
    /// a crafted name must not reach outside the folder) and to exist.
    public func url(of name: String) throws -> URL {
        guard SnapshotStore.isSnapshotName(name) else {
            throw JournalError.io(path: folder.path, reason: "'\(name)' is not a snapshot name")
        }
        let url = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw JournalError.io(path: url.path, reason: "the snapshot is missing")
        }
        return url
    }

    /// Reads a snapshot back and checks its bytes against its name.
    public func read(_ name: String) throws -> [UInt8] {
        let url = try url(of: name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw JournalError.io(path: url.path, reason: "cannot read the snapshot")
        }
        let bytes = Array(data)
        guard name.hasPrefix(SHA256.hex(bytes)) else {
            throw JournalError.io(path: url.path, reason: "the snapshot's bytes do not match its SHA-256 (it was changed or damaged)")
        }
        return bytes
    }

    /// Snapshot file names in the folder.
    public func names() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter(SnapshotStore.isSnapshotName)
    }

    /// Deletes every snapshot no name in `kept` refers to, and the temporary files of writers
    /// that died mid-write; returns how many snapshots went.
    @discardableResult
    public func removeAll(except kept: Set<String>) -> Int {
        var removed = 0
        for name in names() where !kept.contains(name) {
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed += 1 }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            guard let pid = SnapshotStore.writerOfTemporary(name), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        return removed
    }

    /// The process id in a temporary snapshot's name (`.<name>.<pid>.tmp`).
    static func writerOfTemporary(_ name: String) -> pid_t? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropLast(4).split(separator: ".")
        return parts.last.flatMap { pid_t(String($0)) }
    }

    static func isSnapshotName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              !parts[1].isEmpty, parts[1].count <= 16, parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return false
        }
        return true
    }

    static func cleanExtension(_ ext: String) -> String {
        let kept = String(ext.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(16))
        return kept.isEmpty ? "bin" : kept
    }
}

/// Writes a whole file and fsyncs it.
enum DurableFile {
    static func write(_ bytes: [UInt8], to url: URL) throws {
        let handle: FileHandle
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw JournalError.io(path: url.path, reason: "cannot create the file")
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.write(contentsOf: Data(bytes))
            try handle.synchronize()
        } catch {
            throw JournalError.io(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// SHA-256 through OpenSSL (fast in debug builds too; models are megabytes to gigabytes).
public enum SHA256 {
    public static func hex<C: ContiguousBytes>(_ bytes: C) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
        }
        let hexDigits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
