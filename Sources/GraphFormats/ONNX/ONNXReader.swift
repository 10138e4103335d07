/// Reads ONNX models straight from the memory-mapped file: protobuf decoded by hand, no
/// generated code, tensor bytes left in place (raw_data and external data become views into
/// mapped files; typed repeated fields are decoded only on demand). Unknown fields and
/// training_info are kept verbatim for the writer. Repeated content is decoded once and
/// shared (interned names, attribute lists, flat types, small int lists: see
/// NameInterner.swift and DecodeCaches.swift). This file holds the entry points and the model,
/// graph, node and function readers; attributes and types are read in
/// ONNXDecoder+Attributes.swift, tensors in ONNXDecoder+Tensors.swift.
import Foundation
import GraphIR

/// Loads ONNX models into `GraphIR.Model`.
public enum ONNXReader {
    /// IR versions this reader understands (ONNX IR 1 through 13).
    public static let supportedIRVersions: ClosedRange<Int64> = 1...13

    /// Loads the model at `url`, mapping it (and any external data files next to it).
    public static func load(_ url: URL) throws -> Model {
        try load(path: url.path)
    }

    /// Loads the model at `path`.
    public static func load(path: String) throws -> Model {
        let storage: ByteStorage
        do { storage = try ByteStorage.mapFile(atPath: path) } catch let e as FileMappingError {
            throw ONNXError(file: path, message: "cannot open: \(e.reason)")
        }
        let dir = directory(of: path)
        return try decode(storage: storage, file: path, baseDirectory: dir.isEmpty ? "." : dir)
    }

    /// `path` without its last component, as `NSString.deletingLastPathComponent` gives it;
    /// plain paths are split directly (bridging to NSString cost more than reading a small
    /// model), unusual ones (`//`, a trailing `/`) still go through NSString.
    static func directory(of path: String) -> String {
        let u = path.utf8
        let slash = UInt8(ascii: "/")
        var previous: UInt8 = 0
        var doubled = false
        for b in u {
            if b == slash && previous == slash { doubled = true; break }
            previous = b
        }
        if u.last == slash || doubled { return (path as NSString).deletingLastPathComponent }
        guard let last = u.lastIndex(of: slash) else { return "" }
        if last == u.startIndex { return "/" }
        return String(path[path.startIndex..<last])
    }

    /// Decodes a model from bytes already in memory (tests, fuzzing). External data is
    /// resolved against `baseDirectory` when given, else refused.
    public static func load(bytes: [UInt8], name: String = "<memory>", baseDirectory: String? = nil) throws -> Model {
        try decode(storage: ByteStorage(copying: bytes, origin: name), file: name, baseDirectory: baseDirectory)
    }

    static func decode(storage: ByteStorage, file: String, baseDirectory: String?) throws -> Model {
        if storage.count == 0 { throw ONNXError(file: file, offset: 0, message: "file is empty") }
        let d = ONNXDecoder(storage: storage, file: file, baseDirectory: baseDirectory)
        return try d.readModel()
    }
}

/// Typed repeated tensor fields (float_data, int32_data, ...) kept as their original field
/// encodings and decoded to packed bytes only when asked. The writer re-emits them verbatim.
struct ONNXTypedData: LazyTensorBytes {
    /// Where the encoded fields are. Almost always one contiguous run of occurrences, kept as
    /// a single slice (no array to allocate, and small enough to sit in the `LazyTensorBytes`
    /// existential without a box); its field number is its first tag byte.
    private enum Store {
        case run(ByteSlice)
        // Array first: its reference's spare bits hold the case tag, keeping this 3 words.
        case pieces([ByteSlice], field: Int)
    }
    private let store: Store

    /// One contiguous run of complete encoded occurrences of a typed field (tags included),
    /// whose first byte is a one-byte tag of that field.
    init(run: ByteSlice) { store = .run(run) }

    /// Complete encoded occurrences of field `field` (tags included), in order.
    init(field: Int, occurrences: [ByteSlice]) { store = .pieces(occurrences, field: field) }

    /// The field number (4 float_data, 5 int32_data, 7 int64_data, 10 double_data, 11 uint64_data).
    var field: Int {
        switch store {
        case .run(let r): return r.withUnsafeBytes { Int($0[0] >> 3) }
        case .pieces(_, let f): return f
        }
    }

