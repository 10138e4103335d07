/// `Codable` for edits, so the journal can store them and `history` can compare them: a
/// tagged JSON object per edit. Floats are stored as bit patterns (NaN and -0 survive exactly);
/// tensors as their packed little-endian bytes in base64. Graph-valued attributes are not
/// encodable (no command sets a whole body); encoding one fails with a clear message.
import Foundation
import GraphIR

extension GraphEdit: Codable {
    private enum Key: String, CodingKey {
        case kind, node, nodeSpec, index, value, name, to, type, tensor, from, axis, key, of, with
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .addNode(let n):
            try c.encode("addNode", forKey: .kind)
            try c.encode(CodableNewNode(n), forKey: .nodeSpec)
        case .removeNode(let id):
            try c.encode("removeNode", forKey: .kind)
            try c.encode(id.rawValue, forKey: .node)
        case .replaceUses(let a, let b):
            try c.encode("replaceUses", forKey: .kind)
            try c.encode(a, forKey: .of)
            try c.encode(b, forKey: .with)
        case .setInput(let id, let i, let v):
            try c.encode("setInput", forKey: .kind)
            try c.encode(id.rawValue, forKey: .node)
            try c.encode(i, forKey: .index)
            try c.encode(v, forKey: .value)
        case .setAttribute(let id, let name, let v):
            try c.encode("setAttribute", forKey: .kind)
            try c.encode(id.rawValue, forKey: .node)
            try c.encode(name, forKey: .name)
            try c.encodeIfPresent(v.map(CodableAttributeValue.init), forKey: .value)
        case .renameNode(let id, let to):
            try c.encode("renameNode", forKey: .kind)
            try c.encode(id.rawValue, forKey: .node)
            try c.encode(to, forKey: .to)
        case .renameValue(let a, let b):
            try c.encode("renameValue", forKey: .kind)
            try c.encode(a, forKey: .name)
            try c.encode(b, forKey: .to)
        case .addInput(let n, let t), .addOutput(let n, let t):
            if case .addInput = self { try c.encode("addInput", forKey: .kind) } else { try c.encode("addOutput", forKey: .kind) }
            try c.encode(n, forKey: .name)
            try c.encodeIfPresent(t.map(CodableValueType.init), forKey: .type)
        case .removeInput(let n):
            try c.encode("removeInput", forKey: .kind)
            try c.encode(n, forKey: .name)
        case .removeOutput(let n):
            try c.encode("removeOutput", forKey: .kind)
            try c.encode(n, forKey: .name)
        case .setInitializer(let t):
            try c.encode("setInitializer", forKey: .kind)
            try c.encode(CodableTensor(t), forKey: .tensor)
        case .removeInitializer(let n):
            try c.encode("removeInitializer", forKey: .kind)
            try c.encode(n, forKey: .name)
        case .setValueType(let n, let t):
            try c.encode("setValueType", forKey: .kind)
            try c.encode(n, forKey: .name)
            try c.encodeIfPresent(t.map(CodableValueType.init), forKey: .type)
        case .setDimension(let from, let to, let v, let axis):
            try c.encode("setDimension", forKey: .kind)
            try c.encode(CodableDim(from), forKey: .from)
            try c.encode(CodableDim(to), forKey: .to)
            try c.encodeIfPresent(v, forKey: .name)
            try c.encodeIfPresent(axis, forKey: .axis)
        case .annotate(let id, let k, let v):
            try c.encode("annotate", forKey: .kind)
            try c.encode(id.rawValue, forKey: .node)
            try c.encode(k, forKey: .key)
            try c.encodeIfPresent(v, forKey: .value)
        case .setOpset(let d, let v):
            try c.encode("setOpset", forKey: .kind)
            try c.encode(d, forKey: .name)
            try c.encode(v, forKey: .index)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let kind = try c.decode(String.self, forKey: .kind)
        func node() throws -> NodeID { NodeID(try c.decode(Int.self, forKey: .node)) }
        switch kind {
        case "addNode": self = .addNode(try c.decode(CodableNewNode.self, forKey: .nodeSpec).node)
        case "removeNode": self = .removeNode(try node())
        case "replaceUses": self = .replaceUses(of: try c.decode(String.self, forKey: .of), with: try c.decode(String.self, forKey: .with))
        case "setInput":
            self = .setInput(node: try node(), index: try c.decode(Int.self, forKey: .index), value: try c.decode(String.self, forKey: .value))
        case "setAttribute":
            self = .setAttribute(node: try node(), name: try c.decode(String.self, forKey: .name),
                                 value: try c.decodeIfPresent(CodableAttributeValue.self, forKey: .value)?.value)
        case "renameNode": self = .renameNode(try node(), to: try c.decode(String.self, forKey: .to))
        case "renameValue": self = .renameValue(try c.decode(String.self, forKey: .name), to: try c.decode(String.self, forKey: .to))
        case "addInput":
            self = .addInput(name: try c.decode(String.self, forKey: .name), type: try c.decodeIfPresent(CodableValueType.self, forKey: .type)?.type)
        case "addOutput":
            self = .addOutput(name: try c.decode(String.self, forKey: .name), type: try c.decodeIfPresent(CodableValueType.self, forKey: .type)?.type)
        case "removeInput": self = .removeInput(try c.decode(String.self, forKey: .name))
        case "removeOutput": self = .removeOutput(try c.decode(String.self, forKey: .name))
        case "setInitializer": self = .setInitializer(try c.decode(CodableTensor.self, forKey: .tensor).tensor)
        case "removeInitializer": self = .removeInitializer(try c.decode(String.self, forKey: .name))
        case "setValueType":
            self = .setValueType(try c.decode(String.self, forKey: .name), try c.decodeIfPresent(CodableValueType.self, forKey: .type)?.type)
        case "setDimension":
            self = .setDimension(from: try c.decode(CodableDim.self, forKey: .from).dim, to: try c.decode(CodableDim.self, forKey: .to).dim,
                                 value: try c.decodeIfPresent(String.self, forKey: .name), axis: try c.decodeIfPresent(Int.self, forKey: .axis))
        case "annotate":
            self = .annotate(try node(), key: try c.decode(String.self, forKey: .key), value: try c.decodeIfPresent(String.self, forKey: .value))
        case "setOpset":
            self = .setOpset(domain: try c.decode(String.self, forKey: .name), version: try c.decode(Int64.self, forKey: .index))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown edit kind '\(kind)'")
        }
    }
}

