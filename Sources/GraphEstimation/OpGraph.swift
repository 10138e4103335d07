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

/// A node in estimator form.
public struct OpNode: Sendable, Hashable {
    /// The GraphIR node this stands for (nil for hand-built graphs).
    public var id: NodeID?
    public var opType: String
    public var domain: String
    public var name: String
    /// Hierarchy path components (module scopes), outermost first; empty at the root.
    public var path: [String]
    public var attributes: [String: AttrValue]
    /// Value indices of the inputs; -1 for an omitted optional input.
    public var inputs: [Int]
    /// Value indices of the outputs; -1 for an omitted optional output.
    public var outputs: [Int]

    public init(id: NodeID? = nil, opType: String, domain: String = "", name: String = "", path: [String] = [],
                attributes: [String: AttrValue] = [:], inputs: [Int], outputs: [Int]) {
        self.id = id; self.opType = opType; self.domain = domain; self.name = name; self.path = path
        self.attributes = attributes; self.inputs = inputs; self.outputs = outputs
    }

    func int(_ k: String) -> Int? { if case .int(let v)? = attributes[k] { return v }; return nil }
    func ints(_ k: String) -> [Int]? {
        switch attributes[k] { case .ints(let v)?: return v; case .int(let v)?: return [v]; default: return nil }
    }
    func float(_ k: String) -> Double? { if case .float(let v)? = attributes[k] { return v }; return nil }
    func floats(_ k: String) -> [Double]? { if case .floats(let v)? = attributes[k] { return v }; return nil }
    func string(_ k: String) -> String? { if case .string(let v)? = attributes[k] { return v }; return nil }
    func tensor(_ k: String) -> ConstTensor? { if case .tensor(let v)? = attributes[k] { return v }; return nil }
    func input(_ i: Int) -> Int { i < inputs.count ? inputs[i] : -1 }
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
