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
