import GraphIR

/// The estimator's own compact view of a graph: op types, attributes, and value indices,
/// in topological order. `GraphIRAdapter` builds it from a `GraphIR.Graph`; tests and
/// benchmarks can build it directly. Keeping the cost model on this small value type keeps
/// it fast (arrays, no dictionaries on the hot path) and independent of editing concerns.

/// A small constant tensor carried by an attribute (e.g. `Constant.value`, `ConstantOfShape.value`).
public struct ConstTensor: Sendable, Hashable {
    public var shape: [Int]
    public var elementBits: Int
    public var isFloat: Bool
    /// Contents when small (at most `OpGraph.maxConstElements` elements) and numeric; nil otherwise.
    public var values: [Double]?
    public init(shape: [Int], elementBits: Int, isFloat: Bool, values: [Double]?) {
        self.shape = shape; self.elementBits = elementBits; self.isFloat = isFloat; self.values = values
    }
}

/// Attribute values the cost model and shape inference read.
public enum AttrValue: Sendable, Hashable {
    case int(Int), ints([Int]), float(Double), floats([Double]), string(String), strings([String])
    case tensor(ConstTensor)
    /// Graph-valued or other attributes the estimator does not interpret.
    case other
}

/// One attribute of an `OpNode`.
public struct NamedAttribute: Sendable, Hashable {
    public var name: String
    public var value: AttrValue
    public init(name: String, value: AttrValue) { self.name = name; self.value = value }
}

/// A value (tensor) of the graph.
public struct ValueDesc: Sendable, Hashable {
    public var name: String
    /// Declared shape (graph inputs, value_info, initializers) with GraphIR's dims; nil when not declared.
    public var shape: [Dim]?
    /// Bits per element (0 = unknown).
    public var elementBits: Int
    public var isFloat: Bool
    /// Initializer, sparse initializer, or otherwise known-constant data.
    public var isConstant: Bool
    /// Contents of small numeric constants (shape tensors, scales, axes).
    public var values: [Double]?

    public init(name: String, shape: [Dim]?, elementBits: Int, isFloat: Bool, isConstant: Bool = false, values: [Double]? = nil) {
        self.name = name; self.shape = shape; self.elementBits = elementBits; self.isFloat = isFloat
        self.isConstant = isConstant; self.values = values
    }
}

/// What the estimator needs to know about an op type, looked up once when a node is made
/// (instead of several string-set lookups per node on every estimate).
public struct OpTraits: Sendable, Hashable {
    /// Shape-only ops (Reshape, Squeeze, Shape, Constant...): no kernel, no traffic.
    public var isMetadata = false
    /// Copies and re-layouts (Transpose, Concat, Gather, Resize...).
    public var isDataMovement = false
    /// If/Loop/Scan.
    public var isControlFlow = false
    /// Ops never constant-folded (random generators, control flow).
    public var neverFolded = false
    /// Whether the cost model has a formula for the op.
    public var hasCostFormula = false

    static let table: [String: OpTraits] = {
        var t: [String: OpTraits] = [:]
        let known = CostModel.matrixAndSpecialOps.union(CostModel.reductions).union(CostModel.binary)
            .union(CostModel.transcendental).union(CostModel.simpleUnary).union(CostModel.dataMovementOps)
            .union(CostModel.metadataOps).union(ShapeInference.neverFolded).union(CostModel.controlFlowOps)
        for op in known {
            var x = OpTraits()
            x.isMetadata = CostModel.metadataOps.contains(op)
            x.isDataMovement = CostModel.dataMovementOps.contains(op)
            x.isControlFlow = CostModel.controlFlowOps.contains(op)
            x.neverFolded = ShapeInference.neverFolded.contains(op)
            x.hasCostFormula = CostModel.isKnown(op)
            t[op] = x
        }
        return t
    }()

    /// Traits of an op type (all false for unknown ops).
    public static func of(_ opType: String) -> OpTraits { table[opType] ?? OpTraits() }
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
    public var opType: String {
        get { box.opType }
        set { let b = unique(); b.opType = newValue; b.traits = OpTraits.of(newValue) }
    }
    /// Looked-up properties of `opType`.
    public var traits: OpTraits { box.traits }
    public var domain: String { get { box.domain } set { unique().domain = newValue } }
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

    public static func == (a: OpNode, b: OpNode) -> Bool {
        a.box === b.box || (a.id == b.id && a.opType == b.opType && a.domain == b.domain && a.name == b.name && a.path == b.path
                            && a.attributeList == b.attributeList && a.inputs == b.inputs && a.outputs == b.outputs)
    }
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
    func tensor(_ k: String) -> ConstTensor? { if case .tensor(let v)? = attr(k) { return v }; return nil }
    func input(_ i: Int) -> Int { i < box.inputs.count ? box.inputs[i] : -1 }
}

/// The graph in estimator form. Nodes must be in topological order (as GraphIR keeps them).
public struct OpGraph: Sendable {
    /// Constants larger than this are not materialised for shape inference.
    public static let maxConstElements = 4096

    public var values: [ValueDesc] = []
    public var nodes: [OpNode] = []
    public var inputs: [Int] = []
    public var outputs: [Int] = []

    public init() {}

    /// Appends a value and returns its index.
    @discardableResult
    public mutating func addValue(_ v: ValueDesc) -> Int { values.append(v); return values.count - 1 }

    /// Appends a node (callers keep topological order).
    public mutating func addNode(_ n: OpNode) { nodes.append(n) }

    /// Every symbol used by declared shapes, sorted: what the user may bind.
    public var symbols: [String] {
        var s = Set<String>()
        for v in values { for d in v.shape ?? [] { if case .symbolic(let n) = d { s.insert(n) } } }
        return s.sorted()
    }
}
