/// Compact tables behind the graph index: node positions in a dense array keyed by id (ids
/// are dense within a graph), and use lists that store the common single use inline. Both
/// exist purely to keep loading and re-indexing large graphs fast.

/// NodeID -> position, as a dense array over the id range seen so far.
struct PositionTable {
    private var base = 0
    private var slots: [Int32] = []

    init() {}

    mutating func reserveCapacity(_ n: Int) { slots.reserveCapacity(n) }

    subscript(id: NodeID) -> Int? {
        get {
            let i = id.rawValue - base
            guard i >= 0 && i < slots.count else { return nil }
            let v = slots[i]
            return v < 0 ? nil : Int(v)
        }
        set {
            let raw = id.rawValue
            if slots.isEmpty { base = raw }
            if raw < base {
                // Grow downwards (rare: ids below the first one seen).
                slots.insert(contentsOf: [Int32](repeating: -1, count: base - raw), at: 0)
                base = raw
            }
            let i = raw - base
            if i >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: [Int32](repeating: -1, count: i - slots.count + 1))
            }
            slots[i] = newValue.map { Int32(truncatingIfNeeded: $0) } ?? -1
        }
    }
}

/// The uses of one value; a single use is stored without allocating an array.
struct UseList: Sequence, ExpressibleByArrayLiteral {
    private enum Store { case empty, one(ValueUse), many([ValueUse]) }
    private var store: Store = .empty

    init(arrayLiteral elements: ValueUse...) {
        for e in elements { append(e) }
    }

    var isEmpty: Bool {
        if case .empty = store { return true }
        return false
    }

    var count: Int {
        switch store {
        case .empty: return 0
        case .one: return 1
        case .many(let a): return a.count
        }
    }

    mutating func append(_ u: ValueUse) {
        switch store {
        case .empty: store = .one(u)
        case .one(let first): store = .many([first, u])
        case .many(var a):
            store = .empty
            a.append(u)
            store = .many(a)
        }
    }

    mutating func removeAll(where predicate: (ValueUse) -> Bool) {
        let kept = filter { !predicate($0) }
        store = .empty
        for k in kept { append(k) }
    }

    func makeIterator() -> Array<ValueUse>.Iterator {
        switch store {
        case .empty: return [].makeIterator()
        case .one(let u): return [u].makeIterator()
        case .many(let a): return a.makeIterator()
        }
    }
}

/// Producer and uses of every value name, with each name hashed once into a dense slot
/// (one String hash per lookup instead of one per table).
struct ValueIndex {
    private struct Slot {
        var producer: ValueProducer?
        var uses: UseList = []
    }
    private var ids: [String: Int32] = [:]
    private var slots: [Slot] = []

    init(capacity: Int = 0) {
        ids.reserveCapacity(capacity)
        slots.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func intern(_ name: String) -> Int {
        if let v = ids[name] { return Int(v) }
        let v = slots.count
        ids[name] = Int32(truncatingIfNeeded: v)
        slots.append(Slot())
        return v
    }

    /// What defines `name` (nil: nothing in this graph).
    subscript(producer name: String) -> ValueProducer? {
        get { ids[name].flatMap { slots[Int($0)].producer } }
        set {
            if let v = newValue { slots[intern(name)].producer = v }
            else if let i = ids[name] { slots[Int(i)].producer = nil }
        }
    }

    /// The uses of `name` (nil or empty: none).
    subscript(uses name: String) -> UseList? {
        get { ids[name].map { slots[Int($0)].uses } }
        set {
            if let v = newValue { slots[intern(name)].uses = v }
            else if let i = ids[name] { slots[Int(i)].uses = [] }
        }
    }

    /// Records a use of `name`; returns whether the name had a producer at that moment.
    @discardableResult
    mutating func appendUse(_ u: ValueUse, to name: String) -> Bool {
        let i = intern(name)
        slots[i].uses.append(u)
        return slots[i].producer != nil
    }

    /// Sets the producer unless one is already recorded; returns whether it was set.
    @discardableResult
    mutating func defineIfAbsent(_ name: String, _ p: ValueProducer) -> Bool {
        let i = intern(name)
        if slots[i].producer != nil { return false }
        slots[i].producer = p
        return true
    }

    /// Removes the uses of `name` matching `predicate`.
    mutating func removeUses(of name: String, where predicate: (ValueUse) -> Bool) {
        guard let i = ids[name] else { return }
        slots[Int(i)].uses.removeAll(where: predicate)
    }

    /// Names that have a producer.
    var definedNames: [String] { ids.compactMap { slots[Int($0.value)].producer != nil ? $0.key : nil } }

    /// Names with at least one use, with those uses.
    var usedNames: [(name: String, uses: UseList)] {
        ids.compactMap { slots[Int($0.value)].uses.isEmpty ? nil : ($0.key, slots[Int($0.value)].uses) }
    }
}
