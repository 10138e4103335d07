/// Writes `GraphIR.Model` back to ONNX protobuf: every modelled field plus the unknown fields
/// and training_info kept by the reader, typed tensor fields re-emitted verbatim, tensor bytes
/// streamed from their mappings (never copied whole), optionally moving large tensors to an
/// external data file. Files are written to a temporary name and renamed into place, so
/// saving over the model that is still mapped is safe.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GraphIR

/// How to write a model.
public struct ONNXWriteOptions: Sendable {
    /// Move tensors of at least `externalDataThreshold` bytes to a side file.
    public var externalData: Bool
    /// Side file name, relative to the model's folder (default: `<model file name>.data`).
    public var externalDataLocation: String?
    /// Minimum tensor size moved out when `externalData` is on (ONNX's default is 1024).
    public var externalDataThreshold: Int
    /// Offsets in the side file are rounded up to this alignment (helps mmap-based runtimes).
    public var externalDataAlignment: Int

    /// Creates options.
    public init(externalData: Bool = false, externalDataLocation: String? = nil, externalDataThreshold: Int = 1024,
                externalDataAlignment: Int = 64) {
        self.externalData = externalData
        self.externalDataLocation = externalDataLocation
        self.externalDataThreshold = externalDataThreshold
        self.externalDataAlignment = max(1, externalDataAlignment)
    }
}

/// Serializes models to ONNX.
public enum ONNXWriter {
    /// The protobuf limit for one message: larger models need external data.
    public static let maxInlineBytes = Int(Int32.max)

    /// Saves `model` to `url`; with `externalData`, large tensors go to `<file>.data`.
    @discardableResult
    public static func save(_ model: Model, to url: URL, externalData: Bool = false) throws -> ONNXWriteReport {
        try save(model, to: url, options: ONNXWriteOptions(externalData: externalData))
    }

    /// Saves `model` to `url` with explicit options. With external data, initializers and
    /// Constant nodes' tensors of at least the threshold move out, in subgraphs too (onnx.save
    /// with `convert_attribute=True`); when none qualifies, no side file is written at all.
    @discardableResult
    public static func save(_ model: Model, to url: URL, options: ONNXWriteOptions) throws -> ONNXWriteReport {
        let path = url.path
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        var sink: ExternalSink?
        if options.externalData {
            let location = options.externalDataLocation ?? ((path as NSString).lastPathComponent + ".data")
            if location.hasPrefix("/") || location.split(separator: "/").contains("..") {
                throw ONNXError(file: path, message: "external data location '\(location)' must stay inside the model folder")
            }
            sink = try ExternalSink(path: folder + "/" + location, location: location, options: options)
        }
        var encoder = ModelEncoder(file: path, external: sink)
        let buffer = try encoder.encode(model)
        if let s = encoder.external { try s.finish() }
        if buffer.count > maxInlineBytes {
            if let s = encoder.external { s.discard() }
            throw ONNXError(file: path, message: "model is \(buffer.count) bytes, over the 2 GB protobuf limit; save with external data")
        }
        try writeAtomically(buffer, to: path)
        var report = ONNXWriteReport(modelBytes: buffer.count)
        if let s = encoder.external {
            if s.tensorCount == 0 {
                s.discard()
            } else {
                try s.commit()
                report.externalTensors = s.tensorCount
                report.externalBytes = Int(s.offset)
                report.externalFile = s.path
            }
        }
        return report
    }

    /// Encodes `model` into memory with every tensor inline.
    public static func serialize(_ model: Model) throws -> [UInt8] {
        var encoder = ModelEncoder(file: "<memory>", external: nil)
        let buffer = try encoder.encode(model)
        if buffer.count > maxInlineBytes {
            throw ONNXError(file: "<memory>", message: "model is over the 2 GB protobuf limit")
        }
        return buffer.bytes
    }

    static func writeAtomically(_ buffer: ProtoBuffer, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        do {
            let sink = try FileSink(creating: tmp)
            try buffer.write(to: sink)
            try sink.close()
        } catch {
            unlink(tmp)
            throw (error as? ONNXError) ?? ONNXError(file: path, message: "write failed: \(error)")
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw ONNXError(file: path, message: "cannot move \(tmp) into place: \(reason)")
        }
    }
}

/// What a save wrote.
public struct ONNXWriteReport: Sendable {
    /// Size of the model file.
    public var modelBytes: Int
    /// Tensors moved to the external data file, their bytes (with alignment padding), and the
    /// file's path; 0, 0 and nil when no side file was written.
    public var externalTensors = 0
    public var externalBytes = 0
    public var externalFile: String?

    public init(modelBytes: Int) {
        self.modelBytes = modelBytes
    }
}

