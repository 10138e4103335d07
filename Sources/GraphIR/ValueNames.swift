/// `ValueNames`: the ordered value names a node reads (`inputs`) or writes (`outputs`).
///
/// It behaves like `[String]` (zero-based, mutable, range-replaceable, array literals, equal
/// when the names are equal) but may be a window into a list shared by many nodes: a reader
/// puts every node's names of one graph into one array and gives each node its range, so
/// loading a graph does not allocate two arrays per node. Mutating a shared window first
/// copies out just its own names (copy-on-write, as with `ArraySlice`), so sharing is never
/// visible to users.
public struct ValueNames: Sendable {
    /// The backing names; this value's names are `storage[lower..<upper]`.
    @usableFromInline var storage: [String]
    @usableFromInline var lower: Int32
    @usableFromInline var upper: Int32

    /// Names `storage[range]`, sharing `storage` with whoever else holds it.
    @inlinable
    package init(shared storage: [String], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= storage.count && storage.count <= Int(Int32.max),
                     "ValueNames range out of bounds")
        self.storage = storage
        lower = Int32(truncatingIfNeeded: range.lowerBound)
        upper = Int32(truncatingIfNeeded: range.upperBound)
    }

    /// A window of `range` into a shared list that is still being filled: readers create
    /// nodes before the last name of their graph is known, then `attach` the finished list.
    /// Until then the value must not be read.
    @inlinable
    package init(pending range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= Int(Int32.max), "ValueNames range out of bounds")
        storage = []
        lower = Int32(truncatingIfNeeded: range.lowerBound)
        upper = Int32(truncatingIfNeeded: range.upperBound)
    }

    /// Gives a `pending` window its finished shared list.
    @inlinable
    package mutating func attach(_ shared: [String]) {
        precondition(Int(upper) <= shared.count, "ValueNames range out of bounds")
        storage = shared
    }

    /// Names held in a list of their own.
    @inlinable
    public init(_ names: [String]) {
        precondition(names.count <= Int(Int32.max), "too many value names")
        storage = names
        lower = 0
        upper = Int32(truncatingIfNeeded: names.count)
    }

    /// True when the window is the whole backing list.
    @usableFromInline
    var isWholeList: Bool { lower == 0 && Int(upper) == storage.count }

    /// The names as a plain array.
    public var array: [String] { isWholeList ? storage : Array(slice) }

    /// Makes `storage` hold exactly this value's names, so it can be edited in place.
    @usableFromInline
    mutating func makeOwned() {
        if isWholeList { return }
        storage = Array(slice)
        lower = 0
        upper = Int32(truncatingIfNeeded: storage.count)
    }
}

extension ValueNames: RandomAccessCollection, MutableCollection {
    /// Positions are 0-based offsets, as in an array.
    public typealias Index = Int
    /// A value name (`""` for an omitted optional input or unused output).
    public typealias Element = String
    /// `0..<count`.
    public typealias Indices = Range<Int>

    /// Always 0.
    @inlinable public var startIndex: Int { 0 }
    /// The number of names.
    @inlinable public var endIndex: Int { Int(upper &- lower) }
    /// The number of names.
    @inlinable public var count: Int { Int(upper &- lower) }
    /// True when there are no names.
    @inlinable public var isEmpty: Bool { upper == lower }
    /// `0..<count`.
    @inlinable public var indices: Range<Int> { 0..<count }
    /// `i + 1`.
    @inlinable public func index(after i: Int) -> Int { i + 1 }
    /// `i - 1`.
    @inlinable public func index(before i: Int) -> Int { i - 1 }

    /// The names as a slice of the backing list (for iteration and bulk operations).
    @inlinable
    var slice: ArraySlice<String> { storage[Int(lower)..<Int(upper)] }

    /// Iterates the backing list directly (no per-element index checks beyond the array's).
    @inlinable
    public func makeIterator() -> IndexingIterator<ArraySlice<String>> { slice.makeIterator() }

    /// Calls `body` with the names in contiguous memory (always available).
    @inlinable
    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<String>) throws -> R) rethrows -> R? {
        try slice.withContiguousStorageIfAvailable(body)
    }

    /// The names transformed, in order (through the contiguous backing list).
    @inlinable
    public func map<T, E: Error>(_ transform: (String) throws(E) -> T) throws(E) -> [T] {
        try slice.map(transform)
    }

    /// The name at `position` (0-based, like an array).
    @inlinable
    public subscript(position: Int) -> String {
        get {
            precondition(position >= 0 && position < count, "ValueNames index out of range")
            return storage[Int(lower) &+ position]
        }
        set {
            precondition(position >= 0 && position < count, "ValueNames index out of range")
            makeOwned()
            storage[position] = newValue
        }
    }
}

extension ValueNames: RangeReplaceableCollection {
    /// No names.
    @inlinable
    public init() { self.init([String]()) }

    /// Replaces the names in `subrange` (copying this value's own names out of a shared list first).
    public mutating func replaceSubrange<C: Collection>(_ subrange: Range<Int>, with newElements: C) where C.Element == String {
        makeOwned()
        storage.replaceSubrange(subrange, with: newElements)
        precondition(storage.count <= Int(Int32.max), "too many value names")
        upper = Int32(truncatingIfNeeded: storage.count)
    }

    /// Reserves room for `n` names (in a list of this value's own).
    public mutating func reserveCapacity(_ n: Int) {
        makeOwned()
        storage.reserveCapacity(n)
    }
}

extension ValueNames: ExpressibleByArrayLiteral {
    /// Names from a literal: `["x", "w"]`.
    public init(arrayLiteral elements: String...) { self.init(elements) }
}

extension ValueNames: Hashable {
    /// Equal when both hold the same names in the same order (sharing does not matter).
    public static func == (a: ValueNames, b: ValueNames) -> Bool { a.elementsEqual(b) }
    /// Hashes the names in order (sharing does not matter).
    public func hash(into h: inout Hasher) {
        h.combine(count)
        for name in self { h.combine(name) }
    }
    /// Equal when `b` holds the same names in the same order.
    public static func == (a: ValueNames, b: [String]) -> Bool { a.elementsEqual(b) }
    /// Equal when `a` holds the same names in the same order.
    public static func == (a: [String], b: ValueNames) -> Bool { b.elementsEqual(a) }
    /// Not equal (see `==`).
    public static func != (a: ValueNames, b: [String]) -> Bool { !a.elementsEqual(b) }
    /// Not equal (see `==`).
    public static func != (a: [String], b: ValueNames) -> Bool { !b.elementsEqual(a) }
}

extension ValueNames: CustomStringConvertible, CustomDebugStringConvertible {
    /// Printed as an array is: `["x", "w"]`.
    public var description: String { array.description }
    /// As an array's debug description.
    public var debugDescription: String { array.debugDescription }
}
