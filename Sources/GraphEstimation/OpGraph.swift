import GraphIR

/// The estimator's own compact cost view of a graph: op types, attributes, and value indices,
/// in topological order, with GraphOps' symbolic shapes laid out per value. `GraphIRAdapter`
/// builds it from a `GraphIR.Graph`. Keeping the cost model on this small value type keeps it
/// fast (arrays, no dictionaries on the hot path) and independent of editing concerns. It has
/// no shape rules: shapes are GraphOps' inference, evaluated per binding (`ShapeBinding`).

/// A constant tensor carried by an attribute (e.g. `Constant.value`), described, not decoded.
public struct ConstTensor: Sendable, Hashable {
    /// Dimensions.
    public var shape: [Int]
    /// Bits per element.
    public var elementBits: Int
    /// Whether elements are floating point.
    public var isFloat: Bool
    /// A constant tensor description.
    public init(shape: [Int], elementBits: Int, isFloat: Bool) {
        self.shape = shape; self.elementBits = elementBits; self.isFloat = isFloat
    }
}

/// Attribute values the cost model reads.
public enum AttrValue: Sendable, Hashable {
    case int(Int), ints([Int]), float(Double), floats([Double]), string(String), strings([String])
    case tensor(ConstTensor)
    /// Graph-valued or other attributes the estimator does not interpret.
    case other
}

/// One attribute of an `OpNode`.
public struct NamedAttribute: Sendable, Hashable {
    /// Name.
    public var name: String
    /// Value.
    public var value: AttrValue
    /// An attribute.
    public init(name: String, value: AttrValue) { self.name = name; self.value = value }
}

/// A value (tensor) of the graph.
public struct ValueDesc: Sendable, Hashable {
    /// Name.
    public var name: String
    /// Declared shape (graph inputs, value_info, initializers) with GraphIR's dims; nil when not declared.
    public var shape: [Dim]?
    /// Bits per element (0 = unknown).
    public var elementBits: Int
    /// Whether elements are floating point.
    public var isFloat: Bool
    /// Initializer, sparse initializer, or otherwise known-constant data.
    public var isConstant: Bool

    /// A value description.
    public init(name: String, shape: [Dim]?, elementBits: Int, isFloat: Bool, isConstant: Bool = false) {
        self.name = name; self.shape = shape; self.elementBits = elementBits; self.isFloat = isFloat
        self.isConstant = isConstant
    }
}

/// A node in estimator form. A value type whose payload sits in one copy-on-write box, so
/// copying a node (which the estimator does per node, per pass) costs one retain, not six.
public struct OpNode: Sendable, Hashable {
    final class Box: @unchecked Sendable {
        var id: NodeID?
        var opType: String
        var traits: OpTraits
        var domain: String
        var name: String
        var path: [String]
        var attributeList: [NamedAttribute]
        var inputs: [Int]
        var outputs: [Int]
        init(id: NodeID?, opType: String, domain: String, name: String, path: [String],
             attributeList: [NamedAttribute], inputs: [Int], outputs: [Int]) {
            self.id = id; self.opType = opType; self.traits = OpTraits.of(opType); self.domain = domain; self.name = name
            self.path = path; self.attributeList = attributeList; self.inputs = inputs; self.outputs = outputs
        }
        func copy() -> Box {
            Box(id: id, opType: opType, domain: domain, name: name, path: path, attributeList: attributeList, inputs: inputs, outputs: outputs)
        }
    }
    private var box: Box
    private mutating func unique() -> Box {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        return box
    }

