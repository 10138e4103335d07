/// Opset-27 state-carrying ops of recurrent language models: LinearAttention (linear, gated,
/// delta and gated-delta recurrences over a per-head key x value state, with grouped-query
/// heads) and CausalConvWithState (a depthwise causal 1-D convolution whose left context is
/// the previous call's tail, with optional fused SiLU). Both compute in float32 (Double
/// accumulators) like the ONNX definitions, which run the recurrence token by token.
import Foundation
import GraphIR

enum RecurrenceKernels {
    /// LinearAttention(query, key, value, past_state?, decay?, beta?) -> (output, present_state).
    /// Q/K/V are (B, T, H*D); the state is (B, H_kv, d_k, d_v).
    static func linearAttention(_ node: Node) -> Kernel {
        let qHeads = node.int("q_num_heads", 0), kvHeads = node.int("kv_num_heads", 0)
        let rule = node.string("update_rule", "gated_delta")
        let scaleAttr = Double(node.float("scale", 0))
        return { io in
            guard ["linear", "gated", "delta", "gated_delta"].contains(rule) else {
                throw KernelError("update_rule '\(rule)' is not one of linear, gated, delta, gated_delta")
            }
            guard qHeads > 0, kvHeads > 0, qHeads % kvHeads == 0 else {
                throw KernelError("q_num_heads \(qHeads) must be a positive multiple of kv_num_heads \(kvHeads)")
            }
            let q = try io.floatInput(0), k = try io.floatInput(1), v = try io.floatInput(2)
            let past = io.optionalInput(3), decay = io.optionalInput(4), beta = io.optionalInput(5)
            let gating = rule == "gated" || rule == "gated_delta", delta = rule == "delta" || rule == "gated_delta"
            guard !gating || decay != nil else { throw KernelError("update_rule '\(rule)' needs the decay input") }
            guard !delta || beta != nil else { throw KernelError("update_rule '\(rule)' needs the beta input") }
            guard q.shape.count == 3, k.shape.count == 3, v.shape.count == 3 else {
                throw KernelError("query, key and value must be rank 3 (B, T, H*D), got \(q.shape), \(k.shape), \(v.shape)")
            }
            let b = q.shape[0], t = q.shape[1]
            let dk = q.shape[2] / qHeads, dv = v.shape[2] / kvHeads, group = qHeads / kvHeads
            guard q.shape[2] == dk * qHeads, k.shape == [b, t, kvHeads * dk], v.shape == [b, t, kvHeads * dv] else {
                throw KernelError("query \(q.shape), key \(k.shape), value \(v.shape) do not fit \(qHeads) query and \(kvHeads) key/value heads")
            }
            let decayPerDim: Bool
            if let decay {
                guard decay.shape.count == 3, decay.shape[2] == kvHeads || decay.shape[2] == kvHeads * dk else {
                    throw KernelError("decay \(decay.shape) must end in kv_num_heads or kv_num_heads*d_k")
                }
                decayPerDim = decay.shape[2] == kvHeads * dk && dk != 1
            } else { decayPerDim = false }
            let betaWidth = beta?.shape.last ?? 1
            if let beta { guard beta.shape.count == 3, betaWidth == kvHeads || betaWidth == 1 else {
                throw KernelError("beta \(beta.shape) must end in kv_num_heads or 1")
            } }
            let stateShape = [b, kvHeads, dk, dv]
            if let past { guard past.shape == stateShape else { throw KernelError("past_state \(past.shape), expected \(stateShape)") } }
            let scale = scaleAttr == 0 ? 1 / Double(dk).squareRoot() : scaleAttr
            var state = past.map { p in (0..<p.count).map { p.double(at: $0) } } ?? [Double](repeating: 0, count: b * kvHeads * dk * dv)
            var out = [Double](repeating: 0, count: b * t * qHeads * dv)
            var corrected = [Double](repeating: 0, count: dv)
            for bi in 0..<b {
                for ti in 0..<t {
                    for h in 0..<kvHeads {
                        let s0 = ((bi * kvHeads + h) * dk) * dv
                        let kBase = (bi * t + ti) * kvHeads * dk + h * dk
                        let vBase = (bi * t + ti) * kvHeads * dv + h * dv
                        if let decay {
                            let dBase = (bi * t + ti) * decay.shape[2]
                            for d in 0..<dk {
                                let g = exp(decay.double(at: dBase + (decayPerDim ? h * dk + d : h)))
                                for m in 0..<dv { state[s0 + d * dv + m] *= g }
                            }
                        }
                        for m in 0..<dv { corrected[m] = v.double(at: vBase + m) }
                        if let beta {
                            let bt = beta.double(at: (bi * t + ti) * betaWidth + (betaWidth == 1 ? 0 : h))
                            for m in 0..<dv {
                                var r = 0.0
                                for d in 0..<dk { r += state[s0 + d * dv + m] * k.double(at: kBase + d) }
                                corrected[m] = bt * (corrected[m] - r)
                            }
                        }
                        for d in 0..<dk {
                            let kd = k.double(at: kBase + d)
                            for m in 0..<dv { state[s0 + d * dv + m] += kd * corrected[m] }
                        }
                        // Query heads h*group ..< (h+1)*group read this key/value head's state.
                        for qh in (h * group)..<((h + 1) * group) {
                            let qBase = (bi * t + ti) * qHeads * dk + qh * dk
                            let oBase = (bi * t + ti) * qHeads * dv + qh * dv
                            for m in 0..<dv {
                                var acc = 0.0
                                for d in 0..<dk { acc += q.double(at: qBase + d) * state[s0 + d * dv + m] }
                                out[oBase + m] = scale * acc
                            }
                        }
                    }
                }
            }
            let y = try io.output(0, .float, [b, t, qHeads * dv])
            for i in out.indices { y.mutableFloats[i] = Float(out[i]) }
            let s = try io.output(1, past?.elementType ?? .float, stateShape)
            for i in state.indices { s.setDouble(state[i], at: i) }
        }
    }

