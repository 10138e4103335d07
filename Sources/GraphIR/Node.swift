/// Nodes (operator applications) and their stable identity. A node names its inputs and
/// outputs by value name; the owning `Graph` keeps the producer/use index exact.

/// A node's identity: assigned once, never changed, never reused within one graph's lineage
/// (removing a node does not free its id). Other layers key per-node data by it.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number (dense, starting at 0 for a freshly read model).
    public let rawValue: Int
    /// Wraps a number.
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "n\(rawValue)" }
}

/// One operator application.
///
/// A value type whose fields live in one copy-on-write box: copying a node (and so copying a
/// graph's node array, which every first edit of a shared version does) costs one retain
/// instead of one per field, so an edit of a 10k-node graph stays well under a millisecond.
/// Writing a field of a shared node copies its box first.
public struct Node: Sendable, Equatable {
    /// The fields, shared between copies until one of them writes.
    final class Fields: @unchecked Sendable {
        // Safe to send: a box is only mutated while uniquely referenced (`Node.makeUnique`).
        // For the same reason no two accesses to one box can overlap, so the runtime's dynamic
        // exclusivity checks (a call on every field read of a class) are left out: inference and
        // passes read these fields millions of times.
        @exclusivity(unchecked) var opType: String
        @exclusivity(unchecked) var domain: String
        @exclusivity(unchecked) var overload: String
        @exclusivity(unchecked) var name: String
        @exclusivity(unchecked) var inputs: ValueNames
        @exclusivity(unchecked) var outputs: ValueNames
        @exclusivity(unchecked) var attributes: [Attribute]
        @exclusivity(unchecked) var docString: String
        @exclusivity(unchecked) var metadataProps: MetadataProps
        @exclusivity(unchecked) var annotations: [String: String]
        @exclusivity(unchecked) var provenance: Provenance
        @exclusivity(unchecked) var hierarchyPath: [String]?
        @exclusivity(unchecked) var unknownFields: UnknownFields

        init(opType: String, domain: String, overload: String, name: String, inputs: ValueNames, outputs: ValueNames,
             attributes: [Attribute], docString: String, metadataProps: MetadataProps, annotations: [String: String],
             provenance: Provenance, hierarchyPath: [String]?, unknownFields: UnknownFields) {
            self.opType = opType
            self.domain = domain
            self.overload = overload
            self.name = name
            self.inputs = inputs
            self.outputs = outputs
            self.attributes = attributes
            self.docString = docString
            self.metadataProps = metadataProps
            self.annotations = annotations
            self.provenance = provenance
            self.hierarchyPath = hierarchyPath
            self.unknownFields = unknownFields
        }

        func copy() -> Fields {
            Fields(opType: opType, domain: domain, overload: overload, name: name, inputs: inputs, outputs: outputs,
                   attributes: attributes, docString: docString, metadataProps: metadataProps, annotations: annotations,
                   provenance: provenance, hierarchyPath: hierarchyPath, unknownFields: unknownFields)
        }

        func isEqual(to o: Fields) -> Bool {
            opType == o.opType && domain == o.domain && overload == o.overload && name == o.name && inputs == o.inputs
                && outputs == o.outputs && attributes == o.attributes && docString == o.docString
                && metadataProps == o.metadataProps && annotations == o.annotations && provenance == o.provenance
                && hierarchyPath == o.hierarchyPath && unknownFields == o.unknownFields
        }
    }

    /// Stable id; assigned by the graph (`Graph.addNode` ignores what is passed in).
    public internal(set) var id: NodeID {
        get { _id }
        set { _id = newValue }
    }
    /// Storage of `id` (kept outside the box: the index reads it on every lookup).
    var _id: NodeID
    /// Storage of every other field.
    private var fields: Fields
    /// Storage of `hasSubgraphs`.
    var _hasSubgraphs: Bool

