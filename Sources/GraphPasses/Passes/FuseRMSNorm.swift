/// RMSNorm written out → RMSNormalization (opset 23, raised when the model allows):
/// y = x / Sqrt(ReduceMean(x²) + eps) (x² as Pow(x, 2) or x·x; the division also as
/// x · Reciprocal(...)), then an optional · gamma. Over the last axis only; structure only.
import GraphEditing
import GraphIR

public struct FuseRMSNorm: Pass {
    public init() {}
    public let name = "fuse-rmsnorm"
    public let doc = "Fuse Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul(/Mul) into RMSNormalization (opset 23)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [RMSNormPattern()]).run(&ctx)
    }
}

struct RMSNormPattern: RewritePattern {
    let name = "rmsnorm"
    let rootOps: Set<String> = ["Sqrt"]

    func matchAndRewrite(_ sqrt: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard let add = r.producer(of: sqrt.inputs[0], ["Add"], from: sqrt.id) else { return false }
        r.take(add)
        guard let mean = add.inputs.compactMap({ r.graph.producerNode(of: $0) }).first(where: { $0.opType == "ReduceMean" }),
              let epsName = r.other(add, than: mean.outputs[0]) else { return r.fail("Add does not add to a ReduceMean", at: add.id) }
        r.take(mean)
        guard let eps = r.scalar(epsName, of: add, "epsilon"),
              r.require(lastAxisMean(mean, r.context), "the mean is not over the last axis", at: mean.id),
              r.require(r.context.hasSingleUse(mean.outputs[0]) && r.context.hasSingleUse(add.outputs[0]), "a second consumer inside the norm", at: mean.id),
              let sq = r.producer(of: mean.inputs[0], ["Pow", "Mul"], from: mean.id) else { return false }
        r.take(sq)
        let x = sq.inputs[0]
        if sq.opType == "Pow" {
            guard r.require(r.context.scalar(sq.inputs[1]) == 2, "Pow's exponent is not 2", at: sq.id) else { return false }
        } else {
            guard r.require(sq.inputs[1] == x, "Mul does not square its input", at: sq.id) else { return false }
        }
        if let p = r.graph.producerNode(of: x), p.opType == "Sub" { return r.fail("x is centred (a LayerNorm, not an RMSNorm)", at: p.id) }
        guard let next = r.consumer(of: sqrt.outputs[0], ["Div", "Reciprocal"], from: sqrt.id) else { return false }
        r.take(next)
        var parts = [sq.id, mean.id, add.id, sqrt.id, next.id]
        var out: String
        if next.opType == "Reciprocal" {
            guard let m = r.consumer(of: next.outputs[0], ["Mul"], from: next.id) else { return false }
            r.take(m)
            guard r.require(r.other(m, than: next.outputs[0]) == x, "Mul does not multiply x", at: m.id) else { return false }
            parts.append(m.id)
            out = m.outputs[0]
        } else {
            guard r.require(next.inputs[0] == x, "Div does not divide x", at: next.id) else { return false }
            out = next.outputs[0]
        }
        // The normalized (last) dim; other dims may be symbolic.
        let c = r.context.dims(x)?.last.flatMap { $0?.intValue }
        var scale: String?
        let uses = r.graph.uses(of: out)
        if uses.count == 1, !r.context.isGraphOutput(out), let m = r.graph.node(uses[0].node), m.opType == "Mul",
           let g = r.other(m, than: out), let t = r.context.constant(g), t.elementType == .float, t.dims.count == 1, c == nil || t.dims[0] == c {
            r.take(m); parts.append(m.id); out = m.outputs[0]; scale = g
        }
        if scale == nil {
            guard let c, c > 0 else { return r.fail("no scale follows and the last dimension is unknown", at: next.id) }
            scale = r.initializer("rmsnorm_scale", Tensor(floats: [Float](repeating: 1, count: Int(c)), dims: [c]))
        }
        guard r.require(r.context.elementType(x) == .float, "x is not float32", at: sq.id),
              r.requireOpset(23, for: "RMSNormalization"), let s = scale else { return false }
        return try r.replace(parts, with: [NewNode(opType: "RMSNormalization", inputs: [x, s], outputs: [out],
                                                   attributes: [Attribute("axis", .int(-1)), Attribute("epsilon", .float(Float(eps)))])])
    }
}
