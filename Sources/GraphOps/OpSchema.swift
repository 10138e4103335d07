/// The schema of one operator version: inputs, outputs, type constraints and attributes with
/// their types, defaults and legal values, as the ONNX spec (or a hand-written table for
/// contrib and TFLite ops) states them. Decoded from the JSON resources; value types only.

import GraphIR

/// How many values a formal input or output binds.
public enum ParameterOption: String, Codable, Sendable {
    /// Exactly one value.
    case single
    /// Zero or one value (an empty name in the node means "absent").
    case optional
    /// Any number of values (at least `minArity`); only the last formal parameter may be variadic.
    case variadic
}

/// One formal input or output of an operator.
public struct FormalParameter: Codable, Sendable, Equatable {
    /// The spec's name for it (`X`, `scales`, ...), used in validation messages.
    public var name: String
    /// Type-constraint name (`T`) or a literal type string (`tensor(int64)`).
    public var typeConstraint: String
    /// Single, optional or variadic.
    public var option: ParameterOption
    /// For a variadic parameter: whether every value must share one type (ONNX "homogeneous").
    public var isHomogeneous: Bool
    /// For a variadic parameter: the least number of values it binds.
    public var minArity: Int

    /// Creates a formal parameter.
    public init(name: String, typeConstraint: String, option: ParameterOption = .single,
                isHomogeneous: Bool = true, minArity: Int = 1) {
        self.name = name
        self.typeConstraint = typeConstraint
        self.option = option
        self.isHomogeneous = isHomogeneous
        self.minArity = minArity
    }

    enum CodingKeys: String, CodingKey { case name, tc, option, heterogeneous, minArity }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        typeConstraint = try c.decode(String.self, forKey: .tc)
        option = try c.decodeIfPresent(ParameterOption.self, forKey: .option) ?? .single
        isHomogeneous = !(try c.decodeIfPresent(Bool.self, forKey: .heterogeneous) ?? false)
        minArity = try c.decodeIfPresent(Int.self, forKey: .minArity) ?? 1
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(typeConstraint, forKey: .tc)
        if option != .single { try c.encode(option, forKey: .option) }
        if !isHomogeneous { try c.encode(true, forKey: .heterogeneous) }
        if minArity != 1 { try c.encode(minArity, forKey: .minArity) }
    }
}

/// A named set of allowed types (`T: tensor(float), tensor(float16)`).
public struct TypeConstraint: Codable, Sendable, Equatable {
    /// The constraint's name as formal parameters refer to it.
    public var name: String
    /// Allowed type strings, ONNX spelling (`tensor(float)`, `seq(tensor(int64))`, ...).
    public var types: [String]

    /// Creates a constraint.
    public init(name: String, types: [String]) {
        self.name = name
        self.types = types
    }

    /// The tensor element types among `types` (sequence/map/optional types left out).
    public var tensorElementTypes: Set<ElementType> {
        var out = Set<ElementType>()
        for t in types {
            guard t.hasPrefix("tensor("), t.hasSuffix(")") else { continue }
            if let e = ElementType(name: String(t.dropFirst(7).dropLast())) { out.insert(e) }
        }
        return out
    }
}

/// The kind of value an attribute holds, named as ONNX's `AttributeProto.AttributeType`.
public enum AttributeKind: String, Codable, Sendable, CaseIterable {
    case float, int, string, tensor, graph, floats, ints, strings, tensors, graphs
    case sparseTensor = "sparse_tensor", sparseTensors = "sparse_tensors"
    case typeProto = "type_proto", typeProtos = "type_protos"

    /// The ONNX `AttributeType` number, matching `AttributeValue.typeCode`.
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

    /// The kind of an attribute value.
    public init?(of value: AttributeValue) {
        guard let k = AttributeKind.allCases.first(where: { $0.typeCode == value.typeCode }) else { return nil }
        self = k
    }
}