/// The side file for external tensors, written to a temporary name and renamed on commit.
final class ExternalSink {
    let path: String
    let tmpPath: String
    let location: String
    let options: ONNXWriteOptions
    let sink: FileSink
    var offset: Int64 = 0
    /// Tensors written so far.
    var tensorCount = 0

    init(path: String, location: String, options: ONNXWriteOptions) throws {
        self.path = path
        self.tmpPath = path + ".tmp-\(getpid())"
        self.location = location
        self.options = options
        sink = try FileSink(creating: tmpPath)
    }

    /// Appends a tensor's bytes, returning where they went.
    func append(_ t: Tensor) throws -> ExternalDataInfo {
        let align = Int64(options.externalDataAlignment)
        let pad = (align - offset % align) % align
        if pad > 0 {
            try [UInt8](repeating: 0, count: Int(pad)).withUnsafeBytes { try sink.write($0) }
            offset += pad
        }
        let start = offset
        var length: Int64 = 0
        if case .raw(let s) = t.data {
            try sink.write(s)
            length = Int64(s.count)
        } else {
            let bytes = try t.packedBytes()
            try bytes.withUnsafeBytes { try sink.write($0) }
            length = Int64(bytes.count)
        }
        offset += length
        tensorCount += 1
        return ExternalDataInfo(location: location, offset: start, length: length)
    }

    func finish() throws { try sink.close() }
    func discard() { unlink(tmpPath) }
    func commit() throws {
        if rename(tmpPath, path) != 0 {
            throw ONNXError(file: path, message: "cannot move external data into place: \(String(cString: strerror(errno)))")
        }
    }
}

/// Encodes the message tree.
struct ModelEncoder {
    let file: String
    var external: ExternalSink?
    /// The id of the node written last, in the order readers number nodes (file order, each
    /// node before its bodies, the main graph before functions), which is the order nodes
    /// are encoded in: a reader gives a node without a saved id this plus one, so only nodes
    /// whose id differs need one (`GraphsmithMetadata`).
    var previousID = -1

    init(file: String, external: ExternalSink?) {
        self.file = file
        self.external = external
    }

    mutating func encode(_ m: Model) throws -> ProtoBuffer {
        var b = ProtoBuffer()
        let d = m.unknownFields.presentDefaults
        b.int64Field(1, m.irVersion)
        b.stringField(2, m.producerName, d)
        b.stringField(3, m.producerVersion, d)
        b.stringField(4, m.domain, d)
        if m.modelVersion != 0 || d.contains(5) { b.int64Field(5, m.modelVersion) }
        b.stringField(6, m.docString, d)
        b.messageField(7, try graph(m.graph, path: "ModelProto.graph", externalize: true))
        for o in m.opsetImports { b.messageField(8, opset(o)) }
        for e in m.metadataProps.entries { b.messageField(14, entry(e)) }
        for t in m.trainingInfo { b.sliceField(20, t) }
        for (i, f) in m.functions.enumerated() { b.messageField(25, try function(f, path: "ModelProto.functions[\(i)]")) }
        b.append(m.unknownFields.bytes)
        return b
    }

    func opset(_ o: OpsetImport) -> ProtoBuffer {
        var b = ProtoBuffer()
        b.stringField(1, o.domain, o.unknownFields.presentDefaults)
        b.int64Field(2, o.version)
        return b
    }

    func entry(_ e: MetadataEntry) -> ProtoBuffer {
        var b = ProtoBuffer()
        b.stringField(1, e.key)
        b.stringField(2, e.value)
        return b
    }

    mutating func graph(_ g: Graph, path: String, externalize: Bool) throws -> ProtoBuffer {
        var b = ProtoBuffer()
        for (i, n) in g.nodes.enumerated() { b.messageField(1, try node(n, path: path + ".node[\(i)]", externalize: externalize)) }
        let d = g.unknownFields.presentDefaults
        b.stringField(2, g.name, d)
        for (i, t) in g.initializers.enumerated() {
            b.messageField(5, try tensor(t, path: path + ".initializer[\(i)]", externalize: externalize))
        }
        b.stringField(10, g.docString, d)
        for v in g.inputs { b.messageField(11, valueInfo(v)) }
        for v in g.outputs { b.messageField(12, valueInfo(v)) }
        for v in g.valueInfo { b.messageField(13, valueInfo(v)) }
        for (i, s) in g.sparseInitializers.enumerated() {
            b.messageField(15, try sparse(s, path: path + ".sparse_initializer[\(i)]"))
        }
        for e in g.metadataProps.entries { b.messageField(16, entry(e)) }
        b.append(g.unknownFields.bytes)
        return b
    }

