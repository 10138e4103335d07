/// Normalizations over trailing axes: LayerNormalization (with its optional Mean and InvStdDev outputs) and RMSNormalization.
/// Scale and bias broadcast against the input as numpy does. Float rows with a scale (and bias)
/// over the normalized dims run as one vectorised C loop with float statistics; other layouts
/// and float64 compute in Double.
import Foundation
import CKernels
import GraphIR

enum NormKernels {
    /// Value of `t` (broadcast to `shape`) at flat output index `i`.
    static func broadcastValue(_ t: RuntimeTensor, _ shape: [Int], _ strides: [Int], _ outStrides: [Int], _ i: Int) -> Double {
        var rem = i, idx = 0
        for d in 0..<shape.count { let c = rem / outStrides[d]; rem -= c * outStrides[d]; idx += c * strides[d] }
        return t.double(at: idx)
    }

    static func layerNorm(_ node: Node, rms: Bool) -> Kernel {
        let axisAttr = node.int("axis", -1), eps = Double(node.float("epsilon", 1e-5))
        let memo = ShapeMemo<LayerNormGeometry>()
        return { io in
            let x = try io.input(0), scale = try io.input(1)
            guard x.elementType == .float || x.elementType == .double else {
                throw KernelError("\(x.elementType.name) input is not supported")
            }
            let bias = rms ? nil : io.optionalInput(2)
            let geo = try memo.geometry({ $0.add(x.shape); $0.add(scale.shape); $0.add(bias) }) {
                try LayerNormGeometry(x.shape, scale: scale.shape, bias: bias?.shape, axis: axisAttr)
            }
            let outer = geo.outer, inner = geo.inner
            let y = try io.output(0, x.elementType, x.shape)
            let st = geo.strides, ss = geo.scaleStrides, bs = geo.biasStrides
            let statShape = geo.statShape
            let wantMean = !rms && node.outputs.count > 1 && !node.outputs[1].isEmpty
            let wantInv = !rms && node.outputs.count > 2 && !node.outputs[2].isEmpty
            let meanT = wantMean ? try io.output(1, x.elementType, statShape) : nil
            let invT = wantInv ? try io.output(2, x.elementType, statShape) : nil
            // Float with a scale (and bias) over the normalized dims themselves (what every
            // exporter writes): the C row kernel, statistics in float with a centred second pass.
            if x.elementType == .float, scale.elementType == .float, scale.count == inner,
               geo.scaleIsPerRow, bias.map({ $0.elementType == .float && $0.count == inner }) ?? true, geo.biasIsPerRow {
                gs_layer_norm_rows(x.floats, scale.floats, bias?.floats, y.mutableFloats, outer, inner, Float(eps),
                                   rms ? 1 : 0, meanT?.mutableFloats, invT?.mutableFloats)
                return
            }
            for o in 0..<outer {
                var mean = 0.0, sq = 0.0
                for k in 0..<inner { let v = x.double(at: o * inner + k); mean += v; sq += v * v }
                mean /= Double(max(inner, 1))
                let variance = rms ? sq / Double(max(inner, 1)) : {
                    var s = 0.0
                    for k in 0..<inner { let d = x.double(at: o * inner + k) - mean; s += d * d }
                    return s / Double(max(inner, 1))
                }()
                let inv = 1 / (variance + eps).squareRoot()
                for k in 0..<inner {
                    let i = o * inner + k
                    var v = (x.double(at: i) - (rms ? 0 : mean)) * inv
                    v *= broadcastValue(scale, x.shape, ss, st, i)
                    if let bias, let bs { v += broadcastValue(bias, x.shape, bs, st, i) }
                    y.setDouble(v, at: i)
                }
                meanT?.setDouble(mean, at: o)
                invT?.setDouble(inv, at: o)
            }
        }
    }
}

