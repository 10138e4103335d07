/// LayerNorm written out → LayerNormalization (opset 17, raised when the model allows):
/// d = x − mean(x); y = d / Sqrt(mean(d²) + eps) (d² as Pow(d, 2) or d·d; the division also as
/// d · Reciprocal(...); each mean a ReduceMean, or ReduceSum times 1/N or over N as tf2onnx
/// writes it), then an optional · gamma and + beta. Over the last axis only; matched by
/// structure, never names.
import GraphEditing
import GraphIR

public struct FuseLayerNorm: Pass {
    public init() {}
    public let name = "fuse-layernorm"
    public let doc = "Fuse ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div(/Mul/Add) into LayerNormalization"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [LayerNormPattern()]).run(&ctx)
    }
}

/// The single reduced axis of a ReduceMean over the last axis (keepdims), or nil.
func lastAxisMean(_ n: Node, _ ctx: PassContext) -> Bool {
    guard n.attribute("keepdims")?.intValue ?? 1 == 1, let rank = ctx.rank(n.inputs[0]) else { return false }
    var axes = n.attribute("axes")?.intsValue
    if axes == nil, n.inputs.count > 1, !n.inputs[1].isEmpty { axes = ctx.constantInts(n.inputs[1]) }
    guard let a = axes, a.count == 1 else { return false }
    return (a[0] < 0 ? a[0] + Int64(rank) : a[0]) == Int64(rank - 1)
}

/// A mean over the last axis as some exporters write it: ReduceMean(v), or (as tf2onnx does)
/// ReduceSum(v) times 1/N or divided by N, N the last dim. The averaged value and the nodes.
func lastAxisMeanNodes(of value: String, _ ctx: PassContext) -> (input: String, nodes: [Node])? {
    guard let n = ctx.graph.producerNode(of: value), n.domain.isEmpty || n.domain == "ai.onnx" else { return nil }
    if n.opType == "ReduceMean" { return lastAxisMean(n, ctx) ? (n.inputs[0], [n]) : nil }
    guard n.opType == "Mul" || n.opType == "Div", n.inputs.count == 2 else { return nil }
    for (k, sumName) in n.inputs.enumerated() where n.opType == "Mul" || k == 0 {
        guard let sum = ctx.graph.producerNode(of: sumName), sum.opType == "ReduceSum", sum.domain.isEmpty || sum.domain == "ai.onnx",
              lastAxisMean(sum, ctx), let c = ctx.scalar(n.inputs[1 - k]),
              let last = ctx.dims(sum.inputs[0])?.last.flatMap({ $0?.intValue }), last > 0 else { continue }
        let count = Double(last)
        let factor = n.opType == "Mul" ? c * count : count / c
        if abs(factor - 1) <= 1e-6 { return (sum.inputs[0], [sum, n]) }
    }
    return nil
}

struct LayerNormPattern: RewritePattern {
    let name = "layernorm"
    let rootOps: Set<String> = ["Sqrt"]