    /// Gives this node its own box before a write.
    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&fields) { fields = fields.copy() }
    }

    /// Operator type (`Conv`, `MatMul`, ...).
    public var opType: String {
        get { fields.opType }
        _modify { makeUnique(); yield &fields.opType }
    }
    /// Operator domain (`""` is the default ONNX domain).
    public var domain: String {
        get { fields.domain }
        _modify { makeUnique(); yield &fields.domain }
    }
    /// Function overload identifier (ONNX `overload`).
    public var overload: String {
        get { fields.overload }
        _modify { makeUnique(); yield &fields.overload }
    }
    /// Node name (may be empty; not necessarily unique).
    public var name: String {
        get { fields.name }
        _modify { makeUnique(); yield &fields.name }
    }
    /// Input value names in order; `""` marks an omitted optional input.
    public var inputs: ValueNames {
        get { fields.inputs }
        _modify { makeUnique(); yield &fields.inputs }
    }
    /// Output value names in order; `""` marks an unused optional output.
    public var outputs: ValueNames {
        get { fields.outputs }
        _modify { makeUnique(); yield &fields.outputs }
    }
    /// Attributes in file order.
    public var attributes: [Attribute] {
        get { fields.attributes }
        _modify {
            makeUnique()
            defer { _hasSubgraphs = Node.containsGraph(fields.attributes) }
            yield &fields.attributes
        }
    }
    /// True when some attribute holds a graph (kept up to date as attributes change, so the
    /// graph index can skip subgraph handling for ordinary nodes at no cost).
    public var hasSubgraphs: Bool { _hasSubgraphs }
    /// Documentation string.
    public var docString: String {
        get { fields.docString }
        _modify { makeUnique(); yield &fields.docString }
    }
    /// Metadata (`pkg.torch.onnx.name_scopes`, `namespace`, ...).
    public var metadataProps: MetadataProps {
        get { fields.metadataProps }
        _modify { makeUnique(); yield &fields.metadataProps }
    }
    /// Free-form annotations set by tools (kept across edits; saved in ONNX node metadata as
    /// `graphsmith.annotation.KEY` and in Model Explorer JSON).
    public var annotations: [String: String] {
        get { fields.annotations }
        _modify { makeUnique(); yield &fields.annotations }
    }
    /// Where the node came from when a tool made it: the nodes it stands for (after a fusion or
    /// a clone) and what made it. Empty for nodes read from a file.
    public var provenance: Provenance {
        get { fields.provenance }
        _modify { makeUnique(); yield &fields.provenance }
    }
    /// Explicit hierarchy path; when nil the `Hierarchy` derives it from metadata or name.
    public var hierarchyPath: [String]? {
        get { fields.hierarchyPath }
        _modify { makeUnique(); yield &fields.hierarchyPath }
    }
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields {
        get { fields.unknownFields }
        _modify { makeUnique(); yield &fields.unknownFields }
    }

    public static func == (a: Node, b: Node) -> Bool {
        a._id == b._id && a._hasSubgraphs == b._hasSubgraphs && (a.fields === b.fields || a.fields.isEqual(to: b.fields))
    }

    /// Every field given (the initializers below delegate here).
    init(_id: NodeID, opType: String, domain: String, overload: String, name: String, inputs: ValueNames,
         outputs: ValueNames, attributes: [Attribute], _hasSubgraphs: Bool, docString: String,
         metadataProps: MetadataProps, annotations: [String: String], provenance: Provenance,
         hierarchyPath: [String]?, unknownFields: UnknownFields) {
        self._id = _id
        self._hasSubgraphs = _hasSubgraphs
        self.fields = Fields(opType: opType, domain: domain, overload: overload, name: name, inputs: inputs,
                             outputs: outputs, attributes: attributes, docString: docString,
                             metadataProps: metadataProps, annotations: annotations, provenance: provenance,
                             hierarchyPath: hierarchyPath, unknownFields: unknownFields)
    }

    /// The attribute named `name`, if present.
    public func attribute(_ name: String) -> AttributeValue? {
        attributes.first(where: { $0.name == name })?.value
    }

    /// Sets (replacing) or removes an attribute.
    public mutating func setAttribute(_ name: String, _ value: AttributeValue?) {
        if let v = value {
            if let i = attributes.firstIndex(where: { $0.name == name }) { attributes[i].value = v }
            else { attributes.append(Attribute(name, v)) }
        } else {
            attributes.removeAll { $0.name == name }
        }
    }

    static func containsGraph(_ attributes: [Attribute]) -> Bool {
        if attributes.isEmpty { return false }
        // Elements are read in place (buffer pointer) and checked by type code first: copying
        // each attribute value out of the array cost more than the rest of building a node.
        return attributes.withUnsafeBufferPointer { buf in
            for i in buf.indices {
                switch buf[i].value.typeCode {
                case 5: return true
                case 10: if !buf[i].value.subgraphs.isEmpty { return true }
                default: continue
                }
            }
            return false
        }
    }

    /// Subgraph attributes (If/Loop/Scan bodies) as (attribute name, graph) pairs.
    public var subgraphs: [(attribute: String, graph: Graph)] {
        var out: [(String, Graph)] = []
        for a in attributes {
            for g in a.value.subgraphs { out.append((a.name, g)) }
        }
        return out
    }

    /// The name every tool shows for this node: its own name, or for an unnamed node the op type
    /// and id (`Constant_37`). Made from structure only, so the drawing, the estimate tables and
    /// node lookups all agree on it, and it stays the same across edits (ids are never reused).
    public var displayName: String { name.isEmpty ? "\(opType)_\(id.rawValue)" : name }

    /// Bodies with the label that names them in paths: the attribute name (`then_branch`,
    /// `body`), or `attribute.i` for the i-th graph of a graph-list attribute.
    public var labeledSubgraphs: [(label: String, attribute: String, index: Int, graph: Graph)] {
        guard hasSubgraphs else { return [] }
        var out: [(label: String, attribute: String, index: Int, graph: Graph)] = []
        for a in attributes {
            switch a.value {
            case .graph(let g): out.append((a.name, a.name, 0, g))
            case .graphs(let gs): for (i, g) in gs.enumerated() { out.append(("\(a.name).\(i)", a.name, i, g)) }
            default: continue
            }
        }
        return out
    }

    /// `domain::opType` for non-default domains, else `opType`; a stable histogram key.
    public var qualifiedOpType: String {
        (domain.isEmpty || domain == "ai.onnx") ? opType : "\(domain)::\(opType)"
    }
}