/// A scalar or list default (or legal value) as the JSON resource carries it.
public enum AttributeDefault: Codable, Sendable, Equatable, CustomStringConvertible {
    case int(Int64)
    case float(Double)
    case string(String)
    case ints([Int64])
    case floats([Double])
    case strings([String])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let f = try? c.decode(Double.self) { self = .float(f); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let i = try? c.decode([Int64].self) { self = .ints(i); return }
        if let f = try? c.decode([Double].self) { self = .floats(f); return }
        self = .strings(try c.decode([String].self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .float(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .ints(let v): try c.encode(v)
        case .floats(let v): try c.encode(v)
        case .strings(let v): try c.encode(v)
        }
    }

    /// Display form, as `info` prints it (`"NOTSET"`, `1`, `[1, 1]`).
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return formatFloat(v)
        case .string(let v): return "\"\(v)\""
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        case .floats(let v): return "[" + v.map(formatFloat).joined(separator: ", ") + "]"
        case .strings(let v): return "[" + v.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}

private func formatFloat(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return "\(Int64(v)).0" }
    return "\(v)"
}

/// One attribute an operator accepts.
public struct AttributeSchema: Codable, Sendable, Equatable {
    /// Attribute name.
    public var name: String
    /// Its kind.
    public var kind: AttributeKind
    /// True when a node must carry it.
    public var isRequired: Bool
    /// The value assumed when the node does not carry it, where the spec gives one.
    public var defaultValue: AttributeDefault?
    /// The values the spec allows, where it enumerates them (string attributes such as
    /// `auto_pad`); `nil` means any value of the right kind.
    public var legalValues: [String]?

    /// Creates an attribute schema.
    public init(name: String, kind: AttributeKind, isRequired: Bool = false,
                defaultValue: AttributeDefault? = nil, legalValues: [String]? = nil) {
        self.name = name
        self.kind = kind
        self.isRequired = isRequired
        self.defaultValue = defaultValue
        self.legalValues = legalValues
    }

    enum CodingKeys: String, CodingKey { case name, type, required, `default`, legal }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(AttributeKind.self, forKey: .type)
        isRequired = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        // JSON does not tell 1 from 1.0, so the attribute's kind decides how a default reads.
        switch kind {
        case .float: defaultValue = try c.decodeIfPresent(Double.self, forKey: .default).map(AttributeDefault.float)
        case .floats: defaultValue = try c.decodeIfPresent([Double].self, forKey: .default).map(AttributeDefault.floats)
        case .int: defaultValue = try c.decodeIfPresent(Int64.self, forKey: .default).map(AttributeDefault.int)
        case .ints: defaultValue = try c.decodeIfPresent([Int64].self, forKey: .default).map(AttributeDefault.ints)
        case .string: defaultValue = try c.decodeIfPresent(String.self, forKey: .default).map(AttributeDefault.string)
        case .strings: defaultValue = try c.decodeIfPresent([String].self, forKey: .default).map(AttributeDefault.strings)
        default: defaultValue = nil
        }
        legalValues = try c.decodeIfPresent([String].self, forKey: .legal)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .type)
        if isRequired { try c.encode(true, forKey: .required) }
        try c.encodeIfPresent(defaultValue, forKey: .default)
        try c.encodeIfPresent(legalValues, forKey: .legal)
    }
}

/// The schema of one operator at one since-version.
public struct OpSchema: Codable, Sendable, Equatable {
    /// Domain; `""` is the default ONNX domain (`ai.onnx`).
    public var domain: String
    /// Operator type (`Conv`).
    public var opType: String
    /// The opset version this schema was introduced in; it stays in force until a later one.
    public var sinceVersion: Int
    /// True when the op is deprecated from this version on.
    public var isDeprecated: Bool
    /// The op's family.
    public var category: OpCategory
    /// Least and greatest number of inputs (`maxInputs` nil: unbounded).
    public var minInputs: Int
    public var maxInputs: Int?
    /// Least and greatest number of outputs (`maxOutputs` nil: unbounded).
    public var minOutputs: Int
    public var maxOutputs: Int?
    /// Formal inputs, in order.
    public var inputs: [FormalParameter]
    /// Formal outputs, in order.
    public var outputs: [FormalParameter]
    /// Named type constraints the formal parameters refer to.
    public var typeConstraints: [TypeConstraint]
    /// Attributes the op accepts.
    public var attributes: [AttributeSchema]

