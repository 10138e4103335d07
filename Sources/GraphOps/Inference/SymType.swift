/// The types inference computes (`SymType`: tensors with symbolic dims, sequences, optionals)
/// and the small constant contents it propagates (`KnownValue`: shape arithmetic needs the
/// values of int64 shape tensors, `Resize` scales, `Slice` bounds), with their conversions
/// to and from GraphIR's `ValueType`.
import GraphIR

/// A value's type as inference knows it. Only the nested and rare cases are `indirect`: a
/// tensor type, by far the most common, is stored inline instead of in a heap box, and boxing
/// `other` keeps every value's facts (and each dictionary entry holding them) small.
public enum SymType: Hashable, Sendable, CustomStringConvertible {
    /// A dense tensor; `dims == nil` when the rank is unknown, a `nil` dim when that size is.
    case tensor(ElementType, [SymDim?]?)
    /// A sequence of values of one type (`nil`: element type unknown).
    indirect case sequence(SymType?)
    /// A value that may be absent.
    indirect case optional(SymType?)
    /// Types inference passes through without looking inside (maps, sparse tensors, opaque).
    indirect case other(ValueType)

    /// From a declared type (dims text parsed as expressions, see `SymDim(_ dim:)`).
    public init(_ t: ValueType) {
        switch t {
        case .tensor(let e, let s): self = .tensor(e, s.map { $0.dims.map { SymDim($0) } })
        case .sequence(let e): self = .sequence(e.map { SymType($0) })
        case .optional(let e): self = .optional(e.map { SymType($0) })
        default: self = .other(t)
        }
    }

    /// The GraphIR form (expressions become `Dim.symbolic` text).
    public var valueType: ValueType {
        switch self {
        case .tensor(let e, let dims):
            return .tensor(e, dims.map { TensorShape($0.map { $0?.dim ?? .unknown }) })
        case .sequence(let e): return .sequence(e?.valueType)
        case .optional(let e): return .optional(e?.valueType)
        case .other(let t): return t
        }
    }

    /// Element type of a tensor type.
    public var elementType: ElementType? {
        if case .tensor(let e, _) = self { return e }
        return nil
    }

    /// Dimensions of a tensor type with known rank.
    public var dims: [SymDim?]? {
        if case .tensor(_, let d) = self { return d }
        return nil
    }

    /// Replaces bound symbols everywhere in the type.
    public func substituting(_ bindings: [String: SymDim]) -> SymType {
        switch self {
        case .tensor(let e, let dims): return .tensor(e, dims.map { $0.map { $0?.substituting(bindings) } })
        case .sequence(let t): return .sequence(t?.substituting(bindings))
        case .optional(let t): return .optional(t?.substituting(bindings))
        case .other: return self
        }
    }

    /// `float32[batch,seq,768]` style text (`?` for an unknown dim, `[...]` for unknown rank).
    public var description: String {
        switch self {
        case .tensor(let e, let dims):
            let s = dims.map { "[" + $0.map { $0?.description ?? "?" }.joined(separator: ",") + "]" } ?? "[...]"
            return e.name + s
        case .sequence(let t): return "seq(\(t?.description ?? "?"))"
        case .optional(let t): return "optional(\(t?.description ?? "?"))"
        case .other(let t): return t.description
        }
    }
}

/// Known contents of a small tensor, flattened in row-major order. Integer and bool tensors
/// hold `SymDim`s, so `Shape(x)` of `[batch,seq,768]` is known with symbolic entries.
/// An integer tensor known only in part (`Shape(x)` of `[?,seq,768]`, or a Concat of known and
/// unknown pieces) is `.partialInts`, with nil for each unknown entry: the shape ops carry it
/// along and Reshape/Expand/ConstantOfShape/Tile read it, while every reader of `dims`,
/// `constantInts` or `doubles` sees it as unknown.
public enum KnownValue: Hashable, Sendable {
    case ints([SymDim])
    case floats([Double])
    /// Integer contents with at least one unknown and at least one known entry (build with
    /// `KnownValue.ints(partial:)`, which keeps that form normal).
    case partialInts([SymDim?])

    /// Integer contents from entries some of which may be unknown: `.ints` when all are
    /// known, `.partialInts` when some are, nil when none is (nothing worth keeping).
    public static func ints(partial xs: [SymDim?]) -> KnownValue? {
        var known: [SymDim] = []
        known.reserveCapacity(xs.count)
        for x in xs { guard let x else { break }; known.append(x) }
        if known.count == xs.count { return .ints(known) }
        return xs.contains(where: { $0 != nil }) ? .partialInts(xs) : nil
    }

    /// The entries as symbolic integers, nil for an unknown one (floats that are not whole
    /// numbers give nil as a whole).
    public var partialDims: [SymDim?]? {
        if case .partialInts(let v) = self { return v }
        return dims.map { $0.map { Optional($0) } }
    }

    /// Element count.
    public var count: Int {
        switch self {
        case .ints(let v): return v.count
        case .floats(let v): return v.count
        case .partialInts(let v): return v.count
        }
    }

    /// The entries as integers when every one is a constant (floats truncate toward zero, as
    /// ONNX casts do); nil otherwise.
    public var constantInts: [Int64]? {
        switch self {
        case .ints(let v):
            var out: [Int64] = []
            out.reserveCapacity(v.count)
            for d in v { guard let x = d.intValue else { return nil }; out.append(x) }
            return out
        case .floats(let v):
            var out: [Int64] = []
            for x in v { guard x.isFinite, abs(x) < 9.2e18 else { return nil }; out.append(Int64(x)) }
            return out
        case .partialInts: return nil
        }
    }

    /// The entries as doubles when all are numbers (symbolic entries give nil).
    public var doubles: [Double]? {
        switch self {
        case .floats(let v): return v
        case .ints(let v):
            var out: [Double] = []
            for d in v { guard let x = d.intValue else { return nil }; out.append(Double(x)) }
            return out
        case .partialInts: return nil
        }
    }

    /// Symbolic entries (floats that are whole numbers convert; others give nil).
    public var dims: [SymDim]? {
        switch self {
        case .ints(let v): return v
        case .floats(let v):
            var out: [SymDim] = []
            for x in v { guard x.isFinite, x == x.rounded(), abs(x) < 9.2e18 else { return nil }; out.append(SymDim(Int64(x))) }
            return out
        case .partialInts: return nil
        }
    }

    func substituting(_ bindings: [String: SymDim]) -> KnownValue {
        switch self {
        case .ints(let v): return .ints(v.map { $0.substituting(bindings) })
        case .partialInts(let v): return .partialInts(v.map { $0?.substituting(bindings) })
        case .floats: return self
        }
    }
}

/// What inference knows about one value: its type and, for small tensors, its contents.
public struct ValueFacts: Hashable, Sendable {
    /// The type (nil: unknown).
    public var type: SymType?
    /// Known contents (nil: unknown or too large to track).
    public var value: KnownValue?

    public init(type: SymType?, value: KnownValue? = nil) {
        self.type = type
        self.value = value
    }

    /// A tensor.
    public static func tensor(_ e: ElementType, _ dims: [SymDim?]?, value: KnownValue? = nil) -> ValueFacts {
        ValueFacts(type: .tensor(e, dims), value: value)
    }

    func substituting(_ bindings: [String: SymDim]) -> ValueFacts {
        ValueFacts(type: type?.substituting(bindings), value: value?.substituting(bindings))
    }
}
