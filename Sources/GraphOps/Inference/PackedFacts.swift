/// `PackedFacts`: the facts of one graph's values in flat slots, what the packed walk
/// (PackedWalk.swift) builds and `FactTable` reads. A value's facts are one fixed-size record
/// (element type, rank, up to six dims inline, a reference to known contents); anything else
/// (sequences, optionals, higher ranks, dims an inline slot cannot hold) is kept whole beside.
/// Why: a table by name of `ValueFacts`, one heap array per shape, cost more than the rules on
/// small models (docs/inference.md); here a value costs one record and one hash-table entry.
import GraphIR

/// One value's facts as the packed table stores them.
struct PackedFact {
    /// How to read the record.
    enum Kind: UInt8 {
        /// A tensor: `element`, `rank` (-1: unknown) and `dims` hold it.
        case tensor
        /// Nothing known about the type (`ValueFacts(type: nil)`).
        case unknown
        /// Facts kept whole in `PackedFacts.general` at `reference`.
        case general
    }

    var kind: Kind
    /// Rank of a tensor; -1 when unknown.
    var rank: Int8
    /// The tensor's element type.
    var element: ElementType
    /// Known contents: -1 none; >= 0 an index into `PackedFacts.knowns`; <= -2 a tensor whose
    /// contents are decoded on first read (`PackedFacts.withTensor(lazy:)`).
    var known: Int32
    /// Index into `PackedFacts.general`: the facts themselves for `.general`; for a tensor, the
    /// same facts as the general rules made them (kept so that reading them back costs no new
    /// arrays), or -1.
    var reference: Int32
    /// Dims, first `rank` used: a size, `PackedDim.unknown`, or a symbolic dim's reference.
    var dims: (Int64, Int64, Int64, Int64, Int64, Int64)

    static let maxRank = 6

    static let unknownType = PackedFact(kind: .unknown, rank: -1, element: .undefined, known: -1, reference: -1,
                                        dims: (0, 0, 0, 0, 0, 0))

    /// A tensor record with no dims set yet.
    static func tensor(_ e: ElementType, rank: Int) -> PackedFact {
        PackedFact(kind: .tensor, rank: Int8(rank), element: e, known: -1, reference: -1, dims: (0, 0, 0, 0, 0, 0))
    }

    @inline(__always)
    subscript(dim i: Int) -> Int64 {
        get {
            switch i {
            case 0: return dims.0
            case 1: return dims.1
            case 2: return dims.2
            case 3: return dims.3
            case 4: return dims.4
            default: return dims.5
            }
        }
        set {
            switch i {
            case 0: dims.0 = newValue
            case 1: dims.1 = newValue
            case 2: dims.2 = newValue
            case 3: dims.3 = newValue
            case 4: dims.4 = newValue
            default: dims.5 = newValue
            }
        }
    }

    /// Whether a stored size is negative (the general walk reports and drops it).
    var hasNegativeSize: Bool {
        guard kind == .tensor, rank > 0 else { return false }
        for i in 0..<Int(rank) {
            let v = self[dim: i]
            if PackedDim.isSize(v), v < 0 { return true }
        }
        return false
    }

    /// Whether this is a tensor of known rank.
    var isRankedTensor: Bool { kind == .tensor && rank >= 0 }

    /// Whether the record may carry known contents (a lazily decoded tensor may still turn
    /// out to have none: readers that fold contents take the general rules then).
    var mayHaveValue: Bool { known != -1 || kind == .general }
}

/// How a dim is encoded in a `PackedFact`: sizes as themselves, except the lowest 2^32 values
/// of `Int64`, which mark an unknown dim and references to symbolic dims. A size in that range
/// (only a hostile file has one) makes the whole value `.general`.
enum PackedDim {
    static let unknown = Int64.min
    private static let firstSymbol = Int64.min + 1
    private static let limit = Int64.min + (1 << 32)

    /// Whether `v` is a plain size (and so whether a size can be stored as itself).
    @inline(__always)
    static func isSize(_ v: Int64) -> Bool { v >= limit }

    /// The reference to symbolic dim number `k`.
    @inline(__always)
    static func symbol(_ k: Int) -> Int64 { firstSymbol + Int64(k) }

    /// The symbolic dim number of a reference.
    @inline(__always)
    static func symbolIndex(_ v: Int64) -> Int { Int(v - firstSymbol) }
}

