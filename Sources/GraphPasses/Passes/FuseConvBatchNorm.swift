/// BatchNormalization folded into the Conv or Gemm before it: W' = W·s, B' = (B − mean)·s + beta
/// with s = scale / sqrt(var + epsilon) per output channel (a Gemm's output column). Needs
/// constant weights and statistics. A Conv read by several BatchNormalizations (and nothing
/// else) becomes one Conv per branch; a Gemm needs a bias that is the same for every row.
import GraphEditing
import GraphIR

public struct FuseConvBatchNorm: Pass {
    public init() {}
    public let name = "fuse-conv-bn"
    public let doc = "Fold BatchNormalization into the Conv or Gemm before it (constant weights)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [ConvBNPattern()]).run(&ctx)
    }
}

/// BatchNormalization's statistics folded into a per-channel bias `bias` before it: y =
/// x·scale + bias' with scale = s / sqrt(var + eps) and bias' = (bias − mean)·scale + beta.
/// Nil (a near miss) when a statistic is not a constant of one value per channel.
func foldedStatistics(of bn: Node, into bias: [Float], _ r: inout PatternRewriter) -> (scale: [Float], bias: [Float])? {
    let c = bias.count
    var stats: [[Float]] = []
    for k in 1...4 {
        guard let t = r.context.constant(bn.inputs[k]), let v = try? t.floatValues(), v.count == c else {
            r.fail("BatchNormalization input \(k) is not a constant of \(c) values", at: bn.id)
            return nil
        }
        stats.append(v)
    }
    let eps = bn.attribute("epsilon")?.floatValue ?? 1e-5
    var scale = [Float](repeating: 1, count: c), shifted = bias
    for o in 0..<c {
        scale[o] = stats[0][o] / (stats[3][o] + eps).squareRoot()
        shifted[o] = (bias[o] - stats[2][o]) * scale[o] + stats[1][o]
    }
    return (scale, shifted)
}

/// Conv then BatchNormalization (the Gemm case goes to `GemmBatchNorm`, so one pattern owns
/// every BatchNormalization root and a near miss names what the normalization followed).
struct ConvBNPattern: RewritePattern {
    let name = "conv+batchnorm"
    let rootOps: Set<String> = ["BatchNormalization"]

    func matchAndRewrite(_ bn: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard r.require(bn.outputs.count == 1 && bn.inputs.count == 5, "a training-mode BatchNormalization (extra outputs)", at: bn.id),
              let conv = r.producer(of: bn.inputs[0], ["Conv", "Gemm"], from: bn.id) else { return false }
        if conv.opType == "Gemm" { return try GemmBatchNorm.rewrite(bn, after: conv, &r) }
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
            guard let (scale, nb) = foldedStatistics(of: norm, into: bias, &r) else { return false }
            guard let nw = ChannelScaling.scaled(w, by: scale, cache: &r.context.scalings) else { return r.fail("the Conv weight is not a constant float tensor", at: conv.id) }
            let wn = r.initializer(conv.inputs[1] + "_bn", nw)
            let bname = r.initializer((conv.name.isEmpty ? "conv" : conv.name) + "_bn_bias", Tensor(floats: nb, dims: [Int64(c)]))
            fused.append(NewNode(opType: "Conv", inputs: [conv.inputs[0], wn, bname], outputs: [norm.outputs[0]], attributes: conv.attributes))
        }
        return try r.replace([conv.id] + readers.map(\.id), with: fused)
    }
}

/// Gemm (Y = alpha·A'·B' + beta·C, rows × M columns) then BatchNormalization over the columns
/// (its channel axis 1): B' scaled by s per output column (B's columns, or its rows with
/// transB=1), C' = (beta·C − mean)·s + bias, and the new Gemm's beta 1. C may be missing or
/// the same for every row ([M], [1, M] or a scalar). The Gemm branch of `ConvBNPattern`.
enum GemmBatchNorm {
    static func rewrite(_ bn: Node, after gemm: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard r.consumer(of: gemm.outputs[0], ["BatchNormalization"], from: gemm.id)?.id == bn.id else { return false }
        guard r.require(r.context.onnxOpset >= 7, "a Gemm before opset 7 broadcasts C only with broadcast=1", at: gemm.id),
              let b = r.context.constant(gemm.inputs[1]), b.elementType == .float, b.dims.count == 2, var bv = try? b.floatValues() else {
            return r.fail("the Gemm weight B is not a constant 2-D float tensor", at: gemm.id)
        }
        let transB = (gemm.attribute("transB")?.intValue ?? 0) != 0
        let rows = Int(b.dims[0]), cols = Int(b.dims[1])
        let m = transB ? rows : cols
        // C as one value per column (the same for every row), times the Gemm's beta.
        let beta = gemm.attribute("beta")?.floatValue ?? 1
        var c = [Float](repeating: 0, count: m)
        if gemm.inputs.count > 2, !gemm.inputs[2].isEmpty {
            guard let ct = r.context.constant(gemm.inputs[2]), let cv = try? ct.floatValues(),
                  ct.dims.count <= 2, ct.dims.count < 2 || ct.dims[0] == 1, cv.count == m || cv.count == 1 else {
                return r.fail("the Gemm bias C is not a constant that is the same for every row", at: gemm.id)
            }
            c = cv.count == m ? cv : [Float](repeating: cv[0], count: m)
        }
        r.take(gemm)
        guard let (scale, bias) = foldedStatistics(of: bn, into: c.map { beta * $0 }, &r) else { return false }
        // Column j of B' is row j of B (transB=1) or column j of B.
        for i in 0..<rows {
            for k in 0..<cols { bv[i * cols + k] *= scale[transB ? i : k] }
        }
        let wn = r.initializer(gemm.inputs[1] + "_bn", Tensor(floats: bv, dims: b.dims))
        let cn = r.initializer((gemm.name.isEmpty ? "gemm" : gemm.name) + "_bn_bias", Tensor(floats: bias, dims: [Int64(m)]))
        let attrs = gemm.attributes.filter { $0.name != "beta" }
        return try r.replace([gemm.id, bn.id], with: [NewNode(opType: "Gemm", inputs: [gemm.inputs[0], wn, cn], outputs: [bn.outputs[0]], attributes: attrs)])
    }
}