    /// Creates a schema.
    public init(domain: String, opType: String, sinceVersion: Int, isDeprecated: Bool = false,
                category: OpCategory, minInputs: Int, maxInputs: Int?, minOutputs: Int, maxOutputs: Int?,
                inputs: [FormalParameter], outputs: [FormalParameter], typeConstraints: [TypeConstraint] = [],
                attributes: [AttributeSchema] = []) {
        self.domain = domain
        self.opType = opType
        self.sinceVersion = sinceVersion
        self.isDeprecated = isDeprecated
        self.category = category
        self.minInputs = minInputs
        self.maxInputs = maxInputs
        self.minOutputs = minOutputs
        self.maxOutputs = maxOutputs
        self.inputs = inputs
        self.outputs = outputs
        self.typeConstraints = typeConstraints
        self.attributes = attributes
    }

    /// The attribute schema named `name`, if the op has one.
    public func attribute(_ name: String) -> AttributeSchema? { attributes.first { $0.name == name } }

    /// The constraint named `name`, if any.
    public func typeConstraint(_ name: String) -> TypeConstraint? { typeConstraints.first { $0.name == name } }

    /// The allowed types of a formal parameter: its constraint's list, or its literal type.
    public func allowedTypes(of p: FormalParameter) -> TypeConstraint {
        typeConstraint(p.typeConstraint) ?? TypeConstraint(name: p.typeConstraint, types: [p.typeConstraint])
    }

    /// The formal input that binds actual input `index` (the last one if it is variadic).
    public func formalInput(at index: Int) -> FormalParameter? { formal(inputs, index) }

    /// The formal output that binds actual output `index`.
    public func formalOutput(at index: Int) -> FormalParameter? { formal(outputs, index) }

    private func formal(_ list: [FormalParameter], _ index: Int) -> FormalParameter? {
        if index < list.count { return list[index] }
        if let last = list.last, last.option == .variadic { return last }
        return nil
    }

    /// `domain::Op-version` for messages (`ai.onnx::Resize-19`).
    public var qualifiedName: String { "\(domain.isEmpty ? "ai.onnx" : domain)::\(opType)-\(sinceVersion)" }

    enum CodingKeys: String, CodingKey {
        case domain, op, since, deprecated, category, minInputs, maxInputs, minOutputs, maxOutputs,
             inputs, outputs, typeConstraints, attributes
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        domain = try c.decode(String.self, forKey: .domain)
        opType = try c.decode(String.self, forKey: .op)
        sinceVersion = try c.decode(Int.self, forKey: .since)
        isDeprecated = try c.decodeIfPresent(Bool.self, forKey: .deprecated) ?? false
        category = try c.decode(OpCategory.self, forKey: .category)
        minInputs = try c.decode(Int.self, forKey: .minInputs)
        let maxIn = try c.decode(Int.self, forKey: .maxInputs)
        maxInputs = maxIn < 0 ? nil : maxIn
        minOutputs = try c.decode(Int.self, forKey: .minOutputs)
        let maxOut = try c.decode(Int.self, forKey: .maxOutputs)
        maxOutputs = maxOut < 0 ? nil : maxOut
        inputs = try c.decodeIfPresent([FormalParameter].self, forKey: .inputs) ?? []
        outputs = try c.decodeIfPresent([FormalParameter].self, forKey: .outputs) ?? []
        typeConstraints = try c.decodeIfPresent([TypeConstraint].self, forKey: .typeConstraints) ?? []
        attributes = try c.decodeIfPresent([AttributeSchema].self, forKey: .attributes) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(domain, forKey: .domain)
        try c.encode(opType, forKey: .op)
        try c.encode(sinceVersion, forKey: .since)
        try c.encode(category, forKey: .category)
        if isDeprecated { try c.encode(true, forKey: .deprecated) }
        try c.encode(minInputs, forKey: .minInputs)
        try c.encode(maxInputs ?? -1, forKey: .maxInputs)
        try c.encode(minOutputs, forKey: .minOutputs)
        try c.encode(maxOutputs ?? -1, forKey: .maxOutputs)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(typeConstraints, forKey: .typeConstraints)
        try c.encode(attributes, forKey: .attributes)
    }
}
