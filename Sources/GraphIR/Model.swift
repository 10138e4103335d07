/// `Model`: the top-level container (ONNX `ModelProto`): the main graph plus model-wide
/// metadata, opset imports and local functions. A value type, cheap to copy. Its graphs share
/// one node-id space (NodeIDSpace.swift): node ids are unique across the whole model.

/// An operator set a model (or function) imports.
public struct OpsetImport: Hashable, Sendable {
    /// Domain (`""` is the default ONNX domain).
    public var domain: String
    /// Version.
    public var version: Int64
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields
    /// Creates an import.
    public init(domain: String = "", version: Int64, unknownFields: UnknownFields = UnknownFields()) {
        self.domain = domain
        self.version = version
        self.unknownFields = unknownFields
    }
}

/// A model-local function (ONNX `FunctionProto`): a named, reusable body.
public struct Function: Sendable, Equatable {
    /// Function name (the op type callers use).
    public var name: String
    /// Domain callers use.
    public var domain: String
    /// Overload identifier.
    public var overload: String
    /// Names of the formal attributes (without defaults).
    public var attributeNames: [String]
    /// Formal attributes with default values.
    public var attributeDefaults: [Attribute]
    /// The body: its inputs/outputs are the formal parameters (types usually absent),
    /// its value_info carries any declared types.
    public var body: Graph
    /// Opsets the body uses.
    public var opsetImports: [OpsetImport]
    /// Documentation string.
    public var docString: String
    /// Metadata entries.
    public var metadataProps: MetadataProps
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields

    /// Creates a function.
    public init(name: String, domain: String, overload: String = "", attributeNames: [String] = [],
                attributeDefaults: [Attribute] = [], body: Graph, opsetImports: [OpsetImport] = [],
                docString: String = "", metadataProps: MetadataProps = MetadataProps(),
                unknownFields: UnknownFields = UnknownFields()) {
        self.name = name
        self.domain = domain
        self.overload = overload
        self.attributeNames = attributeNames
        self.attributeDefaults = attributeDefaults
        self.body = body
        self.opsetImports = opsetImports
        self.docString = docString
        self.metadataProps = metadataProps
        self.unknownFields = unknownFields
    }
}

/// A whole model: what a reader returns and a writer takes.
public struct Model: Sendable, Equatable {
    /// The main graph.
    public var graph: Graph
    /// Format IR version (ONNX `ir_version`).
    public var irVersion: Int64
    /// Opset imports, in order.
    public var opsetImports: [OpsetImport]
    /// Producer tool name.
    public var producerName: String
    /// Producer tool version.
    public var producerVersion: String
    /// Model domain.
    public var domain: String
    /// Model version.
    public var modelVersion: Int64
    /// Documentation string.
    public var docString: String
    /// Model metadata.
    public var metadataProps: MetadataProps
    /// Local functions.
    public var functions: [Function]
    /// Training information, kept as opaque encoded messages (ONNX `TrainingInfoProto`).
    public var trainingInfo: [ByteSlice]
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields

    /// Creates a model around a graph.
    public init(graph: Graph, irVersion: Int64 = 10, opsetImports: [OpsetImport] = [OpsetImport(version: 21)],
                producerName: String = "", producerVersion: String = "", domain: String = "", modelVersion: Int64 = 0,
                docString: String = "", metadataProps: MetadataProps = MetadataProps(), functions: [Function] = [],
                trainingInfo: [ByteSlice] = [], unknownFields: UnknownFields = UnknownFields()) {
        self.graph = graph
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.metadataProps = metadataProps
        self.functions = functions
        self.trainingInfo = trainingInfo
        self.unknownFields = unknownFields
        // One id space for the whole model: ids added in the graph, its bodies or a function
        // body are fresh in all of them.
        for f in functions { graph.shareNodeIDs(with: f.body.storage.ids) }
    }

    /// The imported version of `domain` (`""` and `ai.onnx` are the same domain).
    public func opsetVersion(for domain: String) -> Int64? {
        let d = domain == "ai.onnx" ? "" : domain
        return opsetImports.first { ($0.domain == "ai.onnx" ? "" : $0.domain) == d }?.version
    }

    /// The local function called by `node`, if any.
    public func function(for node: Node) -> Function? {
        functions.first { $0.name == node.opType && $0.domain == node.domain && $0.overload == node.overload }
    }
}
