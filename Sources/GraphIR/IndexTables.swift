/// Compact tables behind the graph index: node positions in a dense array keyed by id (ids
/// are dense within a graph), use lists that store the common single use inline, the value
/// table (one slot per name: producer, uses, initializer, declared type) and the fast seeded
/// name hash it shares with the ONNX reader. All exist purely to keep loading and
/// re-indexing large graphs fast.

/// NodeID -> position, as a dense array over the id range seen so far.
struct PositionTable {
    fileprivate var base = 0
    fileprivate var slots: [Int32] = []

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
            let v = newValue.map { Int32(truncatingIfNeeded: $0) } ?? -1
            if i >= slots.count {
                guard newValue != nil else { return }
                // Ids are dense: usually this appends exactly one slot (no temporary array).
                while slots.count < i { slots.append(-1) }
                slots.append(v)
                return
            }
            slots[i] = v
        }
    }
}

extension PositionTable {
    /// Sets the position of every node from `start` on to its index in `nodes` (all of them
    /// already have an entry).
    mutating func renumber(_ nodes: UnsafeBufferPointer<Node>, from start: Int) {
        guard start < nodes.count else { return }
        let base = self.base
        let inRange = slots.withUnsafeMutableBufferPointer { s -> Bool in
            for q in start..<nodes.count {
                let i = nodes[q].id.rawValue - base
                guard i >= 0 && i < s.count else { return false }
                s[i] = Int32(truncatingIfNeeded: q)
            }
            return true
        }
        if !inRange { for q in start..<nodes.count { self[nodes[q].id] = q } }
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

    /// Removes the uses by nodes `isRemoved` says yes to. In place, reading each use's node
    /// through the buffer and moving kept uses by swaps (no copies, no reference counting): a
    /// value read by thousands of nodes loses one use per removed reader.
    mutating func removeAll(byNodes isRemoved: (NodeID) -> Bool) {
        switch store {
        case .empty: return
        case .one(let u): if isRemoved(u.node) { store = .empty }
        case .many(var a):
            store = .empty
            let kept = a.withUnsafeMutableBufferPointer { b -> Int in
                var write = 0
                for read in 0..<b.count where !isRemoved(b[read].node) {
                    if write != read { b.swapAt(write, read) }
                    write += 1
                }
                return write
            }
            a.removeLast(a.count - kept)
            store = a.isEmpty ? .empty : a.count == 1 ? .one(a[0]) : .many(a)
        }
    }

    func makeIterator() -> Array<ValueUse>.Iterator {
        switch store {
        case .empty: return [].makeIterator()
        case .one(let u): return [u].makeIterator()
        case .many(let a): return a.makeIterator()
        }
    }
}

/// Producer, uses, initializer position and declared type of every value name, with each
/// name hashed once into a dense slot (one hash per lookup instead of one per table). The
/// name table hashes UTF-8 bytes with a fast seeded hash (`NameHash`) rather than SipHash:
/// reading a 2k-node model looks names up ~10k times, and SipHash dominated that cost.
struct ValueIndex {
    private struct Slot {
        var name: String
        var producer: ValueProducer?
        var uses: UseList = []
        /// Type declared by an input, output or value_info (inputs win, then outputs).
        var declaredType: ValueType?
        init(name: String) { self.name = name }
    }
    private var slots = ChunkedArray<Slot>()
    /// The slot of each graph input and each initializer by position, so that removing one
    /// moves the later entries up without hashing their names.
    private var inputSlots: [Int32] = []
    private var initializerSlots: [Int32] = []
    /// Position of the first initializer of each slot's name (-1: none), by slot: a plain array
    /// beside the chunked slots, so removing an initializer renumbers the later ones in one
    /// tight loop (the array is copied once per edited version: 4 bytes a name).
    private var initializerOfSlot: [Int32] = []
    /// Whether two initializers, or two inputs, ever shared a name (malformed, but readable):
    /// until then a name's entry is its only position, and edits need no scan.
    private(set) var hasDuplicateInitializers = false
    private(set) var hasDuplicateInputs = false
    /// Open-addressed table (linear probing, load <= 1/2): each bucket holds the slot index
    /// plus one (0 = empty) in the low 32 bits and the upper 32 bits of the name's hash above.
    private var buckets = ChunkedArray<UInt64>()
    private var mask = 0
    private let seed: UInt64

    init(capacity: Int = 0) {
        seed = NameHash.processSeed
        slots.reserveCapacity(capacity)
        initializerOfSlot.reserveCapacity(capacity)
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        buckets = ChunkedArray(repeating: 0, count: size)
        mask = size - 1
    }

