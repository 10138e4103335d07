/// One change to a graph, as data: what the rewriter applies, history records, the journal
/// stores and `history export` writes back as a command. Edits name nodes by their model-wide
/// stable id, so an edit means the same node after any number of other edits.
import GraphIR

/// A node to add: everything but its id, which the graph assigns.
public struct NewNode: Sendable, Equatable {
    public var opType: String
    public var domain: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [Attribute]
    /// Nodes the new one stands for (a clone's original, a fusion's parts).
    public var sources: [NodeID]
    /// Annotations to set on the new node.
    public var annotations: [String: String]
    /// The node's hierarchy path; nil: the common scope of its sources (where a fused node's
    /// parts were), else none.
    public var hierarchyPath: [String]?

    public init(opType: String, domain: String = "", name: String = "", inputs: [String] = [], outputs: [String] = [],
                attributes: [Attribute] = [], sources: [NodeID] = [], annotations: [String: String] = [:],
                hierarchyPath: [String]? = nil) {
        self.hierarchyPath = hierarchyPath
        self.opType = opType
        self.domain = domain
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.sources = sources
        self.annotations = annotations
    }
}

/// One change. Applying it through `Transaction.apply` keeps the graph's index exact and
/// either succeeds or leaves the transaction's graph unchanged.
public enum GraphEdit: Sendable, Equatable {
    /// Adds a node at the first position after its producers; an output named `""` gets a
    /// fresh name from the name authority.
    case addNode(NewNode)
    /// Removes a node; refused while its outputs are used unless the transaction allows
    /// dangling values.
    case removeNode(NodeID)
    /// Points every use of one value (and graph outputs) at another.
    case replaceUses(of: String, with: String)
    /// Sets input `index` of a node (`""` omits an optional input; `index == count` appends).
    case setInput(node: NodeID, index: Int, value: String)
    /// Sets (nil: removes) an attribute.
    case setAttribute(node: NodeID, name: String, value: AttributeValue?)
    /// Renames a node (a label; the id stays).
    case renameNode(NodeID, to: String)
    /// Renames a value everywhere it appears.
    case renameValue(String, to: String)
    /// Declares a graph input.
    case addInput(name: String, type: ValueType?)
    /// Removes a graph input declaration.
    case removeInput(String)
    /// Declares a graph output.
    case addOutput(name: String, type: ValueType?)
    /// Removes a graph output.
    case removeOutput(String)
    /// Adds or replaces an initializer.
    case setInitializer(Tensor)
    /// Removes an initializer.
    case removeInitializer(String)
    /// Sets (nil: removes) the declared type of a value (graph input, output or value_info).
    case setValueType(String, ValueType?)
    /// Replaces a dimension everywhere it is declared: a symbol (`seq`) becomes a number or
    /// another symbol, or a number becomes a symbol on the named value only (`value` non-nil).
    case setDimension(from: Dim, to: Dim, value: String?, axis: Int?)
    /// Sets (nil: removes) an annotation on a node.
    case annotate(NodeID, key: String, value: String?)
    /// Sets the opset version the model imports for a domain (`""` is ai.onnx), adding the
    /// import when missing: a pass that emits a newer op raises it (after converting the ops
    /// whose meaning changed in between).
    case setOpset(domain: String, version: Int64)

    /// A short phrase for history rows and reports: `add Relu`, `remove n12`, `set n3.alpha`.
    public var summary: String {
        switch self {
        case .addNode(let n): return "add \(n.opType)"
        case .removeNode(let id): return "remove \(id)"
        case .replaceUses(let a, let b): return "replace uses of \(a) with \(b)"
        case .setInput(let id, let i, let v): return v.isEmpty ? "disconnect \(id):\(i)" : "connect \(v) to \(id):\(i)"
        case .setAttribute(let id, let name, let v): return v == nil ? "unset \(id).\(name)" : "set \(id).\(name)"
        case .renameNode(let id, let to): return "rename \(id) to \(to)"
        case .renameValue(let a, let b): return "rename \(a) to \(b)"
        case .addInput(let n, _): return "add input \(n)"
        case .removeInput(let n): return "remove input \(n)"
        case .addOutput(let n, _): return "add output \(n)"
        case .removeOutput(let n): return "remove output \(n)"
        case .setInitializer(let t): return "set initializer \(t.name)"
        case .removeInitializer(let n): return "remove initializer \(n)"
        case .setValueType(let n, let t): return t == nil ? "untype \(n)" : "type \(n)"
        case .setDimension(let a, let b, let v, _): return "dims \(v.map { "\($0):" } ?? "")\(a)=\(b)"
        case .annotate(let id, let k, let v): return v == nil ? "unannotate \(id).\(k)" : "annotate \(id) \(k)"
        case .setOpset(let d, let v): return "opset \(d.isEmpty ? "ai.onnx" : d)=\(v)"
        }
    }
}

/// An edit and the body it applies to: no steps for the main graph, else the path of
/// (owner node, attribute, index) steps down to an If/Loop/Scan body.
public struct ScopedEdit: Sendable, Equatable {
    public var scope: [BodyStep]
    public var edit: GraphEdit

    public init(_ edit: GraphEdit, in scope: [BodyStep] = []) {
        self.scope = scope
        self.edit = edit
    }
}
