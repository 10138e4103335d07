/// Conv or Gemm followed by an activation → com.microsoft FusedConv / FusedGemm, as
/// onnxruntime's own Conv/Gemm activation fusions do (`target=ort` only: standard ONNX has no
/// fused form). Activations: Relu, Sigmoid, Tanh, LeakyRelu, HardSigmoid, and for Conv Clip
/// with constant bounds. Float tensors only (onnxruntime's CPU kernels), and the Conv/Gemm
/// output must have no other reader.
import GraphEditing
import GraphIR

public struct FuseActivation: Pass {
    public init() {}
    public let name = "fuse-activation"
    public let doc = "target=ort: fuse Conv/Gemm + Relu/Sigmoid/Tanh/LeakyRelu/HardSigmoid/Clip into com.microsoft FusedConv/FusedGemm"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        guard ctx.options.target == .ort else { return false }
        return try PatternPass(name: name, doc: doc, patterns: [ActivationPattern()]).run(&ctx)
    }
}

struct ActivationPattern: RewritePattern {
    let name = "conv|gemm+activation"
    let rootOps: Set<String> = ["Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "Clip"]

    func matchAndRewrite(_ act: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard let x = act.inputs.first, let p = r.producer(of: x, ["Conv", "Gemm"], from: act.id) else { return false }
        r.take(p)
        guard r.require(r.context.hasSingleUse(x), "the \(p.opType) output has a second consumer", at: p.id),
              r.require(r.context.elementType(x) == .float, "the \(p.opType) output is not float", at: p.id) else { return false }
        // The activation's parameters, as onnxruntime's fused kernels read them.
        var params: [Float] = []
        switch act.opType {
        case "LeakyRelu": params = [act.attribute("alpha")?.floatValue ?? 0.01]
        case "HardSigmoid": params = [act.attribute("alpha")?.floatValue ?? 0.2, act.attribute("beta")?.floatValue ?? 0.5]
        case "Clip":
            guard r.require(p.opType == "Conv", "FusedGemm takes no Clip", at: act.id) else { return false }
            var lo = act.attribute("min")?.floatValue ?? -Float.greatestFiniteMagnitude
            var hi = act.attribute("max")?.floatValue ?? Float.greatestFiniteMagnitude
            for (k, name) in [(1, "min"), (2, "max")] where act.inputs.count > k && !act.inputs[k].isEmpty {
                guard let v = r.context.scalar(act.inputs[k]) else { return r.fail("the Clip \(name) is not a constant", at: act.id) }
                if k == 1 { lo = Float(v) } else { hi = Float(v) }
            }
            params = [lo, hi]
        default: break
        }
        var attrs = p.attributes
        attrs.append(Attribute("activation", .string(Array(act.opType.utf8))))
        let fused: NewNode
        if p.opType == "Conv" {
            if !params.isEmpty { attrs.append(Attribute("activation_params", .floats(params))) }
            fused = NewNode(opType: "FusedConv", domain: "com.microsoft", inputs: p.inputs.array, outputs: [act.outputs[0]], attributes: attrs)
        } else {
            if let a = params.first { attrs.append(Attribute("activation_alpha", .float(a))) }
            if params.count > 1 { attrs.append(Attribute("activation_beta", .float(params[1]))) }
            fused = NewNode(opType: "FusedGemm", domain: "com.microsoft", inputs: p.inputs.array, outputs: [act.outputs[0]], attributes: attrs)
        }
        return try r.replace([p.id, act.id], with: [fused])
    }
}