    /// The slot of `name`, if it has one.
    @inline(__always)
    private func find(_ name: String) -> Int? {
        let h = NameHash.hash(name, seed: seed)
        let tag = h & 0xFFFF_FFFF_0000_0000
        var b = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = buckets[b]
            if e == 0 { return nil }
            if e & 0xFFFF_FFFF_0000_0000 == tag {
                let i = Int(e & 0xFFFF_FFFF) - 1
                if slots[i].name == name { return i }
            }
            b = (b + 1) & mask
        }
    }

    @inline(__always)
    private mutating func intern(_ name: String) -> Int {
        let h = NameHash.hash(name, seed: seed)
        let tag = h & 0xFFFF_FFFF_0000_0000
        var b = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = buckets[b]
            if e == 0 { break }
            if e & 0xFFFF_FFFF_0000_0000 == tag {
                let i = Int(e & 0xFFFF_FFFF) - 1
                if slots[i].name == name { return i }
            }
            b = (b + 1) & mask
        }
        let v = slots.count
        slots.append(Slot(name: name))
        initializerOfSlot.append(-1)
        buckets[b] = tag | UInt64(v + 1)
        if slots.count * 2 > buckets.count { grow() }
        return v
    }

    private mutating func grow() {
        let size = buckets.count * 2
        var fresh = ChunkedArray<UInt64>(repeating: 0, count: size)
        let m = size - 1
        for i in slots.indices {
            let h = NameHash.hash(slots[i].name, seed: seed)
            var b = Int(truncatingIfNeeded: h) & m
            while fresh[b] != 0 { b = (b + 1) & m }
            fresh[b] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(i + 1)
        }
        buckets = fresh
        mask = m
    }

    /// What defines `name` (nil: nothing in this graph).
    subscript(producer name: String) -> ValueProducer? {
        get { find(name).flatMap { slots[$0].producer } }
        set {
            if let v = newValue { slots[intern(name)].producer = v }
            else if let i = find(name) { slots[i].producer = nil }
        }
    }

    /// The uses of `name` (nil or empty: none).
    subscript(uses name: String) -> UseList? {
        get { find(name).map { slots[$0].uses } }
        set {
            if let v = newValue { slots[intern(name)].uses = v }
            else if let i = find(name) { slots[i].uses = [] }
        }
    }

    /// Position of the first initializer named `name`.
    subscript(initializer name: String) -> Int? {
        guard let i = find(name) else { return nil }
        let p = initializerOfSlot[i]
        return p < 0 ? nil : Int(p)
    }

    /// The type declared for `name` by an input, output or value_info.
    subscript(declaredType name: String) -> ValueType? {
        find(name).flatMap { slots[$0].declaredType }
    }

    /// Records the initializer at `position` unless an earlier one has the same name, and
    /// makes it the producer; returns whether it was recorded.
    /// Positions are given in order (the next one is the count so far).
    @discardableResult
    mutating func defineInitializer(_ name: String, position: Int) -> Bool {
        let i = intern(name)
        if position == initializerSlots.count { initializerSlots.append(Int32(truncatingIfNeeded: i)) }
        if initializerOfSlot[i] >= 0 { hasDuplicateInitializers = true; return false }
        initializerOfSlot[i] = Int32(truncatingIfNeeded: position)
        slots[i].producer = .initializer
        return true
    }

    /// Makes graph input `index` the producer of `name`, and declares its type if it has one.
    /// Indices are given in order (the next one is the count so far).
    mutating func defineInput(_ name: String, index: Int, type: ValueType?) {
        let i = intern(name)
        if index == inputSlots.count { inputSlots.append(Int32(truncatingIfNeeded: i)) }
        if case .graphInput? = slots[i].producer { hasDuplicateInputs = true }
        slots[i].producer = .graphInput(index: index)
        if let t = type { slots[i].declaredType = t }
    }

    /// Sets (or, with nil, clears) the declared type of `name`: incremental edits of the
    /// declarations.
    mutating func setDeclaredType(_ name: String, _ t: ValueType?) {
        if let t { slots[intern(name)].declaredType = t } else if let i = find(name) { slots[i].declaredType = nil }
    }

    /// Forgets the initializer at `position` (its name's entry is cleared when it pointed
    /// there) and moves every later entry that pointed at its own position up one place.
    mutating func removeInitializer(at position: Int) {
        guard position < initializerSlots.count else { return }
        let removed = Int(initializerSlots.remove(at: position))
        if initializerOfSlot[removed] == Int32(truncatingIfNeeded: position) { initializerOfSlot[removed] = -1 }
        initializerSlots.withUnsafeBufferPointer { order in
            initializerOfSlot.withUnsafeMutableBufferPointer { pos in
                for k in position..<order.count {
                    let i = Int(order[k])
                    if pos[i] == Int32(truncatingIfNeeded: k + 1) { pos[i] = Int32(truncatingIfNeeded: k) }
                }
            }
        }
    }

    /// Forgets the initializers at `positions` (ascending, distinct; each name's entry is
    /// cleared when it pointed there) and moves every later entry up past the removed ones, in
    /// one pass (one by one, each removal would renumber every later entry).
    mutating func removeInitializers(at positions: [Int]) {
        guard let first = positions.first, first < initializerSlots.count else { return }
        let kept = initializerSlots.withUnsafeMutableBufferPointer { order in
            initializerOfSlot.withUnsafeMutableBufferPointer { pos -> Int in
                var write = first, next = 0
                for read in first..<order.count {
                    let i = Int(order[read])
                    if next < positions.count && positions[next] == read {
                        next += 1
                        if pos[i] == Int32(truncatingIfNeeded: read) { pos[i] = -1 }
                        continue
                    }
                    if pos[i] == Int32(truncatingIfNeeded: read) { pos[i] = Int32(truncatingIfNeeded: write) }
                    order[write] = order[read]
                    write += 1
                }
                return write
            }
        }
        initializerSlots.removeLast(initializerSlots.count - kept)
    }

    /// Forgets the graph inputs at `positions` (ascending, distinct; the caller settles their
    /// names' producers) and moves every later input that defines its name up past them, in one
    /// pass (one by one, each removal would renumber every later input).
    mutating func removeInputs(at positions: [Int]) {
        guard let first = positions.first, first < inputSlots.count else { return }
        var write = first, next = 0
        for read in first..<inputSlots.count {
            if next < positions.count && positions[next] == read { next += 1; continue }
            let i = Int(inputSlots[read])
            if slots[i].producer == .graphInput(index: read) { slots[i].producer = .graphInput(index: write) }
            inputSlots[write] = inputSlots[read]
            write += 1
        }
        inputSlots.removeLast(inputSlots.count - write)
    }

    /// Forgets the graph input at `index` (the caller settles its name's producer) and moves
    /// every later input that defines its name up one place.
    mutating func removeInput(at index: Int) {
        guard index < inputSlots.count else { return }
        inputSlots.remove(at: index)
        for k in index..<inputSlots.count {
            let i = Int(inputSlots[k])
            if slots[i].producer == .graphInput(index: k + 1) { slots[i].producer = .graphInput(index: k) }
        }
    }

    /// Declares the type of `name` (a later declaration replaces an earlier one).
    mutating func declareType(_ name: String, _ t: ValueType) {
        slots[intern(name)].declaredType = t
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

    /// Removes the uses of `name` by the nodes `isRemoved` says yes to.
    mutating func removeUses(of name: String, byNodes isRemoved: (NodeID) -> Bool) {
        guard let i = find(name) else { return }
        slots[i].uses.removeAll(byNodes: isRemoved)
    }

    /// Names that have a producer.
    var definedNames: [String] { slots.compactMap { $0.producer != nil ? $0.name : nil } }

    /// Names with at least one use, with those uses.
    var usedNames: [(name: String, uses: UseList)] {
        slots.compactMap { $0.uses.isEmpty ? nil : ($0.name, $0.uses) }
    }
}

