/// A constant per-channel Mul or Add after a Conv folded into the Conv:
/// Conv(x, W, B) · S = Conv(x, W·s, B·s) and Conv(x, W, B) + C = Conv(x, W, B + C), when S or
/// C is a scalar or holds one value per output channel on the channel axis ([Cout, 1, 1],
/// [1, Cout, 1, 1], ...). Exporters write biases and folded normalizations this way
/// (paddle2onnx, caffe2 exports).
import GraphEditing
import GraphIR

public struct FuseConvAffine: Pass {
    public init() {}
    public let name = "fuse-conv-affine"
    public let doc = "Fold a per-channel constant Mul or Add after a Conv into its weights and bias"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [ConvAffinePattern(op: "Add"), ConvAffinePattern(op: "Mul")]).run(&ctx)
    }
}

struct ConvAffinePattern: RewritePattern {
    let op: String
    var name: String { "conv+" + op.lowercased() }
    var rootOps: Set<String> { [op] }

    func matchAndRewrite(_ node: Node, _ r: inout PatternRewriter) throws -> Bool {
        let g = r.graph
        guard node.inputs.count == 2, let conv = node.inputs.compactMap({ g.producerNode(of: $0) })
            .first(where: { $0.opType == "Conv" && ($0.domain.isEmpty || $0.domain == "ai.onnx") }) else {
            return r.fail("no input of the \(op) is made by a Conv", at: node.id)
        }
        r.take(conv)
        let y = conv.outputs[0]
        guard let cName = r.other(node, than: y), cName != y else { return r.fail("the \(op) reads the Conv twice", at: node.id) }
        guard r.require(r.context.hasSingleUse(y), "the Conv output has a second consumer", at: conv.id),
              let w = r.context.constant(conv.inputs[1]), w.elementType == .float, w.dims.count >= 3 else {
            return r.fail("the Conv weight is not a constant float tensor", at: conv.id)
        }
        guard let c = r.context.constant(cName), c.elementType == .float, let cv = try? c.floatValues() else {
            return r.fail("the other \(op) input is not a constant float tensor", at: node.id)
        }
        let cout = Int(w.dims[0]), rank = w.dims.count
        // Right-aligned against the Conv output [N, Cout, spatial...]: Cout on axis 1, 1 elsewhere.
        let aligned = Array(repeating: Int64(1), count: max(0, rank - c.dims.count)) + c.dims
        let perChannel = c.dims.count <= rank && aligned.count == rank
            && aligned.enumerated().allSatisfy { $0.offset == 1 ? ($0.element == Int64(cout) || $0.element == 1) : $0.element == 1 }
        guard r.require(perChannel && (cv.count == cout || cv.count == 1), "the constant is not one value per output channel", at: node.id) else { return false }
        func at(_ o: Int) -> Float { cv.count == 1 ? cv[0] : cv[o] }
        var bias = [Float](repeating: 0, count: cout)
        let hasBias = conv.inputs.count > 2 && !conv.inputs[2].isEmpty
        if hasBias {
            guard let b = r.context.constant(conv.inputs[2]), let bv = try? b.floatValues(), bv.count == cout else {
                return r.fail("the Conv bias is not a constant", at: conv.id)
            }
            bias = bv
        }
        let base = conv.name.isEmpty ? "conv" : conv.name
        var inputs = [conv.inputs[0], conv.inputs[1]]
        if op == "Add" {
            for o in 0..<cout { bias[o] += at(o) }
            inputs.append(r.initializer(base + "_bias", Tensor(floats: bias, dims: [Int64(cout)])))
        } else {
            guard let nw = ChannelScaling.scaled(w, by: (0..<cout).map(at), cache: &r.context.scalings) else {
                return r.fail("the Conv weight is not a constant float tensor", at: conv.id)
            }
            inputs[1] = r.initializer(conv.inputs[1] + "_scaled", nw)
            if hasBias {
                for o in 0..<cout { bias[o] *= at(o) }
                inputs.append(r.initializer(base + "_bias", Tensor(floats: bias, dims: [Int64(cout)])))
            }
        }
        let fused = NewNode(opType: "Conv", inputs: inputs, outputs: [node.outputs[0]], attributes: conv.attributes)
        return try r.replace([conv.id, node.id], with: [fused])
    }
}
