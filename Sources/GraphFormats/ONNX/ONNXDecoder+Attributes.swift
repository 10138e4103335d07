/// The ONNX decoder's AttributeProto, ValueInfoProto and TypeProto readers (the model, graph,
/// node and function readers are in ONNXReader.swift, the TensorProto reader in
/// ONNXDecoder+Tensors.swift).
import Foundation
import GraphIR

extension ONNXDecoder {
    // MARK: AttributeProto

    /// Reads an AttributeProto; sets `hasGraph` when its value holds at least one graph.
    func readAttribute(_ cursor: ProtoCursor, hasGraph: inout Bool) throws -> Attribute {
        if cursor.onlyFields(in: ONNXDecoder.simpleAttributeFields), let a = try readSimpleAttribute(cursor) { return a }
        return try readAttributeGeneral(cursor, hasGraph: &hasGraph)
    }

    /// Any AttributeProto (see `readAttribute`).
    func readAttributeGeneral(_ cursor: ProtoCursor, hasGraph: inout Bool) throws -> Attribute {
        generalAttributes += 1
        var c = cursor
        try enter(c)
        defer { depth -= 1 }
        var name = "", doc = ""
        var ref: String?
        var type: Int32?
        var f: Float?, i: Int64?, s: [UInt8]?, t: Tensor?, g: Graph?, sp: SparseTensor?, tp: ValueType?
        var floats: [Float] = [], ints: [Int64] = [], strings: [[UInt8]] = []
        var tensors: [Tensor] = [], graphs: [Graph] = [], sparses: [SparseTensor] = [], tps: [ValueType] = []
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "name", at: tagStart); name = try self.name(&c)
            case 21: try c.expect(wt, .lengthDelimited, "ref_attr_name", at: tagStart); ref = c.string(try c.readLengthDelimited())
            case 13: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 13, &defaults)
            case 20: try c.expect(wt, .varint, "type", at: tagStart); type = Int32(truncatingIfNeeded: try c.readVarint())
            case 2: try c.expect(wt, .fixed32, "f", at: tagStart); f = Float(bitPattern: try c.readFixed32())
            case 3: try c.expect(wt, .varint, "i", at: tagStart); i = Int64(bitPattern: try c.readVarint())
            case 4: try c.expect(wt, .lengthDelimited, "s", at: tagStart); s = c.bytes(try c.readLengthDelimited())
            case 5: t = try c.message("t", -1, wt, tagStart) { try readTensor($0) }
            case 6:
                try c.expect(wt, .lengthDelimited, "g", at: tagStart)
                c.push("g"); g = try readGraph(c.sub(try c.readLengthDelimited()), isSubgraph: true); c.pop()
            case 22: sp = try c.message("sparse_tensor", -1, wt, tagStart) { try readSparse($0) }
            case 14: tp = try c.message("tp", -1, wt, tagStart) { try readType($0).0 }
            case 7: try c.appendFloats(&floats, field: 7, wireType: wt, tagStart: tagStart)
            case 8: try c.appendInt64s(&ints, field: 8, wireType: wt, tagStart: tagStart)
            case 9: try c.expect(wt, .lengthDelimited, "strings", at: tagStart); strings.append(c.bytes(try c.readLengthDelimited()))
            case 10:
                try c.expect(wt, .lengthDelimited, "tensors", at: tagStart)
                c.push("tensors", tensors.count); tensors.append(try readTensor(c.sub(try c.readLengthDelimited()))); c.pop()
            case 11:
                try c.expect(wt, .lengthDelimited, "graphs", at: tagStart)
                c.push("graphs", graphs.count); graphs.append(try readGraph(c.sub(try c.readLengthDelimited()), isSubgraph: true)); c.pop()
            case 23:
                try c.expect(wt, .lengthDelimited, "sparse_tensors", at: tagStart)
                c.push("sparse_tensors", sparses.count); sparses.append(try readSparse(c.sub(try c.readLengthDelimited()))); c.pop()
            case 15:
                try c.expect(wt, .lengthDelimited, "type_protos", at: tagStart)
                c.push("type_protos", tps.count)
                if let v = try readType(c.sub(try c.readLengthDelimited())).0 { tps.append(v) }
                c.pop()
            default:
                try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        // The `type` discriminator decides; old files without it use whichever field is set.
        let code = type ?? {
            if f != nil { return 1 }; if i != nil { return 2 }; if s != nil { return 3 }; if t != nil { return 4 }
            if g != nil { return 5 }; if sp != nil { return 11 }; if tp != nil { return 13 }
            if !floats.isEmpty { return 6 }; if !ints.isEmpty { return 7 }; if !strings.isEmpty { return 8 }
            if !tensors.isEmpty { return 9 }; if !graphs.isEmpty { return 10 }; if !sparses.isEmpty { return 12 }
            if !tps.isEmpty { return 14 }
            return 0
        }()
        // Payloads are moved (`take()`) into the value, not copied.
        let value: AttributeValue
        switch code {
        case 1: value = .float(f ?? 0)
        case 2: value = .int(i ?? 0)
        case 3: value = .string(s ?? [])
        case 4:
            guard let tv = t.take() ?? (ref != nil ? Tensor(elementType: .float, dims: [], data: .none) : nil) else {
                throw c.error("attribute '\(name)' has type TENSOR but no tensor", at: cursor.pos)
            }
            value = .tensor(tv)
        case 5:
            guard let gv = g.take() ?? (ref != nil ? Graph(isSubgraph: true) : nil) else {
                throw c.error("attribute '\(name)' has type GRAPH but no graph", at: cursor.pos)
            }
            value = .graph(gv)
            hasGraph = true
        case 11:
            guard let sv = sp.take() ?? (ref != nil ? SparseTensor(values: Tensor(elementType: .float, dims: [], data: .none),
                                                            indices: Tensor(elementType: .int64, dims: [], data: .none), dims: []) : nil) else {
                throw c.error("attribute '\(name)' has type SPARSE_TENSOR but no sparse tensor", at: cursor.pos)
            }
            value = .sparseTensor(sv)
        case 13:
            guard let tv = tp ?? (ref != nil ? ValueType.tensor(.undefined, nil) : nil) else {
                throw c.error("attribute '\(name)' has type TYPE_PROTO but no type", at: cursor.pos)
            }
            value = .typeProto(tv)
        case 6: value = .floats(floats)
        case 7: value = .ints(ints)
        case 8: value = .strings(strings)
        case 9: value = .tensors(tensors)
        case 10:
            value = .graphs(graphs)
            if !graphs.isEmpty { hasGraph = true }
        case 12: value = .sparseTensors(sparses)
        case 14: value = .typeProtos(tps)
        default:
            throw c.error("attribute '\(name)' has unknown or missing type \(code)", at: cursor.pos)
        }
        return Attribute(consume name, consume value, refAttrName: consume ref, docString: consume doc,
                         unknownFields: UnknownFields(consume unknown, presentDefaults: presentSet(defaults)))
    }

    /// Fields of the common attributes (name, doc, type, ref, f, i, s, t, floats, ints).
    static let simpleAttributeFields: UInt64 = [1, 2, 3, 4, 5, 7, 8, 13, 20, 21].reduce(0) { $0 | (1 << UInt64($1)) }

    /// `readAttribute` for an attribute holding only `simpleAttributeFields` (all well formed):
    /// the same decoding and checks with far fewer locals to set up and tear down, which is
    /// most of the cost of the small attributes (`axes`, `pads`, ...) of a big graph. No
    /// graph can occur here.
    /// Returns nil (having thrown nothing) for a type whose payload field is absent; the
    /// general reader then handles it, exactly as for any other attribute.
    func readSimpleAttribute(_ cursor: ProtoCursor) throws -> Attribute? {
        var c = cursor
        try enter(c)
        defer { depth -= 1 }
        var name = "", doc = ""
        var ref: String?
        var type: Int32?
        var f: Float?, i: Int64?, s: [UInt8]?, t: Tensor?
        var floats: [Float] = []
        var ints = SmallInt64List()  // shared through `intLists` once complete
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "name", at: tagStart); name = try self.name(&c)
            case 21: try c.expect(wt, .lengthDelimited, "ref_attr_name", at: tagStart); ref = c.string(try c.readLengthDelimited())
            case 13: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 13, &defaults)
            case 20: try c.expect(wt, .varint, "type", at: tagStart); type = Int32(truncatingIfNeeded: try c.readVarint())
            case 2: try c.expect(wt, .fixed32, "f", at: tagStart); f = Float(bitPattern: try c.readFixed32())
            case 3: try c.expect(wt, .varint, "i", at: tagStart); i = Int64(bitPattern: try c.readVarint())
            case 4: try c.expect(wt, .lengthDelimited, "s", at: tagStart); s = c.bytes(try c.readLengthDelimited())
            case 5: t = try c.message("t", -1, wt, tagStart) { try readTensor($0) }
            case 7: try c.appendFloats(&floats, field: 7, wireType: wt, tagStart: tagStart)
            case 8: try c.appendInt64s(&ints, field: 8, wireType: wt, tagStart: tagStart)
            default:
                // Unreachable: onlyFields(in:) admitted only the fields above.
                throw c.error("unexpected field \(field) in attribute", at: tagStart)
            }
        }
        // Same rule as readAttribute: `type` decides, else whichever field is set.
        let code = type ?? {
            if f != nil { return 1 }; if i != nil { return 2 }; if s != nil { return 3 }; if t != nil { return 4 }
            if !floats.isEmpty { return 6 }; if !ints.isEmpty { return 7 }
            return 0
        }()
        let unknownFields = UnknownFields([], presentDefaults: presentSet(defaults))
        switch code {
        case 1: return Attribute(consume name, .float(f ?? 0), refAttrName: consume ref, docString: consume doc, unknownFields: unknownFields)
        case 2: return Attribute(consume name, .int(i ?? 0), refAttrName: consume ref, docString: consume doc, unknownFields: unknownFields)
        case 3: return Attribute(consume name, .string(s ?? []), refAttrName: consume ref, docString: consume doc, unknownFields: unknownFields)
        case 4:
            guard let tv = t.take() ?? (ref != nil ? Tensor(elementType: .float, dims: [], data: .none) : nil) else {
                throw c.error("attribute '\(name)' has type TENSOR but no tensor", at: cursor.pos)
            }
            return Attribute(name, .tensor(tv), refAttrName: ref, docString: doc, unknownFields: unknownFields)
        case 6: return Attribute(consume name, .floats(consume floats), refAttrName: consume ref, docString: consume doc, unknownFields: unknownFields)
        case 7: return Attribute(consume name, .ints(intLists.array(ints)), refAttrName: consume ref, docString: consume doc, unknownFields: unknownFields)
        case 5, 8, 9, 10, 11, 12, 13, 14:
            return nil
        default:
            throw c.error("attribute '\(name)' has unknown or missing type \(code)", at: cursor.pos)
        }
    }

    // MARK: ValueInfoProto / TypeProto

    func readValueInfo(_ cursor: ProtoCursor) throws -> ValueInfo {
        var c = cursor
        var name = "", denotation = "", doc = ""
        var type: ValueType?
        var metadata: [MetadataEntry] = []
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "name", at: tagStart); name = try self.name(&c)
            case 2:
                try c.expect(wt, .lengthDelimited, "type", at: tagStart)
                let r = try c.readLengthDelimited()
                let t: ValueType?, den: String
                if depth < ONNXDecoder.maxDepth, let hit = types.value(base: c.base, r) {
                    (t, den) = hit
                } else {
                    c.push("type")
                    (t, den) = try readType(c.sub(r))
                    c.pop()
                    switch t {
                    case .sequence?, .map?, .optional?: break
                    default: types.insert((t, den), base: c.base, r)
                    }
                }
                type = t
                denotation = den
                if t == nil && den.isEmpty { defaults.insert(2) }
            case 3: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 3, &defaults)
            case 4: metadata.append(try c.message("metadata_props", metadata.count, wt, tagStart) { try readEntry($0) })
            default: try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        return ValueInfo(name: consume name, type: consume type, typeDenotation: consume denotation,
                         docString: consume doc, metadataProps: MetadataProps(consume metadata),
                         unknownFields: UnknownFields(consume unknown, presentDefaults: presentSet(defaults)))
    }

    func elementType(_ raw: UInt64, _ c: ProtoCursor, at: Int) throws -> ElementType {
        guard let e = ElementType(rawValue: Int32(truncatingIfNeeded: raw)), UInt64(e.rawValue) == raw else {
            throw c.error("unknown element type \(raw)", at: at)
        }
        return e
    }

    /// Returns the type (nil when the TypeProto sets no value) and its denotation.
    func readType(_ cursor: ProtoCursor) throws -> (ValueType?, String) {
        var c = cursor
        try enter(c)
        defer { depth -= 1 }
        var result: ValueType?
        var denotation = ""
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1, 8:
                try c.expect(wt, .lengthDelimited, field == 1 ? "tensor_type" : "sparse_tensor_type", at: tagStart)
                var p = c.sub(try c.readLengthDelimited())
                var elem = ElementType.undefined
                var shape: TensorShape?
                while !p.atEnd {
                    let ts = p.pos
                    let (f2, w2) = try p.readTag()
                    switch f2 {
                    case 1: try p.expect(w2, .varint, "elem_type", at: ts); elem = try elementType(try p.readVarint(), p, at: ts)
                    case 2:
                        try p.expect(w2, .lengthDelimited, "shape", at: ts)
                        shape = try readShape(p.sub(try p.readLengthDelimited()))
                    default: try p.skip(w2, field: f2)
                    }
                }
                result = field == 1 ? .tensor(elem, shape) : .sparseTensor(elem, shape)
            case 4, 9:
                try c.expect(wt, .lengthDelimited, field == 4 ? "sequence_type" : "optional_type", at: tagStart)
                var p = c.sub(try c.readLengthDelimited())
                var inner: ValueType?
                while !p.atEnd {
                    let ts = p.pos
                    let (f2, w2) = try p.readTag()
                    if f2 == 1 {
                        try p.expect(w2, .lengthDelimited, "elem_type", at: ts)
                        inner = try readType(p.sub(try p.readLengthDelimited())).0
                    } else { try p.skip(w2, field: f2) }
                }
                result = field == 4 ? .sequence(inner) : .optional(inner)
            case 5:
                try c.expect(wt, .lengthDelimited, "map_type", at: tagStart)
                var p = c.sub(try c.readLengthDelimited())
                var key = ElementType.undefined
                var val: ValueType?
                while !p.atEnd {
                    let ts = p.pos
                    let (f2, w2) = try p.readTag()
                    switch f2 {
                    case 1: try p.expect(w2, .varint, "key_type", at: ts); key = try elementType(try p.readVarint(), p, at: ts)
                    case 2: try p.expect(w2, .lengthDelimited, "value_type", at: ts); val = try readType(p.sub(try p.readLengthDelimited())).0
                    default: try p.skip(w2, field: f2)
                    }
                }
                result = .map(key: key, value: val)
            case 7:
                try c.expect(wt, .lengthDelimited, "opaque_type", at: tagStart)
                var p = c.sub(try c.readLengthDelimited())
                var d = "", n = ""
                while !p.atEnd {
                    let ts = p.pos
                    let (f2, w2) = try p.readTag()
                    switch f2 {
                    case 1: try p.expect(w2, .lengthDelimited, "domain", at: ts); d = p.string(try p.readLengthDelimited())
                    case 2: try p.expect(w2, .lengthDelimited, "name", at: ts); n = p.string(try p.readLengthDelimited())
                    default: try p.skip(w2, field: f2)
                    }
                }
                result = .opaque(domain: d, name: n)
            case 6: try c.expect(wt, .lengthDelimited, "denotation", at: tagStart); denotation = c.string(try c.readLengthDelimited())
            default: try c.skip(wt, field: field)
            }
        }
        return (result, denotation)
    }

    func readShape(_ cursor: ProtoCursor) throws -> TensorShape {
        var c = cursor
        var dims: [Dim] = []
        dims.reserveCapacity(cursor.countFields(1, 0, 0).0)
        var dens: [String] = []  // built only once some dimension has a denotation
        var anyDenotation = false
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            guard field == 1 else { try c.skip(wt, field: field); continue }
            try c.expect(wt, .lengthDelimited, "dim", at: tagStart)
            var p = c.sub(try c.readLengthDelimited())
            var d = Dim.unknown
            var den = ""
            while !p.atEnd {
                let ts = p.pos
                let (f2, w2) = try p.readTag()
                switch f2 {
                case 1: try p.expect(w2, .varint, "dim_value", at: ts); d = .known(Int64(bitPattern: try p.readVarint()))
                case 2: try p.expect(w2, .lengthDelimited, "dim_param", at: ts); d = .symbolic(try name(&p))
                case 3:
                    try p.expect(w2, .lengthDelimited, "denotation", at: ts)
                    den = p.string(try p.readLengthDelimited())
                    if !anyDenotation {
                        anyDenotation = true
                        dens = [String](repeating: "", count: dims.count)
                    }
                default: try p.skip(w2, field: f2)
                }
            }
            dims.append(d)
            if anyDenotation { dens.append(den) }
        }
        return TensorShape(dims, denotations: anyDenotation ? dens : [])
    }
}