    /// The encoded bytes, in order (each slice holds one or more complete occurrences).
    var occurrences: [ByteSlice] {
        switch store {
        case .run(let r): return [r]
        case .pieces(let list, _): return list
        }
    }

    /// Decodes every element stored in the field as a raw 64-bit pattern.
    func elements() throws -> [UInt64] {
        var out: [UInt64] = []
        let field = self.field
        for occ in occurrences {
            let ctx = DecodeContext(storage: occ.storage, file: occ.storage.origin, rootName: "TensorProto")
            // Cursors do not retain their context: keep it alive for this whole iteration.
            defer { withExtendedLifetime(ctx) {} }
            var c = ctx.cursor(start: occ.offset, end: occ.offset + occ.count)
            func one(_ c: inout ProtoCursor, _ wt: WireType) throws -> UInt64 {
                switch wt {
                case .varint: return try c.readVarint()
                case .fixed32: return UInt64(try c.readFixed32())
                case .fixed64: return try c.readFixed64()
                default: throw c.error("unexpected wire type in typed data")
                }
            }
            while !c.atEnd {
                let (_, wt) = try c.readTag()
                if wt == .lengthDelimited {
                    let r = try c.readLengthDelimited()
                    var p = c.sub(r)
                    let elemWT: WireType = (field == 4) ? .fixed32 : (field == 10 ? .fixed64 : .varint)
                    while !p.atEnd { out.append(try one(&p, elemWT)) }
                } else {
                    out.append(try one(&c, wt))
                }
            }
        }
        return out
    }

    func packedBytes(elementType: ElementType, elementCount: Int) throws -> [UInt8] {
        let values = try elements()
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { Swift.withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        switch (field, elementType) {
        case (4, .float), (4, .complex64):
            for v in values { put(UInt32(truncatingIfNeeded: v)) }
        case (10, .double), (10, .complex128), (11, .uint64), (7, .int64):
            for v in values { put(v) }
        case (11, .uint32):
            for v in values { put(UInt32(truncatingIfNeeded: v)) }
        case (5, .int32):
            for v in values { put(UInt32(truncatingIfNeeded: v)) }
        case (5, .int16), (5, .uint16), (5, .float16), (5, .bfloat16):
            for v in values { put(UInt16(truncatingIfNeeded: v)) }
        case (5, .int8), (5, .uint8), (5, .bool), (5, .float8e4m3fn), (5, .float8e4m3fnuz), (5, .float8e5m2),
             (5, .float8e5m2fnuz), (5, .float8e8m0), (5, .int4), (5, .uint4), (5, .float4e2m1), (5, .int2), (5, .uint2):
            // Sub-byte types hold one packed byte per int32 entry.
            for v in values { out.append(UInt8(truncatingIfNeeded: v)) }
        default:
            throw TensorDataError(tensor: "", reason: "field \(field) cannot hold \(elementType.name) data")
        }
        if let want = elementType.byteCount(forElements: elementCount), want != out.count {
            throw TensorDataError(tensor: "", reason: "typed data has \(out.count) bytes, \(elementType.name) x \(elementCount) needs \(want)")
        }
        return out
    }
}

/// Numbers of modelled fields found with an explicit default value (all below 64), as a
/// bit mask until the message is done.
struct PresentDefaults {
    var mask: UInt64 = 0
    @inline(__always) mutating func insert(_ field: Int) { mask |= 1 << UInt64(field) }
}

/// The decoding pass over one model file.
final class ONNXDecoder {
    let ctx: DecodeContext
    let file: String
    let baseDirectory: String?
    var externalFiles: [String: ByteStorage] = [:]
    /// Node ids run in one sequence over the whole model (main graph, bodies, functions), in
    /// file order; every graph read gets `ids`, so ids added later are fresh model-wide.
    let ids = NodeIDSpace(next: 0)
    // The decoder runs on one thread and never holds overlapping accesses to these, so the
    // dynamic exclusivity checks (a runtime call per access, per node) are switched off.
    @exclusivity(unchecked) var nextNodeID = 0
    /// Ids saved in node metadata (`graphsmith.id`), by reader position, in file order.
    @exclusivity(unchecked) var savedIDs: [(position: Int, text: String)] = []
    /// Nodes whose saved id could not be kept (see `GraphsmithMetadata`).
    var idProblems: [String] = []
    @exclusivity(unchecked) var depth = 0
    @exclusivity(unchecked) var names: NameInterner
    @exclusivity(unchecked) var intLists = IntListCache()
    /// Decoded TypeProtos (type, denotation) by their bytes; only flat ones (no nested
    /// TypeProto), whose decoding depends on nothing but their bytes and one depth level.
    @exclusivity(unchecked) var types = ByteKeyedCache<(ValueType?, String)>()
    /// Decoded attribute lists by the bytes of their run of fields (see `readNode`).
    @exclusivity(unchecked) var attributeRuns = ByteKeyedCache<[Attribute]>()
    /// Every input and every output name of the nodes of the graph being read, in node order:
    /// each node's `inputs`/`outputs` is a window into these (see `ValueNames`), attached
    /// when the graph is complete. Two lists, so one node's names stay contiguous even if its
    /// input and output fields interleave.
    @exclusivity(unchecked) var nodeInputNames: [String] = []
    @exclusivity(unchecked) var nodeOutputNames: [String] = []
    /// How many attributes went through the general reader (the others are "ordinary").
    @exclusivity(unchecked) var generalAttributes = 0
    /// Longest attribute run worth sharing: hashing big embedded tensors would cost more
    /// than decoding them (their bytes are not copied anyway).
    static let maxSharedAttributeBytes = 512
    static let maxDepth = 48

