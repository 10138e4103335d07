/// BatchNormalization folded into the Conv before it: W' = W·s, B' = (B − mean)·s + beta with
/// s = scale / sqrt(var + epsilon) per output channel. Needs constant weights and statistics.
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
        guard r.require(r.context.hasSingleUse(conv.outputs[0]), "the Conv output has a second consumer", at: conv.id),
              let w = r.context.constant(conv.inputs[1]), w.elementType == .float, let wv = try? w.floatValues(),
              w.dims.count >= 3 else { return r.fail("the Conv weight is not a constant float tensor", at: conv.id) }
        let c = Int(w.dims[0])
        var stats: [[Float]] = []
        for k in 1...4 {
            guard let t = r.context.constant(bn.inputs[k]), let v = try? t.floatValues(), v.count == c else {
                return r.fail("BatchNormalization input \(k) is not a constant of \(c) values", at: bn.id)
            }
            stats.append(v)
        }
        var bias = [Float](repeating: 0, count: c)
        if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
            guard let b = r.context.constant(conv.inputs[2]), let bv = try? b.floatValues(), bv.count == c else {
                return r.fail("the Conv bias is not a constant", at: conv.id)
            }
            bias = bv
        }
        let eps = bn.attribute("epsilon")?.floatValue ?? 1e-5
        let per = wv.count / c
        var nw = wv
        var nb = bias
        for o in 0..<c {
            let s = stats[0][o] / (stats[3][o] + eps).squareRoot()
            for i in 0..<per { nw[o * per + i] *= s }
            nb[o] = (bias[o] - stats[2][o]) * s + stats[1][o]
        }
        let wn = r.initializer(conv.inputs[1] + "_bn", Tensor(floats: nw, dims: w.dims))
        let bname = r.initializer((conv.name.isEmpty ? "conv" : conv.name) + "_bn_bias", Tensor(floats: nb, dims: [Int64(c)]))
        let fused = NewNode(opType: "Conv", inputs: [conv.inputs[0], wn, bname], outputs: [bn.outputs[0]], attributes: conv.attributes)
        return try r.replace([conv.id, bn.id], with: [fused])
    }
}