    /// CausalConvWithState(input (B, C, L), weight (C, 1, k), bias?, past_state? (B, C, k-1))
    /// -> (output (B, C, L), present_state (B, C, k-1)); activation none, silu or swish.
    static func causalConv(_ node: Node) -> Kernel {
        let activation = node.string("activation", "none")
        return { io in
            guard ["none", "silu", "swish"].contains(activation) else {
                throw KernelError("activation '\(activation)' is not one of none, silu, swish")
            }
            let x = try io.floatInput(0), w = try io.floatInput(1)
            let bias = io.optionalInput(2), past = io.optionalInput(3)
            guard x.shape.count == 3, w.shape.count == 3, w.shape[0] == x.shape[1], w.shape[1] == 1 else {
                throw KernelError("input \(x.shape) and weight \(w.shape) must be (B, C, L) and (C, 1, k)")
            }
            let b = x.shape[0], c = x.shape[1], l = x.shape[2], k = w.shape[2]
            guard k >= 1 else { throw KernelError("kernel size must be at least 1") }
            if let past { guard past.shape == [b, c, k - 1] else { throw KernelError("past_state \(past.shape), expected \([b, c, k - 1])") } }
            if let bias { guard bias.count == c else { throw KernelError("bias has \(bias.count) values, expected \(c)") } }
            let y = try io.output(0, .float, [b, c, l])
            let state = try io.output(1, .float, [b, c, k - 1])
            let width = l + k - 1
            var padded = [Double](repeating: 0, count: width)
            for bi in 0..<b {
                for ch in 0..<c {
                    let row = bi * c + ch
                    for j in 0..<(k - 1) { padded[j] = past?.double(at: row * (k - 1) + j) ?? 0 }
                    for j in 0..<l { padded[k - 1 + j] = x.double(at: row * l + j) }
                    let b0 = bias?.double(at: ch) ?? 0
                    for j in 0..<l {
                        var acc = b0
                        for u in 0..<k { acc += padded[j + u] * w.double(at: ch * k + u) }
                        // The ONNX definition rounds the conv to the input type before the activation.
                        let z = Double(Float(acc))
                        y.mutableFloats[row * l + j] = Float(activation == "none" ? z : z / (1 + exp(-z)))
                    }
                    for j in 0..<(k - 1) { state.mutableFloats[row * (k - 1) + j] = Float(padded[l + j]) }
                }
            }
        }
    }
}