extension ScopedEdit: Codable {
    private enum Key: String, CodingKey { case scope, edit }
    private struct Step: Codable { var owner: Int; var attribute: String; var index: Int }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        if !scope.isEmpty { try c.encode(scope.map { Step(owner: $0.owner.rawValue, attribute: $0.attribute, index: $0.index) }, forKey: .scope) }
        try c.encode(edit, forKey: .edit)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let steps = try c.decodeIfPresent([Step].self, forKey: .scope) ?? []
        self.init(try c.decode(GraphEdit.self, forKey: .edit),
                  in: steps.map { BodyStep(owner: NodeID($0.owner), attribute: $0.attribute, index: $0.index) })
    }
}

/// `NewNode` on the wire.
private struct CodableNewNode: Codable {
    var opType: String, domain: String, name: String, inputs: [String], outputs: [String]
    var attributes: [String: CodableAttributeValue]
    var order: [String]
    var sources: [Int]
    var annotations: [String: String]
    var path: [String]?

    init(_ n: NewNode) {
        opType = n.opType; domain = n.domain; name = n.name; inputs = n.inputs; outputs = n.outputs
        attributes = [:]
        for a in n.attributes { attributes[a.name] = CodableAttributeValue(a.value) }
        order = n.attributes.map(\.name)
        sources = n.sources.map(\.rawValue)
        annotations = n.annotations
        path = n.hierarchyPath
    }

    var node: NewNode {
        NewNode(opType: opType, domain: domain, name: name, inputs: inputs, outputs: outputs,
                attributes: order.compactMap { k in attributes[k].map { Attribute(k, $0.value) } },
                sources: sources.map(NodeID.init), annotations: annotations, hierarchyPath: path)
    }
}

/// A dimension: a number, a symbol (string) or null for unknown.
struct CodableDim: Codable {
    var dim: Dim
    init(_ d: Dim) { dim = d }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch dim {
        case .known(let v): try c.encode(v)
        case .symbolic(let s): try c.encode(s)
        case .unknown: try c.encodeNil()
        }
    }
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { dim = .unknown }
        else if let v = try? c.decode(Int64.self) { dim = .known(v) }
        else { dim = .symbolic(try c.decode(String.self)) }
    }
}

/// A value type: tensors (element type and optional shape), sequences and optionals.
struct CodableValueType: Codable {
    var type: ValueType
    private enum Key: String, CodingKey { case tensor, shape, sequence, optional }

