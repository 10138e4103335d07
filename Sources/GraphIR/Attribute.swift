/// Typed node attributes (every ONNX attribute kind, including graphs for If/Loop/Scan bodies,
/// sparse tensors, type protos and function attribute references).

/// An attribute's value; the case is the attribute's type.
public enum AttributeValue: Sendable, Equatable {
    /// A 32-bit float (`alpha`, `epsilon`, ...).
    case float(Float)
    /// A 64-bit integer (`axis`, `keepdims`, ...).
    case int(Int64)
    /// Bytes; ONNX says UTF-8 but files may hold arbitrary bytes, kept exactly.
    case string([UInt8])
    /// A constant tensor (e.g. `Constant.value`).
    case tensor(Tensor)
    /// A subgraph (If/Loop/Scan body), with outer-scope references resolved by the owner.
    case graph(Graph)
    /// A sparse constant.
    case sparseTensor(SparseTensor)
    /// A type (e.g. for `Optional`/`SequenceEmpty` ops).
    case typeProto(ValueType)
    /// A float list.
    case floats([Float])
    /// An integer list (`pads`, `strides`, `perm`, ...).
    case ints([Int64])
    /// A list of byte strings.
    case strings([[UInt8]])
    /// A list of tensors.
    case tensors([Tensor])
    /// A list of subgraphs.
    case graphs([Graph])
    /// A list of sparse tensors.
    case sparseTensors([SparseTensor])
    /// A list of types.
    case typeProtos([ValueType])

    /// A string attribute from text.
    public static func text(_ s: String) -> AttributeValue { .string(Array(s.utf8)) }

    /// The ONNX `AttributeType` number of this case.
    public var typeCode: Int32 {
        switch self {
        case .float: return 1
        case .int: return 2
        case .string: return 3
        case .tensor: return 4
        case .graph: return 5
        case .floats: return 6
        case .ints: return 7
        case .strings: return 8
        case .tensors: return 9
        case .graphs: return 10
        case .sparseTensor: return 11
        case .sparseTensors: return 12
        case .typeProto: return 13
        case .typeProtos: return 14
        }
    }

    /// The element type of a tensor value (ConstantOfShape's fill), nil for other values.
    public var tensorElementType: ElementType? {
        if case .tensor(let t) = self { return t.elementType }
        return nil
    }

    /// The string value decoded as UTF-8 (lossy), if this is a string attribute.
    public var stringValue: String? {
        if case .string(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    /// The integer value, if this is an int attribute.
    public var intValue: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    /// The float value (ints widen), if numeric scalar.
    public var floatValue: Float? {
        switch self {
        case .float(let f): return f
        case .int(let i): return Float(i)
        default: return nil
        }
    }

    /// The int list, if this is an ints attribute.
    public var intsValue: [Int64]? {
        if case .ints(let v) = self { return v }
        return nil
    }

    /// Subgraphs carried by this value (one for `.graph`, all for `.graphs`).
    public var subgraphs: [Graph] {
        switch self {
        case .graph(let g): return [g]
        case .graphs(let gs): return gs
        default: return []
        }
    }

    /// Short human-readable rendering for labels and tables (tensors summarized).
    public var displayString: String {
        func s(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        switch self {
        case .float(let f): return String(f)
        case .int(let i): return String(i)
        case .string(let b): return s(b)
        case .tensor(let t): return "tensor(\(t.elementType.name)\(t.dims))"
        case .graph(let g): return "graph(\(g.name), \(g.nodes.count) nodes)"
        case .sparseTensor(let t): return "sparse_tensor(\(t.values.elementType.name)\(t.dims))"
        case .typeProto(let t): return t.description
        case .floats(let v): return "[" + v.map { String($0) }.joined(separator: ", ") + "]"
        case .ints(let v): return "[" + v.map { String($0) }.joined(separator: ", ") + "]"
        case .strings(let v): return "[" + v.map(s).joined(separator: ", ") + "]"
        case .tensors(let v): return "[\(v.count) tensors]"
        case .graphs(let v): return "[\(v.count) graphs]"
        case .sparseTensors(let v): return "[\(v.count) sparse tensors]"
        case .typeProtos(let v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// A named attribute of a node (ONNX `AttributeProto`).
public struct Attribute: Sendable, Equatable {
    /// Attribute name (`axis`, `then_branch`, ...).
    public var name: String
    /// The value. For a reference attribute (`refAttrName != nil`) it only carries the type;
    /// its payload is meaningless and writers emit just the type.
    public var value: AttributeValue
    /// Inside a function body: the name of the function attribute this one refers to.
    public var refAttrName: String?
    /// Documentation string.
    public var docString: String
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields

}

// In an extension so the synthesized memberwise initializer stays available: delegating to it
// builds the attribute directly in the result instead of copying it out field by field.
extension Attribute {
    /// Creates an attribute.
    public init(_ name: String, _ value: AttributeValue, refAttrName: String? = nil, docString: String = "",
                unknownFields: UnknownFields = UnknownFields()) {
        self.init(name: name, value: value, refAttrName: refAttrName, docString: docString, unknownFields: unknownFields)
    }
}