    init(storage: ByteStorage, file: String, baseDirectory: String?) {
        ctx = DecodeContext(storage: storage, file: file, rootName: "ModelProto")
        self.file = file
        self.baseDirectory = baseDirectory
        names = NameInterner(fileSize: storage.count)
    }

    /// The explicitly present default fields of one message, as stored in the IR.
    @inline(__always)
    func presentSet(_ d: PresentDefaults) -> FieldNumbers { FieldNumbers(mask: d.mask) }

    /// A name-like string field (value names, op types, attribute names), interned.
    @inline(__always)
    func name(_ c: inout ProtoCursor) throws -> String {
        let r = try c.readLengthDelimited()
        return names.string(base: c.base, r)
    }

    /// Reads a string field, noting an explicitly present empty value in `defaults`.
    @inline(__always)
    func string(_ c: inout ProtoCursor, _ field: Int, _ defaults: inout PresentDefaults) throws -> String {
        let r = try c.readLengthDelimited()
        if r.isEmpty { defaults.insert(field) }
        return c.string(r)
    }

    func keepUnknown(_ c: inout ProtoCursor, _ wt: WireType, _ field: Int, tagStart: Int, into u: inout [UInt8]) throws {
        try c.skip(wt, field: field)
        u.append(contentsOf: c.bytes(tagStart..<c.pos))
    }

    func enter(_ c: ProtoCursor) throws {
        depth += 1
        if depth > ONNXDecoder.maxDepth { throw c.error("messages nested more than \(ONNXDecoder.maxDepth) deep") }
    }

    // MARK: ModelProto