    init(_ t: ValueType) { type = t }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch type {
        case .tensor(let e, let s):
            try c.encode(e.rawValue, forKey: .tensor)
            try c.encodeIfPresent(s.map { $0.dims.map(CodableDim.init) }, forKey: .shape)
        case .sequence(let t): try c.encodeIfPresent(t.map(CodableValueType.init), forKey: .sequence)
        case .optional(let t): try c.encodeIfPresent(t.map(CodableValueType.init), forKey: .optional)
        default:
            throw EncodingError.invalidValue(type, .init(codingPath: encoder.codingPath, debugDescription: "type \(type) cannot be stored in an edit"))
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let raw = try c.decodeIfPresent(Int32.self, forKey: .tensor) {
            guard let e = ElementType(rawValue: raw) else {
                throw DecodingError.dataCorruptedError(forKey: .tensor, in: c, debugDescription: "unknown element type \(raw)")
            }
            type = .tensor(e, try c.decodeIfPresent([CodableDim].self, forKey: .shape).map { TensorShape($0.map(\.dim)) })
        } else if c.contains(.sequence) {
            type = .sequence(try c.decodeIfPresent(CodableValueType.self, forKey: .sequence)?.type)
        } else {
            type = .optional(try c.decodeIfPresent(CodableValueType.self, forKey: .optional)?.type)
        }
    }
}

/// A tensor: name, element type, dims and packed bytes (base64), or string elements.
struct CodableTensor: Codable {
    var name: String, dtype: Int32, dims: [Int64]
    var bytes: Data?
    var strings: [Data]?

    init(_ t: Tensor) throws {
        name = t.name; dtype = t.elementType.rawValue; dims = t.dims
        if t.elementType == .string { strings = try t.stringValues().map { Data($0) } } else { bytes = Data(try t.packedBytes()) }
    }

    var tensor: Tensor {
        get throws {
            guard let e = ElementType(rawValue: dtype) else { throw TensorDataError(tensor: name, reason: "unknown element type \(dtype)") }
            if let strings { return Tensor(name: name, elementType: e, dims: dims, data: .strings(strings.map { [UInt8]($0) })) }
            return Tensor(name: name, elementType: e, dims: dims, data: .raw(ByteSlice(copying: [UInt8](bytes ?? Data()))))
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        dtype = try c.decode(Int32.self, forKey: .dtype)
        dims = try c.decode([Int64].self, forKey: .dims)
        bytes = try c.decodeIfPresent(Data.self, forKey: .bytes)
        strings = try c.decodeIfPresent([Data].self, forKey: .strings)
    }
}

/// An attribute value: one tagged key per kind (`f` holds float bit patterns).
struct CodableAttributeValue: Codable {
    var value: AttributeValue
    private enum Key: String, CodingKey { case f, i, s, t, fs, i_s = "is", ss, type }

    init(_ v: AttributeValue) { value = v }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch value {
        case .float(let f): try c.encode(f.bitPattern, forKey: .f)
        case .int(let i): try c.encode(i, forKey: .i)
        case .string(let b): try c.encode(Data(b), forKey: .s)
        case .tensor(let t): try c.encode(try CodableTensor(t), forKey: .t)
        case .floats(let v): try c.encode(v.map(\.bitPattern), forKey: .fs)
        case .ints(let v): try c.encode(v, forKey: .i_s)
        case .strings(let v): try c.encode(v.map { Data($0) }, forKey: .ss)
        case .typeProto(let t): try c.encode(CodableValueType(t), forKey: .type)
        default:
            throw EncodingError.invalidValue(value.displayString, .init(codingPath: encoder.codingPath,
                debugDescription: "a \(value.displayString) attribute cannot be stored in an edit"))
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let f = try c.decodeIfPresent(UInt32.self, forKey: .f) { value = .float(Float(bitPattern: f)) }
        else if let i = try c.decodeIfPresent(Int64.self, forKey: .i) { value = .int(i) }
        else if let s = try c.decodeIfPresent(Data.self, forKey: .s) { value = .string([UInt8](s)) }
        else if let t = try c.decodeIfPresent(CodableTensor.self, forKey: .t) { value = .tensor(try t.tensor) }
        else if let v = try c.decodeIfPresent([UInt32].self, forKey: .fs) { value = .floats(v.map(Float.init(bitPattern:))) }
        else if let v = try c.decodeIfPresent([Int64].self, forKey: .i_s) { value = .ints(v) }
        else if let v = try c.decodeIfPresent([Data].self, forKey: .ss) { value = .strings(v.map { [UInt8]($0) }) }
        else if let t = try c.decodeIfPresent(CodableValueType.self, forKey: .type) { value = .typeProto(t.type) }
        else { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "attribute value of unknown kind")) }
    }
}
