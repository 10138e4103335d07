/// `ChunkedArray`: an array whose copies share fixed-size chunks, for the graph index tables.
/// The first edit of a shared graph version used to copy every slot of its value table (a
/// 20k-name table is ~1 MB of names, use lists and types to retain); with chunks it copies the
/// chunk list plus the one chunk it writes, so an edit costs what it touches.

/// A growable array of `Element` in chunks of 256, each copied on its first write while
/// shared (copy-on-write per chunk). Reads cost one extra indirection over `Array`.
struct ChunkedArray<Element>: RandomAccessCollection {
    /// One chunk: a class, so copies of the array share it until one of them writes.
    final class Chunk {
        /// Unchecked: a chunk is reached only through its array's accessors, which already
        /// hold exclusive (or shared) access to the array; the dynamic check cost ~10 ns a read.
        @exclusivity(unchecked) var items: ContiguousArray<Element>
        init(_ items: ContiguousArray<Element>) { self.items = items }
    }

    static var shift: Int { 8 }
    static var chunkSize: Int { 1 << shift }
    static var offsetMask: Int { chunkSize - 1 }

    private var chunks: [Chunk] = []
    private(set) var count = 0

    init() {}

    /// `count` copies of `value`.
    init(repeating value: Element, count: Int) {
        var left = count
        chunks.reserveCapacity((count + Self.offsetMask) >> Self.shift)
        while left > 0 {
            let n = Swift.min(left, Self.chunkSize)
            chunks.append(Chunk(ContiguousArray(repeating: value, count: n)))
            left -= n
        }
        self.count = count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    mutating func reserveCapacity(_ n: Int) { chunks.reserveCapacity((n + Self.offsetMask) >> Self.shift) }

    subscript(i: Int) -> Element {
        // `_read`, not `get`: reading one field of an element must not copy (retain) it all.
        @inline(__always) _read {
            precondition(i >= 0 && i < count, "ChunkedArray index out of range")
            yield chunks[i >> Self.shift].items[i & Self.offsetMask]
        }
        @inline(__always) _modify {
            precondition(i >= 0 && i < count, "ChunkedArray index out of range")
            let c = i >> Self.shift
            if !isKnownUniquelyReferenced(&chunks[c]) { chunks[c] = Chunk(chunks[c].items) }
            yield &chunks[c].items[i & Self.offsetMask]
        }
    }

    mutating func append(_ e: Element) {
        let o = count & Self.offsetMask
        if o == 0 {
            var items = ContiguousArray<Element>()
            items.reserveCapacity(Self.chunkSize)
            items.append(e)
            chunks.append(Chunk(items))
        } else {
            let c = chunks.count - 1
            if !isKnownUniquelyReferenced(&chunks[c]) { chunks[c] = Chunk(chunks[c].items) }
            chunks[c].items.append(e)
        }
        count += 1
    }
}
