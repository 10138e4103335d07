/// Rules for the com.microsoft ops onnxruntime's optimizers write (FusedConv, FusedGemm,
/// FusedMatMul, the GELU family, SkipLayerNormalization and its RMS variant, MultiHeadAttention),
/// so that a graph
/// an external compiler rewrote still has shapes downstream of its fused nodes: estimates,
/// drawings and `compare` of such a graph would otherwise stop at the first fused node.
/// Other contrib ops stay without a rule and are reported as such.
import GraphIR

enum ContribRules {
    static let domain = "com.microsoft"

    static func register(_ t: inout [String: InferenceRule]) {
        func put(_ op: String, _ rule: @escaping InferenceRule) { t[domain + "::" + op] = rule }
        put("FusedConv", NNRules.conv)
        put("FusedGemm", NNRules.gemm)
        put("FusedMatMul", fusedMatMul)
        for op in ["Gelu", "FastGelu", "QuickGelu", "BiasGelu"] { put(op, NNRules.sameAsInput0) }
        put("SkipLayerNormalization", skipLayerNorm)
        put("SkipSimplifiedLayerNormalization", skipLayerNorm)
        put("MultiHeadAttention", multiHeadAttention)
    }

    /// MatMul with optional transposes of the last two dims of A and B (transA, transB); the
    /// batch transposes (transBatchA/B) move the batch dims and are not modelled: reported.
    static func fusedMatMul(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        guard try c.int("transBatchA") == 0, try c.int("transBatchB") == 0 else {
            throw InferenceFailure("FusedMatMul with transBatchA/transBatchB is not modelled")
        }
        guard var a = try c.tensor(0).1, var b = try c.tensor(1).1 else { return [.tensor(e, nil)] }
        if try c.int("transA") != 0 {
            guard a.count >= 2 else { throw InferenceFailure("transA needs input A of rank 2 or more, got \(a.count)") }
            a.swapAt(a.count - 1, a.count - 2)
        }
        if try c.int("transB") != 0 {
            guard b.count >= 2 else { throw InferenceFailure("transB needs input B of rank 2 or more, got \(b.count)") }
            b.swapAt(b.count - 1, b.count - 2)
        }
        guard !a.isEmpty, !b.isEmpty else { throw InferenceFailure("MatMul of a scalar") }
        let a2 = a.count == 1 ? [SymDim(1)] + a : a
        let b2 = b.count == 1 ? b + [SymDim(1)] : b
        if let x = a2[a2.count - 1]?.intValue, let y = b2[b2.count - 2]?.intValue, x != y {
            throw InferenceFailure("inner dimensions differ: \(x) and \(y)")
        }
        var out = try Shapes.broadcast(Array(a2.dropLast(2)), Array(b2.dropLast(2)))
        if a.count > 1 { out.append(a2[a2.count - 2]) }
        if b.count > 1 { out.append(b2[b2.count - 1]) }
        return [.tensor(e, out)]
    }

    /// Output and input_skip_bias_sum have the input's type and shape; mean and inv_std_var
    /// are float with the last axis reduced to 1.
    static func skipLayerNorm(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        let stats: [SymDim?]? = d.map { Array($0.dropLast()) + [SymDim(1)] }
        var outs: [ValueFacts?] = [.tensor(e, d)]
        for k in 1..<max(c.node.outputs.count, 1) {
            outs.append(k == 3 ? .tensor(e, d) : .tensor(.float, stats))
        }
        return outs
    }

    /// MultiHeadAttention with 3-D query [B, S, N·H]: the output is [B, S, N·Hv], Hv·N the
    /// value's last dim (3-D value) or the query's; the present and qk outputs are not modelled.
    static func multiHeadAttention(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, q) = try c.tensor(0)
        var outs: [ValueFacts?] = Array(repeating: nil, count: max(c.node.outputs.count, 1))
        guard let q, q.count == 3 else {
            if let q, q.count != 5 { throw InferenceFailure("query must be of rank 3 (or packed 5), got \(q.count)") }
            outs[0] = .tensor(e, nil)
            return outs
        }
        var width = q[2]
        if c.has(2), let v = try c.tensor(2).1, v.count == 3 { width = v[2] }
        outs[0] = .tensor(e, [q[0], q[1], width])
        return outs
    }
}