    func readModel() throws -> Model {
        var c = ctx.root
        var irVersion: Int64 = 0
        var opsets: [OpsetImport] = []
        var producerName = "", producerVersion = "", domain = "", doc = ""
        var modelVersion: Int64 = 0
        var graphRange: Range<Int>?
        var metadata: [MetadataEntry] = []
        var training: [ByteSlice] = []
        var functionRanges: [Range<Int>] = []
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        var irVersionOffset = 0
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1:
                try c.expect(wt, .varint, "ir_version", at: tagStart)
                irVersionOffset = tagStart
                irVersion = Int64(bitPattern: try c.readVarint())
            case 8: opsets.append(try c.message("opset_import", opsets.count, wt, tagStart) { try readOpset($0) })
            case 2: try c.expect(wt, .lengthDelimited, "producer_name", at: tagStart); producerName = try string(&c, 2, &defaults)
            case 3: try c.expect(wt, .lengthDelimited, "producer_version", at: tagStart); producerVersion = try string(&c, 3, &defaults)
            case 4: try c.expect(wt, .lengthDelimited, "domain", at: tagStart); domain = try string(&c, 4, &defaults)
            case 5: try c.expect(wt, .varint, "model_version", at: tagStart); modelVersion = Int64(bitPattern: try c.readVarint()); if modelVersion == 0 { defaults.insert(5) }
            case 6: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 6, &defaults)
            case 7: try c.expect(wt, .lengthDelimited, "graph", at: tagStart); graphRange = try c.readLengthDelimited()
            case 14: metadata.append(try c.message("metadata_props", metadata.count, wt, tagStart) { try readEntry($0) })
            case 20:
                try c.expect(wt, .lengthDelimited, "training_info", at: tagStart)
                training.append(c.slice(try c.readLengthDelimited()))
            case 25:
                try c.expect(wt, .lengthDelimited, "functions", at: tagStart)
                functionRanges.append(try c.readLengthDelimited())
            default:
                try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        guard ONNXReader.supportedIRVersions.contains(irVersion) else {
            throw ONNXError(file: file, fieldPath: "ModelProto.ir_version", offset: irVersionOffset,
                            message: "unsupported IR version \(irVersion) (this reader handles \(ONNXReader.supportedIRVersions.lowerBound)...\(ONNXReader.supportedIRVersions.upperBound))")
        }
        // (An empty graph is built only when the file has none: building one up front and
        // replacing it cost an allocation, a lock and an index per load.)
        var graph: Graph
        if let r = graphRange {
            c.push("graph")
            graph = try readGraph(c.sub(r), isSubgraph: false)
            c.pop()
        } else {
            graph = Graph()
        }
        var functions: [Function] = []
        for (i, r) in functionRanges.enumerated() {
            c.push("functions", i)
            functions.append(try readFunction(c.sub(r)))
            c.pop()
        }
        // One space for every graph read (the main graph may have come from `Graph()`), above
        // every id handed out.
        graph.shareNodeIDs(with: ids)
        ids.reserve(below: nextNodeID)
        if !savedIDs.isEmpty { restoreSavedIDs(&graph, &functions) }
        return Model(graph: graph, irVersion: irVersion, opsetImports: opsets, producerName: producerName,
                     producerVersion: producerVersion, domain: domain, modelVersion: modelVersion, docString: doc,
                     metadataProps: MetadataProps(metadata), functions: functions, trainingInfo: training,
                     unknownFields: UnknownFields(unknown, presentDefaults: presentSet(defaults)))
    }