/// A fast seeded hash of a string's UTF-8 bytes for the name tables (8 bytes per step). The
/// seed is drawn once per process, so colliding names cannot be precomputed. `package`: the
/// ONNX reader interns names read from a file with the same hash.
package enum NameHash {
    /// The per-process seed.
    package static let processSeed: UInt64 = UInt64.random(in: 1...UInt64.max)

    /// Hash of a string's UTF-8 bytes.
    @inline(__always)
    package static func hash(_ s: String, seed: UInt64) -> UInt64 {
        if let h = s.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0), seed: seed) }) { return h }
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// Hash of raw bytes (equal to the string hash of the same UTF-8 bytes).
    @inline(__always)
    package static func hash(_ b: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let n = b.count
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15)
        guard let p = b.baseAddress, n > 0 else { return mix(h) }
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                h = mix(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            // The last 8 bytes (overlapping the previous word when n is not a multiple of 8).
            h = mix(h ^ p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
        } else if n >= 4 {
            let lo = UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            let hi = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
            h = mix(h ^ (lo | hi << 32))
        } else {
            let x = UInt64(p.load(fromByteOffset: 0, as: UInt8.self))
                | UInt64(p.load(fromByteOffset: n / 2, as: UInt8.self)) << 8
                | UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self)) << 16
            h = mix(h ^ x)
        }
        return mix(h)
    }

    @inline(__always)
    package static func mix(_ x: UInt64) -> UInt64 {
        // Multiply-fold (as in wyhash): full 128-bit product, high xor low.
        let (hi, lo) = (x ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: 0xE703_7ED1_A0B4_28DB)
        return hi ^ lo
    }
}
