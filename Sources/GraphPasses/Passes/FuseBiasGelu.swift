/// Add of a constant 1-D bias followed by GELU → com.microsoft BiasGelu (`target=ort` only, as
/// onnxruntime's own BiasGelu fusion): the GELU may be com.microsoft Gelu (what fuse-gelu writes
/// for ort) or ONNX Gelu (opset 20) with approximate="none"; the tanh form (com.microsoft
/// FastGelu of one input, or ONNX Gelu approximate="tanh") takes the bias as FastGelu's second
/// input instead. The bias must be float, rank 1 and as long as the last dimension of the other
/// operand, and the sum must have no other reader. Matched by structure, never names.
import GraphEditing
import GraphIR

public struct FuseBiasGelu: Pass {
    public init() {}
    public let name = "fuse-bias-gelu"
    public let doc = "target=ort: fuse Add(x, bias) + Gelu into com.microsoft BiasGelu (FastGelu with bias for the tanh form)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        guard ctx.options.target == .ort else { return false }
        return try PatternPass(name: name, doc: doc, patterns: [BiasGeluPattern(domain: ""), BiasGeluPattern(domain: "com.microsoft")]).run(&ctx)
    }
}

struct BiasGeluPattern: RewritePattern {
    /// The domain of the GELU this pattern starts from ("" for ONNX Gelu).
    let domain: String
    var name: String { domain.isEmpty ? "bias+gelu" : "bias+gelu (com.microsoft)" }
    var rootOps: Set<String> { domain.isEmpty ? ["Gelu"] : ["Gelu", "FastGelu"] }
    var rootDomain: String { domain }

    func matchAndRewrite(_ gelu: Node, _ r: inout PatternRewriter) throws -> Bool {
        // Which fused op computes this GELU with a bias.
        let fused: String
        if domain.isEmpty {
            let approx = gelu.attribute("approximate")?.stringValue ?? "none"
            guard r.require(approx == "none" || approx == "tanh", "Gelu's approximate is '\(approx)'", at: gelu.id) else { return false }
            fused = approx == "tanh" ? "FastGelu" : "BiasGelu"
        } else {
            guard r.require(gelu.inputs.count == 1 || gelu.inputs[1].isEmpty, "\(gelu.opType) already has a bias", at: gelu.id) else { return false }
            fused = gelu.opType == "FastGelu" ? "FastGelu" : "BiasGelu"
        }
        guard let x = gelu.inputs.first, let add = r.producer(of: x, ["Add"], from: gelu.id) else { return false }
        r.take(add)
        guard r.require(r.context.hasSingleUse(add.outputs[0]), "the sum has a second consumer", at: add.id) else { return false }
        // The bias: the constant operand of rank 1; the other operand is the input.
        guard add.inputs.count == 2, add.inputs[0] != add.inputs[1] else { return r.fail("Add reads one value twice", at: add.id) }
        let k = r.context.constant(add.inputs[1]) != nil ? 1 : 0
        let biasName = add.inputs[k], input = add.inputs[1 - k]
        guard let bias = r.context.constant(biasName) else { return r.fail("neither Add input is a constant bias", at: add.id) }
        guard r.require(r.context.constant(input) == nil, "both Add inputs are constants", at: add.id),
              r.require(bias.elementType == .float && r.context.elementType(input) == .float, "the bias or the input is not float", at: add.id),
              r.require(bias.dims.count == 1, "the bias is not 1-D (shape \(bias.dims))", at: add.id) else { return false }
        guard let width = r.context.dims(input)?.last??.intValue else { return r.fail("the input's last dimension is unknown", at: add.id) }
        guard r.require(width == bias.dims[0], "the bias has \(bias.dims[0]) elements, the input's last dimension is \(width)", at: add.id) else {
            return false
        }
        let node = NewNode(opType: fused, domain: "com.microsoft", inputs: [input, biasName], outputs: [gelu.outputs[0]])
        return try r.replace([add.id, gelu.id], with: [node])
    }
}
