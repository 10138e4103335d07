/// Immutable byte storage shared by every copy of a graph: a memory-mapped file (model or
/// external data) or an owned heap buffer, plus `ByteSlice`, a cheap window into it. Tensor
/// data points here instead of being copied.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from mapping a file.
public struct FileMappingError: Error, CustomStringConvertible, Sendable {
    /// The file that could not be mapped.
    public var path: String
    /// What went wrong (from errno).
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Which file a mapping came from (device + inode), independent of its path.
public struct FileIdentity: Hashable, Sendable {
    /// Device id.
    public var device: UInt64
    /// Inode number.
    public var inode: UInt64
    /// Creates an identity.
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

/// Read-only bytes owned by one object; freed (or unmapped) when the last slice goes away.
///
/// A final class so that graph copies share one mapping; its contents never change after
/// creation, which is what makes sharing it across versions and threads safe.
public final class ByteStorage: @unchecked Sendable {
    private enum Ownership { case mapped, heap, anonymous, none }
    /// Start of the bytes (nil only when `count == 0`).
    public let baseAddress: UnsafeRawPointer?
    /// Number of bytes.
    public let count: Int
    /// Where the bytes came from (a file path, or a label), for error messages.
    public let origin: String
    private let ownership: Ownership
    /// What keeps borrowed bytes alive (nil unless `init(borrowing:count:owner:)`).
    private let owner: AnyObject?
    /// Device and inode of the file the bytes came from (nil for storage built in memory):
    /// lets a writer check that the file now at `origin` is still the one mapped before
    /// reading it by path.
    public let fileIdentity: FileIdentity?

    private init(base: UnsafeRawPointer?, count: Int, origin: String, ownership: Ownership,
                 fileIdentity: FileIdentity? = nil, owner: AnyObject? = nil) {
        self.baseAddress = base
        self.count = count
        self.origin = origin
        self.ownership = ownership
        self.fileIdentity = fileIdentity
        self.owner = owner
    }

    /// Bytes that `owner` holds and keeps alive, taken as they are (no copy): a value computed
    /// elsewhere (a folded constant from the interpreter) becomes a tensor without being
    /// written twice. The bytes must never change afterwards.
    public convenience init(borrowing base: UnsafeRawPointer, count: Int, owner: AnyObject, origin: String = "<memory>") {
        self.init(base: count > 0 ? base : nil, count: max(count, 0), origin: origin, ownership: .none, owner: owner)
    }

    /// Copies `bytes` into a new heap buffer (for tensors built in memory).
    public convenience init(copying bytes: [UInt8], origin: String = "<memory>") {
        self.init(copyingRaw: bytes.withUnsafeBytes { $0 }, origin: origin)
    }

    /// A new heap buffer of `count` bytes that `initialize` fills once, before anyone can read
    /// it (computed weights written in place, with no intermediate array).
    public convenience init(count: Int, origin: String = "<memory>", initializingWith initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        guard count > 0 else {
            self.init(base: nil, count: 0, origin: origin, ownership: .none)
            return
        }
        let (buffer, ownership) = ByteStorage.allocateBuffer(count)
        do { try initialize(UnsafeMutableRawBufferPointer(start: buffer, count: count)) } catch {
            ByteStorage.free(buffer, count: count, ownership)
            throw error
        }
        self.init(base: UnsafeRawPointer(buffer), count: count, origin: origin, ownership: ownership)
    }

    private static func allocateBuffer(_ count: Int) -> (UnsafeMutableRawPointer, Ownership) {
        if let p = AnonymousPages.map(count) { return (p, .anonymous) }
        return (UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16), .heap)
    }

    private static func free(_ p: UnsafeMutableRawPointer, count: Int, _ ownership: Ownership) {
        switch ownership {
        case .mapped: munmap(p, count)
        case .anonymous: AnonymousPages.unmap(p, count: count)
        case .heap: p.deallocate()
        case .none: break
        }
    }

    /// Copies raw bytes into a new heap buffer (a tensor built from a typed array, in one copy).
    public convenience init(copyingRaw src: UnsafeRawBufferPointer, origin: String = "<memory>") {
        guard let s = src.baseAddress, src.count > 0 else {
            self.init(base: nil, count: 0, origin: origin, ownership: .none)
            return
        }
        let (buffer, ownership) = ByteStorage.allocateBuffer(src.count)
        buffer.copyMemory(from: s, byteCount: src.count)
        self.init(base: UnsafeRawPointer(buffer), count: src.count, origin: origin, ownership: ownership)
    }

    /// Files up to this size are read into memory instead of mapped: for a few pages, one
    /// `read` costs less than setting up, faulting in and tearing down a mapping.
    public static let smallFileLimit = 64 * 1024

