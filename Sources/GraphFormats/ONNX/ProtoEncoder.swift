/// A protobuf wire-format encoder that never copies large payloads: small fields go into a
/// growing byte buffer, large byte ranges (tensor data) are kept as references to mapped
/// storage and only streamed to the file at the end.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GraphIR

/// A file opened for writing with plain POSIX calls (no Foundation buffering or atomic-write
/// temp files of its own: the writer does its own temp-and-rename).
final class FileSink {
    let path: String
    private var fd: Int32

    init(creating path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw ONNXError(file: path, message: "cannot create: \(String(cString: strerror(errno)))") }
    }

    /// Writes all of `bytes` (looping over partial writes and EINTR).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, min(left, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw ONNXError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            p += n
            left -= n
        }
    }

    /// Appends a slice. Large ranges of mapped files are copied file to file (`sendfile`, else
    /// `pread` through a reusable buffer): going through the page cache avoids one page fault
    /// per 4 KB of mapping, which dominates when saving hundreds of MB of weights.
    func write(_ slice: ByteSlice) throws {
        if slice.storage.isMappedFile && slice.count >= (1 << 20), try streamFromFile(slice) { return }
        try slice.withUnsafeBytes { try write($0) }
    }

    private func streamFromFile(_ slice: ByteSlice) throws -> Bool {
        guard let identity = slice.storage.fileIdentity else { return false }
        let src = open(slice.storage.origin, O_RDONLY)
        if src < 0 { return false }
        defer { _ = Glibc.close(src) }
        // The path may now name another file (e.g. the model was saved over itself since it
        // was mapped): only read by path when it is still the mapped inode.
        var st = stat()
        guard fstat(src, &st) == 0, UInt64(st.st_dev) == identity.device, UInt64(st.st_ino) == identity.inode,
              Int(st.st_size) >= slice.offset + slice.count else { return false }
        var done = 0
        // First choice: sendfile copies page cache to page cache inside the kernel, with no
        // trip through user memory. Where the kernel refuses (EINVAL, ENOSYS), copy by pread.
        var sourceOffset = off_t(slice.offset)
        while done < slice.count {
            let n = sendfile(fd, src, &sourceOffset, min(slice.count - done, 1 << 30))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        if done == slice.count { return true }
        let chunk = 8 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        while done < slice.count {
            let want = min(chunk, slice.count - done)
            let n = pread(src, buffer, want, off_t(slice.offset + done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                // The file changed under the mapping: finish from the mapping itself.
                try slice.subslice(offset: done, count: slice.count - done).withUnsafeBytes { try write($0) }
                return true
            }
            try write(UnsafeRawBufferPointer(start: buffer, count: n))
            done += n
        }
        return true
    }

    func close() throws {
        guard fd >= 0 else { return }
        let r = Glibc.close(fd)
        fd = -1
        if r != 0 { throw ONNXError(file: path, message: "close failed: \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }
}

/// An encoded message as a sequence of owned bytes and referenced slices.
struct ProtoBuffer {
    enum Chunk {
        case owned([UInt8])
        case slice(ByteSlice)
    }
    private(set) var chunks: [Chunk] = []
    private var current: [UInt8] = []
    private(set) var count = 0
    /// Slices at least this large are referenced instead of copied.
    static let referenceThreshold = 4096

    init() { current.reserveCapacity(256) }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        current.append(b)
        count += 1
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    @inline(__always)
    mutating func tag(_ field: Int, _ wt: UInt8) { varint(UInt64(field) << 3 | UInt64(wt)) }

    mutating func append(_ bytes: [UInt8]) {
        current.append(contentsOf: bytes)
        count += bytes.count
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        current.append(contentsOf: bytes)
        count += bytes.count
    }

    mutating func append(_ slice: ByteSlice) {
        if slice.count >= ProtoBuffer.referenceThreshold {
            flushCurrent()
            chunks.append(.slice(slice))
            count += slice.count
        } else {
            slice.withUnsafeBytes { append($0) }
        }
    }

    private mutating func flushCurrent() {
        if !current.isEmpty {
            chunks.append(.owned(current))
            current = []
            current.reserveCapacity(256)
        }
    }

    /// Appends another buffer's content (moving its chunks).
    mutating func append(_ other: ProtoBuffer) {
        if other.chunks.isEmpty {
            current.append(contentsOf: other.current)
        } else {
            flushCurrent()
            chunks.append(contentsOf: other.chunks)
            if !other.current.isEmpty { chunks.append(.owned(other.current)) }
        }
        count += other.count
    }

    // Field helpers (field number first).
    mutating func varintField(_ f: Int, _ v: UInt64) { tag(f, 0); varint(v) }
    mutating func int64Field(_ f: Int, _ v: Int64) { varintField(f, UInt64(bitPattern: v)) }
    mutating func fixed32Field(_ f: Int, _ v: UInt32) {
        tag(f, 5)
        Swift.withUnsafeBytes(of: v.littleEndian) { append($0) }
    }
    mutating func bytesField(_ f: Int, _ b: [UInt8]) { tag(f, 2); varint(UInt64(b.count)); append(b) }
    mutating func stringField(_ f: Int, _ s: String) {
        tag(f, 2)
        var str = s
        str.withUTF8 { u in
            varint(UInt64(u.count))
            append(UnsafeRawBufferPointer(u))
        }
    }
    /// Writes a string only when non-empty (proto3-style optional fields we treat as default).
    mutating func stringFieldIfSet(_ f: Int, _ s: String) { if !s.isEmpty { stringField(f, s) } }
    /// Writes a string when non-empty or when the file had it explicitly (field in `present`).
    mutating func stringField(_ f: Int, _ s: String, _ present: FieldNumbers) {
        if !s.isEmpty || present.contains(f) { stringField(f, s) }
    }
    mutating func sliceField(_ f: Int, _ s: ByteSlice) { tag(f, 2); varint(UInt64(s.count)); append(s) }
    mutating func messageField(_ f: Int, _ m: ProtoBuffer) { tag(f, 2); varint(UInt64(m.count)); append(m) }

    /// Streams everything to `sink`, writing large slices straight from their mapping.
    func write(to sink: FileSink) throws {
        var staging: [UInt8] = []
        staging.reserveCapacity(min(count, 1 << 20))
        func flush() throws {
            if staging.isEmpty { return }
            try staging.withUnsafeBytes { try sink.write($0) }
            staging.removeAll(keepingCapacity: true)
        }
        for c in chunks {
            switch c {
            case .owned(let b):
                if staging.count + b.count > (1 << 20) { try flush() }
                if b.count >= (1 << 20) { try b.withUnsafeBytes { try sink.write($0) } } else { staging.append(contentsOf: b) }
            case .slice(let s):
                try flush()
                try sink.write(s)
            }
        }
        if !current.isEmpty {
            if staging.count + current.count > (1 << 20) { try flush() }
            staging.append(contentsOf: current)
        }
        try flush()
    }

    /// All bytes in one array (tests, small models).
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for c in chunks {
            switch c {
            case .owned(let b): out.append(contentsOf: b)
            case .slice(let s): s.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        out.append(contentsOf: current)
        return out
    }
}
