/// HardSigmoid and HardSwish written out: Clip(x + 3, 0, 6) / 6 → HardSigmoid(alpha=1/6,
/// beta=0.5); x · Clip(x + 3, 0, 6) / 6 and x · HardSigmoid(x) → HardSwish (opset 14, raised
/// when the model allows). Matched by structure and constants, never names.
import GraphEditing
import GraphIR

public struct FuseHardSwish: Pass {
    public init() {}
    public let name = "fuse-hardswish"
    public let doc = "Fuse x*Clip(x+3,0,6)/6 into HardSwish and Clip(x+3,0,6)/6 into HardSigmoid"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [HardSwishPattern(), HardSigmoidSwishPattern()]).run(&ctx)
    }
}

/// Checks that `d` divides by 6 (Div by 6 or Mul by 1/6); returns the other input.
private func isDivBy6(_ d: Node, _ value: String, _ r: inout PatternRewriter) -> Bool {
    guard let other = r.other(d, than: value), let s = r.context.scalar(other) else { return false }
    if d.opType == "Div" { return d.inputs[0] == value && abs(s - 6) < 1e-5 }
    return abs(s - 1.0 / 6) < 1e-5
}

struct HardSwishPattern: RewritePattern {
    let name = "hardswish"
    let rootOps: Set<String> = ["Clip"]
    let benefit = 2

    func matchAndRewrite(_ clip: Node, _ r: inout PatternRewriter) throws -> Bool {
        // Clip bounds: inputs (opset 11+) or attributes.
        let lo = clip.inputs.count > 1 && !clip.inputs[1].isEmpty ? r.context.scalar(clip.inputs[1]) : clip.attribute("min").flatMap { $0.floatValue.map(Double.init) }
        let hi = clip.inputs.count > 2 && !clip.inputs[2].isEmpty ? r.context.scalar(clip.inputs[2]) : clip.attribute("max").flatMap { $0.floatValue.map(Double.init) }
        guard r.require(lo == 0 && hi == 6, "Clip bounds are not [0, 6]", at: clip.id),
              let add = r.producer(of: clip.inputs[0], ["Add"], from: clip.id) else { return false }
        r.take(add)
        guard let x = add.inputs.first(where: { r.context.scalar($0) == nil }), let three = r.other(add, than: x),
              r.require(r.context.scalar(three) == 3, "Add does not add 3", at: add.id),
              r.require(r.context.hasSingleUse(add.outputs[0]), "x+3 has a second consumer", at: add.id),
              let next = r.consumer(of: clip.outputs[0], ["Mul", "Div"], from: clip.id) else { return false }
        r.take(next)
        if next.opType == "Mul", r.other(next, than: clip.outputs[0]) == x {
            // x * clip, then / 6.
            guard let div = r.consumer(of: next.outputs[0], ["Div", "Mul"], from: next.id) else { return false }
            r.take(div)
            guard r.require(isDivBy6(div, next.outputs[0], &r), "the product is not divided by 6", at: div.id),
                  r.requireOpset(14, for: "HardSwish") else { return false }
            return try r.replace([add.id, clip.id, next.id, div.id],
                                 with: [NewNode(opType: "HardSwish", inputs: [x], outputs: [div.outputs[0]])])
        }
        guard r.require(isDivBy6(next, clip.outputs[0], &r), "Clip(x+3,0,6) is not divided by 6", at: next.id) else { return false }
        // HardSigmoid; x * HardSigmoid(x) makes it HardSwish.
        let uses = r.graph.uses(of: next.outputs[0])
        if uses.count == 1, !r.context.isGraphOutput(next.outputs[0]), let m = r.graph.node(uses[0].node), m.opType == "Mul",
           r.other(m, than: next.outputs[0]) == x, r.context.onnxOpset >= 14 || r.requireOpset(14, for: "HardSwish") {
            r.take(m)
            return try r.replace([add.id, clip.id, next.id, m.id], with: [NewNode(opType: "HardSwish", inputs: [x], outputs: [m.outputs[0]])])
        }
        return try r.replace([add.id, clip.id, next.id],
                             with: [NewNode(opType: "HardSigmoid", inputs: [x], outputs: [next.outputs[0]],
                                            attributes: [Attribute("alpha", .float(1.0 / 6)), Attribute("beta", .float(0.5))])])
    }
}

struct HardSigmoidSwishPattern: RewritePattern {
    let name = "x*hardsigmoid(x)"
    let rootOps: Set<String> = ["HardSigmoid"]

    func matchAndRewrite(_ hs: Node, _ r: inout PatternRewriter) throws -> Bool {
        let alpha = hs.attribute("alpha")?.floatValue ?? 0.2, beta = hs.attribute("beta")?.floatValue ?? 0.5
        guard r.require(abs(alpha - 1.0 / 6) < 1e-5 && abs(beta - 0.5) < 1e-6, "HardSigmoid alpha/beta are not 1/6, 0.5", at: hs.id),
              let m = r.consumer(of: hs.outputs[0], ["Mul"], from: hs.id) else { return false }
        r.take(m)
        guard r.require(r.other(m, than: hs.outputs[0]) == hs.inputs[0], "Mul does not multiply by HardSigmoid's own input", at: m.id),
              r.requireOpset(14, for: "HardSwish") else { return false }
        return try r.replace([hs.id, m.id], with: [NewNode(opType: "HardSwish", inputs: [hs.inputs[0]], outputs: [m.outputs[0]])])
    }
}