    /// Maps a whole file read-only (files up to `smallFileLimit` bytes are read into memory
    /// instead). The mapping lives as long as this object: it is the reason a
    /// multi-gigabyte model costs almost no resident memory until bytes are read.
    public static func mapFile(atPath path: String) throws -> ByteStorage {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw FileMappingError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileMappingError(path: path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FileMappingError(path: path, reason: "is a directory") }
        let size = Int(st.st_size)
        if size == 0 { return ByteStorage(base: nil, count: 0, origin: path, ownership: .none) }
        let identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        if size <= smallFileLimit, let heap = readSmall(fd, size: size, path: path, identity: identity) { return heap }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw FileMappingError(path: path, reason: String(cString: strerror(errno)))
        }
        return ByteStorage(base: UnsafeRawPointer(p), count: size, origin: path, ownership: .mapped,
                           fileIdentity: identity)
    }

    /// Reads `size` bytes from `fd` into a heap buffer; nil when the file turns out shorter
    /// (it is then mapped, which reports the problem as before).
    private static func readSmall(_ fd: Int32, size: Int, path: String, identity: FileIdentity) -> ByteStorage? {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        var done = 0
        while done < size {
            let n = read(fd, buffer + done, size - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        guard done == size else {
            buffer.deallocate()
            return nil
        }
        return ByteStorage(base: UnsafeRawPointer(buffer), count: size, origin: path, ownership: .heap,
                           fileIdentity: identity)
    }

    deinit {
        guard let base = baseAddress else { return }
        ByteStorage.free(UnsafeMutableRawPointer(mutating: base), count: count, ownership)
    }

    /// True when the bytes are a mapping of the file at `origin` (writers can then copy
    /// ranges file-to-file in the kernel instead of faulting the pages in).
    public var isMappedFile: Bool { ownership == .mapped }

    /// The whole storage as a slice.
    public var slice: ByteSlice { ByteSlice(storage: self, offset: 0, count: count) }
}

/// A window (offset + count) into a `ByteStorage`; copying it copies no bytes.
public struct ByteSlice: Sendable, Equatable {
    /// The shared storage.
    public let storage: ByteStorage
    /// Start within the storage.
    public let offset: Int
    /// Length in bytes.
    public let count: Int

    /// Creates a window; the caller guarantees `offset + count <= storage.count` (checked, and
    /// clamped so an inconsistent caller gets an empty slice rather than a wild read).
    public init(storage: ByteStorage, offset: Int, count: Int) {
        self.storage = storage
        if offset < 0 || count < 0 || offset > storage.count || count > storage.count - offset {
            self.offset = 0
            self.count = 0
        } else {
            self.offset = offset
            self.count = count
        }
    }

    /// A slice owning a fresh copy of `bytes`.
    public init(copying bytes: [UInt8]) {
        self.init(storage: ByteStorage(copying: bytes), offset: 0, count: bytes.count)
    }

    /// A slice owning a fresh copy of raw bytes.
    public init(copyingRaw bytes: UnsafeRawBufferPointer) {
        self.init(storage: ByteStorage(copyingRaw: bytes), offset: 0, count: bytes.count)
    }

    /// An empty slice.
    public static var empty: ByteSlice { ByteSlice(copying: []) }

    /// Calls `body` with the bytes in place (no copy).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let base = storage.baseAddress, count > 0 else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: base + offset, count: count))
    }

    /// A sub-window relative to this slice (clamped to this slice).
    public func subslice(offset relative: Int, count n: Int) -> ByteSlice {
        guard relative >= 0, n >= 0, relative <= count, n <= count - relative else {
            return ByteSlice(storage: storage, offset: offset, count: 0)
        }
        return ByteSlice(storage: storage, offset: offset + relative, count: n)
    }

    /// Copies the bytes out.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Byte-wise equality (same storage and window compares in O(1)).
    public static func == (lhs: ByteSlice, rhs: ByteSlice) -> Bool {
        if lhs.count != rhs.count { return false }
        if lhs.storage === rhs.storage && lhs.offset == rhs.offset { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in
                guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == b.count }
                return memcmp(pa, pb, a.count) == 0
            }
        }
    }
}

/// Large buffers as fresh anonymous mappings, marked for transparent huge pages: a folded or
/// rescaled weight, or a big activation block, of tens of MB is written once, and faulting it
/// in 4 KB pages cost more than writing it (a 2 MB page is one fault); the pages are zero
/// already, so a zeroed block needs no memset. The one place both the graph's tensors and the
/// interpreter's blocks get such memory.
public enum AnonymousPages {
    /// Buffers from this size on are mapped.
    public static let threshold = 4 << 20

    /// A mapping of `count` zero bytes (page aligned), or nil below `threshold`, off Linux, or
    /// when the kernel refuses (callers then allocate as usual).
    public static func map(_ count: Int) -> UnsafeMutableRawPointer? {
        #if os(Linux)
        guard count >= threshold, let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != MAP_FAILED else { return nil }
        _ = madvise(p, count, 14)  // MADV_HUGEPAGE: a hint; without transparent huge pages it does nothing
        return p
        #else
        return nil
        #endif
    }

    /// Releases a mapping `map(count)` returned.
    public static func unmap(_ p: UnsafeMutableRawPointer, count: Int) {
        munmap(p, count)
    }
}
