/// GELU written with Erf → Gelu: x · 0.5 · (1 + Erf(x / √2)) in the orders exporters write it
/// (the 0.5 on x, on the sum, or on the product; x/√2 also as x · (1/√2)). target=onnx emits
/// Gelu (opset 20, raised when the model allows), target=ort com.microsoft Gelu.
import GraphEditing
import GraphIR

public struct FuseGelu: Pass {
    public init() {}
    public let name = "fuse-gelu"
    public let doc = "Fuse x*0.5*(1+Erf(x/sqrt(2))) into Gelu (opset 20; com.microsoft Gelu for target=ort)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [GeluErfPattern()]).run(&ctx)
    }
}

struct GeluErfPattern: RewritePattern {
    let name = "gelu-erf"
    let rootOps: Set<String> = ["Erf"]

    func matchAndRewrite(_ erf: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard let scale = r.producer(of: erf.inputs[0], ["Div", "Mul"], from: erf.id) else { return false }
        r.take(scale)
        guard let x = scale.inputs.first(where: { r.context.scalar($0) == nil }), let cName = r.other(scale, than: x),
              let c = r.context.scalar(cName) else { return r.fail("x/√2 has no constant", at: scale.id) }
        let ok = scale.opType == "Div" ? (scale.inputs[0] == x && abs(c - 2.0.squareRoot()) < 1e-3) : abs(c - 1 / 2.0.squareRoot()) < 1e-3
        guard r.require(ok, "Erf's input is not x/√2", at: scale.id),
              r.require(r.context.hasSingleUse(scale.outputs[0]), "x/√2 has a second consumer", at: scale.id),
              let add = r.consumer(of: erf.outputs[0], ["Add"], from: erf.id) else { return false }
        r.take(add)
        guard let one = r.other(add, than: erf.outputs[0]), r.require(r.context.scalar(one) == 1, "Add does not add 1", at: add.id),
              let m1 = r.consumer(of: add.outputs[0], ["Mul"], from: add.id) else { return false }
        r.take(m1)
        var parts = [scale.id, erf.id, add.id, m1.id]
        var out: String
        guard let o1 = r.other(m1, than: add.outputs[0]) else { return r.fail("Mul reads the sum twice", at: m1.id) }
        func isHalf(_ v: String) -> Bool { r.context.scalar(v).map { abs($0 - 0.5) < 1e-6 } ?? false }
        if o1 == x {
            // (x * (1 + erf)) * 0.5
            guard let m2 = r.consumer(of: m1.outputs[0], ["Mul"], from: m1.id) else { return false }
            r.take(m2)
            guard let h = r.other(m2, than: m1.outputs[0]), r.require(isHalf(h), "the product is not halved", at: m2.id) else { return false }
            parts.append(m2.id); out = m2.outputs[0]
        } else if isHalf(o1) {
            // ((1 + erf) * 0.5) * x
            guard let m2 = r.consumer(of: m1.outputs[0], ["Mul"], from: m1.id) else { return false }
            r.take(m2)
            guard r.require(r.other(m2, than: m1.outputs[0]) == x, "the half sum is not multiplied by x", at: m2.id) else { return false }
            parts.append(m2.id); out = m2.outputs[0]
        } else if let h = r.graph.producerNode(of: o1), h.opType == "Mul", r.other(h, than: x).map(isHalf) ?? false, r.context.hasSingleUse(o1) {
            // (x * 0.5) * (1 + erf)
            r.take(h); parts.append(h.id); out = m1.outputs[0]
        } else {
            return r.fail("(1 + Erf) is not multiplied by x and 0.5", at: m1.id)
        }
        if r.context.options.target == .ort {
            return try r.replace(parts, with: [NewNode(opType: "Gelu", domain: "com.microsoft", inputs: [x], outputs: [out])])
        }
        guard r.requireOpset(20, for: "Gelu") else { return false }
        return try r.replace(parts, with: [NewNode(opType: "Gelu", inputs: [x], outputs: [out])])
    }
}
