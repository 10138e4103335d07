/// The ONNX Attention op (opset 23/24), computed in Double: 3-D (heads packed in the hidden
/// size) or 4-D Q/K/V, grouped-query heads, past key/value (present outputs), bool or
/// additive masks (padded to the total length), causal masking after the past, softcap,
/// nonpad_kv_seqlen and every qk_matmul_output_mode. A query row masked everywhere gives
/// zeros, as onnxruntime's kernel does.
import Foundation
import GraphIR

enum AttentionKernels {
    /// A [B, heads, seq, size] view of a 3-D [B, seq, heads*size] or 4-D tensor.
    struct HeadView {
        let t: RuntimeTensor
        let heads: Int, seq: Int, size: Int, packed: Bool
        init(_ t: RuntimeTensor, heads: Int?) throws {
            self.t = t
            if t.shape.count == 4 {
                (self.heads, seq, size, packed) = (t.shape[1], t.shape[2], t.shape[3], false)
            } else if t.shape.count == 3, let heads, heads > 0, t.shape[2] % heads == 0 {
                (self.heads, seq, size, packed) = (heads, t.shape[1], t.shape[2] / heads, true)
            } else {
                throw KernelError("attention input \(t.shape) needs rank 4, or rank 3 with the head count attribute")
            }
        }
        @inline(__always) func index(_ b: Int, _ h: Int, _ s: Int, _ d: Int) -> Int {
            packed ? (b * seq + s) * heads * size + h * size + d : ((b * heads + h) * seq + s) * size + d
        }
        func get(_ b: Int, _ h: Int, _ s: Int, _ d: Int) -> Double { t.double(at: index(b, h, s, d)) }
    }

    static func attention(_ node: Node) -> Kernel {
        let isCausal = node.int("is_causal", 0) != 0
        let qHeadsAttr = node.attribute("q_num_heads")?.intValue.map { Int($0) }
        let kvHeadsAttr = node.attribute("kv_num_heads")?.intValue.map { Int($0) }
        let scaleAttr = node.attribute("scale")?.floatValue
        let softcap = Double(node.float("softcap", 0))
        let mode = node.int("qk_matmul_output_mode", 0)
        return { io in
            let qt = try io.input(0)
            let q = try HeadView(qt, heads: qHeadsAttr), k = try HeadView(io.input(1), heads: kvHeadsAttr)
            let v = try HeadView(io.input(2), heads: kvHeadsAttr)
            let mask = io.optionalInput(3), pastK = io.optionalInput(4), pastV = io.optionalInput(5)
            let nonpad = io.optionalInput(6)
            let batch = qt.shape[0], H = q.heads, KH = k.heads, qs = q.seq, hd = q.size, vd = v.size
            guard KH > 0, H % KH == 0, v.heads == KH, k.size == hd, v.seq == k.seq else {
                throw KernelError("attention heads/sizes do not fit: Q \(qt.shape), K \(k.t.shape), V \(v.t.shape)")
            }
            let past = pastK?.shape.count == 4 ? pastK?.shape[2] ?? 0 : 0
            if let pastK, pastK.shape != [batch, KH, past, hd] { throw KernelError("past_key \(pastK.shape) does not fit") }
            if let pastV, pastV.shape != [batch, KH, past, vd] { throw KernelError("past_value \(pastV.shape) does not fit") }
            let total = past + k.seq
            let scale = scaleAttr.map { Double($0) } ?? 1 / Double(hd).squareRoot()
            // Present key/value (past then new) as flat [B, KH, total, size] arrays.
            var keys = [Double](repeating: 0, count: batch * KH * total * hd)
            var vals = [Double](repeating: 0, count: batch * KH * total * vd)
            for b in 0..<batch {
                for h in 0..<KH {
                    for s in 0..<total {
                        for d in 0..<hd {
                            keys[((b * KH + h) * total + s) * hd + d] = s < past ? (pastK?.double(at: ((b * KH + h) * past + s) * hd + d) ?? 0) : k.get(b, h, s - past, d)
                        }
                        for d in 0..<vd {
                            vals[((b * KH + h) * total + s) * vd + d] = s < past ? (pastV?.double(at: ((b * KH + h) * past + s) * vd + d) ?? 0) : v.get(b, h, s - past, d)
                        }
                    }
                }
            }
            var maskStrides: [Int] = [], maskLast = 0
            if let mask {
                guard mask.shape.count >= 1, mask.shape.count <= 4 else { throw KernelError("attn_mask rank must be 1-4, got \(mask.shape)") }
                maskLast = mask.shape[mask.shape.count - 1]
                let target = [batch, H, qs, maskLast]
                _ = try Shapes.broadcast(mask.shape, target)
                maskStrides = Shapes.broadcastStrides(mask.shape, to: target)
            }
            let y = try io.output(0, qt.elementType, q.packed ? [batch, qs, H * vd] : [batch, H, qs, vd])
            let wantsPresent = node.outputs.count > 1
            if wantsPresent && !node.outputs[1].isEmpty {
                let pk = try io.output(1, qt.elementType, [batch, KH, total, hd])
                for (i, x) in keys.enumerated() { pk.setDouble(x, at: i) }
            }
            if node.outputs.count > 2 && !node.outputs[2].isEmpty {
                let pv = try io.output(2, qt.elementType, [batch, KH, total, vd])
                for (i, x) in vals.enumerated() { pv.setDouble(x, at: i) }
            }
            let qkOut = node.outputs.count > 3 && !node.outputs[3].isEmpty ? try io.output(3, qt.elementType, [batch, H, qs, total]) : nil
            let yView = try HeadView(y, heads: H)
            var raw = [Double](repeating: 0, count: total), biased = raw
            for b in 0..<batch {
                let valid = nonpad.map { Int($0.int64Values()[b]) } ?? total
                for h in 0..<H {
                    let kh = h / (H / KH)
                    for i in 0..<qs {
                        for j in 0..<total {
                            var s = 0.0
                            for d in 0..<hd { s += q.get(b, h, i, d) * keys[((b * KH + kh) * total + j) * hd + d] }
                            s *= scale
                            if softcap > 0 { s = softcap * tanh(s / softcap) }
                            raw[j] = s
                            var bias = 0.0
                            if let mask {
                                if j >= maskLast { bias = -.infinity } else {
                                    let mi = b * maskStrides[0] + h * maskStrides[1] + i * maskStrides[2] + j * maskStrides[3]
                                    let m = mask.double(at: mi)
                                    bias = mask.elementType == .bool ? (m != 0 ? 0 : -.infinity) : m
                                }
                            }
                            if isCausal && j - past > i { bias = -.infinity }
                            if j >= valid { bias = -.infinity }
                            biased[j] = s + bias
                        }
                        let m = biased.max() ?? 0
                        var sum = 0.0
                        // A row masked everywhere gives zeros, as onnxruntime computes it (the
                        // reference's softmax of -inf would be NaN).
                        var p = m == -.infinity ? [Double](repeating: 0, count: total) : biased.map { exp($0 - m) }
                        for x in p { sum += x }
                        if sum > 0 { for j in 0..<total { p[j] /= sum } }
                        if let qkOut {
                            let src = mode == 2 ? biased : (mode == 3 ? p : raw)
                            for j in 0..<total { qkOut.setDouble(src[j], at: ((b * H + h) * qs + i) * total + j) }
                        }
                        for d in 0..<vd {
                            var acc = 0.0
                            for j in 0..<total { acc += p[j] * vals[((b * KH + kh) * total + j) * vd + d] }
                            y.setDouble(acc, at: yView.index(b, h, i, d))
                        }
                    }
                }
            }
        }
    }
}