    /// `externalize`: a Constant node's tensor may go to the external data file (as onnx.save's
    /// `convert_attribute=True` does), so models that keep their weights in Constant nodes get
    /// them out of the model file too.
    mutating func node(_ n: Node, path: String, externalize: Bool) throws -> ProtoBuffer {
        let implicitID = previousID + 1
        previousID = n.id.rawValue
        var b = ProtoBuffer()
        for i in n.inputs { b.stringField(1, i) }
        for o in n.outputs { b.stringField(2, o) }
        let d = n.unknownFields.presentDefaults
        b.stringField(3, n.name, d)
        b.stringField(4, n.opType)
        for (i, a) in n.attributes.enumerated() {
            b.messageField(5, try attribute(a, path: path + ".attribute[\(i)]", externalize: externalize,
                                            constantValue: n.opType == "Constant" && n.domain.isEmpty))
        }
        b.stringField(6, n.docString, d)
        b.stringField(7, n.domain, d)
        b.stringField(8, n.overload, d)
        for e in n.metadataProps.entries { b.messageField(9, entry(e)) }
        for e in GraphsmithMetadata.entries(for: n, implicitID: implicitID) { b.messageField(9, entry(e)) }
        b.append(n.unknownFields.bytes)
        return b
    }

    /// `externalize`: large tensors of this attribute's subgraphs, and a Constant's own tensor
    /// (`constantValue`), may go to the external data file.
    mutating func attribute(_ a: Attribute, path: String, externalize: Bool = false, constantValue: Bool = false) throws -> ProtoBuffer {
        var b = ProtoBuffer()
        b.stringField(1, a.name)
        if a.refAttrName == nil {
            switch a.value {
            case .float(let f): b.fixed32Field(2, f.bitPattern)
            case .int(let i): b.int64Field(3, i)
            case .string(let s): b.bytesField(4, s)
            case .tensor(let t): b.messageField(5, try tensor(t, path: path + ".t", externalize: externalize && constantValue))
            case .graph(let g): b.messageField(6, try graph(g, path: path + ".g", externalize: externalize))
            case .floats(let v): for f in v { b.fixed32Field(7, f.bitPattern) }
            case .ints(let v): for i in v { b.int64Field(8, i) }
            case .strings(let v): for s in v { b.bytesField(9, s) }
            case .tensors(let v):
                for (i, t) in v.enumerated() { b.messageField(10, try tensor(t, path: path + ".tensors[\(i)]", externalize: false)) }
            case .graphs(let v):
                for (i, g) in v.enumerated() { b.messageField(11, try graph(g, path: path + ".graphs[\(i)]", externalize: externalize)) }
            case .typeProto(let t): b.messageField(14, type(t, denotation: ""))
            case .typeProtos(let v): for t in v { b.messageField(15, type(t, denotation: "")) }
            case .sparseTensor(let s): b.messageField(22, try sparse(s, path: path + ".sparse_tensor"))
            case .sparseTensors(let v):
                for (i, s) in v.enumerated() { b.messageField(23, try sparse(s, path: path + ".sparse_tensors[\(i)]")) }
            }
        }
        b.stringField(13, a.docString, a.unknownFields.presentDefaults)
        b.varintField(20, UInt64(a.value.typeCode))
        if let r = a.refAttrName { b.stringField(21, r) }
        b.append(a.unknownFields.bytes)
        return b
    }

    func valueInfo(_ v: ValueInfo) -> ProtoBuffer {
        var b = ProtoBuffer()
        b.stringField(1, v.name)
        if let t = v.type { b.messageField(2, type(t, denotation: v.typeDenotation)) }
        else if !v.typeDenotation.isEmpty { var tb = ProtoBuffer(); tb.stringField(6, v.typeDenotation); b.messageField(2, tb) }
        else if v.unknownFields.presentDefaults.contains(2) { b.messageField(2, ProtoBuffer()) }
        b.stringField(3, v.docString, v.unknownFields.presentDefaults)
        for e in v.metadataProps.entries { b.messageField(4, entry(e)) }
        b.append(v.unknownFields.bytes)
        return b
    }

    func type(_ t: ValueType, denotation: String) -> ProtoBuffer {
        var b = ProtoBuffer()
        func tensorLike(_ f: Int, _ e: ElementType, _ s: TensorShape?) {
            var tb = ProtoBuffer()
            tb.varintField(1, UInt64(e.rawValue))
            if let s = s { tb.messageField(2, shape(s)) }
            b.messageField(f, tb)
        }
        switch t {
        case .tensor(let e, let s): tensorLike(1, e, s)
        case .sparseTensor(let e, let s): tensorLike(8, e, s)
        case .sequence(let inner), .optional(let inner):
            var sb = ProtoBuffer()
            if let i = inner { sb.messageField(1, type(i, denotation: "")) }
            if case .sequence = t { b.messageField(4, sb) } else { b.messageField(9, sb) }
        case .map(let k, let v):
            var mb = ProtoBuffer()
            mb.varintField(1, UInt64(k.rawValue))
            if let v = v { mb.messageField(2, type(v, denotation: "")) }
            b.messageField(5, mb)
        case .opaque(let d, let n):
            var ob = ProtoBuffer()
            ob.stringFieldIfSet(1, d)
            ob.stringFieldIfSet(2, n)
            b.messageField(7, ob)
        }
        b.stringFieldIfSet(6, denotation)
        return b
    }