// The public initializers live in an extension beside the one that takes every field.
extension Node {
    /// Creates a node (the id is replaced when it is added to a graph).
    public init(id: NodeID = NodeID(-1), opType: String, domain: String = "", overload: String = "",
                name: String = "", inputs: [String] = [], outputs: [String] = [], attributes: [Attribute] = [],
                docString: String = "", metadataProps: MetadataProps = MetadataProps(),
                annotations: [String: String] = [:], provenance: Provenance = Provenance(), hierarchyPath: [String]? = nil,
                unknownFields: UnknownFields = UnknownFields()) {
        self.init(_id: id, opType: opType, domain: domain, overload: overload, name: name, inputs: ValueNames(inputs),
                  outputs: ValueNames(outputs), attributes: attributes, _hasSubgraphs: Node.containsGraph(attributes),
                  docString: docString, metadataProps: metadataProps, annotations: annotations,
                  provenance: provenance, hierarchyPath: hierarchyPath, unknownFields: unknownFields)
    }

    /// For readers, which already know whether an attribute holds a graph (`hasSubgraphs`
    /// must be exactly that): skips re-scanning the attributes.
    package init(read id: NodeID, opType: String, domain: String, overload: String, name: String,
                 inputs: ValueNames, outputs: ValueNames, attributes: [Attribute], hasSubgraphs: Bool,
                 docString: String, metadataProps: MetadataProps, unknownFields: UnknownFields) {
        self.init(_id: id, opType: opType, domain: domain, overload: overload, name: name, inputs: inputs,
                  outputs: outputs, attributes: attributes, _hasSubgraphs: hasSubgraphs,
                  docString: docString, metadataProps: metadataProps, annotations: [:],
                  provenance: Provenance(), hierarchyPath: nil, unknownFields: unknownFields)
    }
}

/// Where a node made by a tool came from, as MLIR's fused locations carry it through every pass:
/// the ids of the nodes it stands for and what made it (`edit add`, `pass fuse-conv-bn`,
/// `plugin NAME`). Annotations follow it: a fused node inherits its sources' annotations.
public struct Provenance: Sendable, Equatable, Hashable {
    /// The nodes this node stands for (a fusion's inputs, a clone's original); empty for a new node.
    public var sources: [NodeID]
    /// What made the node; empty for nodes read from a file.
    public var origin: String

    public init(sources: [NodeID] = [], origin: String = "") {
        self.sources = sources
        self.origin = origin
    }

    /// True for nodes read from a file and never touched by a tool.
    public var isEmpty: Bool { sources.isEmpty && origin.isEmpty }

    /// `made by pass fuse from n3, n4`, for tables.
    public var description: String {
        var parts: [String] = []
        if !origin.isEmpty { parts.append("made by \(origin)") }
        if !sources.isEmpty { parts.append("from " + sources.map(\.description).joined(separator: ", ")) }
        return parts.joined(separator: " ")
    }
}
