// Folding of weights and constants into the ops that use them, as Netron draws them: a Constant
// node (or an op computed from stored values only) whose every use is an op disappears as a
// box and is listed in its consumers' boxes with its shape (`W float32[64,3,3,3]`). Also the
// op-schema names of input slots (`X`, `W`, `B`) that those lines start with.

extension RenderGraph {
    /// Whether node `i` folds into its consumers: a `.constant` node with no incoming edge and at
    /// least one outgoing edge, every one of which ends at an op (a constant feeding a graph
    /// output, or nothing, stays a box).
    func foldableConstants() -> [Bool] {
        var foldable = nodes.map { $0.kind == .constant }
        var used = [Bool](repeating: false, count: nodes.count)
        for e in edges {
            if foldable[e.target] { foldable[e.target] = false }
            used[e.source] = true
            if nodes[e.target].kind != .op { foldable[e.source] = false }
        }
        for i in foldable.indices where !used[i] { foldable[i] = false }
        return foldable
    }

    /// The graph with foldable constants removed (see `foldableConstants`), and how many were
    /// removed; nil when nothing folds. Consumers keep `folded` entries for initializers and
    /// for the removed constants; entries of constants that stay boxes are dropped, since an
    /// edge already shows them.
    public func foldingConstants() -> (graph: RenderGraph, removed: Int)? {
        let foldable = foldableConstants()
        let removed = foldable.lazy.filter { $0 }.count
        if removed == 0 { return nil }
        var newIndex = [Int](repeating: -1, count: nodes.count)
        var kept: [Node] = []
        kept.reserveCapacity(nodes.count - removed)
        for (i, n) in nodes.enumerated() where !foldable[i] {
            newIndex[i] = kept.count
            var copy = n
            copy.folded = n.folded.compactMap { f in
                guard let c = f.constantNode else { return f }
                guard foldable[c] else { return nil }
                var moved = f
                moved.constantNode = nil
                return moved
            }
            kept.append(copy)
        }
        var newEdges: [Edge] = []
        newEdges.reserveCapacity(edges.count)
        for e in edges where !foldable[e.source] {
            var copy = e
            copy.source = newIndex[e.source]; copy.target = newIndex[e.target]
            newEdges.append(copy)
        }
        return (RenderGraph(name: name, nodes: kept, edges: newEdges), removed)
    }
}

/// How the drawing shows weights and constants.
public enum ConstantDisplay: String, Sendable, CaseIterable {
    /// Listed inside the box of the op that uses them (the default, as Netron).
    case folded
    /// Drawn as their own boxes with edges (the view before folding existed).
    case boxes
}

/// The ONNX schema's names of the input slots of common ops, so a folded weight reads
/// `W float32[64,3,3,3]` rather than by its position. Ops not listed use `in<k>`.
public func inputSlotName(op: String, index: Int) -> String {
    let names: [String]
    switch op {
    case "Conv", "ConvTranspose", "QLinearConv": names = ["X", "W", "B"]
    case "Gemm": names = ["A", "B", "C"]
    case "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "And", "Or", "Mod": names = ["A", "B"]
    case "BatchNormalization": names = ["X", "scale", "B", "input_mean", "input_var"]
    case "LayerNormalization", "SkipLayerNormalization": names = ["X", "scale", "B"]
    case "InstanceNormalization": names = ["input", "scale", "B"]
    case "PRelu": names = ["X", "slope"]
    case "Reshape": names = ["data", "shape"]
    case "Expand": names = ["input", "shape"]
    case "Tile": names = ["input", "repeats"]
    case "Gather", "GatherElements", "GatherND": names = ["data", "indices"]
    case "Slice": names = ["data", "starts", "ends", "axes", "steps"]
    case "Pad": names = ["data", "pads", "constant_value", "axes"]
    case "Clip": names = ["input", "min", "max"]
    case "Resize": names = ["X", "roi", "scales", "sizes"]
    case "Upsample": names = ["X", "scales"]
    case "Squeeze", "Unsqueeze": names = ["data", "axes"]
    case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2": names = ["data", "axes"]
    case "Split": names = ["input", "split"]
    case "Where": names = ["condition", "X", "Y"]
    case "LSTM", "GRU", "RNN": names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    case "QuantizeLinear": names = ["x", "y_scale", "y_zero_point"]
    case "DequantizeLinear": names = ["x", "x_scale", "x_zero_point"]
    case "Range": names = ["start", "limit", "delta"]
    case "TopK": names = ["X", "K"]
    case "ConstantOfShape": names = ["input"]
    case "Einsum", "Concat", "Sum", "Max", "Min", "Mean": return "in\(index)"
    default: names = []
    }
    return index < names.count ? names[index] : "in\(index)"
}
