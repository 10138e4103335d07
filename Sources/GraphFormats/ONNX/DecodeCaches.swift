/// Caches that let a decoding pass reuse what it already built for repeated content: decoded
/// types keyed by their exact TypeProto bytes, and small integer lists (shapes, `pads`,
/// `axes`) keyed by their values. Node-heavy models repeat both constantly (a 2k-node graph
/// declares hundreds of inputs of a few types); sharing them saves an allocation or three each
/// time. Values are immutable once cached, so sharing is invisible to users (value semantics).
import Foundation
import GraphIR

/// Values keyed by a byte range of one storage (compared with `bytesEqual`, hashed with
/// `NameHash`), bounded so a file full of distinct keys cannot make it grow without limit.
struct ByteKeyedCache<Value> {
    static var maxEntries: Int { 1024 }
    static var maxProbes: Int { 16 }
    /// One record per cached value: where its key bytes are, and their hash.
    private struct Entry {
        var hash: UInt64
        var offset: Int
        var count: Int
        var value: Value
    }
    /// Allocated on the first insert (small models never pay for it).
    private var buckets: [Int32] = []
    /// One array, not one per field: a small model's few inserts grew four arrays step by
    /// step, a dozen allocations per load.
    private var entries: [Entry] = []
    private let seed = NameHash.processSeed

    init() {}

    /// The value cached for bytes `r` of `base`, if any. `mutating` though it changes
    /// nothing: the cache lives in the decoder object, and a non-mutating call there first
    /// copied the whole struct out (a retain and release of each of its five arrays).
    @inline(__always)
    mutating func value(base: UnsafePointer<UInt8>, _ r: Range<Int>) -> Value? {
        if buckets.isEmpty { return nil }
        let n = r.count
        let h = NameHash.hash(UnsafeRawBufferPointer(start: base + r.lowerBound, count: n), seed: seed)
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: h) & mask
        for _ in 0..<Self.maxProbes {
            let i = Int(buckets[b])
            if i < 0 { return nil }
            if entries[i].hash == h && entries[i].count == n && bytesEqual(base + entries[i].offset, base + r.lowerBound, n) {
                return entries[i].value
            }
            b = (b + 1) & mask
        }
        return nil
    }

    /// Remembers `v` for bytes `r` of `base` (ignored when full or when the probe run is long).
    mutating func insert(_ v: Value, base: UnsafePointer<UInt8>, _ r: Range<Int>) {
        guard entries.count < Self.maxEntries else { return }
        // Starts small and doubles (load <= 1/2): a tiny model fills a few entries, and
        // clearing the full table up front cost it more than the lookups saved.
        if buckets.isEmpty {
            buckets = [Int32](repeating: -1, count: 64)
            entries.reserveCapacity(32)
        } else if entries.count * 2 >= buckets.count { grow() }
        let n = r.count
        let h = NameHash.hash(UnsafeRawBufferPointer(start: base + r.lowerBound, count: n), seed: seed)
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: h) & mask
        for _ in 0..<Self.maxProbes {
            if buckets[b] < 0 {
                buckets[b] = Int32(entries.count)
                entries.append(Entry(hash: h, offset: r.lowerBound, count: n, value: v))
                return
            }
            b = (b + 1) & mask
        }
    }

    /// Doubles the bucket table and re-places every entry by its stored hash (an entry whose
    /// probe run would pass `maxProbes` is left out of the table: a later miss, never a wrong hit).
    private mutating func grow() {
        let size = buckets.count * 2
        var fresh = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for i in entries.indices {
            var b = Int(truncatingIfNeeded: entries[i].hash) & mask
            for _ in 0..<Self.maxProbes {
                if fresh[b] < 0 { fresh[b] = Int32(i); break }
                b = (b + 1) & mask
            }
        }
        buckets = fresh
    }
}

/// An integer list being decoded: the first 8 values stay in place (no allocation), longer
/// lists spill into an array.
struct SmallInt64List: Int64Appending {
    private(set) var count = 0
    private var inline: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var spill: [Int64] = []

    init() {}

    var isEmpty: Bool { count == 0 }

    /// The first eight values live inline; a longer list grows its spill array as needed.
    mutating func reserveCapacity(_ n: Int) {}

    @inline(__always)
    mutating func append(_ v: Int64) {
        if count < 8 {
            withUnsafeMutableBytes(of: &inline) { $0.storeBytes(of: v, toByteOffset: count * 8, as: Int64.self) }
        } else {
            if count == 8 { spill.reserveCapacity(16); spill.append(contentsOf: inlineArray()) }
            spill.append(v)
        }
        count += 1
    }

    fileprivate func inlineArray() -> [Int64] {
        withUnsafeBytes(of: inline) { Array($0.bindMemory(to: Int64.self).prefix(Swift.min(count, 8))) }
    }

    fileprivate func equals(_ a: [Int64]) -> Bool {
        guard a.count == count, count <= 8 else { return false }
        return withUnsafeBytes(of: inline) { raw in
            let p = raw.bindMemory(to: Int64.self)
            for i in 0..<count where p[i] != a[i] { return false }
            return true
        }
    }

    fileprivate var spilled: [Int64]? { count > 8 ? spill : nil }

    fileprivate func hashValue8() -> Int {
        withUnsafeBytes(of: inline) { raw in
            let p = raw.bindMemory(to: Int64.self)
            var h = UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
            for i in 0..<count { h = (h ^ UInt64(bitPattern: p[i])) &* 0xE703_7ED1_A0B4_28DB }
            return Int(truncatingIfNeeded: h >> 57)  // 7 bits: 0..<128
        }
    }
}

/// Small `[Int64]` lists by value: one shared array per recently seen list of at most 8
/// values (direct-mapped, so a miss just replaces the slot).
struct IntListCache {
    /// Per hash slot, the index in `lists` of the list it holds, or -1. Plain integers: 128
    /// empty arrays cost a retain and a release each, every load.
    private var slots: [Int16] = []
    private var lists: [[Int64]] = []

    init() {}

    /// An array holding `list`, shared with earlier equal lists when possible.
    @inline(__always)
    mutating func array(_ list: SmallInt64List) -> [Int64] {
        if let long = list.spilled { return long }
        if list.isEmpty { return [] }
        // Allocated on first use (a model without lists never pays for it).
        if slots.isEmpty { slots = [Int16](repeating: -1, count: 128) }
        let i = list.hashValue8()
        let k = Int(slots[i])
        if k >= 0 {
            if list.equals(lists[k]) { return lists[k] }
            let a = list.inlineArray()
            lists[k] = a
            return a
        }
        let a = list.inlineArray()
        slots[i] = Int16(lists.count)
        lists.append(a)
        return a
    }
}
