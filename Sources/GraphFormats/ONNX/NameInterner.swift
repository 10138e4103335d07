/// Interning of the short strings a model repeats (value names, op types, attribute names):
/// each distinct byte sequence becomes one `String`, created (and UTF-8 validated) once and
/// shared by every later occurrence. A 2k-node graph names each value two or three times and
/// repeats a handful of op types, so this saves most string allocations while reading.
import Foundation
import GraphIR

/// Byte-keyed string table over one decoding pass's storage (entries remember where their
/// bytes sit, so lookups compare against the mapped file without building a `String`).
struct NameInterner {
    private struct Entry {
        var hash: UInt64 = 0
        var offset: Int = 0
        var count: Int = -1  // -1: empty bucket
        var string: String = ""
    }
    /// Longer strings (doc strings, long unique names) are not worth a table entry.
    static let maxLength = 256
    /// Give up probing past this many buckets and just build the string: bounds the cost
    /// even if names were crafted to collide.
    static let maxProbes = 32
    private var entries: [Entry]
    private var used = 0
    private let seed = NameHash.processSeed

    /// Sized from the file: roughly one name per 64 bytes of small models, at most 4096
    /// buckets up front (it grows as needed).
    init(fileSize: Int) {
        var size = 64
        while size < 4096 && size * 64 < fileSize { size <<= 1 }
        entries = [Entry](repeating: Entry(), count: size)
    }

    /// The string for bytes `r` of `base` (decoded as UTF-8 with repair, as `String(decoding:)`).
    @inline(__always)
    mutating func string(base: UnsafePointer<UInt8>, _ r: Range<Int>) -> String {
        let n = r.count
        if n == 0 { return "" }
        let start = base + r.lowerBound
        if n > NameInterner.maxLength {
            return String(decoding: UnsafeBufferPointer(start: start, count: n), as: UTF8.self)
        }
        let h = NameHash.hash(UnsafeRawBufferPointer(start: start, count: n), seed: seed)
        let mask = entries.count - 1
        var b = Int(truncatingIfNeeded: h) & mask
        var probes = 0
        while entries[b].count >= 0 {
            if entries[b].hash == h && entries[b].count == n && memcmp(base + entries[b].offset, start, n) == 0 {
                return entries[b].string
            }
            probes += 1
            if probes > NameInterner.maxProbes {
                return String(decoding: UnsafeBufferPointer(start: start, count: n), as: UTF8.self)
            }
            b = (b + 1) & mask
        }
        let s = String(decoding: UnsafeBufferPointer(start: start, count: n), as: UTF8.self)
        entries[b] = Entry(hash: h, offset: r.lowerBound, count: n, string: s)
        used += 1
        if used * 2 > entries.count { grow() }
        return s
    }

    private mutating func grow() {
        var fresh = [Entry](repeating: Entry(), count: entries.count * 2)
        let mask = fresh.count - 1
        for e in entries where e.count >= 0 {
            var b = Int(truncatingIfNeeded: e.hash) & mask
            while fresh[b].count >= 0 { b = (b + 1) & mask }
            fresh[b] = e
        }
        entries = fresh
    }
}
