/// Values (edges): their declared type records (`ValueInfo`) and the derived view (`Value`)
/// with producer and uses that the graph keeps exact under edits.

/// A declared value (graph input/output or `value_info` entry, ONNX `ValueInfoProto`).
public struct ValueInfo: Sendable, Equatable {
    /// The value name.
    public var name: String
    /// Its type if declared.
    public var type: ValueType?
    /// ONNX `TypeProto.denotation` of the outer type; empty when absent.
    public var typeDenotation: String
    /// Documentation string.
    public var docString: String
    /// Metadata entries.
    public var metadataProps: MetadataProps
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields
    /// Creates a declaration (inlinable: readers create thousands).
    @inlinable
    public init(name: String, type: ValueType? = nil, typeDenotation: String = "", docString: String = "",
                metadataProps: MetadataProps = MetadataProps(), unknownFields: UnknownFields = UnknownFields()) {
        self.name = name
        self.type = type
        self.typeDenotation = typeDenotation
        self.docString = docString
        self.metadataProps = metadataProps
        self.unknownFields = unknownFields
    }
}

/// What defines a value.
public enum ValueProducer: Hashable, Sendable {
    /// Output `output` of a node.
    case node(NodeID, output: Int)
    /// The graph input at `index`.
    case graphInput(index: Int)
    /// An initializer (constant weight) that is not also a graph input.
    case initializer
    /// A name defined in an enclosing graph (only in subgraphs): links to that outer value.
    case outerScope
    /// Nothing defines it (a dangling reference; validation reports it).
    case none

    /// The producing node, if any.
    public var nodeID: NodeID? {
        if case .node(let id, _) = self { return id }
        return nil
    }
}

/// One consumer of a value.
public struct ValueUse: Hashable, Sendable {
    /// How the node consumes the value.
    public enum Slot: Hashable, Sendable {
        /// As its input number `index`.
        case input(Int)
        /// Implicitly, because a subgraph in attribute `attribute` refers to it by name.
        case subgraph(attribute: String)
    }
    /// The consuming node.
    public var node: NodeID
    /// Where it is consumed.
    public var slot: Slot
    /// Creates a use.
    public init(node: NodeID, slot: Slot) {
        self.node = node
        self.slot = slot
    }
    /// Convenience: a use as input `index`.
    public init(node: NodeID, inputIndex: Int) { self.init(node: node, slot: .input(inputIndex)) }
    /// The input index for an explicit use, nil for a subgraph reference.
    public var inputIndex: Int? {
        if case .input(let i) = slot { return i }
        return nil
    }
}

/// A snapshot view of one value in a graph: everything known about the name.
public struct Value: Sendable, Equatable {
    /// The name.
    public var name: String
    /// Declared or inferable type (declaration, else initializer type), nil if unknown.
    public var type: ValueType?
    /// What defines it.
    public var producer: ValueProducer
    /// Every consumer, in node order (explicit inputs, then subgraph references).
    public var uses: [ValueUse]
    /// True when the value is a graph output.
    public var isGraphOutput: Bool
    /// True when the value has an initializer.
    public var isInitializer: Bool
}
