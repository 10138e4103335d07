/// Types of values flowing along edges: tensors with symbolic shapes, plus the sequence,
/// map, optional, sparse and opaque types ONNX allows. Unknown parts stay `nil` rather
/// than being guessed.

/// One dimension of a tensor shape.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    /// A fixed size.
    case known(Int64)
    /// A named size bound later (e.g. `batch`, `seq`).
    case symbolic(String)
    /// Present but neither fixed nor named.
    case unknown

    /// The fixed size if there is one.
    public var value: Int64? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let v): return String(v)
        case .symbolic(let s): return s
        case .unknown: return "?"
        }
    }
}

/// A tensor shape: a list of dimensions, each optionally carrying an ONNX denotation.
public struct TensorShape: Hashable, Sendable, CustomStringConvertible {
    /// The dimensions, outermost first.
    public var dims: [Dim]
    /// Per-dimension denotations (`DATA_BATCH`, ...); empty strings where none. Same length as
    /// `dims` or empty.
    public var denotations: [String]

    /// Creates a shape from dimensions (no denotations).
    public init(_ dims: [Dim], denotations: [String] = []) {
        self.dims = dims
        self.denotations = denotations
    }

    /// Creates a fully static shape.
    public init(static sizes: [Int64]) {
        self.init(sizes.map { .known($0) })
    }

    /// Number of dimensions.
    public var rank: Int { dims.count }

    /// The sizes when every dimension is fixed, else `nil`.
    public var staticSizes: [Int64]? {
        var out: [Int64] = []
        out.reserveCapacity(dims.count)
        for d in dims {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Element count when the shape is fully static (1 for a scalar), `nil` otherwise or on overflow.
    public var elementCount: Int64? {
        guard let sizes = staticSizes else { return nil }
        var n: Int64 = 1
        for s in sizes {
            let (p, o) = n.multipliedReportingOverflow(by: s)
            if o { return nil }
            n = p
        }
        return n
    }

    /// `[1,seq,768]` style text used in labels.
    public var description: String { "[" + dims.map(\.description).joined(separator: ",") + "]" }
}

/// The type of a value (an ONNX `TypeProto`).
public indirect enum ValueType: Hashable, Sendable, CustomStringConvertible {
    /// A dense tensor; `shape == nil` means the rank is unknown.
    case tensor(ElementType, TensorShape?)
    /// A sparse tensor.
    case sparseTensor(ElementType, TensorShape?)
    /// A sequence of values of one type (`nil`: unknown element type).
    case sequence(ValueType?)
    /// A map from a scalar key type to values.
    case map(key: ElementType, value: ValueType?)
    /// A value that may be absent.
    case optional(ValueType?)
    /// An opaque type named by domain and name.
    case opaque(domain: String, name: String)

    /// Element type of a (sparse) tensor type.
    public var elementType: ElementType? {
        switch self {
        case .tensor(let e, _), .sparseTensor(let e, _): return e
        default: return nil
        }
    }

    /// Shape of a (sparse) tensor type when known.
    public var shape: TensorShape? {
        switch self {
        case .tensor(_, let s), .sparseTensor(_, let s): return s
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .tensor(let e, let s): return "tensor(\(e.name))" + (s.map { $0.description } ?? "")
        case .sparseTensor(let e, let s): return "sparse_tensor(\(e.name))" + (s.map { $0.description } ?? "")
        case .sequence(let t): return "seq(\(t?.description ?? "?"))"
        case .map(let k, let v): return "map(\(k.name),\(v?.description ?? "?"))"
        case .optional(let t): return "optional(\(t?.description ?? "?"))"
        case .opaque(let d, let n): return "opaque(\(d),\(n))"
        }
    }
}
