/// Rules for ai.onnx ops of recent opsets and the preview domains: BitCast, CausalConvWithState,
/// LinearAttention, STFT, MelWeightMatrix, DeformConv, MaxRoiPool, Multinomial,
/// ai.onnx.preview's FlexAttention (with its modifier bodies) and the ai.onnx.preview.training
/// optimizers and Gradient.
import GraphIR

enum PreviewRules {
    static let training = "ai.onnx.preview.training::"

    static func register(_ t: inout [String: InferenceRule]) {
        t["BitCast"] = bitCast
        t["CausalConvWithState"] = causalConvWithState
        t["LinearAttention"] = linearAttention
        t["STFT"] = stft
        t["MelWeightMatrix"] = melWeightMatrix
        t["DeformConv"] = deformConv
        t["MaxRoiPool"] = maxRoiPool
        t["Multinomial"] = multinomial
        t["ai.onnx.preview::FlexAttention"] = flexAttention
        t[training + "Adagrad"] = { c in try optimizer(c, groups: 3, stateGroups: [2]) }
        t[training + "Momentum"] = { c in try optimizer(c, groups: 3, stateGroups: [2]) }
        t[training + "Adam"] = { c in try optimizer(c, groups: 4, stateGroups: [2, 3]) }
        t[training + "Gradient"] = gradient
    }

    static func elementType(code: Int64, _ what: String) throws -> ElementType {
        guard let e = ElementType(rawValue: Int32(truncatingIfNeeded: code)), e != .undefined else {
            throw InferenceFailure("\(what) \(code) is not an element type")
        }
        return e
    }

    /// The same shape; the target type must have the input's bit width.
    static func bitCast(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        let to = try elementType(code: try c.int("to"), "'to'")
        guard e != .string, to != .string else { throw InferenceFailure("BitCast does not take strings") }
        if let a = e.bitWidth, let b = to.bitWidth, a != b {
            throw InferenceFailure("\(e.name) has \(a) bits, \(to.name) has \(b): BitCast needs equal widths")
        }
        return [.tensor(to, d)]
    }

    /// Output `[B, C, L]` like the input; the carried state keeps the last k-1 positions
    /// (`weight` is `[C, 1, k]`).
    static func causalConvWithState(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let x = try c.dims(0)
        guard x.count == 3 else { throw InferenceFailure("input has rank \(x.count), expected 3") }
        var state: SymDim?
        if let w = try c.tensor(1).1 {
            guard w.count == 3 else { throw InferenceFailure("weight has rank \(w.count), expected 3") }
            state = w[2].map { $0 - SymDim(1) }
        }
        if state == nil, c.has(3), let p = try c.tensor(3).1, p.count == 3 { state = p[2] }
        return [.tensor(e, x), .tensor(e, [x[0], x[1], state])]
    }

    /// Packed `[B, T, H*D]` inputs: output `[B, T, q_num_heads*d_v]`, state `[B, kv_num_heads,
    /// d_k, d_v]` (head sizes from the packed widths, else from `past_state`).
    static func linearAttention(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let q = try c.dims(0), k = try c.dims(1), v = try c.dims(2)
        guard q.count == 3, k.count == 3, v.count == 3 else {
            throw InferenceFailure("query/key/value ranks \(q.count)/\(k.count)/\(v.count), expected 3")
        }
        let qh = try c.int("q_num_heads"), kvh = try c.int("kv_num_heads")
        guard qh > 0, kvh > 0, qh % kvh == 0 else {
            throw InferenceFailure("q_num_heads \(qh) is not a positive multiple of kv_num_heads \(kvh)")
        }
        var dk = k[2].flatMap { $0.exactDiv(SymDim(kvh)) }, dv = v[2].flatMap { $0.exactDiv(SymDim(kvh)) }
        var stateType = e
        if c.has(3), let (se, pd) = try? c.tensor(3) {
            stateType = se
            if let pd, pd.count == 4 { dk = dk ?? pd[2]; dv = dv ?? pd[3] }
        }
        return [.tensor(e, [q[0], q[1], dv.map { $0 * SymDim(qh) }]), .tensor(stateType, [q[0], SymDim(kvh), dk, dv])]
    }

    /// `[batch, frames, bins, 2]`: frames = (length - frame_length) / frame_step + 1, bins =
    /// frame_length/2 + 1 when one-sided. frame_length is input 3, else the window's length.
    static func stft(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let s = try c.dims(0)
        guard s.count == 3 else { throw InferenceFailure("signal has rank \(s.count), expected 3") }
        var frameLength: SymDim?
        if c.has(3) { frameLength = c.value(3)?.dims?.first } else if c.has(2) {
            let w = try c.dims(2)
            guard w.count == 1 else { throw InferenceFailure("window has rank \(w.count), expected 1") }
            frameLength = w[0]
        }
        let step = c.value(1)?.dims?.first
        var frames: SymDim?
        if let n = s[1], let fl = frameLength, let step, let q = (n - fl).floorDiv(step) { frames = q + SymDim(1) }
        let onesided = try c.int("onesided") != 0
        let bins = onesided ? frameLength.flatMap { $0.floorDiv(SymDim(2)) }.map { $0 + SymDim(1) } : frameLength
        return [.tensor(e, [s[0], frames, bins, SymDim(2)])]
    }