/// Facts per value of one graph, by slot, with the names' hash index. Built by one walk and
/// never written afterwards, so a `FactTable` can share it between versions and threads.
/// (Unchecked exclusivity: the walk that writes it is its only user until it is handed over,
/// and the dynamic checks on these were a third of a small model's inference.)
final class PackedFacts: @unchecked Sendable {  // immutable once the walk hands it over
    @exclusivity(unchecked) private(set) var names: [String] = []
    @exclusivity(unchecked) private(set) var facts: [PackedFact] = []
    /// Open-addressed name index: slot + 1 in the low 32 bits (0 = empty), the name hash's
    /// upper half above, as GraphIR's value index keeps it.
    @exclusivity(unchecked) private var buckets: [UInt64]
    @exclusivity(unchecked) private var mask: Int
    private let seed = NameHash.processSeed
    /// Symbolic dims the records refer to.
    @exclusivity(unchecked) private(set) var symbols: [SymDim] = []
    /// Known contents the records refer to.
    @exclusivity(unchecked) private(set) var knowns: [KnownValue] = []
    /// Values kept whole.
    @exclusivity(unchecked) private(set) var general: [ValueFacts] = []
    /// The graph's initializers, whose contents are decoded on first read.
    let initializers: [Tensor]
    /// Other tensors decoded on first read (Constant nodes' values).
    @exclusivity(unchecked) private(set) var tensors: [Tensor] = []

