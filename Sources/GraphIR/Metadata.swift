/// Small shared records: ordered string metadata (`metadata_props`) and opaque
/// `UnknownFields` that let a format keep bytes the IR does not model and write them back
/// (with `FieldNumbers`, the set of fields present with default values).

/// One metadata entry.
public struct MetadataEntry: Hashable, Sendable {
    /// The key (e.g. `pkg.torch.onnx.name_scopes`).
    public var key: String
    /// The value.
    public var value: String
    /// Creates an entry.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// Ordered key/value metadata (ONNX `metadata_props`), order kept for lossless writing.
public struct MetadataProps: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    /// Entries in file order; keys are expected unique but duplicates are preserved.
    public var entries: [MetadataEntry]

    /// Creates metadata from entries.
    @inlinable
    public init(_ entries: [MetadataEntry] = []) { self.entries = entries }

    /// Creates metadata from a literal, in literal order.
    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { MetadataEntry(key: $0.0, value: $0.1) }
    }

    /// The first value for `key`; setting replaces it in place, appends, or (nil) removes it.
    public subscript(key: String) -> String? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let v = newValue {
                if let i = entries.firstIndex(where: { $0.key == key }) { entries[i].value = v }
                else { entries.append(MetadataEntry(key: key, value: v)) }
            } else {
                entries.removeAll { $0.key == key }
            }
        }
    }

    /// True when there are no entries.
    public var isEmpty: Bool { entries.isEmpty }
}

/// Wire bytes of fields a reader found but the IR does not model (future ONNX fields, vendor
/// extensions). Kept verbatim, in order, so a writer of the same format can emit them again;
/// other formats ignore them.
public struct UnknownFields: Hashable, Sendable {
    /// The raw encoded fields, concatenated.
    public var bytes: [UInt8]
    /// Numbers of modelled fields that were present in the file with their default value
    /// (e.g. an explicit empty `doc_string`), so a writer can reproduce the file exactly.
    public var presentDefaults: FieldNumbers
    /// Creates a record (empty by default).
    @inlinable
    public init(_ bytes: [UInt8] = [], presentDefaults: FieldNumbers = []) {
        self.bytes = bytes
        self.presentDefaults = presentDefaults
    }
    /// True when nothing was kept.
    public var isEmpty: Bool { bytes.isEmpty && presentDefaults.isEmpty }
}

/// A set of field numbers in `0..<128` (protobuf-style formats number their modelled fields
/// far below that), kept as two bit words: no allocation, unlike a `Set<Int>`, and every
/// message a reader decodes may carry one.
public struct FieldNumbers: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    @usableFromInline var low: UInt64
    @usableFromInline var high: UInt64

    /// The largest number a set can hold, plus one.
    public static let limit = 128

    /// The empty set.
    @inlinable
    public init() { low = 0; high = 0 }

    /// The numbers whose bits are set in `mask` (numbers `0..<64`).
    @inlinable
    public init(mask: UInt64) { low = mask; high = 0 }

    /// The given numbers (each in `0..<128`).
    public init<S: Sequence>(_ numbers: S) where S.Element == Int {
        self.init()
        for n in numbers { insert(n) }
    }

    /// The numbers of a literal: `[3, 6]`.
    public init(arrayLiteral numbers: Int...) { self.init(numbers) }

    /// Whether `n` is in the set (false for numbers outside `0..<128`).
    @inlinable
    public func contains(_ n: Int) -> Bool {
        if n < 0 || n >= Self.limit { return false }
        return n < 64 ? low & (1 << UInt64(n)) != 0 : high & (1 << UInt64(n - 64)) != 0
    }

    /// Adds `n`, which must be in `0..<128`.
    public mutating func insert(_ n: Int) {
        precondition(n >= 0 && n < Self.limit, "field number \(n) outside 0..<\(Self.limit)")
        if n < 64 { low |= 1 << UInt64(n) } else { high |= 1 << UInt64(n - 64) }
    }

    /// Removes `n` if present.
    public mutating func remove(_ n: Int) {
        if n < 0 || n >= Self.limit { return }
        if n < 64 { low &= ~(1 << UInt64(n)) } else { high &= ~(1 << UInt64(n - 64)) }
    }

    /// True when no number is in the set.
    @inlinable
    public var isEmpty: Bool { low == 0 && high == 0 }

    /// How many numbers are in the set.
    public var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    /// The numbers in ascending order.
    public func makeIterator() -> IndexingIterator<[Int]> {
        (0..<Self.limit).filter { contains($0) }.makeIterator()
    }

    /// Printed as the sorted list of numbers.
    public var description: String { "\(Array(self))" }
}
