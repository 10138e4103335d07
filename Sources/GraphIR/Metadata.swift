/// Small shared records: ordered string metadata (`metadata_props`) and opaque
/// `UnknownFields` that let a format keep bytes the IR does not model and write them back.

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
    public var presentDefaults: Set<Int>
    /// Creates a record (empty by default).
    @inlinable
    public init(_ bytes: [UInt8] = [], presentDefaults: Set<Int> = []) {
        self.bytes = bytes
        self.presentDefaults = presentDefaults
    }
    /// True when nothing was kept.
    public var isEmpty: Bool { bytes.isEmpty && presentDefaults.isEmpty }
}