    init(capacity: Int, initializers: [Tensor]) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        buckets = [UInt64](repeating: 0, count: size)
        mask = size - 1
        names.reserveCapacity(capacity)
        facts.reserveCapacity(capacity)
        self.initializers = initializers
    }

    var count: Int { names.count }

    // MARK: Name index

    /// The slot of `name`, if it has one.
    @inline(__always)
    func slot(of name: String) -> Int? {
        let h = NameHash.hash(name, seed: seed)
        let tag = h & 0xFFFF_FFFF_0000_0000
        var b = Int(truncatingIfNeeded: h) & mask
        return buckets.withUnsafeBufferPointer { bk in
            while true {
                let e = bk[b]
                if e == 0 { return nil }
                if e & 0xFFFF_FFFF_0000_0000 == tag {
                    let i = Int(e & 0xFFFF_FFFF) - 1
                    if sameName(names[i], name) { return i }
                }
                b = (b + 1) & mask
            }
        }
    }

    /// The hash the index keys `name` by.
    @inline(__always)
    func hash(_ name: String) -> UInt64 { NameHash.hash(name, seed: seed) }

    /// The slot of `name`, made (holding unknown facts) when it has none.
    @inline(__always)
    func intern(_ name: String) -> Int { intern(name, hash: hash(name)) }

    /// `intern(name)` with the name's `hash(name)` already computed.
    @inline(__always)
    func intern(_ name: String, hash h: UInt64) -> Int {
        let tag = h & 0xFFFF_FFFF_0000_0000
        var b = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = buckets[b]
            if e == 0 { break }
            if e & 0xFFFF_FFFF_0000_0000 == tag {
                let i = Int(e & 0xFFFF_FFFF) - 1
                if sameName(names[i], name) { return i }
            }
            b = (b + 1) & mask
        }
        let v = names.count
        names.append(name)
        facts.append(.unknownType)
        buckets[b] = tag | UInt64(v + 1)
        if names.count * 2 > buckets.count { grow() }
        return v
    }

    private func grow() {
        let size = buckets.count * 2
        var fresh = [UInt64](repeating: 0, count: size)
        let m = size - 1
        for i in names.indices {
            let h = NameHash.hash(names[i], seed: seed)
            var b = Int(truncatingIfNeeded: h) & m
            while fresh[b] != 0 { b = (b + 1) & m }
            fresh[b] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(i + 1)
        }
        buckets = fresh
        mask = m
    }

    // MARK: Writing (during the walk only)

    @inline(__always)
    func set(_ slot: Int, _ f: PackedFact) { facts[slot] = f }

    /// The record of slot `i`.
    @inline(__always)
    func fact(slot i: Int) -> PackedFact { facts.withUnsafeBufferPointer { $0[i] } }

    /// How `d` is stored in a record: a size as itself, nil as unknown, an expression by
    /// reference; nil when it is a size in the reserved range.
    func storedDim(_ d: SymDim?) -> Int64? {
        guard let d else { return PackedDim.unknown }
        if let v = d.intValueInline { return PackedDim.isSize(v) ? v : nil }
        return symbolReference(d)
    }

    /// A reference to a symbolic dim (stored once per call site: equal dims may get two).
    func symbolReference(_ d: SymDim) -> Int64 {
        symbols.append(d)
        return PackedDim.symbol(symbols.count - 1)
    }

    /// A tensor whose contents are decoded on first read; returns its `known` reference.
    func lazyTensor(_ t: Tensor) -> Int32 {
        tensors.append(t)
        return Int32(truncatingIfNeeded: -2 - (initializers.count + tensors.count - 1))
    }

    /// The `known` reference of initializer `i`.
    static func lazyInitializer(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: -2 - i) }

    /// Reads the tensor behind a lazy `known` reference in place (no copy of the tensor).
    @inline(__always)
    func withTensor<R>(lazy known: Int32, _ read: (UnsafePointer<Tensor>) -> R) -> R {
        let k = Int(-2 - known)
        // Through the element pointer: the buffer's subscript would copy the tensor. (Every
        // reference was made from a position in one of the two arrays.)
        let inInitializers = k < initializers.count
        let at = inInitializers ? k : k - initializers.count
        return (inInitializers ? initializers : tensors).withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, at < buf.count else { preconditionFailure("lazy tensor reference out of range") }
            return read(base + at)
        }
    }

    /// `f` as a record: inline where its type is a tensor of rank <= 6 with storable dims,
    /// else kept whole.
    func encode(_ f: ValueFacts) -> PackedFact {
        guard let t = f.type else {
            return f.value == nil ? .unknownType : keepWhole(f)
        }
        guard case .tensor(let e, let dims) = t else { return keepWhole(f) }
        var out: PackedFact
        if let dims {
            guard dims.count <= PackedFact.maxRank else { return keepWhole(f) }
            out = .tensor(e, rank: dims.count)
            for i in dims.indices {
                guard let v = storedDim(dims[i]) else { return keepWhole(f) }
                out[dim: i] = v
            }
        } else {
            out = .tensor(e, rank: -1)
        }
        if let v = f.value {
            knowns.append(v)
            out.known = Int32(truncatingIfNeeded: knowns.count - 1)
        }
        return out
    }

    /// What a general rule made, kept whole: the next general rule reads it back as it is, and
    /// a packed rule that reads it gets its inline form then (`packedForm(slot:)`), once.
    func keep(_ f: ValueFacts) -> PackedFact {
        f.type == nil && f.value == nil ? .unknownType : keepWhole(f)
    }

    /// The record of slot `i` with facts kept whole (`keep`) put inline where they fit, the
    /// facts still kept beside (so decoding returns them as they were). Stored back: a value
    /// read by several packed rules is encoded once.
    func packedForm(slot i: Int) -> PackedFact {
        let f = facts[i]
        guard f.kind == .general, f.reference >= 0 else { return f }
        var out = encode(general[Int(f.reference)])
        guard out.kind == .tensor else { return f }
        out.reference = f.reference
        facts[i] = out
        return out
    }

    private func keepWhole(_ f: ValueFacts) -> PackedFact {
        general.append(f)
        var out = PackedFact.unknownType
        out.kind = .general
        out.reference = Int32(truncatingIfNeeded: general.count - 1)
        return out
    }

    // MARK: Reading

    /// A stored dim as a `SymDim` (nil: unknown).
    @inline(__always)
    func dim(_ v: Int64) -> SymDim? {
        if PackedDim.isSize(v) { return SymDim(v) }
        if v == PackedDim.unknown { return nil }
        return symbols[PackedDim.symbolIndex(v)]
    }

    /// The known contents a record refers to.
    func value(_ f: PackedFact) -> KnownValue? {
        if f.known >= 0 { return knowns[Int(f.known)] }
        if f.known == -1 { return nil }
        return withTensor(lazy: f.known) { InferenceEngine.facts(of: $0.pointee).value }
    }

    /// A record as `ValueFacts`.
    func decode(_ f: PackedFact) -> ValueFacts {
        switch f.kind {
        case .unknown: return ValueFacts(type: nil)
        case .general: return general[Int(f.reference)]
        case .tensor:
            if f.reference >= 0 { return general[Int(f.reference)] }
            var dims: [SymDim?]?
            if f.rank >= 0 {
                var d: [SymDim?] = []
                d.reserveCapacity(Int(f.rank))
                for i in 0..<Int(f.rank) { d.append(dim(f[dim: i])) }
                dims = d
            }
            return .tensor(f.element, dims, value: value(f))
        }
    }

    /// The facts of slot `i`.
    func facts(slot i: Int) -> ValueFacts { decode(facts[i]) }

    /// The facts of slot `i`, kept beside its record once decoded, so that the next general
    /// rule reading it (a Constant's contents read by several shape ops) decodes nothing. For
    /// the walk only: the table is not written once handed over.
    func memoizedFacts(slot i: Int) -> ValueFacts {
        let f = facts[i]
        guard f.kind == .tensor, f.reference < 0, f.known != -1 || f.rank > 0 else { return decode(f) }
        let v = decode(f)
        general.append(v)
        facts[i].reference = Int32(truncatingIfNeeded: general.count - 1)
        return v
    }

    /// The facts of `name`, if it has a slot.
    func facts(named name: String) -> ValueFacts? { slot(of: name).map { facts(slot: $0) } }

    /// Every value's facts, keyed as `FactTable` keeps them.
    func dictionary() -> [ValueName: ValueFacts] {
        var out: [ValueName: ValueFacts] = Dictionary(minimumCapacity: names.count)
        for i in names.indices { out[ValueName(names[i])] = facts(slot: i) }
        return out
    }
}