    /// `[dft_length/2 + 1, num_mel_bins]` of `output_datatype`.
    static func melWeightMatrix(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try elementType(code: try c.int("output_datatype"), "output_datatype")
        let bins = c.value(0)?.dims?.first
        let dft = c.value(1)?.dims?.first
        return [.tensor(e, [dft.flatMap { $0.floorDiv(SymDim(2)) }.map { $0 + SymDim(1) }, bins])]
    }

    /// Convolution arithmetic on X and W (DeformConv has Conv's attributes but auto_pad).
    static func deformConv(_ c: RuleContext) throws -> [ValueFacts?] {
        try NNRules.convCore(c, x: 0, w: 1, outType: try c.elementType(0))
    }

    /// `[num_rois, C, pooled_h, pooled_w]`.
    static func maxRoiPool(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let x = try c.dims(0), rois = try c.dims(1)
        guard x.count == 4, rois.count == 2 else { throw InferenceFailure("X/rois ranks \(x.count)/\(rois.count), expected 4/2") }
        guard let pooled = c.ints("pooled_shape"), pooled.count == 2 else {
            throw InferenceFailure("attribute 'pooled_shape' needs 2 entries")
        }
        return [.tensor(e, [rois[0], x[1], SymDim(pooled[0]), SymDim(pooled[1])])]
    }

    /// `[batch, sample_size]` of `dtype` (int32 by default).
    static func multinomial(_ c: RuleContext) throws -> [ValueFacts?] {
        let d = try c.dims(0)
        guard d.count == 2 else { throw InferenceFailure("input has rank \(d.count), expected 2") }
        let e = try elementType(code: try c.int("dtype"), "dtype")
        return [.tensor(e, [d[0], SymDim(try c.int("sample_size"))])]
    }

    /// `Y [B, Hq, Lq, Dv]`. The modifier bodies see the scores `[B, Hq, Lq, Lkv]` in the
    /// softmax precision (float, or double for double inputs, unless `softmax_precision` says).
    static func flexAttention(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let q = try c.dims(0), k = try c.dims(1), v = try c.dims(2)
        guard q.count == 4, k.count == 4, v.count == 4 else {
            throw InferenceFailure("Q/K/V ranks \(q.count)/\(k.count)/\(v.count), expected 4")
        }
        let precision = try c.attrInt("softmax_precision").map { try elementType(code: $0, "softmax_precision") }
            ?? (e == .double ? .double : .float)
        let scores = ValueFacts.tensor(precision, [q[0], q[1], q[2], k[2]])
        for body in ["score_mod", "prob_mod"] where c.attr(body) != nil {
            let out = try c.inferBody(body, [scores])
            guard out.count == 1 else { throw InferenceFailure("\(body) has \(out.count) outputs, expected 1") }
            if let t = out[0]?.type, case .tensor(let be, let bd) = t {
                if be != precision { throw InferenceFailure("\(body) gives \(be.name), expected \(precision.name)") }
                if let bd, bd.count != 4 { throw InferenceFailure("\(body) gives rank \(bd.count), expected 4") }
            }
        }
        return [.tensor(e, [q[0], q[1], q[2], v[3]])]
    }

    /// Optimizers take `R, T` and then `groups` lists of n tensors (values, gradients, states);
    /// they return the new values and the new states, each like its input.
    static func optimizer(_ c: RuleContext, groups: Int, stateGroups: [Int]) throws -> [ValueFacts?] {
        let tensors = c.inputCount - 2
        guard tensors > 0, tensors % groups == 0 else {
            throw InferenceFailure("\(tensors) tensor inputs do not form \(groups) groups")
        }
        let n = tensors / groups
        guard c.node.outputs.count == n * (1 + stateGroups.count) else {
            throw InferenceFailure("\(c.node.outputs.count) outputs, expected \(n * (1 + stateGroups.count))")
        }
        var outs: [ValueFacts?] = []
        for group in [0] + stateGroups {
            for i in 0..<n {
                let (e, d) = try c.tensor(2 + group * n + i)
                outs.append(.tensor(e, d))
            }
        }
        return outs
    }

    /// Gradient: output i is the gradient with respect to `xs[i]`, whose value is input i.
    static func gradient(_ c: RuleContext) throws -> [ValueFacts?] {
        guard case .strings(let xs)? = c.attr("xs") else { throw InferenceFailure("attribute 'xs' is missing") }
        guard c.node.outputs.count == xs.count, c.inputCount >= xs.count else {
            throw InferenceFailure("\(c.node.outputs.count) outputs and \(c.inputCount) inputs for \(xs.count) xs")
        }
        return try (0..<xs.count).map { i in
            let (e, d) = try c.tensor(i)
            guard Shapes.isFloating(e) else { throw InferenceFailure("xs[\(i)] is \(e.name), not a floating type") }
            return .tensor(e, d)
        }
    }
}
