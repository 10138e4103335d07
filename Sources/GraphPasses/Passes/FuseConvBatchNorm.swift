/// BatchNormalization folded into the Conv before it: W' = W·s, B' = (B − mean)·s + beta with
/// s = scale / sqrt(var + epsilon) per output channel. Needs constant weights and statistics.
/// A Conv read by several BatchNormalizations (and nothing else) becomes one Conv per branch.
import GraphEditing
import GraphIR

public struct FuseConvBatchNorm: Pass {
    public init() {}
    public let name = "fuse-conv-bn"
    public let doc = "Fold BatchNormalization into the Conv before it (constant weights)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [ConvBNPattern()]).run(&ctx)
    }
}

struct ConvBNPattern: RewritePattern {
    let name = "conv+batchnorm"
    let rootOps: Set<String> = ["BatchNormalization"]

    func matchAndRewrite(_ bn: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard r.require(bn.outputs.count == 1 && bn.inputs.count == 5, "a training-mode BatchNormalization (extra outputs)", at: bn.id),
              let conv = r.producer(of: bn.inputs[0], ["Conv"], from: bn.id) else { return false }
        r.take(conv)
        // A Conv read only by BatchNormalizations (branches normalizing one Conv differently)
        // becomes one Conv per branch; any other reader keeps the Conv as it is.
        let readers = r.graph.uses(of: conv.outputs[0]).compactMap { r.graph.node($0.node) }
        guard r.require(!r.context.isGraphOutput(conv.outputs[0]) && readers.allSatisfy({ $0.opType == "BatchNormalization" && $0.inputs[0] == conv.outputs[0] }),
                        "the Conv output has a second consumer", at: conv.id),
              let w = r.context.constant(conv.inputs[1]), w.elementType == .float,
              w.dims.count >= 3 else { return r.fail("the Conv weight is not a constant float tensor", at: conv.id) }
        let c = Int(w.dims[0])
        var bias = [Float](repeating: 0, count: c)
        if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
            guard let b = r.context.constant(conv.inputs[2]), let bv = try? b.floatValues(), bv.count == c else {
                return r.fail("the Conv bias is not a constant", at: conv.id)
            }
            bias = bv
        }
        var fused: [NewNode] = []
        for norm in readers.sorted(by: { (r.graph.position(of: $0.id) ?? 0) < (r.graph.position(of: $1.id) ?? 0) }) {
            r.take(norm)
            guard r.require(norm.outputs.count == 1 && norm.inputs.count == 5, "a training-mode BatchNormalization (extra outputs)", at: norm.id) else { return false }
            var stats: [[Float]] = []
            for k in 1...4 {
                guard let t = r.context.constant(norm.inputs[k]), let v = try? t.floatValues(), v.count == c else {
                    return r.fail("BatchNormalization input \(k) is not a constant of \(c) values", at: norm.id)
                }
                stats.append(v)
            }
            let eps = norm.attribute("epsilon")?.floatValue ?? 1e-5
            var nb = bias
            var scale = [Float](repeating: 1, count: c)
            for o in 0..<c {
                let s = stats[0][o] / (stats[3][o] + eps).squareRoot()
                scale[o] = s
                nb[o] = (bias[o] - stats[2][o]) * s + stats[1][o]
            }
            guard let nw = ChannelScaling.scaled(w, by: scale, cache: &r.context.scalings) else { return r.fail("the Conv weight is not a constant float tensor", at: conv.id) }
            let wn = r.initializer(conv.inputs[1] + "_bn", nw)
            let bname = r.initializer((conv.name.isEmpty ? "conv" : conv.name) + "_bn_bias", Tensor(floats: nb, dims: [Int64(c)]))
            fused.append(NewNode(opType: "Conv", inputs: [conv.inputs[0], wn, bname], outputs: [norm.outputs[0]], attributes: conv.attributes))
        }
        return try r.replace([conv.id] + readers.map(\.id), with: fused)
    }
}