    func readOpset(_ cursor: ProtoCursor) throws -> OpsetImport {
        var c = cursor
        var o = OpsetImport(domain: "", version: 0)
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "domain", at: tagStart); o.domain = try string(&c, 1, &defaults)
            case 2: try c.expect(wt, .varint, "version", at: tagStart); o.version = Int64(bitPattern: try c.readVarint())
            default: try c.skip(wt, field: field)
            }
        }
        o.unknownFields = UnknownFields([], presentDefaults: presentSet(defaults))
        return o
    }

    func readEntry(_ cursor: ProtoCursor) throws -> MetadataEntry {
        var c = cursor
        var e = MetadataEntry(key: "", value: "")
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "key", at: tagStart); e.key = c.string(try c.readLengthDelimited())
            case 2: try c.expect(wt, .lengthDelimited, "value", at: tagStart); e.value = c.string(try c.readLengthDelimited())
            default: try c.skip(wt, field: field)
            }
        }
        return e
    }

    // MARK: GraphProto

    func readGraph(_ cursor: ProtoCursor, isSubgraph: Bool) throws -> Graph {
        var c = cursor
        try enter(c)
        defer { depth -= 1 }
        let counts = cursor.countFields(1, 5, 11)
        var nodes: [Node] = []
        nodes.reserveCapacity(counts.0)
        let enclosingNames = beginNodeNames(expectedNodes: counts.0)
        defer { restoreNodeNames(enclosingNames) }
        var order = NodeOrderCheck(names: names.count + 2 * counts.0)
        var name = "", doc = ""
        var initializers: [Tensor] = []
        initializers.reserveCapacity(counts.1)
        var sparse: [SparseTensor] = []
        var inputs: [ValueInfo] = [], outputs: [ValueInfo] = [], valueInfo: [ValueInfo] = []
        inputs.reserveCapacity(counts.2)
        var metadata: [MetadataEntry] = []
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1:
                try c.expect(wt, .lengthDelimited, "node", at: tagStart)
                c.push("node", nodes.count)
                try readNode(c.sub(try c.readLengthDelimited()), into: &nodes, order: &order)
                c.pop()
            case 2: try c.expect(wt, .lengthDelimited, "name", at: tagStart); name = try string(&c, 2, &defaults)
            case 5: initializers.append(try c.message("initializer", initializers.count, wt, tagStart) { try readTensor($0) })
            case 15: sparse.append(try c.message("sparse_initializer", sparse.count, wt, tagStart) { try readSparse($0) })
            case 10: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 10, &defaults)
            case 11: inputs.append(try c.message("input", inputs.count, wt, tagStart) { try readValueInfo($0) })
            case 12: outputs.append(try c.message("output", outputs.count, wt, tagStart) { try readValueInfo($0) })
            case 13: valueInfo.append(try c.message("value_info", valueInfo.count, wt, tagStart) { try readValueInfo($0) })
            case 16: metadata.append(try c.message("metadata_props", metadata.count, wt, tagStart) { try readEntry($0) })
            default:
                try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        attachNodeNames(&nodes)
        if order.isTopological(names: names) {
            // Already in order: the index is built when first queried, not during the load.
            return Graph(readInOrder: name, nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers,
                         sparseInitializers: sparse, valueInfo: valueInfo, docString: doc,
                         metadataProps: MetadataProps(metadata), isSubgraph: isSubgraph,
                         unknownFields: UnknownFields(unknown, presentDefaults: presentSet(defaults)),
                         idSpace: ids)
        }
        let graph = Graph(name: name, nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers,
                          sparseInitializers: sparse, valueInfo: valueInfo, docString: doc,
                          metadataProps: MetadataProps(metadata), isSubgraph: isSubgraph,
                          unknownFields: UnknownFields(unknown, presentDefaults: presentSet(defaults)),
                          firstNodeID: nextNodeID, idSpace: ids)
        return graph
    }

    // MARK: NodeProto

    /// Starts the node-name lists of a graph or function body; returns the enclosing body's
    /// lists, which `restoreNodeNames` puts back when this one is done.
    func beginNodeNames(expectedNodes: Int) -> (inputs: [String], outputs: [String]) {
        let enclosing = (nodeInputNames, nodeOutputNames)
        nodeInputNames = []
        nodeOutputNames = []
        nodeInputNames.reserveCapacity(2 * expectedNodes)
        nodeOutputNames.reserveCapacity(expectedNodes)
        return enclosing
    }

    func restoreNodeNames(_ enclosing: (inputs: [String], outputs: [String])) {
        nodeInputNames = enclosing.inputs
        nodeOutputNames = enclosing.outputs
    }

    /// Gives every node read since `beginNodeNames` the finished lists.
    func attachNodeNames(_ nodes: inout [Node]) {
        let inputNames = nodeInputNames, outputNames = nodeOutputNames
        nodes.withUnsafeMutableBufferPointer { buf in
            for i in buf.indices {
                buf[i].inputs.attach(inputNames)
                buf[i].outputs.attach(outputNames)
            }
        }
    }

    /// Reads one NodeProto and appends it (built in place: returning a node by value cost a
    /// full copy of it).
    func readNode(_ cursor: ProtoCursor, into nodes: inout [Node], order: inout NodeOrderCheck) throws {
        var c = cursor
        let id = NodeID(nextNodeID)
        nextNodeID += 1
        // Fields are collected in locals and the node built once; each list is sized by the
        // run of its field starting at the first occurrence (normally all of them).
        let firstInput = nodeInputNames.count, firstOutput = nodeOutputNames.count
        var attributes: [Attribute] = []
        var opType = "", domain = "", overload = "", nodeName = "", doc = ""
        var hasSubgraphs = false
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        var metadata: [MetadataEntry] = []
        // The run of attribute fields being decoded, remembered in `attributeRuns` once done.
        var attributeRun = 0..<0, runCount = 0, generalBefore = 0
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1:
                try c.expect(wt, .lengthDelimited, "input", at: tagStart)
                let r = try c.readLengthDelimited()
                var nameID: Int32 = 0
                nodeInputNames.append(names.string(base: c.base, r, id: &nameID))
                order.use(nameID, empty: r.isEmpty)
            case 2:
                try c.expect(wt, .lengthDelimited, "output", at: tagStart)
                let r = try c.readLengthDelimited()
                var nameID: Int32 = 0
                nodeOutputNames.append(names.string(base: c.base, r, id: &nameID))
                order.define(nameID, empty: r.isEmpty)
            case 3: try c.expect(wt, .lengthDelimited, "name", at: tagStart); nodeName = try string(&c, 3, &defaults)
            case 4: try c.expect(wt, .lengthDelimited, "op_type", at: tagStart); opType = try name(&c)
            case 7:
                try c.expect(wt, .lengthDelimited, "domain", at: tagStart)
                let r = try c.readLengthDelimited()
                if r.isEmpty { defaults.insert(7) }
                domain = names.string(base: c.base, r)
            case 8: try c.expect(wt, .lengthDelimited, "overload", at: tagStart); overload = try string(&c, 8, &defaults)
            case 5:
                try c.expect(wt, .lengthDelimited, "attribute", at: tagStart)
                if attributes.isEmpty {
                    let run = c.run(tag: 0x2A, from: tagStart)
                    if run.count > 0 && run.end - tagStart <= ONNXDecoder.maxSharedAttributeBytes {
                        // The same attribute bytes as an earlier node (ConstantOfShape values,
                        // Conv kernel/pads/strides, ...): share its decoded list. Only lists of
                        // ordinary attributes are remembered (no graphs, so no node ids), and
                        // their decoding depends on nothing but the bytes and one depth level.
                        if depth < ONNXDecoder.maxDepth, let shared = attributeRuns.value(base: c.base, tagStart..<run.end) {
                            attributes = shared
                            c.pos = run.end
                            continue
                        }
                        attributeRun = tagStart..<run.end
                        runCount = run.count
                        generalBefore = generalAttributes
                    }
                    attributes.reserveCapacity(run.count)
                }
                c.push("attribute", attributes.count)
                attributes.append(try readAttribute(c.sub(try c.readLengthDelimited()), hasGraph: &hasSubgraphs))
                c.pop()
                if runCount > 0 && attributes.count == runCount && c.pos == attributeRun.upperBound {
                    if !hasSubgraphs && generalAttributes == generalBefore {
                        attributeRuns.insert(attributes, base: c.base, attributeRun)
                    }
                    runCount = 0
                }
            case 6: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 6, &defaults)
            case 9: metadata.append(try c.message("metadata_props", metadata.count, wt, tagStart) { try readEntry($0) })
            default:
                try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        order.endNode(hasSubgraphs: hasSubgraphs)
        var saved: GraphsmithMetadata.Decoded?
        if !metadata.isEmpty, let (kept, decoded) = GraphsmithMetadata.split(metadata) {
            metadata = kept
            saved = decoded
            if let text = decoded.idText { savedIDs.append((id.rawValue, text)) }
        }
        // `consume` hands the locals over: without it each field was retained into the node
        // and the local released right after (16 reference-count operations per node).
        nodes.append(Node(read: id, opType: consume opType, domain: consume domain, overload: consume overload,
                          name: consume nodeName, inputs: ValueNames(pending: firstInput..<nodeInputNames.count),
                          outputs: ValueNames(pending: firstOutput..<nodeOutputNames.count),
                          attributes: consume attributes, hasSubgraphs: hasSubgraphs, docString: consume doc,
                          metadataProps: MetadataProps(consume metadata),
                          unknownFields: UnknownFields(consume unknown, presentDefaults: presentSet(defaults))))
        if let saved {
            nodes[nodes.count - 1].annotations = saved.annotations
            nodes[nodes.count - 1].provenance = saved.provenance
            if let p = saved.path { nodes[nodes.count - 1].hierarchyPath = p }
        }
    }

    /// Gives nodes the ids the file saved for them (reserving them in the model's space, so
    /// new ids never collide); nodes whose saved id is unusable get fresh ones.
    func restoreSavedIDs(_ graph: inout Graph, _ functions: inout [Function]) {
        let (final, problems) = GraphsmithMetadata.resolveIDs(count: nextNodeID, claims: savedIDs)
        idProblems = problems
        guard final.enumerated().contains(where: { $0.offset != $0.element }) else { return }
        let newID: (NodeID) -> NodeID = { id in final.indices.contains(id.rawValue) ? NodeID(final[id.rawValue]) : id }
        ids.reserve(below: (final.max() ?? -1) + 1)
        graph = graph.renumberingNodes(newID)
        for i in functions.indices {
            functions[i].body = functions[i].body.renumberingNodes(newID)
            functions[i].attributeDefaults = functions[i].attributeDefaults.map { $0.renumberingNodes(newID) }
        }
    }
}

