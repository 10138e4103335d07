// The renderer's view of a model graph: op nodes with their namespace path, display facts
// (op, shapes, key attributes) and tensor edges. Adapters (GraphIR, synthetic benchmark graphs)
// fill it; everything after this point (hierarchy, collapse, layout, SVG) reads only this.

/// A model graph reduced to what a drawing needs.
public struct RenderGraph: Sendable {
    /// What a node stands for, decided by whoever builds the graph from the model's structure.
    public enum Kind: Sendable, Equatable {
        /// An operator.
        case op
        /// A graph input or output (drawn as a small terminal box).
        case graphInput, graphOutput
        /// A value computed from stored values only (an ONNX `Constant`, or an op whose every
        /// input is an initializer): folded into its consumers unless `constants=boxes`.
        case constant
    }

    /// A stored or constant input listed inside its consumer's box instead of as its own box,
    /// as Netron does: `W float32[64,3,3,3]`.
    public struct FoldedInput: Sendable, Equatable {
        /// The op's name for the input slot (`W`, `B`, `scale`), or `in<k>` when not known.
        public var slot: String
        /// The tensor's name in the model.
        public var tensor: String
        /// Element type and shape, e.g. `float32[64,3,3,3]`; empty when unknown.
        public var type: String
        /// The Constant node that produces it (index into `nodes`), nil for an initializer.
        public var constantNode: Int?
        /// A folded input.
        public init(slot: String, tensor: String, type: String, constantNode: Int? = nil) {
            self.slot = slot; self.tensor = tensor; self.type = type; self.constantNode = constantNode
        }
        /// One line for the box: slot and type.
        public var line: String { type.isEmpty ? slot + " " + tensor : slot + " " + type }
    }

    /// One op node.
    public struct Node: Sendable {
        /// Stable id (written as `data-id`, matched by overlays, focus paths and highlights).
        public var id: String
        /// Display name (often the same as `id`).
        public var name: String
        /// Operator type, e.g. "Conv"; drives the category colour.
        public var op: String
        /// Namespace segments from outermost to innermost, without the node itself.
        public var path: [String]
        /// Key attributes for the tooltip, already formatted.
        public var attributes: [(key: String, value: String)]
        /// Input and output descriptions for the tooltip, e.g. "x: float32[1,3,224,224]".
        public var inputs: [String]
        public var outputs: [String]
        /// Op, terminal or constant (see `Kind`); decides what folds.
        public var kind: Kind
        /// Initializer and Constant inputs, in input order, listed in the box when constants fold.
        public var folded: [FoldedInput]
        /// Whether this is a graph input or output drawn as a box (counted apart from op nodes).
        public var isGraphBoundary: Bool { kind == .graphInput || kind == .graphOutput }
        /// A node; `name` defaults to `id`.
        public init(id: String, name: String? = nil, op: String, path: [String] = [],
                    attributes: [(key: String, value: String)] = [], inputs: [String] = [], outputs: [String] = [],
                    kind: Kind = .op, folded: [FoldedInput] = []) {
            self.id = id; self.name = name ?? id; self.op = op; self.path = path
            self.attributes = attributes; self.inputs = inputs; self.outputs = outputs
            self.kind = kind; self.folded = folded
        }
    }

    /// A tensor flowing from one node to another.
    public struct Edge: Sendable {
        /// Producer and consumer, as indices into `nodes`.
        public var source: Int
        public var target: Int
        /// Tensor name (part of the edge's stable id).
        public var tensor: String
        /// Shape text for the edge label, e.g. "1x64x56x56"; nil when unknown.
        public var shape: String?
        /// An edge carrying `tensor` (with its shape text when known).
        public init(source: Int, target: Int, tensor: String = "", shape: String? = nil) {
            self.source = source; self.target = target; self.tensor = tensor; self.shape = shape
        }
    }

    /// Title drawn above the picture.
    public var name: String
    /// Op nodes, in the model's order (ranking and sections follow it for ties).
    public var nodes: [Node]
    /// Tensor edges between nodes.
    public var edges: [Edge]

    /// A graph from parts; call `validate()` (GraphRenderer does) before drawing.
    public init(name: String = "graph", nodes: [Node] = [], edges: [Edge] = []) {
        self.name = name; self.nodes = nodes; self.edges = edges
    }

    /// Checks edge endpoints and id uniqueness, naming the offending entry.
    public func validate() throws {
        var seen = Set<String>()
        for (i, n) in nodes.enumerated() {
            if n.id.isEmpty { throw RenderError.invalidGraph("node \(i) has an empty id") }
            if !seen.insert(n.id).inserted { throw RenderError.invalidGraph("node id '\(n.id)' is used twice") }
        }
        for n in nodes {
            for f in n.folded {
                if let c = f.constantNode, c < 0 || c >= nodes.count {
                    throw RenderError.invalidGraph("node '\(n.id)' folds input '\(f.tensor)' from node \(c), but there are \(nodes.count) nodes")
                }
            }
        }
        for (i, e) in edges.enumerated() where e.source < 0 || e.source >= nodes.count || e.target < 0 || e.target >= nodes.count {
            throw RenderError.invalidGraph("edge \(i) ('\(e.tensor)') joins \(e.source) -> \(e.target), but there are \(nodes.count) nodes")
        }
    }
}

/// Why a drawing could not be made.
public enum RenderError: Error, CustomStringConvertible, Equatable {
    case invalidGraph(String)
    case unknownPath(String)
    case invalidOverlay(String)
    /// The message shown to the user.
    public var description: String {
        switch self {
        case .invalidGraph(let why): return "cannot draw graph: \(why)"
        case .unknownPath(let path): return "no group or node named '\(path)' in this graph"
        case .invalidOverlay(let why): return "invalid overlay: \(why)"
        }
    }
}