    /// The GraphIR node this stands for (nil for hand-built graphs).
    public var id: NodeID? { get { box.id } set { unique().id = newValue } }
    /// Op type (setting it refreshes `traits`).
    public var opType: String {
        get { box.opType }
        set { let b = unique(); b.opType = newValue; b.traits = OpTraits.of(newValue) }
    }
    /// Looked-up properties of `opType`.
    public var traits: OpTraits { box.traits }
    /// Op domain (`""` for ai.onnx).
    public var domain: String { get { box.domain } set { unique().domain = newValue } }
    /// Node name.
    public var name: String { get { box.name } set { unique().name = newValue } }
    /// Hierarchy path components (module scopes), outermost first; empty at the root.
    public var path: [String] { get { box.path } set { unique().path = newValue } }
    /// Attributes in file order; a short list searched linearly (cheaper than hashing for the
    /// two or three attributes a node has).
    public var attributeList: [NamedAttribute] { get { box.attributeList } set { unique().attributeList = newValue } }
    /// Attributes by name (built on demand).
    public var attributes: [String: AttrValue] {
        get { Dictionary(attributeList.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        set { attributeList = newValue.sorted { $0.key < $1.key }.map { NamedAttribute(name: $0.key, value: $0.value) } }
    }
    /// Value indices of the inputs; -1 for an omitted optional input.
    public var inputs: [Int] { get { box.inputs } set { unique().inputs = newValue } }
    /// Value indices of the outputs; -1 for an omitted optional output.
    public var outputs: [Int] { get { box.outputs } set { unique().outputs = newValue } }

    /// A node with attributes given by name.
    public init(id: NodeID? = nil, opType: String, domain: String = "", name: String = "", path: [String] = [],
                attributes: [String: AttrValue] = [:], inputs: [Int], outputs: [Int]) {
        self.init(id: id, opType: opType, domain: domain, name: name, path: path,
                  attributeList: attributes.sorted { $0.key < $1.key }.map { NamedAttribute(name: $0.key, value: $0.value) },
                  inputs: inputs, outputs: outputs)
    }

    /// Creates a node from an attribute list (what converters use).
    public init(id: NodeID? = nil, opType: String, domain: String = "", name: String = "", path: [String] = [],
                attributeList: [NamedAttribute], inputs: [Int], outputs: [Int]) {
        box = Box(id: id, opType: opType, domain: domain, name: name, path: path, attributeList: attributeList,
                  inputs: inputs, outputs: outputs)
    }

    /// Equal when every field is equal.
    public static func == (a: OpNode, b: OpNode) -> Bool {
        a.box === b.box || (a.id == b.id && a.opType == b.opType && a.domain == b.domain && a.name == b.name && a.path == b.path
                            && a.attributeList == b.attributeList && a.inputs == b.inputs && a.outputs == b.outputs)
    }
    /// Hashes the identifying fields.
    public func hash(into h: inout Hasher) {
        h.combine(id); h.combine(opType); h.combine(name); h.combine(inputs); h.combine(outputs)
    }

    @inline(__always) func attr(_ k: String) -> AttrValue? {
        for a in box.attributeList where a.name == k { return a.value }
        return nil
    }
    func int(_ k: String) -> Int? { if case .int(let v)? = attr(k) { return v }; return nil }
    func ints(_ k: String) -> [Int]? {
        switch attr(k) { case .ints(let v)?: return v; case .int(let v)?: return [v]; default: return nil }
    }
    func float(_ k: String) -> Double? { if case .float(let v)? = attr(k) { return v }; return nil }
    func floats(_ k: String) -> [Double]? { if case .floats(let v)? = attr(k) { return v }; return nil }
    func string(_ k: String) -> String? { if case .string(let v)? = attr(k) { return v }; return nil }
    func input(_ i: Int) -> Int { i < box.inputs.count ? box.inputs[i] : -1 }
}

/// The graph in estimator form. Nodes must be in topological order (as GraphIR keeps them).
public struct OpGraph: Sendable {
    /// Values, indexed by the node input/output indices.
    public var values: [ValueDesc] = []
    /// Nodes in topological order.
    public var nodes: [OpNode] = []
    /// Graph inputs (value indices).
    public var inputs: [Int] = []
    /// Graph outputs (value indices).
    public var outputs: [Int] = []
    /// If/Loop/Scan bodies flattened into `nodes` (empty for graphs without control flow), in
    /// pre-order: a body's region comes before the regions of bodies nested in it.
    public var regions: [ControlRegion] = []
    /// Problems found while converting (e.g. NodeIDs repeated across subgraphs), one line each.
    public var conversionIssues: [String] = []

    /// The GraphIR graph this was converted from (nil for hand-built graphs), with the opsets and
    /// functions its inference used: kept to infer a binding concretely (see `SymbolicShapes`).
    var source: Graph?
    var opsets: [String: Int64] = [:]
    var functions: [Function] = []
    /// GraphOps' body key of each region (`n12/then_branch`), parallel to `regions`.
    var regionKeys: [String] = []
    /// The region whose body defines each body-local value (main-graph values are absent).
    var bodyValueRegion: [Int: Int] = [:]
    /// The shared symbolic inference laid out on value indices (nil: declared shapes only).
    var symbolic: SymbolicShapes?
    /// Concrete inferences per binding, shared by copies of this graph.
    let boundCache = BoundInferenceCache()

    /// An empty graph.
    public init() {}

    /// Appends a value and returns its index.
    @discardableResult
    public mutating func addValue(_ v: ValueDesc) -> Int { values.append(v); return values.count - 1 }

    /// Appends a node (callers keep topological order).
    public mutating func addNode(_ n: OpNode) { nodes.append(n) }

    /// Adds a body region (hand-built graphs; the GraphIR adapter fills `regions` itself).
    /// Keep the layout the estimator relies on: `nodes` is contiguous, nested ranges lie inside
    /// their parent's, and the owner comes after all of its regions' nodes.
    @discardableResult
    public mutating func addRegion(_ r: ControlRegion) -> Int { regions.append(r); return regions.count - 1 }

    /// The innermost region of every node (-1 at top level). Regions are in pre-order, so a
    /// later (inner) region overwrites the outer one on its range.
    public func regionOfNodes() -> [Int] {
        var out = Array(repeating: -1, count: nodes.count)
        for (r, reg) in regions.enumerated() {
            for i in reg.nodes where i >= 0 && i < out.count { out[i] = r }
        }
        return out
    }

    /// Every name a binding can set, sorted: the symbols, plus scalar graph inputs (a binding gives
    /// them a value: `sr=16000` selects silero_vad's branch) and named Loops (a binding sets the
    /// trip count when `M` is not a constant).
    public var bindableNames: [String] {
        var s = Set(symbols)
        for i in inputs where i >= 0 && i < values.count && !values[i].isConstant {
            if let dims = values[i].shape, dims.allSatisfy({ $0 == .known(1) }) { s.insert(values[i].name) }
        }
        for n in nodes where n.opType == "Loop" && !n.name.isEmpty { s.insert(n.name) }
        return s.sorted()
    }

    /// Every symbol used by declared shapes, sorted: what the user may bind.
    public var symbols: [String] {
        var s = Set<String>()
        for v in values { for d in v.shape ?? [] { if case .symbolic(let n) = d { s.insert(n) } } }
        return s.sorted()
    }
}

/// A subgraph body (an If branch, a Loop or Scan body) flattened into its `OpGraph`. Bodies
/// share the graph's value table, so a body node reading an outer-scope name simply reads the
/// outer value; the body's own inputs are bound from the owner's inputs during shape
/// inference, and its outputs give the owner's output shapes. Laid out so one forward pass
/// sees everything in order: a body's nodes are contiguous and come right before the owner.
public struct ControlRegion: Sendable, Hashable {
    /// Which body of the owner this is.
    public enum Kind: String, Sendable, Hashable {
        /// `If.then_branch` (taken when the condition is true).
        case thenBranch = "then_branch"
        /// `If.else_branch`.
        case elseBranch = "else_branch"
        /// `Loop.body` (runs once per iteration).
        case loopBody = "loop body"
        /// `Scan.body` (runs once per sequence element).
        case scanBody = "scan body"
    }
    /// Which body this is.
    public var kind: Kind
    /// Node index of the If/Loop/Scan owning the body.
    public var owner: Int
    /// Enclosing region (-1: the top-level graph).
    public var parent: Int
    /// Indices of the body's nodes, nested bodies included.
    public var nodes: Range<Int>
    /// The body's formal inputs (value indices): Loop (iteration, condition, carried...), Scan
    /// (states..., scan slices...); none for If branches.
    public var inputs: [Int]
    /// The body's outputs (value indices).
    public var outputs: [Int]

    /// A region.
    public init(kind: Kind, owner: Int, parent: Int = -1, nodes: Range<Int>, inputs: [Int] = [], outputs: [Int]) {
        self.kind = kind; self.owner = owner; self.parent = parent; self.nodes = nodes; self.inputs = inputs; self.outputs = outputs
    }

    /// The region kind of an owner's subgraph attribute (nil for attributes that are not bodies).
    public static func kind(op: String, attribute: String) -> Kind? {
        switch (op, attribute) {
        case ("If", "then_branch"): return .thenBranch
        case ("If", "else_branch"): return .elseBranch
        case ("Loop", "body"): return .loopBody
        case ("Scan", "body"): return .scanBody
        default: return nil
        }
    }
}
