/// The ONNX decoder's TensorProto reader: raw_data and external data as views into mapped
/// files, typed repeated fields kept encoded until asked (`ONNXTypedData`), sparse tensors.
import Foundation
import GraphIR

extension ONNXDecoder {
    // MARK: TensorProto

    func readTensor(_ cursor: ProtoCursor) throws -> Tensor {
        var c = cursor
        var dimList = SmallInt64List()  // shared through `intLists` once complete
        var dataType: Int64 = 0
        var dataTypeOffset = cursor.pos
        var segment: (Int64, Int64)?
        var name = "", doc = ""
        var raw: ByteSlice?
        var rawOffset = 0
        var strings: [[UInt8]] = []
        var typedField = 0
        var typed: [ByteSlice] = []  // earlier runs, when the occurrences are not contiguous
        var typedRun = 0..<0  // the current contiguous run of occurrences
        var external: [MetadataEntry] = []
        var externalOffset = cursor.pos
        var location: Int64 = 0
        var metadata: [MetadataEntry] = []
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1:
                if wt == .lengthDelimited {
                    var p = c.sub(try c.readLengthDelimited())
                    while !p.atEnd { dimList.append(Int64(bitPattern: try p.readVarint())) }
                } else {
                    try c.expect(wt, .varint, "dims", at: tagStart)
                    dimList.append(Int64(bitPattern: try c.readVarint()))
                }
            case 2:
                try c.expect(wt, .varint, "data_type", at: tagStart)
                dataTypeOffset = tagStart
                dataType = Int64(bitPattern: try c.readVarint())
            case 3:
                try c.expect(wt, .lengthDelimited, "segment", at: tagStart)
                var p = c.sub(try c.readLengthDelimited())
                var b: Int64 = 0, e: Int64 = 0
                while !p.atEnd {
                    let ts = p.pos
                    let (f2, w2) = try p.readTag()
                    switch f2 {
                    case 1: try p.expect(w2, .varint, "begin", at: ts); b = Int64(bitPattern: try p.readVarint())
                    case 2: try p.expect(w2, .varint, "end", at: ts); e = Int64(bitPattern: try p.readVarint())
                    default: try p.skip(w2, field: f2)
                    }
                }
                segment = (b, e)
            case 4, 5, 7, 10, 11:
                if typedField != 0 && typedField != field {
                    c.push("data")
                    defer { c.pop() }
                    throw c.error("tensor '\(name)' mixes typed data fields \(typedField) and \(field)", at: tagStart)
                }
                typedField = field
                try c.skip(wt, field: field)
                let wantWT: WireType = field == 4 ? .fixed32 : (field == 10 ? .fixed64 : .varint)
                if wt != .lengthDelimited && wt != wantWT {
                    throw c.error("typed data field \(field) has wire type \(wt.rawValue)", at: tagStart)
                }
                if typedRun.isEmpty { typedRun = tagStart..<c.pos }
                else if typedRun.upperBound == tagStart { typedRun = typedRun.lowerBound..<c.pos }
                else { typed.append(c.slice(typedRun)); typedRun = tagStart..<c.pos }
            case 6: try c.expect(wt, .lengthDelimited, "string_data", at: tagStart); strings.append(c.bytes(try c.readLengthDelimited()))
            case 8:
                try c.expect(wt, .lengthDelimited, "name", at: tagStart)
                let r = try c.readLengthDelimited()
                if r.isEmpty { defaults.insert(8) }
                name = names.string(base: c.base, r)
            case 12: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 12, &defaults)
            case 9:
                try c.expect(wt, .lengthDelimited, "raw_data", at: tagStart)
                rawOffset = tagStart
                raw = c.slice(try c.readLengthDelimited())
            case 13:
                try c.expect(wt, .lengthDelimited, "external_data", at: tagStart)
                if external.isEmpty { externalOffset = tagStart }
                c.push("external_data", external.count)
                external.append(try readEntry(c.sub(try c.readLengthDelimited())))
                c.pop()
            case 14: try c.expect(wt, .varint, "data_location", at: tagStart); location = Int64(bitPattern: try c.readVarint())
            case 16: metadata.append(try c.message("metadata_props", metadata.count, wt, tagStart) { try readEntry($0) })
            default: try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        guard let etype = ElementType(rawValue: Int32(truncatingIfNeeded: dataType)), Int64(etype.rawValue) == dataType else {
            c.push("data_type"); defer { c.pop() }
            throw c.error("tensor '\(name)' has unknown data_type \(dataType)", at: dataTypeOffset)
        }
        let dims = intLists.array(dimList)
        if dims.contains(where: { $0 < 0 }) {
            c.push("dims"); defer { c.pop() }
            throw c.error("tensor '\(name)' has a negative dimension \(dims)", at: cursor.pos)
        }
        // Locals are consumed into the tensor (not retained into it and then released).
        var t = Tensor(name: consume name, elementType: etype, dims: dims, data: .none, docString: consume doc,
                       metadataProps: MetadataProps(consume metadata),
                       unknownFields: UnknownFields(consume unknown, presentDefaults: presentSet(defaults)))
        t.segment = segment.map { (begin: $0.0, end: $0.1) }
        if location == 1 {
            c.push("external_data")
            defer { c.pop() }
            let info = try externalInfo(external, c, at: externalOffset)
            t.external = info
            t.data = try resolveExternal(info, tensor: t, c, at: externalOffset)
        } else if let r = raw {
            if let want = t.byteCount, etype != .string, want != r.count {
                c.push("raw_data"); defer { c.pop() }
                throw c.error("tensor '\(t.name)' raw_data has \(r.count) bytes, \(etype.name)\(dims) needs \(want)", at: rawOffset)
            }
            t.data = .raw(r)
        } else if etype == .string {
            t.data = .strings(strings)
        } else if !typedRun.isEmpty {
            let first = c.base[typedRun.lowerBound]
            if typed.isEmpty && first < 0x80 && Int(first >> 3) == typedField {
                t.data = .lazy(ONNXTypedData(run: c.slice(typedRun)))
            } else {
                t.data = .lazy(ONNXTypedData(field: typedField, occurrences: typed + [c.slice(typedRun)]))
            }
        } else {
            // No data fields at all: zero elements were stored (an error on read if the shape
            // says otherwise); nothing is written back either.
            t.data = .lazy(ONNXTypedData(field: ONNXDecoder.defaultTypedField(etype), occurrences: []))
        }
        if !external.isEmpty && location != 1 { t.external = try? externalInfo(external, c, at: externalOffset) }
        return t
    }

    static func defaultTypedField(_ e: ElementType) -> Int {
        switch e {
        case .float, .complex64: return 4
        case .int64: return 7
        case .double, .complex128: return 10
        case .uint32, .uint64: return 11
        default: return 5
        }
    }

    func externalInfo(_ entries: [MetadataEntry], _ c: ProtoCursor, at offset: Int) throws -> ExternalDataInfo {
        var info = ExternalDataInfo(location: "")
        for e in entries {
            switch e.key {
            case "location": info.location = e.value
            case "offset":
                guard let v = Int64(e.value), v >= 0 else { throw c.error("external data offset '\(e.value)' is not a non-negative integer", at: offset) }
                info.offset = v
            case "length":
                guard let v = Int64(e.value), v >= 0 else { throw c.error("external data length '\(e.value)' is not a non-negative integer", at: offset) }
                info.length = v
            default: info.otherEntries.append(e)
            }
        }
        if info.location.isEmpty { throw c.error("external data has no location", at: offset) }
        return info
    }

    func resolveExternal(_ info: ExternalDataInfo, tensor: Tensor, _ c: ProtoCursor, at offset: Int) throws -> TensorData {
        guard let base = baseDirectory else {
            throw c.error("tensor '\(tensor.name)' uses external data '\(info.location)' but the model was not loaded from a file", at: offset)
        }
        let comps = info.location.split(separator: "/")
        if info.location.hasPrefix("/") || comps.contains("..") {
            throw c.error("tensor '\(tensor.name)' external data location '\(info.location)' escapes the model folder", at: offset)
        }
        let path = base + "/" + info.location
        let storage: ByteStorage
        if let s = externalFiles[path] { storage = s } else {
            do { storage = try ByteStorage.mapFile(atPath: path) } catch let e as FileMappingError {
                throw c.error("tensor '\(tensor.name)': external data file \(path) cannot be opened: \(e.reason)", at: offset)
            }
            externalFiles[path] = storage
        }
        let length: Int64
        if let l = info.length { length = l } else if let b = tensor.byteCount { length = Int64(b) } else {
            length = Int64(storage.count) - info.offset
        }
        guard info.offset <= Int64(storage.count), length <= Int64(storage.count) - info.offset else {
            throw c.error("tensor '\(tensor.name)': external range offset \(info.offset) length \(length) is past the end of \(path) (\(storage.count) bytes)", at: offset)
        }
        if let want = tensor.byteCount, tensor.elementType != .string, Int64(want) != length {
            throw c.error("tensor '\(tensor.name)': external data has \(length) bytes, \(tensor.elementType.name)\(tensor.dims) needs \(want)", at: offset)
        }
        return .raw(ByteSlice(storage: storage, offset: Int(info.offset), count: Int(length)))
    }

    func readSparse(_ cursor: ProtoCursor) throws -> SparseTensor {
        var c = cursor
        var values: Tensor?, indices: Tensor?
        var dims: [Int64] = []
        var unknown: [UInt8] = []
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "values", at: tagStart); c.push("values"); values = try readTensor(c.sub(try c.readLengthDelimited())); c.pop()
            case 2: try c.expect(wt, .lengthDelimited, "indices", at: tagStart); c.push("indices"); indices = try readTensor(c.sub(try c.readLengthDelimited())); c.pop()
            case 3:
                if wt == .lengthDelimited {
                    var p = c.sub(try c.readLengthDelimited())
                    while !p.atEnd { dims.append(Int64(bitPattern: try p.readVarint())) }
                } else {
                    try c.expect(wt, .varint, "dims", at: tagStart)
                    dims.append(Int64(bitPattern: try c.readVarint()))
                }
            default: try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        guard let v = values, let i = indices else { throw c.error("sparse tensor lacks values or indices", at: cursor.pos) }
        return SparseTensor(values: v, indices: i, dims: dims, unknownFields: UnknownFields(unknown))
    }
}
