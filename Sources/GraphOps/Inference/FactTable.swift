/// `FactTable`: inferred facts by value name, shared between versions of a graph. An edit
/// re-infers a handful of values; copying a 20k-entry dictionary to change them cost more than
/// the re-inference itself, so a table keeps the facts it started from (shared, never written)
/// and a small overlay of what changed since, folded in once the overlay grows.
import GraphIR

/// A value name as a dictionary key, hashed with GraphIR's seeded word-at-a-time name hash
/// instead of SipHash: inference hashes every name once per definition and once per use, and
/// SipHash was a sixth of its time on large graphs. Equality is the string's.
struct ValueName: Hashable, Sendable {
    let name: String

    @inline(__always)
    init(_ name: String) { self.name = name }

    static func == (a: ValueName, b: ValueName) -> Bool { sameName(a.name, b.name) }

    func hash(into h: inout Hasher) { h.combine(NameHash.hash(name, seed: NameHash.processSeed)) }

    /// What `Dictionary` and `Set` hash with. Their seed is already per process (random unless
    /// deterministic hashing is asked for) and per table, as the standard hashing uses it.
    func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: NameHash.hash(name, seed: UInt64(truncatingIfNeeded: seed)))
    }
}

/// Facts per value name: a dictionary whose copies share storage, with O(1) copy and O(1)
/// writes of a few names (see the file comment). A table the packed walk made reads its
/// records in place (`packed`) until enough writes fold it into a dictionary.
public struct FactTable: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// The facts the table started from (or last folded); never written in place while shared.
    /// Empty while `packed` holds them.
    private var base: [ValueName: ValueFacts]
    /// The walk's records, when the table started from them and has not folded since.
    private var packed: PackedFacts?
    /// Changes since `base` (or `packed`): a fact, or `.some(nil)` for a name removed.
    private var overlay: [ValueName: ValueFacts?] = [:]

    /// An empty table.
    public init() { base = [:] }

    /// A table holding `facts`.
    public init(_ facts: [String: ValueFacts]) {
        base = Dictionary(minimumCapacity: facts.count)
        for (k, v) in facts { base[ValueName(k)] = v }
    }

    /// A table holding facts already keyed by `ValueName` (what the inference walk builds).
    init(keyed facts: [ValueName: ValueFacts]) { base = facts }

    /// A table reading the packed walk's records.
    init(packed facts: PackedFacts) {
        base = [:]
        packed = facts
    }

    public init(dictionaryLiteral elements: (String, ValueFacts)...) {
        base = Dictionary(elements.map { (ValueName($0.0), $0.1) }, uniquingKeysWith: { _, last in last })
    }

    /// The facts before the overlay.
    private func original(_ key: ValueName) -> ValueFacts? {
        if let packed { return packed.facts(named: key.name) }
        return base[key]
    }

    private var originalCount: Int { packed?.count ?? base.count }

    /// The facts of `name`, if any.
    public subscript(name: String) -> ValueFacts? {
        get {
            let key = ValueName(name)
            if !overlay.isEmpty, let o = overlay[key] { return o }
            return original(key)
        }
        set {
            overlay[ValueName(name)] = .some(newValue)
            // Fold once the overlay is a sizeable part of the table: reads stay one or two
            // lookups, and the fold's O(n) is paid once per n/4 writes.
            if overlay.count > 64 && overlay.count > originalCount / 4 { fold() }
        }
    }

    /// Moves the overlay (and packed records) into the base.
    private mutating func fold() {
        if let p = packed {
            base = p.dictionary()
            packed = nil
        }
        // In place: a base shared with another version is copied once, on the first write; one
        // this table already owns (a second fold) is not copied at all.
        for (k, v) in overlay {
            if let v { base[k] = v } else { base.removeValue(forKey: k) }
        }
        overlay = [:]
    }

    /// The number of names with facts.
    public var count: Int {
        var n = originalCount
        for (k, v) in overlay {
            let inBase = original(k) != nil
            if v == nil, inBase { n -= 1 } else if v != nil, !inBase { n += 1 }
        }
        return n
    }

    /// True when no name has facts.
    public var isEmpty: Bool { count == 0 }

    /// Every name with facts.
    public var keys: [String] { map(\.key) }

    /// Every fact.
    public var values: [ValueFacts] { map(\.value) }

    /// The table as a plain dictionary (O(n): the table's own keys hash differently).
    public var dictionary: [String: ValueFacts] {
        var out: [String: ValueFacts] = Dictionary(minimumCapacity: count)
        for (k, v) in self { out[k] = v }
        return out
    }

    /// The table with `transform` applied to every fact.
    public func mapValues(_ transform: (ValueFacts) throws -> ValueFacts) rethrows -> FactTable {
        var copy = self
        if !copy.overlay.isEmpty || copy.packed != nil { copy.fold() }
        return FactTable(keyed: try copy.base.mapValues(transform))
    }

    public static func == (a: FactTable, b: FactTable) -> Bool {
        var x = a, y = b
        if !x.overlay.isEmpty || x.packed != nil { x.fold() }
        if !y.overlay.isEmpty || y.packed != nil { y.fold() }
        return x.base == y.base
    }

    public typealias Element = (key: String, value: ValueFacts)

    /// Iterates the base or the packed records (skipping names the overlay changed), then the
    /// overlay's facts.
    public struct Iterator: IteratorProtocol {
        var base: Dictionary<ValueName, ValueFacts>.Iterator
        let packed: PackedFacts?
        var slot = 0
        var overlay: Dictionary<ValueName, ValueFacts?>.Iterator
        let changed: [ValueName: ValueFacts?]

        public mutating func next() -> Element? {
            if let p = packed {
                while slot < p.count {
                    let i = slot
                    slot += 1
                    let name = p.names[i]
                    if changed.isEmpty || changed[ValueName(name)] == nil { return (name, p.facts(slot: i)) }
                }
            } else {
                while let e = base.next() {
                    if changed.isEmpty || changed[e.key] == nil { return (e.key.name, e.value) }
                }
            }
            while let e = overlay.next() {
                if let v = e.value { return (e.key.name, v) }
            }
            return nil
        }
    }

    public func makeIterator() -> Iterator {
        Iterator(base: base.makeIterator(), packed: packed, overlay: overlay.makeIterator(), changed: overlay)
    }

    public var underestimatedCount: Int { overlay.isEmpty ? originalCount : 0 }
}
