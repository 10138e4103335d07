/// GELU written with Tanh → one op: 0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³))), x³ as
/// Pow(x, 3), the 0.5 on x, on the sum or on the product (GPT-2's `gelu_new`). target=onnx
/// emits Gelu(approximate="tanh") (opset 20, raised when the model allows), target=ort
/// com.microsoft FastGelu.
import GraphEditing
import GraphIR

public struct FuseGeluTanh: Pass {
    public init() {}
    public let name = "fuse-gelu-tanh"
    public let doc = "Fuse 0.5*x*(1+Tanh(sqrt(2/pi)*(x+0.044715*x^3))) into Gelu approximate=tanh (opset 20; com.microsoft FastGelu for target=ort)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [GeluTanhPattern()]).run(&ctx)
    }
}

struct GeluTanhPattern: RewritePattern {
    let name = "gelu-tanh"
    let rootOps: Set<String> = ["Tanh"]

    func matchAndRewrite(_ tanh: Node, _ r: inout PatternRewriter) throws -> Bool {
        func near(_ v: String, _ c: Double, _ tol: Double = 1e-3) -> Bool { r.context.scalar(v).map { abs($0 - c) < tol * max(1, abs(c)) } ?? false }
        // √(2/π) · (x + 0.044715 · x³)
        guard let scale = r.producer(of: tanh.inputs[0], ["Mul"], from: tanh.id) else { return false }
        r.take(scale)
        guard let inner = scale.inputs.first(where: { !near($0, (2 / Double.pi).squareRoot()) }), let k = r.other(scale, than: inner),
              near(k, (2 / Double.pi).squareRoot()) else { return r.fail("Tanh's input is not scaled by √(2/π)", at: scale.id) }
        guard let sum = r.producer(of: inner, ["Add"], from: scale.id) else { return false }
        r.take(sum)
        var found: (x: String, cube: Node, mul: Node)?
        for (x, m) in [(sum.inputs[0], sum.inputs[1]), (sum.inputs[1], sum.inputs[0])] {
            guard let mul = r.graph.producerNode(of: m), mul.opType == "Mul", mul.inputs.count == 2 else { continue }
            for (p, c) in [(mul.inputs[0], mul.inputs[1]), (mul.inputs[1], mul.inputs[0])] where near(c, 0.044715) {
                if let cube = r.graph.producerNode(of: p), cube.opType == "Pow", cube.inputs[0] == x, near(cube.inputs[1], 3, 1e-6) {
                    found = (x, cube, mul)
                }
            }
        }
        guard let f = found else { return r.fail("the Add is not x + 0.044715·Pow(x, 3)", at: sum.id) }
        let (x, cube, mul) = f
        r.take(mul); r.take(cube)
        for v in [cube.outputs[0], mul.outputs[0], sum.outputs[0], scale.outputs[0]] {
            guard r.require(r.context.hasSingleUse(v), "'\(v)' has a second consumer", at: r.graph.producerNode(of: v)?.id) else { return false }
        }
        guard let add = r.consumer(of: tanh.outputs[0], ["Add"], from: tanh.id) else { return false }
        r.take(add)
        guard let one = r.other(add, than: tanh.outputs[0]), r.require(near(one, 1, 1e-6), "Add does not add 1", at: add.id),
              let m1 = r.consumer(of: add.outputs[0], ["Mul"], from: add.id) else { return false }
        r.take(m1)
        var parts = [cube.id, mul.id, sum.id, scale.id, tanh.id, add.id, m1.id]
        var out: String
        guard let o1 = r.other(m1, than: add.outputs[0]) else { return r.fail("Mul reads the sum twice", at: m1.id) }
        if o1 == x || near(o1, 0.5, 1e-6) {
            // (x · (1 + t)) · 0.5 or ((1 + t) · 0.5) · x
            guard let m2 = r.consumer(of: m1.outputs[0], ["Mul"], from: m1.id) else { return false }
            r.take(m2)
            let want = o1 == x ? "0.5" : "x"
            guard let o2 = r.other(m2, than: m1.outputs[0]), r.require(o1 == x ? near(o2, 0.5, 1e-6) : o2 == x, "the product is not multiplied by \(want)", at: m2.id) else { return false }
            parts.append(m2.id); out = m2.outputs[0]
        } else if let h = r.graph.producerNode(of: o1), h.opType == "Mul", r.other(h, than: x).map({ near($0, 0.5, 1e-6) }) ?? false, r.context.hasSingleUse(o1) {
            // (x · 0.5) · (1 + t)
            r.take(h); parts.append(h.id); out = m1.outputs[0]
        } else {
            return r.fail("(1 + Tanh) is not multiplied by x and 0.5", at: m1.id)
        }
        guard r.require(r.context.elementType(x) == .float, "x is not float32", at: cube.id) else { return false }
        if r.context.options.target == .ort {
            return try r.replace(parts, with: [NewNode(opType: "FastGelu", domain: "com.microsoft", inputs: [x], outputs: [out])])
        }
        guard r.requireOpset(20, for: "Gelu") else { return false }
        return try r.replace(parts, with: [NewNode(opType: "Gelu", inputs: [x], outputs: [out],
                                                   attributes: [Attribute("approximate", .string(Array("tanh".utf8)))])])
    }
}