    func matchAndRewrite(_ sqrt: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard let add = r.producer(of: sqrt.inputs[0], ["Add"], from: sqrt.id) else { return false }
        r.take(add)
        // The variance: a mean over the last axis (ReduceMean, or ReduceSum and 1/N).
        let ctx = r.context
        guard let (varName, varianceMean) = add.inputs.lazy.compactMap({ v in lastAxisMeanNodes(of: v, ctx).map { (v, $0) } }).first,
              let epsName = r.other(add, than: varName) else {
            if let m = add.inputs.compactMap({ r.graph.producerNode(of: $0) }).first(where: { $0.opType == "ReduceMean" }) {
                r.take(m)
                return r.fail("the variance is not a mean over the last axis", at: m.id)
            }
            return r.fail("Add does not add to a mean over the last axis (ReduceMean, or ReduceSum times 1/N)", at: add.id)
        }
        for n in varianceMean.nodes { r.take(n) }
        let varMean = varianceMean.nodes[0]
        guard let eps = r.scalar(epsName, of: add, "epsilon"),
              let sq = r.producer(of: varianceMean.input, ["Pow", "Mul"], from: varMean.id) else { return false }
        r.take(sq)
        let d = sq.inputs[0]
        if sq.opType == "Pow" {
            guard r.require(r.context.scalar(sq.inputs[1]) == 2, "Pow's exponent is not 2", at: sq.id) else { return false }
        } else {
            guard r.require(sq.inputs[1] == d, "Mul does not square its input", at: sq.id) else { return false }
        }
        guard let sub = r.producer(of: d, ["Sub"], from: sq.id) else { return false }
        r.take(sub)
        let x = sub.inputs[0]
        guard let xMean = lastAxisMeanNodes(of: sub.inputs[1], r.context) else {
            if let m = r.producer(of: sub.inputs[1], ["ReduceMean", "Mul", "Div"], from: sub.id) {
                r.take(m)
                return r.fail("the mean is not over the last axis", at: m.id)
            }
            return false
        }
        for n in xMean.nodes { r.take(n) }
        let mean = xMean.nodes[0]
        guard r.require(xMean.input == x, "the mean is not of Sub's first input", at: mean.id) else { return false }
        // The division: Div(d, sqrt) or Mul(d, Reciprocal(sqrt)).
        guard let next = r.consumer(of: sqrt.outputs[0], ["Div", "Reciprocal"], from: sqrt.id) else { return false }
        r.take(next)
        var norm: Node
        var parts = xMean.nodes.map(\.id) + [sub.id, sq.id] + varianceMean.nodes.map(\.id) + [add.id, sqrt.id, next.id]
        if next.opType == "Reciprocal" {
            guard let m = r.consumer(of: next.outputs[0], ["Mul"], from: next.id) else { return false }
            r.take(m)
            guard r.require(r.other(m, than: next.outputs[0]) == d, "Mul does not multiply x − mean", at: m.id) else { return false }
            norm = m
            parts.append(m.id)
        } else {
            guard r.require(next.inputs[0] == d, "Div does not divide x − mean", at: next.id) else { return false }
            norm = next
        }
        // Optional scale and bias (constants over the last axis).
        // The normalized (last) dim; other dims may be symbolic.
        let c = r.context.dims(x)?.last.flatMap { $0?.intValue }
        var out = norm.outputs[0]
        var scale: String?
        var bias: String?
        func vector(_ v: String) -> Tensor? {
            guard let t = r.context.constant(v), t.elementType == .float, let n = t.elementCount, n > 0,
                  c == nil || Int64(n) == c, t.dims.dropLast().allSatisfy({ $0 == 1 }) else { return nil }
            return t
        }
        let uses = r.graph.uses(of: out)
        if uses.count == 1, !r.context.isGraphOutput(out), let m = r.graph.node(uses[0].node), m.opType == "Mul",
           let g = r.other(m, than: out), let gt = vector(g) {
            r.take(m); parts.append(m.id); out = m.outputs[0]
            scale = gt.dims.count == 1 ? g : r.initializer(g + "_1d", Tensor(floats: (try? gt.floatValues()) ?? [], dims: [Int64(gt.elementCount ?? 0)]))
        }
        // The bias Add, also right after the normalization when a scale of ones was removed.
        let u2 = r.graph.uses(of: out)
        if u2.count == 1, !r.context.isGraphOutput(out), let a = r.graph.node(u2[0].node), a.opType == "Add",
           let b = r.other(a, than: out), let bt = vector(b), scale != nil || (c ?? 0) > 0 {
            r.take(a); parts.append(a.id); out = a.outputs[0]
            bias = bt.dims.count == 1 ? b : r.initializer(b + "_1d", Tensor(floats: (try? bt.floatValues()) ?? [], dims: [Int64(bt.elementCount ?? 0)]))
        }
        if scale == nil {
            guard let c, c > 0 else { return r.fail("no scale follows and the last dimension is unknown", at: norm.id) }
            scale = r.initializer("layernorm_scale", Tensor(floats: [Float](repeating: 1, count: Int(c)), dims: [c]))
        }
        guard r.require(r.context.elementType(x) == .float, "x is not float32", at: sub.id),
              r.requireOpset(17, for: "LayerNormalization"), let s = scale else { return false }
        let ln = NewNode(opType: "LayerNormalization", inputs: [x, s] + (bias.map { [$0] } ?? []), outputs: [out],
                         attributes: [Attribute("axis", .int(-1)), Attribute("epsilon", .float(Float(eps)))])
        return try r.replace(parts, with: [ln])
    }
}