extension ONNXDecoder {
    // MARK: FunctionProto

    func readFunction(_ cursor: ProtoCursor) throws -> Function {
        var c = cursor
        var name = "", domain = "", overload = "", doc = ""
        var inputs: [String] = [], outputs: [String] = [], attrNames: [String] = []
        var attrDefaults: [Attribute] = []
        var nodes: [Node] = []
        var order = NodeOrderCheck(names: 0)  // bodies are indexed eagerly; the check is unused
        let enclosingNames = beginNodeNames(expectedNodes: cursor.countFields(7, 0, 0).0)
        defer { restoreNodeNames(enclosingNames) }
        var opsets: [OpsetImport] = []
        var valueInfo: [ValueInfo] = []
        var metadata: [MetadataEntry] = []
        var unknown: [UInt8] = []
        var defaults = PresentDefaults()
        while !c.atEnd {
            let tagStart = c.pos
            let (field, wt) = try c.readTag()
            switch field {
            case 1: try c.expect(wt, .lengthDelimited, "name", at: tagStart); name = c.string(try c.readLengthDelimited())
            case 4: try c.expect(wt, .lengthDelimited, "input", at: tagStart); inputs.append(c.string(try c.readLengthDelimited()))
            case 5: try c.expect(wt, .lengthDelimited, "output", at: tagStart); outputs.append(c.string(try c.readLengthDelimited()))
            case 6: try c.expect(wt, .lengthDelimited, "attribute", at: tagStart); attrNames.append(c.string(try c.readLengthDelimited()))
            case 11:
                try c.expect(wt, .lengthDelimited, "attribute_proto", at: tagStart)
                c.push("attribute_proto", attrDefaults.count)
                var holdsGraph = false
                attrDefaults.append(try readAttribute(c.sub(try c.readLengthDelimited()), hasGraph: &holdsGraph))
                c.pop()
            case 7:
                try c.expect(wt, .lengthDelimited, "node", at: tagStart)
                c.push("node", nodes.count)
                try readNode(c.sub(try c.readLengthDelimited()), into: &nodes, order: &order)
                c.pop()
            case 8: try c.expect(wt, .lengthDelimited, "doc_string", at: tagStart); doc = try string(&c, 8, &defaults)
            case 9:
                try c.expect(wt, .lengthDelimited, "opset_import", at: tagStart)
                opsets.append(try readOpset(c.sub(try c.readLengthDelimited())))
            case 10: try c.expect(wt, .lengthDelimited, "domain", at: tagStart); domain = try string(&c, 10, &defaults)
            case 13: try c.expect(wt, .lengthDelimited, "overload", at: tagStart); overload = try string(&c, 13, &defaults)
            case 12: valueInfo.append(try c.message("value_info", valueInfo.count, wt, tagStart) { try readValueInfo($0) })
            case 14:
                try c.expect(wt, .lengthDelimited, "metadata_props", at: tagStart)
                metadata.append(try readEntry(c.sub(try c.readLengthDelimited())))
            default: try keepUnknown(&c, wt, field, tagStart: tagStart, into: &unknown)
            }
        }
        attachNodeNames(&nodes)
        let body = Graph(name: name, nodes: nodes, inputs: inputs.map { ValueInfo(name: $0) },
                         outputs: outputs.map { ValueInfo(name: $0) }, initializers: [], sparseInitializers: [],
                         valueInfo: valueInfo, docString: "", metadataProps: MetadataProps(), isSubgraph: false,
                         unknownFields: UnknownFields(), firstNodeID: nextNodeID, idSpace: ids)
        return Function(name: name, domain: domain, overload: overload, attributeNames: attrNames,
                        attributeDefaults: attrDefaults, body: body, opsetImports: opsets, docString: doc,
                        metadataProps: MetadataProps(metadata), unknownFields: UnknownFields(unknown, presentDefaults: presentSet(defaults)))
    }
}
