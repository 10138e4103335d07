/// Rules for the com.microsoft ops onnxruntime's optimizers and quantization tools write
/// (FusedConv, FusedGemm, FusedMatMul, the GELU family, LayerNormalization and the skip / RMS
/// variants, Attention, MultiHeadAttention, GroupQueryAttention, RotaryEmbedding,
/// EmbedLayerNormalization, BiasAdd/BiasSplitGelu/BiasDropout, the QLinear* ops, MatMulNBits,
/// DynamicQuantizeMatMul, MatMulIntegerToFloat), so that a graph an external compiler rewrote
/// still has shapes downstream of its fused nodes: estimates, drawings and `compare` of such a
/// graph would otherwise stop at the first fused node. Each rule's shapes are checked against
/// onnxruntime's actual outputs (Tests/e2e/test_contrib_shapes.py). Other contrib ops stay
/// without a rule and are reported as such; outputs a rule does not model are unknown.
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
        put("LayerNormalization", NNRules.layerNorm)
        put("SimplifiedLayerNormalization", NNRules.simplifiedLayerNorm)
        for op in ["RotaryEmbedding", "BiasAdd", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"] {
            put(op, NNRules.sameAsInput0)
        }
        put("BiasDropout", biasDropout)
        put("BiasSplitGelu", biasSplitGelu)
        put("Attention", attention)
        put("GroupQueryAttention", groupQueryAttention)
        put("EmbedLayerNormalization", embedLayerNorm)
        put("QLinearConv", NNRules.qlinearConv)
        put("QLinearAdd", qlinearBinary)
        put("QLinearMul", qlinearBinary)
        put("QLinearConcat", qlinearConcat)
        put("QLinearAveragePool", qlinearAveragePool)
        put("QLinearGlobalAveragePool", qlinearGlobalAveragePool)
        put("QLinearWhere", qlinearWhere)
        put("MatMulNBits", matMulNBits)
        put("DynamicQuantizeMatMul", { c in [.tensor(try c.elementType(0), try NNRules.matmulDims(c))] })
        put("MatMulIntegerToFloat", { c in [.tensor(try c.elementType(2), try NNRules.matmulDims(c))] })
    }

    /// Attention (com.microsoft): input [B, S, In] projected by weights [In, Dq + Dk + Dv]
    /// (`qkv_hidden_sizes`, else three equal parts): output [B, S, Dv]; present [2, B, N, P + S,
    /// Dv / N] with P the past's length (input 4, [2, B, N, P, H]) or 0.
    static func attention(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, x) = try c.tensor(0)
        var outs: [ValueFacts?] = Array(repeating: nil, count: max(c.node.outputs.count, 1))
        guard let x else { outs[0] = .tensor(e, nil); return outs }
        guard x.count == 3 else { throw InferenceFailure("input must be [batch, sequence, hidden], got rank \(x.count)") }
        var width: SymDim?
        if let sizes = c.ints("qkv_hidden_sizes") {
            guard sizes.count == 3 else { throw InferenceFailure("qkv_hidden_sizes has \(sizes.count) entries, expected 3") }
            width = SymDim(sizes[2])
        } else if let w = try c.tensor(1).1 {
            guard w.count == 2 else { throw InferenceFailure("weights must be 2-D, got rank \(w.count)") }
            width = w[1].flatMap { $0.exactDiv(SymDim(3)) }
        }
        outs[0] = .tensor(e, [x[0], x[1], width])
        if outs.count > 1 {
            let heads = try c.int("num_heads")
            guard heads > 0 else { throw InferenceFailure("num_heads must be positive") }
            var total: SymDim? = x[1]
            if c.has(4) {
                let past = try c.tensor(4).1
                total = past.flatMap { $0.count == 5 ? $0[3] : nil }.flatMap { p in x[1].map { p + $0 } }
            }
            outs[1] = .tensor(e, [SymDim(2), x[0], SymDim(heads), total, width.flatMap { $0.exactDiv(SymDim(heads)) }])
        }
        return outs
    }

    /// GroupQueryAttention: query [B, S, D] with separate key/value (head size D / num_heads) or
    /// packed QKV (head size D / (num_heads + 2 kv_num_heads)): output [B, S, num_heads x head];
    /// present key/value [B, kv_num_heads, L, head], L the total_sequence_length (input 6) when
    /// there is no past; with a past it depends on whether past and present share one buffer,
    /// which only the run decides, so it stays unknown.
    static func groupQueryAttention(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, q) = try c.tensor(0)
        var outs: [ValueFacts?] = Array(repeating: nil, count: max(c.node.outputs.count, 1))
        let heads = try c.int("num_heads"), kvHeads = try c.int("kv_num_heads")
        guard heads > 0, kvHeads > 0 else { throw InferenceFailure("num_heads and kv_num_heads must be positive") }
        guard let q else {
            for k in outs.indices { outs[k] = .tensor(e, nil) }
            return outs
        }
        guard q.count == 3 else { throw InferenceFailure("query must be [batch, sequence, hidden], got rank \(q.count)") }
        let packed = !c.has(1)
        let head = q[2].flatMap { $0.exactDiv(SymDim(packed ? heads + 2 * kvHeads : heads)) }
        outs[0] = .tensor(e, [q[0], q[1], head.map { $0 * SymDim(heads) }])
        let total: SymDim? = c.has(3) ? nil : c.value(6)?.dims?.first
        for k in 1..<min(outs.count, 3) { outs[k] = .tensor(e, [q[0], SymDim(kvHeads), total, head]) }
        return outs
    }

    /// EmbedLayerNormalization: output and embedding_sum [B, S, hidden] (hidden from the word
    /// embedding [vocab, hidden]) of the word embedding's type; mask_index int32 [B].
    static func embedLayerNorm(_ c: RuleContext) throws -> [ValueFacts?] {
        let ids = try c.tensor(0).1
        let (e, table) = try c.tensor(2)
        if let ids, ids.count != 2 { throw InferenceFailure("input_ids must be [batch, sequence], got rank \(ids.count)") }
        let hidden = table.flatMap { $0.count == 2 ? $0[1] : nil }
        let shape: [SymDim?]? = ids.map { [$0[0], $0[1], hidden] }
        var outs: [ValueFacts?] = [.tensor(e, shape)]
        if c.node.outputs.count > 1 { outs.append(.tensor(.int32, ids.map { [$0[0]] })) }
        if c.node.outputs.count > 2 { outs.append(.tensor(e, shape)) }
        return outs
    }

    /// BiasDropout: output like data, mask bool of the same shape.
    static func biasDropout(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        return [.tensor(e, d), .tensor(.bool, d)]
    }

    /// BiasSplitGelu: [N, HW, D] -> [N, HW, D / 2].
    static func biasSplitGelu(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        guard d.count == 3 else { throw InferenceFailure("input must be 3-D, got rank \(d.count)") }
        return [.tensor(e, [d[0], d[1], d[2].flatMap { $0.exactDiv(SymDim(2)) }])]
    }

    /// QLinearAdd / QLinearMul: A (0) and B (3) broadcast; A's (quantized) element type.
    static func qlinearBinary(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, a) = try c.tensor(0)
        guard let a, let b = try c.tensor(3).1 else { return [.tensor(e, nil)] }
        return [.tensor(e, try Shapes.broadcast(a, b))]
    }

    /// QLinearWhere: condition (0), X (1) and Y (4) broadcast; X's element type.
    static func qlinearWhere(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(1)
        guard let cond = try c.tensor(0).1, let x = try c.tensor(1).1, let y = try c.tensor(4).1 else { return [.tensor(e, nil)] }
        return [.tensor(e, try Shapes.broadcast(try Shapes.broadcast(cond, x), y))]
    }

    /// QLinearConcat: inputs Y_scale, Y_zero_point, then (tensor, scale, zero point) triples;
    /// the tensors concatenate along `axis`.
    static func qlinearConcat(_ c: RuleContext) throws -> [ValueFacts?] {
        guard c.inputCount >= 5 else { throw InferenceFailure("needs Y_scale, Y_zero_point and at least one (tensor, scale, zero point)") }
        let e = try c.elementType(2)
        var parts: [[SymDim?]] = []
        for i in stride(from: 2, to: c.inputCount, by: 3) {
            guard let d = try c.tensor(i).1 else { return [.tensor(e, nil)] }
            parts.append(d)
        }
        let rank = parts[0].count
        let axis = try c.axis(try c.int("axis"), rank: rank)
        var out = parts[0]
        for (k, p) in parts.enumerated().dropFirst() {
            guard p.count == rank else { throw InferenceFailure("tensor \(k) has rank \(p.count), expected \(rank)") }
            for i in 0..<rank where i != axis {
                if let x = out[i]?.intValue, let y = p[i]?.intValue, x != y {
                    throw InferenceFailure("tensor \(k) dim \(i) is \(y), expected \(x)")
                }
                if out[i] == nil { out[i] = p[i] }
            }
            out[axis] = out[axis].flatMap { a in p[axis].map { a + $0 } }
        }
        return [.tensor(e, out)]
    }

    /// QLinearAveragePool: AveragePool's window on X; `channels_last` layouts are not modelled.
    static func qlinearAveragePool(_ c: RuleContext) throws -> [ValueFacts?] {
        guard (c.attrInt("channels_last") ?? 0) == 0 else {
            throw InferenceFailure("QLinearAveragePool with channels_last is not modelled", kind: .noRule)
        }
        return [try NNRules.pool(c)[0]]
    }

    /// QLinearGlobalAveragePool: [N, C, 1, ...] or, channels last, [N, 1, ..., C].
    static func qlinearGlobalAveragePool(_ c: RuleContext) throws -> [ValueFacts?] {
        guard (c.attrInt("channels_last") ?? 0) != 0 else { return try NNRules.globalPool(c) }
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        guard d.count >= 3 else { throw InferenceFailure("input has rank \(d.count), needs at least 3") }
        return [.tensor(e, [d[0]] + Array(repeating: SymDim(1), count: d.count - 2) + [d[d.count - 1]])]
    }

    /// MatMulNBits: A [..., K] times the packed B of attributes K x N: [..., N], A's type.
    static func matMulNBits(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, a) = try c.tensor(0)
        let n = try c.int("N"), k = try c.int("K")
        guard n > 0, k > 0 else { throw InferenceFailure("attributes K and N must be positive") }
        guard let a else { return [.tensor(e, nil)] }
        guard let last = a.last else { throw InferenceFailure("input A is a scalar") }
        if let x = last?.intValue, x != k { throw InferenceFailure("input A's last dim is \(x), attribute K is \(k)") }
        return [.tensor(e, Array(a.dropLast()) + [SymDim(n)])]
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
        return [.tensor(e, try NNRules.matmulShape(a, b))]
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
