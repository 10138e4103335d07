/// Normalizations over trailing axes, computed in Double for float/double tensors:
/// LayerNormalization (with its optional Mean and InvStdDev outputs) and RMSNormalization.
/// Scale and bias broadcast against the input as numpy does.
import Foundation
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
        return { io in
            let x = try io.input(0), scale = try io.input(1)
            guard x.elementType == .float || x.elementType == .double else {
                throw KernelError("\(x.elementType.name) input is not supported")
            }
            let bias = rms ? nil : io.optionalInput(2)
            let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
            let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[axis...].reduce(1, *)
            let y = try io.output(0, x.elementType, x.shape)
            let st = Shapes.strides(x.shape)
            _ = try Shapes.broadcast(x.shape, scale.shape)
            let ss = Shapes.broadcastStrides(scale.shape, to: x.shape)
            let bs = bias.map { Shapes.broadcastStrides($0.shape, to: x.shape) }
            var statShape = x.shape
            for d in axis..<x.shape.count { statShape[d] = 1 }
            let wantMean = !rms && node.outputs.count > 1 && !node.outputs[1].isEmpty
            let wantInv = !rms && node.outputs.count > 2 && !node.outputs[2].isEmpty
            let meanT = wantMean ? try io.output(1, x.elementType, statShape) : nil
            let invT = wantInv ? try io.output(2, x.elementType, statShape) : nil
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
