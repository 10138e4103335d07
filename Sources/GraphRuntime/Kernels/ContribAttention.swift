/// com.microsoft MultiHeadAttention as onnxruntime's CPU kernel computes it, in Double: 3-D
/// query [B, S, N·H], key [B, L, N·H] and value [B, L, N·Hv] (key and value default to the
/// query's), an optional packed bias [N·H + N·H + N·Hv] added to the three, an optional
/// key_padding_mask [B, L] (0 masks with mask_filter_value) and an additive attention_bias
/// [B or 1, N or 1, S, L]; output [B, S, N·Hv]. A row masked everywhere with -inf comes out
/// NaN, as in onnxruntime. Past key/value, packed 5-D inputs, cache_indirection and
/// unidirectional are refused with a message.
import Foundation
import GraphIR

enum ContribAttentionKernels {
    static func multiHead(_ node: Node) -> Kernel {
        let heads = Int(node.int("num_heads", 0))
        let scaleAttr = node.attribute("scale")?.floatValue
        let filter = Double(node.float("mask_filter_value", -10000))
        let causal = node.int("unidirectional", 0) != 0
        return { io in
            guard heads > 0 else { throw KernelError("num_heads must be positive") }
            guard !causal else { throw KernelError("unidirectional MultiHeadAttention is not supported by the interpreter") }
            for k in 6..<max(io.inputs.count, 6) where io.optionalInput(k) != nil {
                throw KernelError("MultiHeadAttention input \(k) (past state or cache) is not supported by the interpreter")
            }
            let q = try io.input(0)
            let k = io.optionalInput(1) ?? q, v = io.optionalInput(2) ?? k
            guard q.shape.count == 3, k.shape.count == 3, v.shape.count == 3 else {
                throw KernelError("MultiHeadAttention takes 3-D query, key and value here, got \(q.shape), \(k.shape), \(v.shape)")
            }
            let batch = q.shape[0], sq = q.shape[1], sk = k.shape[1]
            guard k.shape[0] == batch, v.shape[0] == batch, v.shape[1] == sk, q.shape[2] % heads == 0, k.shape[2] == q.shape[2],
                  v.shape[2] % heads == 0 else {
                throw KernelError("query \(q.shape), key \(k.shape) and value \(v.shape) do not fit \(heads) heads")
            }
            let hd = q.shape[2] / heads, vd = v.shape[2] / heads, qw = q.shape[2], vw = v.shape[2]
            let bias = io.optionalInput(3)
            if let bias, bias.count != 2 * qw + vw { throw KernelError("bias \(bias.shape) must have \(2 * qw + vw) elements") }
            let pad = io.optionalInput(4)
            if let pad, pad.shape != [batch, sk] { throw KernelError("key_padding_mask \(pad.shape) is supported as [batch, key length] only") }
            let padding = pad.map { $0.int64Values() }
            let ab = io.optionalInput(5)
            var abStrides: [Int] = []
            if let ab {
                guard ab.shape.count == 4, ab.shape[2] == sq, ab.shape[3] == sk, ab.shape[0] == 1 || ab.shape[0] == batch,
                      ab.shape[1] == 1 || ab.shape[1] == heads else {
                    throw KernelError("attention_bias \(ab.shape) must be [\(batch) or 1, \(heads) or 1, \(sq), \(sk)]")
                }
                abStrides = Shapes.broadcastStrides(ab.shape, to: [batch, heads, sq, sk])
            }
            let scale = scaleAttr.map { Double($0) } ?? 1 / Double(hd).squareRoot()
            func qv(_ b: Int, _ s: Int, _ c: Int) -> Double { q.double(at: (b * sq + s) * qw + c) + (bias?.double(at: c) ?? 0) }
            func kv(_ b: Int, _ s: Int, _ c: Int) -> Double { k.double(at: (b * sk + s) * qw + c) + (bias?.double(at: qw + c) ?? 0) }
            func vv(_ b: Int, _ s: Int, _ c: Int) -> Double { v.double(at: (b * sk + s) * vw + c) + (bias?.double(at: 2 * qw + c) ?? 0) }
            let y = try io.output(0, q.elementType, [batch, sq, vw])
            var p = [Double](repeating: 0, count: sk)
            for b in 0..<batch {
                for h in 0..<heads {
                    for i in 0..<sq {
                        for j in 0..<sk {
                            var s = 0.0
                            for d in 0..<hd { s += qv(b, i, h * hd + d) * kv(b, j, h * hd + d) }
                            s *= scale
                            if let padding, padding[b * sk + j] == 0 { s += filter }
                            if let ab { s += ab.double(at: b * abStrides[0] + h * abStrides[1] + i * abStrides[2] + j * abStrides[3]) }
                            p[j] = s
                        }
                        let m = p.max() ?? 0
                        var sum = 0.0
                        for j in 0..<sk { p[j] = exp(p[j] - m); sum += p[j] }
                        for d in 0..<vd {
                            var acc = 0.0
                            for j in 0..<sk { acc += p[j] / sum * vv(b, j, h * vd + d) }
                            y.setDouble(acc, at: (b * sq + i) * vw + h * vd + d)
                        }
                    }
                }
            }
        }
    }
}