    func shape(_ s: TensorShape) -> ProtoBuffer {
        var b = ProtoBuffer()
        for (i, d) in s.dims.enumerated() {
            var db = ProtoBuffer()
            switch d {
            case .known(let v): db.int64Field(1, v)
            case .symbolic(let p): db.stringField(2, p)
            case .unknown: break
            }
            if i < s.denotations.count { db.stringFieldIfSet(3, s.denotations[i]) }
            b.messageField(1, db)
        }
        return b
    }

    mutating func tensor(_ t: Tensor, path: String, externalize: Bool) throws -> ProtoBuffer {
        var b = ProtoBuffer()
        for d in t.dims { b.int64Field(1, d) }
        b.varintField(2, UInt64(t.elementType.rawValue))
        if let s = t.segment {
            var sb = ProtoBuffer()
            sb.int64Field(1, s.begin)
            sb.int64Field(2, s.end)
            b.messageField(3, sb)
        }
        var externalInfo: ExternalDataInfo?
        if externalize, let sink = external, t.elementType != .string,
           let size = t.byteCount, size >= sink.options.externalDataThreshold {
            do { externalInfo = try sink.append(t) } catch let e as TensorDataError {
                throw ONNXError(file: file, fieldPath: path, message: e.description)
            }
        }
        var raw: ByteSlice?
        var lateTyped: ONNXTypedData?  // fields 10/11 come after name (8) and raw_data (9)
        if externalInfo == nil {
            switch t.data {
            case .lazy(let l):
                if let typed = l as? ONNXTypedData {
                    if typed.field > 9 { lateTyped = typed } else { for occ in typed.occurrences { b.append(occ) } }
                } else {
                    do { raw = ByteSlice(copying: try t.packedBytes()) } catch {
                        throw ONNXError(file: file, fieldPath: path, message: "\(error)")
                    }
                }
            case .strings(let ss): for s in ss { b.bytesField(6, s) }
            case .raw(let s): raw = s
            case .none:
                throw ONNXError(file: file, fieldPath: path, message: "tensor '\(t.name)' has no data to write")
            }
        }
        let d = t.unknownFields.presentDefaults
        b.stringField(8, t.name, d)
        if let r = raw { b.sliceField(9, r) }
        if let typed = lateTyped { for occ in typed.occurrences { b.append(occ) } }
        b.stringField(12, t.docString, d)
        if let info = externalInfo {
            b.messageField(13, entry(MetadataEntry(key: "location", value: info.location)))
            b.messageField(13, entry(MetadataEntry(key: "offset", value: String(info.offset))))
            b.messageField(13, entry(MetadataEntry(key: "length", value: String(info.length ?? 0))))
            b.varintField(14, 1)
        }
        for e in t.metadataProps.entries { b.messageField(16, entry(e)) }
        b.append(t.unknownFields.bytes)
        return b
    }

    mutating func sparse(_ s: SparseTensor, path: String) throws -> ProtoBuffer {
        var b = ProtoBuffer()
        b.messageField(1, try tensor(s.values, path: path + ".values", externalize: false))
        b.messageField(2, try tensor(s.indices, path: path + ".indices", externalize: false))
        for d in s.dims { b.int64Field(3, d) }
        b.append(s.unknownFields.bytes)
        return b
    }

    mutating func function(_ f: Function, path: String) throws -> ProtoBuffer {
        var b = ProtoBuffer()
        b.stringField(1, f.name)
        for i in f.body.inputs { b.stringField(4, i.name) }
        for o in f.body.outputs { b.stringField(5, o.name) }
        for a in f.attributeNames { b.stringField(6, a) }
        for (i, n) in f.body.nodes.enumerated() { b.messageField(7, try node(n, path: path + ".node[\(i)]", externalize: false)) }
        let d = f.unknownFields.presentDefaults
        b.stringField(8, f.docString, d)
        for o in f.opsetImports { b.messageField(9, opset(o)) }
        b.stringField(10, f.domain, d)
        for (i, a) in f.attributeDefaults.enumerated() { b.messageField(11, try attribute(a, path: path + ".attribute_proto[\(i)]")) }
        for v in f.body.valueInfo { b.messageField(12, valueInfo(v)) }
        b.stringField(13, f.overload, d)
        for e in f.metadataProps.entries { b.messageField(14, entry(e)) }
        b.append(f.unknownFields.bytes)
        return b
    }
}
