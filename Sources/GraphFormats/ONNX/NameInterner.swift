/// Interning of the short strings a model repeats (value names, op types, attribute names):
/// each distinct byte sequence becomes one `String`, created (and UTF-8 validated) once and
/// shared by every later occurrence. A 2k-node graph names each value two or three times and
/// repeats a handful of op types, so this saves most string allocations while reading.
import Foundation
import GraphIR

/// Byte-keyed string table over one decoding pass's storage (entries remember where their
/// bytes sit, so lookups compare against the mapped file without building a `String`).
struct NameInterner {
    /// Longer strings (doc strings, long unique names) are not worth a table entry.
    static let maxLength = 256
    /// Give up probing past this many buckets and just build the string: bounds the cost
    /// even if names were crafted to collide.
    static let maxProbes = 32
    /// Open-addressed buckets: entry index + 1 in the low 32 bits (0 = empty), the upper 32
    /// bits of the hash above. Plain integers, so growing never touches the strings.
    private var buckets: [UInt64]
    private var mask: Int
    /// One record per distinct string, by id: where its bytes are, their hash, the string.
    /// (One array rather than one per field: fewer allocations for the small models that
    /// load in microseconds.)
    private struct Entry {
        var hash: UInt64
        var offset: Int
        var count: Int
        var string: String
    }
    private var entries: [Entry] = []
    private let seed = NameHash.processSeed
    /// True once an interned string's bytes were not valid UTF-8 (so were repaired): then
    /// equal ids are no longer the same thing as equal strings for every name.
    private(set) var hasRepairedNames = false

    /// Sized from the file: roughly one name per 64 bytes of small models, at most 8192
    /// buckets up front (it grows as needed).
    init(fileSize: Int) {
        var size = 64
        while size < 8192 && size * 32 < fileSize { size <<= 1 }
        buckets = [UInt64](repeating: 0, count: size)
        mask = size - 1
        entries.reserveCapacity(size / 2)
    }

    /// Number of distinct strings interned so far (ids are `0..<count`).
    var count: Int { entries.count }

    /// The string for bytes `r` of `base` (decoded as UTF-8 with repair, as `String(decoding:)`).
    @inline(__always)
    mutating func string(base: UnsafePointer<UInt8>, _ r: Range<Int>) -> String {
        var id: Int32 = 0
        return string(base: base, r, id: &id)
    }

    /// The string for bytes `r` of `base`, and in `id` its entry number: equal ids mean
    /// equal bytes. `id` is -1 for the empty string and for strings not kept in the table
    /// (too long, or past the probe limit), whose equality the id cannot tell.
    @inline(__always)
    mutating func string(base: UnsafePointer<UInt8>, _ r: Range<Int>, id: inout Int32) -> String {
        let n = r.count
        id = -1
        if n == 0 { return "" }
        let start = base + r.lowerBound
        if n > NameInterner.maxLength {
            return String(decoding: UnsafeBufferPointer(start: start, count: n), as: UTF8.self)
        }
        let h = NameHash.hash(UnsafeRawBufferPointer(start: start, count: n), seed: seed)
        let tag = h & 0xFFFF_FFFF_0000_0000
        var b = Int(truncatingIfNeeded: h) & mask
        var probes = 0
        while true {
            let e = buckets[b]
            if e == 0 { break }
            if e & 0xFFFF_FFFF_0000_0000 == tag {
                let i = Int(e & 0xFFFF_FFFF) - 1
                if entries[i].count == n && bytesEqual(base + entries[i].offset, start, n) {
                    id = Int32(truncatingIfNeeded: i)
                    return entries[i].string
                }
            }
            probes += 1
            if probes > NameInterner.maxProbes {
                return String(decoding: UnsafeBufferPointer(start: start, count: n), as: UTF8.self)
            }
            b = (b + 1) & mask
        }
        var s = String(decoding: UnsafeBufferPointer(start: start, count: n), as: UTF8.self)
        if !hasRepairedNames {
            // Invalid UTF-8 was replaced: distinct byte strings may now be equal strings.
            hasRepairedNames = s.withUTF8 { u in
                guard let p = u.baseAddress, u.count == n else { return true }
                return memcmp(p, start, n) != 0
            }
        }
        id = Int32(truncatingIfNeeded: entries.count)
        buckets[b] = tag | UInt64(entries.count + 1)
        entries.append(Entry(hash: h, offset: r.lowerBound, count: n, string: s))
        if entries.count * 2 > buckets.count { grow() }
        return s
    }

    private mutating func grow() {
        let size = buckets.count * 2
        var fresh = [UInt64](repeating: 0, count: size)
        let m = size - 1
        for i in entries.indices {
            let h = entries[i].hash
            var b = Int(truncatingIfNeeded: h) & m
            while fresh[b] != 0 { b = (b + 1) & m }
            fresh[b] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(i + 1)
        }
        buckets = fresh
        mask = m
    }
}

/// Whether the `n` bytes at `a` and at `b` are equal. Names up to 16 bytes (most of them) are
/// compared inline with two overlapping loads: calling `memcmp` cost more than the comparison.
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    if n >= 8 {
        if n > 16 { return memcmp(a, b, n) == 0 }
        return ra.loadUnaligned(as: UInt64.self) == rb.loadUnaligned(as: UInt64.self)
            && ra.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == rb.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    }
    if n >= 4 {
        return ra.loadUnaligned(as: UInt32.self) == rb.loadUnaligned(as: UInt32.self)
            && ra.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == rb.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
    }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