extension NormKernels {
    /// LpNormalization: x / ||x||_p along `axis` (p 1 or 2).
    static func lpNorm(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", -1), p = node.int("p", 2)
        return { io in
            let x = try io.input(0)
            guard p == 1 || p == 2 else { throw KernelError("p \(p) must be 1 or 2") }
            let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
            let (outer, dim, inner) = IndexKernels.split(x.shape, axis)
            let y = try io.output(0, x.elementType, x.shape)
            for o in 0..<outer {
                for i in 0..<inner {
                    var n = 0.0
                    for k in 0..<dim { let v = x.double(at: (o * dim + k) * inner + i); n += p == 1 ? abs(v) : v * v }
                    if p == 2 { n = n.squareRoot() }
                    for k in 0..<dim { let at = (o * dim + k) * inner + i; y.setDouble(n == 0 ? 0 : x.double(at: at) / n, at: at) }
                }
            }
        }
    }

    /// RotaryEmbedding (opset 23): rotates the first rotary_embedding_dim features of each
    /// head by the cached cos/sin of its position (halves or interleaved pairs).
    static func rotary(_ node: Node) -> Kernel {
        let interleaved = node.int("interleaved", 0) != 0, heads = node.int("num_heads", 0)
        let rotAttr = node.int("rotary_embedding_dim", 0)
        return { io in
            let xt = try io.input(0), cosT = try io.input(1), sinT = try io.input(2), pos = io.optionalInput(3)
            // 4-D input is [B, H, S, D]; 3-D is [B, S, H*D].
            let x = try AttentionKernels.HeadView(xt, heads: heads)
            let batch = xt.shape[0], rot = rotAttr == 0 ? x.size : rotAttr, half = rot / 2
            guard rot <= x.size, rot % 2 == 0, cosT.shape.last == half, sinT.shape.last == half else {
                throw KernelError("rotary dim \(rot) does not fit head size \(x.size) and caches \(cosT.shape)")
            }
            let positions = pos?.int64Values()
            let y = try io.output(0, xt.elementType, xt.shape)
            y.raw.copyMemory(from: xt.raw, byteCount: xt.byteCount)
            for b in 0..<batch {
                for s in 0..<x.seq {
                    let row: Int
                    if let positions { row = Int(positions[positions.count == 1 ? 0 : b * x.seq + s]) } else { row = b * x.seq + s }
                    guard row >= 0, row < cosT.count, (row + 1) * half <= cosT.count, (row + 1) * half <= sinT.count else {
                        throw KernelError("position \(row) is outside the cos/sin caches \(cosT.shape)")
                    }
                    for h in 0..<x.heads {
                        for k in 0..<half {
                            let c = cosT.double(at: row * half + k), sn = sinT.double(at: row * half + k)
                            let i1 = interleaved ? 2 * k : k, i2 = interleaved ? 2 * k + 1 : k + half
                            let x1 = x.get(b, h, s, i1), x2 = x.get(b, h, s, i2)
                            y.setDouble(c * x1 - sn * x2, at: x.index(b, h, s, i1))
                            y.setDouble(sn * x1 + c * x2, at: x.index(b, h, s, i2))
                        }
                    }
                }
            }
        }
    }
}

/// LayerNormalization's shapes as its kernel keeps them between calls (`ShapeMemo`).
struct LayerNormGeometry {
    var axis: Int, outer: Int, inner: Int
    var strides: [Int], scaleStrides: [Int], biasStrides: [Int]?
    /// The mean and inverse deviation outputs' shape (normalized axes as 1).
    var statShape: [Int]
    /// Whether scale and bias are constant over the outer axes (one row, the fast path).
    var scaleIsPerRow: Bool, biasIsPerRow: Bool

    init(_ shape: [Int], scale: [Int], bias: [Int]?, axis axisAttr: Int) throws {
        axis = try Shapes.axis(axisAttr, rank: shape.count)
        outer = shape[..<axis].reduce(1, *)
        inner = shape[axis...].reduce(1, *)
        strides = Shapes.strides(shape)
        _ = try Shapes.broadcast(shape, scale)
        scaleStrides = Shapes.broadcastStrides(scale, to: shape)
        biasStrides = bias.map { Shapes.broadcastStrides($0, to: shape) }
        statShape = shape
        for d in axis..<shape.count { statShape[d] = 1 }
        let a = axis
        scaleIsPerRow = scaleStrides[..<a].allSatisfy { $0 == 0 }
        biasIsPerRow = biasStrides.map { $0[..<a].allSatisfy { $0 == 0 } } ?? true
    }
}
